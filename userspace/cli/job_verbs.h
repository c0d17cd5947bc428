// The job requests as the CLI makes them (job_verbs.cpp): `execgate job start|end` and
// `execgate run --job` share them. Each prints a refusal on stderr, prefixed WHO, and
// answers false for it (exit 3); a daemon that cannot be reached or fails throws.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.h"

namespace execgate::cli::jobs {

// Whether STATUS (the daemon's status reply) lists job ID as running.
bool running(const nlohmann::json& status, const std::string& id);
// start: CGROUP, when given, gets the job's cgroup directory (the hierarchy's root prefixed).
bool start(Cli& cli, const std::string& id, const std::string& who, std::string* cgroup = nullptr);
bool join(Cli& cli, const std::string& id, const std::vector<pid_t>& pids, const std::string& who);
bool end(Cli& cli, const std::string& id, const std::string& who);
// Submits each ticket file: false at the first one refused.
bool submit_all(Cli& cli, const std::vector<std::string>& files, const std::string& who);

}  // namespace execgate::cli::jobs
