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
#include "execgate/defaults.h"
#include "fleet/statements.h"
#include "fleet_hosts.h"
#include "fleet_verbs.h"

namespace execgate::cli::fleet_verbs {

namespace {

using nlohmann::json;

// Every host under <prefix>/hosts/, read and judged.
std::map<std::string, HostView> read_hosts(fleet::EtcdClient& etcd, const fleet::FleetLayout& layout,
                                           const std::vector<PublicKey>& issuers, std::int64_t stale_after) {
  std::map<std::string, HostView> hosts;
  const std::int64_t now = SystemClock().now();
  for (const std::string& id : list_hosts(etcd, layout)) {
    HostView h = read_host(etcd, layout, id);
    judge(h, issuers, now, stale_after);
    hosts.emplace(id, std::move(h));
  }
  return hosts;
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
  if (h.checkpoint) {
    const auto& c = *h.checkpoint;
    j["checkpoint"] = {{"seq", c.seq}, {"seq_head", c.seq_head}, {"head", c.head}, {"time", c.time},
                       {"age", now - c.time}, {"published", h.checkpoints_published}};
  } else {
    j["checkpoint"] = nullptr;
  }
  j["notes"] = h.notes;
  return j;
}

// One line per host under a header, in aligned columns.
void print_table(const std::map<std::string, HostView>& hosts, std::int64_t now) {
  std::vector<std::vector<std::string>> rows{
      {"HOST", "KEY ID", "APPROVED", "REVISION", "DIGEST", "TICKETS", "SILENT", "LAST SEEN", "AGE", "AUDIT SEQ", "CHECKPOINT", ""}};
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
    r.push_back(h.checkpoint ? std::to_string(h.checkpoint->seq) + " (" + std::to_string(now - h.checkpoint->time) + "s)"
                             : "-");
    r.push_back(h.notes.empty() ? "" : "[" + printable(join_notes(h.notes)) + "]");
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
      out.emplace_back(id, "its ack does not count: " + join_notes(h.notes));
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
      // a host that published no checkpoint for three of its intervals stopped publishing
      const std::int64_t stale_after =
          3 * (c.policy && c.policy->fleet ? c.policy->fleet->publish_interval : kDefaultFleetPublishIntervalSeconds);
      const bool waiting = o->wait_revision > 0;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      std::map<std::string, HostView> hosts;
      std::vector<std::pair<std::string, std::string>> late;
      bool any_approved = false;
      for (;;) {
        try {
          hosts = read_hosts(etcd, c.layout, issuers, stale_after);
        } catch (const fleet::EtcdError& e) {  // while waiting, etcd may fail over: try again
          if (!waiting || std::chrono::steady_clock::now() >= deadline) throw;
          std::cerr << "execgate: " << e.what() << " (retrying)\n";
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          continue;
        }
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
