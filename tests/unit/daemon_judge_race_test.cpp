// The judge -> resolve -> judge race: a submission is judged under the daemon's lock, its
// files are sealed and hashed outside it, and it is judged again before the install (what
// changed meanwhile decides). The fake gate interleaves another operation at the very
// moment the files are being sealed; whatever lands there, the end state is consistent
// and fail-closed: one ticket installed at most, every entry it left sealed or gone.
#include <gtest/gtest.h>

#include "daemon_env.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

class JudgeRace : public ::testing::Test {
 protected:
  void SetUp() override { tool = env.make_file("tool", "#!/bin/sh\necho tool\n"); }
  GateDaemon& daemon() { return env.daemon(); }
  FakeGate& gate() { return env.gate(); }
  json submit(const std::string& envelope, const std::string& source = "test") {
    return daemon().submit(envelope, source);
  }
  int installed_records(const std::string& id) {
    int n = 0;
    for (const auto& r : env.audit_records()) n += r.value("event", "") == "ticket_installed" && r["ticket"] == id;
    return n;
  }

  DaemonEnv env;
  InodeKey tool;
};

TEST_F(JudgeRace, ARevocationLandingWhileTheFilesAreHashedWins) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  json revoked;
  // after the pending entry went in: the file is being opened and hashed
  gate().after(GateOp::put_ticket, [&] { revoked = submit(env.revocation({id}), "race"); });
  const json reply = submit(t);
  EXPECT_EQ(revoked["result"], "revoked");
  EXPECT_EQ(reply["result"], "refused");
  EXPECT_EQ(reply["reason"], "revoked");
  EXPECT_FALSE(gate().get_ticket(tool)) << "the resolution's pending entry is released";
  EXPECT_FALSE(gate().allows_exec(tool));
  EXPECT_TRUE(daemon().tickets_json().empty());
  EXPECT_EQ(installed_records(id), 0);
}

TEST_F(JudgeRace, AnIssuerDroppedWhileTheFilesAreHashedIsRefused) {
  env.add_issuer("dev");
  env.boot();
  const std::string t = env.issue({.files = {"tool"}, .issuer = "dev"});
  Policy without_dev = env.policy;
  std::erase_if(without_dev.issuers, [](const IssuerPolicy& i) { return i.name == "dev"; });
  gate().after(GateOp::put_ticket, [&] { daemon().reload(without_dev); });
  const json reply = submit(t);
  EXPECT_EQ(reply["reason"], "untrusted_issuer");
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_TRUE(daemon().tickets_json().empty());
}

// The same ticket, submitted again while its files are hashed (the spool and the socket):
// the second resolution finds the first one's pending entry and seals the file; the first
// then finds the sealed entry, not its own open, and is refused. One install, sealed.
TEST_F(JudgeRace, TheSameTicketSubmittedWhileItsFilesAreHashedIsInstalledOnce) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  json inner;
  gate().after(GateOp::put_ticket, [&] { inner = submit(t, "spool:t.json"); });
  const json outer = submit(t);
  EXPECT_EQ(inner["result"], "installed");
  EXPECT_NE(outer.value("result", ""), "installed") << outer.dump();
  const auto entry = gate().get_ticket(tool);
  ASSERT_TRUE(entry);
  EXPECT_EQ(hex_id(entry->id), id);
  EXPECT_FALSE(entry->pending);
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_EQ(daemon().tickets_json().size(), 1u);
  EXPECT_EQ(installed_records(id), 1);
}

// The other ticket installed between the lookup of the file's entry and the pending entry:
// the pending entry overwrites the sealed one; the second judgement finds the ticket
// installed, and the file gets its sealed entry back (never left pending or removed under
// an installed ticket).
TEST_F(JudgeRace, TheSameTicketInstalledJustBeforeThePendingEntryKeepsItsSealedEntry) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  json inner;
  gate().before(GateOp::put_ticket, [&] { inner = submit(t, "spool:t.json"); });
  const json outer = submit(t);
  EXPECT_EQ(inner["result"], "installed");
  EXPECT_EQ(outer["result"], "installed");
  EXPECT_EQ(outer["already"], true);
  const auto entry = gate().get_ticket(tool);
  ASSERT_TRUE(entry) << "the installed ticket's entry is not removed with the pending one";
  EXPECT_EQ(hex_id(entry->id), id);
  EXPECT_FALSE(entry->pending);
  EXPECT_TRUE(gate().allows_exec(tool));
  EXPECT_EQ(installed_records(id), 1);
}

// An exec of the file while it is being sealed is denied (`unsealed`) and audited; once the
// ticket is installed, execs run.
TEST_F(JudgeRace, AnExecWhileTheFileIsBeingSealedIsDenied) {
  env.boot();
  const std::string t = env.ticket({"tool"});
  GateEvent during;
  gate().after(GateOp::put_ticket, [&] { during = gate().exec(tool); });
  ASSERT_EQ(submit(t)["result"], "installed");
  EXPECT_EQ(during.verdict, "deny");
  EXPECT_EQ(during.reason, "unsealed");
  EXPECT_EQ(gate().exec(tool).verdict, "allow");
  EXPECT_EQ(daemon().drain_events(0), 2);
  bool denied = false, allowed = false;
  for (const auto& r : env.audit_records()) {
    if (r.value("event", "") != "exec") continue;
    denied = denied || (r["verdict"] == "deny" && r["reason"] == "unsealed");
    allowed = allowed || (r["verdict"] == "allow" && r["reason"] == "ticket" && r["ticket"] == DaemonEnv::id_of(t));
  }
  EXPECT_TRUE(denied);
  EXPECT_TRUE(allowed);
}

}  // namespace
