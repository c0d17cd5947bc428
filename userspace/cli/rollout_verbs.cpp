// From monitor to enforce (docs/daemon.md "Rollout: monitor to enforce"): `policy simulate`
// and `suggest`, offline verbs over a verified audit log (userspace/rollout/).
#include <iostream>
#include <memory>

#include "cli.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/fs.h"
#include "execgate/clock.h"
#include "execgate/policy.h"
#include "rollout/audit_reading.h"
#include "rollout/simulate.h"
#include "rollout/suggest.h"

namespace execgate::cli {
namespace {
using nlohmann::json;

// What both verbs read: the log, how it is verified, the host the tickets are for.
struct LogOpts {
  std::string log;
  std::vector<std::string> pubs;
  bool unverified = false;
  bool allow_pruned = false;
  std::string host;  // machine-id; default this host's

  void add_to(CLI::App* sub) {
    sub->add_option("audit_log", log, "audit log file or directory (rotated files included)")->required();
    sub->add_option("--pub", pubs, "audit signing public key NAME.pub: verify the checkpoints' signatures too")
        ->allow_extra_args(false);
    sub->add_flag("--unverified", unverified, "read the log even when its verification fails (said in the output)");
    sub->add_flag("--allow-pruned", allow_pruned, "accept a log whose oldest files were removed");
    sub->add_option("--host", host, "machine-id the tickets are for (default: this host's /etc/machine-id)");
  }
  AuditReadOptions read_options() const {
    AuditReadOptions o;
    for (const auto& p : pubs) o.keys.push_back(load_public_key(p));
    o.accept_broken = unverified;
    o.allow_pruned = allow_pruned;
    return o;
  }
  std::string machine_id() const {
    if (host.empty()) return read_machine_id();
    if (!is_lower_hex(host, 32)) throw Error(ErrorKind::usage, "--host: expected a machine-id (32 lower-case hex)");
    return host;
  }
};

struct SimulateOpts : LogOpts {
  std::string policy, tickets;
};

std::string scope_text(const Policy& p) {
  if (p.scope_host) return "the whole host";
  std::string s;
  for (const auto& c : p.scope_cgroups) s += (s.empty() ? "cgroups " : ", ") + c;
  return s;
}

// The candidate policy: any error reading or parsing it is a usage error (exit 2), as for
// `policy check`.
Policy load_candidate(const std::string& file) {
  try {
    return load_policy(file);
  } catch (const PolicyError&) {
    throw;
  } catch (const Error& e) {
    throw Error(ErrorKind::usage, std::string("--policy: ") + e.what());
  }
}

int run_simulate(const SimulateOpts& o, bool as_json) {
  const Policy policy = load_candidate(o.policy);
  const std::int64_t now = SystemClock().now();
  CandidateTickets tickets;
  if (!o.tickets.empty()) tickets = load_candidate_tickets(o.tickets, policy, o.machine_id(), now);
  LiveHost host;
  Simulator sim(policy, tickets.usable, host, now);
  const AuditReading reading = read_audit_log(o.log, o.read_options(), [&](const json& r) { sim.record(r); });
  const SimulationReport report = sim.report();
  if (as_json) {
    json usable = json::array(), refused = json::array();
    for (const auto& t : tickets.usable)
      usable.push_back({{"file", t.file}, {"id", t.body.id}, {"issuer", t.issuer}, {"not_after", t.body.not_after}});
    for (const auto& t : tickets.refused) refused.push_back({{"file", t.file}, {"reason", t.reason}, {"detail", t.detail}});
    json out = report.to_json();
    out["audit"] = reading.to_json();
    out["candidate"] = {{"file", o.policy}, {"name", policy.name}, {"mode", to_string(policy.mode)},
                        {"scope_host", policy.scope_host}, {"cgroups", policy.scope_cgroups},
                        {"baseline_paths", policy.baseline_paths}, {"trust", to_string(policy.trust)}};
    out["tickets"] = {{"dir", o.tickets}, {"usable", usable}, {"refused", refused}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "audit log " << printable(o.log) << ": " << printable(reading.summary()) << "\n"
              << "candidate " << printable(o.policy) << ": policy " << printable(policy.name) << ", mode "
              << to_string(policy.mode) << ", scope " << printable(scope_text(policy)) << ", baseline "
              << policy.baseline_paths.size() << " path(s), trust " << to_string(policy.trust) << "\n";
    if (!o.tickets.empty()) {
      std::cout << "tickets " << printable(o.tickets) << ": " << tickets.usable.size() << " usable, "
                << tickets.refused.size() << " refused (judged at " << iso_time(now) << ")\n";
      for (const auto& t : tickets.refused)
        std::cout << "  refused " << printable(t.file) << ": " << t.reason << ": " << printable(t.detail) << "\n";
    }
    std::cout << "\n" << report.text();
  }
  return report.would_deny() ? static_cast<int>(ExitCode::denied) : 0;
}

struct SuggestOpts : LogOpts {
  SuggestOptions draft;
};

int run_suggest(SuggestOpts o, bool as_json) {
  parse_duration(o.draft.ttl);  // a usage error now, not in every line printed
  try {
    o.draft.host = o.machine_id();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::usage) throw;
    o.draft.host = "MACHINE-ID";  // no /etc/machine-id here: the reviewer fills it in
  }
  LiveHost host;
  Suggester suggester(host);
  const AuditReading reading = read_audit_log(o.log, o.read_options(), [&](const json& r) { suggester.record(r); });
  const Suggestion& s = suggester.result();
  if (as_json) {
    json out = s.to_json(o.draft);
    out["audit"] = reading.to_json();
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "# A draft by `execgate suggest` from " << printable(o.log) << "\n# audit log: "
            << printable(reading.summary()) << "\n# Review every line: nothing here is applied. `execgate policy "
            << "simulate` tells what a policy and tickets would still deny.\n"
            << s.text(o.draft);
  return 0;
}

}  // namespace

void add_policy_simulate(CLI::App& policy, Cli& cli) {
  auto o = std::make_shared<SimulateOpts>();
  auto* sub = policy.add_subcommand(
      "simulate", "which execs of an audit log the candidate policy and tickets would deny; exit 3 if any");
  sub->add_option("--policy", o->policy, "the candidate policy.toml")->required();
  sub->add_option("--tickets", o->tickets, "directory of ticket (and revocation) files to judge with it");
  o->add_to(sub);
  sub->callback([&cli, o] { cli.action = [&cli, o] { return run_simulate(*o, cli.json); }; });
}

void add_rollout_verbs(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<SuggestOpts>();
  auto* sub = app.add_subcommand("suggest", "draft baseline paths and `execgate issue` lines for what a log denied");
  o->add_to(sub);
  sub->add_option("--key", o->draft.key, "issuer key the drafted issue lines name")->capture_default_str();
  sub->add_option("--ttl", o->draft.ttl, "validity the drafted tickets ask for")->capture_default_str();
  sub->callback([&cli, o] { cli.action = [&cli, o] { return run_suggest(*o, cli.json); }; });
}

}  // namespace execgate::cli
