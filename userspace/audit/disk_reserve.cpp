// The audit log's reserve file and the record of a full disk (disk_reserve.h).
#include "disk_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "execgate/names.h"

namespace execgate::audit_detail {

DiskReserve::DiskReserve(std::string path, std::uint64_t bytes) : path_(std::move(path)), bytes_(bytes) {}

std::optional<std::string> DiskReserve::make() const {
  UniqueFd rfd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
  int e = 0;
  if (!rfd) {
    e = errno;
  } else {
    ::fchmod(rfd.get(), 0600);
    e = ::posix_fallocate(rfd.get(), 0, static_cast<off_t>(bytes_));
    if (e == 0 && ::fdatasync(rfd.get()) != 0) e = errno;
  }
  if (e == 0) return std::nullopt;
  std::string why = path_ + ": cannot reserve " + std::to_string(bytes_) + " bytes: " + std::strerror(e);
  rfd.reset();
  ::unlink(path_.c_str());
  return why;
}

void DiskReserve::release() const { ::unlink(path_.c_str()); }

nlohmann::json disk_full_gap(const std::string& full_error, const std::string& reserve_path) {
  return {{"event", name(EventKind::gap)},
          {"reason", name(RecordReason::disk_full)},
          {"count", 0},
          {"detail", "the audit log's file system is full (" + full_error +
                         "); records are held in memory and retried; with [audit] required execs in "
                         "the scope are denied " + std::string(name(Reason::audit_unavailable)) +
                         " until the reserve " + reserve_path + " can be made whole again"}};
}

}  // namespace execgate::audit_detail
