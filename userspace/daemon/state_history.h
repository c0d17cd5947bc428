// The state directory checked against the audit log: what the hash-chained, append-only log
// records the daemon did to its state must still be there. A revocation or a spent ticket
// the log records whose tombstone or spent record is missing means the state directory was
// rewound (restored from an older copy, or files removed): the daemon refuses to start,
// naming the file, rather than install a revoked or used-up ticket again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "state_store.h"

namespace execgate {

struct AuditedState {
  std::map<std::string, std::uint64_t> revoked;  // ticket id -> seq of its ticket_revoked record
  std::map<std::string, std::uint64_t> spent;    // ticket id -> seq of the record that spent it
};

// Reads every file of the audit log at LOG_PATH (rotated ones too; files pruned by
// retention are simply absent). Records that cannot be parsed are skipped: the chain's
// integrity is `execgate audit verify`'s, this only collects what the daemon recorded.
AuditedState audited_state(const std::string& log_path);

// The first state file the audit log says must exist and does not (tombstones/<id>.json,
// spent/<id>.json), with why; nullopt when the state agrees with the log.
std::optional<std::string> rewound_state(const StateSnapshot& state, const AuditedState& audited,
                                         const StateStore& store);

}  // namespace execgate
