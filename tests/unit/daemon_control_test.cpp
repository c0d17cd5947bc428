// Control requests answered by the daemon (GateDaemon::handle_line, as execgated's socket
// answers them), which peers are inside a gated scope (GateDaemon::peer_in_scope over a
// fake cgroup hierarchy), and a peer inside the scope served through the real socket:
// its lane's slots are limited, and a request it sends is never answered "busy".
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "control_server.h"
#include "daemon_env.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

class DaemonControl : public ::testing::Test {
 protected:
  void SetUp() override { tool = env.make_file("tool", "#!/bin/sh\necho tool\n"); }
  GateDaemon& daemon() { return env.daemon(); }
  json ask(const json& request) { return json::parse(daemon().handle_line(request.dump())); }

  DaemonEnv env;
  InodeKey tool;
};

TEST_F(DaemonControl, EveryRequestIsAnswered) {
  env.boot();
  const json status = ask({{"op", "status"}});
  EXPECT_EQ(status["ok"], true);
  EXPECT_EQ(status["gate"]["mode"], "enforce");
  EXPECT_EQ(status["gate"]["programs"], env.gate().programs);
  EXPECT_EQ(status["gate"]["scope"]["cgroup_root"], "/sys/fs/cgroup");
  EXPECT_EQ(status["daemon"]["machine_id"], env.machine_id);
  const json submitted = ask({{"op", "submit"}, {"document", env.ticket({"tool"})}, {"source", "ci"}});
  EXPECT_EQ(submitted["ok"], true);
  EXPECT_EQ(submitted["result"], "installed");
  const json tickets = ask({{"op", "tickets"}});
  EXPECT_EQ(tickets["ok"], true);
  ASSERT_EQ(tickets["tickets"].size(), 1u);
  EXPECT_EQ(tickets["tickets"][0]["id"], submitted["id"]);
  EXPECT_EQ(tickets["tickets"][0]["hits"], 0);
}

TEST_F(DaemonControl, ARequestThatDoesNotParseIsAnsweredWithWhy) {
  env.boot();
  EXPECT_EQ(json::parse(daemon().handle_line("{\"op\":\"submit\"}")),
            (json{{"ok", false}, {"error", "submit: \"document\" must be the envelope as a string"}}));
  EXPECT_EQ(json::parse(daemon().handle_line("nonsense"))["ok"], false);
}

TEST_F(DaemonControl, ARefusedSubmissionIsAnsweredOkWithTheRefusal) {
  env.boot();
  const json reply = ask({{"op", "submit"}, {"document", "{\"payload\":\"x\"}"}});
  EXPECT_EQ(reply["ok"], true) << "the request was handled";
  EXPECT_EQ(reply["result"], "refused");
  EXPECT_EQ(reply["reason"], "malformed");
}

TEST_F(DaemonControl, ARequestTheKernelFailsIsAnsweredNotOk) {
  env.boot();
  env.gate().fail_always(GateOp::put_ticket);
  const json reply = ask({{"op", "submit"}, {"document", env.ticket({"tool"})}});
  EXPECT_EQ(reply["ok"], false);
  EXPECT_NE(reply["error"].get<std::string>().find("ticket map"), std::string::npos) << reply.dump();
  EXPECT_TRUE(env.gate().entries.empty());
  EXPECT_EQ(ask({{"op", "status"}})["ok"], true) << "a read needs no kernel write";
}

