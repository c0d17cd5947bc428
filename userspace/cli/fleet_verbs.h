// Internal to the CLI: the `execgate fleet` verbs (docs/fleet.md "Operator verbs"), split
// over fleet_verbs.cpp (enroll, approve, publish) and fleet_status.cpp (status).
#pragma once

#include "cli.h"
#include "fleet_connection.h"

namespace execgate::cli::fleet_verbs {

void add_enroll(CLI::App& fleet, Cli& cli);
void add_approve(CLI::App& fleet, Cli& cli);
void add_publish(CLI::App& fleet, Cli& cli);
void add_status(CLI::App& fleet, Cli& cli);

}  // namespace execgate::cli::fleet_verbs
