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
  // A ticket signed by a key that is no issuer's may be a delegate's: its chain, inside the
  // body, is read first (strictly, and only for that), verified back to a trusted key, and
  // gives the key the ticket must be signed with.
  std::vector<DelegationLink> chain;
  if (!key && kind == VerifiedDocument::Kind::ticket) {
    std::vector<std::string> links;
    try {
      links = parse_ticket_body(env.payload).delegation;
    } catch (const VerificationError&) {
      // unreadable: refused below as signed by no trusted key
    }
    if (!links.empty()) {
      chain = verify_delegation_chain(links, trusted);
      key = &chain.back().body.delegate;
      if (key->key_id() != env.keyid)
        throw VerificationError(RefusalReason::bad_signature, "the ticket is signed by key " + env.keyid +
                                                                  ", not by the delegate of its last delegation (" +
                                                                  key->key_id() + ")");
    }
  }
  if (!key)
    throw VerificationError(RefusalReason::untrusted_issuer, "key id " + env.keyid + " is not a trusted issuer key");
  // The signature covers PAE(payloadType, exact decoded payload bytes); nothing is
  // re-serialized before this check.
  if (!verify_detached(as_bytes(dsse::pae(env.payload_type, env.payload)), env.sig, *key))
    throw VerificationError(RefusalReason::bad_signature, "Ed25519 signature does not verify with key " + env.keyid);
  VerifiedDocument d = finish(env, kind, envelope_json);
  if (chain.empty() && d.ticket && !d.ticket->delegation.empty())
    throw MalformedError("ticket body: field 'delegation': signed by issuer key " + env.keyid +
                         ", which needs no delegation (only a delegate's ticket carries one)");
  d.chain = std::move(chain);
  return d;
}

VerifiedDocument parse_document_unverified(std::string_view envelope_json) {
  const dsse::Envelope env = dsse::decode(envelope_json);
  VerifiedDocument d = finish(env, kind_of(env.payload_type), envelope_json);
  if (d.ticket)
    for (const auto& link : d.ticket->delegation) d.chain.push_back(parse_delegation_unverified(link));
  return d;
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
