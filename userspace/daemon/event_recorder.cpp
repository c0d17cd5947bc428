#include "event_recorder.h"

#include <time.h>

#include <cstring>

#include "common/encoding.h"
#include "execgate/names.h"

namespace execgate {
using nlohmann::json;

namespace {
std::uint64_t boot_clock_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

EventRecorder::EventRecorder(AuditSink audit, BootClock boot_ns)
    : audit_(std::move(audit)), boot_ns_(boot_ns ? std::move(boot_ns) : BootClock(boot_clock_ns)) {}

void EventRecorder::record(const GateEvent& ev) {
  json r;
  r["event"] = ev.event;
  r["hook"] = ev.hook;
  r["verdict"] = ev.verdict;
  r["reason"] = ev.reason;
  r["pid"] = ev.pid;
  r["ppid"] = ev.ppid;
  r["uid"] = ev.uid;
  r["comm"] = ev.comm;
  std::string path = ev.path;
  if (path.empty() && ev.hook == name(Hook::exec)) path = known_path(InodeKey{ev.dev, ev.ino});
  r["path"] = path.empty() ? json(nullptr) : json(path);
  r["dev"] = kernel_dev_string(ev.dev);
  r["ino"] = ev.ino;
  r["ticket"] = ev.ticket ? json(hex_id(*ev.ticket)) : json(nullptr);
  if (ev.ticket) {
    std::lock_guard lk(paths_mu_);
    if (auto o = origins_.find(hex_id(*ev.ticket)); o != origins_.end()) r["origin"] = o->second;
  }
  json lineage = json::array();
  if (ev.proc_ticket) lineage.push_back(hex_id(*ev.proc_ticket));
  r["lineage"] = lineage;
  r["cgroup"] = ev.cgroup_id;
  if (ev.job) {
    const std::string job = job_names_(ev.job);
    r["job"] = job.empty() ? json(ev.job) : json(job);
    if (ev.writer)
      r["output"] = {{"builder_ticket", r["ticket"]}, {"writer_pid", ev.writer}, {"job", r["job"]}};
  }
  if (ev.capability) r["capability"] = capability_name(*ev.capability);
  if (ev.arg) r["arg"] = *ev.arg;
  if (ev.last_use && ev.ticket) {
    r["last_use"] = true;
    std::lock_guard lk(last_use_mu_);
    last_use_.insert(hex_id(*ev.ticket));
  }
  r["kernel_time_ns"] = boot_ns_to_wall_ns(ev.boot_ns);
  DecisionKey key{r["event"], r["verdict"], r["reason"]};
  // a use of the ticket: what the kernel let run (or map executable) because of it
  const bool hit = ev.ticket && ev.verdict == name(Verdict::allow) && ev.reason == name(Reason::ticket) &&
                   ev.event == name(EventKind::exec);
  const std::string ticket = hit ? hex_id(*ev.ticket) : std::string();
  audit_(std::move(r));
  const std::uint64_t appended = boot_ns_();
  std::lock_guard lk(counts_mu_);
  ++counts_.decisions[key];
  counts_.audit_lag.observe(appended > ev.boot_ns ? static_cast<double>(appended - ev.boot_ns) / 1e9 : 0.0);
  if (hit)
    if (auto it = hits_.find(ticket); it != hits_.end()) ++it->second.count;  // installed ones only
}

EventRecorder::Counts EventRecorder::counts() const {
  std::lock_guard lk(counts_mu_);
  return counts_;
}

void EventRecorder::seed_hits(std::map<std::string, TicketHits> hits) {
  std::lock_guard lk(counts_mu_);
  hits_ = std::move(hits);
}

void EventRecorder::reset_hits(const std::string& id, std::int64_t since) {
  std::lock_guard lk(counts_mu_);
  hits_[id] = TicketHits{0, since};
}

void EventRecorder::set_origin(const std::string& id, nlohmann::json origin) {
  std::lock_guard lk(paths_mu_);
  origins_[id] = std::move(origin);
}

void EventRecorder::forget_ticket(const std::string& id, const std::vector<InodeKey>& uncovered) {
  {
    std::lock_guard lk(counts_mu_);
    hits_.erase(id);
  }
  std::lock_guard lk(paths_mu_);
  for (const auto& key : uncovered) ticket_paths_.erase(key);
  origins_.erase(id);
}

std::map<std::string, TicketHits> EventRecorder::hits() const {
  std::lock_guard lk(counts_mu_);
  return hits_;
}

std::set<std::string> EventRecorder::take_last_uses() {
  std::set<std::string> ids;
  std::lock_guard lk(last_use_mu_);
  ids.swap(last_use_);
  return ids;
}

void EventRecorder::add_ticket_path(const InodeKey& key, const std::string& path) {
  std::lock_guard lk(paths_mu_);
  ticket_paths_.emplace(key, path);
}

void EventRecorder::set_baseline_paths(std::map<InodeKey, std::string> paths) {
  std::lock_guard lk(paths_mu_);
  baseline_paths_ = std::move(paths);
}

std::string EventRecorder::known_path(const InodeKey& key) const {
  std::lock_guard lk(paths_mu_);
  if (auto it = ticket_paths_.find(key); it != ticket_paths_.end()) return it->second;
  if (auto it = baseline_paths_.find(key); it != baseline_paths_.end()) return it->second;
  return {};
}

}  // namespace execgate
