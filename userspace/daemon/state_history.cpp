#include "state_history.h"

#include <algorithm>
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

// An exec the kernel allowed through a ticket: the ticket's id, else "".
std::string_view ticket_hit(std::string_view line) {
  for (std::string_view member : {R"("event":"exec")", R"("verdict":"allow")", R"("reason":"ticket")"})
    if (line.find(member) == std::string_view::npos) return {};
  constexpr std::string_view kTicket = R"("ticket":")";
  const auto at = line.find(kTicket);
  if (at == std::string_view::npos || line.size() < at + kTicket.size() + 32) return {};
  return line.substr(at + kTicket.size(), 32);
}

}  // namespace

AuditedState audited_state(const std::string& log_path) {
  AuditedState out;
  std::set<std::string> limited;  // tickets installed with max_uses: spent when they go
  for (const auto& file : audit_log_files(log_path)) {
    std::istringstream in(read_file(file, std::size_t{1} << 32));
    for (std::string line; std::getline(in, line);) {
      if (out.first_time == 0) {
        json r = json::parse(line, nullptr, false);
        if (r.is_object() && r.contains("time") && r["time"].is_string())
          out.first_time = parse_audit_time(r["time"].get<std::string>()).value_or(0);
      }
      if (auto id = ticket_hit(line); !id.empty()) {
        ++out.hits[std::string(id)].count;  // installed_at stays 0 when its install is in a pruned file
        continue;
      }
      if (!state_event(line)) continue;
      json r = json::parse(line, nullptr, false);
      if (!r.is_object() || !r.contains("ticket") || !r["ticket"].is_string() || !r.contains("seq")) continue;
      const std::string id = r["ticket"];
      const std::string event = r.value("event", "");
      const std::string reason = r.value("reason", "");
      const std::uint64_t seq = r["seq"].is_number_unsigned() ? r["seq"].get<std::uint64_t>() : 0;
      if (event == "ticket_installed") {
        out.hits[id] = AuditedHits{0, r.contains("time") && r["time"].is_string()
                                          ? parse_audit_time(r["time"].get<std::string>()).value_or(0)
                                          : 0};
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

std::map<std::string, TicketHits> hits_at_start(const StateSnapshot& state, const AuditedState& audited) {
  std::map<std::string, TicketHits> out;
  for (const auto& [id, rec] : state.installed) {
    const auto it = audited.hits.find(id);
    const AuditedHits h = it == audited.hits.end() ? AuditedHits{} : it->second;
    out[id] = TicketHits{h.count, h.installed_at ? h.installed_at : std::max(rec.installed_at, audited.first_time)};
  }
  return out;
}

}  // namespace execgate
