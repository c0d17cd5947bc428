// The live file of an audit log (docs/audit.md "Writer, group commit and crash semantics",
// "Append-only attribute"): opened for appending with FS_APPEND_FL tried; a batch of
// records written and fdatasynced, or on failure the file put back as it was so that no
// torn record is left; renamed away at rotation. Not thread-safe: the writer guards it
// with its io mutex.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/fs.h"

namespace execgate::audit_detail {

// How writing a batch went.
struct BatchWrite {
  int err = 0;             // 0 = written and fsynced
  bool permanent = false;  // the file could not be put back as it was
  std::string what;
  // ENOSPC/EDQUOT with the file put back: the batch can be written again later.
  bool disk_full() const;
};

class LiveFile {
 public:
  // write(2) of the file (AuditOptions::write_syscall; empty = ::write).
  using WriteSyscall = std::function<long(int fd, const void* data, std::size_t size)>;

  LiveFile(std::string path, bool try_append_only, WriteSyscall write_syscall);

  // Opens (creating) the file for appending and tries FS_APPEND_FL. Throws IoError.
  void open();
  // Writes `batch` at the end of the file and fdatasyncs it; on failure truncates the file
  // back to its size before the write (clearing FS_APPEND_FL around the ftruncate).
  BatchWrite write(std::string_view batch);
  // Renames the file to `rotated` (rename(2) of an FS_APPEND_FL file is refused: the flag
  // is cleared around it), opens a new live file and fsyncs the directory. Throws IoError.
  void rotate_to(const std::string& rotated);
  void close() { fd_.reset(); }
  bool is_open() const { return static_cast<bool>(fd_); }

  bool append_only() const { return append_only_; }  // FS_APPEND_FL is set
  const std::string& append_only_detail() const { return append_only_detail_; }  // why not

 private:
  std::string path_;
  bool try_append_only_;
  WriteSyscall write_syscall_;
  UniqueFd fd_;
  bool append_only_ = false;
  std::string append_only_detail_;
};

}  // namespace execgate::audit_detail
