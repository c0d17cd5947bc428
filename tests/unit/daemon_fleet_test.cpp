// The daemon's side of the fleet (docs/fleet.md) on the fake gate: tickets execgate-sync
// submits carry the fleet flag in the kernel and their key; a deleted key uninstalls them;
// the freshness deadline sets the kernel's fleet-silent word at max_silence without contact
// and clears it at the next contact, audited both ways, and holds across a restart; only
// execgate-sync's peer (root or sync_user, outside the scope) may send fleet requests; a
// contact is answered with an acknowledgement signed by the audit key.
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon_env.h"
#include "execgate/keys.h"
#include "fleet/statements.h"
#include "state_store.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

class DaemonFleet : public ::testing::Test {
 protected:
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    other = env.make_file("other", "#!/bin/sh\necho other\n");
    FleetPolicy f;
    f.endpoints = {"http://127.0.0.1:2379"};
    f.max_silence = 120;
    env.policy.fleet = f;
    const KeyPair audit_key = generate_keypair();
    key_path = (env.dir / "audit").string();
    save_keypair(audit_key, key_path);
    audit_pub = audit_key.pub;
    env.policy.audit.signing_key = key_path + ".key";
    env.boot();
  }
  json ask(const json& request, ControlPeer peer = {}) {
    return json::parse(env.daemon().handle_line(request.dump(), peer));
  }
  json fleet_submit(const std::string& envelope, const std::string& key) {
    return ask({{"op", "fleet_submit"}, {"document", envelope}, {"key", key}});
  }
  json contact(std::int64_t revision) { return ask({{"op", "fleet_contact"}, {"revision", revision}}); }
  std::string key_for(const std::string& envelope) { return "/execgate/tickets/" + DaemonEnv::id_of(envelope); }

  DaemonEnv env;
  InodeKey tool, other;
  std::string key_path;
  PublicKey audit_pub;
};

