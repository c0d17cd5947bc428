// Talks to execgated over its control socket: one JSON request, one JSON reply (the CLI,
// execgate-sync).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "execgate/error.h"

namespace execgate {

// The daemon could not be reached at all (no socket, refused, no answer).
class DaemonUnreachable : public Error {
 public:
  explicit DaemonUnreachable(std::string msg) : Error(ErrorKind::io, std::move(msg)) {}
};

// Throws DaemonUnreachable with the socket path and a hint when the daemon cannot be
// reached, and Error(io) when the daemon answers {"ok": false}.
nlohmann::json daemon_call(const std::string& socket, const nlohmann::json& request,
                           std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace execgate
