// The policy's issuers with their public keys loaded: whom a ticket's signature may come
// from (the daemon's authority, `execgate policy simulate`).
#pragma once

#include <string>
#include <vector>

#include "execgate/keys.h"
#include "execgate/policy.h"

namespace execgate {

struct TrustedIssuer {
  IssuerPolicy policy;
  PublicKey key;
};

// Loads each [[issuer]]'s public key, in the policy's order; throws (the key file's error
// kind) naming the issuer and the file.
std::vector<TrustedIssuer> load_trusted_issuers(const Policy& policy);

// The keys, in the same order (what verify_document takes).
std::vector<PublicKey> issuer_keys(const std::vector<TrustedIssuer>& issuers);

// The issuer whose key has this id, nullptr when none.
const TrustedIssuer* find_issuer(const std::vector<TrustedIssuer>& issuers, const std::string& key_id);

}  // namespace execgate
