// Policy parsing: strictness (unknown keys, wrong types, line numbers) and defaults.
#include <gtest/gtest.h>

#include "execgate/policy.h"

using namespace execgate;

namespace {
std::string error_of(const std::string& toml) {
  try {
    parse_policy(toml, "p.toml");
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Policy, FullPolicyParses) {
  Policy p = parse_policy(R"(
name = "ci"
mode = "monitor"
[scope]
cgroups = ["/ci.slice", "/build"]
[baseline]
trust = "root-owned"
paths = ["/usr/bin"]
[[issuer]]
name = "ops"
pubkey = "/etc/execgate/ops.pub"
max_ttl = "8h"
allow_any_host = true
[audit]
path = "/var/log/x.jsonl"
signing_key = "/etc/execgate/audit.key"
required = true
checkpoint_every = 10
[control]
group = "execgate"
)",
                          "p.toml");
  EXPECT_EQ(p.name, "ci");
  EXPECT_EQ(p.mode, GateMode::monitor);
  EXPECT_EQ(p.scope_cgroups, (std::vector<std::string>{"/ci.slice", "/build"}));
  EXPECT_FALSE(p.scope_host);
  EXPECT_EQ(p.trust, BaselineTrust::root_owned);
  ASSERT_EQ(p.issuers.size(), 1u);
  EXPECT_EQ(p.issuers[0].max_ttl, 8 * 3600);
  EXPECT_TRUE(p.issuers[0].allow_any_host);
  EXPECT_TRUE(p.audit.required);
  EXPECT_EQ(p.audit.checkpoint_every, 10u);
  EXPECT_EQ(p.control_group, "execgate");
}

TEST(Policy, DefaultsAreTheSafeOnes) {
  Policy p = parse_policy("[scope]\nhost = true\n", "p.toml");
  EXPECT_EQ(p.mode, GateMode::enforce);
  EXPECT_EQ(p.trust, BaselineTrust::none);
  EXPECT_FALSE(p.audit.required);
  EXPECT_TRUE(p.issuers.empty());
}

TEST(Policy, UnknownKeyNamesLineAndKey) {
  std::string e = error_of("[scope]\nhost = true\nbogus = 1\n");
  EXPECT_NE(e.find("p.toml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("bogus: unknown key"), std::string::npos) << e;
  e = error_of("[scope]\nhost = true\n[audit]\npath = \"/x\"\nsigning = \"/k\"\n");
  EXPECT_NE(e.find("p.toml:5"), std::string::npos) << e;
  EXPECT_NE(e.find("[audit] signing"), std::string::npos) << e;
  e = error_of("[scope]\nhost = true\n[extra]\n");
  EXPECT_NE(e.find("extra: unknown key"), std::string::npos) << e;
}

TEST(Policy, WrongTypesAndValues) {
  EXPECT_NE(error_of("mode = \"permissive\"\n[scope]\nhost = true\n").find("expected \"enforce\" or \"monitor\""), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = \"yes\"\n").find("expected true or false"), std::string::npos);
  EXPECT_NE(error_of("[scope]\ncgroups = \"/ci\"\n").find("expected an array of strings"), std::string::npos);
  EXPECT_NE(error_of("[scope]\ncgroups = [\"ci\"]\n").find("starting with '/'"), std::string::npos);
  EXPECT_NE(error_of("[scope]\ncgroups = [\"/a/../b\"]\n").find("starting with '/'"), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[baseline]\ntrust = \"all\"\n").find("root-owned"), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[baseline]\npaths = [\"bin\"]\n").find("absolute path"), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[[issuer]]\nname = \"a\"\npubkey = \"/k\"\nmax_ttl = \"forever\"\n").find("max_ttl"),
            std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[[issuer]]\nname = \"a\"\n").find("pubkey: required"), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[[issuer]]\nname = \"a\"\npubkey = \"/k\"\n[[issuer]]\nname = \"a\"\npubkey = \"/k\"\n")
                .find("duplicate issuer"),
            std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = true\n[audit]\nringbuf_kib = 100\n").find("power of two"), std::string::npos);
}

