#include "protected_set.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace execgate {
namespace fs = std::filesystem;

namespace {

void add(ProtectedSet& set, const struct stat& st, std::uint8_t flags) {
  set[InodeKey{kernel_dev(st.st_dev), st.st_ino}] |= flags;
}

// The first word of a one-line kernel setting ("" when unreadable or empty).
std::string first_word(const std::string& file) {
  std::ifstream in(file);
  std::string word;
  in >> word;
  return word;
}

void protect_path_depth(ProtectedSet& set, const fs::path& path, std::uint8_t leaf, ReservedNames* reserved,
                        int depth) {
  if (depth > 8 || !path.is_absolute()) return;  // a symlink loop, or nothing the kernel could run
  const fs::path p = path.lexically_normal();
  fs::path cur = "/";
  struct stat st {};
  if (::lstat("/", &st) == 0) add(set, st, protect::name);
  const fs::path rel = p.relative_path();
  const std::vector<fs::path> parts(rel.begin(), rel.end());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    cur /= parts[i];
    if (::lstat(cur.c_str(), &st) != 0) {
      // missing: its existing ancestors are protected; the last name, where it would be
      // created, is reserved
      struct stat dir {};
      if (reserved && i + 1 == parts.size() && ::stat(cur.parent_path().c_str(), &dir) == 0 &&
          parts[i].string().size() <= kMaxReservedName)
        reserved->emplace(InodeKey{kernel_dev(dir.st_dev), dir.st_ino}, parts[i].string());
      return;
    }
    const bool last = i + 1 == parts.size();
    if (S_ISLNK(st.st_mode)) {
      add(set, st, protect::name);
      char buf[4096];
      const ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
      if (n <= 0) return;
      fs::path target(std::string(buf, static_cast<std::size_t>(n)));
      if (target.is_relative()) target = cur.parent_path() / target;
      // what the link points to, with the rest of the path below it
      for (std::size_t j = i + 1; j < parts.size(); ++j) target /= parts[j];
      protect_path_depth(set, target, leaf, reserved, depth + 1);
      return;
    }
    add(set, st, last ? static_cast<std::uint8_t>(leaf | protect::name) : protect::name);
  }
}

}  // namespace

void protect_path(ProtectedSet& set, const std::string& path, std::uint8_t leaf, ReservedNames* reserved) {
  protect_path_depth(set, fs::path(path), leaf, reserved, 0);
}

std::vector<std::string> loader_config_paths() { return {"/etc/ld.so.cache", "/etc/ld.so.preload"}; }

std::vector<std::string> kernel_helper_paths() {
  std::vector<std::string> paths = {"/sbin/request-key", "/sbin/reboot",     "/sbin/poweroff",
                                    "/sbin/bridge-stp",  "/sbin/hotplug",    "/sbin/modprobe",
                                    "/sbin/nfs_cache_getent", "/sbin/nfsdcltrack", "/sbin/ocfs2_hb_ctl",
                                    "/sbin/drbdadm", "/sbin/critical_overtemp",
                                    // run at the next boot before any gate exists (TOMOYO's policy loader) or
                                    // by modules (docs/usermode-helpers.md): reserved, since a mark does not
                                    // outlive a reboot
                                    "/sbin/tomoyo-init", "/usr/lib/tomoyo/init_policy", "/sbin/nfsd-recall-failed",
                                    "/sbin/cpuset_release_agent"};
  for (const char* setting : {"/proc/sys/kernel/modprobe", "/proc/sys/kernel/poweroff_cmd", "/sys/kernel/uevent_helper"})
    if (auto w = first_word(setting); !w.empty()) paths.push_back(w);
  if (auto core = first_word("/proc/sys/kernel/core_pattern"); core.size() > 1 && core[0] == '|')
    paths.push_back(core.substr(1));
  return paths;
}

std::vector<std::string> own_mapped_files() {
  std::set<std::string> files;
  std::error_code ec;
  if (auto exe = fs::read_symlink("/proc/self/exe", ec); !ec) files.insert(exe.string());
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    // address perms offset dev inode path
    std::istringstream in(line);
    std::string addr, perms, off, dev, inode, path;
    in >> addr >> perms >> off >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (!path.empty() && path[0] == '/' && path.find(" (deleted)") == std::string::npos) files.insert(path);
  }
  return {files.begin(), files.end()};
}

}  // namespace execgate
