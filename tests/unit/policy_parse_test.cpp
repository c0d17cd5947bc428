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
