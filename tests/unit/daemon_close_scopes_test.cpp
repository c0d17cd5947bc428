// A gate pinned anew is closed at once (execgated.cpp, PolicyApplier::close_scopes): the
// config names the policy's scopes before anything else is in the kernel, so a start that
// fails after the install leaves the scope denied; the daemon's own start then keeps the
// slots the pinned config uses.
#include <gtest/gtest.h>

#include "execgate/policy.h"
#include "fake_gate.h"
#include "policy_applier.h"

using namespace execgate;
using namespace execgate::test;

namespace {

Policy scoped_policy() {
  return parse_policy("[scope]\ncgroups = [\"/ci.slice\", \"/build\"]\n", "p.toml");
}

TEST(CloseScopes, TheConfigNamesTheScopesAndNothingElseIsIn) {
  FakeGate gate;
  PolicyApplier applier(gate, DaemonPaths{});
  const std::vector<CgroupRef> scopes{{101, 1}, {202, 2}};
  applier.close_scopes(scoped_policy(), scopes);

  const GateConfig cfg = gate.config();
  EXPECT_FALSE(cfg.monitor);
  EXPECT_FALSE(cfg.scope_host);
  ASSERT_GE(cfg.scopes.size(), 2u);
  EXPECT_EQ(cfg.scopes[0], (CgroupRef{101, 1}));
  EXPECT_EQ(cfg.scopes[1], (CgroupRef{202, 2}));
  EXPECT_NE(cfg.posture_since_ns, 0u);
  EXPECT_EQ(cfg.daemon_tgid, static_cast<std::uint32_t>(::getpid()));
  // denied in the scope until the daemon's start puts the rest in
  EXPECT_TRUE(gate.entries.empty());
  EXPECT_TRUE(gate.baseline.empty());
  EXPECT_TRUE(gate.protected_inodes.empty());
}

TEST(CloseScopes, TheDaemonsStartKeepsTheSlots) {
  FakeGate gate;
  PolicyApplier(gate, DaemonPaths{}).close_scopes(scoped_policy(), {{101, 1}, {202, 2}});
  PolicyApplier daemon(gate, DaemonPaths{});
  daemon.adopt_running_scopes({{202, 2}, {101, 1}});
  ASSERT_GE(daemon.scopes().size(), 2u);
  EXPECT_EQ(daemon.scopes()[0], (CgroupRef{101, 1}));
  EXPECT_EQ(daemon.scopes()[1], (CgroupRef{202, 2}));
}

}  // namespace
