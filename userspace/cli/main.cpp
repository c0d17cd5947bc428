// execgate: the operator CLI. Exit codes: 0 ok, 1 runtime error, 2 usage error,
// 3 verification failed / denied / not found.
#include <iostream>

#include "cli.h"
#include "execgate/error.h"

int main(int argc, char** argv) {
  using namespace execgate;
  CLI::App app{"execgate: issue, inspect and submit signed execution tickets"};
  app.require_subcommand(1);
  app.fallthrough();
  cli::Cli cli;
  app.add_flag("--json", cli.json, "machine-readable output");
  app.add_option("--socket", cli.socket, "daemon control socket")->capture_default_str();
  cli::add_ticket_verbs(app, cli);
  cli::add_daemon_verbs(app, cli);
  cli::add_audit_verbs(app, cli);
  cli::add_rollout_verbs(app, cli);
  cli::add_fleet_verbs(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }
  if (!cli.action) return static_cast<int>(ExitCode::usage);
  try {
    return cli.action();
  } catch (const Error& e) {
    std::cerr << "execgate: " << e.what() << "\n";
    return static_cast<int>(exit_code_for(e));
  } catch (const std::exception& e) {
    std::cerr << "execgate: " << e.what() << "\n";
    return static_cast<int>(ExitCode::runtime);
  }
}