TEST(Policy, ScopeMustGateSomething) {
  EXPECT_NE(error_of("mode = \"enforce\"\n").find("missing [scope]"), std::string::npos);
  EXPECT_NE(error_of("[scope]\nhost = false\n").find("gates nothing"), std::string::npos);
}

TEST(Policy, ScopeCgroupsAreBounded) {
  std::string list;
  for (std::size_t i = 0; i <= kMaxScopeCgroups; ++i) list += (i ? ", \"/s" : "\"/s") + std::to_string(i) + "\"";
  const std::string e = error_of("[scope]\ncgroups = [" + list + "]\n");
  EXPECT_NE(e.find("at most 16 cgroups, got 17"), std::string::npos) << e;
  EXPECT_NE(e.find("[scope] cgroups"), std::string::npos) << e;
}

TEST(Policy, SyntaxErrorNamesLine) {
  std::string e = error_of("[scope]\nhost = true\ncgroups = [\n");
  EXPECT_NE(e.find("p.toml:"), std::string::npos) << e;
}

TEST(Policy, ShippedExampleParses) {
  Policy p = load_policy(std::string(EXECGATE_SOURCE_DIR) + "/policies/example.toml");
  EXPECT_EQ(p.name, "ci-runner");
  EXPECT_EQ(p.scope_cgroups, std::vector<std::string>{"/ci.slice"});
  ASSERT_EQ(p.issuers.size(), 1u);
  EXPECT_EQ(p.issuers[0].max_ttl, 8 * 3600);
}

