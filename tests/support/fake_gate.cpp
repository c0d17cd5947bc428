#include "fake_gate.h"

#include <algorithm>

#include "execgate/error.h"
#include "execgate/names.h"
#include "gate/kernel_facts.h"

namespace execgate::test {

namespace {

std::string key_text(const InodeKey& key) { return kernel_dev_string(key.dev) + "/" + std::to_string(key.ino); }

std::string config_text(const GateConfig& c) {
  std::string scopes;
  for (const auto& s : c.scopes) scopes += (scopes.empty() ? "" : ",") + std::to_string(s.id) + "@" + std::to_string(s.level);
  return "monitor=" + std::to_string(c.monitor) + " lineage=" + std::to_string(c.track_lineage) + " scopes=[" + scopes +
         "]";
}

// The map each operation writes, as bpf_gate.cpp names it in its errors.
const char* map_text(GateMap map) {
  switch (map) {
    case GateMap::tickets: return "ticket map";
    case GateMap::baseline: return "baseline map";
    case GateMap::baseline_dirs: return "baseline directory map";
    case GateMap::protected_inodes: return "protected inode map";
    case GateMap::reserved_names: return "reserved name map";
    case GateMap::loaders: return "loader map";
  }
  return "map";
}

const char* target_text(GateOp op) {
  switch (op) {
    case GateOp::put_ticket:
    case GateOp::delete_ticket: return "ticket map";
    case GateOp::set_config:
    case GateOp::config:
    case GateOp::set_audit_stalled:
    case GateOp::set_fleet_silent: return "config map";
    case GateOp::set_loaders: return "loader map";
    case GateOp::set_protected: return "protected inode map";
    case GateOp::set_reserved_names: return "reserved name map";
    case GateOp::put_baseline:
    case GateOp::prune_baseline: return "baseline map";
    case GateOp::set_baseline_dirs: return "baseline directory map";
    case GateOp::poll_events: return "ring buffer poll failed";
    case GateOp::start_exec_clock:
    case GateOp::check_exec_clock: return "exec clock";
  }
  return "gate";
}

}  // namespace

std::string_view op_name(GateOp op) {
  switch (op) {
    case GateOp::put_ticket: return "put_ticket";
    case GateOp::delete_ticket: return "delete_ticket";
    case GateOp::set_config: return "set_config";
    case GateOp::config: return "config";
    case GateOp::set_audit_stalled: return "set_audit_stalled";
    case GateOp::set_fleet_silent: return "set_fleet_silent";
    case GateOp::set_loaders: return "set_loaders";
    case GateOp::set_protected: return "set_protected";
    case GateOp::set_reserved_names: return "set_reserved_names";
    case GateOp::put_baseline: return "put_baseline";
    case GateOp::set_baseline_dirs: return "set_baseline_dirs";
    case GateOp::prune_baseline: return "prune_baseline";
    case GateOp::poll_events: return "poll_events";
    case GateOp::start_exec_clock: return "start_exec_clock";
    case GateOp::check_exec_clock: return "check_exec_clock";
  }
  return "?";
}

std::string GateCall::text() const {
  std::string t(op_name(op));
  if (key) t += " " + key_text(*key);
  if (!detail.empty()) t += " " + detail;
  if (failed) t += " FAILED";
  return t;
}

// --- the call log, failures and hooks

FakeGate::Entered FakeGate::enter(GateOp op, std::optional<InodeKey> key, std::string detail) {
  run_hooks(op, true);
  std::lock_guard lk(mu_);
  Entered e;
  for (auto it = faults_.begin(); it != faults_.end();) {  // each fault of op counts this call
    if (it->op == op && it->countdown == 0) {
      e.injected = true;
    } else if (it->op == op && --it->countdown == 0) {
      e.injected = true;
      it = faults_.erase(it);
      continue;
    }
    ++it;
  }
  if (record_calls) {
    e.index = calls.size();
    calls.push_back(GateCall{op, key, std::move(detail), e.injected});
  }
  return e;
}

void FakeGate::leave(GateOp op, const Entered& e) {
  if (on_call) {
    GateCall call{op, std::nullopt, {}, false};
    {
      std::lock_guard lk(mu_);
      if (e.index) call = calls[*e.index];
    }
    on_call(call);
  }
  run_hooks(op, false);
}

void FakeGate::run_hooks(GateOp op, bool before) {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lk(mu_);
    for (auto it = hooks_.begin(); it != hooks_.end();) {
      if (it->op == op && it->before == before && --it->countdown == 0) {
        due.push_back(std::move(it->fn));
        it = hooks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fn : due) fn();  // without the lock: it may call the daemon, and so the gate
}

void FakeGate::mark_failed(const Entered& e) {
  if (e.index) calls[*e.index].failed = true;
}

void FakeGate::throw_injected(GateOp op) const {
  throw Error(ErrorKind::kernel, std::string(target_text(op)) + ": Operation not permitted (injected)");
}

void FakeGate::throw_full(GateMap map) const {
  throw Error(ErrorKind::kernel, std::string(map_text(map)) + " (max " + std::to_string(capacity(map)) +
                                     "): Argument list too long");
}

std::size_t FakeGate::capacity(GateMap map) const {
  const auto it = capacity_.find(map);
  return it == capacity_.end() ? SIZE_MAX : it->second;
}

void FakeGate::fail_on(GateOp op, int nth) {
  std::lock_guard lk(mu_);
  faults_.push_back(Fault{op, std::max(1, nth)});
}

void FakeGate::fail_always(GateOp op) {
  std::lock_guard lk(mu_);
  faults_.push_back(Fault{op, 0});
}

void FakeGate::clear_failures() {
  std::lock_guard lk(mu_);
  faults_.clear();
  capacity_.clear();
}

void FakeGate::set_capacity(GateMap map, std::size_t max_entries) {
  std::lock_guard lk(mu_);
  capacity_[map] = max_entries;
}

void FakeGate::before(GateOp op, std::function<void()> fn, int nth) {
  std::lock_guard lk(mu_);
  hooks_.push_back(Hook{op, std::max(1, nth), true, std::move(fn)});
}

void FakeGate::after(GateOp op, std::function<void()> fn, int nth) {
  std::lock_guard lk(mu_);
  hooks_.push_back(Hook{op, std::max(1, nth), false, std::move(fn)});
}

std::vector<std::string> FakeGate::log() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& c : calls) out.push_back(c.text());
  return out;
}

