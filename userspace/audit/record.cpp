// Record canonicalization, hashing, line format and time stamps (docs/audit.md).

#include <array>
#include <charconv>
#include <ctime>

#include "crypto/blake2b.h"
#include "execgate/audit.h"
#include "common/encoding.h"

namespace execgate {

namespace {
constexpr std::string_view kHashKey = ",\"hash\":\"";
}  // namespace

bool is_audit_event(std::string_view event) noexcept { return parse_event(event).has_value(); }

std::string audit_canonical(const nlohmann::json& record) {
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// Strings that need no escaping and are plain ASCII are copied; anything else goes through
// nlohmann's serializer so the bytes are identical to json::dump (replace handler).
void dump_string(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
      out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out.append(s);
  out += '"';
}

template <typename T>
void dump_int(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

void dump_value(std::string& out, const nlohmann::json& v) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null:
      out += "null";
      return;
    case T::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case T::number_integer:
      dump_int(out, v.get<std::int64_t>());
      return;
    case T::number_unsigned:
      dump_int(out, v.get<std::uint64_t>());
      return;
    case T::string:
      dump_string(out, v.get_ref<const std::string&>());
      return;
    case T::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        dump_value(out, e);
      }
      out += ']';
      return;
    }
    case T::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out += ',';
        first = false;
        dump_string(out, k);
        out += ':';
        dump_value(out, e);
      }
      out += '}';
      return;
    }
    default:  // floating point, binary
      out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace

void append_audit_canonical(std::string& out, const nlohmann::json& fields, std::uint64_t seq,
                            std::string_view time, std::string_view prev) {
  // Keys in byte order, with "prev" < "seq" < "time" merged in.
  struct Injected {
    std::string_view key;
    int kind;
  };
  static constexpr Injected kInjected[] = {{"prev", 0}, {"seq", 1}, {"time", 2}};
  std::size_t next = 0;
  bool first = true;
  auto emit_injected = [&](const Injected& inj) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out.append(inj.key);
    out += "\":";
    if (inj.kind == 0)
      dump_string(out, prev);
    else if (inj.kind == 1)
      dump_int(out, seq);
    else
      dump_string(out, time);
  };
  out += '{';
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string& k = it.key();
    while (next < 3 && std::string_view(kInjected[next].key) < std::string_view(k)) emit_injected(kInjected[next++]);
    if (k == "time") continue;  // always the writer's
    if (!first) out += ',';
    first = false;
    dump_string(out, k);
    out += ':';
    dump_value(out, it.value());
  }
  while (next < 3) emit_injected(kInjected[next++]);
  out += '}';
}

std::string audit_hash_hex(std::string_view canonical) {
  return hex_encode(blake2b_256(canonical));
}

std::string audit_line(std::string_view canonical, std::string_view hash_hex) {
  std::string line;
  line.reserve(canonical.size() + kHashKey.size() + hash_hex.size() + 3);
  line.append(canonical.substr(0, canonical.size() - 1));  // drop '}'
  // ,"hash":"<hex>"} after the last member; an empty object has none to follow
  line.append(canonical == "{}" ? kHashKey.substr(1) : kHashKey).append(hash_hex).append("\"}\n");
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

std::optional<std::int64_t> parse_audit_time(std::string_view time) {
  // YYYY-MM-DDTHH:MM:SS, then any fraction, then Z
  if (time.size() < 20 || time.back() != 'Z' || time[4] != '-' || time[7] != '-' || time[10] != 'T' ||
      time[13] != ':' || time[16] != ':')
    return std::nullopt;
  int f[6] = {};
  const std::size_t at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    const char* b = time.data() + at[i];
    auto r = std::from_chars(b, b + len[i], f[i]);
    if (r.ec != std::errc() || r.ptr != b + len[i]) return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = f[0] - 1900;
  tm.tm_mon = f[1] - 1;
  tm.tm_mday = f[2];
  tm.tm_hour = f[3];
  tm.tm_min = f[4];
  tm.tm_sec = f[5];
  return static_cast<std::int64_t>(timegm(&tm));
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
