// execgate fleet enroll / approve / publish: a host offers its audit key, an operator
// approves it, and signed tickets and revocations go to etcd (docs/fleet.md "Operator
// verbs"). etcd is transport: what is written is signed, and verified before it is.
#include "fleet_verbs.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "execgate/clock.h"
#include "execgate/dsse.h"
#include "execgate/error.h"
#include "execgate/ticket.h"
#include "execgate/ticket_errors.h"
#include "fleet/statements.h"
#include "ticket/refusal.h"
#include "ticket/trusted_issuers.h"

namespace execgate::cli {

void add_fleet_verbs(CLI::App& app, Cli& cli) {
  auto* fleet = app.add_subcommand("fleet", "the fleet through etcd: enroll, approve, publish, status");
  fleet->require_subcommand(1);
  fleet_verbs::add_enroll(*fleet, cli);
  fleet_verbs::add_approve(*fleet, cli);
  fleet_verbs::add_publish(*fleet, cli);
  fleet_verbs::add_status(*fleet, cli);
}

namespace fleet_verbs {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxKeyFile = 4096;

// A machine id given on the command line; Error(validation) (exit 3) naming the option.
void require_machine_id(const std::string& what, const std::string& id) {
  if (!fleet::valid_machine_id(id))
    throw Error(ErrorKind::validation, what + " '" + printable(id) + "': not a machine id (32 lower-case hex digits)");
}

// The audit public key beside the policy's [audit] signing_key (NAME.key -> NAME.pub).
std::string default_audit_pub(const Connection& c) {
  if (!c.policy || c.policy->audit.signing_key.empty())
    throw Error(ErrorKind::usage, "enroll: give --audit-pub FILE, or a policy whose [audit] has a signing_key (" +
                                      c.config + (c.policy ? " has none)" : " does not exist)"));
  const std::string& k = c.policy->audit.signing_key;
  if (!k.ends_with(".key"))
    throw Error(ErrorKind::usage, "enroll: [audit] signing_key " + k + " is not NAME.key: give --audit-pub FILE");
  return k.substr(0, k.size() - 4) + ".pub";
}

}  // namespace

// ---- fleet enroll [--audit-pub FILE] [--machine-id FILE] ----
void add_enroll(CLI::App& fleet, Cli& cli) {
  struct Opts {
    ConnectionOptions conn;
    std::string audit_pub, machine_id = "/etc/machine-id";
  };
  auto o = std::make_shared<Opts>();
  auto* sub = fleet.add_subcommand("enroll", "on a host: write its audit public key to <prefix>/hosts/<id>/pub");
  add_connection_options(*sub, o->conn);
  sub->add_option("--audit-pub", o->audit_pub, "the audit public key (default: [audit] signing_key's NAME.pub)");
  sub->add_option("--machine-id", o->machine_id, "this host's machine id file")->capture_default_str();
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      const Connection c = open_connection(o->conn);
      const std::string host = read_machine_id(o->machine_id);
      const std::string pub_file = o->audit_pub.empty() ? default_audit_pub(c) : o->audit_pub;
      const std::string text = read_file(pub_file, kMaxKeyFile);
      const std::string key_id = parse_public_key_file(text, pub_file).key_id();
      fleet::EtcdClient etcd(c.etcd);
      const std::string key = c.layout.pub(host);
      // A different key replaces the one an approval may bind: say so, the host stops counting.
      std::string replaced;
      if (const auto old = etcd.range(key); !old.kvs.empty() && old.kvs[0].value != text) {
        try {
          replaced = parse_public_key_file(old.kvs[0].value, key).key_id();
        } catch (const Error&) {
          replaced = "(unreadable)";
        }
      }
      const std::int64_t revision = etcd.put(key, text);
      if (cli.json) {
        json j{{"host", host}, {"key_id", key_id}, {"key", key}, {"revision", revision}};
        if (!replaced.empty()) j["replaced_key_id"] = replaced;
        std::cout << j.dump() << "\n";
      } else {
        std::cout << "host " << host << "\n"
                  << "key id " << key_id << "\n"
                  << "wrote " << printable(key) << " at revision " << revision << "\n";
        if (!replaced.empty())
          std::cout << "replaced key id " << replaced << ": until `execgate fleet approve " << host
                    << "` approves the new key, this host's acks do not count\n";
      }
      return 0;
    };
  });
}

