// Delegation bodies (validation, canonical serialization, strict parsing), their
// envelopes, and the verification of a chain of them (docs/tickets.md "Delegation").
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/dsse.h"
#include "execgate/keys.h"
#include "execgate/ticket.h"
#include "field_checks.h"
#include "strict_json.h"

namespace execgate {

using nlohmann::json;
using namespace ticket_detail;

namespace {

const std::string kDelegation = "delegation body";

void check_limits(const std::string& w, const DelegationBody& b) {
  if (b.max_ttl < 1) fail_field(w, "max_ttl", "seconds >= 1 (the longest ticket validity it may issue)");
  if (b.max_subjects < 1 || b.max_subjects > kMaxSubjects)
    fail_field(w, "max_subjects", "1 to " + std::to_string(kMaxSubjects));
  if (b.max_depth >= kMaxDelegationDepth)
    fail_field(w, "max_depth", "0 to " + std::to_string(kMaxDelegationDepth - 1) + " further delegations");
}

bool boolean(const FieldReader& r, const char* key) {
  if (!r.has(key)) return false;
  const json& v = r.get(key);
  if (!v.is_boolean()) r.fail(key, "true or false");
  return v.get<bool>();
}

}  // namespace

void validate_delegation_body(const DelegationBody& b) {
  const std::string& w = kDelegation;
  check_id_and_window(w, b.id, b.issued_at, b.not_before, b.not_after);
  check_limits(w, b);
  check_hosts(w, b.hosts);
  check_uids(w, b.uids);
  check_text(w, "purpose", b.purpose, kMaxTextBytes);
}

std::string serialize_delegation_body(const DelegationBody& b) {
  validate_delegation_body(b);
  json j = json::object();
  j["id"] = b.id;
  j["issued_at"] = b.issued_at;
  j["not_before"] = b.not_before;
  j["not_after"] = b.not_after;
  j["delegate"] = base64_encode(b.delegate.bytes);
  j["max_ttl"] = b.max_ttl;
  j["hosts"] = b.hosts;
  if (!b.uids.empty()) j["uids"] = b.uids;
  if (b.require_job) j["require_job"] = true;
  if (b.builders) j["builders"] = true;
  j["max_subjects"] = b.max_subjects;
  j["max_depth"] = b.max_depth;
  j["purpose"] = b.purpose;
  return j.dump();
}

DelegationBody parse_delegation_body(std::string_view text) {
  const std::string& w = kDelegation;
  json doc = parse_strict(text, w, 4);
  FieldReader r(doc, w);
  r.only({"id", "issued_at", "not_before", "not_after", "delegate", "max_ttl", "hosts", "uids", "require_job",
          "builders", "max_subjects", "max_depth", "purpose"});
  DelegationBody b;
  read_id_and_window(r, w, b.id, b.issued_at, b.not_before, b.not_after);
  const std::string delegate = r.string("delegate", 64);
  Bytes raw;
  try {
    raw = base64_decode(delegate);
  } catch (const Error&) {
    r.fail("delegate", "the delegate's Ed25519 public key: canonical base64 of 32 bytes");
  }
  if (raw.size() != 32 || base64_encode(raw) != delegate)
    r.fail("delegate", "the delegate's Ed25519 public key: canonical base64 of 32 bytes");
  std::copy(raw.begin(), raw.end(), b.delegate.bytes.begin());
  b.max_ttl = r.int64("max_ttl");
  b.hosts = read_hosts(r, w);
  b.uids = read_uids(r, w);
  b.require_job = boolean(r, "require_job");
  b.builders = boolean(r, "builders");
  const std::uint64_t subjects = r.uint64("max_subjects"), depth = r.uint64("max_depth");
  if (subjects > kMaxSubjects) r.fail("max_subjects", "1 to " + std::to_string(kMaxSubjects));
  if (depth >= kMaxDelegationDepth) r.fail("max_depth", "0 to " + std::to_string(kMaxDelegationDepth - 1));
  b.max_subjects = static_cast<std::uint32_t>(subjects);
  b.max_depth = static_cast<std::uint32_t>(depth);
  check_limits(w, b);
  if (r.has("purpose")) b.purpose = r.string("purpose", kMaxTextBytes);
  return b;
}

std::string sign_delegation(const DelegationBody& body, const SecretKey& key) {
  return sign_envelope(kDelegationPayloadType, serialize_delegation_body(body), key);
}

namespace {

dsse::Envelope delegation_envelope(std::string_view text, std::size_t i) {
  const dsse::Envelope env = dsse::decode(text);
  if (env.payload_type != kDelegationPayloadType)
    throw MalformedError("delegation[" + std::to_string(i) + "]: field 'payloadType': expected \"" +
                         std::string(kDelegationPayloadType) + "\"");
  return env;
}

}  // namespace

DelegationLink parse_delegation_unverified(std::string_view envelope_json) {
  const dsse::Envelope env = delegation_envelope(envelope_json, 0);
  return DelegationLink{parse_delegation_body(env.payload), env.keyid, std::string(envelope_json)};
}

std::vector<std::string> delegation_ids(const TicketBody& ticket) {
  std::vector<std::string> ids;
  for (const auto& envelope : ticket.delegation) ids.push_back(parse_delegation_unverified(envelope).body.id);
  return ids;
}

std::vector<DelegationLink> verify_delegation_chain(std::span<const std::string> envelopes,
                                                    std::span<const PublicKey> trusted) {
  if (envelopes.empty() || envelopes.size() > kMaxDelegationDepth)
    throw MalformedError("delegation: expected a chain of 1 to " + std::to_string(kMaxDelegationDepth) +
                         " delegations");
  std::vector<DelegationLink> chain;
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    const std::string at = "delegation[" + std::to_string(i) + "]";
    const dsse::Envelope env = delegation_envelope(envelopes[i], i);
    const PublicKey* signer = nullptr;
    if (i == 0) {
      for (const auto& k : trusted)
        if (k.key_id() == env.keyid) signer = &k;
      if (!signer)
        throw VerificationError(RefusalReason::untrusted_issuer,
                                at + ": signed by key " + env.keyid + ", which is not a trusted issuer key");
    } else {
      signer = &chain.back().body.delegate;
      if (signer->key_id() != env.keyid)
        throw VerificationError(RefusalReason::bad_signature, at + ": signed by key " + env.keyid +
                                                                  ", not by the delegate of delegation[" +
                                                                  std::to_string(i - 1) + "] (" + signer->key_id() + ")");
    }
    if (!verify_detached(as_bytes(dsse::pae(env.payload_type, env.payload)), env.sig, *signer))
      throw VerificationError(RefusalReason::bad_signature, at + ": Ed25519 signature does not verify with key " +
                                                                env.keyid);
    DelegationLink link{parse_delegation_body(env.payload), env.keyid, envelopes[i]};
    // every link above must allow this depth: link j permits max_depth further levels
    for (std::size_t j = 0; j < i; ++j)
      if (chain[j].body.max_depth < i - j)
        throw VerificationError(RefusalReason::delegation_exceeded,
                                at + ": delegation " + chain[j].body.id + " allows " +
                                    std::to_string(chain[j].body.max_depth) + " further delegation(s), this is " +
                                    std::to_string(i - j));
    chain.push_back(std::move(link));
  }
  return chain;
}

}  // namespace execgate
