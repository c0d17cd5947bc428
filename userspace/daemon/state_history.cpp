#include "state_history.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "execgate/audit.h"
#include "common/fs.h"
#include "execgate/error.h"
#include "execgate/names.h"

namespace execgate {
using nlohmann::json;

namespace {

// `"key":"value"`: a member as canonical record bytes hold it (docs/audit.md).
std::string member(std::string_view key, std::string_view value) {
  return "\"" + std::string(key) + "\":\"" + std::string(value) + "\"";
}

// The records that change the state: a cheap substring test before any JSON is parsed.
bool state_event(const std::string& line) {
  static const std::string kEvents[] = {
      member("event", name(EventKind::ticket_installed)), member("event", name(EventKind::ticket_revoked)),
      member("event", name(EventKind::ticket_expired)),   member("event", name(EventKind::daemon_start)),
      member("event", name(EventKind::state_reset))};
  for (const std::string& event : kEvents)
    if (line.find(event) != std::string::npos) return true;
  return false;
}

// An exec the kernel allowed through a ticket: the ticket's id, else "".
std::string_view ticket_hit(std::string_view line) {
  static const std::string kMembers[] = {member("event", name(EventKind::exec)),
                                         member("verdict", name(Verdict::allow)),
                                         member("reason", name(Reason::ticket))};
  for (std::string_view m : kMembers)
    if (line.find(m) == std::string_view::npos) return {};
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
      if (!r.is_object() || !r.contains("seq") || !r.contains("event") || !r["event"].is_string()) continue;
      const std::string event = r["event"];
      const std::uint64_t seq = r["seq"].is_number_unsigned() ? r["seq"].get<std::uint64_t>() : 0;
      if (event == name(EventKind::state_reset)) {  // a purge: what came before no longer binds the state directory
        const std::int64_t first = out.first_time;
        out = AuditedState{};
        limited.clear();
        out.first_time = r.contains("time") && r["time"].is_string()
                             ? parse_audit_time(r["time"].get<std::string>()).value_or(first)
                             : first;
        continue;
      }
      if (event == name(EventKind::daemon_start)) {
        if (r.contains("state_key") && r["state_key"].is_string()) out.state_key = AuditedStateKey{r["state_key"], seq};
        continue;
      }
      if (!r.contains("ticket") || !r["ticket"].is_string()) continue;
      const std::string id = r["ticket"];
      const std::string reason = r.value("reason", "");
      if (event == name(EventKind::ticket_installed)) {
        out.installed.insert(id);
        out.hits[id] = AuditedHits{0, r.contains("time") && r["time"].is_string()
                                          ? parse_audit_time(r["time"].get<std::string>()).value_or(0)
                                          : 0};
        if (r.contains("max_uses") && r["max_uses"].is_number() && r["max_uses"].get<std::int64_t>() > 0)
          limited.insert(id);
      } else if (event == name(EventKind::ticket_revoked) && reason == name(RefusalReason::revoked)) {
        out.revoked.emplace(id, seq);
        if (limited.count(id)) out.spent.emplace(id, seq);
      } else if (reason == name(Reason::exhausted) || limited.count(id)) {  // expired, untrusted_issuer
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

std::string state_reset_marker(const std::string& log_path) {
  return (std::filesystem::path(audit_live_path(log_path)).parent_path() / "state-reset").string();
}

StateSeal open_state_seal(const StateStore& store, const AuditedState& audited, bool* created) {
  const std::string path = store.key_path();
  *created = false;
  if (!path_exists(path)) {
    if (audited.state_key)
      throw Error(ErrorKind::validation,
                  path + " is missing: the audit log's daemon_start record (seq " +
                      std::to_string(audited.state_key->seq) + ") names state key " + audited.state_key->id +
                      ": this is not the state directory that goes with the audit log");
    *created = true;
    return StateSeal::create(path);
  }
  StateSeal seal = StateSeal::load(path);
  if (audited.state_key && audited.state_key->id != seal.key_id())
    throw Error(ErrorKind::validation, path + " is state key " + seal.key_id() +
                                           ", but the audit log's daemon_start record (seq " +
                                           std::to_string(audited.state_key->seq) + ") names state key " +
                                           audited.state_key->id +
                                           ": this is not the state directory that goes with the audit log");
  return seal;
}

void authenticate_installed(StateSnapshot& state, const AuditedState& audited, StateStore& store,
                            const StateSeal& seal, bool created) {
  for (auto& [id, rec] : state.installed) {
    if (seal.verifies(id, rec)) continue;
    if (rec.seal.empty() && created && audited.installed.count(id)) {
      store.put_installed(id, rec);  // this daemon's own, from before seals: sealed now
      continue;
    }
    rec.unrecognised = rec.seal.empty()
                           ? std::string("has no state seal") +
                                 (created ? " and the audit log records no ticket_installed for it" : "")
                           : "has a seal that does not verify with this host's state key " + seal.key_id();
  }
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