TEST_F(DaemonFleet, AFleetTicketCarriesTheFleetFlagALocalOneDoesNot) {
  const std::string f = env.ticket({"tool"}), l = env.ticket({"other"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  ASSERT_EQ(env.submit(l)["result"], "installed");
  EXPECT_TRUE(env.gate().get_ticket(tool)->fleet);
  EXPECT_FALSE(env.gate().get_ticket(other)->fleet);
  const json tickets = ask({{"op", "tickets"}})["tickets"];
  for (const auto& t : tickets)
    EXPECT_EQ(t["fleet_key"], t["id"] == DaemonEnv::id_of(f) ? json(key_for(f)) : json(nullptr)) << t.dump();
}

TEST_F(DaemonFleet, AKeyThatDoesNotNameItsTicketIsRefused) {
  const std::string f = env.ticket({"tool"});
  const json r = fleet_submit(f, "/execgate/tickets/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r["result"], "refused") << r.dump();
  EXPECT_EQ(r["reason"], "malformed");
  EXPECT_FALSE(env.gate().get_ticket(tool));
}

TEST_F(DaemonFleet, ADeletedKeyUninstallsWhatCameFromItAndNothingElse) {
  const std::string f = env.ticket({"tool"}), l = env.ticket({"other"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  ASSERT_EQ(env.submit(l)["result"], "installed");
  const json r = ask({{"op", "fleet_forget"}, {"key", key_for(f)}});
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["uninstalled"], json::array({DaemonEnv::id_of(f)}));
  EXPECT_FALSE(env.gate().get_ticket(tool));
  EXPECT_TRUE(env.gate().get_ticket(other));
  EXPECT_TRUE(env.audited("ticket_revoked", "deleted", DaemonEnv::id_of(f)));
  // a key never submitted, or the local ticket's id under the fleet's prefix: nothing
  ask({{"op", "fleet_forget"}, {"key", key_for(l)}});
  EXPECT_TRUE(env.gate().get_ticket(other));
}

TEST_F(DaemonFleet, SilenceBeyondMaxSilenceSetsTheKernelsWordAndContactClearsIt) {
  ASSERT_TRUE(contact(5)["ok"]);
  env.clock.advance(120);
  env.daemon().sweep();
  EXPECT_FALSE(env.gate().fleet_silent) << "at max_silence exactly: still in contact";
  env.clock.advance(1);
  env.daemon().sweep();
  EXPECT_TRUE(env.gate().fleet_silent);
  EXPECT_TRUE(env.audited("fleet", "silent"));
  EXPECT_EQ(ask({{"op", "status"}})["fleet"]["silent"], true);
  const json c = contact(9);
  EXPECT_EQ(c["silent"], false) << c.dump();
  EXPECT_FALSE(env.gate().fleet_silent);
  EXPECT_TRUE(env.audited("fleet", "resumed"));
  EXPECT_EQ(ask({{"op", "status"}})["fleet"]["revision"], 9);
}

TEST_F(DaemonFleet, ARestartKeepsTheDeadlineItHad) {
  ASSERT_TRUE(contact(3)["ok"]);
  env.shut_down();
  env.clock.advance(500);  // the host was off, cut off
  env.fresh_kernel();
  env.boot();
  EXPECT_TRUE(env.gate().fleet_silent) << "a boot without etcd is held to the last contact, not given a new term";
  EXPECT_EQ(ask({{"op", "status"}})["fleet"]["revision"], 3);
}

TEST_F(DaemonFleet, FleetTicketsSurviveARestartWithTheirFlagAndKey) {
  const std::string f = env.ticket({"tool"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  env.shut_down();
  env.fresh_kernel();
  env.boot();
  ASSERT_TRUE(env.gate().get_ticket(tool));
  EXPECT_TRUE(env.gate().get_ticket(tool)->fleet);
  ask({{"op", "fleet_forget"}, {"key", key_for(f)}});
  EXPECT_FALSE(env.gate().get_ticket(tool)) << "the key was kept in the state directory";
}

TEST_F(DaemonFleet, ARecordTurnedLocalDoesNotVerify) {
  const std::string f = env.ticket({"tool"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  env.shut_down();
  StateStore store(env.paths.state_dir);
  const std::string file = env.paths.state_dir + "/installed/" + DaemonEnv::id_of(f) + ".json";
  json rec = json::parse(read_file(file, 1 << 20));
  rec.erase("fleet_key");  // out of reach of the deadline, were it accepted
  write_file_atomic(file, rec.dump() + "\n", 0600);
  env.fresh_kernel();
  env.boot();
  EXPECT_FALSE(env.gate().get_ticket(tool));
  EXPECT_TRUE(env.audited("ticket_refused", "planted", DaemonEnv::id_of(f)));
}

TEST_F(DaemonFleet, SuspendLocalFlagsEveryTicket) {
  const std::string l = env.ticket({"other"});
  ASSERT_EQ(env.submit(l)["result"], "installed");
  EXPECT_FALSE(env.gate().get_ticket(other)->fleet);
  Policy p = env.policy;
  p.fleet->suspend_local = true;
  env.daemon().reload(p);
  EXPECT_TRUE(env.gate().get_ticket(other)->fleet);
}

TEST_F(DaemonFleet, ThePolicyLosingItsFleetUninstallsTheFleetsTickets) {
  const std::string f = env.ticket({"tool"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  env.clock.advance(1000);
  env.daemon().sweep();
  ASSERT_TRUE(env.gate().fleet_silent);
  Policy p = env.policy;
  p.fleet.reset();
  env.daemon().reload(p);
  EXPECT_FALSE(env.gate().get_ticket(tool));
  EXPECT_FALSE(env.gate().fleet_silent);
}

TEST_F(DaemonFleet, ARestartWithoutTheFleetUninstallsWhatTheStateKeptFromIt) {
  const std::string f = env.ticket({"tool"}), l = env.ticket({"other"});
  ASSERT_EQ(fleet_submit(f, key_for(f))["result"], "installed");
  ASSERT_EQ(env.submit(l)["result"], "installed");
  env.shut_down();
  env.policy.fleet.reset();
  env.boot();
  EXPECT_FALSE(env.gate().get_ticket(tool));
  EXPECT_TRUE(env.gate().get_ticket(other));
  EXPECT_TRUE(env.audited("ticket_revoked", "deleted", DaemonEnv::id_of(f)));
}

TEST_F(DaemonFleet, OnlyTheSyncPeerOutsideTheScopeMaySendFleetRequests) {
  const std::string f = env.ticket({"tool"});
  for (const ControlPeer peer : {ControlPeer{0, true}, ControlPeer{4242, false}}) {
    const json r = ask({{"op", "fleet_submit"}, {"document", f}, {"key", key_for(f)}}, peer);
    EXPECT_EQ(r["ok"], false) << r.dump();
    EXPECT_NE(r["error"].get<std::string>().find("execgate-sync"), std::string::npos) << r.dump();
    EXPECT_EQ(ask({{"op", "fleet_contact"}, {"revision", 1}}, peer)["ok"], false);
  }
  EXPECT_FALSE(env.gate().get_ticket(tool));
}

TEST_F(DaemonFleet, AContactIsAnsweredWithASignedAcknowledgement) {
  const std::string f = env.ticket({"tool"}), l = env.ticket({"other"});
  fleet_submit(f, key_for(f));
  env.submit(l);
  const json c = contact(17);
  ASSERT_TRUE(c["ack"].is_string()) << c.dump();
  const fleet::FleetAck a = fleet::verify_ack(c["ack"].get<std::string>(), audit_pub);
  EXPECT_EQ(a.host, env.machine_id);
  EXPECT_EQ(a.revision, 17);
  EXPECT_EQ(a.tickets, 2);
  EXPECT_EQ(a.fleet_tickets, 1);
  EXPECT_FALSE(a.silent);
  EXPECT_EQ(a.digest.size(), 64u);
  EXPECT_THROW(fleet::verify_ack(c["ack"].get<std::string>(), generate_keypair().pub), Error);
}

TEST(DaemonFleetPolicy, NoFleetNoFleetRequests) {
  DaemonEnv env;
  env.boot();
  const json r = json::parse(env.daemon().handle_line(json{{"op", "fleet_contact"}, {"revision", 1}}.dump()));
  EXPECT_EQ(r["ok"], false);
}

}  // namespace
