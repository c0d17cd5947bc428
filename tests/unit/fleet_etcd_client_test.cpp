// EtcdClient (userspace/fleet/etcd_client.h) against a real etcd (tests/support's
// EtcdServer): the keys, paging, the create-only txn, watches (order, replay, several
// ranges, progress, compaction, etcd killed and restarted), auth and RBAC, TLS, and
// failover between endpoints.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "etcd_server.h"
#include "fleet/etcd_client.h"

namespace execgate::fleet {
namespace {

using namespace std::chrono_literals;
using test::EtcdServer;
using test::EtcdServerOptions;

std::string what_of(const std::function<void()>& f, EtcdErrorKind expected) {
  try {
    f();
  } catch (const EtcdError& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no EtcdError thrown";
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A watch run on its own thread and client, its messages collected.
class WatchRun {
 public:
  // Stops after `events` events (0: only when stopped).
  WatchRun(EtcdOptions options, std::vector<std::pair<std::string, std::string>> ranges, std::int64_t start,
           std::size_t events = 0)
      : thread_([this, options = std::move(options), ranges = std::move(ranges), start, events] {
          try {
            EtcdClient client(options);
            client.watch(
                ranges, start,
                [&](std::size_t i, const WatchResponse& r) {
                  std::lock_guard lock(mu_);
                  msgs_.emplace_back(i, r);
                  events_ += r.events.size();
                  cv_.notify_all();
                  return events == 0 || events_ < events;
                },
                stop_);
          } catch (const EtcdError& e) {
            std::lock_guard lock(mu_);
            error_.emplace(e);
          }
          std::lock_guard lock(mu_);
          done_ = true;
          cv_.notify_all();
        }) {}
  ~WatchRun() {
    stop_ = true;
    thread_.join();
  }

  // Waits until pred(messages) holds; false after the timeout or when the watch ended first.
  bool wait(const std::function<bool(const std::vector<std::pair<std::size_t, WatchResponse>>&)>& pred,
            std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(msgs_) || done_; }) && pred(msgs_);
  }
  // Waits for every range's created message.
  bool created(std::size_t ranges = 1) {
    return wait([ranges](const auto& msgs) {
      std::size_t n = 0;
      for (const auto& [i, r] : msgs) n += r.created ? 1 : 0;
      return n >= ranges;
    });
  }
  // Waits until the watch ended; its error (nullopt when it returned).
  std::optional<EtcdError> ended(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return done_; })) << "the watch did not end";
    return error_;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard lock(mu_);
    std::vector<WatchEvent> out;
    for (const auto& [i, r] : msgs_) out.insert(out.end(), r.events.begin(), r.events.end());
    return out;
  }
  std::vector<std::pair<std::size_t, WatchResponse>> messages() {
    std::lock_guard lock(mu_);
    return msgs_;
  }
  void stop() { stop_ = true; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::size_t, WatchResponse>> msgs_;
  std::size_t events_ = 0;
  std::optional<EtcdError> error_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One plain etcd for the tests that do not stop, compact or secure it.
class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new EtcdServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static EtcdOptions options() { return server_->client_options(); }
  static EtcdServer* server_;
};
EtcdServer* EtcdClientTest::server_ = nullptr;

TEST_F(EtcdClientTest, PutRangeRemove) {
  EtcdClient c(options());
  const std::int64_t r1 = c.put("/kv/a", "one");
  const std::int64_t r2 = c.put("/kv/a", std::string("t\0o", 3));
  EXPECT_EQ(r2, r1 + 1);
  const RangeResult got = c.range("/kv/a");
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(got.kvs[0].value, std::string("t\0o", 3));
  EXPECT_EQ(got.kvs[0].create_revision, r1);
  EXPECT_EQ(got.kvs[0].mod_revision, r2);
  EXPECT_EQ(got.kvs[0].version, 2);
  EXPECT_EQ(got.revision, r2);
  EXPECT_EQ(c.range("/kv/a", "", r1).kvs.at(0).value, "one");  // at an older revision
  EXPECT_TRUE(c.range("/kv/none").kvs.empty());
  c.put("/kv/b", "");
  EXPECT_EQ(c.range("/kv/b").kvs.at(0).value, "");
  const RangeResult keys = c.range("/kv/", prefix_end("/kv/"), 0, 0, true);
  ASSERT_EQ(keys.kvs.size(), 2u);
  EXPECT_EQ(keys.kvs[0].value, "");  // keys only
  EXPECT_GT(c.remove("/kv/a"), r2);
  EXPECT_TRUE(c.range("/kv/a").kvs.empty());
  EXPECT_EQ(c.current_endpoint(), server_->endpoint());
  // a revision etcd does not have yet is its error, not the client's
  const std::string msg = what_of([&] { c.range("/kv/a", "", 1'000'000); }, EtcdErrorKind::protocol);
  EXPECT_TRUE(contains(msg, "future revision")) << msg;
  EXPECT_TRUE(contains(msg, server_->endpoint().substr(7))) << msg;
}

