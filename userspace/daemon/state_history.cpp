#include "state_history.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "execgate/audit.h"
#include "common/fs.h"

namespace execgate {
using nlohmann::json;

namespace {

// The records that change the state: a cheap substring test before any JSON is parsed.
bool state_event(const std::string& line) {
  for (const char* event : {"\"event\":\"ticket_installed\"", "\"event\":\"ticket_revoked\"", "\"event\":\"ticket_expired\""})
    if (line.find(event) != std::string::npos) return true;
  return false;
}

}  // namespace

AuditedState audited_state(const std::string& log_path) {
  AuditedState out;
  std::set<std::string> limited;  // tickets installed with max_uses: spent when they go
  for (const auto& file : audit_log_files(log_path)) {
    std::istringstream in(read_file(file, std::size_t{1} << 32));
    for (std::string line; std::getline(in, line);) {
      if (!state_event(line)) continue;
      json r = json::parse(line, nullptr, false);
      if (!r.is_object() || !r.contains("ticket") || !r["ticket"].is_string() || !r.contains("seq")) continue;
      const std::string id = r["ticket"];
      const std::string event = r.value("event", "");
      const std::string reason = r.value("reason", "");
      const std::uint64_t seq = r["seq"].is_number_unsigned() ? r["seq"].get<std::uint64_t>() : 0;
      if (event == "ticket_installed") {
        if (r.contains("max_uses") && r["max_uses"].is_number() && r["max_uses"].get<std::int64_t>() > 0)
          limited.insert(id);
      } else if (event == "ticket_revoked" && reason == "revoked") {
        out.revoked.emplace(id, seq);
        if (limited.count(id)) out.spent.emplace(id, seq);
      } else if (reason == "exhausted" || limited.count(id)) {  // expired, untrusted_issuer
        out.spent.emplace(id, seq);
      }
    }
  }
  return out;
}

std::optional<std::string> rewound_state(const StateSnapshot& state, const AuditedState& audited,
                                         const StateStore& store) {
  for (const auto& [id, seq] : audited.revoked)
    if (!state.tombstones.count(id))
      return store.tombstone_path(id) + " is missing: the audit log records the ticket's revocation (seq " +
             std::to_string(seq) + ")";
  for (const auto& [id, seq] : audited.spent)
    if (!state.spent.count(id))
      return store.spent_path(id) + " is missing: the audit log records the ticket as spent (seq " +
             std::to_string(seq) + ")";
  return std::nullopt;
}

}  // namespace execgate
