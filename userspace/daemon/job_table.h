// The jobs on this host (docs/gate.md "Jobs"): a cgroup `job.<id>` below the policy's
// first scope cgroup for each (none with host = true: jobs need [scope] cgroups), made by
// the daemon for `execgate job start` and `execgate run --job`, listed in the kernel
// (eg_jobs) while it is live. A job-bound ticket is valid only inside its job; what a
// builder writes inside a job is that job's output. Ending a job takes it out of the
// kernel (its outputs go) and, asked from outside the scope, kills what is left in it and
// removes its cgroup; asked from inside it, the cgroup is removed once its last process
// has exited. Pure logic over its ports (GateOps, JobCgroups) and an audit sink;
// unit-tested on fakes. Not thread-safe (the daemon calls it under its lock), except
// name_of(), which the event thread calls.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "execgate/error.h"
#include "gate/gate_ops.h"
#include "job_cgroups.h"

namespace execgate {

// A job request refused (an id already running, none running, a process that may not
// join): the control API answers it as a refusal (exit 3 in the CLI).
class JobRefused : public Error {
 public:
  explicit JobRefused(std::string msg) : Error(ErrorKind::usage, std::move(msg)) {}
};

struct Job {
  std::string id;
  std::string path;          // cgroup v2 path below the root
  std::uint64_t cgroup = 0;  // its id
  std::int64_t started_at = 0;  // unix seconds (0: found at start-up)
};

class JobTable {
 public:
  using AuditSink = std::function<void(nlohmann::json)>;
  JobTable(GateOps& gate, JobCgroups& cgroups, AuditSink audit);

  // Where jobs' cgroups go (the policy's first scope cgroup; "": none, no job starts).
  void set_parent(const std::string& parent) { parent_ = parent; }
  const std::string& parent() const { return parent_; }
  // Start-up: every job.<id> cgroup below the parent is a live job again (listed in the
  // kernel); jobs the kernel lists with no cgroup left are taken out of it.
  void discover();

  std::optional<std::uint64_t> cgroup(const std::string& id) const;
  const Job* find(const std::string& id) const;
  // Makes job ID's cgroup and lists it in the kernel; audited job_started. Throws
  // JobRefused when ID is running (or its cgroup still exists), IoError/Error otherwise.
  const Job& start(const std::string& id, std::int64_t now);
  // Moves PID into live job ID. Throws JobRefused when no such job runs.
  void join(const std::string& id, pid_t pid);
  // Ends live job ID (its tickets were uninstalled by the caller: TICKETS): out of the
  // kernel, its outputs gone; with KILL its processes are killed and its cgroup removed,
  // else its cgroup is removed once empty (sweep). Audited job_ended.
  void end(const std::string& id, bool kill, const std::vector<std::string>& tickets);
  // Every second: ended jobs' cgroups that emptied are removed.
  void sweep();
  // Whether the cgroup path PATH lies inside live job ID's cgroup.
  bool contains(const std::string& id, const std::string& path) const;

  // The job whose cgroup id is CGROUP (live or ended), for the audit records of the
  // event thread; "" when none. Thread-safe.
  std::string name_of(std::uint64_t cgroup) const;
  nlohmann::json to_json() const;
  std::size_t size() const { return jobs_.size(); }

 private:
  std::string path_of(const std::string& id) const { return (parent_ == "/" ? "" : parent_) + "/job." + id; }
  void remember(std::uint64_t cgroup, const std::string& id);

  GateOps& gate_;
  JobCgroups& cgroups_;
  AuditSink audit_;
  std::string parent_;
  std::map<std::string, Job> jobs_;           // live, by id
  std::map<std::string, std::string> ended_;  // ended, cgroup not yet removed: id -> path
  mutable std::mutex names_mu_;
  std::map<std::uint64_t, std::string> names_;  // cgroup id -> job id (the newest kMaxJobNames)
};

}  // namespace execgate