TEST_F(EtcdClientTest, RangePrefixPages) {
  EtcdClient c(options());
  constexpr int n = 1200;
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "/pages/%04d", i);
    c.put(key, std::to_string(i));
  }
  c.put("/pages0", "outside");  // prefix_end("/pages/") is "/pages0": not included
  c.put("/page", "outside");
  const RangeResult first = c.range("/pages/", prefix_end("/pages/"), 0, EtcdClient::range_page_limit);
  EXPECT_TRUE(first.more);
  EXPECT_EQ(first.count, n);
  const RangeResult all = c.range_prefix("/pages/");
  ASSERT_EQ(all.kvs.size(), static_cast<std::size_t>(n));
  EXPECT_FALSE(all.more);
  EXPECT_EQ(all.count, n);
  for (int i = 0; i < n; ++i) EXPECT_EQ(all.kvs[i].value, std::to_string(i));
  // a snapshot: the pages are read at the first's revision
  const std::int64_t rev = all.revision;
  c.put("/pages/0000", "changed");
  EXPECT_EQ(c.range_prefix("/pages/", rev).kvs.at(0).value, "0");
  EXPECT_EQ(c.range_prefix("/pages/").kvs.at(0).value, "changed");
}

TEST_F(EtcdClientTest, CreateOnly) {
  EtcdClient c(options());
  EXPECT_TRUE(c.create("/create/k", "first"));
  EXPECT_FALSE(c.create("/create/k", "second"));
  EXPECT_EQ(c.range("/create/k").kvs.at(0).value, "first");
  c.remove("/create/k");
  EXPECT_TRUE(c.create("/create/k", "again"));
}

TEST_F(EtcdClientTest, RemovePrefix) {
  EtcdClient c(options());
  for (const char* k : {"/rm/a", "/rm/b/c", "/rm/d"}) c.put(k, "x");
  c.put("/rmx", "kept");
  const std::int64_t rev = c.remove_prefix("/rm/");
  EXPECT_GT(rev, 0);
  EXPECT_TRUE(c.range_prefix("/rm/").kvs.empty());
  EXPECT_EQ(c.range("/rmx").kvs.size(), 1u);
  EXPECT_EQ(c.remove_prefix("/rm/"), rev);  // nothing deleted: the revision stays
}

TEST_F(EtcdClientTest, WatchPutsAndDeletesInOrder) {
  EtcdClient c(options());
  WatchRun w(options(), {{"/w1/", prefix_end("/w1/")}}, 0, 4);
  ASSERT_TRUE(w.created());
  const std::int64_t r1 = c.put("/w1/a", "1");
  const std::int64_t r2 = c.put("/w1/b", "2");
  c.put("/other", "not watched");
  const std::int64_t r3 = c.remove("/w1/a");
  const std::int64_t r4 = c.put("/w1/b", "3");
  EXPECT_FALSE(w.ended().has_value());  // returned: on_message said false after 4 events
  const auto ev = w.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].type, WatchEvent::Type::put);
  EXPECT_EQ(ev[0].kv.key, "/w1/a");
  EXPECT_EQ(ev[0].kv.value, "1");
  EXPECT_EQ(ev[0].kv.mod_revision, r1);
  EXPECT_EQ(ev[1].kv.mod_revision, r2);
  EXPECT_EQ(ev[2].type, WatchEvent::Type::del);
  EXPECT_EQ(ev[2].kv.key, "/w1/a");
  EXPECT_EQ(ev[2].kv.mod_revision, r3);
  EXPECT_EQ(ev[3].kv.value, "3");
  EXPECT_EQ(ev[3].kv.mod_revision, r4);
  EXPECT_EQ(ev[3].kv.version, 2);
}

TEST_F(EtcdClientTest, WatchReplaysFromAnOldRevision) {
  EtcdClient c(options());
  const std::int64_t r1 = c.put("/replay/a", "1");
  c.put("/replay/b", "2");
  c.remove("/replay/a");
  WatchRun w(options(), {{"/replay/", prefix_end("/replay/")}}, r1, 3);
  EXPECT_FALSE(w.ended().has_value());
  const auto ev = w.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kv.mod_revision, r1);
  EXPECT_EQ(ev[1].kv.key, "/replay/b");
  EXPECT_EQ(ev[2].type, WatchEvent::Type::del);
  // from after the last: nothing replayed, and stop returns promptly
  WatchRun later(options(), {{"/replay/", prefix_end("/replay/")}}, ev[2].kv.mod_revision + 1);
  ASSERT_TRUE(later.created());
  const auto t0 = std::chrono::steady_clock::now();
  later.stop();
  EXPECT_FALSE(later.ended().has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_TRUE(later.events().empty());
}

