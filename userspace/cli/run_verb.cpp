// execgate run [--job ID] [--ticket FILE ...] -- CMD [ARGS]: CMD runs inside the gated
// scope, after its tickets were submitted: in a fresh cgroup of its own, or inside job ID
// (docs/gate.md "Jobs"; started first when it is not running, and then ended when CMD
// exits). Exit status: CMD's; 3 when the gate denied CMD itself or a ticket or the job was
// refused.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <random>

#include "cli.h"
#include "common/control_client.h"
#include "common/fs.h"
#include "job_verbs.h"
#include "ticket_verbs.h"

namespace execgate::cli {
namespace {
using nlohmann::json;

// Makes a fresh cgroup below the first gated scope; empty when the whole host is gated.
std::string make_scope_cgroup(const json& status) {
  const json& scope = status["gate"]["scope"];
  if (scope.value("host", false)) return "";
  if (scope["cgroups"].empty()) throw Error(ErrorKind::kernel, "the daemon gates no cgroup: cannot run gated");
  std::random_device rd;
  const std::string dir = scope.value("cgroup_root", std::string("/sys/fs/cgroup")) +
                          scope["cgroups"][0].get<std::string>() + "/run-" + std::to_string(::getpid()) + "-" +
                          std::to_string(rd() % 100000);
  if (::mkdir(dir.c_str(), 0755) != 0) throw IoError(dir, errno, "cannot create the run's cgroup");
  return dir;
}

void move_into(const std::string& dir, pid_t pid) {
  const std::string procs = dir + "/cgroup.procs";
  UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  const std::string word = std::to_string(pid);
  if (!fd || ::write(fd.get(), word.data(), word.size()) != static_cast<ssize_t>(word.size()))
    throw IoError(procs, errno, "cannot move the command's process into the run's cgroup");
}

// Forks CMD, held before its exec until PLACE(child) has put it where it runs (a false
// answer, or a throw, kills it unexecuted), then waits for it. CMD's exit status; 3 when
// the gate denied it; 127 when it could not be run.
int run_placed(std::vector<std::string> cmd, const std::function<bool(pid_t)>& place) {
  int go[2], errpipe[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(errpipe, O_CLOEXEC) != 0) throw IoError("pipe", errno, "cannot create");
  pid_t child = ::fork();
  if (child < 0) throw IoError("fork", errno, "cannot fork");
  if (child == 0) {
    ::close(go[1]);
    ::close(errpipe[0]);
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) _exit(126);  // not placed: never runs
    std::vector<char*> argv;
    for (auto& a : cmd) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    int err = errno;
    ssize_t ignored = ::write(errpipe[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  ::close(go[0]);
  ::close(errpipe[1]);
  auto reap = [&] {
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
  };
  bool placed = false;
  try {
    placed = place(child);
  } catch (...) {
    ::kill(child, SIGKILL);
    reap();
    throw;
  }
  if (!placed) {
    ::kill(child, SIGKILL);
    reap();
    return static_cast<int>(ExitCode::denied);
  }
  const char byte = 1;
  if (::write(go[1], &byte, 1) != 1) throw IoError("pipe", errno, "cannot start the command");
  ::close(go[1]);
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int exec_err = 0;
  ssize_t got = ::read(errpipe[0], &exec_err, sizeof exec_err);
  ::close(errpipe[0]);
  const int st = reap();
  if (got == sizeof exec_err) {
    std::cerr << "execgate run: " << ticket_verbs::printable(cmd[0]) << ": " << std::strerror(exec_err)
              << (exec_err == EPERM || exec_err == EACCES
                      ? " (denied by the gate: the reason is in the audit log, `execgate audit tail`)"
                      : "")
              << "\n";
    return exec_err == EPERM || exec_err == EACCES ? static_cast<int>(ExitCode::denied) : 127;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

}  // namespace

void add_run_verb(CLI::App& app, Cli& cli) {
  struct Opts {
    std::vector<std::string> tickets;
    std::vector<std::string> cmd;
    std::string job;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("run", "run CMD inside a fresh gated scope, tickets submitted first");
  sub->add_option("--ticket", o->tickets, "ticket file to submit first (repeatable)");
  sub->add_option("--job", o->job,
                  "run inside job ID (started first when not running, and then ended when CMD exits)");
  sub->add_option("cmd", o->cmd, "-- CMD [ARGS]")->required();
  sub->callback([&cli, o] {
    cli.action = [&cli, o]() -> int {
      const json status = daemon_call(cli.socket, {{"op", "status"}});
      if (!status["gate"].value("attached", false))
        throw Error(ErrorKind::kernel, "the gate is not attached: refusing to run ungated");
      if (!o->job.empty()) {
        // a job of its own when none runs: started here, ended when CMD exits
        const bool own = !jobs::running(status, o->job);
        if (own && !jobs::start(cli, o->job, "execgate run")) return static_cast<int>(ExitCode::denied);
        int rc = static_cast<int>(ExitCode::denied);
        try {
          if (jobs::submit_all(cli, o->tickets, "execgate run"))
            rc = run_placed(o->cmd, [&](pid_t child) { return jobs::join(cli, o->job, {child}, "execgate run"); });
        } catch (...) {
          if (own) jobs::end(cli, o->job, "execgate run");
          throw;
        }
        if (own && !jobs::end(cli, o->job, "execgate run") && rc == 0) rc = static_cast<int>(ExitCode::denied);
        return rc;
      }
      if (!jobs::submit_all(cli, o->tickets, "execgate run")) return static_cast<int>(ExitCode::denied);
      const std::string cg = make_scope_cgroup(status);
      const int rc = run_placed(o->cmd, [&](pid_t child) {
        if (!cg.empty()) move_into(cg, child);
        return true;
      });
      if (!cg.empty()) ::rmdir(cg.c_str());
      return rc;
    };
  });
}

}  // namespace execgate::cli
