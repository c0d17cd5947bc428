// The spool picked up by the daemon (the real Spool over the state directory's inbox, each
// file submitted to the GateDaemon on the fake gate, as execgated wires them): a ticket
// dropped in the inbox is installed and moved to done/; what is refused, malformed or
// failed by the kernel goes to rejected/ with its reason, and nothing of it is allowed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon_env.h"
#include "spool.h"

using namespace execgate;
using namespace execgate::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SpoolPickup : public ::testing::Test {
 protected:
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    env.boot();
    inbox = fs::path(env.paths.state_dir) / "inbox";
    spool = std::make_unique<Spool>(inbox.string(), [this](const std::string& envelope, const std::string& source) {
      return env.daemon().submit(envelope, source);
    });
  }
  void drop(const std::string& name, const std::string& text) {
    const fs::path tmp = inbox / ("." + name + ".tmp");  // written aside, then renamed in (a sync tool's way)
    std::ofstream(tmp) << text;
    fs::rename(tmp, inbox / name);
  }
  FakeGate& gate() { return env.gate(); }

  DaemonEnv env;
  InodeKey tool;
  fs::path inbox;
  std::unique_ptr<Spool> spool;
};

TEST_F(SpoolPickup, ATicketDroppedInTheInboxIsInstalledAndMovedToDone) {
  const std::string t = env.ticket({"tool"});
  drop("t1.json", t);
  EXPECT_FALSE(spool->drain());
  const auto entry = gate().get_ticket(tool);
  ASSERT_TRUE(entry);
  EXPECT_EQ(hex_id(entry->id), DaemonEnv::id_of(t));
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_EQ(slurp(inbox / "done" / "t1.json"), t);
  EXPECT_FALSE(fs::exists(inbox / "t1.json"));
  EXPECT_TRUE(env.audited("ticket_installed", "ticket", DaemonEnv::id_of(t)));
}

TEST_F(SpoolPickup, AMalformedFileGoesToRejectedWithItsReason) {
  drop("junk.json", "not a ticket");
  spool->drain();
  EXPECT_TRUE(fs::exists(inbox / "rejected" / "junk.json"));
  EXPECT_TRUE(slurp(inbox / "rejected" / "junk.json.reason").starts_with("malformed: "))
      << slurp(inbox / "rejected" / "junk.json.reason");
  EXPECT_FALSE(fs::exists(inbox / "junk.json"));
  EXPECT_TRUE(gate().entries.empty());
  EXPECT_TRUE(env.audited("ticket_refused", "malformed"));
}

TEST_F(SpoolPickup, ARevocationDroppedInTheInboxRemovesTheTicket) {
  const std::string t = env.ticket({"tool"});
  drop("t.json", t);
  spool->drain();
  ASSERT_TRUE(gate().allows_exec(tool));
  drop("r.json", env.revocation({DaemonEnv::id_of(t)}));
  spool->drain();
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_TRUE(fs::exists(inbox / "done" / "r.json"));
  // the ticket dropped again is refused, with the revocation as its reason
  drop("t-again.json", t);
  spool->drain();
  EXPECT_TRUE(slurp(inbox / "rejected" / "t-again.json.reason").starts_with("revoked: "));
  EXPECT_FALSE(gate().get_ticket(tool));
}

TEST_F(SpoolPickup, ATicketTheKernelFailsIsRejectedAndNothingOfItIsAllowed) {
  const std::string t = env.ticket({"tool"});
  gate().fail_on(GateOp::put_ticket, 2);  // the sealed entry
  drop("t.json", t);
  spool->drain();
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_TRUE(env.daemon().tickets_json().empty());
  EXPECT_TRUE(fs::exists(inbox / "rejected" / "t.json"));
  EXPECT_NE(slurp(inbox / "rejected" / "t.json.reason").find("ticket map"), std::string::npos)
      << slurp(inbox / "rejected" / "t.json.reason");
  // dropped again once the kernel takes it: installed
  drop("t.json", t);
  spool->drain();
  EXPECT_TRUE(gate().allows_exec(tool));
}

}  // namespace
