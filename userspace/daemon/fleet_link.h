// The daemon's side of the fleet (docs/fleet.md "Freshness"): when it last had confirmed
// contact with etcd (execgate-sync reports each linearizable read and watch progress), the
// revision applied, and the freshness deadline: with no contact for max_silence the kernel
// denies every ticket from the fleet (fleet_silent) until contact resumes. Both edges are
// audited (event fleet, reason silent / resumed). The last contact is kept in the state
// directory, so a host that boots cut off is held to the deadline it had, never given a new
// one. Not thread-safe: the daemon calls it under its lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "execgate/clock.h"
#include "execgate/policy.h"
#include "gate/gate_ops.h"

namespace execgate {

class FleetLink {
 public:
  using AuditSink = std::function<void(nlohmann::json)>;
  FleetLink(GateOps& gate, const Clock& clock, std::string state_file, AuditSink audit);

  // The policy's [fleet] (none: no fleet, the kernel's word cleared). Reads the persisted
  // contact the first time; judges the deadline at once.
  void configure(const std::optional<FleetPolicy>& fleet);
  bool configured() const { return fleet_.has_value(); }
  // A confirmed contact at etcd revision REVISION (>= 0): persisted, the fleet in contact.
  void contact(std::int64_t revision);
  // Every sweep: the deadline judged (silent once now - last contact > max_silence).
  void check();
  bool silent() const { return silent_; }
  std::int64_t revision() const { return revision_; }
  nlohmann::json status_json() const;
  // Whether a control peer of this uid may send fleet requests: root, or the policy's
  // sync_user (looked up by name at configure()).
  bool peer_may_sync(uid_t uid) const;

 private:
  void set_silent(bool silent, const std::string& detail);
  void persist() const;

  GateOps& gate_;
  const Clock& clock_;
  std::string state_file_;
  AuditSink audit_;
  std::optional<FleetPolicy> fleet_;
  bool loaded_ = false;
  bool silent_ = false;
  std::int64_t last_contact_ = 0;  // unix seconds; 0 = never
  std::int64_t revision_ = 0;
  std::optional<uid_t> sync_uid_;
};

}  // namespace execgate