TEST(Policy, ScopePostureDefaultsToNoExtraCapabilityNorOperation) {
  Policy p = parse_policy("[scope]\ncgroups = [\"/ci.slice\"]\n", "p.toml");
  EXPECT_EQ(p.scope_capabilities, 0u);
  EXPECT_EQ(p.scope_allow, 0u);
  const std::uint64_t d = default_scope_capabilities();
  for (const char* allowed : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_NET_BIND_SERVICE"})
    EXPECT_TRUE(d & (1ull << *capability_number(allowed))) << allowed;
  for (const char* refused : {"CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_LINUX_IMMUTABLE", "CAP_MKNOD",
                              "CAP_SYS_PTRACE", "CAP_BPF", "CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_SETFCAP",
                              "CAP_CHECKPOINT_RESTORE", "CAP_SYS_RESOURCE", "CAP_MAC_ADMIN"})
    EXPECT_FALSE(d & (1ull << *capability_number(refused))) << refused;
}

TEST(Policy, ScopeCapabilitiesAndAllowAreNamed) {
  Policy p = parse_policy(
      "[scope]\ncgroups = [\"/ci.slice\"]\ncapabilities = [\"CAP_NET_ADMIN\", \"sys_nice\"]\nallow = [\"mount\", \"userns\"]\n",
      "p.toml");
  EXPECT_EQ(p.scope_capabilities, (1ull << 12) | (1ull << 23));
  EXPECT_EQ(p.scope_allow, static_cast<std::uint32_t>(ScopeAllow::mount) | static_cast<std::uint32_t>(ScopeAllow::userns));
  EXPECT_EQ(parse_policy("[scope]\ncgroups = [\"/a\"]\ncapabilities = [\"all\"]\n", "p.toml").scope_capabilities, ~0ull);
  EXPECT_EQ(capability_name(21), "CAP_SYS_ADMIN");
  EXPECT_EQ(capability_name(63), "CAP_63");
}

TEST(Policy, ScopePostureErrorsNameTheValue) {
  std::string e = error_of("[scope]\ncgroups = [\"/a\"]\ncapabilities = [\"CAP_BOGUS\"]\n");
  EXPECT_NE(e.find("p.toml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown capability \"CAP_BOGUS\""), std::string::npos) << e;
  e = error_of("[scope]\ncgroups = [\"/a\"]\nallow = [\"swap\"]\n");
  EXPECT_NE(e.find("unknown operation \"swap\""), std::string::npos) << e;
}

TEST(Policy, HostScopeKeepsEveryPrivilegeUnlessNamed) {
  Policy p = parse_policy("[scope]\nhost = true\n", "p.toml");
  EXPECT_EQ(p.scope_capabilities, ~0ull);
  EXPECT_NE(p.scope_allow, 0u);
  p = parse_policy("[scope]\nhost = true\ncapabilities = []\nallow = []\n", "p.toml");
  EXPECT_EQ(p.scope_capabilities, 0u);
  EXPECT_EQ(p.scope_allow, 0u);
}

TEST(Policy, LauncherProgramsDefaultToSystemdsExecutor) {
  EXPECT_EQ(parse_policy("[scope]\ncgroups = [\"/a\"]\n", "p.toml").scope_launchers,
            std::vector<std::string>{"/usr/lib/systemd/systemd-executor"});
  EXPECT_TRUE(parse_policy("[scope]\ncgroups = [\"/a\"]\nlaunchers = []\n", "p.toml").scope_launchers.empty());
  EXPECT_EQ(parse_policy("[scope]\ncgroups = [\"/a\"]\nlaunchers = [\"/opt/x\"]\n", "p.toml").scope_launchers,
            std::vector<std::string>{"/opt/x"});
  const std::string e = error_of("[scope]\ncgroups = [\"/a\"]\nlaunchers = [\"bin/x\"]\n");
  EXPECT_NE(e.find("p.toml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("launchers"), std::string::npos) << e;
  EXPECT_NE(e.find("bin/x"), std::string::npos) << e;
}

// The [metrics] table: defaults (include/execgate/defaults.h), values, and errors that name
// the file, line, field and what was expected.
const std::string kHostScope = "[scope]\nhost = true\n";

TEST(PolicyMetrics, DefaultsAreDefinedOnce) {
  const Policy p = parse_policy(kHostScope, "p.toml");
  EXPECT_EQ(p.metrics.textfile, kDefaultMetricsTextfile);
  EXPECT_EQ(p.metrics.textfile, "/run/execgate/metrics.prom");
  EXPECT_EQ(p.metrics.interval, kDefaultMetricsIntervalSeconds);
  EXPECT_EQ(p.metrics.interval, 15);
}

TEST(PolicyMetrics, TextfileAndInterval) {
  Policy p = parse_policy(kHostScope + "[metrics]\ntextfile = \"/var/lib/prometheus/node-exporter/execgate.prom\"\n"
                                   "interval = \"1m\"\n",
                          "p.toml");
  EXPECT_EQ(p.metrics.textfile, "/var/lib/prometheus/node-exporter/execgate.prom");
  EXPECT_EQ(p.metrics.interval, 60);
  p = parse_policy(kHostScope + "[metrics]\ntextfile = \"\"\ninterval = 5\n", "p.toml");
  EXPECT_EQ(p.metrics.textfile, "");  // no metrics file
  EXPECT_EQ(p.metrics.interval, 5);
}

TEST(PolicyMetrics, ErrorsNameFileLineFieldAndWhatWasExpected) {
  EXPECT_EQ(error_of(kHostScope + "[metrics]\ntextfile = \"metrics.prom\"\n"),
            "p.toml:4: [metrics] textfile: expected an absolute path of a .prom file (node_exporter's textfile "
            "collector reads *.prom), or \"\" for no metrics file, got \"metrics.prom\"");
  EXPECT_NE(error_of(kHostScope + "[metrics]\ntextfile = \"/run/execgate/metrics.txt\"\n").find("p.toml:4: [metrics] textfile: expected an absolute path of a .prom file"),
            std::string::npos);
  EXPECT_EQ(error_of(kHostScope + "[metrics]\ntextfile = 1\n"), "p.toml:4: [metrics] textfile: expected a string");
  EXPECT_EQ(error_of(kHostScope + "[metrics]\n\ninterval = \"2h\"\n"),
            "p.toml:5: [metrics] interval: expected a duration from 1s to 60m, got 7200 s");
  EXPECT_NE(error_of(kHostScope + "[metrics]\ninterval = 0\n").find("p.toml:4: [metrics] interval: expected a duration"),
            std::string::npos);
  EXPECT_NE(error_of(kHostScope + "[metrics]\ninterval = \"soon\"\n").find("p.toml:4: [metrics] interval: invalid duration 'soon'"),
            std::string::npos);
  EXPECT_EQ(error_of(kHostScope + "[metrics]\nport = 9100\n"), "p.toml:4: [metrics] port: unknown key");
  EXPECT_EQ(error_of("metrics = 1\n" + kHostScope), "p.toml:1: metrics: expected a table [metrics]");
}

TEST(PolicyFleet, NoTableNoFleetAndDefaultsDefinedOnce) {
  EXPECT_FALSE(parse_policy("[scope]\nhost = true\n", "p.toml").fleet);
  const Policy p = parse_policy("[scope]\nhost = true\n[fleet]\nendpoints = [\"https://10.0.0.1:2379\"]\n", "p.toml");
  ASSERT_TRUE(p.fleet);
  EXPECT_EQ(p.fleet->prefix, kDefaultFleetPrefix);
  EXPECT_EQ(p.fleet->max_silence, kDefaultFleetMaxSilenceSeconds);
  EXPECT_EQ(p.fleet->sync_user, kDefaultFleetSyncUser);
  EXPECT_EQ(p.fleet->publish_interval, kDefaultFleetPublishIntervalSeconds);
  EXPECT_FALSE(p.fleet->suspend_local);
}

TEST(PolicyFleet, EveryKey) {
  const Policy p = parse_policy(R"([scope]
host = true
[fleet]
endpoints = ["https://10.0.0.1:2379", "http://127.0.0.1:23790"]
prefix = "/fleet/a"
max_silence = "30s"
publish_interval = "1m"
suspend_local = true
user = "h1"
password_file = "/etc/execgate/fleet.password"
ca = "/etc/ca.pem"
cert = "/etc/c.pem"
key = "/etc/c.key"
sync_user = "egsync"
)", "p.toml");
  ASSERT_TRUE(p.fleet);
  EXPECT_EQ(p.fleet->endpoints.size(), 2u);
  EXPECT_EQ(p.fleet->prefix, "/fleet/a");
  EXPECT_EQ(p.fleet->max_silence, 30);
  EXPECT_EQ(p.fleet->publish_interval, 60);
  EXPECT_TRUE(p.fleet->suspend_local);
  EXPECT_EQ(p.fleet->password_file, "/etc/execgate/fleet.password");
  EXPECT_EQ(p.fleet->key, "/etc/c.key");
  EXPECT_EQ(p.fleet->sync_user, "egsync");
}

TEST(PolicyFleet, ErrorsNameTheKeyAndWhatWasExpected) {
  const std::string head = "[scope]\nhost = true\n[fleet]\n";
  const std::string ep = "endpoints = [\"https://10.0.0.1:2379\"]\n";
  EXPECT_NE(error_of(head).find("endpoints: expected at least one etcd endpoint"), std::string::npos) << error_of(head);
  EXPECT_NE(error_of(head + "endpoints = [\"http://10.0.0.1:2379\"]\n").find("http:// only on a loopback address"),
            std::string::npos);
  EXPECT_NE(error_of(head + ep + "prefix = \"/a/\"\n").find("prefix"), std::string::npos);
  EXPECT_NE(error_of(head + ep + "max_silence = \"1s\"\n").find("max_silence: expected a duration from 2s"),
            std::string::npos)
      << error_of(head + ep + "max_silence = \"1s\"\n");
  EXPECT_NE(error_of(head + ep + "publish_interval = \"2d\"\n").find("publish_interval: expected a duration from 1s to 1d"),
            std::string::npos);
  EXPECT_NE(error_of(head + ep + "user = \"h\"\n").find("user and password_file go together"), std::string::npos);
  EXPECT_NE(error_of(head + ep + "cert = \"/c.pem\"\n").find("cert and key go together"), std::string::npos);
  EXPECT_NE(error_of(head + ep + "ca = \"ca.pem\"\n").find("expected an absolute path"), std::string::npos);
  EXPECT_NE(error_of(head + ep + "watch = true\n").find("watch"), std::string::npos);
}
