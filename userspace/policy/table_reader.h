// TableReader: one TOML table of a policy read key by key. Every key read is remembered, so
// that anything else is reported as unknown with its line; every error names the file,
// the line, the table and the key (PolicyError).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "common/duration.h"
#include "execgate/policy.h"

namespace execgate::policy_detail {

class TableReader {
 public:
  TableReader(const toml::table& t, std::string where, const std::string& source)
      : t_(t), where_(std::move(where)), source_(source) {}

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& msg) const {
    throw PolicyError(source_, n.source().begin.line, prefix(key) + msg);
  }
  [[noreturn]] void fail_table(const std::string& msg) const {
    throw PolicyError(source_, t_.source().begin.line, where_.empty() ? msg : "[" + where_ + "] " + msg);
  }

  const toml::node* get(const std::string& key) {
    seen_.insert(key);
    return t_.get(key);
  }

  std::optional<std::string> string(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value<std::string>(); v && n->is_string()) return *v;
    fail(*n, key, "expected a string");
  }
  std::optional<bool> boolean(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(*n, key, "expected true or false");
    return *n->value<bool>();
  }
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t min, std::int64_t max) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(*n, key, "expected an integer");
    std::int64_t v = *n->value<std::int64_t>();
    if (v < min || v > max)
      fail(*n, key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return v;
  }
  std::vector<std::string> strings(const std::string& key) {
    std::vector<std::string> out;
    const toml::node* n = get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(*n, key, "expected an array of strings");
    for (const toml::node& e : *a) {
      if (!e.is_string()) fail(e, key, "expected an array of strings");
      out.push_back(*e.value<std::string>());
    }
    return out;
  }
  // A duration: integer seconds or a string such as "8h".
  std::optional<std::int64_t> duration(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (n->is_integer() && *n->value<std::int64_t>() > 0) return *n->value<std::int64_t>();
    if (n->is_string()) {
      try {
        return parse_duration(*n->value<std::string>());
      } catch (const Error& e) {
        fail(*n, key, e.what());
      }
    }
    fail(*n, key, "expected a duration such as \"90s\", \"15m\", \"8h\", \"7d\" or positive seconds");
  }
  const toml::table* table(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(*n, key, "expected a table [" + key + "]");
    return n->as_table();
  }
  void reject_unknown() const {
    for (const auto& [k, v] : t_) {
      std::string key(k.str());
      if (!seen_.count(key)) fail(v, key, "unknown key");
    }
  }

 private:
  std::string prefix(const std::string& key) const {
    return (where_.empty() ? "" : "[" + where_ + "] ") + key + ": ";
  }
  const toml::table& t_;
  std::string where_;
  const std::string& source_;
  std::set<std::string> seen_;
};

inline void require_absolute(TableReader& r, const toml::table& t, const std::string& key, const std::string& path) {
  if (path.empty() || path[0] != '/') r.fail(*t.get(key), key, "expected an absolute path, got \"" + path + "\"");
}

}  // namespace execgate::policy_detail
