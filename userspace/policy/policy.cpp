#include "execgate/policy.h"

#include <cctype>
#include <iterator>
#include <set>
#include <toml++/toml.h>

#include "common/fs.h"
#include "common/duration.h"

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

constexpr const char* kCapNames[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",       "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",      "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",      "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",   "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",     "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",        "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",      "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
  for (int i = 0; i < static_cast<int>(std::size(kCapNames)); ++i)
    if (up == kCapNames[i]) return i;
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && cap < static_cast<int>(std::size(kCapNames))) return kCapNames[cap];
  return "CAP_" + std::to_string(cap);
}

std::uint64_t default_scope_capabilities() {
  std::uint64_t mask = 0;
  // not CAP_DAC_READ_SEARCH: open_by_handle_at() opens a file with no parent directory
  // in reach, past every rule that judges a file by the directory it is in
  for (const char* n : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                        "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"})
    mask |= 1ull << *capability_number(n);
  return mask;
}

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
    const bool caps_named = scope->get("capabilities") != nullptr;
    for (const auto& c : r.strings("capabilities")) {
      if (c == "all") {
        p.scope_capabilities = ~0ull;
        continue;
      }
      auto n = capability_number(c);
      if (!n)
        r.fail(*scope->get("capabilities"), "capabilities",
               "unknown capability \"" + c + "\" (expected names such as \"CAP_NET_ADMIN\", or \"all\")");
      p.scope_capabilities |= 1ull << *n;
    }
    if (p.scope_host && !caps_named) p.scope_capabilities = ~0ull;  // a host-wide posture only when asked for
    for (const auto& a : r.strings("allow")) {
      if (a == "mount") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::mount);
      else if (a == "userns") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::userns);
      else if (a == "module_request") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::module_request);
      else if (a == "block_read") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::block_read);
      else
        r.fail(*scope->get("allow"), "allow",
               "unknown operation \"" + a +
                   "\" (expected \"mount\", \"userns\", \"module_request\" or \"block_read\")");
    }
    if (scope->get("launchers")) {
      p.scope_launchers = r.strings("launchers");
      for (const auto& l : p.scope_launchers) require_absolute(r, *scope, "launchers", l);
    } else {
      p.scope_launchers.assign(std::begin(kDefaultLauncherPrograms), std::end(kDefaultLauncherPrograms));
    }
    if (p.scope_host && !scope->get("allow"))
      p.scope_allow = static_cast<std::uint32_t>(ScopeAllow::mount) | static_cast<std::uint32_t>(ScopeAllow::userns) |
                      static_cast<std::uint32_t>(ScopeAllow::module_request) |
                      static_cast<std::uint32_t>(ScopeAllow::block_read);
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

  if (const toml::table* m = top.table("metrics")) {
    TableReader r(*m, "metrics", source);
    if (auto v = r.string("textfile")) {
      // node_exporter's textfile collector reads only *.prom files of its directory
      if (!v->empty() && (v->front() != '/' || !v->ends_with(".prom") || v->ends_with("/.prom")))
        r.fail(*m->get("textfile"), "textfile",
               "expected an absolute path of a .prom file (node_exporter's textfile collector reads *.prom), or \"\" "
               "for no metrics file, got \"" + *v + "\"");
      p.metrics.textfile = *v;
    }
    if (auto v = r.duration("interval")) {
      if (*v > kMaxMetricsIntervalSeconds)
        r.fail(*m->get("interval"), "interval",
               "expected a duration from 1s to " + std::to_string(kMaxMetricsIntervalSeconds / 60) + "m, got " +
                   std::to_string(*v) + " s");
      p.metrics.interval = *v;
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
