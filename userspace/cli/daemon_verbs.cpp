// Verbs that talk to execgated: submit, tickets, status, fileinfo; and policy check.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli.h"
#include "common/control_client.h"
#include "common/encoding.h"
#include "common/fs.h"
#include "execgate/names.h"
#include "execgate/policy.h"
#include "ticket_verbs.h"

namespace execgate::cli {
namespace {
using nlohmann::json;
using ticket_verbs::iso_time;
using ticket_verbs::printable;

int rc(ExitCode c) { return static_cast<int>(c); }

// ---- submit FILE [FILE ...] ----
void add_submit(CLI::App& app, Cli& cli) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* sub = app.add_subcommand("submit", "send tickets / revocations to the daemon; reports per file");
  sub->add_option("files", *files, "ticket or revocation files")->required();
  sub->callback([&cli, files] {
    cli.action = [&cli, files] {
      json results = json::array();
      bool all_ok = true;
      for (const auto& f : *files) {
        json r;
        try {
          std::string doc = read_file(f, ticket_verbs::kMaxDocumentFile);
          r = daemon_call(cli.socket, {{"op", "submit"}, {"document", doc}, {"source", "execgate submit " + f}});
          r.erase("ok");
        } catch (const DaemonUnreachable&) {
          throw;
        } catch (const Error& e) {
          r = {{"result", "refused"}, {"reason", name(RefusalReason::malformed)}, {"detail", e.what()}};
        }
        r["file"] = f;
        if (r.value("result", "") == "refused") all_ok = false;
        results.push_back(r);
        if (!cli.json) {
          const std::string res = r.value("result", "");
          std::cout << printable(f) << ": " << res;
          if (res == "installed") {
            std::cout << " " << r.value("id", "") << (r.value("already", false) ? " (already installed)" : "");
            for (const auto& s : r.value("subjects", json::array())) std::cout << "\n  " << printable(s.value("path", ""));
          } else if (res == "revoked") {
            std::cout << " " << r["revoked"].size() << " ticket(s), " << r["removed"].size() << " were installed";
          } else {
            std::cout << " " << r.value("reason", "") << ": " << printable(r.value("detail", ""));
          }
          std::cout << "\n";
        }
      }
      if (cli.json) std::cout << json{{"results", results}}.dump() << "\n";
      return all_ok ? 0 : rc(ExitCode::denied);
    };
  });
}

std::string uses_text(const json& t) {
  if (t["uses_left"].is_null()) return "unlimited";
  return std::to_string(t["uses_left"].get<std::int64_t>()) + "/" + std::to_string(t.value("max_uses", 0));
}

// tickets --hits: the uses of each ticket since SINCE, least used first (to prune unused ones)
void print_hits(const json& tickets) {
  std::vector<json> sorted(tickets.begin(), tickets.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) {
    return a.value("hits", std::uint64_t{0}) < b.value("hits", std::uint64_t{0});
  });
  std::cout << std::left << std::setw(34) << "ID" << std::setw(10) << "HITS" << std::setw(22) << "SINCE" << std::setw(22)
            << "EXPIRES" << "SUBJECTS\n";
  for (const auto& t : sorted) {
    std::string subjects;
    for (const auto& s : t["subjects"]) subjects += (subjects.empty() ? "" : ", ") + printable(s.value("path", ""));
    const json& since = t.contains("hits_since") ? t["hits_since"] : json();
    std::cout << std::setw(34) << t.value("id", "") << std::setw(10) << t.value("hits", std::uint64_t{0})
              << std::setw(22) << (since.is_number() ? iso_time(since.get<std::int64_t>()) : std::string("-"))
              << std::setw(22) << iso_time(t.value("not_after", 0)) << subjects << "\n";
  }
  std::cout << "hits: execs and executable mappings the kernel allowed through the ticket since SINCE\n";
}

// ---- tickets [--hits] ----
void add_tickets(CLI::App& app, Cli& cli) {
  auto* sub = app.add_subcommand("tickets", "list installed tickets");
  auto hits = std::make_shared<bool>(false);
  sub->add_flag("--hits", *hits, "uses per ticket since its install, least used first (to prune unused ones)");
  sub->callback([&cli, hits] {
    cli.action = [&cli, hits] {
      json r = daemon_call(cli.socket, {{"op", "tickets"}});
      if (cli.json) {
        std::cout << json{{"tickets", r["tickets"]}}.dump() << "\n";
        return 0;
      }
      if (r["tickets"].empty()) {
        std::cout << "no tickets installed\n";
        return 0;
      }
      if (*hits) {
        print_hits(r["tickets"]);
        return 0;
      }
      std::cout << std::left << std::setw(34) << "ID" << std::setw(22) << "EXPIRES" << std::setw(11) << "USES LEFT"
                << std::setw(14) << "ISSUER" << "SUBJECTS\n";
      for (const auto& t : r["tickets"]) {
        std::string subjects;
        for (const auto& s : t["subjects"]) subjects += (subjects.empty() ? "" : ", ") + printable(s.value("path", ""));
        std::cout << std::setw(34) << t.value("id", "") << std::setw(22) << iso_time(t.value("not_after", 0))
                  << std::setw(11) << uses_text(t) << std::setw(14) << printable(t.value("issuer", "")) << subjects << "\n";
      }
      return 0;
    };
  });
}

