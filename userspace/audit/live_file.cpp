// The audit log's live file: open, batch write with truncate-back, rotation (live_file.h).
#include "live_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "execgate/error.h"
#include "internal.h"

namespace execgate::audit_detail {

bool BatchWrite::disk_full() const { return (err == ENOSPC || err == EDQUOT) && !permanent; }

LiveFile::LiveFile(std::string path, bool try_append_only, WriteSyscall write_syscall)
    : path_(std::move(path)), try_append_only_(try_append_only), write_syscall_(std::move(write_syscall)) {}

void LiveFile::open() {
  UniqueFd nfd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640));
  if (!nfd) throw IoError(path_, errno, "cannot open audit log");
  fd_ = std::move(nfd);
  append_only_ = false;
  append_only_detail_.clear();
  if (try_append_only_) {
    int e = set_append_only(fd_.get(), true);
    if (e == 0)
      append_only_ = true;
    else
      append_only_detail_ = std::string("FS_APPEND_FL not set: ") + std::strerror(e) +
                            (e == EPERM ? " (needs CAP_LINUX_IMMUTABLE)" : e == ENOTTY || e == EOPNOTSUPP ? " (file system does not support it)" : "");
  } else {
    append_only_detail_ = "disabled by configuration";
  }
}

BatchWrite LiveFile::write(std::string_view batch) {
  BatchWrite r;
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) {
    r.err = errno;
    r.permanent = true;
    r.what = path_ + ": fstat failed: " + std::strerror(r.err);
    return r;
  }
  std::size_t off = 0;
  while (off < batch.size()) {
    const long n = write_syscall_ ? write_syscall_(fd_.get(), batch.data() + off, batch.size() - off)
                                  : static_cast<long>(::write(fd_.get(), batch.data() + off, batch.size() - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.err = n < 0 ? errno : EIO;
      r.what = path_ + ": write failed: " + std::strerror(r.err);
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  if (r.err == 0 && ::fdatasync(fd_.get()) != 0) {
    r.err = errno;
    r.what = path_ + ": fsync failed: " + std::strerror(r.err);
  }
  if (r.err == 0) return r;
  // Put the file back as it was (the records are kept in memory and written again).
  struct stat now {};
  if (::fstat(fd_.get(), &now) == 0 && now.st_size == st.st_size) return r;
  if (append_only_) set_append_only(fd_.get(), false);
  const int t = ::ftruncate(fd_.get(), st.st_size) == 0 ? 0 : errno;
  if (append_only_) set_append_only(fd_.get(), true);
  if (t != 0) {
    r.permanent = true;
    r.what += std::string("; cannot truncate the partial batch: ") + std::strerror(t);
  }
  return r;
}

void LiveFile::rotate_to(const std::string& rotated) {
  // rename(2) of an FS_APPEND_FL file is refused: clear the flag, rename, set it again.
  if (append_only_) set_append_only(fd_.get(), false);
  if (::rename(path_.c_str(), rotated.c_str()) != 0) {
    int e = errno;
    if (append_only_) set_append_only(fd_.get(), true);
    throw IoError(path_, e, "cannot rename to " + rotated);
  }
  if (append_only_) set_append_only(fd_.get(), true);
  open();
  fsync_parent_dir(path_);
}

}  // namespace execgate::audit_detail
