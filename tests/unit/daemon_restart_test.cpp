// Restarts from the state directory: a new daemon over the same state directory puts the
// installed tickets back into the kernel (a fresh one after a reboot, or the pinned maps,
// whose counts of uses it takes), never a ticket that was revoked or spent, never a record
// this host's daemon did not write (the state seal), and refuses a rewound directory.
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon_env.h"
#include "state_store.h"

using namespace execgate;
using namespace execgate::test;
namespace fs = std::filesystem;

namespace {

class Restart : public ::testing::Test {
 protected:
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    lib = env.make_file("lib", "#!/bin/sh\necho lib\n");
    env.boot();
  }
  GateDaemon& daemon() { return env.daemon(); }
  FakeGate& gate() { return env.gate(); }
  std::string submit(const std::string& envelope) { return daemon().submit(envelope, "test").value("result", ""); }
  std::string holder(const InodeKey& key) {
    const auto e = gate().get_ticket(key);
    return e && !e->pending ? hex_id(e->id) : "";
  }

  DaemonEnv env;
  InodeKey tool, lib;
};

TEST_F(Restart, AfterARebootTheInstalledTicketsGoBackIntoTheKernel) {
  const std::string plain = env.ticket({"tool"});
  const std::string limited = env.issue({.files = {"lib"}, .max_uses = 3});
  ASSERT_EQ(submit(plain), "installed");
  ASSERT_EQ(submit(limited), "installed");
  gate().exec(lib);
  daemon().sweep();  // the uses persisted: 2 left
  env.shut_down();
  env.fresh_kernel();  // a reboot: the pinned maps are gone
  env.boot();
  EXPECT_EQ(holder(tool), DaemonEnv::id_of(plain));
  EXPECT_EQ(holder(lib), DaemonEnv::id_of(limited));
  EXPECT_EQ(gate().get_ticket(lib)->uses_left, 2);
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_EQ(daemon().tickets_json().size(), 2u);
  EXPECT_FALSE(env.audited("ticket_expired", "exhausted")) << "no ticket spent by the reboot";
}

TEST_F(Restart, OverThePinnedMapsTheKernelsCountStands) {
  const std::string limited = env.issue({.files = {"lib"}, .max_uses = 3});
  ASSERT_EQ(submit(limited), "installed");
  gate().exec(lib);
  gate().exec(lib);  // counted by the kernel, never read by the daemon
  env.shut_down();
  env.boot();
  EXPECT_EQ(gate().get_ticket(lib)->uses_left, 1);
  gate().exec(lib);  // its last use, while no daemon runs
  env.shut_down();
  env.boot();
  EXPECT_FALSE(gate().get_ticket(lib)) << "spent at start";
  EXPECT_TRUE(env.audited("ticket_expired", "exhausted", DaemonEnv::id_of(limited)));
  EXPECT_EQ(daemon().submit(limited, "test")["reason"], "replay");
}

TEST_F(Restart, ARevokedTicketStaysRevoked) {
  const std::string t = env.ticket({"tool"});
  ASSERT_EQ(submit(t), "installed");
  ASSERT_EQ(submit(env.revocation({DaemonEnv::id_of(t)})), "revoked");
  env.shut_down();
  env.fresh_kernel();
  env.boot();
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_EQ(daemon().submit(t, "test")["reason"], "revoked");
}

TEST_F(Restart, ARecordThisHostsDaemonDidNotWriteIsRefused) {
  env.shut_down();
  // a valid ticket's record planted in installed/ by hand: no seal of this host's key
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  StateStore planter(env.paths.state_dir);
  planter.put_installed(id, InstalledRecord{t, std::nullopt, env.clock.now(), {}, std::nullopt});
  env.boot();
  EXPECT_FALSE(gate().get_ticket(tool)) << "never installed";
  EXPECT_TRUE(daemon().tickets_json().empty());
  EXPECT_FALSE(fs::exists(planter.installed_path(id)));
  EXPECT_TRUE(env.audited("ticket_refused", "planted", id));
  EXPECT_EQ(submit(t), "installed") << "submitted for real, it is installed";
}

TEST_F(Restart, ARewoundStateDirectoryIsRefused) {
  const std::string t = env.ticket({"tool"});
  ASSERT_EQ(submit(t), "installed");
  ASSERT_EQ(submit(env.revocation({DaemonEnv::id_of(t)})), "revoked");
  env.shut_down();
  const std::string tombstone = StateStore(env.paths.state_dir).tombstone_path(DaemonEnv::id_of(t));
  fs::remove(tombstone);  // the directory restored from before the revocation
  env.fresh_kernel();
  try {
    env.boot();
    FAIL() << "started over a rewound state directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rewound"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(env.running());
  EXPECT_TRUE(gate().entries.empty()) << "nothing installed";
}

}  // namespace
