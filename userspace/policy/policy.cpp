#include "execgate/policy.h"

#include <set>
#include <toml++/toml.h>

#include "execgate/fs.h"
#include "execgate/ticket.h"

namespace execgate {

PolicyError::PolicyError(std::string source, std::uint32_t line, std::string message)
    : Error(ErrorKind::usage, source + ":" + std::to_string(line) + ": " + message), line_(line) {}

namespace {

// Walks one TOML table, remembering which keys were consumed so that anything else
// is reported as unknown with its line.
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

void require_absolute(TableReader& r, const toml::table& t, const std::string& key, const std::string& path) {
  if (path.empty() || path[0] != '/') r.fail(*t.get(key), key, "expected an absolute path, got \"" + path + "\"");
}

}  // namespace

Policy parse_policy(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw PolicyError(source, e.source().begin.line, std::string(e.description()));
  }
  Policy p;
  TableReader top(root, "", source);
  if (auto v = top.string("name")) p.name = *v;
  if (auto v = top.string("mode")) {
    if (*v == "enforce") p.mode = GateMode::enforce;
    else if (*v == "monitor") p.mode = GateMode::monitor;
    else top.fail(*root.get("mode"), "mode", "expected \"enforce\" or \"monitor\", got \"" + *v + "\"");
  }

  const toml::table* scope = top.table("scope");
  if (!scope) top.fail_table("missing [scope]: set cgroups = [\"/ci.slice\"] or host = true");
  {
    TableReader r(*scope, "scope", source);
    p.scope_host = r.boolean("host").value_or(false);
    p.scope_cgroups = r.strings("cgroups");
    for (const auto& c : p.scope_cgroups) {
      if (c.empty() || c[0] != '/' || c.find("..") != std::string::npos)
        r.fail(*scope->get("cgroups"), "cgroups", "expected cgroup v2 paths starting with '/', got \"" + c + "\"");
    }
    if (p.scope_cgroups.size() > kMaxScopeCgroups)
      r.fail(*scope->get("cgroups"), "cgroups",
             "at most " + std::to_string(kMaxScopeCgroups) + " cgroups, got " + std::to_string(p.scope_cgroups.size()) +
                 " (gate a common parent instead)");
    if (!p.scope_host && p.scope_cgroups.empty())
      r.fail_table("gates nothing: set cgroups = [\"/ci.slice\"] or host = true");
    r.reject_unknown();
  }

  if (const toml::table* b = top.table("baseline")) {
    TableReader r(*b, "baseline", source);
    if (auto v = r.string("trust")) {
      if (*v == "none") p.trust = BaselineTrust::none;
      else if (*v == "root-owned") p.trust = BaselineTrust::root_owned;
      else r.fail(*b->get("trust"), "trust", "expected \"none\" or \"root-owned\", got \"" + *v + "\"");
    }
    p.baseline_paths = r.strings("paths");
    for (const auto& path : p.baseline_paths) require_absolute(r, *b, "paths", path);
    r.reject_unknown();
  }

  if (const toml::node* n = top.get("issuer")) {
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables()) top.fail(*n, "issuer", "expected [[issuer]] tables");
    std::set<std::string> names;
    for (const toml::node& e : *arr) {
      const toml::table& t = *e.as_table();
      TableReader r(t, "issuer", source);
      IssuerPolicy is;
      auto name = r.string("name");
      if (!name || name->empty()) r.fail_table("name: required");
      is.name = *name;
      if (!names.insert(is.name).second) r.fail(*t.get("name"), "name", "duplicate issuer \"" + is.name + "\"");
      auto pub = r.string("pubkey");
      if (!pub) r.fail_table("issuer \"" + is.name + "\": pubkey: required (path of NAME.pub)");
      is.pubkey = *pub;
      require_absolute(r, t, "pubkey", is.pubkey);
      is.max_ttl = r.duration("max_ttl").value_or(0);
      is.allow_any_host = r.boolean("allow_any_host").value_or(false);
      r.reject_unknown();
      p.issuers.push_back(std::move(is));
    }
  }

  if (const toml::table* a = top.table("audit")) {
    TableReader r(*a, "audit", source);
    if (auto v = r.string("path")) {
      p.audit.path = *v;
      require_absolute(r, *a, "path", *v);
    }
    if (auto v = r.string("signing_key")) {
      p.audit.signing_key = *v;
      require_absolute(r, *a, "signing_key", *v);
    }
    p.audit.required = r.boolean("required").value_or(false);
    p.audit.checkpoint_every = static_cast<std::uint64_t>(r.integer("checkpoint_every", 1, 1'000'000).value_or(1000));
    p.audit.rotate_bytes = static_cast<std::uint64_t>(r.integer("rotate_bytes", 4096, 1ll << 40).value_or(64ll << 20));
    if (auto kib = r.integer("ringbuf_kib", 4, 1 << 20)) {
      if ((*kib & (*kib - 1)) != 0) r.fail(*a->get("ringbuf_kib"), "ringbuf_kib", "expected a power of two");
      p.audit.ringbuf_kib = static_cast<std::uint32_t>(*kib);
    }
    r.reject_unknown();
  }

  if (const toml::table* c = top.table("control")) {
    TableReader r(*c, "control", source);
    p.control_group = r.string("group").value_or("");
    r.reject_unknown();
  }
  top.reject_unknown();
  return p;
}

Policy load_policy(const std::string& path) {
  return parse_policy(read_file(path, 1 << 20), path);
}

std::string to_string(GateMode m) { return m == GateMode::enforce ? "enforce" : "monitor"; }
std::string to_string(BaselineTrust t) { return t == BaselineTrust::none ? "none" : "root-owned"; }

}  // namespace execgate
