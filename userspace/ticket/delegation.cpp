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
// The limits live in the body's `constraints` object; its fields are named with this prefix.
const std::string kConstraints = "constraints.";
const std::string kDelegateKey = "the delegate's Ed25519 public key: canonical base64 of 32 bytes";

void check_limits(const std::string& w, const DelegationBody& b) {
  const std::string& c = kConstraints;
  if (b.max_ttl < 1) fail_field(w, c + "max_ttl", "seconds >= 1 (the longest ticket validity it may issue)");
  if (b.max_subjects < 1 || b.max_subjects > kMaxSubjects)
    fail_field(w, c + "max_subjects", "1 to " + std::to_string(kMaxSubjects));
  if (b.max_depth >= kMaxDelegationDepth)
    fail_field(w, c + "max_depth", "0 to " + std::to_string(kMaxDelegationDepth - 1) + " further delegations");
}

// `delegate_key`, and `delegate` naming it by its key id: the contract names the delegate by
// key id, and the key travels beside it so that a chain verifies offline.
PublicKey read_delegate(const FieldReader& r) {
  const std::string text = r.string("delegate_key", 64);
  Bytes raw;
  try {
    raw = base64_decode(text);
  } catch (const Error&) {
    r.fail("delegate_key", kDelegateKey);
  }
  if (raw.size() != 32 || base64_encode(raw) != text) r.fail("delegate_key", kDelegateKey);
  PublicKey key;
  std::copy(raw.begin(), raw.end(), key.bytes.begin());
  if (r.string("delegate", 64) != key.key_id())
    r.fail("delegate", "the key id of delegate_key (" + key.key_id() + ")");
  return key;
}

}  // namespace

void validate_delegation_body(const DelegationBody& b) {
  const std::string& w = kDelegation;
  check_id_and_window(w, b.id, b.issued_at, b.not_before, b.not_after);
  check_limits(w, b);
  check_hosts(w, b.hosts, kConstraints);
  check_uids(w, b.uids, kConstraints);
  check_text(w, "purpose", b.purpose, kMaxTextBytes);
}

// Canonical as the ticket body's (body.cpp): sorted keys at both levels; `uids`,
// `require_job` and `may_mark_builders` omitted when empty or false.
std::string serialize_delegation_body(const DelegationBody& b) {
  validate_delegation_body(b);
  json c = json::object();
  c["max_ttl"] = b.max_ttl;
  c["hosts"] = b.hosts;
  if (!b.uids.empty()) c["uids"] = b.uids;
  if (b.require_job) c["require_job"] = true;
  if (b.may_mark_builders) c["may_mark_builders"] = true;
  c["max_subjects"] = b.max_subjects;
  c["max_depth"] = b.max_depth;
  json j = json::object();
  j["id"] = b.id;
  j["issued_at"] = b.issued_at;
  j["not_before"] = b.not_before;
  j["not_after"] = b.not_after;
  j["delegate"] = b.delegate.key_id();
  j["delegate_key"] = base64_encode(b.delegate.bytes);
  j["constraints"] = std::move(c);
  j["purpose"] = b.purpose;
  return j.dump();
}

DelegationBody parse_delegation_body(std::string_view text) {
  const std::string& w = kDelegation;
  json doc = parse_strict(text, w, 4);
  FieldReader r(doc, w);
  r.only({"id", "issued_at", "not_before", "not_after", "delegate", "delegate_key", "constraints", "purpose"});
  DelegationBody b;
  read_id_and_window(r, w, b.id, b.issued_at, b.not_before, b.not_after);
  b.delegate = read_delegate(r);
  const FieldReader c(r.get("constraints"), w, kConstraints);
  c.only({"max_ttl", "hosts", "uids", "require_job", "may_mark_builders", "max_subjects", "max_depth"});
  b.max_ttl = c.int64("max_ttl");
  b.hosts = read_hosts(c, w);
  b.uids = read_uids(c);
  b.require_job = c.boolean("require_job");
  b.may_mark_builders = c.boolean("may_mark_builders");
  const std::uint64_t subjects = c.uint64("max_subjects"), depth = c.uint64("max_depth");
  if (subjects > kMaxSubjects) c.fail("max_subjects", "1 to " + std::to_string(kMaxSubjects));
  if (depth >= kMaxDelegationDepth) c.fail("max_depth", "0 to " + std::to_string(kMaxDelegationDepth - 1));
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
