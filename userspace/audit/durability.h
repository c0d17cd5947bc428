// Whether an audit log's records can be made durable, and why not (docs/audit.md "When
// the disk is full"): a write failure that stays until a restart, writes failing with
// ENOSPC/EDQUOT (the records held and retried every retry_interval), the reserve whole or
// not, and what on_durability was last told. Not thread-safe: the writer guards it with
// its append mutex.
#pragma once

#include <chrono>
#include <string>

#include "live_file.h"

namespace execgate::audit_detail {

struct Durability {
  using Clock = std::chrono::steady_clock;

  std::string error;       // the sticky write failure (not ENOSPC/EDQUOT)
  bool full = false;       // the last write failed with ENOSPC/EDQUOT: the held records are retried
  std::string full_error;  // that write's failure
  Clock::time_point retry_at = Clock::now();  // next write retry (full) or reserve attempt
  bool reserve_whole = false;                 // the reserve is made
  bool durable = true;                        // what status() and the callback say
  std::string stall_detail;                   // why durable is false
  bool reported_durable = true;               // what the callback was last told (the writer's thread's)

  bool failed() const { return !error.empty(); }
  // Throws Error(io) once failed.
  void check_failed() const;
  // Failed for good (the first failure is kept).
  void fail(const std::string& what);
  // Sets what status() and the callback say; true when the callback must be told.
  bool set_durable(bool d, std::string why = {});
  // After a failed batch (put back in front of the held records): disk full, retried at
  // once while the reserve can still be given up, else after retry_interval; any other
  // failure (or a file not put back) fails the log. True when the callback must be told.
  bool write_failed(const BatchWrite& r, std::chrono::milliseconds retry_interval);
  // A batch reached the disk: not full any more.
  void written();
  // Records could be made durable now (with `reserve` the reserve must be whole).
  bool can_be_durable(bool reserve) const;
};

}  // namespace execgate::audit_detail
