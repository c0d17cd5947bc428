// Defensive JSON parsing: every failure becomes a MalformedError naming the field.
#include "strict_json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "execgate/ticket_errors.h"

namespace execgate::ticket_detail {

using nlohmann::json;

void fail_field(const std::string& what, const std::string& field, const std::string& expected) {
  throw MalformedError(what + ": field '" + field + "': expected " + expected);
}

namespace {

// A small strict RFC 8259 parser that builds an nlohmann::json DOM. It exists because the
// envelope is mostly one long base64 string and nlohmann's lexer copies it one character
// at a time; this parser scans strings in bulk, which keeps verify_document close to the
// cost of the Ed25519 check (see tests/bench/ticket_bench.cpp). It also rejects duplicate
// keys and nesting deeper than max_depth, which nlohmann does not. The fuzzer
// (tests/fuzz/ticket_parse_fuzz.cpp) cross-checks it against nlohmann::json::parse.
class Parser {
 public:
  Parser(std::string_view text, const std::string& what, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), begin_(text.data()), what_(what), max_depth_(max_depth) {}

  json parse_document() {
    skip_ws();
    json v = value(0);
    skip_ws();
    if (p_ != end_) fail("unexpected data after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw MalformedError(what_ + ": not valid JSON (" + msg + " at offset " + std::to_string(p_ - begin_) + ")");
  }

  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void expect_literal(std::string_view lit) {
    if (static_cast<std::size_t>(end_ - p_) < lit.size() || std::string_view(p_, lit.size()) != lit)
      fail("invalid literal");
    p_ += lit.size();
  }

  json value(int depth) {
    if (p_ == end_) fail("unexpected end of input");
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return json(string());
      case 't': expect_literal("true"); return json(true);
      case 'f': expect_literal("false"); return json(false);
      case 'n': expect_literal("null"); return json(nullptr);
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return number();
        fail("unexpected character");
    }
  }

  json object(int depth) {
    if (depth > max_depth_) throw MalformedError(what_ + ": JSON nested too deeply");
    ++p_;  // '{'
    json obj = json::object();
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return obj;
    }
    for (;;) {
      skip_ws();
      if (p_ == end_ || *p_ != '"') fail("expected a string key");
      std::string k = string();
      if (obj.contains(k)) throw MalformedError(what_ + ": duplicate key '" + k + "'");
      skip_ws();
      if (p_ == end_ || *p_ != ':') fail("expected ':'");
      ++p_;
      skip_ws();
      obj.emplace(std::move(k), value(depth));
      skip_ws();
      if (p_ == end_) fail("unexpected end of input");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == '}') { ++p_; return obj; }
      fail("expected ',' or '}'");
    }
  }

  json array(int depth) {
    if (depth > max_depth_) throw MalformedError(what_ + ": JSON nested too deeply");
    ++p_;  // '['
    json arr = json::array();
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return arr;
    }
    for (;;) {
      skip_ws();
      arr.push_back(value(depth));
      skip_ws();
      if (p_ == end_) fail("unexpected end of input");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == ']') { ++p_; return arr; }
      fail("expected ',' or ']'");
    }
  }

  unsigned hex4() {
    if (end_ - p_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return v;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string string() {
    ++p_;  // '"'
    std::string out;
    for (;;) {
      // Copy the run of plain characters in one go.
      const char* run = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
      if (!valid_utf8(std::string_view(run, static_cast<std::size_t>(p_ - run)))) {
        p_ = run;
        fail("invalid UTF-8 in string");
      }
      out.append(run, p_);
      if (p_ == end_) fail("unterminated string");
      const char c = *p_++;
      if (c == '"') return out;
      if (c != '\\') {
        --p_;
        fail("control character in string");
      }
      if (p_ == end_) fail("unterminated string");
      switch (*p_++) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) fail("unpaired low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail("unpaired high surrogate");
            p_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("invalid surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          fail("invalid escape");
      }
    }
  }

  json number() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    const std::string_view digits(start, static_cast<std::size_t>(p_ - start));
    if (!is_float) {
      // Exact integer if it fits (like nlohmann: int64 for negatives, uint64 otherwise).
      std::uint64_t mag = 0;
      bool overflow = false;
      for (char c : digits.substr(negative ? 1 : 0)) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (mag > (UINT64_MAX - d) / 10) {
          overflow = true;
          break;
        }
        mag = mag * 10 + d;
      }
      if (!overflow) {
        if (!negative) return json(mag);
        if (mag <= static_cast<std::uint64_t>(INT64_MAX) + 1)
          return json(mag == static_cast<std::uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<std::int64_t>(mag));
      }
    }
    const std::string copy(digits);
    char* endp = nullptr;
    const double d = std::strtod(copy.c_str(), &endp);
    if (endp != copy.c_str() + copy.size() || !std::isfinite(d)) fail("number out of range");
    return json(d);
  }

  const char* p_;
  const char* end_;
  const char* begin_;
  const std::string& what_;
  int max_depth_;
};

}  // namespace

json parse_strict(std::string_view text, const std::string& what, int max_depth) {
  return Parser(text, what, max_depth).parse_document();
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

bool FieldReader::boolean(const char* key) const {
  if (!has(key)) return false;
  const json& v = get(key);
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

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
