// Signing and verification of ticket / revocation envelopes.
#include <sodium.h>

#include "execgate/dsse.h"
#include "common/encoding.h"
#include "execgate/ticket.h"

namespace execgate {

namespace {

VerifiedDocument::Kind kind_of(const std::string& payload_type) {
  if (payload_type == kTicketPayloadType) return VerifiedDocument::Kind::ticket;
  if (payload_type == kRevocationPayloadType) return VerifiedDocument::Kind::revocation;
  throw MalformedError("envelope: field 'payloadType': expected \"" + std::string(kTicketPayloadType) + "\" or \"" +
                       std::string(kRevocationPayloadType) + "\"");
}

VerifiedDocument finish(const dsse::Envelope& env, VerifiedDocument::Kind kind, std::string_view envelope_json) {
  VerifiedDocument d;
  d.kind = kind;
  d.key_id = env.keyid;
  if (kind == VerifiedDocument::Kind::ticket)
    d.ticket = parse_ticket_body(env.payload);
  else
    d.revocation = parse_revocation_body(env.payload);
  d.envelope_json = std::string(envelope_json);
  return d;
}

}  // namespace

std::string sign_envelope(std::string_view payload_type, std::string payload, const SecretKey& key) {
  dsse::Envelope env;
  env.payload_type = std::string(payload_type);
  env.payload = std::move(payload);
  env.keyid = key.key_id();
  env.sig = sign_detached(as_bytes(dsse::pae(env.payload_type, env.payload)), key);
  return dsse::encode(env);
}

std::string sign_ticket(const TicketBody& body, const SecretKey& key) {
  return sign_envelope(kTicketPayloadType, serialize_ticket_body(body), key);
}

std::string sign_revocation(const RevocationBody& body, const SecretKey& key) {
  return sign_envelope(kRevocationPayloadType, serialize_revocation_body(body), key);
}

VerifiedDocument verify_document(std::string_view envelope_json, std::span<const PublicKey> trusted) {
  const dsse::Envelope env = dsse::decode(envelope_json);
  const auto kind = kind_of(env.payload_type);
  const PublicKey* key = nullptr;
  for (const auto& k : trusted)
    if (k.key_id() == env.keyid) {
      key = &k;
      break;
    }
  if (!key)
    throw VerificationError(RefusalReason::untrusted_issuer, "key id " + env.keyid + " is not a trusted issuer key");
  // The signature covers PAE(payloadType, exact decoded payload bytes); nothing is
  // re-serialized before this check.
  if (!verify_detached(as_bytes(dsse::pae(env.payload_type, env.payload)), env.sig, *key))
    throw VerificationError(RefusalReason::bad_signature, "Ed25519 signature does not verify with key " + env.keyid);
  return finish(env, kind, envelope_json);
}

VerifiedDocument parse_document_unverified(std::string_view envelope_json) {
  const dsse::Envelope env = dsse::decode(envelope_json);
  return finish(env, kind_of(env.payload_type), envelope_json);
}

void check_validity(const TicketBody& body, const Clock& clock) {
  const UnixSeconds now = clock.now();
  if (now < body.not_before)
    throw VerificationError(RefusalReason::not_yet_valid, "ticket " + body.id + " is valid from " +
                                                              std::to_string(body.not_before) + ", now is " +
                                                              std::to_string(now));
  if (now >= body.not_after)
    throw VerificationError(RefusalReason::expired, "ticket " + body.id + " expired at " +
                                                        std::to_string(body.not_after) + ", now is " +
                                                        std::to_string(now));
}

}  // namespace execgate
