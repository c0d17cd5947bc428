// A real single-member etcd for the etcd client's tests: started on 127.0.0.1 with free
// ports and a temporary data directory (under /dev/shm when there is one), stopped and
// removed at the end. Optionally TLS
// (a CA, a server certificate for 127.0.0.1 and a client certificate made with the
// openssl CLI; etcd requires the client certificate) and auth (the root user, then users
// whose role grants one prefix, for RBAC tests). stop() / kill() then start() is a
// restart on the same data and ports. etcd's output is in <dir>/etcd.log; a failed start
// throws with its tail. etcd runs at the test's priority: a test run under `nice` on a
// saturated machine can see etcd's own "request timed out".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "fleet/etcd_client.h"

namespace execgate::test {

struct EtcdServerOptions {
  bool tls = false;
  bool auth = false;
  // etcd's --experimental-watch-progress-notify-interval; 0: etcd's default (10 min).
  std::chrono::milliseconds progress_notify_interval{0};
};

class EtcdServer {
 public:
  static constexpr const char* root_user = "root";
  static constexpr const char* root_password = "root-test-password";

  // Starts etcd (and with auth, enables it); throws std::runtime_error when it cannot.
  explicit EtcdServer(EtcdServerOptions options = {});
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Starts etcd again on the same data directory and ports, and waits until it serves.
  void start();
  // SIGTERM, SIGKILL if it is still there after 5 s; returns once it is gone.
  void stop();
  // SIGKILL at once: a crash.
  void kill();
  bool running() const noexcept { return pid_ > 0; }

  const std::string& endpoint() const noexcept { return endpoint_; }  // "http(s)://127.0.0.1:<port>"
  const std::string& dir() const noexcept { return dir_; }
  // TLS: the CA that signed etcd's certificate, and the client's certificate and key.
  std::string ca_file() const { return dir_ + "/tls/ca.crt"; }
  std::string client_cert() const { return dir_ + "/tls/client.crt"; }
  std::string client_key() const { return dir_ + "/tls/client.key"; }

  // Options for a client of this etcd: its endpoint, the TLS files, with auth the root user
  // (as_root false: no user), and a 15 s timeout.
  fleet::EtcdOptions client_options(bool as_root = true) const;
  // Auth: a user whose one role (named after it) grants readwrite on every key under prefix.
  void add_user(const std::string& name, const std::string& password, const std::string& prefix);
  // The last bytes of etcd's log.
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  void make_certificates();
  void enable_auth();
  void wait_ready();
  // Runs etcdctl against this etcd (as root once auth is on); throws with its output.
  void etcdctl(const std::vector<std::string>& args);
  // Runs a tool, its output appended to <dir>/tools.log; throws when it fails.
  void run_tool(const std::vector<std::string>& argv);

  EtcdServerOptions options_;
  std::string dir_;
  std::string endpoint_, peer_url_;
  pid_t pid_ = -1;
  bool auth_enabled_ = false;
};

}  // namespace execgate::test
