// cgroup v2: where the hierarchy is mounted, and how the kernel names a scope cgroup.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/fs.h"
#include "gate/kernel_facts.h"

namespace execgate {
namespace fs = std::filesystem;

std::string cgroup2_root() {
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string src, dir, type;
    ls >> src >> dir >> type;
    if (type == "cgroup2") return dir;
  }
  throw Error(ErrorKind::kernel, "no cgroup2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
}

// The id of the mount PATH is on (statx, STATX_MNT_ID).
static std::uint64_t mount_id(const std::string& path) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_STATX_SYNC_AS_STAT, STATX_MNT_ID, &sx) != 0)
    throw IoError(path, errno, "scope cgroup: statx");
  if (!(sx.stx_mask & STATX_MNT_ID)) throw Error(ErrorKind::kernel, path + ": the kernel reports no mount id (statx)");
  return sx.stx_mnt_id;
}

CgroupRef open_scope_cgroup(const std::string& path) {
  const std::string root = cgroup2_root();
  // The kernel compares ancestors by level from the hierarchy's root; only the root
  // cgroup lacks cgroup.events, so its absence proves levels counted here are the kernel's.
  std::error_code ec;
  if (fs::exists(fs::path(root) / "cgroup.events", ec))
    throw Error(ErrorKind::kernel, "the cgroup2 mount at " + root +
                                       " is not the hierarchy's root (cgroup namespace or bind mount): "
                                       "execgated must run in the initial cgroup namespace");
  CgroupRef ref;
  fs::path rel;
  for (const auto& part : fs::path(path).lexically_normal().relative_path()) {
    if (part.empty() || part == ".") continue;
    if (part == "..") throw Error(ErrorKind::usage, "scope cgroup " + path + ": '..' is not allowed");
    rel /= part;
    ++ref.level;
  }
  const fs::path dir = fs::path(root) / rel;
  fs::create_directories(dir, ec);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw IoError(dir.string(), errno, "scope cgroup");
  if (!S_ISDIR(st.st_mode) || (ref.level > 0 && !fs::exists(dir / "cgroup.procs", ec)))
    throw Error(ErrorKind::kernel, "scope cgroup " + dir.string() + " is not a cgroup v2 directory");
  // A cgroup bind-mounted over the path (a decoy, its level alike) is another mount of
  // the hierarchy: the path must lie on the root's own mount, or it names another cgroup.
  if (mount_id(dir.string()) != mount_id(root))
    throw Error(ErrorKind::kernel, "scope cgroup " + dir.string() + " is on another mount than " + root +
                                       " (something is mounted over it): refusing a scope that may not be the "
                                       "cgroup of that name");
  ref.id = st.st_ino;  // kernfs: a cgroup's id is its directory's inode number
  return ref;
}

}  // namespace execgate