// ---- status ----
// How the exec path reads time for ticket validity (docs/gate.md, "Exec clock").
static std::string exec_clock_line(const json& c) {
  const auto drift = c.value("drift_ms", 0ull);
  const std::string drifted =
      drift ? "estimate was " + std::to_string(drift) + " ms off the boot clock: wrong CONFIG_HZ?" : "";
  if (c.value("source", "") == "jiffies")
    return "jiffies (tick " + std::to_string(c.value("tick_ns", 0ull) / 1000) +
           " us), the clocksource read within 1 s of a ticket's bounds" + (drift ? " (once " + drifted + ")" : "");
  if (!c.value("tick_ns", 0ull)) return "clocksource on every check (kernel config with CONFIG_HZ not found)";
  return "clocksource on every check (" + (drift ? drifted : "no base taken") + ")";
}

void add_status(CLI::App& app, Cli& cli) {
  auto* sub = app.add_subcommand("status", "daemon, kernel gate and counters");
  sub->callback([&cli] {
    cli.action = [&cli] {
      json s = daemon_call(cli.socket, {{"op", "status"}});
      s.erase("ok");
      if (cli.json) {
        std::cout << s.dump() << "\n";
        return 0;
      }
      const json& g = s["gate"];
      std::string scope = g["scope"].value("host", false) ? "whole host" : "";
      for (const auto& c : g["scope"]["cgroups"]) scope += (scope.empty() ? "cgroups " : ", ") + c.get<std::string>();
      std::cout << "daemon:   running, pid " << s["daemon"].value("pid", 0) << ", policy " << s["daemon"].value("policy", "")
                << " (" << s["daemon"].value("config", "") << ")\n"
                << "gate:     " << (g.value("attached", false) ? "attached" : "NOT ATTACHED") << " ("
                << g.value("programs", 0) << " programs), mode " << g.value("mode", "") << "\n"
                << "scope:    " << scope << "\n"
                << "baseline: trust " << g["baseline"].value("trust", "") << ", " << g["baseline"].value("pinned_files", 0)
                << " pinned files"
                << (g["baseline"].value("refused_files", 0) > 0
                        ? ", " + std::to_string(g["baseline"].value("refused_files", 0)) +
                              " refused (writable by a user other than root)"
                        : std::string())
                << "\n"
                << "tickets:  " << g.value("tickets", 0) << " installed\n"
                << "clock:    " << exec_clock_line(g["exec_clock"]) << "\n"
                << "counters: allowed " << s["counters"].value("allowed", 0) << ", denied "
                << s["counters"].value("denied", 0) << ", monitor_denied " << s["counters"].value("monitor_denied", 0)
                << ", audit drops " << s["counters"].value("audit_drops", 0) << "\n";
      const json& a = s["audit"];
      std::cout << "audit:    " << a.value("path", "") << ", seq " << a.value("last_seq", 0) << " (durable "
                << a.value("durable_seq", 0) << "), "
                << (a.value("signing", false) ? "signed checkpoints key " + a.value("key_id", "") : "UNSIGNED (no signing_key)")
                << (a.value("required", false) ? ", required" : "") << "\n"
                << "          append-only: "
                << (a.value("append_only", false) ? "yes" : "NO (" + a.value("append_only_detail", "") + ")") << "\n";
      if (a.value("failed", false)) std::cout << "          FAILED: " << a.value("error", "") << "\n";
      if (a.value("stalled", false))
        std::cout << "          STALLED" << (a.value("required", false) ? " (execs in the scope denied audit_unavailable)" : "")
                  << ": " << printable(a.value("stall_detail", "")) << "; " << a.value("held_records", 0)
                  << " records held in memory, " << a.value("dropped_records", 0) << " dropped\n";
      if (s.contains("metrics")) {
        const json& m = s["metrics"];
        const std::string file = m.value("textfile", "");
        std::cout << "metrics:  " << (file.empty() ? std::string("no textfile") : printable(file))
                  << (m.value("textfile_error", "").empty() ? "" : " NOT WRITTEN: " + printable(m.value("textfile_error", "")))
                  << ", audit lag max " << m["audit_lag"].value("max_seconds", 0.0) << " s, "
                  << m.value("tickets_expiring_1h", 0) << " ticket(s) expiring within 1 h\n";
      }
      return 0;
    };
  });
}

