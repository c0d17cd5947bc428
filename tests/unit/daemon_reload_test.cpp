// Reloads on the fake gate: nothing that stays is ever missing from the kernel, not for
// one call (the fake checks at every call it is told); what the new policy adds is in
// before what it drops goes; a scope that stays keeps its slot; and a reload the kernel
// refuses halfway leaves the policy in force, in the daemon and in the kernel.
#include <gtest/gtest.h>

#include "daemon_env.h"
#include "gate/kernel_facts.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

InodeKey key_of_path(const std::string& path) {
  const auto key = regular_file_key(path);
  if (!key) throw std::runtime_error("no file " + path);
  return *key;
}

class Reload : public ::testing::Test {
 protected:
  void SetUp() override {
    files = root_owned_files(3);
    if (files.size() < 3) GTEST_SKIP() << "fewer than 3 files only root can write in /usr/bin";
    for (const auto& f : files) keys.push_back(key_of_path(f));
  }
  GateDaemon& daemon() { return env.daemon(); }
  FakeGate& gate() { return env.gate(); }
  std::set<InodeKey> baseline_keys() {
    std::set<InodeKey> out;
    for (const auto& [key, file] : gate().baseline) out.insert(key);
    return out;
  }

  DaemonEnv env;
  std::vector<std::string> files;  // a, b, c
  std::vector<InodeKey> keys;
};

TEST_F(Reload, ABaselineChangePinsTheNewFilesBeforeItPrunesTheOld) {
  env.policy.baseline_paths = {files[0], files[1]};
  env.boot();
  ASSERT_EQ(baseline_keys(), (std::set<InodeKey>{keys[0], keys[1]}));
  Policy next = env.policy;
  next.baseline_paths = {files[1], files[2]};
  gate().calls.clear();
  gate().on_call = [&](const GateCall& call) {
    EXPECT_TRUE(gate().baseline.count(keys[1])) << files[1] << " stays, yet was missing after " << call.text();
  };
  daemon().reload(next);
  gate().on_call = nullptr;
  const auto put_c = gate().first(GateOp::put_baseline, keys[2]), prune = gate().first(GateOp::prune_baseline),
             config = gate().last(GateOp::set_config);
  ASSERT_TRUE(put_c && prune && config) << ::testing::PrintToString(gate().log());
  EXPECT_LT(*put_c, *prune) << "the new pin goes in before the old one is pruned";
  EXPECT_LT(*prune, *config) << "the config last";
  EXPECT_EQ(baseline_keys(), (std::set<InodeKey>{keys[1], keys[2]}));
  EXPECT_EQ(daemon().policy().baseline_paths, next.baseline_paths);
  EXPECT_EQ(daemon().status_json()["gate"]["baseline"]["pinned_files"], 2);
  EXPECT_TRUE(env.audited("policy_reload", "sighup"));
}

TEST_F(Reload, AnIssuerRemovedHandsItsFileToTheOtherTicketInPlace) {
  const InodeKey tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
  env.add_issuer("dev");
  env.boot();
  const std::string by_ops = env.issue({.files = {"tool"}, .ttl = 3600});
  const std::string by_dev = env.issue({.files = {"tool"}, .ttl = 7200, .issuer = "dev"});
  ASSERT_EQ(daemon().submit(by_ops, "test")["result"], "installed");
  ASSERT_EQ(daemon().submit(by_dev, "test")["result"], "installed");
  ASSERT_EQ(hex_id(gate().get_ticket(tool)->id), DaemonEnv::id_of(by_dev)) << "the longer ticket holds the file";
  Policy next = env.policy;
  std::erase_if(next.issuers, [](const IssuerPolicy& i) { return i.name == "dev"; });
  gate().calls.clear();
  gate().on_call = [&](const GateCall& call) {
    EXPECT_TRUE(gate().allows_exec(tool)) << "the file was not allowed for a moment, after " << call.text();
  };
  daemon().reload(next);
  gate().on_call = nullptr;
  EXPECT_EQ(hex_id(gate().get_ticket(tool)->id), DaemonEnv::id_of(by_ops));
  EXPECT_FALSE(gate().first(GateOp::delete_ticket, tool)) << "replaced in place, never removed first";
  EXPECT_EQ(daemon().tickets_json().size(), 1u);
  EXPECT_TRUE(env.audited("ticket_revoked", "untrusted_issuer", DaemonEnv::id_of(by_dev)));
}

