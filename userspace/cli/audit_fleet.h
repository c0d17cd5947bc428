// Internal to the CLI: `execgate audit verify --fleet` (docs/fleet.md "Published
// checkpoints"): the checkpoints a host published to etcd become heads its local log must
// hold, so a log rewritten or cut back by root on the host, with the key that sits there,
// no longer verifies.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "execgate/audit.h"
#include "execgate/keys.h"
#include "fleet_connection.h"

namespace execgate::cli::fleet_verbs {

struct PublishedHeads {
  std::string host;
  PublicKey key;             // the host's approved audit key
  std::string approved_by;   // the issuer key id of the approval
  std::size_t checkpoints = 0;
  std::uint64_t first_seq = 0, last_seq = 0;  // of the published checkpoints
  std::map<std::uint64_t, AuditVerifyOptions::ExpectedHead> heads;  // seq -> hash
};

// Reads hosts/HOST/checkpoints/ and verifies every value against HOST's approved key (the
// --config policy's issuers approve it). Throws Error(verification) when the host is not
// approved or a published value does not verify, Error(not_found) when it published none.
PublishedHeads published_heads(const ConnectionOptions& conn, const std::string& host);

}  // namespace execgate::cli::fleet_verbs
