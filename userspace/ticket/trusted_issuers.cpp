#include "ticket/trusted_issuers.h"

#include "execgate/error.h"

namespace execgate {

std::vector<TrustedIssuer> load_trusted_issuers(const Policy& policy) {
  std::vector<TrustedIssuer> out;
  for (const auto& ip : policy.issuers) {
    try {
      out.push_back(TrustedIssuer{ip, load_public_key(ip.pubkey)});
    } catch (const Error& e) {
      throw Error(e.kind(), "[[issuer]] \"" + ip.name + "\" pubkey: " + e.what());
    }
  }
  return out;
}

std::vector<PublicKey> issuer_keys(const std::vector<TrustedIssuer>& issuers) {
  std::vector<PublicKey> keys;
  keys.reserve(issuers.size());
  for (const auto& i : issuers) keys.push_back(i.key);
  return keys;
}

const TrustedIssuer* find_issuer(const std::vector<TrustedIssuer>& issuers, const std::string& key_id) {
  for (const auto& i : issuers)
    if (i.key.key_id() == key_id) return &i;
  return nullptr;
}

}  // namespace execgate
