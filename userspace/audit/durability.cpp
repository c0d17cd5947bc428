// Whether the audit log's records can be made durable (durability.h).
#include "durability.h"

#include "execgate/error.h"

namespace execgate::audit_detail {

void Durability::check_failed() const {
  if (failed()) throw Error(ErrorKind::io, "audit log unavailable: " + error);
}

void Durability::fail(const std::string& what) {
  if (error.empty()) error = what;
}

bool Durability::set_durable(bool d, std::string why) {
  durable = d;
  stall_detail = d ? std::string() : std::move(why);
  return d != reported_durable;
}

bool Durability::write_failed(const BatchWrite& r, std::chrono::milliseconds retry_interval) {
  if (r.disk_full()) {
    full = true;
    full_error = r.what;
    // with the reserve still there, the writer's thread gives it up and writes again at once
    retry_at = reserve_whole ? Clock::now() : Clock::now() + retry_interval;
    return set_durable(false, "disk full: " + r.what);
  }
  fail(r.what);
  return set_durable(false, "failed: " + error);
}

void Durability::written() {
  full = false;
  full_error.clear();
}

bool Durability::can_be_durable(bool reserve) const { return !failed() && !full && (reserve_whole || !reserve); }

}  // namespace execgate::audit_detail