// ---- fleet approve HOST --key OPERATOR.key [--expect-key-id ID] ----
void add_approve(CLI::App& fleet, Cli& cli) {
  struct Opts {
    ConnectionOptions conn;
    std::string host, key, expect_key_id;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = fleet.add_subcommand("approve", "sign a host's enrolled audit key: <prefix>/hosts/<id>/approval");
  add_connection_options(*sub, o->conn);
  sub->add_option("host", o->host, "the host's machine id")->required();
  sub->add_option("--key", o->key, "the operator's secret key NAME.key (an [[issuer]] of the hosts' policy)")->required();
  sub->add_option("--expect-key-id", o->expect_key_id, "refuse unless the host's key has this id (checked out of band)");
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      require_machine_id("host", o->host);
      const Connection c = open_connection(o->conn);
      const SecretKey op = load_secret_key(o->key);
      fleet::EtcdClient etcd(c.etcd);
      const std::string pub_key = c.layout.pub(o->host);
      const auto r = etcd.range(pub_key);
      if (r.kvs.empty())
        throw Error(ErrorKind::not_found, "host " + o->host + " has no audit key at " + printable(pub_key) +
                                              ": run `execgate fleet enroll` on it first");
      const std::string& text = r.kvs[0].value;
      PublicKey pub;
      try {
        pub = parse_public_key_file(text, pub_key);
      } catch (const Error& e) {
        throw Error(ErrorKind::verification, "host " + o->host + ": its audit key does not parse: " + e.what());
      }
      const std::string key_id = pub.key_id();
      if (!o->expect_key_id.empty() && o->expect_key_id != key_id)
        throw Error(ErrorKind::verification, "host " + o->host + ": its audit key is " + key_id + ", not the expected " +
                                                 printable(o->expect_key_id) + ": not approved");
      fleet::HostApproval a{o->host, text, key_id, SystemClock().now()};
      const std::int64_t revision = etcd.put(c.layout.approval(o->host), fleet::sign_host_approval(a, op));
      // The hosts' policy decides whom an approval may come from: warn when this one's
      // issuers (if there is one here) do not include the operator's key.
      if (c.policy && !c.policy->issuers.empty()) {
        const auto keys = issuer_keys(load_trusted_issuers(*c.policy));
        if (std::find(keys.begin(), keys.end(), op.public_key()) == keys.end())
          std::cerr << "execgate: warning: key " << op.key_id() << " is no [[issuer]] of " << printable(c.config)
                    << ": status will not count this approval\n";
      }
      if (cli.json) {
        std::cout << json{{"host", o->host},           {"key_id", key_id}, {"approved_by", op.key_id()},
                          {"key", c.layout.approval(o->host)}, {"revision", revision}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "host " << o->host << "\n"
                  << "key id " << key_id << "\n"
                  << "approved by " << op.key_id() << ": wrote " << printable(c.layout.approval(o->host))
                  << " at revision " << revision << "\n";
      }
      return 0;
    };
  });
}

