// A fake cgroup v2 hierarchy (CgroupView, userspace/daemon/cgroup_view.h) for unit tests:
// cgroups by path with their ids, and the cgroup each process lies in. A scope the policy
// names that does not exist yet is created, as the real one is.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "cgroup_view.h"
#include "execgate/error.h"

namespace execgate::test {

class FakeCgroups final : public CgroupView {
 public:
  static constexpr std::uint64_t kRootId = 1;

  // The cgroup at PATH ("/ci.slice/runner": level 2), made with ID (0: the next free one).
  CgroupRef add(const std::string& path, std::uint64_t id = 0) const {
    if (auto it = cgroups.find(path); it != cgroups.end()) return it->second;
    std::uint32_t level = 0;
    for (char c : path) level += c == '/' ? 1u : 0u;
    return cgroups[path] = CgroupRef{id ? id : next_id++, level};
  }
  // Process PID lies in the cgroup at PATH ("/" for the root).
  void place(pid_t pid, const std::string& path) { processes[pid] = path; }

  CgroupRef open_scope(const std::string& path) const override {
    if (path.empty() || path[0] != '/' || path.back() == '/')
      throw Error(ErrorKind::validation, "cgroup \"" + path + "\": not a cgroup path");
    return add(path);
  }
  std::string root() const override { return "/sys/fs/cgroup"; }
  std::optional<std::string> cgroup_of(pid_t pid) const override {
    const auto it = processes.find(pid);
    if (it == processes.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::uint64_t> cgroup_id(const std::string& path) const override {
    if (path.empty()) return kRootId;
    const auto it = cgroups.find(path);
    if (it == cgroups.end()) return std::nullopt;
    return it->second.id;
  }

  mutable std::map<std::string, CgroupRef> cgroups;  // by path below the root
  std::map<pid_t, std::string> processes;

 private:
  mutable std::uint64_t next_id = 1000;
};

}  // namespace execgate::test
