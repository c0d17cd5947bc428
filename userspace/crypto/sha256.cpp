// SHA-256 of byte strings and of regular files streamed through one fd.
#include "execgate/sha256.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "execgate/error.h"
#include "common/fs.h"
#include "execgate/keys.h"
#include "execgate/crypto_errors.h"

namespace execgate {

Sha256Digest sha256_bytes(std::span<const std::uint8_t> data) {
  ensure_sodium();
  Sha256Digest out{};
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

static const char* file_type_name(mode_t m) {
  if (S_ISDIR(m)) return "directory";
  if (S_ISCHR(m)) return "character device";
  if (S_ISBLK(m)) return "block device";
  if (S_ISFIFO(m)) return "FIFO";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISLNK(m)) return "symbolic link";
  return "special file";
}

Sha256Digest sha256_fd(int fd, const std::string& name_for_errors) {
  ensure_sodium();
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError(name_for_errors, errno, "cannot stat");
  if (!S_ISREG(st.st_mode)) throw NotRegularFileError(name_for_errors, file_type_name(st.st_mode));

  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<unsigned char> buf(1 << 16);
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(name_for_errors, errno, "read failed");
    }
    if (n == 0) break;
    crypto_hash_sha256_update(&state, buf.data(), static_cast<unsigned long long>(n));
    off += n;
  }
  Sha256Digest out{};
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Sha256Digest sha256_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw IoError(path, errno, "cannot open");
  return sha256_fd(fd.get(), path);
}

}  // namespace execgate
