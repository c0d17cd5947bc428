// The reserve beside an audit log (docs/audit.md "When the disk is full"): `<log>.reserve`,
// reserve_bytes allocated with posix_fallocate at open(), given up at the first
// ENOSPC/EDQUOT so that the held records and a `gap` record (reason disk_full) still reach
// the disk, and made whole again once writes work. Its file I/O only (whether it is whole
// now is the writer's state); no state of its own changes, so any thread may call it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace execgate::audit_detail {

class DiskReserve {
 public:
  // `bytes` 0: no reserve.
  DiskReserve(std::string path, std::uint64_t bytes);

  bool enabled() const { return bytes_ > 0; }
  const std::string& path() const { return path_; }
  // Makes the file whole (mode 0600, `bytes` allocated, fdatasynced): nullopt, else why
  // not. A reserve that cannot be made whole is removed (a partial one would only take
  // space from the log).
  std::optional<std::string> make() const;
  // Gives the reserve's space up (removes the file).
  void release() const;

 private:
  std::string path_;
  std::uint64_t bytes_;
};

// The `gap` record (reason disk_full, count 0: nothing lost) written with the reserve's
// space once the disk is full; `full_error` is the failed write's.
nlohmann::json disk_full_gap(const std::string& full_error, const std::string& reserve_path);

}  // namespace execgate::audit_detail
