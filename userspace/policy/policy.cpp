#include "execgate/policy.h"

#include <iterator>
#include <set>
#include <toml++/toml.h>

#include "common/fs.h"
#include "policy/table_reader.h"

namespace execgate {

PolicyError::PolicyError(std::string source, std::uint32_t line, std::string message)
    : Error(ErrorKind::usage, source + ":" + std::to_string(line) + ": " + message), line_(line) {}

namespace {

using policy_detail::require_absolute;
using policy_detail::TableReader;

// [scope] capabilities: names, or "all"; a host-wide scope keeps every one unless named.
void parse_scope_capabilities(TableReader& r, const toml::table& scope, Policy& p) {
  const bool named = scope.get("capabilities") != nullptr;
  for (const auto& c : r.strings("capabilities")) {
    if (c == "all") {
      p.scope_capabilities = ~0ull;
      continue;
    }
    auto n = capability_number(c);
    if (!n)
      r.fail(*scope.get("capabilities"), "capabilities",
             "unknown capability \"" + c + "\" (expected names such as \"CAP_NET_ADMIN\", or \"all\")");
    p.scope_capabilities |= 1ull << *n;
  }
  if (p.scope_host && !named) p.scope_capabilities = ~0ull;  // a host-wide posture only when asked for
}

// [scope] allow: the operations the posture refuses unless named; a host-wide scope
// allows all of them unless the key is there.
void parse_scope_allow(TableReader& r, const toml::table& scope, Policy& p) {
  constexpr auto all = static_cast<std::uint32_t>(ScopeAllow::mount) | static_cast<std::uint32_t>(ScopeAllow::userns) |
                       static_cast<std::uint32_t>(ScopeAllow::module_request) |
                       static_cast<std::uint32_t>(ScopeAllow::block_read);
  for (const auto& a : r.strings("allow")) {
    if (a == "mount") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::mount);
    else if (a == "userns") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::userns);
    else if (a == "module_request") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::module_request);
    else if (a == "block_read") p.scope_allow |= static_cast<std::uint32_t>(ScopeAllow::block_read);
    else
      r.fail(*scope.get("allow"), "allow",
             "unknown operation \"" + a + "\" (expected \"mount\", \"userns\", \"module_request\" or \"block_read\")");
  }
  if (p.scope_host && !scope.get("allow")) p.scope_allow = all;
}

void parse_scope(const toml::table& scope, const std::string& source, Policy& p) {
  TableReader r(scope, "scope", source);
  p.scope_host = r.boolean("host").value_or(false);
  p.scope_cgroups = r.strings("cgroups");
  for (const auto& c : p.scope_cgroups) {
    if (c.empty() || c[0] != '/' || c.find("..") != std::string::npos)
      r.fail(*scope.get("cgroups"), "cgroups", "expected cgroup v2 paths starting with '/', got \"" + c + "\"");
  }
  if (p.scope_cgroups.size() > kMaxScopeCgroups)
    r.fail(*scope.get("cgroups"), "cgroups",
           "at most " + std::to_string(kMaxScopeCgroups) + " cgroups, got " + std::to_string(p.scope_cgroups.size()) +
               " (gate a common parent instead)");
  if (!p.scope_host && p.scope_cgroups.empty()) r.fail_table("gates nothing: set cgroups = [\"/ci.slice\"] or host = true");
  parse_scope_capabilities(r, scope, p);
  parse_scope_allow(r, scope, p);
  if (scope.get("launchers")) {
    p.scope_launchers = r.strings("launchers");
    for (const auto& l : p.scope_launchers) require_absolute(r, scope, "launchers", l);
  } else {
    p.scope_launchers.assign(std::begin(kDefaultLauncherPrograms), std::end(kDefaultLauncherPrograms));
  }
  r.reject_unknown();
}

void parse_baseline(const toml::table& b, const std::string& source, Policy& p) {
  TableReader r(b, "baseline", source);
  if (auto v = r.string("trust")) {
    if (*v == "none") p.trust = BaselineTrust::none;
    else if (*v == "root-owned") p.trust = BaselineTrust::root_owned;
    else r.fail(*b.get("trust"), "trust", "expected \"none\" or \"root-owned\", got \"" + *v + "\"");
  }
  p.baseline_paths = r.strings("paths");
  for (const auto& path : p.baseline_paths) require_absolute(r, b, "paths", path);
  r.reject_unknown();
}

IssuerPolicy parse_issuer(const toml::table& t, const std::string& source, std::set<std::string>& names) {
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
  return is;
}

void parse_issuers(TableReader& top, const toml::node& n, const std::string& source, Policy& p) {
  const toml::array* arr = n.as_array();
  if (!arr || !arr->is_array_of_tables()) top.fail(n, "issuer", "expected [[issuer]] tables");
  std::set<std::string> names;
  for (const toml::node& e : *arr) p.issuers.push_back(parse_issuer(*e.as_table(), source, names));
}

void parse_audit(const toml::table& a, const std::string& source, Policy& p) {
  TableReader r(a, "audit", source);
  if (auto v = r.string("path")) {
    p.audit.path = *v;
    require_absolute(r, a, "path", *v);
  }
  if (auto v = r.string("signing_key")) {
    p.audit.signing_key = *v;
    require_absolute(r, a, "signing_key", *v);
  }
  p.audit.required = r.boolean("required").value_or(false);
  p.audit.checkpoint_every = static_cast<std::uint64_t>(r.integer("checkpoint_every", 1, 1'000'000).value_or(1000));
  p.audit.rotate_bytes = static_cast<std::uint64_t>(r.integer("rotate_bytes", 4096, 1ll << 40).value_or(64ll << 20));
  if (auto kib = r.integer("ringbuf_kib", 4, 1 << 20)) {
    if ((*kib & (*kib - 1)) != 0) r.fail(*a.get("ringbuf_kib"), "ringbuf_kib", "expected a power of two");
    p.audit.ringbuf_kib = static_cast<std::uint32_t>(*kib);
  }
  r.reject_unknown();
}

