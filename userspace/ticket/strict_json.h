// Internal: defensive JSON parsing shared by the envelope and body parsers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace execgate::ticket_detail {

// Parses text as JSON, rejecting syntax errors, invalid UTF-8, duplicate object keys and
// nesting deeper than max_depth. `what` ("envelope", "ticket body", ...) prefixes
// messages. Throws MalformedError; never anything else from nlohmann.
nlohmann::json parse_strict(std::string_view text, const std::string& what, int max_depth);

// Typed accessors for one field of an object. `field` is the full field name used in the
// message (e.g. "subjects[3].sha256"). All throw MalformedError "<what>: field '<field>': expected ...".
class FieldReader {
 public:
  FieldReader(const nlohmann::json& obj, std::string what, std::string prefix = "");

  bool has(const char* key) const;
  const nlohmann::json& get(const char* key) const;  // required
  std::string string(const char* key, std::size_t max_bytes, bool allow_empty = true) const;
  std::int64_t int64(const char* key) const;
  std::uint64_t uint64(const char* key) const;
  bool boolean(const char* key) const;  // optional: absent is false
  const nlohmann::json& array(const char* key, std::size_t min, std::size_t max) const;
  // Throws if the object has a key not in `allowed`.
  void only(std::initializer_list<const char*> allowed) const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  std::string name(const std::string& key) const { return prefix_ + key; }

 private:
  const nlohmann::json& obj_;
  std::string what_, prefix_;
};

[[noreturn]] void fail_field(const std::string& what, const std::string& field, const std::string& expected);

// Checks a string value: valid length, no NUL bytes (UTF-8 validity is checked by the JSON
// parser on input and by check_utf8 on output).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace execgate::ticket_detail
