#include "job_table.h"

#include <chrono>
#include <thread>

#include "execgate/names.h"
#include "execgate/ticket.h"
#include "service.h"

namespace execgate {
using nlohmann::json;

namespace {
constexpr std::size_t kMaxJobNames = 4096;  // job names kept for the audit records of late events
constexpr int kRemoveTries = 50;            // 10 ms apart: a killed job's processes exit
}  // namespace

JobTable::JobTable(GateOps& gate, JobCgroups& cgroups, AuditSink audit)
    : gate_(gate), cgroups_(cgroups), audit_(std::move(audit)) {}

void JobTable::remember(std::uint64_t cgroup, const std::string& id) {
  std::lock_guard lk(names_mu_);
  names_[cgroup] = id;
  while (names_.size() > kMaxJobNames) names_.erase(names_.begin());  // the oldest ids are the lowest
}

std::string JobTable::name_of(std::uint64_t cgroup) const {
  std::lock_guard lk(names_mu_);
  auto it = names_.find(cgroup);
  return it == names_.end() ? "" : it->second;
}

void JobTable::discover() {
  jobs_.clear();
  for (const auto& name : parent_.empty() ? std::vector<std::string>{} : cgroups_.children(parent_)) {
    if (!name.starts_with("job.") || !valid_job_id(name.substr(4))) continue;
    const std::string id = name.substr(4);
    const std::string path = path_of(id);
    const auto cg = cgroups_.id(path);
    if (!cg) continue;
    gate_.add_job(*cg);
    jobs_[id] = Job{id, path, *cg, 0};
    remember(*cg, id);
  }
  for (const auto cg : gate_.jobs()) {
    bool live = false;
    for (const auto& [id, job] : jobs_) live = live || job.cgroup == cg;
    if (!live) gate_.remove_job(cg);
  }
}

std::optional<std::uint64_t> JobTable::cgroup(const std::string& id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.cgroup;
}

const Job* JobTable::find(const std::string& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Job& JobTable::start(const std::string& id, std::int64_t now) {
  if (!valid_job_id(id))
    throw JobRefused("job id \"" + id + "\": expected 1 to " + std::to_string(kMaxJobIdBytes) +
                     " characters of A-Z a-z 0-9 . _ -, the first a letter or digit");
  if (jobs_.count(id)) throw JobRefused("job " + id + " is running already");
  const std::string path = path_of(id);
  if (ended_.count(id) || cgroups_.id(path))
    throw JobRefused("job " + id + "'s cgroup " + path + " still exists (an ended job whose processes are exiting)");
  if (jobs_.size() >= kMaxJobs) throw JobRefused(std::to_string(kMaxJobs) + " jobs are running: end one first");
  if (parent_.empty()) throw JobRefused("the policy names no scope cgroup to start jobs below");
  const std::uint64_t cg = cgroups_.make(path);
  try {
    gate_.add_job(cg);
  } catch (...) {
    cgroups_.remove(path);
    throw;
  }
  remember(cg, id);
  const Job& job = jobs_[id] = Job{id, path, cg, now};
  audit_({{"event", name(EventKind::job_started)},
          {"reason", name(RecordReason::requested)},
          {"job", id},
          {"cgroup", path},
          {"ticket", nullptr}});
  return job;
}

void JobTable::join(const std::string& id, pid_t pid) {
  const Job* job = find(id);
  if (!job) throw JobRefused("no job " + id + " is running");
  cgroups_.move(pid, job->path);
}

bool JobTable::contains(const std::string& id, const std::string& path) const {
  const Job* job = find(id);
  return job && (path == job->path || path.starts_with(job->path + "/"));
}

void JobTable::end(const std::string& id, bool kill, const std::vector<std::string>& tickets) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) throw JobRefused("no job " + id + " is running");
  const Job job = it->second;
  jobs_.erase(it);
  gate_.remove_job(job.cgroup);  // no job lookups for it, its outputs gone
  bool removed = false;
  if (kill) {
    try {
      cgroups_.kill(job.path);
    } catch (const std::exception& e) {
      service::log(service::Priority::error, std::string("job ") + id + ": " + e.what());
    }
    for (int i = 0; i < kRemoveTries && !(removed = cgroups_.remove(job.path) || !cgroups_.id(job.path)); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!removed) ended_[id] = job.path;
  audit_({{"event", name(EventKind::job_ended)},
          {"reason", name(RecordReason::requested)},
          {"job", id},
          {"cgroup", job.path},
          {"killed", kill},
          {"removed", tickets},
          {"ticket", nullptr}});
}

void JobTable::sweep() {
  for (auto it = ended_.begin(); it != ended_.end();) {
    if (!cgroups_.id(it->second) || (!cgroups_.populated(it->second) && cgroups_.remove(it->second)))
      it = ended_.erase(it);
    else
      ++it;
  }
}

json JobTable::to_json() const {
  json a = json::array();
  for (const auto& [id, job] : jobs_)
    a.push_back({{"job", id}, {"cgroup", job.path}, {"cgroup_id", job.cgroup},
                 {"started_at", job.started_at ? json(job.started_at) : json(nullptr)}});
  json ending = json::array();
  for (const auto& [id, path] : ended_) ending.push_back({{"job", id}, {"cgroup", path}});
  return {{"parent", parent_}, {"live", a}, {"ending", ending}};
}

}  // namespace execgate
