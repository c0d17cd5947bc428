// The control socket's job requests (gate_daemon.h job_start, job_join, job_end): who may
// ask what, then the job table and the ticket book. Nothing a process inside a gated
// scope sends widens what it may run: it cannot start a job, join one or move a process
// (its own job's tickets would follow it nowhere it could not already run), nor end another
// job; ending its own job only takes authorizations away.
#include <sys/stat.h>

#include "execgate/names.h"
#include "gate_daemon.h"

namespace execgate {
using nlohmann::json;

namespace {

json job_refusal(const std::string& job, const std::string& detail) {
  return {{"result", "refused"}, {"reason", "job"}, {"job", job}, {"detail", detail}};
}

}  // namespace

std::string GateDaemon::job_parent(const Policy& policy) {
  return policy.scope_host || policy.scope_cgroups.empty() ? "" : policy.scope_cgroups.front();
}

std::optional<std::string> GateDaemon::unmovable(pid_t pid, const ControlPeer& peer) const {
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0) return "no process " + std::to_string(pid);
  if (peer.uid != 0 && st.st_uid != peer.uid)
    return "process " + std::to_string(pid) + " is not yours (uid " + std::to_string(st.st_uid) + ")";
  if (peer_in_scope(pid))
    return "process " + std::to_string(pid) + " lies inside a gated scope already (a job's processes stay in it)";
  return std::nullopt;
}

json GateDaemon::job_start(const std::string& job, const std::vector<pid_t>& pids, const ControlPeer& peer) {
  {
    std::lock_guard lk(mu_);
    if (policy_.scope_host || policy_.scope_cgroups.empty())
      return job_refusal(job, "jobs need [scope] cgroups: with host = true every caller and process is inside the scope, "
                              "and nothing inside a scope starts a job");
  }
  if (peer.in_scope) return job_refusal(job, "a process inside a gated scope cannot start a job");
  for (const pid_t pid : pids)
    if (auto why = unmovable(pid, peer)) return job_refusal(job, *why);
  std::lock_guard lk(mu_);
  try {
    const Job& j = jobs_.start(job, clock_.now());
    for (const pid_t pid : pids) jobs_.join(job, pid);
    return {{"result", "started"}, {"job", job}, {"cgroup", j.path}, {"cgroup_root", cgroups_.root()}};
  } catch (const JobRefused& e) {
    return job_refusal(job, e.what());
  } catch (...) {
    // a process that could not be moved: nothing half-made is left
    if (jobs_.find(job)) jobs_.end(job, true, book_.end_job(job));
    throw;
  }
}

json GateDaemon::job_join(const std::string& job, const std::vector<pid_t>& pids, const ControlPeer& peer) {
  if (peer.in_scope) return job_refusal(job, "a process inside a gated scope cannot move processes into a job");
  for (const pid_t pid : pids)
    if (auto why = unmovable(pid, peer)) return job_refusal(job, *why);
  std::lock_guard lk(mu_);
  try {
    for (const pid_t pid : pids) jobs_.join(job, pid);
    const Job* j = jobs_.find(job);
    return {{"result", "joined"}, {"job", job}, {"cgroup", j ? j->path : ""}, {"cgroup_root", cgroups_.root()}};
  } catch (const JobRefused& e) {
    return job_refusal(job, e.what());
  }
}

json GateDaemon::job_end(const std::string& job, const ControlPeer& peer) {
  // from inside a scope: the caller's own job only, and its processes are not killed
  std::optional<std::string> caller;
  if (peer.in_scope) {
    caller = peer.pid > 0 ? cgroups_.cgroup_of(peer.pid) : std::nullopt;
    if (!caller) return job_refusal(job, "the caller's cgroup cannot be told: a job is ended from outside the scope");
  }
  std::lock_guard lk(mu_);
  if (caller && !jobs_.contains(job, *caller))
    return job_refusal(job, "a process inside a gated scope can end only its own job");
  if (!jobs_.find(job)) return job_refusal(job, "no job " + job + " is running");
  const std::vector<std::string> removed = book_.end_job(job);
  const bool kill = !peer.in_scope;
  jobs_.end(job, kill, removed);
  return {{"result", "ended"}, {"job", job}, {"removed", removed}, {"killed", kill}};
}

}  // namespace execgate