TEST_F(Reload, AScopeThatStaysKeepsItsSlot) {
  env.policy.scope_cgroups = {"/a", "/b"};
  env.boot();
  const CgroupRef a = env.cgroups.add("/a"), b = env.cgroups.add("/b");
  ASSERT_EQ(gate().kernel_config.scopes, (std::vector<CgroupRef>{a, b}));
  Policy next = env.policy;
  next.scope_cgroups = {"/b", "/c"};
  gate().on_call = [&](const GateCall& call) {
    if (call.op == GateOp::set_config) {
      EXPECT_EQ(gate().kernel_config.scopes.at(1), b) << "/b moved: " << call.text();
    }
  };
  daemon().reload(next);
  gate().on_call = nullptr;
  const CgroupRef c = env.cgroups.add("/c");
  EXPECT_EQ(gate().kernel_config.scopes, (std::vector<CgroupRef>{c, b})) << "the new scope fills the freed slot";
}

TEST_F(Reload, AFailureMidReloadKeepsThePolicyInForce) {
  env.policy.baseline_paths = {files[0], files[1]};
  env.boot();
  const auto baseline_before = gate().baseline;
  const GateConfig config_before = gate().kernel_config;
  Policy next = env.policy;
  next.baseline_paths = {files[1], files[2]};
  next.mode = GateMode::monitor;
  gate().calls.clear();
  gate().fail_on(GateOp::put_baseline, 2);  // the new file's pin: the map is full
  gate().on_call = [&](const GateCall& call) {
    EXPECT_TRUE(gate().baseline.count(keys[0]) && gate().baseline.count(keys[1]))
        << "an old pin was removed during the refused reload, after " << call.text();
  };
  EXPECT_THROW(daemon().reload(next), Error);
  gate().on_call = nullptr;
  const auto failed = gate().first(GateOp::put_baseline, keys[2]);
  ASSERT_TRUE(failed);
  EXPECT_TRUE(gate().calls[*failed].failed);
  const auto prune = gate().first(GateOp::prune_baseline);
  EXPECT_TRUE(!prune || *prune > *failed) << "nothing pruned before the failure";
  EXPECT_EQ(gate().baseline, baseline_before) << "the old pins all there, the refused policy's gone";
  EXPECT_EQ(gate().kernel_config.monitor, config_before.monitor);
  EXPECT_EQ(daemon().policy().mode, GateMode::enforce) << "the policy in force stays";
  EXPECT_EQ(daemon().policy().baseline_paths, env.policy.baseline_paths);
  EXPECT_EQ(daemon().status_json()["gate"]["mode"], "enforce");
  EXPECT_FALSE(env.audited("policy_reload", "sighup"));
  // once the kernel takes it, the same reload applies
  daemon().reload(next);
  EXPECT_TRUE(gate().kernel_config.monitor);
  EXPECT_EQ(daemon().policy().mode, GateMode::monitor);
}

TEST_F(Reload, AnIssuerKeyThatCannotBeReadChangesNothing) {
  env.boot();
  Policy next = env.policy;
  next.issuers.push_back(IssuerPolicy{"lost", (env.dir / "keys" / "lost.pub").string(), 0, false});
  gate().calls.clear();
  EXPECT_THROW(daemon().reload(next), Error);
  EXPECT_TRUE(gate().calls.empty()) << ::testing::PrintToString(gate().log());
  EXPECT_EQ(daemon().policy().issuers.size(), 1u);
}

// Whichever of its operations the kernel refuses, a reload leaves the daemon and the kernel
// on the policy in force: its baseline pins, its mode; the refused policy's pins gone.
class ReloadFailure : public Reload, public ::testing::WithParamInterface<GateOp> {};

TEST_P(ReloadFailure, LeavesThePolicyInForce) {
  env.policy.baseline_paths = {files[0], files[1]};
  env.boot();
  const auto baseline_before = gate().baseline;
  Policy next = env.policy;
  next.baseline_paths = {files[1], files[2]};
  next.mode = GateMode::monitor;
  gate().calls.clear();
  gate().fail_next(GetParam());
  EXPECT_THROW(daemon().reload(next), Error);
  EXPECT_TRUE(gate().calls[*gate().first(GetParam())].failed);
  EXPECT_EQ(gate().baseline, baseline_before);
  EXPECT_FALSE(gate().kernel_config.monitor);
  EXPECT_EQ(daemon().policy().mode, GateMode::enforce);
  EXPECT_EQ(daemon().status_json()["gate"]["baseline"]["pinned_files"], 2);
  EXPECT_FALSE(env.audited("policy_reload", "sighup"));
}

INSTANTIATE_TEST_SUITE_P(EveryOperation, ReloadFailure,
                         ::testing::Values(GateOp::set_loaders, GateOp::set_protected, GateOp::set_reserved_names,
                                           GateOp::put_baseline, GateOp::prune_baseline, GateOp::set_baseline_dirs,
                                           GateOp::set_config),
                         [](const ::testing::TestParamInfo<GateOp>& op) { return std::string(op_name(op.param)); });

}  // namespace
