// GateDaemon's tickets on the fake gate (tests/support): a submission sealed into the
// kernel, a revocation, expiry at the sweep, a max_uses ticket spent at the event of its
// last use, the refusals of the sealing, the ring buffer's losses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon_env.h"
#include "state_store.h"

using namespace execgate;
using namespace execgate::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class DaemonTickets : public ::testing::Test {
 protected:
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    env.boot();
  }
  GateDaemon& daemon() { return env.daemon(); }
  FakeGate& gate() { return env.gate(); }
  json submit(const std::string& envelope) { return env.submit(envelope); }
  std::string holder(const InodeKey& key) const { return env.holder(key); }
  StateStore store() { return StateStore(env.paths.state_dir); }

  DaemonEnv env;
  InodeKey tool;
};

TEST_F(DaemonTickets, ASubmissionSealsTheFilesEntryAndRecordsTheTicket) {
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  const json reply = submit(t);
  ASSERT_EQ(reply["result"], "installed") << reply.dump();
  const auto entry = gate().get_ticket(tool);
  ASSERT_TRUE(entry);
  EXPECT_EQ(hex_id(entry->id), id);
  EXPECT_FALSE(entry->pending) << "sealed";
  EXPECT_TRUE(gate().allows_exec(tool));
  // the sealing: a pending entry before the file is opened and hashed, the sealed one after
  const auto pending = gate().first(GateOp::put_ticket, tool), sealed = gate().last(GateOp::put_ticket, tool);
  ASSERT_TRUE(pending && sealed);
  EXPECT_LT(*pending, *sealed);
  EXPECT_EQ(gate().calls[*pending].detail, id + " pending");
  EXPECT_EQ(gate().calls[*sealed].detail, id + " sealed");
  EXPECT_TRUE(fs::exists(store().installed_path(id))) << "durable";
  ASSERT_EQ(daemon().tickets_json().size(), 1u);
  EXPECT_EQ(daemon().tickets_json()[0]["id"], id);
  EXPECT_EQ(daemon().status_json()["gate"]["tickets"], 1);
  EXPECT_TRUE(env.audited("ticket_installed", "ticket", id));
  EXPECT_EQ(submit(t)["already"], true) << "the same ticket again: nothing to do";
}

TEST_F(DaemonTickets, ARevocationRemovesTheEntryAndTombstonesTheTicket) {
  const std::string t = env.ticket({"tool"});
  const std::string id = DaemonEnv::id_of(t);
  ASSERT_EQ(submit(t)["result"], "installed");
  const json reply = submit(env.revocation({id}));
  EXPECT_EQ(reply["result"], "revoked");
  EXPECT_EQ(reply["removed"], json::array({id}));
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_EQ(gate().exec_reason(tool), "no_ticket");
  EXPECT_TRUE(gate().last(GateOp::delete_ticket, tool));
  EXPECT_TRUE(fs::exists(store().tombstone_path(id)));
  EXPECT_FALSE(fs::exists(store().installed_path(id)));
  EXPECT_TRUE(env.audited("ticket_revoked", "revoked", id));
  EXPECT_TRUE(daemon().tickets_json().empty());
  const std::size_t calls = gate().calls.size();
  EXPECT_EQ(submit(t)["reason"], "revoked") << "never installed again";
  EXPECT_EQ(gate().calls.size(), calls) << "refused before its files were even sealed";
}

TEST_F(DaemonTickets, AnExpiredTicketGoesAtTheSweep) {
  const std::string t = env.ticket({"tool"}, 60);
  const std::string id = DaemonEnv::id_of(t);
  ASSERT_EQ(submit(t)["result"], "installed");
  env.clock.advance(30);
  daemon().sweep();
  EXPECT_EQ(holder(tool), id) << "valid for 30 s more";
  env.clock.advance(31);
  EXPECT_EQ(gate().exec_reason(tool), "expired") << "the kernel judges the bound itself";
  daemon().sweep();
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_TRUE(daemon().tickets_json().empty());
  EXPECT_FALSE(fs::exists(store().installed_path(id)));
  EXPECT_TRUE(env.audited("ticket_expired", "expired", id));
}

TEST_F(DaemonTickets, AMaxUsesTicketIsSpentAtTheEventOfItsLastUse) {
  const std::string t = env.issue({.files = {"tool"}, .max_uses = 2});
  const std::string id = DaemonEnv::id_of(t);
  ASSERT_EQ(submit(t)["result"], "installed");
  ASSERT_EQ(gate().get_ticket(tool)->uses_left, 2);
  EXPECT_FALSE(gate().exec(tool).last_use);
  EXPECT_EQ(daemon().drain_events(0), 1);
  daemon().spend_used_up();
  EXPECT_EQ(holder(tool), id) << "one use left";
  EXPECT_TRUE(gate().exec(tool).last_use);
  EXPECT_EQ(daemon().drain_events(0), 1);
  daemon().spend_used_up();
  EXPECT_FALSE(gate().get_ticket(tool)) << "spent: its entry is removed";
  EXPECT_TRUE(env.audited("ticket_expired", "exhausted", id));
  EXPECT_TRUE(fs::exists(store().spent_path(id)));
  EXPECT_EQ(submit(t)["reason"], "replay") << "a spent ticket is refused on resubmission";
  bool last_use_recorded = false;
  for (const auto& r : env.audit_records())
    last_use_recorded = last_use_recorded || (r.value("event", "") == "exec" && r.value("last_use", false) &&
                                              r["ticket"] == id && r["path"] == env.file_path("tool"));
  EXPECT_TRUE(last_use_recorded) << "the exec that took the last use is audited, with the ticket's path";
}

TEST_F(DaemonTickets, AFileOpenForWritingIsRefusedAndLeavesNoEntry) {
  gate().writers_at_open[tool] = 1;
  const json reply = submit(env.ticket({"tool"}));
  EXPECT_EQ(reply["result"], "refused");
  EXPECT_EQ(reply["reason"], "open_for_write");
  EXPECT_FALSE(gate().get_ticket(tool)) << "the sealing's pending entry is removed again";
  EXPECT_TRUE(daemon().tickets_json().empty());
}

TEST_F(DaemonTickets, AnOpenTheKernelDidNotSeeIsRefused) {
  gate().probe_pending = false;  // execgated outside the initial PID namespace
  const json reply = submit(env.ticket({"tool"}));
  EXPECT_EQ(reply["reason"], "unsealed");
  EXPECT_FALSE(gate().get_ticket(tool));
}

TEST_F(DaemonTickets, AFileChangedSinceTheTicketWasIssuedIsRefused) {
  const std::string t = env.ticket({"tool"});
  std::ofstream(env.file_path("tool"), std::ios::trunc) << "#!/bin/sh\necho changed\n";  // same inode
  ASSERT_EQ(env.key_of("tool"), tool);
  const json reply = submit(t);
  EXPECT_EQ(reply["reason"], "digest_mismatch");
  EXPECT_FALSE(gate().get_ticket(tool));
  EXPECT_TRUE(env.audited("ticket_refused", "digest_mismatch", DaemonEnv::id_of(t)));
}

TEST_F(DaemonTickets, TheRingBuffersLossesAreAuditedAsAGap) {
  gate().gate_counters.ringbuf_drops = 3;
  daemon().drain_events(0);
  daemon().drain_events(0);  // counted once
  int gaps = 0;
  for (const auto& r : env.audit_records())
    if (r.value("event", "") == "gap" && r.value("reason", "") == "ring_buffer_full") {
      ++gaps;
      EXPECT_EQ(r["count"], 3);
    }
  EXPECT_EQ(gaps, 1);
}

}  // namespace
