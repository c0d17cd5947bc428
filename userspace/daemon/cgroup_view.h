// The cgroup v2 hierarchy as the daemon asks it: the policy's scope cgroups as the kernel
// names them, and where a control-socket peer's process lies. A port: system_cgroups()
// asks the kernel (cgroupfs, procfs); unit tests give a fake (tests/support/fake_cgroups.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "gate/gate_types.h"

namespace execgate {

class CgroupView {
 public:
  virtual ~CgroupView() = default;
  // The scope cgroup at PATH below the root ("/ci.slice/runner"), created when missing;
  // throws naming it.
  virtual CgroupRef open_scope(const std::string& path) const = 0;
  // The hierarchy's mount point (/sys/fs/cgroup); throws when none is mounted.
  virtual std::string root() const = 0;
  // The cgroup v2 path of process PID below the root ("/a/b"; "/" for the root); nullopt
  // when it cannot be told (the process's cgroup file cannot be read or names no v2
  // cgroup, or no hierarchy is mounted).
  virtual std::optional<std::string> cgroup_of(pid_t pid) const = 0;
  // The id (the directory's inode number) of the cgroup at PATH below the root ("" for the
  // root itself, else "/a/b"); nullopt when it cannot be read.
  virtual std::optional<std::uint64_t> cgroup_id(const std::string& path) const = 0;
};

// The running system's hierarchy.
const CgroupView& system_cgroups();

}  // namespace execgate
