// Every failure the fake gate can inject ends fail-closed: the ticket is not reported
// installed, the daemon does not report success, and nothing is left allowed that should
// not be (a kernel entry of a ticket no longer installed allows no exec). Reloads have
// their own (daemon_reload_test.cpp), the spool its (daemon_spool_pickup_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon_env.h"
#include "gate/sealing.h"
#include "state_store.h"

using namespace execgate;
using namespace execgate::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class FailClosed : public ::testing::Test {
 protected:
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    lib = env.make_file("lib", "#!/bin/sh\necho lib\n");
  }
  GateDaemon& daemon() { return env.daemon(); }
  FakeGate& gate() { return env.gate(); }
  json submit(const std::string& envelope) { return env.submit(envelope); }
  std::string holder(const InodeKey& key) const { return env.holder(key); }
  std::string installed_path(const std::string& id) { return StateStore(env.paths.state_dir).installed_path(id); }

  DaemonEnv env;
  InodeKey tool, lib;
};

TEST_F(FailClosed, AnInstallTheKernelRefusesIsNotInstalled) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  gate().fail_on(GateOp::put_ticket, 2);  // 1: the sealing's pending entry, 2: the sealed one
  try {
    submit(t);
    FAIL() << "the install was reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kernel);
    EXPECT_NE(std::string(e.what()).find("ticket map"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(gate().get_ticket(tool)) << "neither sealed nor pending: no entry left";
  EXPECT_TRUE(daemon().tickets_json().empty());
  EXPECT_FALSE(fs::exists(installed_path(id))) << "a restart would install it";
  EXPECT_FALSE(env.audited("ticket_installed", "ticket", id));
  // through the socket's handler: answered not ok
  gate().fail_on(GateOp::put_ticket, 2);
  const json reply = json::parse(daemon().handle_line(json{{"op", "submit"}, {"document", t}}.dump()));
  EXPECT_EQ(reply["ok"], false);
  EXPECT_FALSE(gate().get_ticket(tool));
  // once the kernel takes it, the same ticket installs
  EXPECT_EQ(submit(t)["result"], "installed");
  EXPECT_TRUE(gate().allows_exec(tool));
}

TEST_F(FailClosed, AFullTicketMapRefusesTheSubmissionAndLeavesNoPendingEntry) {
  env.boot();
  gate().set_capacity(GateMap::tickets, 1);
  try {
    submit(env.ticket({"tool", "lib"}));
    FAIL() << "the install was reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Argument list too long"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(gate().entries.empty()) << "the first file's pending entry is removed again";
  EXPECT_TRUE(daemon().tickets_json().empty());
}

// A second ticket for files another ticket holds, the map full: the other ticket keeps them.
TEST_F(FailClosed, AFullTicketMapLeavesTheFilesToTheTicketThatHoldsThem) {
  env.boot();
  const std::string first = env.ticket({"tool"});
  ASSERT_EQ(submit(first)["result"], "installed");
  gate().set_capacity(GateMap::tickets, 1);
  EXPECT_THROW(submit(env.ticket({"lib"})), Error);
  EXPECT_EQ(holder(tool), DaemonEnv::id_of(first));
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_FALSE(gate().get_ticket(lib));
  EXPECT_EQ(daemon().tickets_json().size(), 1u);
}

TEST_F(FailClosed, ARemovalTheKernelRefusesLeavesAnEntryThatAllowsNothing) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  ASSERT_EQ(submit(t)["result"], "installed");
  gate().fail_always(GateOp::delete_ticket);
  EXPECT_EQ(submit(env.revocation({id}))["result"], "revoked");
  ASSERT_TRUE(gate().get_ticket(tool)) << "the kernel kept the entry";
  EXPECT_EQ(gate().exec_reason(tool), "expired") << "... overwritten with one that allows nothing";
  EXPECT_TRUE(daemon().tickets_json().empty());
  gate().clear_failures();
  daemon().sweep();
  EXPECT_FALSE(gate().get_ticket(tool)) << "the next sweep removes it";
}

TEST_F(FailClosed, AnExpiryTheKernelCannotRemoveAllowsNothing) {
  env.boot();
  ASSERT_EQ(submit(env.ticket({"tool"}, 60))["result"], "installed");
  env.clock.advance(61);
  gate().fail_always(GateOp::delete_ticket);
  daemon().sweep();
  ASSERT_TRUE(gate().get_ticket(tool));
  EXPECT_EQ(gate().get_ticket(tool)->not_after_ns, 0u) << "overwritten with an entry expired since boot";
  EXPECT_FALSE(gate().allows_exec(tool));
  EXPECT_TRUE(daemon().tickets_json().empty());
  gate().clear_failures();
  daemon().sweep();
  EXPECT_FALSE(gate().get_ticket(tool));
}

// The revoked ticket held the file; the other ticket covering it cannot take its place:
// the file is denied (the revoked entry removed) until the sweep gives it to the other.
TEST_F(FailClosed, ATakeoverTheKernelRefusesDeniesTheFileUntilTheSweep) {
  env.boot();
  const std::string shorter = env.ticket({"tool"}, 3600), longer = env.ticket({"tool"}, 7200);
  ASSERT_EQ(submit(shorter)["result"], "installed");
  ASSERT_EQ(submit(longer)["result"], "installed");
  ASSERT_EQ(holder(tool), DaemonEnv::id_of(longer));
  gate().fail_next(GateOp::put_ticket);
  EXPECT_EQ(submit(env.revocation({DaemonEnv::id_of(longer)}))["result"], "revoked");
  EXPECT_NE(holder(tool), DaemonEnv::id_of(longer)) << "the revoked ticket's entry is gone";
  EXPECT_FALSE(gate().allows_exec(tool));
  daemon().sweep();
  EXPECT_EQ(holder(tool), DaemonEnv::id_of(shorter));
  EXPECT_TRUE(gate().allows_exec(tool));
}

// A limited ticket whose entry fails closed keeps the uses the kernel counted: it gets its
// entry back with those, not with more.
TEST_F(FailClosed, AnEntryFailedClosedKeepsTheKernelsCount) {
  env.boot();
  const std::string limited = env.issue({.files = {"tool"}, .ttl = 3600, .max_uses = 3});
  const std::string other = env.ticket({"tool"}, 7200);
  ASSERT_EQ(submit(limited)["result"], "installed");
  gate().exec(tool);
  gate().exec(tool);  // one use left, not yet seen by the daemon
  gate().fail_next(GateOp::put_ticket);  // the longer ticket's takeover
  EXPECT_THROW(submit(other), Error);
  EXPECT_TRUE(daemon().tickets_json().size() == 1u);
  daemon().sweep();
  EXPECT_EQ(holder(tool), DaemonEnv::id_of(limited));
  EXPECT_EQ(gate().get_ticket(tool)->uses_left, 1);
}

TEST_F(FailClosed, LineageTrackingThatCannotBeTurnedOnFailsTheInstall) {
  env.boot();
  const std::string parent = env.ticket({"tool"});
  ASSERT_EQ(submit(parent)["result"], "installed");
  const std::string child = env.issue({.files = {"lib"}, .parent = DaemonEnv::id_of(parent)});
  gate().fail_next(GateOp::set_config);
  EXPECT_THROW(submit(child), Error);
  EXPECT_FALSE(gate().get_ticket(lib));
  EXPECT_FALSE(gate().kernel_config.track_lineage);
  EXPECT_EQ(daemon().tickets_json().size(), 1u);
  EXPECT_EQ(submit(child)["result"], "installed");
  EXPECT_TRUE(gate().kernel_config.track_lineage);
}

TEST_F(FailClosed, AnEventPollFailureLosesNoSpending) {
  env.boot();
  const std::string t = env.issue({.files = {"tool"}, .max_uses = 1});
  ASSERT_EQ(submit(t)["result"], "installed");
  ASSERT_TRUE(gate().exec(tool).last_use);
  gate().fail_next(GateOp::poll_events);
  EXPECT_THROW(daemon().drain_events(50), Error);
  daemon().spend_used_up();  // the event was not read
  EXPECT_EQ(gate().exec_reason(tool), "exhausted") << "the kernel counted the use itself";
  daemon().sweep();  // reads the kernel's count
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_EQ(submit(t)["reason"], "replay");
  EXPECT_EQ(daemon().drain_events(0), 1) << "the event stayed in the ring buffer";
  EXPECT_TRUE(env.audited("exec", "ticket", DaemonEnv::id_of(t)));
}

// The start, over pinned maps holding a ticket: whichever operation the kernel refuses,
// the daemon does not start and the kernel keeps what it had (no entry, no config of the
// new daemon's); the next start succeeds.
class StartFailure : public FailClosed, public ::testing::WithParamInterface<GateOp> {};

TEST_P(StartFailure, StopsTheStartAndChangesNoTicket) {
  const auto files = root_owned_files(1);
  if (files.empty()) GTEST_SKIP() << "no file only root can write in /usr/bin";
  env.policy.baseline_paths = files;
  env.boot();
  ASSERT_EQ(submit(env.ticket({"tool"}))["result"], "installed");
  env.shut_down();
  const auto entries_before = gate().entries;
  const GateConfig config_before = gate().kernel_config;
  env.policy.mode = GateMode::monitor;  // what this start would set
  gate().fail_next(GetParam());
  EXPECT_THROW(env.boot(), Error);
  EXPECT_FALSE(env.running());
  EXPECT_EQ(gate().entries, entries_before);
  EXPECT_EQ(gate().kernel_config, config_before);
  env.boot();
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_TRUE(gate().kernel_config.monitor);
}

INSTANTIATE_TEST_SUITE_P(EveryOperation, StartFailure,
                         ::testing::Values(GateOp::config, GateOp::set_loaders, GateOp::set_protected,
                                           GateOp::set_reserved_names, GateOp::put_baseline, GateOp::prune_baseline,
                                           GateOp::set_baseline_dirs, GateOp::set_config),
                         [](const ::testing::TestParamInfo<GateOp>& op) { return std::string(op_name(op.param)); });

}  // namespace
