// Shared plumbing of the operator CLI: global options and the action a verb selects.
// Each verb group lives in its own file and registers itself with add_*_verbs().
#pragma once

#include "execgate/defaults.h"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string_view>
#include <string>

namespace execgate::cli {


struct Cli {
  bool json = false;
  std::string socket = kDefaultSocketPath;
  // Set by the chosen verb's parse callback; returns the process exit code.
  std::function<int()> action;
};

// Text safe for a terminal: control characters, DEL and '\\' become \xNN, one line.
std::string printable(std::string_view s);
// "2026-11-26T06:30:00Z" (or the raw number if out of range).
std::string iso_time(std::int64_t unix_seconds);

// keygen, issue, inspect, verify, revoke (offline ticket verbs)
void add_ticket_verbs(CLI::App& app, Cli& cli);
// submit, tickets, status, fileinfo, run (talk to the daemon), policy check
void add_daemon_verbs(CLI::App& app, Cli& cli);
// audit verify, audit tail
void add_audit_verbs(CLI::App& app, Cli& cli);

}  // namespace execgate::cli
