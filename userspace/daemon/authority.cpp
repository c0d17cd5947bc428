#include "authority.h"

#include "common/encoding.h"
#include "common/fs.h"

namespace execgate {

std::string envelope_digest(const std::string& envelope_json) {
  auto d = sha256_bytes(as_bytes(envelope_json));
  return hex_encode(d);
}

std::string read_machine_id(const std::string& path) {
  std::string s = read_file(path, 4096);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (!is_lower_hex(s, 32)) throw Error(ErrorKind::validation, path + ": expected 32 lower-case hex digits");
  return s;
}

std::vector<TrustedIssuer> Authority::load_issuers(const Policy& policy) {
  std::vector<TrustedIssuer> out;
  for (const auto& ip : policy.issuers) {
    try {
      out.push_back(TrustedIssuer{ip, load_public_key(ip.pubkey)});
    } catch (const Error& e) {
      throw Error(e.kind(), "issuer \"" + ip.name + "\": " + e.what());
    }
  }
  return out;
}

const TrustedIssuer* Authority::issuer_for(const std::string& key_id) const {
  for (const auto& i : issuers_)
    if (i.key.key_id() == key_id) return &i;
  return nullptr;
}

std::optional<Refusal> Authority::check_ticket(const TicketBody& t, const TrustedIssuer& issuer) const {
  bool host_ok = false;
  for (const auto& h : t.hosts) {
    if (h == machine_id_) host_ok = true;
    if (h == "*") {
      if (!issuer.policy.allow_any_host)
        return Refusal{RefusalReason::wrong_host, "hosts has \"*\" but issuer \"" + issuer.policy.name + "\" does not allow_any_host"};
      host_ok = true;
    }
  }
  if (!host_ok) return Refusal{RefusalReason::wrong_host, "hosts does not include this machine-id " + machine_id_};
  if (issuer.policy.max_ttl > 0 && t.not_after - t.not_before > issuer.policy.max_ttl)
    return Refusal{RefusalReason::ttl_too_long, "validity " + std::to_string(t.not_after - t.not_before) + " s exceeds issuer \"" +
                                       issuer.policy.name + "\" max_ttl " + std::to_string(issuer.policy.max_ttl) + " s"};
  // A ticket that is not valid yet is installed: the kernel denies it (not_yet_valid)
  // until not_before. One that has already expired is refused.
  if (clock_.now() >= t.not_after)
    return Refusal{RefusalReason::expired, "ticket " + t.id + " expired at " + std::to_string(t.not_after)};
  for (const auto& s : t.subjects)
    if (!s.path) return Refusal{RefusalReason::malformed, "subject " + hex_encode(s.sha256) + " has no path: the daemon installs tickets by path"};
  return std::nullopt;
}

Judgement Authority::judge(const std::string& envelope_json, const StateSnapshot& state) const {
  Judgement j;
  std::vector<PublicKey> keys;
  for (const auto& i : issuers_) keys.push_back(i.key);
  try {
    j.doc = verify_document(envelope_json, keys);
  } catch (const VerificationError& e) {
    j.refusal = Refusal{refusal_reason(e.reason()), e.what()};
    return j;
  } catch (const Error& e) {
    j.refusal = Refusal{RefusalReason::malformed, e.what()};
    return j;
  }
  j.issuer = issuer_for(j.doc.key_id);
  if (!j.issuer) {
    j.refusal = Refusal{RefusalReason::untrusted_issuer, "key id " + j.doc.key_id + " is not a trusted issuer"};
    return j;
  }
  if (j.doc.kind == VerifiedDocument::Kind::revocation) return j;

  const TicketBody& t = *j.doc.ticket;
  if (state.tombstones.count(t.id)) {
    j.refusal = Refusal{RefusalReason::revoked, "ticket " + t.id + " was revoked by " + state.tombstones.at(t.id)};
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
  j.refusal = check_ticket(t, *j.issuer);
  return j;
}

std::optional<Refusal> Authority::recheck(const std::string& envelope_json) const {
  std::vector<PublicKey> keys;
  for (const auto& i : issuers_) keys.push_back(i.key);
  try {
    verify_document(envelope_json, keys);
  } catch (const VerificationError& e) {
    return Refusal{refusal_reason(e.reason()), e.what()};
  }
  return std::nullopt;
}

}  // namespace execgate
