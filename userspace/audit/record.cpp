// Record canonicalization, hashing, line format and time stamps (docs/audit.md).
#include <sodium.h>

#include <array>
#include <ctime>

#include "execgate/audit.h"
#include "execgate/encoding.h"

namespace execgate {

namespace {
constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr std::array<std::string_view, 9> kEvents = {"exec",           "ticket_installed", "ticket_refused",
                                                     "ticket_expired", "ticket_revoked",   "gap",
                                                     "checkpoint",     "daemon_start",     "daemon_stop"};
}  // namespace

bool is_audit_event(std::string_view event) noexcept {
  for (auto e : kEvents)
    if (e == event) return true;
  return false;
}

std::string audit_canonical(const nlohmann::json& record) {
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string audit_hash_hex(std::string_view canonical) {
  std::array<std::uint8_t, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
                     nullptr, 0);
  return hex_encode(h);
}

std::string audit_line(std::string_view canonical, std::string_view hash_hex) {
  std::string line;
  line.reserve(canonical.size() + kHashKey.size() + hash_hex.size() + 3);
  line.append(canonical.substr(0, canonical.size() - 1));  // drop '}'
  line.append(kHashKey).append(hash_hex).append("\"}\n");
  return line;
}

std::string format_audit_time(std::int64_t unix_seconds, long nanoseconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanoseconds);
  return buf;
}

bool parse_audit_line(std::string_view line, nlohmann::json* record, std::string* why) {
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *why = "not valid JSON";
    return false;
  }
  if (!j.is_object()) {
    *why = "not a JSON object";
    return false;
  }
  auto it = j.find("hash");
  if (it == j.end() || !it->is_string() || !is_lower_hex(it->get_ref<const std::string&>(), 64)) {
    *why = "missing or malformed hash";
    return false;
  }
  std::string stored = it->get<std::string>();
  j.erase(it);
  std::string canonical = j.dump();  // parsed strings are valid UTF-8
  std::string expect = audit_line(canonical, stored);
  expect.pop_back();  // '\n'
  if (expect != line) {
    *why = "not in canonical form (re-encoded, reordered or duplicated members)";
    return false;
  }
  if (audit_hash_hex(canonical) != stored) {
    *why = "hash does not match the record's contents";
    return false;
  }
  j["hash"] = std::move(stored);
  *record = std::move(j);
  return true;
}

}  // namespace execgate
