// execgate fleet status: what each host under <prefix>/hosts/ has acknowledged, and a wait
// until every approved host has applied a revision (docs/fleet.md "Operator verbs").
// An ack counts only when it verifies against the key an operator's approval binds to its
// host: etcd is transport, and anyone who can write there could write an ack.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/duration.h"
#include "execgate/clock.h"
#include "execgate/error.h"
#include "execgate/ticket_errors.h"
#include "fleet/statements.h"
#include "fleet_verbs.h"

namespace execgate::cli::fleet_verbs {

namespace {

using nlohmann::json;

// One host as read from etcd, then judged.
struct HostView {
  std::string host;
  std::optional<std::string> pub, approval, ack_text;
  std::string key_id;        // the pub's key id ("" when none or unreadable)
  bool approved = false;     // an approval that verifies and binds the pub's key
  std::string approved_by;   // the issuer key id that signed it
  std::optional<fleet::FleetAck> ack;  // verified against the pub's key
  bool counted = false;      // approved and its ack verified
  std::vector<std::string> notes;  // why not approved / not counted
};

// The hosts under <prefix>/hosts/ with a pub, an approval or an ack, by machine id.
std::map<std::string, HostView> read_hosts(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout) {
  std::map<std::string, HostView> hosts;
  const std::string base = layout.hosts();
  for (const auto& kv : etcd.range_prefix(base).kvs) {
    const std::string rest = kv.key.substr(base.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    const std::string id = rest.substr(0, slash), leaf = rest.substr(slash + 1);
    std::optional<std::string> HostView::*field = leaf == "pub" ? &HostView::pub
                                                 : leaf == "approval" ? &HostView::approval
                                                 : leaf == "ack" ? &HostView::ack_text
                                                                 : nullptr;
    if (!field) continue;  // its tickets, checkpoints
    HostView& h = hosts[id];
    h.host = id;
    h.*field = kv.value;
  }
  return hosts;
}

// Judges one host: its pub, whether an issuer's approval binds that key, whether its ack
// verifies against it.
void judge(HostView& h, const std::vector<PublicKey>& issuers) {
  if (!fleet::valid_machine_id(h.host)) h.notes.push_back("not a machine id");
  std::optional<PublicKey> pub;
  if (!h.pub) {
    h.notes.push_back("no pub");
  } else {
    try {
      pub = parse_public_key_file(*h.pub, "pub");
      h.key_id = pub->key_id();
    } catch (const Error& e) {
      h.notes.push_back(std::string("pub does not parse: ") + e.what());
    }
  }
  if (!h.approval) {
    h.notes.push_back("not approved");
  } else {
    try {
      std::string signer;
      const fleet::HostApproval a = fleet::verify_host_approval(*h.approval, issuers, &signer);
      if (a.host != h.host)
        h.notes.push_back("the approval is for host " + a.host);
      else if (!pub)
        h.notes.push_back("approved key " + a.key_id + ", but no usable pub");
      else if (parse_public_key_file(a.key, "approval key") != *pub)
        h.notes.push_back("approved key " + a.key_id + ", but the pub is key " + h.key_id);
      else {
        h.approved = true;
        h.approved_by = signer;
      }
    } catch (const Error& e) {
      h.notes.push_back(std::string("approval does not verify: ") + e.what());
    }
  }
  if (!h.ack_text) {
    if (h.approved) h.notes.push_back("no ack");
  } else if (pub) {
    try {
      fleet::FleetAck a = fleet::verify_ack(*h.ack_text, *pub);
      if (a.host != h.host)
        h.notes.push_back("the ack names host " + a.host);
      else
        h.ack = a;
    } catch (const Error& e) {
      h.notes.push_back("ack does not verify against key " + h.key_id + ": " + e.what());
    }
  }
  h.counted = h.approved && h.ack.has_value();
  if (h.ack && !h.counted) h.notes.push_back("ack not counted");
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

json host_json(const HostView& h, std::int64_t now) {
  json j{{"host", h.host}, {"key_id", h.key_id}, {"approved", h.approved}, {"counted", h.counted}};
  if (h.approved) j["approved_by"] = h.approved_by;
  if (h.ack) {
    const auto& a = *h.ack;
    j["ack"] = {{"revision", a.revision}, {"digest", a.digest},       {"tickets", a.tickets},
                {"fleet_tickets", a.fleet_tickets}, {"silent", a.silent}, {"time", a.time},
                {"age", now - a.time},   {"audit_seq", a.audit_seq}, {"audit_head", a.audit_head}};
  } else {
    j["ack"] = nullptr;
  }
  j["notes"] = h.notes;
  return j;
}

// One line per host under a header, in aligned columns.
void print_table(const std::map<std::string, HostView>& hosts, std::int64_t now) {
  std::vector<std::vector<std::string>> rows{
      {"HOST", "KEY ID", "APPROVED", "REVISION", "DIGEST", "TICKETS", "SILENT", "LAST SEEN", "AGE", "AUDIT SEQ", ""}};
  for (const auto& [id, h] : hosts) {
    std::vector<std::string> r{printable(id), h.key_id.empty() ? "-" : h.key_id, h.approved ? "yes" : "NO"};
    if (h.ack) {
      const auto& a = *h.ack;
      r.insert(r.end(), {std::to_string(a.revision), a.digest.substr(0, 12),
                         std::to_string(a.tickets) + "/" + std::to_string(a.fleet_tickets), a.silent ? "SILENT" : "no",
                         iso_time(a.time), std::to_string(now - a.time) + "s", std::to_string(a.audit_seq)});
    } else {
      r.insert(r.end(), 7, "-");
    }
    r.push_back(h.notes.empty() ? "" : "[" + printable(join(h.notes)) + "]");
    rows.push_back(std::move(r));
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  if (hosts.empty()) std::cout << "(no host under the prefix)\n";
}

// The approved hosts that have not acknowledged revision R, each with why.
std::vector<std::pair<std::string, std::string>> behind(const std::map<std::string, HostView>& hosts, std::int64_t r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, h] : hosts) {
    if (!h.approved) continue;
    if (!h.ack_text)
      out.emplace_back(id, "no ack");
    else if (!h.counted)
      out.emplace_back(id, "its ack does not count: " + join(h.notes));
    else if (h.ack->revision < r)
      out.emplace_back(id, "acknowledged revision " + std::to_string(h.ack->revision) + " < " + std::to_string(r));
  }
  return out;
}

}  // namespace

// ---- fleet status [--wait-revision R] [--timeout 5s] ----
void add_status(CLI::App& fleet, Cli& cli) {
  struct Opts {
    ConnectionOptions conn;
    std::int64_t wait_revision = 0;
    std::string timeout = "5s";
  };
  auto o = std::make_shared<Opts>();
  auto* sub = fleet.add_subcommand("status", "each host's approval and acknowledgement; wait for a revision");
  add_connection_options(*sub, o->conn);
  sub->add_option("--wait-revision", o->wait_revision,
                  "wait until every approved host has acknowledged revision R; exit 3 at the timeout")
      ->check(CLI::PositiveNumber);
  sub->add_option("--timeout", o->timeout, "how long --wait-revision waits (90s, 15m, ...)")->capture_default_str();
  sub->callback([&cli, o] {
    cli.action = [&cli, o] {
      const auto timeout = std::chrono::seconds(parse_duration(o->timeout));
      const Connection c = open_connection(o->conn);
      const std::vector<PublicKey> issuers = require_issuer_keys(c, "status");
      fleet::EtcdClient etcd(c.etcd);
      const bool waiting = o->wait_revision > 0;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      std::map<std::string, HostView> hosts;
      std::vector<std::pair<std::string, std::string>> late;
      bool any_approved = false;
      for (;;) {
        hosts = read_hosts(etcd, c.layout);
        for (auto& [id, h] : hosts) judge(h, issuers);
        any_approved = std::any_of(hosts.begin(), hosts.end(), [](const auto& e) { return e.second.approved; });
        late = behind(hosts, o->wait_revision);
        if (!waiting || (any_approved && late.empty()) || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a poll: an ack is written every contact
      }
      const std::int64_t now = SystemClock().now();
      if (cli.json) {
        json j{{"hosts", json::array()}};
        for (const auto& [id, h] : hosts) j["hosts"].push_back(host_json(h, now));
        if (waiting) {
          j["wait_revision"] = o->wait_revision;
          j["behind"] = json::array();
          for (const auto& [id, why] : late) j["behind"].push_back({{"host", id}, {"why", why}});
        }
        std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      } else {
        print_table(hosts, now);
      }
      if (!waiting) return 0;
      if (!any_approved)
        throw Error(ErrorKind::not_found, "no approved host under " + printable(c.layout.hosts()) +
                                              ": nothing can acknowledge revision " + std::to_string(o->wait_revision));
      if (late.empty()) return 0;
      for (const auto& [id, why] : late) std::cerr << "execgate: host " << id << ": " << printable(why) << "\n";
      throw Error(ErrorKind::verification, std::to_string(late.size()) + " approved host(s) did not acknowledge revision " +
                                               std::to_string(o->wait_revision) + " within " + o->timeout);
    };
  });
}

}  // namespace execgate::cli::fleet_verbs
