#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <random>

#include "common/encoding.h"
#include "execgate/error.h"

namespace execgate {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: a FIFO (or a special file) planted at the path never blocks the reader,
  // at the open or at a read; it is refused below
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) throw IoError(path, errno, "cannot open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw IoError(path, errno, "cannot stat");
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::validation, path + ": not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    throw Error(ErrorKind::validation, path + ": file is " + std::to_string(st.st_size) +
                                           " bytes, more than the limit of " + std::to_string(max_bytes));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, errno, errno == EAGAIN ? "a read would block" : "read failed");
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      throw Error(ErrorKind::validation, path + ": file grew past the limit of " + std::to_string(max_bytes) + " bytes");
  }
  return out;
}

std::string read_file_trimmed(const std::string& path, std::size_t max_bytes) {
  std::string s = read_file(path, max_bytes);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string read_machine_id(const std::string& path) {
  const std::string s = read_file_trimmed(path, 4096);
  if (!is_lower_hex(s, 32)) throw Error(ErrorKind::validation, path + ": expected 32 lower-case hex digits");
  return s;
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, errno, "write failed");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device rd;
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(rd()))).string();
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) throw IoError(tmp, errno, "cannot create temporary file");
  try {
    if (::fchmod(fd.get(), mode) != 0) throw IoError(tmp, errno, "fchmod failed");
    write_all(fd.get(), data, tmp);
    if (::fsync(fd.get()) != 0) throw IoError(tmp, errno, "fsync failed");
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw IoError(path, errno, "rename failed");
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
}

}  // namespace execgate
