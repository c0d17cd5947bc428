// The fleet verbs' connection to etcd: the policy's [fleet] and the command line's overrides.
#include "fleet_connection.h"

#include "common/fs.h"
#include "execgate/error.h"
#include "ticket/trusted_issuers.h"

namespace execgate::cli::fleet_verbs {

namespace {

// The policy's rule for endpoints (docs/fleet.md "The policy's [fleet]"): https://, or
// http:// on a loopback address, so a password or a ticket never crosses a network in clear.
void require_endpoint(const std::string& e) {
  if (e.starts_with("https://") && e.size() > 8) return;
  if (e.starts_with("http://127.") || e.starts_with("http://[::1]") || e.starts_with("http://localhost:")) return;
  throw Error(ErrorKind::usage, "--endpoints: expected https://HOST:PORT (http:// only on a loopback address), got '" +
                                    printable(e) + "'");
}

std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string e = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (e.empty()) throw Error(ErrorKind::usage, "--endpoints: an empty endpoint in '" + printable(list) + "'");
    require_endpoint(e);
    out.push_back(e);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Overrides field with value when the option was given.
void override_with(std::string& field, const std::string& value) {
  if (!value.empty()) field = value;
}

}  // namespace

void add_connection_options(CLI::App& sub, ConnectionOptions& o) {
  sub.add_option("--config", o.config,
                 std::string("policy file whose [fleet] says how to reach etcd (default: ") + kDefaultConfigPath +
                     ", when it exists)");
  sub.add_option("--endpoints", o.endpoints, "etcd endpoints URL[,URL...] (overrides [fleet] endpoints)");
  sub.add_option("--prefix", o.prefix, "key prefix (overrides [fleet] prefix)");
  sub.add_option("--user", o.user, "etcd user (with --password-file)");
  sub.add_option("--password-file", o.password_file, "file whose first line is the etcd password");
  sub.add_option("--ca", o.ca, "CA bundle that verifies etcd's certificate");
  // --cert-key, not --key: --key is the signing key of every other verb (approve's too)
  sub.add_option("--cert", o.cert, "client certificate (with --cert-key)");
  sub.add_option("--cert-key", o.key, "the client certificate's key (with --cert)");
}

Connection open_connection(const ConnectionOptions& o) {
  Connection c;
  // The default file is optional (an operator's workstation may have none); one named on
  // the command line must load.
  c.config = o.config.empty() ? std::string(kDefaultConfigPath) : o.config;
  if (!o.config.empty() || path_exists(c.config)) c.policy = load_policy(c.config);
  FleetPolicy f;
  if (c.policy && c.policy->fleet) f = *c.policy->fleet;
  if (!o.endpoints.empty()) f.endpoints = split_endpoints(o.endpoints);
  if (f.endpoints.empty()) {
    const std::string why = !c.policy ? c.config + " does not exist" : c.config + " has no [fleet]";
    throw Error(ErrorKind::usage, "no etcd endpoints: give --endpoints URL[,URL...] or --config FILE with a [fleet] (" +
                                      why + ")");
  }
  if (!o.prefix.empty()) {
    if (o.prefix.size() < 2 || o.prefix.front() != '/' || o.prefix.back() == '/')
      throw Error(ErrorKind::usage, "--prefix: expected a key prefix such as /execgate (leading /, no trailing /), got '" +
                                        printable(o.prefix) + "'");
    f.prefix = o.prefix;
  }
  // A user on the command line replaces the policy's credentials as a whole.
  if (!o.user.empty() || !o.password_file.empty()) {
    f.user = o.user;
    f.password_file = o.password_file;
  }
  if (f.user.empty() != f.password_file.empty())
    throw Error(ErrorKind::usage, "--user and --password-file go together (etcd's user/password authentication)");
  override_with(f.ca, o.ca);
  if (!o.cert.empty() || !o.key.empty()) {
    f.cert = o.cert;
    f.key = o.key;
  }
  if (f.cert.empty() != f.key.empty())
    throw Error(ErrorKind::usage, "--cert and --cert-key go together (the client certificate)");

  c.etcd.endpoints = f.endpoints;
  c.etcd.user = f.user;
  if (!f.password_file.empty()) c.etcd.password = read_file_trimmed(f.password_file, 4096);
  c.etcd.ca_file = f.ca;
  c.etcd.cert_file = f.cert;
  c.etcd.key_file = f.key;
  c.layout.prefix = f.prefix;
  return c;
}

std::vector<PublicKey> require_issuer_keys(const Connection& c, const std::string& verb) {
  if (!c.policy)
    throw Error(ErrorKind::usage, verb + ": needs the trusted issuers of a policy: --config FILE (" + c.config +
                                      " does not exist)");
  if (c.policy->issuers.empty())
    throw Error(ErrorKind::usage, verb + ": " + c.config + " has no [[issuer]]: nothing to verify against");
  return issuer_keys(load_trusted_issuers(*c.policy));
}

}  // namespace execgate::cli::fleet_verbs