std::optional<std::size_t> FakeGate::first(GateOp op, std::optional<InodeKey> key) const {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < calls.size(); ++i)
    if (calls[i].op == op && (!key || calls[i].key == key)) return i;
  return std::nullopt;
}

std::optional<std::size_t> FakeGate::last(GateOp op, std::optional<InodeKey> key) const {
  std::lock_guard lk(mu_);
  for (std::size_t i = calls.size(); i-- > 0;)
    if (calls[i].op == op && (!key || calls[i].key == key)) return i;
  return std::nullopt;
}

std::size_t FakeGate::count(GateOp op) const {
  std::lock_guard lk(mu_);
  return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(), [op](const GateCall& c) { return c.op == op; }));
}

// --- tickets

void FakeGate::put_ticket(const InodeKey& key, const KernelTicket& value) {
  const Entered e = enter(GateOp::put_ticket, key, hex_id(value.id) + (value.pending ? " pending" : " sealed"));
  if (e.injected) throw_injected(GateOp::put_ticket);
  if (value.uids.size() > kMaxTicketUids)
    throw Error(ErrorKind::usage, "a kernel ticket entry holds at most " + std::to_string(kMaxTicketUids) + " uids");
  {
    std::lock_guard lk(mu_);
    if (!entries.count(key) && entries.size() >= capacity(GateMap::tickets)) {
      mark_failed(e);
      throw_full(GateMap::tickets);
    }
    KernelTicket v = value;
    v.probed = false;  // kernel-written: the daemon's values never set them
    v.writers = 0;
    if (v.pending && probe_pending) {  // the sealing open that follows, as the kernel sees it
      v.probed = true;
      const auto w = writers_at_open.find(key);
      v.writers = w == writers_at_open.end() ? 0 : w->second;
    }
    entries[key] = std::move(v);
  }
  leave(GateOp::put_ticket, e);
}

