#include "spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "execgate/error.h"
#include "execgate/names.h"
#include "service.h"

namespace execgate {

namespace {

constexpr int kRenameNoReplace = 1;  // RENAME_NOREPLACE (linux/fs.h)

int renameat2_noreplace(int olddir, const std::string& oldname, int newdir, const std::string& newname) {
  return static_cast<int>(::syscall(SYS_renameat2, olddir, oldname.c_str(), newdir, newname.c_str(), kRenameNoReplace));
}

// NAME below DIR, never through a symlink, a magic link or a mount: O_PATH, so nothing
// (a FIFO, a device) is opened for real before it is known to be a regular file.
int open_beneath(int dir, const std::string& name) {
  struct open_how how {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(::syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how));
}

const char* kind(mode_t m) {
  if (S_ISLNK(m)) return "a symlink";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISREG(m)) return "a file";
  return "not a regular file";
}

struct Judged {
  bool ok = false;
  std::string reason;  // "<reason>: <detail>" for rejected/NAME.reason
};

}  // namespace

Spool::Spool(std::string inbox, Submit submit) : inbox_(std::move(inbox)), submit_(std::move(submit)) {
  inbox_fd_.reset(::open(inbox_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!inbox_fd_) throw IoError(inbox_, errno, "spool inbox");
  struct stat st {};
  if (::fstat(inbox_fd_.get(), &st) != 0) throw IoError(inbox_, errno, "spool inbox");
  if (st.st_uid != ::geteuid()) throw Error(ErrorKind::validation, inbox_ + ": the spool inbox is not owned by execgated's user");
  dev_ = st.st_dev;
  done_fd_ = open_subdir("done");
  rejected_fd_ = open_subdir("rejected");
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_) throw IoError(inbox_, errno, "inotify_init1");
  // the directory held open, not whatever the path names by now
  const std::string self = "/proc/self/fd/" + std::to_string(inbox_fd_.get());
  if (::inotify_add_watch(inotify_.get(), self.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0)
    throw IoError(inbox_, errno, "inotify_add_watch");
}

// done/ or rejected/: a directory of execgated's user on the inbox's filesystem, writable by
// nobody else, opened without following anything. An impostor is removed (a symlink, a
// file) or set aside (a directory: .impostor-NAME-INODE) and the directory made anew. An
// empty fd when that fails (a mount over it): entries are then removed once judged.
UniqueFd Spool::open_subdir(const char* name) {
  const int in = inbox_fd_.get();
  for (int attempt = 0; attempt < 3; ++attempt) {
    UniqueFd fd(::openat(in, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (fd && ::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == dev_ && st.st_uid == ::geteuid() &&
        !(st.st_mode & (S_IWGRP | S_IWOTH)))
      return fd;
    fd.reset();
    struct stat lst {};
    if (::fstatat(in, name, &lst, AT_SYMLINK_NOFOLLOW) == 0) {
      int rc;
      if (S_ISDIR(lst.st_mode))
        rc = renameat2_noreplace(in, name, in, ".impostor-" + std::string(name) + "-" + std::to_string(lst.st_ino));
      else
        rc = ::unlinkat(in, name, 0);
      if (rc != 0) {
        service::log(service::Priority::warning, inbox_ + "/" + name + ": " + kind(lst.st_mode) +
                                                     " that is not execgated's directory, and cannot be replaced (" +
                                                     std::strerror(errno) + "): entries are removed once judged");
        return {};
      }
      service::log(service::Priority::warning, inbox_ + "/" + name + " was " + kind(lst.st_mode) +
                                                   " that is not execgated's own directory: replaced");
    }
    if (::mkdirat(in, name, 0700) != 0 && errno != EEXIST) {
      service::log(service::Priority::warning,
                   inbox_ + "/" + name + ": cannot create (" + std::strerror(errno) + "): entries are removed once judged");
      return {};
    }
  }
  service::log(service::Priority::warning, inbox_ + "/" + name + ": keeps changing: entries are removed once judged");
  return {};
}

bool Spool::drain() {
  char buf[4096];
  for (int i = 0; i < 64 && ::read(inotify_.get(), buf, sizeof buf) > 0; ++i) {
  }
  // a fresh open of the directory for each pass: its own offset, from the start
  UniqueFd dfd(::openat(inbox_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return false;
  DIR* d = ::fdopendir(dfd.get());
  if (!d) return false;
  dfd.release();
  std::vector<std::string> names;
  std::size_t scanned = 0;
  bool more = false;
  while (const dirent* e = ::readdir(d)) {
    if (++scanned > kMaxScanned) {
      more = true;
      break;
    }
    std::string name = e->d_name;
    if (name.starts_with(".") || name == "done" || name == "rejected" || stuck_.contains(name)) continue;
    names.push_back(std::move(name));
    if (names.size() == kMaxPerDrain) {
      more = true;
      break;
    }
  }
  ::closedir(d);
  for (const auto& name : names) handle(name);
  return more;
}

void Spool::handle(const std::string& name) {
  Judged j;
  std::string body;
  std::string refused;  // why it is not even read
  UniqueFd path_fd(open_beneath(inbox_fd_.get(), name));
  struct stat st {};
  if (!path_fd) {
    if (errno == ENOENT) return;  // gone meanwhile
    refused = errno == ELOOP ? "a symlink" : errno == EXDEV ? "a mount point" : std::string("cannot open: ") + std::strerror(errno);
  } else if (::fstat(path_fd.get(), &st) != 0) {
    refused = std::string("cannot stat: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    refused = kind(st.st_mode);
  } else if (st.st_dev != dev_) {
    refused = "on another filesystem than the inbox";
  } else if (st.st_nlink != 1) {
    refused = "has " + std::to_string(st.st_nlink) + " links (a hard link to another file is never read)";
  } else if (static_cast<std::size_t>(st.st_size) > kMaxBytes) {
    refused = "file is " + std::to_string(st.st_size) + " bytes, more than the limit of " + std::to_string(kMaxBytes);
  } else {
    // the very inode checked, opened for reading now; never a blocking read
    const std::string self = "/proc/self/fd/" + std::to_string(path_fd.get());
    UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
      refused = std::string("cannot open: ") + std::strerror(errno);
    } else {
      char chunk[16384];
      for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          refused = errno == EAGAIN ? "a read would block" : std::string("read failed: ") + std::strerror(errno);
          break;
        }
        if (n == 0) break;
        body.append(chunk, static_cast<std::size_t>(n));
        if (body.size() > kMaxBytes) {
          refused = "file grew past the limit of " + std::to_string(kMaxBytes) + " bytes";
          break;
        }
      }
    }
  }
  path_fd.reset();
  if (!refused.empty()) {
    j.reason = to_string(RefusalReason::malformed) + ": " + refused;
  } else {
    try {
      const nlohmann::json r = submit_(body, "spool:" + name);
      j.ok = r.value("result", "") != "refused";
      j.reason = r.value("reason", "") + ": " + r.value("detail", "");
    } catch (const std::exception& e) {
      j.reason = to_string(RefusalReason::malformed) + ": " + e.what();
    }
  }
  finish(name, j.ok, j.reason);
}

// Moves NAME to done/ or rejected/ (never over an existing name: NAME, else NAME.N), and
// writes rejected/NAME.reason; an entry that cannot be moved is removed, so it is not
// judged again.
void Spool::finish(const std::string& name, bool ok, const std::string& reason) {
  const int in = inbox_fd_.get();
  const int dest_dir = ok ? done_fd_.get() : rejected_fd_.get();
  std::string dest;
  if (dest_dir >= 0) {
    const std::string base = name.size() > 200 ? name.substr(0, 200) : name;  // room for ".N.reason"
    const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
    for (const std::string& cand : {base, base + "." + std::to_string(stamp)}) {
      if (renameat2_noreplace(in, name, dest_dir, cand) == 0) {
        dest = cand;
        break;
      }
      if (errno != EEXIST) break;
    }
  }
  if (dest.empty()) {
    if (::unlinkat(in, name.c_str(), 0) != 0 && (errno != EISDIR || ::unlinkat(in, name.c_str(), AT_REMOVEDIR) != 0) &&
        errno != ENOENT) {
      if (stuck_.size() >= 4096) stuck_.clear();
      stuck_.insert(name);
      service::log(service::Priority::warning, inbox_ + "/" + name + ": cannot be moved or removed (" +
                                                   std::strerror(errno) + "): left in place, not judged again");
    }
    return;
  }
  if (ok) return;
  // rejected/NAME.reason: a temp file made here (never an existing one), then renamed
  const int rd = rejected_fd_.get();
  const char* tmp = ".reason.tmp";
  ::unlinkat(rd, tmp, 0);
  UniqueFd fd(::openat(rd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return;
  try {
    write_all(fd.get(), reason + "\n", inbox_ + "/rejected/" + dest + ".reason");
  } catch (const std::exception&) {
    ::unlinkat(rd, tmp, 0);
    return;
  }
  fd.reset();
  if (::renameat(rd, tmp, rd, (dest + ".reason").c_str()) != 0) ::unlinkat(rd, tmp, 0);
}

}  // namespace execgate
