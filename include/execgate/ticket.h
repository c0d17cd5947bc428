// Execution tickets and revocations: body types, deterministic serialization, strict
// parsing, signing and verification. Format: docs/tickets.md.
//
// Typical daemon use:
//   VerifiedDocument d = verify_document(envelope_json, trusted_keys);  // signature
//   if (d.kind == VerifiedDocument::Kind::ticket) check_validity(*d.ticket, clock);  // time
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "execgate/clock.h"
#include "execgate/dsse.h"
#include "execgate/keys.h"
#include "execgate/sha256.h"
#include "execgate/ticket_errors.h"

namespace execgate {

inline constexpr std::string_view kTicketPayloadType = "application/vnd.execgate.ticket.v1+json";
inline constexpr std::string_view kRevocationPayloadType = "application/vnd.execgate.revocation.v1+json";
inline constexpr std::string_view kDelegationPayloadType = "application/vnd.execgate.delegation.v1+json";

// Limits enforced by the parsers (and by sign_* before signing).
inline constexpr std::size_t kMaxSubjects = 256;
inline constexpr std::size_t kMaxHosts = 256;
inline constexpr std::size_t kMaxUids = 256;
inline constexpr std::size_t kMaxRevoked = 1024;
inline constexpr std::size_t kMaxPathBytes = 4096;
inline constexpr std::size_t kMaxTextBytes = 1024;       // initiator, purpose, reason
inline constexpr std::size_t kMaxPolicyNameBytes = 128;  // policy
inline constexpr std::size_t kMaxDelegationDepth = 4;    // delegations in a ticket's chain
inline constexpr std::size_t kMaxJobIdBytes = 100;       // a job id (a cgroup directory's name)

// A job id as tickets and `execgate job` name it: 1..kMaxJobIdBytes of [A-Za-z0-9._-], the
// first alphanumeric (it names the job's cgroup directory, job.<id>).
bool valid_job_id(std::string_view id) noexcept;

struct Subject {
  std::array<std::uint8_t, 32> sha256{};
  std::optional<std::string> path;  // absolute
  bool operator==(const Subject&) const = default;
};

struct TicketBody {
  std::string id;  // 32 lower-case hex
  std::int64_t issued_at = 0, not_before = 0, not_after = 0;  // unix seconds
  std::vector<Subject> subjects;      // 1..kMaxSubjects
  std::vector<std::string> hosts;     // machine-ids (32 lower-case hex) or "*"
  std::vector<std::uint32_t> uids;    // empty = any uid
  std::uint64_t max_uses = 0;         // 0 = unlimited
  std::optional<std::string> parent;  // ticket id
  std::string initiator, purpose, policy;
  // Signed by a delegate: the delegation envelopes from a policy issuer's to the one that
  // names the ticket's signer (root first, 1..kMaxDelegationDepth); empty: signed by an issuer.
  std::vector<std::string> delegation;
  // Valid only in this job's cgroup on the host (docs/tickets.md "Jobs"): an opaque id,
  // 1..kMaxJobIdBytes of [A-Za-z0-9._-], first alphanumeric. Excludes max_uses.
  std::optional<std::string> job;
  bool builder = false;  // its subjects are builders: what they write in a job runs in that job
  bool operator==(const TicketBody&) const = default;
};

struct RevocationBody {
  std::string id;                    // 32 lower-case hex
  std::vector<std::string> revoked;  // ticket ids, 1..kMaxRevoked
  std::int64_t issued_at = 0;
  std::string reason;
  bool operator==(const RevocationBody&) const = default;
};

// A bounded right for another key to issue tickets (docs/tickets.md "Delegation"), signed
// by a policy issuer or, down a chain, by the delegate of the link before. A ticket under
// it must meet every link's limits. In the JSON the key is `delegate` (its key id) beside
// `delegate_key` (the key), and max_ttl .. max_depth are the members of `constraints`.
struct DelegationBody {
  std::string id;  // 32 lower-case hex (a revocation may name it)
  std::int64_t issued_at = 0, not_before = 0, not_after = 0;  // unix seconds
  PublicKey delegate;                 // the key it empowers
  // constraints
  std::int64_t max_ttl = 0;           // the longest ticket validity (not_after - not_before), >= 1 s
  std::vector<std::string> hosts;     // 1..kMaxHosts machine-ids or "*"
  std::vector<std::uint32_t> uids;    // empty = any uid
  bool require_job = false;           // its tickets must name a job
  bool may_mark_builders = false;     // its tickets may mark builders
  std::uint32_t max_subjects = kMaxSubjects;  // subjects per ticket, 1..kMaxSubjects
  std::uint32_t max_depth = 0;        // further delegations below it, 0..kMaxDelegationDepth-1
  std::string purpose;
  bool operator==(const DelegationBody&) const = default;
};

// 128 random bits as 32 lower-case hex digits.
std::string new_ticket_id();

// Deterministic (canonical) body JSON: see docs/tickets.md "Canonical serialization".
// Both validate first and throw MalformedError naming the field.
std::string serialize_ticket_body(const TicketBody& body);
std::string serialize_revocation_body(const RevocationBody& body);
std::string serialize_delegation_body(const DelegationBody& body);

// Strict body parsers (no signature involved). Throw MalformedError naming the field.
TicketBody parse_ticket_body(std::string_view json);
RevocationBody parse_revocation_body(std::string_view json);
DelegationBody parse_delegation_body(std::string_view json);
// Field validation used by the serializers and parsers.
void validate_ticket_body(const TicketBody& body);
void validate_revocation_body(const RevocationBody& body);
void validate_delegation_body(const DelegationBody& body);

// Envelope JSON (no trailing newline) signed with key.
std::string sign_ticket(const TicketBody& body, const SecretKey& key);
std::string sign_revocation(const RevocationBody& body, const SecretKey& key);
std::string sign_delegation(const DelegationBody& body, const SecretKey& key);
// Signs any payload bytes under any payload type (no validation): the primitive the two
// above use, also for tests and tools that must produce invalid documents.
std::string sign_envelope(std::string_view payload_type, std::string payload, const SecretKey& key);

// One verified link of a delegation chain.
struct DelegationLink {
  DelegationBody body;
  std::string signer_key_id;  // a policy issuer's (the first link), else the previous delegate's
  std::string envelope;
};

struct VerifiedDocument {
  enum class Kind { ticket, revocation } kind = Kind::ticket;
  std::optional<TicketBody> ticket;
  std::optional<RevocationBody> revocation;
  std::string key_id;         // key that signed it
  std::string envelope_json;  // the input, unchanged
  std::vector<DelegationLink> chain;  // a delegated ticket's, root first (verified)
  // The policy issuer's key the authorization comes from: the signer, or the chain's root.
  const std::string& issuer_key_id() const { return chain.empty() ? key_id : chain.front().signer_key_id; }
};

// Strict parse + signature check; does NOT check time (see check_validity).
//  1. envelope parse (<= 64 KiB, exact shape)              -> malformed
//  2. payloadType is the ticket or revocation type         -> malformed
//  3. signature keyid is the key id of a trusted key       -> untrusted_issuer
//  4. Ed25519 over PAE(payloadType, payload bytes)         -> bad_signature
//  5. body parse + validation                              -> malformed
// A ticket whose keyid is no trusted key's is a delegate's when its body carries a
// delegation chain: the body is parsed first (only to find the chain), the chain verified
// (verify_delegation_chain) back to a trusted key, then the ticket's signature with the last
// link's delegate (its keyid must name that key). A ticket a trusted key signed carries no
// chain (malformed). What the chain allows is
// admit_delegated's (userspace/ticket/refusal.h), not this function's.
// Throws VerificationError.
VerifiedDocument verify_document(std::string_view envelope_json, std::span<const PublicKey> trusted);

// A delegation chain (envelopes root first): the first signed by a trusted key, each next
// by the delegate of the one before, each body strict, and no link deeper than every link
// above it allows (max_depth). Throws VerificationError: malformed, untrusted_issuer,
// bad_signature, delegation_exceeded (depth).
std::vector<DelegationLink> verify_delegation_chain(std::span<const std::string> envelopes,
                                                    std::span<const PublicKey> trusted);
// A delegation envelope parsed strictly, its signature unchecked (inspect).
DelegationLink parse_delegation_unverified(std::string_view envelope_json);
// The ids of a ticket's delegations, root first (none: signed by an issuer). Throws
// MalformedError when one does not parse.
std::vector<std::string> delegation_ids(const TicketBody& ticket);

// Same parse as verify_document without any signature check, for `execgate inspect`.
// key_id is the (unverified) keyid the envelope claims.
VerifiedDocument parse_document_unverified(std::string_view envelope_json);

// A ticket is valid for not_before <= now < not_after. Throws VerificationError
// "not_yet_valid" / "expired".
void check_validity(const TicketBody& body, const Clock& clock);

}  // namespace execgate
