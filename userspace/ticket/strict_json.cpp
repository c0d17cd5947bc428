// Defensive JSON parsing: every failure becomes a MalformedError naming the field.
#include "strict_json.h"

#include <algorithm>
#include <vector>

#include "execgate/ticket_errors.h"

namespace execgate::ticket_detail {

using nlohmann::json;

void fail_field(const std::string& what, const std::string& field, const std::string& expected) {
  throw MalformedError(what + ": field '" + field + "': expected " + expected);
}

json parse_strict(std::string_view text, const std::string& what, int max_depth) {
  std::vector<std::vector<std::string>> keys;  // keys seen in each open object
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= max_depth) throw MalformedError(what + ": JSON nested too deeply");
        if (ev == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key: {
        if (keys.empty() || !parsed.is_string()) break;
        auto& seen = keys.back();
        const auto& k = parsed.get_ref<const std::string&>();
        if (std::find(seen.begin(), seen.end(), k) != seen.end())
          throw MalformedError(what + ": duplicate key '" + k + "'");
        seen.push_back(k);
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    throw MalformedError(what + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

FieldReader::FieldReader(const json& obj, std::string what, std::string prefix)
    : obj_(obj), what_(std::move(what)), prefix_(std::move(prefix)) {
  if (!obj_.is_object()) {
    if (prefix_.empty()) throw MalformedError(what_ + ": expected a JSON object");
    std::string p = prefix_;
    if (!p.empty() && p.back() == '.') p.pop_back();
    fail_field(what_, p, "an object");
  }
}

void FieldReader::fail(const std::string& key, const std::string& expected) const {
  fail_field(what_, name(key), expected);
}

bool FieldReader::has(const char* key) const { return obj_.contains(key); }

const json& FieldReader::get(const char* key) const {
  auto it = obj_.find(key);
  if (it == obj_.end()) throw MalformedError(what_ + ": missing required field '" + name(key) + "'");
  return *it;
}

std::string FieldReader::string(const char* key, std::size_t max_bytes, bool allow_empty) const {
  const json& v = get(key);
  if (!v.is_string()) fail(key, "a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_bytes) fail(key, "at most " + std::to_string(max_bytes) + " bytes");
  if (!allow_empty && s.empty()) fail(key, "a non-empty string");
  if (s.find('\0') != std::string::npos) fail(key, "a string without NUL characters");
  return s;
}

std::int64_t FieldReader::int64(const char* key) const {
  const json& v = get(key);
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
  }
  fail(key, "an integer (unix seconds) in the signed 64-bit range");
}

std::uint64_t FieldReader::uint64(const char* key) const {
  const json& v = get(key);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  fail(key, "a non-negative integer");
}

const json& FieldReader::array(const char* key, std::size_t min, std::size_t max) const {
  const json& v = get(key);
  if (!v.is_array()) fail(key, "an array");
  if (v.size() < min || v.size() > max)
    fail(key, "an array of " + std::to_string(min) + " to " + std::to_string(max) + " entries (got " +
                  std::to_string(v.size()) + ")");
  return v;
}

void FieldReader::only(std::initializer_list<const char*> allowed) const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; });
    if (!ok) throw MalformedError(what_ + ": unknown field '" + name(it.key()) + "'");
  }
}

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned c = p[i];
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace execgate::ticket_detail