bool FakeGate::delete_ticket(const InodeKey& key) {
  const Entered e = enter(GateOp::delete_ticket, key, {});
  if (e.injected) return false;  // the kernel refused: the entry stays
  bool removed;
  {
    std::lock_guard lk(mu_);
    removed = entries.erase(key) > 0;
  }
  leave(GateOp::delete_ticket, e);
  return removed;
}

std::optional<KernelTicket> FakeGate::get_ticket(const InodeKey& key) const {
  std::lock_guard lk(mu_);
  const auto it = entries.find(key);
  if (it == entries.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<InodeKey, KernelTicket>> FakeGate::tickets() const {
  std::lock_guard lk(mu_);
  return {entries.begin(), entries.end()};
}

// --- config, protected inodes, baseline

void FakeGate::set_config(const GateConfig& cfg) {
  const Entered e = enter(GateOp::set_config, std::nullopt, config_text(cfg));
  if (e.injected) throw_injected(GateOp::set_config);
  if (cfg.scopes.size() > kMaxScopeSlots)
    throw Error(ErrorKind::usage, std::to_string(cfg.scopes.size()) + " scope cgroups: the kernel config holds " +
                                      std::to_string(kMaxScopeSlots));
  {
    std::lock_guard lk(mu_);
    kernel_config = cfg;
  }
  leave(GateOp::set_config, e);
}

GateConfig FakeGate::config() const {
  // a read: logged and failable like the real one (its lookup is checked), never hooked
  auto& self = const_cast<FakeGate&>(*this);
  const Entered e = self.enter(GateOp::config, std::nullopt, {});
  if (e.injected) throw_injected(GateOp::config);
  std::lock_guard lk(mu_);
  return kernel_config;
}

void FakeGate::set_word(GateOp op, bool& word, bool value, const std::string& detail) {
  const Entered e = enter(op, std::nullopt, detail);
  if (e.injected) throw_injected(op);
  {
    std::lock_guard lk(mu_);
    word = value;
  }
  leave(op, e);
}

void FakeGate::set_audit_stalled(bool stalled) {
  set_word(GateOp::set_audit_stalled, audit_stalled, stalled, stalled ? "stalled" : "durable");
}

void FakeGate::set_fleet_silent(bool silent) {
  set_word(GateOp::set_fleet_silent, fleet_silent, silent, silent ? "silent" : "in contact");
}

template <typename Map>
void FakeGate::replace_set(Map& current, const Map& want, GateMap map, const Entered& e) {
  std::lock_guard lk(mu_);
  for (const auto& entry : want) {
    if (!current.count(entry) && current.size() >= capacity(map)) {
      mark_failed(e);
      throw_full(map);
    }
    current.insert(entry);
  }
  std::erase_if(current, [&](const auto& entry) { return !want.count(entry); });
}

void FakeGate::set_loaders(const std::vector<InodeKey>& keys) {
  const Entered e = enter(GateOp::set_loaders, std::nullopt, std::to_string(keys.size()) + " loaders");
  if (e.injected) throw_injected(GateOp::set_loaders);
  replace_set(loaders, std::set<InodeKey>(keys.begin(), keys.end()), GateMap::loaders, e);
  leave(GateOp::set_loaders, e);
}

void FakeGate::set_protected(const std::map<InodeKey, std::uint8_t>& want) {
  const Entered e = enter(GateOp::set_protected, std::nullopt, std::to_string(want.size()) + " inodes");
  if (e.injected) throw_injected(GateOp::set_protected);
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, flags] : want) {
      if (!protected_inodes.count(key) && protected_inodes.size() >= capacity(GateMap::protected_inodes)) {
        mark_failed(e);
        throw_full(GateMap::protected_inodes);
      }
      protected_inodes[key] = flags;
    }
    std::erase_if(protected_inodes, [&](const auto& entry) { return !want.count(entry.first); });
  }
  leave(GateOp::set_protected, e);
}