std::string devstr(std::uint64_t major_, std::uint64_t minor_) {
  return std::to_string(major_) + ":" + std::to_string(minor_);
}

// ---- fileinfo PATH ----
void add_fileinfo(CLI::App& app, Cli& cli) {
  auto path = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("fileinfo", "sha256, device/inode and the installed ticket covering PATH");
  sub->add_option("path", *path, "file")->required();
  sub->callback([&cli, path] {
    cli.action = [&cli, path] {
      struct stat st {};
      if (::stat(path->c_str(), &st) != 0) throw IoError(*path, errno, "cannot stat");
      const std::string digest = hex_encode(sha256_file(*path));
      const std::string dev = devstr(major(st.st_dev), minor(st.st_dev));
      json covering = nullptr;
      std::string daemon_error;
      try {
        json r = daemon_call(cli.socket, {{"op", "tickets"}});
        for (const auto& t : r["tickets"])
          for (const auto& s : t["subjects"])
            if (s.value("dev", "") == dev && s.value("ino", std::uint64_t{0}) == st.st_ino)
              covering = {{"id", t["id"]}, {"issuer", t["issuer"]}, {"not_after", t["not_after"]},
                          {"uses_left", t["uses_left"]}, {"sha256", s["sha256"]},
                          {"matches", s.value("sha256", "") == digest}};
      } catch (const Error& e) {
        daemon_error = e.what();
      }
      if (cli.json) {
        json out{{"path", *path}, {"sha256", digest}, {"dev", dev}, {"ino", st.st_ino}, {"size", st.st_size},
                 {"ctime", std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec)},
                 {"ticket", covering}};
        if (!daemon_error.empty()) out["daemon_error"] = daemon_error;
        std::cout << out.dump() << "\n";
      } else {
        std::cout << "path:   " << printable(*path) << "\nsha256: " << digest << "\ndevice: " << dev << "  inode: " << st.st_ino
                  << "  size: " << st.st_size << "\n";
        if (!daemon_error.empty()) std::cout << "ticket: unknown (" << daemon_error << ")\n";
        else if (covering.is_null()) std::cout << "ticket: none installed covers this file\n";
        else
          std::cout << "ticket: " << covering["id"].get<std::string>() << " from " << covering["issuer"].get<std::string>()
                    << ", expires " << iso_time(covering["not_after"].get<std::int64_t>()) << "\n";
      }
      return daemon_error.empty() ? 0 : rc(ExitCode::runtime);
    };
  });
}

// ---- policy check FILE ----
void add_policy(CLI::App& app, Cli& cli) {
  auto* pol = app.add_subcommand("policy", "policy files");
  pol->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* chk = pol->add_subcommand("check", "validate a policy file; exit 2 with the line and field on error");
  chk->add_option("file", *file, "policy.toml")->required();
  chk->callback([&cli, file] {
    cli.action = [&cli, file] {
      Policy p;
      try {
        p = load_policy(*file);
        for (const auto& is : p.issuers) {
          try {
            load_public_key(is.pubkey);
          } catch (const Error& e) {
            throw Error(e.kind(), *file + ": [[issuer]] \"" + is.name + "\" pubkey: " + e.what());
          }
        }
      } catch (const Error& e) {
        if (cli.json) std::cout << json{{"ok", false}, {"file", *file}, {"error", e.what()}}.dump() << "\n";
        else std::cerr << "execgate: " << e.what() << "\n";
        return rc(ExitCode::usage);
      }
      json summary{{"ok", true},          {"file", *file},       {"name", p.name},
                   {"mode", to_string(p.mode)}, {"scope_host", p.scope_host}, {"cgroups", p.scope_cgroups},
                   {"trust", to_string(p.trust)}, {"issuers", p.issuers.size()}, {"audit_path", p.audit.path}};
      if (cli.json) std::cout << summary.dump() << "\n";
      else
        std::cout << printable(*file) << ": ok (policy " << p.name << ", mode " << to_string(p.mode) << ", "
                  << p.issuers.size() << " issuer(s))\n";
      return 0;
    };
  });
  add_policy_simulate(*pol, cli);
}

}  // namespace

void add_run_verb(CLI::App& app, Cli& cli);
void add_job_verbs(CLI::App& app, Cli& cli);

void add_daemon_verbs(CLI::App& app, Cli& cli) {
  add_submit(app, cli);
  add_tickets(app, cli);
  add_status(app, cli);
  add_fileinfo(app, cli);
  add_run_verb(app, cli);
  add_job_verbs(app, cli);
  add_policy(app, cli);
}

}  // namespace execgate::cli
