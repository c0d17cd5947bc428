// A fake of the jobs' cgroup work (JobCgroups, userspace/daemon/job_cgroups.h) for unit
// tests: cgroups by path with their ids and the processes in each; kill() empties one,
// remove() takes an empty one away.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "execgate/error.h"
#include "job_cgroups.h"

namespace execgate::test {

class FakeJobCgroups final : public JobCgroups {
 public:
  std::uint64_t make(const std::string& path) override {
    if (cgroups.count(path)) throw IoError(path, EEXIST, "cannot make the job's cgroup");
    return cgroups[path] = next_id++;
  }
  std::optional<std::uint64_t> id(const std::string& path) const override {
    auto it = cgroups.find(path);
    if (it == cgroups.end()) return std::nullopt;
    return it->second;
  }
  void move(pid_t pid, const std::string& path) override {
    if (!cgroups.count(path)) throw IoError(path, ENOENT, "cannot move process " + std::to_string(pid) + " into the job");
    for (auto& [p, set] : procs) set.erase(pid);
    procs[path].insert(pid);
  }
  bool populated(const std::string& path) const override {
    auto it = procs.find(path);
    return it != procs.end() && !it->second.empty();
  }
  void kill(const std::string& path) override {
    ++kills;
    procs.erase(path);
  }
  bool remove(const std::string& path) override {
    if (!cgroups.count(path) || populated(path)) return false;
    cgroups.erase(path);
    return true;
  }
  std::vector<std::string> children(const std::string& path) const override {
    std::vector<std::string> out;
    const std::string prefix = (path == "/" ? "" : path) + "/";
    for (const auto& [p, id] : cgroups)
      if (p.starts_with(prefix) && p.find('/', prefix.size()) == std::string::npos) out.push_back(p.substr(prefix.size()));
    return out;
  }

  std::map<std::string, std::uint64_t> cgroups;  // by path below the root
  std::map<std::string, std::set<pid_t>> procs;
  int kills = 0;

 private:
  std::uint64_t next_id = 5000;
};

}  // namespace execgate::test
