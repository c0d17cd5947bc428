// The built `execgate` binary run by the CLI tests (ticket_cli_test, fleet_cli_test): its
// exit code, stdout and stderr, run in a directory with no stdin.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "common/fs.h"

#ifndef EXECGATE_CLI_PATH
#error "EXECGATE_CLI_PATH must name the built execgate binary"
#endif

namespace execgate::test {

struct Result {
  int rc = -1;
  std::string out, err;
};

inline std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// `execgate ARGS` (ARGS a shell word list) run in DIR; its output through DIR/stdout and
// DIR/stderr.
inline Result run_cli(const std::string& dir, const std::string& args) {
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string cmd = "cd " + sh_quote(dir) + " && " + sh_quote(EXECGATE_CLI_PATH) + " " + args + " >" +
                          sh_quote(out) + " 2>" + sh_quote(err) + " </dev/null";
  const int st = std::system(cmd.c_str());
  Result r;
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = read_file(out, 1 << 20);
  r.err = read_file(err, 1 << 20);
  return r;
}

}  // namespace execgate::test
