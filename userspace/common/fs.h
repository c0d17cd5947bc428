// File helpers: RAII fd, bounded reads, atomic (never half-written) writes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace execgate {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Reads a whole regular file, refusing files larger than max_bytes (Error(validation)).
std::string read_file(const std::string& path, std::size_t max_bytes);
// read_file without the trailing whitespace (a one-line file written by a person or `echo`).
std::string read_file_trimmed(const std::string& path, std::size_t max_bytes);

// True when a name exists at path (lstat: a dangling symlink counts).
bool path_exists(const std::string& path);

// Writes all of data to fd (retrying short writes and EINTR); IoError names path.
void write_all(int fd, std::string_view data, const std::string& path);

// This host's machine-id (32 lower-case hex, trailing whitespace dropped); Error naming the
// file when it is anything else.
std::string read_machine_id(const std::string& path = "/etc/machine-id");

// Writes data to path atomically: temp file in the same directory, fsync, rename,
// fsync of the directory. The result has the given mode. Throws IoError.
void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

}  // namespace execgate
