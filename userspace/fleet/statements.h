// The fleet's signed statements (docs/fleet.md "Statements"), DSSE envelopes like tickets:
//   an acknowledgement: a host says what it has applied (signed with its audit key);
//   a host approval: an operator's issuer key binds a host's machine id to its audit key,
//     so that a key written to etcd by anyone else is never counted.
// Strict like the ticket bodies: unknown fields, wrong types and bad signatures throw
// VerificationError (malformed, bad_signature) naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "execgate/keys.h"

namespace execgate::fleet {

inline constexpr std::string_view kAckPayloadType = "application/vnd.execgate.fleet-ack.v1+json";
inline constexpr std::string_view kHostPayloadType = "application/vnd.execgate.fleet-host.v1+json";

// What a host has applied: the etcd revision it has seen everything up to, the digest and
// counts of its installed tickets (TicketBook::installed_digest), its audit head, whether
// it holds the fleet silent, and when it said so.
struct FleetAck {
  std::string host;             // machine id (32 lower-case hex)
  std::int64_t revision = 0;    // etcd revision applied
  std::string digest;           // sha256 hex of the installed set
  std::int64_t tickets = 0;     // installed tickets
  std::int64_t fleet_tickets = 0;  // ... of them from the fleet
  std::int64_t audit_seq = 0;   // audit log head
  std::string audit_head;       // its hash
  bool silent = false;
  std::int64_t time = 0;        // unix seconds
  bool operator==(const FleetAck&) const = default;
};

// A host's audit key approved by an operator: `key` the host's NAME.pub text.
struct HostApproval {
  std::string host;
  std::string key;   // the host's audit public key file text
  std::string key_id;
  std::int64_t approved_at = 0;
  bool operator==(const HostApproval&) const = default;
};

std::string sign_ack(const FleetAck& ack, const SecretKey& key);
// The ack in ENVELOPE, verified against the host's key. Throws VerificationError.
FleetAck verify_ack(std::string_view envelope, const PublicKey& host_key);

std::string sign_host_approval(const HostApproval& a, const SecretKey& operator_key);
// The approval verified against any of the operator keys; *signer set to the key id.
HostApproval verify_host_approval(std::string_view envelope, const std::vector<PublicKey>& operator_keys,
                                  std::string* signer = nullptr);

// A machine id as systemd writes it: 32 lower-case hex digits.
bool valid_machine_id(std::string_view id);

}  // namespace execgate::fleet