TEST_F(EtcdClientTest, WatchSeveralRanges) {
  EtcdClient c(options());
  WatchRun w(options(), {{"/multi/a/", prefix_end("/multi/a/")}, {"/multi/b", ""}}, 0, 3);
  ASSERT_TRUE(w.created(2));
  c.put("/multi/b", "single key");
  c.put("/multi/a/1", "x");
  c.put("/multi/bb", "not watched: the second range is one key");
  c.put("/multi/a/2", "y");
  EXPECT_FALSE(w.ended().has_value());
  // in order within a range; the streams are independent, so not across ranges
  std::vector<std::string> got[2];
  for (const auto& [i, r] : w.messages())
    for (const auto& e : r.events) got[i].push_back(e.kv.key);
  EXPECT_EQ(got[0], (std::vector<std::string>{"/multi/a/1", "/multi/a/2"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"/multi/b"}));
}

TEST_F(EtcdClientTest, Failover) {
  EtcdOptions o = options();
  o.endpoints = {"http://127.0.0.1:1", server_->endpoint()};  // nothing listens on port 1
  EtcdClient c(o);
  c.put("/failover", "x");
  EXPECT_EQ(c.current_endpoint(), server_->endpoint());
  WatchRun w(o, {{"/failover", ""}}, 0);
  EXPECT_TRUE(w.created());

  o.endpoints = {"http://127.0.0.1:1"};
  EtcdClient dead(o);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = what_of([&] { dead.put("/x", "y"); }, EtcdErrorKind::unavailable);
  EXPECT_TRUE(contains(msg, "etcd 127.0.0.1:1: put \"/x\": unavailable")) << msg;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  WatchRun dw(o, {{"/x", ""}}, 0);
  const auto e = dw.ended();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), EtcdErrorKind::unavailable) << e->what();
}

TEST(EtcdClientServer, ProgressNotifications) {
  EtcdServerOptions so;
  so.progress_notify_interval = 300ms;
  EtcdServer server(so);
  EtcdClient c(server.client_options());
  const std::int64_t rev = c.put("/progress/other", "x");
  WatchRun w(server.client_options(), {{"/progress/mine/", prefix_end("/progress/mine/")}}, 0);
  EXPECT_TRUE(w.wait([rev](const auto& msgs) {
    for (const auto& [i, r] : msgs)
      if (r.progress() && r.revision >= rev) return true;
    return false;
  }));
}

TEST(EtcdClientServer, Compacted) {
  EtcdServer server;
  EtcdClient c(server.client_options());
  const std::int64_t r1 = c.put("/compact/a", "1");
  c.put("/compact/a", "2");
  const std::int64_t r3 = c.put("/compact/a", "3");
  c.compact(r3);
  EXPECT_TRUE(contains(what_of([&] { c.range("/compact/a", "", r1); }, EtcdErrorKind::compacted), "compacted"));
  WatchRun w(server.client_options(), {{"/compact/", prefix_end("/compact/")}}, r1);
  const auto e = w.ended();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), EtcdErrorKind::compacted) << e->what();
  EXPECT_TRUE(contains(e->what(), "compacted up to revision " + std::to_string(r3))) << e->what();
  // from the compact revision on, it replays
  WatchRun ok(server.client_options(), {{"/compact/", prefix_end("/compact/")}}, r3, 1);
  EXPECT_FALSE(ok.ended().has_value());
  EXPECT_EQ(ok.events().at(0).kv.value, "3");
}

TEST(EtcdClientServer, KilledDuringAWatchThenRestarted) {
  EtcdServer server;
  EtcdClient c(server.client_options());
  c.put("/restart/a", "1");
  {
    WatchRun w(server.client_options(), {{"/restart/", prefix_end("/restart/")}}, 0);
    ASSERT_TRUE(w.created());
    const auto t0 = std::chrono::steady_clock::now();
    server.kill();
    const auto e = w.ended(5s);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->kind(), EtcdErrorKind::unavailable) << e->what();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_TRUE(contains(e->what(), "watch \"/restart/\"")) << e->what();
  }
  what_of([&] { c.put("/restart/b", "2"); }, EtcdErrorKind::unavailable);
  server.start();
  const std::int64_t rev = c.put("/restart/b", "2");  // the same client: works again
  EXPECT_EQ(c.range("/restart/a").kvs.at(0).value, "1");
  WatchRun w(server.client_options(), {{"/restart/", prefix_end("/restart/")}}, rev, 1);
  EXPECT_FALSE(w.ended().has_value());
  EXPECT_EQ(w.events().at(0).kv.key, "/restart/b");
}

