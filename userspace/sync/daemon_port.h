// What execgate-sync asks of execgated (docs/fleet.md "The daemon's fleet requests"): a
// port, so that the sync's logic runs against the real socket (SocketDaemon) or, in the
// tests, a daemon on the fake gate in the same process.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace execgate::sync {

class DaemonPort {
 public:
  virtual ~DaemonPort() = default;
  // The daemon's reply (a refusal is a reply, not an error). Throw when the daemon cannot
  // be reached or fails the request: the sync then tries again from where it was.
  virtual nlohmann::json submit(const std::string& envelope, const std::string& key) = 0;
  virtual nlohmann::json forget(const std::string& key) = 0;
  virtual nlohmann::json contact(std::int64_t revision) = 0;
  // The fleet keys of the installed tickets.
  virtual std::set<std::string> fleet_keys() = 0;
};

// The control socket (common/control_client.h).
class SocketDaemon final : public DaemonPort {
 public:
  explicit SocketDaemon(std::string socket) : socket_(std::move(socket)) {}
  nlohmann::json submit(const std::string& envelope, const std::string& key) override;
  nlohmann::json forget(const std::string& key) override;
  nlohmann::json contact(std::int64_t revision) override;
  std::set<std::string> fleet_keys() override;

 private:
  std::string socket_;
};

}  // namespace execgate::sync
