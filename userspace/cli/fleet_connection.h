// Internal to the CLI: how the `execgate fleet` verbs reach etcd. A policy file's [fleet]
// (--config) gives the endpoints, prefix, credentials and TLS files; each may be
// overridden on the command line, and --endpoints alone is enough without a policy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "execgate/keys.h"
#include "execgate/policy.h"
#include "fleet/etcd_client.h"
#include "fleet/layout.h"

namespace execgate::cli::fleet_verbs {

// The options every fleet verb takes, as given.
struct ConnectionOptions {
  std::string config;     // --config; empty: kDefaultConfigPath if it exists
  std::string endpoints;      // "URL,URL"
  std::string prefix, user, password_file, ca, cert, key;
};

// Registers --config, --endpoints, --prefix, --user, --password-file, --ca, --cert, --cert-key.
void add_connection_options(CLI::App& sub, ConnectionOptions& o);

// What a verb works with: the policy (when --config, or the default file, could be read),
// the etcd client's options and the key layout.
struct Connection {
  std::optional<Policy> policy;
  std::string config;  // the file the policy came from (for messages)
  fleet::EtcdOptions etcd;
  fleet::FleetLayout layout;
};

// Loads the policy and merges the overrides. Throws Error(usage) naming what is missing
// (no endpoints from either source, a user without a password file, a cert without a key),
// or the policy's own error when --config was given and does not load.
Connection open_connection(const ConnectionOptions& o);

// The keys of the policy's [[issuer]]s; Error(usage) when there is no policy or no issuer
// (VERB names the verb that needs them).
std::vector<PublicKey> require_issuer_keys(const Connection& c, const std::string& verb);

}  // namespace execgate::cli::fleet_verbs
