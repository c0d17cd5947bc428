#include "authority.h"

#include "common/encoding.h"
#include "common/fs.h"

namespace execgate {

std::string envelope_digest(const std::string& envelope_json) {
  auto d = sha256_bytes(as_bytes(envelope_json));
  return hex_encode(d);
}

const TrustedIssuer* Authority::issuer_for(const std::string& key_id) const { return find_issuer(issuers_, key_id); }

Judgement Authority::judge(const std::string& envelope_json, const StateSnapshot& state) const {
  Judgement j;
  const std::vector<PublicKey> keys = issuer_keys(issuers_);
  try {
    j.doc = verify_document(envelope_json, keys);
  } catch (const VerificationError& e) {
    j.refusal = Refusal{e.refusal(), e.what()};
    return j;
  } catch (const Error& e) {
    j.refusal = Refusal{RefusalReason::malformed, e.what()};
    return j;
  }
  j.issuer = issuer_for(j.doc.issuer_key_id());
  if (!j.issuer) {
    j.refusal = Refusal{RefusalReason::untrusted_issuer, "key id " + j.doc.issuer_key_id() + " is not a trusted issuer"};
    return j;
  }
  if (j.doc.kind == VerifiedDocument::Kind::revocation) return j;

  const TicketBody& t = *j.doc.ticket;
  if (state.tombstones.count(t.id)) {
    j.refusal = Refusal{RefusalReason::revoked, "ticket " + t.id + " was revoked by " + state.tombstones.at(t.id)};
    return j;
  }
  for (const auto& link : j.doc.chain)
    if (auto tomb = state.tombstones.find(link.body.id); tomb != state.tombstones.end()) {
      j.refusal = Refusal{RefusalReason::delegation_revoked,
                          "delegation " + link.body.id + " of ticket " + t.id + " was revoked by " + tomb->second};
      return j;
    }
  if (auto it = state.spent.find(t.id); it != state.spent.end()) {
    j.refusal = Refusal{RefusalReason::replay, "ticket " + t.id + " was already used up"};
    return j;
  }
  if (auto it = state.installed.find(t.id); it != state.installed.end()) {
    if (envelope_digest(it->second.envelope) != envelope_digest(envelope_json)) {
      j.refusal = Refusal{RefusalReason::replay, "a different ticket with id " + t.id + " is installed"};
      return j;
    }
    j.already_installed = true;
    return j;
  }
  j.refusal = admit_ticket(t, j.issuer->policy, machine_id_, clock_.now());
  if (!j.refusal && !j.doc.chain.empty()) j.refusal = admit_delegated(t, j.doc.chain, clock_.now());
  return j;
}

std::optional<Refusal> Authority::recheck(const std::string& envelope_json) const {
  const std::vector<PublicKey> keys = issuer_keys(issuers_);
  try {
    verify_document(envelope_json, keys);
  } catch (const VerificationError& e) {
    return Refusal{e.refusal(), e.what()};
  }
  return std::nullopt;
}

}  // namespace execgate
