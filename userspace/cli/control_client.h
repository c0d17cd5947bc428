// Talks to execgated over its control socket: one JSON request, one JSON reply.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace execgate::cli {

// Throws Error(io) with the socket path and a hint when the daemon is unreachable, and
// Error(runtime-ish) when the daemon answers {"ok": false}.
nlohmann::json daemon_call(const std::string& socket, const nlohmann::json& request,
                           std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace execgate::cli
