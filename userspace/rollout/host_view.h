// What the rollout tools (`policy simulate`, `suggest`) ask of the host they run on: a
// file's owner and mode, its digest, its path with symlinks resolved, the cgroup an id
// names, this host's machine-id. A port, so the judgement is tested against a fake.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace execgate {

struct HostFile {
  bool regular = false;
  std::uint32_t uid = 0;
  std::uint32_t mode = 0;  // st_mode
  // What the baseline pins (docs/daemon.md "Policy"): a regular file only root can write.
  bool root_only_writable() const { return regular && uid == 0 && !(mode & 022); }
};

class HostView {
 public:
  virtual ~HostView() = default;
  // The file at path (symlinks followed); nullopt when there is none.
  virtual std::optional<HostFile> stat(const std::string& path) const = 0;
  // Lower-case hex SHA-256 of the file's bytes; nullopt when it cannot be read.
  virtual std::optional<std::string> sha256(const std::string& path) const = 0;
  // The path with the symlinks of its existing part resolved (how the kernel names it).
  virtual std::string canonical(const std::string& path) const = 0;
  // The cgroup v2 path (relative to the hierarchy's root, "/ci.slice/x") of a cgroup id;
  // nullopt when no such cgroup exists now.
  virtual std::optional<std::string> cgroup_path(std::uint64_t id) const = 0;
};

// The machine this runs on; answers are cached (a log names the same files many times).
class LiveHost final : public HostView {
 public:
  std::optional<HostFile> stat(const std::string& path) const override;
  std::optional<std::string> sha256(const std::string& path) const override;
  std::string canonical(const std::string& path) const override;
  std::optional<std::string> cgroup_path(std::uint64_t id) const override;

 private:
  mutable std::map<std::string, std::optional<std::string>> digests_;
  mutable std::map<std::string, std::string> canonical_;
  mutable std::optional<std::map<std::uint64_t, std::string>> cgroups_;  // walked once, on first use
};

}  // namespace execgate