void FakeGate::set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names) {
  const Entered e = enter(GateOp::set_reserved_names, std::nullopt, std::to_string(names.size()) + " names");
  if (e.injected) throw_injected(GateOp::set_reserved_names);
  for (const auto& [dir, name] : names)
    if (name.size() > kMaxReservedName) throw Error(ErrorKind::usage, "reserved name too long: " + name);
  replace_set(reserved_names, names, GateMap::reserved_names, e);
  leave(GateOp::set_reserved_names, e);
}

void FakeGate::put_baseline(const InodeKey& key, const BaselineFile& value) {
  const Entered e = enter(GateOp::put_baseline, key, {});
  if (e.injected) throw_injected(GateOp::put_baseline);
  {
    std::lock_guard lk(mu_);
    if (!baseline.count(key) && baseline.size() >= capacity(GateMap::baseline)) {
      mark_failed(e);
      throw_full(GateMap::baseline);
    }
    baseline[key] = value;
  }
  leave(GateOp::put_baseline, e);
}

void FakeGate::set_baseline_dirs(const std::set<InodeKey>& dirs) {
  const Entered e = enter(GateOp::set_baseline_dirs, std::nullopt, std::to_string(dirs.size()) + " dirs");
  if (e.injected) throw_injected(GateOp::set_baseline_dirs);
  replace_set(baseline_dirs, dirs, GateMap::baseline_dirs, e);
  leave(GateOp::set_baseline_dirs, e);
}

std::optional<std::uint32_t> FakeGate::scope_written(const InodeKey& key) const {
  std::lock_guard lk(mu_);
  const auto it = scope_marks.find(key);
  if (it == scope_marks.end()) return std::nullopt;
  return it->second;
}

void FakeGate::prune_baseline(const std::vector<InodeKey>& keep) {
  const Entered e = enter(GateOp::prune_baseline, std::nullopt, "keep " + std::to_string(keep.size()));
  if (e.injected) throw_injected(GateOp::prune_baseline);
  {
    std::lock_guard lk(mu_);
    std::erase_if(baseline, [&](const auto& entry) { return !std::binary_search(keep.begin(), keep.end(), entry.first); });
  }
  leave(GateOp::prune_baseline, e);
}

// --- counters, the exec clock, events

GateCounters FakeGate::counters() const {
  std::lock_guard lk(mu_);
  return gate_counters;
}

ExecClock FakeGate::exec_clock() const {
  std::lock_guard lk(mu_);
  return clock_state;
}

void FakeGate::start_exec_clock() {
  const Entered e = enter(GateOp::start_exec_clock, std::nullopt, {});
  if (e.injected) throw_injected(GateOp::start_exec_clock);
  {
    std::lock_guard lk(mu_);
    clock_state.calibrated = clock_state.tick_nsec != 0;
  }
  leave(GateOp::start_exec_clock, e);
}

std::optional<std::uint32_t> FakeGate::check_exec_clock() {
  const Entered e = enter(GateOp::check_exec_clock, std::nullopt, {});
  if (e.injected) throw_injected(GateOp::check_exec_clock);
  std::optional<std::uint32_t> err;
  {
    std::lock_guard lk(mu_);
    err = std::exchange(clock_error_ms, std::nullopt);
    if (err) {
      clock_state.calibrated = false;
      clock_state.drift_ms = *err;
    }
  }
  leave(GateOp::check_exec_clock, e);
  return err;
}

int FakeGate::poll_events(int /*timeout_ms*/, const std::function<void(const GateEvent&)>& cb) {
  const Entered e = enter(GateOp::poll_events, std::nullopt, {});
  if (e.injected) throw_injected(GateOp::poll_events);  // the events stay in the ring buffer
  std::deque<GateEvent> taken;
  {
    std::lock_guard lk(mu_);
    taken.swap(events);
    gate_counters.events += taken.size();
  }
  for (const auto& ev : taken) cb(ev);
  leave(GateOp::poll_events, e);
  return static_cast<int>(taken.size());
}

// --- the kernel's own doing

