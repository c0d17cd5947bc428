// The control socket's lanes: connections held open from a gated scope never take the
// slots of peers outside it, and never get a request answered "busy".
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "control_server.h"

namespace fs = std::filesystem;
using execgate::ControlOptions;
using execgate::ControlServer;
using execgate::UniqueFd;

namespace {

class ControlLanesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/eg-ctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // the first `scope_peers` connections accepted count as peers inside the scope
  void start(int scope_peers, std::size_t scope_cap, std::size_t cap) {
    ControlOptions o;
    o.path = (dir_ / "s.sock").string();
    o.max_clients = cap;
    o.max_scope_clients = scope_cap;
    o.idle_timeout = std::chrono::seconds(30);
    o.scope_idle_timeout = std::chrono::seconds(30);
    o.peer_in_scope = [this, scope_peers](pid_t) { return accepted_++ < scope_peers; };
    server_ = std::make_unique<ControlServer>(o, [](const std::string& req, const execgate::ControlPeer&) { return "{\"ok\":true,\"req\":" + req + "}"; });
    thread_ = std::thread([this] { server_->serve(stop_, 20, nullptr); });
  }
  UniqueFd connect_() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, (dir_ / "s.sock").c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  // the reply line (or "" after 3 s / at EOF)
  static std::string reply(int fd) {
    std::string out;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 3000) <= 0) return out;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
      if (out.find('\n') != std::string::npos) return out;
    }
  }
  static std::string ask(int fd, const std::string& req) {
    const std::string line = req + "\n";
    EXPECT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
    return reply(fd);
  }
  // waits until the server has classified n connections
  void accepted(int n) {
    for (int i = 0; i < 300 && accepted_.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(accepted_.load(), n);
  }

  fs::path dir_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

TEST_F(ControlLanesTest, ScopeFloodLeavesOutsideSlotsFree) {
  start(50, 4, 8);
  std::vector<UniqueFd> flood;
  for (int i = 0; i < 50; ++i) flood.push_back(connect_());
  accepted(50);
  // outside the scope: a lane of its own, none of its 8 slots taken
  std::vector<UniqueFd> idle_outside;
  for (int i = 0; i < 7; ++i) idle_outside.push_back(connect_());
  auto c = connect_();
  EXPECT_EQ(ask(c.get(), "{\"op\":\"revoke\"}"), "{\"ok\":true,\"req\":{\"op\":\"revoke\"}}\n");
}

TEST_F(ControlLanesTest, FullScopeLaneNeverRefusesARequest) {
  start(1000, 4, 8);
  std::vector<UniqueFd> flood;
  for (int i = 0; i < 50; ++i) flood.push_back(connect_());
  accepted(50);
  // a peer of the same (full) lane that sends at once, and one that sends later
  auto now = connect_();
  EXPECT_EQ(ask(now.get(), "1"), "{\"ok\":true,\"req\":1}\n");
  auto later = connect_();
  accepted(52);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ask(later.get(), "2"), "{\"ok\":true,\"req\":2}\n");
  // the flood's oldest were dropped to make room, with "busy" and no request of theirs read
  EXPECT_NE(reply(flood.front().get()).find("busy"), std::string::npos);
}

}  // namespace
