// The state directory checked against the audit log: what the hash-chained, append-only log
// records the daemon did to its state must still be there. A revocation or a spent ticket
// the log records whose tombstone or spent record is missing means the state directory was
// rewound (restored from an older copy, or files removed): the daemon refuses to start,
// naming the file, rather than install a revoked or used-up ticket again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "metrics.h"
#include "state_seal.h"
#include "state_store.h"

namespace execgate {

// A ticket's uses as the audit log records them (`tickets --hits`).
struct AuditedHits {
  std::uint64_t count = 0;        // allowed `exec` records naming it (reason ticket) after installed_at
  std::int64_t installed_at = 0;  // time of its last ticket_installed record; 0: not in the log (pruned)
};

// A state key the log names: the last daemon_start record's `state_key`.
struct AuditedStateKey {
  std::string id;
  std::uint64_t seq = 0;
};

// What the log records of the state, after its last state_reset record (a purge).
struct AuditedState {
  std::map<std::string, std::uint64_t> revoked;  // ticket id -> seq of its ticket_revoked record
  std::map<std::string, std::uint64_t> spent;    // ticket id -> seq of the record that spent it
  std::map<std::string, AuditedHits> hits;       // ticket id -> its uses
  std::set<std::string> installed;               // ids of every ticket_installed record
  std::optional<AuditedStateKey> state_key;
  std::int64_t first_time = 0;                   // the oldest record's time (unix seconds); 0: empty log
};

// Reads every file of the audit log at LOG_PATH (rotated ones too; files pruned by
// retention are simply absent). Records that cannot be parsed are skipped: the chain's
// integrity is `execgate audit verify`'s, this only collects what the daemon recorded:
// the state changes, and the uses of each ticket (a substring test per exec record: the
// log's canonical form puts each member exactly one way, and no string value can hold an
// unescaped quote).
AuditedState audited_state(const std::string& log_path);

// The first state file the audit log says must exist and does not (tombstones/<id>.json,
// spent/<id>.json), with why; nullopt when the state agrees with the log.
std::optional<std::string> rewound_state(const StateSnapshot& state, const AuditedState& audited,
                                         const StateStore& store);

// The marker the package's purge leaves beside the audit log (its directory outlives the
// state directory, and the scope cannot create names in it): the next start appends a
// state_reset record and removes it.
std::string state_reset_marker(const std::string& log_path);

// The state directory's seal key (<state-dir>/state.key), checked against the key the log
// names: the same key, or none named and the file absent (first start, or a state
// directory from before seals: a new key is created, *CREATED set). A missing key the log
// names, or another key, means the directory was swapped: Error(validation) naming the file.
StateSeal open_state_seal(const StateStore& store, const AuditedState& audited, bool* created);

// Marks every installed record this host's execgated did not write (`unrecognised`): no
// seal, or one that does not verify. When the key was CREATED now, an unsealed record is
// this daemon's own from before seals if the log records its ticket_installed: it is kept
// and sealed.
void authenticate_installed(StateSnapshot& state, const AuditedState& audited, StateStore& store,
                            const StateSeal& seal, bool created);

// The uses of each installed ticket at start: counted in the log after its last
// ticket_installed record (since = that record's time), or over the whole log when that
// record is in a file retention removed (since = the later of the state record's
// installed_at and the log's first record).
std::map<std::string, TicketHits> hits_at_start(const StateSnapshot& state, const AuditedState& audited);

}  // namespace execgate
