#include "rollout/host_view.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/encoding.h"
#include "execgate/error.h"
#include "execgate/sha256.h"

namespace execgate {
namespace fs = std::filesystem;

std::optional<HostFile> LiveHost::stat(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return HostFile{S_ISREG(st.st_mode), st.st_uid, st.st_mode};
}

std::optional<std::string> LiveHost::sha256(const std::string& path) const {
  auto [it, fresh] = digests_.try_emplace(path);
  if (fresh) {
    try {
      it->second = hex_encode(sha256_file(path));
    } catch (const Error&) {
      it->second = std::nullopt;
    }
  }
  return it->second;
}

std::string LiveHost::canonical(const std::string& path) const {
  auto [it, fresh] = canonical_.try_emplace(path);
  if (fresh) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(path, ec);
    it->second = ec ? path : p.string();
  }
  return it->second;
}

std::optional<std::string> LiveHost::cgroup_path(std::uint64_t id) const {
  if (!cgroups_) {
    cgroups_.emplace();
    std::ifstream mounts("/proc/self/mounts");
    std::string dev, dir, type, rest, root;
    while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
      if (type == "cgroup2" && root.empty()) root = dir;
    std::error_code ec;
    if (!root.empty()) {
      struct stat st {};
      if (::stat(root.c_str(), &st) == 0) (*cgroups_)[st.st_ino] = "/";
      for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
        if (::stat(it->path().c_str(), &st) == 0)
          (*cgroups_)[st.st_ino] = "/" + fs::relative(it->path(), root, ec).string();
      }
    }
  }
  auto it = cgroups_->find(id);
  if (it == cgroups_->end()) return std::nullopt;
  return it->second;
}

}  // namespace execgate
