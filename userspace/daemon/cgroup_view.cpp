// The running system's cgroup v2 hierarchy (cgroup_view.h): cgroupfs and procfs.
#include "cgroup_view.h"

#include <sys/stat.h>

#include <sstream>

#include "common/fs.h"
#include "gate/kernel_facts.h"

namespace execgate {

namespace {

class SystemCgroups final : public CgroupView {
 public:
  CgroupRef open_scope(const std::string& path) const override { return open_scope_cgroup(path); }
  std::string root() const override { return cgroup2_root(); }

  std::optional<std::string> cgroup_of(pid_t pid) const override {
    std::string path;  // of the line "0::/a/b" (procfs: never blocks)
    try {
      std::istringstream text(read_file("/proc/" + std::to_string(pid) + "/cgroup", 1 << 16));
      for (std::string line; std::getline(text, line);)
        if (line.starts_with("0::/")) {
          path = line.substr(3);
          break;
        }
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (path.empty() || mount_point().empty()) return std::nullopt;
    return path;
  }

  std::optional<std::uint64_t> cgroup_id(const std::string& path) const override {
    const std::string& mount = mount_point();
    struct stat st {};
    if (mount.empty() || ::stat((mount + path).c_str(), &st) != 0) return std::nullopt;
    return st.st_ino;
  }

 private:
  // Looked up once (a peer is classified on every connection): "" when none is mounted.
  static const std::string& mount_point() {
    static const std::string root = [] {
      try {
        return cgroup2_root();
      } catch (const std::exception&) {
        return std::string();
      }
    }();
    return root;
  }
};

}  // namespace

const CgroupView& system_cgroups() {
  static const SystemCgroups cgroups;
  return cgroups;
}

}  // namespace execgate