namespace {

// A file to publish, verified: its envelope and where it goes.
struct Verified {
  std::string file, type, id, text, key;
};

// Reads and verifies FILE against the issuers' keys at NOW: a signature of a trusted
// issuer, not expired (a ticket not valid yet may be published ahead), and with --host a
// ticket that names that host (or "*"). Throws the refusal.
Verified verify_for_publish(const std::string& file, const std::vector<TrustedIssuer>& issuers, const Connection& c,
                            const std::string& host, std::int64_t now) {
  Verified v;
  v.file = file;
  v.text = read_file_trimmed(file, dsse::kMaxEnvelopeBytes + 1);
  const VerifiedDocument d = verify_document(v.text, issuer_keys(issuers));
  if (d.ticket) {
    try {
      check_validity(*d.ticket, FixedClock(now));
    } catch (const VerificationError& e) {
      if (e.refusal() != RefusalReason::not_yet_valid) throw;
    }
    const auto& hs = d.ticket->hosts;
    if (!host.empty() && std::find(hs.begin(), hs.end(), host) == hs.end() &&
        std::find(hs.begin(), hs.end(), "*") == hs.end())
      throw Error(ErrorKind::verification, "ticket " + d.ticket->id + " does not name host " + host +
                                               ": that host would refuse it");
    // what the hosts admit beyond the signature: the issuer's max_ttl and allow_any_host
    const TrustedIssuer* issuer = find_issuer(issuers, d.issuer_key_id());
    const std::string some_host = !host.empty() ? host : hs.empty() ? std::string() : hs.front();
    auto refusal = admit_ticket(*d.ticket, issuer->policy, some_host, now);
    if (!refusal) refusal = admit_delegated(*d.ticket, d.chain, now);
    if (refusal)
      throw Error(ErrorKind::verification, "ticket " + d.ticket->id + ": " + refusal->name() + ": " +
                                               refusal->detail + ": the hosts would refuse it");
    v.type = "ticket";
    v.id = d.ticket->id;
    v.key = (host.empty() ? c.layout.tickets() : c.layout.host_tickets(host)) + v.id;
  } else {
    // A revocation is for every host, --host or not.
    v.type = "revocation";
    v.id = d.revocation->id;
    v.key = c.layout.revocations() + v.id;
  }
  return v;
}

}  // namespace

// ---- fleet publish FILE... [--host MACHINE_ID] ----
void add_publish(CLI::App& fleet, Cli& cli) {
  struct Opts {
    ConnectionOptions conn;
    std::vector<std::string> files;
    std::string host;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = fleet.add_subcommand("publish", "verify tickets / revocations, then write them to etcd for the fleet");
  add_connection_options(*sub, o->conn);
  sub->add_option("files", o->files, "ticket or revocation files")->required();
  sub->add_option("--host", o->host, "publish the tickets for this machine id only (<prefix>/hosts/<id>/tickets/)");
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      if (!o->host.empty()) require_machine_id("--host", o->host);
      const Connection c = open_connection(o->conn);
      require_issuer_keys(c, "publish");
      const std::vector<TrustedIssuer> issuers = load_trusted_issuers(*c.policy);
      // Every file first: one refusal and nothing is written.
      const std::int64_t now = SystemClock().now();
      std::vector<Verified> ok;
      std::size_t refused = 0;
      for (const auto& f : o->files) {
        try {
          ok.push_back(verify_for_publish(f, issuers, c, o->host, now));
        } catch (const Error& e) {
          std::cerr << "execgate: " << printable(f) << ": refused: " << printable(e.what()) << "\n";
          ++refused;
        }
      }
      if (refused)
        throw Error(ErrorKind::verification, std::to_string(refused) + " of " + std::to_string(o->files.size()) +
                                                 " file(s) refused: nothing published");
      fleet::EtcdClient etcd(c.etcd);
      json out = json::array();
      for (const auto& v : ok) {
        const std::int64_t revision = etcd.put(v.key, v.text);
        if (cli.json)
          out.push_back({{"file", v.file}, {"type", v.type}, {"id", v.id}, {"key", v.key}, {"revision", revision}});
        else
          std::cout << printable(v.file) << ": " << v.type << " " << v.id << " -> " << printable(v.key)
                    << " at revision " << revision << "\n";
      }
      if (cli.json) std::cout << out.dump() << "\n";
      return 0;
    };
  });
}

}  // namespace fleet_verbs
}  // namespace execgate::cli
