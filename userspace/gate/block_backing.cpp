// Whether a filesystem's block device holds bytes that can change with no writer the
// kernel counts (sysfs: loop, nbd, ublk, and devices stacked on them).
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>

#include "gate/kernel_facts.h"

namespace execgate {

// /sys/dev/block/MAJ:MIN of a block device (a partition's disk is its parent directory).
static std::optional<std::string> backing_of(const std::filesystem::path& sysdev, int depth) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::canonical(sysdev, ec);
  if (ec || depth > 8) return std::nullopt;
  if (fs::exists(dir / "partition", ec)) dir = dir.parent_path();
  const std::string name = dir.filename().string();
  if (fs::exists(dir / "loop", ec)) {
    std::ifstream in(dir / "loop" / "backing_file");
    std::string file;
    std::getline(in, file);
    return "loop device " + name + (file.empty() ? "" : " backed by " + file);
  }
  if (name.rfind("nbd", 0) == 0) return "network block device " + name;
  if (name.rfind("ublkb", 0) == 0) return "userspace block device " + name;
  for (const auto& slave : fs::directory_iterator(dir / "slaves", ec)) {
    std::ifstream in(slave.path() / "dev");
    std::string majmin;
    std::getline(in, majmin);
    if (auto b = backing_of(fs::path("/sys/dev/block") / majmin, depth + 1)) return name + " on " + *b;
  }
  return std::nullopt;
}

std::optional<std::string> file_backed_device(std::uint64_t dev) {
  return backing_of(std::filesystem::path("/sys/dev/block") / (std::to_string(major(static_cast<dev_t>(dev))) + ":" + std::to_string(minor(static_cast<dev_t>(dev)))), 0);
}

}  // namespace execgate
