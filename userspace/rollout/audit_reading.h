// The audit log as the rollout tools read it: verified first (docs/audit.md
// "Verification"), then record by record. A log whose chain does not verify is refused
// unless the caller explicitly accepts it; the result always says what was verified.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "execgate/audit.h"
#include "execgate/keys.h"

namespace execgate {

struct AuditReadOptions {
  // The audit signing keys (--pub): checkpoints are verified with them. None: the hash
  // chain is checked, the checkpoints' signatures are not (and the report says so).
  std::vector<PublicKey> keys;
  bool accept_broken = false;  // --unverified: read a log whose verification fails
  bool allow_pruned = false;   // --allow-pruned: the oldest files were removed
};

struct AuditReading {
  AuditVerifyResult verify;
  bool signatures_checked = false;
  std::uint64_t unreadable = 0;  // lines skipped: not a record whose hash matches (broken logs only)

  // One line for people: what was verified, and how far.
  std::string summary() const;
  nlohmann::json to_json() const;
};

// Verifies the log at LOG (file or directory, rotated files included), then calls `each`
// with every record in chain order. Throws Error(verification) naming the first bad seq
// when the log does not verify and !accept_broken; Error(not_found) when there is no log.
AuditReading read_audit_log(const std::string& log, const AuditReadOptions& options,
                            const std::function<void(const nlohmann::json&)>& each);

}  // namespace execgate
