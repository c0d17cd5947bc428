// Shared plumbing of the operator CLI: global options and the action a verb selects.
// Each verb group lives in its own file and registers itself with add_*_verbs().
#pragma once

#include "execgate/defaults.h"

#include <CLI/CLI.hpp>

#include "common/text.h"
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

// Terminal-safe text, readable times (common/text.h).
using execgate::iso_time;
using execgate::printable;

// keygen, issue, inspect, verify, revoke (offline ticket verbs)
void add_ticket_verbs(CLI::App& app, Cli& cli);
// submit, tickets, status, fileinfo, run, job (talk to the daemon), policy check (and simulate)
void add_daemon_verbs(CLI::App& app, Cli& cli);
// audit verify, audit tail
void add_audit_verbs(CLI::App& app, Cli& cli);
// suggest; and `policy simulate` under the policy verb (rollout_verbs.cpp)
void add_rollout_verbs(CLI::App& app, Cli& cli);
void add_policy_simulate(CLI::App& policy, Cli& cli);
// fleet enroll, approve, publish, status (etcd; fleet_verbs.cpp, fleet_status.cpp)
void add_fleet_verbs(CLI::App& app, Cli& cli);

}  // namespace execgate::cli
