#include "sync/daemon_port.h"

#include "common/control_client.h"

namespace execgate::sync {
using nlohmann::json;

namespace {
constexpr std::chrono::seconds kTimeout{30};
}

json SocketDaemon::submit(const std::string& envelope, const std::string& key) {
  return daemon_call(socket_, {{"op", "fleet_submit"}, {"document", envelope}, {"key", key}}, kTimeout);
}

json SocketDaemon::forget(const std::string& key) {
  return daemon_call(socket_, {{"op", "fleet_forget"}, {"key", key}}, kTimeout);
}

json SocketDaemon::contact(std::int64_t revision) {
  return daemon_call(socket_, {{"op", "fleet_contact"}, {"revision", revision}}, kTimeout);
}

std::set<std::string> SocketDaemon::fleet_keys() {
  const json r = daemon_call(socket_, {{"op", "tickets"}}, kTimeout);
  std::set<std::string> keys;
  for (const auto& t : r.at("tickets"))
    if (t.contains("fleet_key") && t["fleet_key"].is_string()) keys.insert(t["fleet_key"].get<std::string>());
  return keys;
}

}  // namespace execgate::sync
