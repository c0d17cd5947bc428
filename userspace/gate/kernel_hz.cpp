// The running kernel's CONFIG_HZ, for the exec clock's TICK_NSEC (bpf/execgate.h, struct
// eg_clock): from /proc/config.gz (the running kernel's own, when built in), else
// /boot/config-RELEASE (Debian, Fedora, Ubuntu install it with the kernel).
#include <sys/utsname.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "common/fs.h"
#include "gate/kernel_facts.h"

namespace execgate {

std::optional<unsigned> config_hz(std::istream& config) {
  constexpr std::string_view kKey = "CONFIG_HZ=";
  for (std::string line; std::getline(config, line);) {
    if (!line.starts_with(kKey)) continue;
    const std::string value = line.substr(kKey.size());
    if (value.empty() || value.size() > 5 || value.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    const unsigned hz = static_cast<unsigned>(std::stoul(value));
    // Linux offers 100..1000 (24..1200 on some architectures); anything else is not a kernel's
    if (hz < 24 || hz > 10000) return std::nullopt;
    return hz;
  }
  return std::nullopt;
}

static std::optional<std::string> gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string out;
  char buf[16384];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  const bool ok = n == 0;
  gzclose(f);
  if (!ok) return std::nullopt;
  return out;
}

std::optional<unsigned> running_kernel_hz() {
  if (auto text = gunzip_file("/proc/config.gz")) {
    std::istringstream in(*text);
    if (auto hz = config_hz(in)) return hz;
  }
  struct utsname u {};
  if (::uname(&u) != 0) return std::nullopt;
  // read_file: never blocks (a FIFO planted in /boot from a gated scope is refused)
  std::string text;
  try {
    text = read_file(std::string("/boot/config-") + u.release, std::size_t{16} << 20);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::istringstream boot(text);
  return config_hz(boot);
}

std::uint64_t tick_nsec(unsigned hz) { return (1'000'000'000ull + hz / 2) / hz; }  // the kernel's TICK_NSEC

}  // namespace execgate
