// execgate-sync's logic (userspace/sync/fleet_sync.h) end to end without a kernel: a real
// etcd on 127.0.0.1 (tests/support's EtcdServer), the sync as it runs (both threads), and a
// daemon on the fake gate in the same process, reached through the daemon port as the
// socket reaches execgated (root, outside the scope). Each case says what it must show
// (issue: publish, revoke, restart of etcd, compaction, forged values, deleted keys, the
// freshness deadline, auth, RBAC).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "daemon_env.h"
#include "etcd_server.h"
#include "execgate/ticket.h"
#include "fleet/layout.h"
#include "fleet/statements.h"
#include "sync/fleet_sync.h"

namespace execgate {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::DaemonEnv;
using test::EtcdServer;
using test::EtcdServerOptions;

// The daemon port over GateDaemon::handle_line, as the socket would carry it.
class InProcessDaemon final : public sync::DaemonPort {
 public:
  explicit InProcessDaemon(GateDaemon& d) : d_(d) {}
  json submit(const std::string& envelope, const std::string& key) override {
    return call({{"op", "fleet_submit"}, {"document", envelope}, {"key", key}});
  }
  json forget(const std::string& key) override { return call({{"op", "fleet_forget"}, {"key", key}}); }
  json contact(std::int64_t revision) override { return call({{"op", "fleet_contact"}, {"revision", revision}}); }
  std::set<std::string> fleet_keys() override {
    std::set<std::string> keys;
    const json reply = call({{"op", "tickets"}});
    for (const auto& t : reply["tickets"])
      if (t["fleet_key"].is_string()) keys.insert(t["fleet_key"].get<std::string>());
    return keys;
  }
  std::atomic<bool> down{false};  // the daemon unreachable

 private:
  json call(const json& req) {
    if (down) throw Error(ErrorKind::io, "daemon down (test)");
    json r = json::parse(d_.handle_line(req.dump(), ControlPeer{0, false}));
    if (!r["ok"].get<bool>()) throw Error(ErrorKind::io, r["error"].get<std::string>());
    return r;
  }
  GateDaemon& d_;
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds within = 15s) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

class SyncFleet : public ::testing::Test {
 protected:
  explicit SyncFleet(EtcdServerOptions o = {}) : etcd(o) {}
  void SetUp() override {
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    other = env.make_file("other", "#!/bin/sh\necho other\n");
    FleetPolicy f;
    f.endpoints = {etcd.endpoint()};
    f.max_silence = 60;
    env.policy.fleet = f;
    const KeyPair k = generate_keypair();
    save_keypair(k, (env.dir / "audit").string());
    audit_pub = k.pub;
    env.policy.audit.signing_key = (env.dir / "audit.key").string();
    env.shut_down();  // the audit log opened again, signing with that key
    env.boot();
    daemon = std::make_unique<InProcessDaemon>(env.daemon());
    publisher = std::make_unique<fleet::EtcdClient>(etcd.client_options());
  }
  void TearDown() override { stop_sync(); }

  sync::SyncOptions options() {
    sync::SyncOptions o;
    o.layout = layout;
    o.state_file = (env.dir / "sync-revision.json").string();
    o.contact_every = 200ms;
    o.backoff_first = 100ms;
    o.backoff_max = 500ms;
    o.publish_every = publish_every;
    return o;
  }
  void start_sync() {
    watch_client = std::make_unique<fleet::EtcdClient>(etcd.client_options());
    read_client = std::make_unique<fleet::EtcdClient>(etcd.client_options());
    sync = std::make_unique<sync::FleetSync>(options(), *watch_client, *read_client, *daemon);
    stop = false;
    runner = std::thread([this] { sync->run(stop); });
  }
  void stop_sync() {
    stop = true;
    if (runner.joinable()) runner.join();
  }
  std::int64_t publish(const std::string& envelope) {
    return publisher->put(layout.tickets() + DaemonEnv::id_of(envelope), envelope);
  }
  bool installed(const InodeKey& k) { return env.gate().get_ticket(k).has_value(); }
  // The host's acknowledgement in etcd, verified with its audit key: the revision it names.
  std::int64_t acked() {
    const auto r = publisher->range(layout.ack(env.machine_id));
    if (r.kvs.empty()) return 0;
    return fleet::verify_ack(r.kvs.front().value, audit_pub).revision;
  }