void parse_metrics(const toml::table& m, const std::string& source, Policy& p) {
  TableReader r(m, "metrics", source);
  if (auto v = r.string("textfile")) {
    // node_exporter's textfile collector reads only *.prom files of its directory
    if (!v->empty() && (v->front() != '/' || !v->ends_with(".prom") || v->ends_with("/.prom")))
      r.fail(*m.get("textfile"), "textfile",
             "expected an absolute path of a .prom file (node_exporter's textfile collector reads *.prom), or \"\" "
             "for no metrics file, got \"" + *v + "\"");
    p.metrics.textfile = *v;
  }
  if (auto v = r.duration("interval")) {
    if (*v > kMaxMetricsIntervalSeconds)
      r.fail(*m.get("interval"), "interval",
             "expected a duration from 1s to " + std::to_string(kMaxMetricsIntervalSeconds / 60) + "m, got " +
                 std::to_string(*v) + " s");
    p.metrics.interval = *v;
  }
  r.reject_unknown();
}

// An etcd endpoint: https://, or http:// on a loopback address (a password or a ticket
// stream in clear text crosses no network).
void require_endpoint(TableReader& r, const toml::node& n, const std::string& e) {
  if (e.starts_with("https://") && e.size() > 8) return;
  if (e.starts_with("http://127.") || e.starts_with("http://[::1]") || e.starts_with("http://localhost:")) return;
  r.fail(n, "endpoints",
         "expected https://HOST:PORT (http:// only on a loopback address), got \"" + e + "\"");
}

// "1m" of table t's KEY into out when present; a duration outside [lo, hi] seconds is an
// error naming the range ("from 2s to 7d").
void duration_within(TableReader& r, const toml::table& t, const char* key, long long lo, long long hi,
                     std::int64_t& out) {
  const auto v = r.duration(key);
  if (!v) return;
  const auto shown = [](long long s) {
    return s % 86400 == 0 ? std::to_string(s / 86400) + "d"
           : s % 3600 == 0 ? std::to_string(s / 3600) + "h"
                           : std::to_string(s) + "s";
  };
  if (*v < lo || *v > hi)
    r.fail(*t.get(key), key,
           "expected a duration from " + shown(lo) + " to " + shown(hi) + ", got " + std::to_string(*v) + " s");
  out = *v;
}

void parse_fleet(const toml::table& f, const std::string& source, Policy& p) {
  TableReader r(f, "fleet", source);
  FleetPolicy fp;
  fp.endpoints = r.strings("endpoints");
  if (fp.endpoints.empty()) r.fail_table("endpoints: expected at least one etcd endpoint, e.g. [\"https://10.0.0.1:2379\"]");
  for (const auto& e : fp.endpoints) require_endpoint(r, *f.get("endpoints"), e);
  if (auto v = r.string("prefix")) {
    if (v->size() < 2 || v->front() != '/' || v->back() == '/' || v->find('\n') != std::string::npos)
      r.fail(*f.get("prefix"), "prefix", "expected a key prefix such as \"/execgate\" (leading /, no trailing /)");
    fp.prefix = *v;
  }
  duration_within(r, f, "max_silence", kMinFleetMaxSilenceSeconds, kMaxFleetMaxSilenceSeconds, fp.max_silence);
  duration_within(r, f, "publish_interval", kMinFleetPublishIntervalSeconds, kMaxFleetPublishIntervalSeconds,
                  fp.publish_interval);
  fp.suspend_local = r.boolean("suspend_local").value_or(false);
  fp.user = r.string("user").value_or("");
  for (auto [key, field] : {std::pair{"password_file", &fp.password_file}, {"ca", &fp.ca}, {"cert", &fp.cert},
                            {"key", &fp.key}}) {
    if (auto v = r.string(key)) {
      *field = *v;
      require_absolute(r, f, key, *v);
    }
  }
  if (fp.user.empty() != fp.password_file.empty())
    r.fail_table("user and password_file go together (etcd's user/password authentication)");
  if (fp.cert.empty() != fp.key.empty()) r.fail_table("cert and key go together (the client certificate)");
  if (auto v = r.string("sync_user")) fp.sync_user = *v;
  r.reject_unknown();
  p.fleet = std::move(fp);
}

void parse_control(const toml::table& c, const std::string& source, Policy& p) {
  TableReader r(c, "control", source);
  p.control_group = r.string("group").value_or("");
  r.reject_unknown();
}

}  // namespace

// The top level (name, mode), then one parser per table, each rejecting what it does not know.
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
  parse_scope(*scope, source, p);
  if (const toml::table* b = top.table("baseline")) parse_baseline(*b, source, p);
  if (const toml::node* n = top.get("issuer")) parse_issuers(top, *n, source, p);
  if (const toml::table* a = top.table("audit")) parse_audit(*a, source, p);
  if (const toml::table* m = top.table("metrics")) parse_metrics(*m, source, p);
  if (const toml::table* c = top.table("control")) parse_control(*c, source, p);
  if (const toml::table* f = top.table("fleet")) parse_fleet(*f, source, p);
  top.reject_unknown();
  return p;
}

Policy load_policy(const std::string& path) {
  return parse_policy(read_file(path, 1 << 20), path);
}

std::string to_string(GateMode m) { return m == GateMode::enforce ? "enforce" : "monitor"; }
std::string to_string(BaselineTrust t) { return t == BaselineTrust::none ? "none" : "root-owned"; }

}  // namespace execgate
