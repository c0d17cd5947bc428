// execgate run [--ticket FILE ...] -- CMD [ARGS]: CMD runs in a fresh cgroup inside the
// gated scope, after its tickets were submitted. Exit status: CMD's; 3 when the gate
// denied CMD itself or a ticket was refused.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>

#include "cli.h"
#include "common/control_client.h"
#include "common/fs.h"
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

void join_cgroup(const std::string& dir) {
  const std::string procs = dir + "/cgroup.procs";
  UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  const std::string pid = std::to_string(::getpid());
  if (!fd || ::write(fd.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    std::cerr << "execgate run: cannot join " << dir << ": " << std::strerror(errno) << "\n";
    _exit(1);
  }
}

}  // namespace

void add_run_verb(CLI::App& app, Cli& cli) {
  struct Opts {
    std::vector<std::string> tickets;
    std::vector<std::string> cmd;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand("run", "run CMD inside a fresh gated scope, tickets submitted first");
  sub->add_option("--ticket", o->tickets, "ticket file to submit first (repeatable)");
  sub->add_option("cmd", o->cmd, "-- CMD [ARGS]")->required();
  sub->callback([&cli, o] {
    cli.action = [&cli, o]() -> int {
      for (const auto& f : o->tickets) {
        json r = daemon_call(cli.socket, {{"op", "submit"},
                                          {"document", read_file(f, ticket_verbs::kMaxDocumentFile)},
                                          {"source", "execgate run " + f}});
        if (r.value("result", "") == "refused") {
          std::cerr << "execgate run: " << ticket_verbs::printable(f) << ": refused " << r.value("reason", "") << ": "
                    << ticket_verbs::printable(r.value("detail", "")) << "\n";
          return static_cast<int>(ExitCode::denied);
        }
      }
      const json status = daemon_call(cli.socket, {{"op", "status"}});
      if (!status["gate"].value("attached", false))
        throw Error(ErrorKind::kernel, "the gate is not attached: refusing to run ungated");
      const std::string cg = make_scope_cgroup(status);

      int errpipe[2];
      if (::pipe2(errpipe, O_CLOEXEC) != 0) throw IoError("pipe", errno, "cannot create");
      pid_t child = ::fork();
      if (child < 0) throw IoError("fork", errno, "cannot fork");
      if (child == 0) {
        ::close(errpipe[0]);
        if (!cg.empty()) join_cgroup(cg);
        std::vector<char*> argv;
        for (auto& a : o->cmd) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        int err = errno;
        ssize_t ignored = ::write(errpipe[1], &err, sizeof err);
        (void)ignored;
        _exit(127);
      }
      ::close(errpipe[1]);
      signal(SIGINT, SIG_IGN);
      signal(SIGQUIT, SIG_IGN);
      int exec_err = 0;
      ssize_t got = ::read(errpipe[0], &exec_err, sizeof exec_err);
      ::close(errpipe[0]);
      int st = 0;
      while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
      }
      if (!cg.empty()) ::rmdir(cg.c_str());
      if (got == sizeof exec_err) {
        std::cerr << "execgate run: " << ticket_verbs::printable(o->cmd[0]) << ": " << std::strerror(exec_err)
                  << (exec_err == EPERM || exec_err == EACCES ? " (denied by the gate: the reason is in the audit log, `execgate audit tail`)" : "") << "\n";
        return exec_err == EPERM || exec_err == EACCES ? static_cast<int>(ExitCode::denied) : 127;
      }
      if (WIFEXITED(st)) return WEXITSTATUS(st);
      if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
      return 1;
    };
  });
}

}  // namespace execgate::cli
