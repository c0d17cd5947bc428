// execgate job start ID [--pid PID ...] [--ticket FILE ...] | job end ID | job list: the
// jobs (docs/gate.md "Jobs", docs/ci.md). The daemon does the cgroup work; a job is
// started first, its tickets submitted into it, and only then are processes moved in, so
// that a refused ticket leaves nothing running (the job is ended again, exit 3).
#include <iomanip>
#include <iostream>
#include <memory>

#include "common/control_client.h"
#include "common/fs.h"
#include "execgate/error.h"
#include "job_verbs.h"
#include "ticket_verbs.h"

namespace execgate::cli {
using nlohmann::json;

namespace jobs {

namespace {
bool answered(const json& r, const std::string& who, const std::string& what) {
  if (r.value("result", "") != "refused") return true;
  std::cerr << who << ": " << what << ": refused: " << ticket_verbs::printable(r.value("detail", "")) << "\n";
  return false;
}
}  // namespace

bool running(const json& status, const std::string& id) {
  if (!status.contains("jobs")) return false;
  for (const auto& j : status["jobs"].value("live", json::array()))
    if (j.value("job", "") == id) return true;
  return false;
}

bool start(Cli& cli, const std::string& id, const std::string& who, std::string* cgroup) {
  const json r = daemon_call(cli.socket, {{"op", "job_start"}, {"job", id}});
  if (!answered(r, who, "job " + id)) return false;
  if (cgroup) *cgroup = r.value("cgroup_root", std::string()) + r.value("cgroup", std::string());
  return true;
}

bool join(Cli& cli, const std::string& id, const std::vector<pid_t>& pids, const std::string& who) {
  return answered(daemon_call(cli.socket, {{"op", "job_join"}, {"job", id}, {"pids", pids}}), who, "job " + id);
}

bool end(Cli& cli, const std::string& id, const std::string& who) {
  return answered(daemon_call(cli.socket, {{"op", "job_end"}, {"job", id}}), who, "job " + id);
}

bool submit_all(Cli& cli, const std::vector<std::string>& files, const std::string& who) {
  for (const auto& f : files) {
    json r = daemon_call(cli.socket, {{"op", "submit"},
                                      {"document", read_file(f, ticket_verbs::kMaxDocumentFile)},
                                      {"source", who + " " + f}});
    if (r.value("result", "") == "refused") {
      std::cerr << who << ": " << ticket_verbs::printable(f) << ": refused " << r.value("reason", "") << ": "
                << ticket_verbs::printable(r.value("detail", "")) << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace jobs

void add_job_verbs(CLI::App& app, Cli& cli) {
  auto* job = app.add_subcommand("job", "jobs: a cgroup below the scope per CI job, with tickets valid only in it");
  job->require_subcommand(1);

  struct StartOpts {
    std::string id;
    std::vector<pid_t> pids;
    std::vector<std::string> tickets;
  };
  auto s = std::make_shared<StartOpts>();
  auto* start = job->add_subcommand("start", "start job ID: its cgroup below the scope, its tickets, its processes");
  start->add_option("id", s->id, "job id: 1-100 characters of A-Z a-z 0-9 . _ -")->required();
  start->add_option("--pid", s->pids, "process to move into the job once its tickets are in (repeatable)");
  start->add_option("--ticket", s->tickets, "ticket file to submit into the job (repeatable)");
  start->callback([&cli, s] {
    cli.action = [&cli, s]() -> int {
      const std::string who = "execgate job start";
      std::string cgroup;
      if (!jobs::start(cli, s->id, who, &cgroup)) return static_cast<int>(ExitCode::denied);
      bool ok = false;
      try {
        ok = jobs::submit_all(cli, s->tickets, who) && (s->pids.empty() || jobs::join(cli, s->id, s->pids, who));
      } catch (...) {
        jobs::end(cli, s->id, who);  // nothing half-started is left
        throw;
      }
      if (!ok) {
        jobs::end(cli, s->id, who);
        return static_cast<int>(ExitCode::denied);
      }
      std::cout << cgroup << "\n";
      return 0;
    };
  });

  auto end_id = std::make_shared<std::string>();
  auto* end = job->add_subcommand("end", "end job ID: its tickets and outputs go, its processes are killed");
  end->add_option("id", *end_id, "job id")->required();
  end->callback([&cli, end_id] {
    cli.action = [&cli, end_id]() -> int {
      json r = daemon_call(cli.socket, {{"op", "job_end"}, {"job", *end_id}});
      if (r.value("result", "") == "refused") {
        std::cerr << "execgate job end: job " << *end_id << ": refused: " << ticket_verbs::printable(r.value("detail", ""))
                  << "\n";
        return static_cast<int>(ExitCode::denied);
      }
      if (cli.json) {
        std::cout << r.dump() << "\n";
      } else {
        std::cout << "job " << *end_id << " ended: " << r["removed"].size() << " ticket(s) uninstalled"
                  << (r.value("killed", false) ? ", its processes killed" : ", its processes left to exit") << "\n";
      }
      return 0;
    };
  });

  auto* list = job->add_subcommand("list", "the running jobs");
  list->callback([&cli] {
    cli.action = [&cli]() -> int {
      const json status = daemon_call(cli.socket, {{"op", "status"}});
      const json live = status.contains("jobs") ? status["jobs"].value("live", json::array()) : json::array();
      if (cli.json) {
        std::cout << json{{"jobs", live}}.dump() << "\n";
        return 0;
      }
      std::cout << std::left << std::setw(40) << "JOB" << "CGROUP\n";
      for (const auto& j : live) std::cout << std::setw(40) << j.value("job", "") << j.value("cgroup", "") << "\n";
      return 0;
    };
  });
}

}  // namespace execgate::cli
