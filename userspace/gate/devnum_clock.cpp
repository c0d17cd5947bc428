// Conversions between userspace and kernel views: device numbers, inode keys and clocks.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <limits>

#include "gate/kernel_facts.h"

namespace execgate {

// The kernel-internal dev_t is MKDEV(ma, mi) = ma << 20 | mi; st_dev uses new_encode_dev.
constexpr unsigned kMinorBits = 20;

std::uint64_t kernel_dev(std::uint64_t st_dev) {
  return (static_cast<std::uint64_t>(major(st_dev)) << kMinorBits) | minor(st_dev);
}

std::string kernel_dev_string(std::uint64_t kdev) {
  return std::to_string(kdev >> kMinorBits) + ":" + std::to_string(kdev & ((std::uint64_t{1} << kMinorBits) - 1));
}

std::optional<InodeKey> regular_file_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return InodeKey{kernel_dev(st.st_dev), st.st_ino};
}

static std::int64_t ns_of(clockid_t c) {
  struct timespec ts {};
  clock_gettime(c, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t wall_to_boot_ns(std::int64_t unix_seconds) {
  const std::int64_t offset = ns_of(CLOCK_REALTIME) - ns_of(CLOCK_BOOTTIME);  // wall at boot
  constexpr std::int64_t kMaxSec = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (unix_seconds >= kMaxSec) return std::numeric_limits<std::uint64_t>::max();
  const std::int64_t boot = unix_seconds * 1'000'000'000 - offset;
  return boot <= 0 ? 0 : static_cast<std::uint64_t>(boot);
}

std::int64_t boot_ns_to_wall_ns(std::uint64_t boot_ns) {
  return static_cast<std::int64_t>(boot_ns) + (ns_of(CLOCK_REALTIME) - ns_of(CLOCK_BOOTTIME));
}

}  // namespace execgate