namespace {
std::string entry_reason(const KernelTicket& t, const std::function<std::uint64_t()>& boot_clock) {
  if (t.pending) return to_string(Reason::unsealed);
  if (boot_clock) {
    const std::uint64_t now = boot_clock();
    if (now < t.not_before_ns) return to_string(Reason::not_yet_valid);
    if (now >= t.not_after_ns) return to_string(Reason::expired);
  }
  if (t.uses_left && *t.uses_left <= 0) return to_string(Reason::exhausted);
  return to_string(Reason::ticket);
}
}  // namespace

std::string FakeGate::exec_reason(const InodeKey& key) const {
  std::lock_guard lk(mu_);
  const auto it = entries.find(key);
  if (it == entries.end()) return to_string(Reason::no_ticket);
  if (it->second.jobs_only) return to_string(Reason::wrong_job);
  return entry_reason(it->second, boot_clock);
}

std::string FakeGate::job_exec_reason(const InodeKey& key, std::uint64_t job) const {
  std::lock_guard lk(mu_);
  const auto it = entries.find(key);
  if (it == entries.end()) return to_string(Reason::no_ticket);
  std::string reason = it->second.jobs_only ? to_string(Reason::wrong_job) : entry_reason(it->second, boot_clock);
  if (reason == to_string(Reason::ticket) || !it->second.has_jobs || !live_jobs.count(job)) return reason;
  const auto j = job_entries.find({key, job});
  return j == job_entries.end() ? reason : entry_reason(j->second, boot_clock);
}

void FakeGate::put_job_ticket(const InodeKey& key, std::uint64_t job, const KernelTicket& value) {
  std::lock_guard lk(mu_);
  job_entries[{key, job}] = value;
}

bool FakeGate::delete_job_ticket(const InodeKey& key, std::uint64_t job) {
  std::lock_guard lk(mu_);
  return job_entries.erase({key, job}) > 0;
}

std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> FakeGate::job_tickets() const {
  std::lock_guard lk(mu_);
  std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> out;
  for (const auto& [k, v] : job_entries) out.emplace_back(k.first, k.second, v);
  return out;
}

void FakeGate::add_job(std::uint64_t cgroup_id) {
  std::lock_guard lk(mu_);
  live_jobs.insert(cgroup_id);
}

void FakeGate::remove_job(std::uint64_t cgroup_id) {
  std::lock_guard lk(mu_);
  live_jobs.erase(cgroup_id);
  std::erase_if(outputs, [&](const JobOutput& o) { return o.job == cgroup_id; });
}

std::vector<std::uint64_t> FakeGate::jobs() const {
  std::lock_guard lk(mu_);
  return {live_jobs.begin(), live_jobs.end()};
}

std::vector<JobOutput> FakeGate::job_outputs() const {
  std::lock_guard lk(mu_);
  return outputs;
}

GateEvent FakeGate::exec(const InodeKey& key, std::uint32_t uid) {
  GateEvent ev;
  ev.boot_ns = boot_clock ? boot_clock() : 0;
  ev.dev = key.dev;
  ev.ino = key.ino;
  ev.pid = 4242;
  ev.uid = uid;
  ev.event = to_string(event_of(execgate::Hook::exec));
  ev.hook = to_string(execgate::Hook::exec);
  ev.comm = "fake-exec";
  const std::string ticket = to_string(Reason::ticket);
  std::string reason = exec_reason(key);
  {
    std::lock_guard lk(mu_);
    if (auto it = entries.find(key); it != entries.end()) {
      KernelTicket& t = it->second;
      ev.ticket = t.id;
      if (reason == ticket && !t.uids.empty() && std::find(t.uids.begin(), t.uids.end(), uid) == t.uids.end())
        reason = to_string(Reason::uid_mismatch);
      if (reason == ticket && t.uses_left) {
        const std::int64_t before = (*t.uses_left)--;  // the kernel's fetch-and-add
        if (before <= 0) reason = to_string(Reason::exhausted);
        ev.last_use = reason == ticket && *t.uses_left <= 0;
      }
    }
    ev.reason = reason;
    ev.verdict = to_string(reason == ticket ? Verdict::allow : Verdict::deny);
    ++(reason == ticket ? gate_counters.allowed : gate_counters.denied);
    events.push_back(ev);
  }
  return ev;
}

}  // namespace execgate::test
