#include "fleet/statements.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "common/encoding.h"
#include "execgate/dsse.h"
#include "execgate/ticket.h"
#include "execgate/ticket_errors.h"
#include "ticket/strict_json.h"

namespace execgate::fleet {

namespace {

using nlohmann::json;
using ticket_detail::FieldReader;

constexpr std::size_t kMaxField = 4096;

bool lower_hex(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The envelope's payload, after its type and signature were checked against KEYS.
std::string verified_payload(std::string_view envelope, std::string_view type, const std::vector<PublicKey>& keys,
                             std::string* signer) {
  const dsse::Envelope env = dsse::decode(envelope);
  if (env.payload_type != type)
    throw MalformedError("payloadType: expected " + std::string(type) + ", got " + env.payload_type);
  for (const auto& k : keys) {
    if (k.key_id() != env.keyid) continue;
    const std::string m = dsse::pae(env.payload_type, env.payload);
    if (!verify_detached(as_bytes(m), env.sig, k))
      throw VerificationError(RefusalReason::bad_signature, "the signature of key " + env.keyid + " does not verify");
    if (signer) *signer = env.keyid;
    return env.payload;
  }
  throw VerificationError(RefusalReason::untrusted_issuer, "signed by key " + env.keyid + ", not a key it may be");
}

}  // namespace

bool valid_machine_id(std::string_view id) { return lower_hex(id, 32); }

std::string sign_ack(const FleetAck& a, const SecretKey& key) {
  const json body{{"host", a.host},         {"revision", a.revision},   {"digest", a.digest},
                  {"tickets", a.tickets},   {"fleet_tickets", a.fleet_tickets},
                  {"audit_seq", a.audit_seq}, {"audit_head", a.audit_head}, {"silent", a.silent},
                  {"time", a.time}};
  return sign_envelope(kAckPayloadType, body.dump(), key);
}

FleetAck verify_ack(std::string_view envelope, const PublicKey& host_key) {
  const std::string payload = verified_payload(envelope, kAckPayloadType, {host_key}, nullptr);
  const json j = ticket_detail::parse_strict(payload, "ack", 4);
  FieldReader r(j, "ack");
  r.only({"host", "revision", "digest", "tickets", "fleet_tickets", "audit_seq", "audit_head", "silent", "time"});
  FleetAck a;
  a.host = r.string("host", 32);
  if (!valid_machine_id(a.host)) r.fail("host", "a machine id (32 lower-case hex digits)");
  a.revision = r.int64("revision");
  a.digest = r.string("digest", 64);
  if (!lower_hex(a.digest, 64)) r.fail("digest", "a sha256 (64 lower-case hex digits)");
  a.tickets = r.int64("tickets");
  a.fleet_tickets = r.int64("fleet_tickets");
  a.audit_seq = r.int64("audit_seq");
  a.audit_head = r.string("audit_head", kMaxField);
  if (!r.get("silent").is_boolean()) r.fail("silent", "true or false");
  a.silent = r.get("silent").get<bool>();
  a.time = r.int64("time");
  if (a.revision < 0 || a.tickets < 0 || a.fleet_tickets < 0 || a.fleet_tickets > a.tickets || a.audit_seq < 0)
    throw MalformedError("ack: counts and revision must be >= 0, fleet_tickets <= tickets");
  return a;
}

std::string sign_host_approval(const HostApproval& a, const SecretKey& operator_key) {
  const json body{{"host", a.host}, {"key", a.key}, {"key_id", a.key_id}, {"approved_at", a.approved_at}};
  return sign_envelope(kHostPayloadType, body.dump(), operator_key);
}

HostApproval verify_host_approval(std::string_view envelope, const std::vector<PublicKey>& operator_keys,
                                  std::string* signer) {
  const std::string payload = verified_payload(envelope, kHostPayloadType, operator_keys, signer);
  const json j = ticket_detail::parse_strict(payload, "host approval", 4);
  FieldReader r(j, "host approval");
  r.only({"host", "key", "key_id", "approved_at"});
  HostApproval a;
  a.host = r.string("host", 32);
  if (!valid_machine_id(a.host)) r.fail("host", "a machine id (32 lower-case hex digits)");
  a.key = r.string("key", kMaxField);
  a.key_id = r.string("key_id", 16);
  a.approved_at = r.int64("approved_at");
  const PublicKey k = parse_public_key_file(a.key, "host approval key");
  if (k.key_id() != a.key_id) r.fail("key_id", "the id of its key (" + k.key_id() + ")");
  return a;
}

}  // namespace execgate::fleet