TEST_F(DaemonControl, APeerIsInsideWhenItsCgroupIsAScopeOrBelowOne) {
  env.policy.scope_cgroups = {"/ci.slice/runner"};
  env.boot();
  auto& cg = env.cgroups;
  cg.add("/ci.slice");
  cg.add("/ci.slice/other");
  cg.place(100, "/ci.slice/runner/job-1");
  cg.place(101, "/ci.slice/runner");
  cg.place(102, "/ci.slice/other/job-2");
  cg.place(103, "/user.slice");
  cg.place(104, "/");
  cg.place(105, "/ci.slice/gone/job-3");  // its directory cannot be read
  EXPECT_TRUE(daemon().peer_in_scope(100)) << "below the scope";
  EXPECT_TRUE(daemon().peer_in_scope(101)) << "the scope itself";
  EXPECT_FALSE(daemon().peer_in_scope(102)) << "a sibling of the scope";
  EXPECT_FALSE(daemon().peer_in_scope(103)) << "shallower than the scope";
  EXPECT_FALSE(daemon().peer_in_scope(104)) << "the root";
  EXPECT_TRUE(daemon().peer_in_scope(105)) << "a cgroup that cannot be read counts as inside";
  EXPECT_TRUE(daemon().peer_in_scope(106)) << "a process whose cgroup cannot be told counts as inside";
  Policy host = env.policy;
  host.scope_host = true;
  daemon().reload(host);
  EXPECT_TRUE(daemon().peer_in_scope(103)) << "the host is the scope";
}

// --- the socket

UniqueFd connect_to(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  return fd;
}

// The reply line ("" at EOF, or after 5 s: a deadline, not a measure).
std::string reply_of(int fd) {
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return out;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.find('\n') != std::string::npos) return out;
  }
}

std::string ask_socket(int fd, const json& request) {
  const std::string line = request.dump() + "\n";
  EXPECT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
  return reply_of(fd);
}

TEST_F(DaemonControl, APeerInsideTheScopeHasASmallLaneAndItsRequestsAreAnswered) {
  env.boot();
  env.cgroups.add("/ci.slice/job");
  env.cgroups.place(::getpid(), "/ci.slice/job");  // this process: inside the scope /ci.slice
  ASSERT_TRUE(daemon().peer_in_scope(::getpid()));
  std::atomic<int> classified{0}, inside{0};
  ControlOptions o;
  o.path = env.paths.socket;
  o.max_clients = 8;
  o.max_scope_clients = 2;
  o.idle_timeout = o.scope_idle_timeout = std::chrono::seconds(30);
  o.peer_in_scope = [&](pid_t pid) {
    const bool in = daemon().peer_in_scope(pid);
    inside += in ? 1 : 0;
    ++classified;
    return in;
  };
  ControlServer server(o, [&](const std::string& line, const execgate::ControlPeer& peer) {
    return daemon().handle_line(line, peer);
  });
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve(stop, 10, nullptr); });
  struct Join {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~Join() {
      flag = true;
      thread.join();
    }
  } join{stop, serving};
  // waits (with a deadline) until the server has classified n peers
  auto classified_at_least = [&](int n) {
    for (int i = 0; i < 500 && classified.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return classified.load() >= n;
  };

  // three peers that send nothing: the lane holds two, the oldest is dropped for the third
  auto idle1 = connect_to(o.path);
  ASSERT_TRUE(classified_at_least(1));
  auto idle2 = connect_to(o.path);
  ASSERT_TRUE(classified_at_least(2));
  auto idle3 = connect_to(o.path);
  ASSERT_TRUE(classified_at_least(3));
  EXPECT_NE(reply_of(idle1.get()).find("busy"), std::string::npos) << "the lane's slots are limited";

  // a request from the full lane is answered, never "busy"
  const json status = json::parse(ask_socket(idle3.get(), {{"op", "status"}}));
  EXPECT_EQ(status["ok"], true);
  EXPECT_EQ(status["gate"]["tickets"], 0);

  // a submission from inside the scope installs the ticket
  auto submitter = connect_to(o.path);
  const json installed = json::parse(ask_socket(submitter.get(), {{"op", "submit"}, {"document", env.ticket({"tool"})}}));
  EXPECT_EQ(installed["ok"], true);
  EXPECT_EQ(installed["result"], "installed");
  EXPECT_TRUE(env.gate().allows_exec(tool));
  EXPECT_EQ(inside.load(), classified.load()) << "every peer was inside the scope";
}

}  // namespace