TEST(EtcdClientServer, Auth) {
  EtcdServerOptions so;
  so.auth = true;
  EtcdServer server(so);
  EtcdClient root(server.client_options());
  root.put("/p/hosts/h2/x", "root may");
  EXPECT_EQ(root.range("/p/hosts/h2/x").kvs.at(0).value, "root may");

  EtcdOptions wrong = server.client_options();
  wrong.password = "wrong";
  EtcdClient bad(wrong);
  const std::string host = server.endpoint().substr(7);
  EXPECT_EQ(what_of([&] { bad.range("/p/"); }, EtcdErrorKind::auth),
            "etcd " + host + ": authenticate as \"root\": authentication failed: etcdserver: authentication failed, "
                             "invalid user ID or password");

  EtcdClient anonymous(server.client_options(/*as_root=*/false));
  const std::string msg = what_of([&] { anonymous.put("/p/x", "y"); }, EtcdErrorKind::auth);
  EXPECT_TRUE(contains(msg, "user name is empty")) << msg;
  WatchRun anonymous_watch(server.client_options(false), {{"/p/", prefix_end("/p/")}}, 0);
  const auto ae = anonymous_watch.ended();
  ASSERT_TRUE(ae.has_value());
  EXPECT_EQ(ae->kind(), EtcdErrorKind::auth) << ae->what();

  // RBAC: h1's role grants /p/hosts/h1/ only
  server.add_user("h1", "h1-password", "/p/hosts/h1/");
  EtcdOptions h1o = server.client_options();
  h1o.user = "h1";
  h1o.password = "h1-password";
  EtcdClient h1(h1o);
  h1.put("/p/hosts/h1/x", "mine");
  EXPECT_EQ(h1.range_prefix("/p/hosts/h1/").kvs.size(), 1u);
  const std::string denied = what_of([&] { h1.put("/p/hosts/h2/x", "theirs"); }, EtcdErrorKind::permission);
  EXPECT_TRUE(contains(denied, "put \"/p/hosts/h2/x\": permission denied")) << denied;
  what_of([&] { h1.range("/p/hosts/h2/x"); }, EtcdErrorKind::permission);
  WatchRun h1_watch(h1o, {{"/p/hosts/h2/", prefix_end("/p/hosts/h2/")}}, 0);
  const auto we = h1_watch.ended();
  ASSERT_TRUE(we.has_value());
  EXPECT_EQ(we->kind(), EtcdErrorKind::permission) << we->what();

  // a restart forgets etcd's simple tokens: the client authenticates again by itself
  server.stop();
  server.start();
  h1.put("/p/hosts/h1/y", "after the restart");
  EXPECT_EQ(h1.range_prefix("/p/hosts/h1/").kvs.size(), 2u);
}

TEST(EtcdClientServer, Tls) {
  EtcdServerOptions so;
  so.tls = true;
  EtcdServer server(so);
  ASSERT_EQ(server.endpoint().rfind("https://", 0), 0u);
  EtcdClient c(server.client_options());
  c.put("/tls/a", "secret");
  EXPECT_EQ(c.range("/tls/a").kvs.at(0).value, "secret");
  WatchRun w(server.client_options(), {{"/tls/", prefix_end("/tls/")}}, 1, 1);
  EXPECT_FALSE(w.ended().has_value());

  EtcdOptions no_ca = server.client_options();
  no_ca.ca_file.clear();  // the system's CAs do not know the test CA
  EtcdClient unverified(no_ca);
  const std::string msg = what_of([&] { unverified.range("/tls/a"); }, EtcdErrorKind::unavailable);
  EXPECT_TRUE(contains(msg, "certificate")) << msg;

  EtcdOptions no_cert = server.client_options();
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  EtcdClient anonymous(no_cert);  // etcd requires a client certificate
  what_of([&] { anonymous.range("/tls/a"); }, EtcdErrorKind::unavailable);

  EtcdOptions plain = server.client_options();
  plain.endpoints = {"http://" + server.endpoint().substr(8)};
  EtcdClient http(plain);
  // etcd closes a plain HTTP connection to its TLS port
  EXPECT_TRUE(contains(what_of([&] { http.range("/tls/a"); }, EtcdErrorKind::unavailable), "Empty reply"));
}

TEST(EtcdClientOptions, Rejected) {
  EXPECT_THROW(EtcdClient(EtcdOptions{}), Error);
  EtcdOptions o;
  o.endpoints = {"127.0.0.1:2379"};
  EXPECT_THROW(EtcdClient{o}, Error);
  o.endpoints = {"ftp://127.0.0.1:2379"};
  EXPECT_THROW(EtcdClient{o}, Error);
}

}  // namespace
}  // namespace execgate::fleet