  EtcdServer etcd;
  DaemonEnv env;
  fleet::FleetLayout layout{"/execgate", env.machine_id};
  InodeKey tool, other;
  PublicKey audit_pub;
  std::unique_ptr<InProcessDaemon> daemon;
  std::unique_ptr<fleet::EtcdClient> publisher, watch_client, read_client;
  std::unique_ptr<sync::FleetSync> sync;
  std::atomic<bool> stop{false};
  std::thread runner;
  std::chrono::milliseconds publish_every = 300ms;
};

TEST_F(SyncFleet, PublishedIsAppliedAndAcknowledged) {
  start_sync();
  const std::string t = env.ticket({"tool"});
  const std::int64_t rev = publish(t);
  // sealed with the fleet flag (the pending entry before it allows nothing either way)
  ASSERT_TRUE(eventually([&] {
    const auto e = env.gate().get_ticket(tool);
    return e && !e->pending && e->fleet;
  }));
  EXPECT_TRUE(eventually([&] { return acked() >= rev; })) << "acked " << acked() << " < " << rev;
  // a ticket for this host alone, under its own subtree
  const std::string mine = env.ticket({"other"});
  publisher->put(layout.host_tickets(env.machine_id) + DaemonEnv::id_of(mine), mine);
  EXPECT_TRUE(eventually([&] { return installed(other); }));
}

// The daemon's newest signed checkpoint reaches hosts/<id>/checkpoints/<seq>, byte for
// byte its line in the log, verifiable with the host's audit key; a key already there is
// never overwritten, and a different value there is reported as a divergence.
TEST_F(SyncFleet, CheckpointsArePublishedCreateOnly) {
  const std::string dir = layout.host_dir(env.machine_id) + "checkpoints/";
  start_sync();
  publish(env.ticket({"tool"}));  // records: the install, then a checkpoint within 200 ms
  ASSERT_TRUE(eventually([&] { return publisher->range_prefix(dir).kvs.size() >= 1; }));
  const auto first = publisher->range_prefix(dir).kvs.front();
  const json cp = json::parse(first.value);
  EXPECT_EQ(first.key, dir + std::to_string(cp["seq"].get<std::uint64_t>()));
  EXPECT_TRUE(verify_audit_checkpoint(cp["seq_head"], cp["head"].get<std::string>(), cp["sig"].get<std::string>(),
                                      audit_pub));
  bool in_log = false;
  for (const auto& r : env.audit_records()) in_log = in_log || r.dump() == cp.dump();
  EXPECT_TRUE(in_log) << first.value;
  // a later checkpoint goes to a new key; the first is left as it was
  publish(env.ticket({"other"}));
  ASSERT_TRUE(eventually([&] { return publisher->range_prefix(dir).kvs.size() >= 2; }));
  EXPECT_EQ(publisher->range(first.key).kvs.front().value, first.value);
  EXPECT_EQ(first.create_revision, publisher->range(first.key).kvs.front().create_revision);
  EXPECT_EQ(sync->counters().checkpoint_conflicts, 0u);
  // a restarted sync that finds its newest checkpoint published with other bytes reports it
  stop_sync();
  const std::string key = dir + std::to_string(env.audit().status().checkpoint_seq);
  publisher->put(key, "not what the log holds");
  start_sync();
  EXPECT_TRUE(eventually([&] { return sync->counters().checkpoint_conflicts >= 1; }));
  EXPECT_EQ(publisher->range(key).kvs.front().value, "not what the log holds");  // never overwritten
}

TEST_F(SyncFleet, ARevocationUninstalls) {
  start_sync();
  const std::string t = env.ticket({"tool"});
  publish(t);
  ASSERT_TRUE(eventually([&] { return installed(tool); }));
  const std::string r = env.revocation({DaemonEnv::id_of(t)});
  const std::int64_t rev = publisher->put(layout.revocations() + "r1", r);
  EXPECT_TRUE(eventually([&] { return !installed(tool); }));
  EXPECT_TRUE(eventually([&] { return env.audited("ticket_revoked", "revoked", DaemonEnv::id_of(t)); }));
  EXPECT_TRUE(eventually([&] { return acked() >= rev; }));
}

TEST_F(SyncFleet, ADeletedKeyUninstalls) {
  start_sync();
  const std::string t = env.ticket({"tool"});
  publish(t);
  ASSERT_TRUE(eventually([&] { return installed(tool); }));
  publisher->remove(layout.tickets() + DaemonEnv::id_of(t));
  EXPECT_TRUE(eventually([&] { return !installed(tool); }));
  EXPECT_TRUE(eventually([&] { return env.audited("ticket_revoked", "deleted", DaemonEnv::id_of(t)); }));
}

TEST_F(SyncFleet, AForgedValueIsRefusedAuditedAndTheWatchGoesOn) {
  start_sync();
  const KeyPair rogue = generate_keypair();
  TicketBody b = parse_document_unverified(env.ticket({"tool"})).ticket.value();
  const std::string forged = sign_ticket(b, rogue.secret);
  publisher->put(layout.tickets() + b.id, forged);
  publisher->put(layout.tickets() + "0123456789abcdef0123456789abcdef", "not an envelope");
  const std::string good = env.ticket({"other"});
  publish(good);
  ASSERT_TRUE(eventually([&] { return installed(other); }));
  EXPECT_FALSE(installed(tool));
  EXPECT_TRUE(eventually([&] { return env.audited("ticket_refused", "untrusted_issuer"); }));
  EXPECT_TRUE(eventually([&] { return env.audited("ticket_refused", "malformed"); }));
  EXPECT_GE(sync->counters().refused.load(), 2u);
}

TEST_F(SyncFleet, EtcdKilledAndRestartedResumesWithNothingLost) {
  start_sync();
  const std::string a = env.ticket({"tool"});
  publish(a);
  ASSERT_TRUE(eventually([&] { return installed(tool); }));
  etcd.kill();
  std::this_thread::sleep_for(500ms);
  etcd.start();
  const std::string b = env.ticket({"other"});
  const std::int64_t rev = publish(b);
  EXPECT_TRUE(eventually([&] { return installed(other); }, 30s));
  EXPECT_TRUE(installed(tool));
  EXPECT_TRUE(eventually([&] { return acked() >= rev; }, 30s));
  EXPECT_GE(sync->counters().watch_failures.load(), 1u);
}

TEST_F(SyncFleet, CompactionPastTheRevisionIsAFullReadThatConverges) {
  start_sync();
  const std::string a = env.ticket({"tool"});
  publish(a);
  ASSERT_TRUE(eventually([&] { return installed(tool); }));
  stop_sync();
  const std::int64_t before = sync->resume_from();
  // while the sync is away: a's key deleted, b published, history compacted
  publisher->remove(layout.tickets() + DaemonEnv::id_of(a));
  const std::string b = env.ticket({"other"});
  const std::int64_t rev = publish(b);
  publisher->compact(rev);
  ASSERT_GT(rev, before + 1);
  start_sync();
  EXPECT_TRUE(eventually([&] { return installed(other) && !installed(tool); }))
      << "other " << installed(other) << " tool " << installed(tool) << " full reads " << sync->counters().full_reads
      << " submitted " << sync->counters().submitted << " refused " << sync->counters().refused << " forgotten "
      << sync->counters().forgotten << " watch failures " << sync->counters().watch_failures << ": " << sync->last_error();
  EXPECT_EQ(sync->counters().full_reads.load(), 1u) << "the persisted revision was compacted: one full read";
  EXPECT_TRUE(eventually([&] { return env.audited("ticket_revoked", "deleted", DaemonEnv::id_of(a)); }));
}

TEST_F(SyncFleet, SilenceBeyondMaxSilenceSuspendsTheFleetUntilEtcdIsBack) {
  start_sync();
  publish(env.ticket({"tool"}));
  ASSERT_TRUE(eventually([&] { return installed(tool) && sync->counters().contacts.load() > 0; }));
  etcd.stop();
  const auto contacts = sync->counters().contacts.load();
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(sync->counters().contacts.load(), contacts) << "no read, no contact";
  env.clock.advance(61);
  env.daemon().sweep();
  EXPECT_TRUE(env.gate().fleet_silent) << "fleet tickets denied fleet_silent in the kernel";
  EXPECT_TRUE(eventually([&] { return env.audited("fleet", "silent"); }));
  EXPECT_TRUE(installed(tool)) << "suspended, not uninstalled";
  etcd.start();
  EXPECT_TRUE(eventually([&] { return !env.gate().fleet_silent; }, 30s));
  EXPECT_TRUE(eventually([&] { return env.audited("fleet", "resumed"); }));
}

TEST_F(SyncFleet, TheDaemonDownIsRetriedFromWhereItWas) {
  daemon->down = true;
  start_sync();
  const std::string t = env.ticket({"tool"});
  publish(t);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(installed(tool));
  daemon->down = false;
  EXPECT_TRUE(eventually([&] { return installed(tool); }));
}

class SyncFleetAuth : public SyncFleet {
 protected:
  SyncFleetAuth() : SyncFleet(EtcdServerOptions{false, true}) {}
};

TEST_F(SyncFleetAuth, AWrongPasswordIsAClearErrorAndNoContact) {
  fleet::EtcdOptions o = etcd.client_options();
  o.password = "wrong";
  fleet::EtcdClient w(o), r(o);
  sync::FleetSync s(options(), w, r, *daemon);
  EXPECT_FALSE(s.contact_once());
  EXPECT_NE(s.last_error().find("authentication failed"), std::string::npos) << s.last_error();
  EXPECT_EQ(s.counters().contacts.load(), 0u);
}

TEST_F(SyncFleetAuth, AHostCannotWriteAnotherHostsSubtree) {
  etcd.add_user("h1", "pw1", layout.host_dir(env.machine_id));
  fleet::EtcdOptions o = etcd.client_options(false);
  o.user = "h1";
  o.password = "pw1";
  fleet::EtcdClient h1(o);
  h1.put(layout.ack(env.machine_id), "x");  // its own subtree
  try {
    h1.put(layout.ack("ffffffffffffffffffffffffffffffff"), "x");
    FAIL() << "etcd let a host write another host's subtree";
  } catch (const fleet::EtcdError& e) {
    EXPECT_EQ(e.kind(), fleet::EtcdErrorKind::permission) << e.what();
  }
  EXPECT_THROW(h1.put(layout.tickets() + "x", "x"), fleet::EtcdError) << "nor the fleet's tickets";
}

}  // namespace
}  // namespace execgate
