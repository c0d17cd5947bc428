// The cgroup work of jobs (docs/gate.md "Jobs"): making a job's cgroup below the scope,
// moving a process into it, killing what is left in it and removing it. A port:
// system_job_cgroups() does it in cgroupfs; unit tests give a fake
// (tests/support/fake_job_cgroups.h). Paths are cgroup v2 paths below the hierarchy's root
// ("/ci.slice/job.42").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace execgate {

class JobCgroups {
 public:
  virtual ~JobCgroups() = default;
  // Makes the cgroup at PATH (its parent must exist; PATH must not): its id. Throws IoError.
  virtual std::uint64_t make(const std::string& path) = 0;
  // The id of the cgroup at PATH; nullopt when there is none.
  virtual std::optional<std::uint64_t> id(const std::string& path) const = 0;
  // Moves process PID into the cgroup at PATH. Throws IoError naming both.
  virtual void move(pid_t pid, const std::string& path) = 0;
  // Whether a process lies in the cgroup at PATH or below it.
  virtual bool populated(const std::string& path) const = 0;
  // Kills every process in the cgroup at PATH (cgroup.kill).
  virtual void kill(const std::string& path) = 0;
  // Removes the (empty) cgroup at PATH: false when it is still busy or gone already.
  virtual bool remove(const std::string& path) = 0;
  // The names of the cgroups directly below PATH.
  virtual std::vector<std::string> children(const std::string& path) const = 0;
};

// The running system's hierarchy.
JobCgroups& system_job_cgroups();

}  // namespace execgate
