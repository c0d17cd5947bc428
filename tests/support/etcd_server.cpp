#include "etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace execgate::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto start_deadline = 30s;
constexpr auto stop_grace = 5s;
// The tests' clients': longer than the client's default, for a machine busy with builds.
constexpr auto client_timeout = 15s;

// Free ports on 127.0.0.1: bound to port 0 together (so they differ), read, released.
std::vector<int> free_ports(std::size_t n) {
  std::vector<int> fds, ports;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("etcd fixture: socket: " + std::string(std::strerror(errno)));
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      for (int f : fds) ::close(f);
      throw std::runtime_error("etcd fixture: cannot bind 127.0.0.1:0: " + std::string(std::strerror(errno)));
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int f : fds) ::close(f);
  return ports;
}

// The program's path, searched in PATH (before fork: execv after it needs no allocation).
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::string candidate = (d.empty() ? "." : d) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("etcd fixture: " + name + " not found in PATH (apt-get install etcd-server etcd-client)");
}

std::string tail_of(const std::string& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

EtcdServer::EtcdServer(EtcdServerOptions options) : options_(options) {
  // on tmpfs when there is one: etcd fsyncs every write, which a busy disk can stall for seconds
  std::error_code shm_error;
  const fs::path base = fs::is_directory("/dev/shm", shm_error) && ::access("/dev/shm", W_OK) == 0
                            ? fs::path("/dev/shm")
                            : fs::temp_directory_path();
  std::string tmpl = (base / "execgate-etcd-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("etcd fixture: mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  try {
    if (options_.tls) make_certificates();  // first: the ports stay free a shorter while
    const auto ports = free_ports(2);
    endpoint_ = std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(ports[0]);
    peer_url_ = "http://127.0.0.1:" + std::to_string(ports[1]);
    start();
    if (options_.auth) enable_auth();
  } catch (...) {
    if (pid_ > 0) kill();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

EtcdServer::~EtcdServer() {
  try {
    stop();
  } catch (...) {
    // the destructor frees what it can
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void EtcdServer::run_tool(const std::vector<std::string>& argv) {
  const std::string log = dir_ + "/tools.log";
  std::vector<std::string> args = argv;
  auto cargv = c_argv(args);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("etcd fixture: cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("etcd fixture: " + cmd + "failed:\n" + tail_of(log, 2000));
  }
}

void EtcdServer::make_certificates() {
  const std::string tls = dir_ + "/tls";
  fs::create_directories(tls);
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  run_tool(with({"openssl", "req", "-x509"}, with(ec_key, {"-keyout", tls + "/ca.key", "-out", tls + "/ca.crt",
                                                          "-days", "2", "-subj", "/CN=execgate test etcd CA",
                                                          "-addext", "basicConstraints=critical,CA:TRUE",
                                                          "-addext", "keyUsage=critical,keyCertSign,cRLSign"})));
  // the server's: 127.0.0.1 as an IP SAN (Go ignores the CN), and clientAuth too: etcd's
  // gateway connects to its own gRPC server with it; the client's: clientAuth
  for (const std::string name : {"server", "client"}) {
    const std::string ext = tls + "/" + name + ".ext";
    std::ofstream(ext) << (name == "server" ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"
                                            : "extendedKeyUsage=clientAuth\n")
                       << "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n";
    run_tool(with({"openssl", "req", "-new"}, with(ec_key, {"-keyout", tls + "/" + name + ".key", "-out",
                                                            tls + "/" + name + ".csr", "-subj",
                                                            "/CN=execgate test etcd " + name})));
    run_tool({"openssl", "x509", "-req", "-in", tls + "/" + name + ".csr", "-CA", tls + "/ca.crt", "-CAkey",
              tls + "/ca.key", "-CAcreateserial", "-out", tls + "/" + name + ".crt", "-days", "2", "-extfile", ext});
  }
}

void EtcdServer::start() {
  if (pid_ > 0) return;
  std::vector<std::string> args = {
      find_program("etcd"),
      "--name=execgate-test",
      "--data-dir=" + dir_ + "/data",
      "--listen-client-urls=" + endpoint_,
      "--advertise-client-urls=" + endpoint_,
      "--listen-peer-urls=" + peer_url_,
      "--initial-advertise-peer-urls=" + peer_url_,
      "--initial-cluster=execgate-test=" + peer_url_,
      "--initial-cluster-state=new",
      "--initial-cluster-token=execgate-test",
  };
  if (options_.progress_notify_interval.count() > 0)
    args.push_back("--experimental-watch-progress-notify-interval=" +
                   std::to_string(options_.progress_notify_interval.count()) + "ms");
  if (options_.tls) {
    args.push_back("--cert-file=" + dir_ + "/tls/server.crt");
    args.push_back("--key-file=" + dir_ + "/tls/server.key");
    args.push_back("--trusted-ca-file=" + ca_file());
    args.push_back("--client-cert-auth");
  }
  const std::string log = dir_ + "/etcd.log";
  auto cargv = c_argv(args);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("etcd fixture: fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    // the child: only async-signal-safe calls until exec. etcd dies with the test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(out, STDERR_FILENO) < 0)
      ::_exit(127);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  pid_ = pid;
  wait_ready();
}

void EtcdServer::wait_ready() {
  fleet::EtcdOptions options = client_options(auth_enabled_);
  options.timeout = 1000ms;
  fleet::EtcdClient probe(options);
  const auto deadline = std::chrono::steady_clock::now() + start_deadline;
  std::string last;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("etcd fixture: etcd exited at start (status " + std::to_string(status) +
                               "); the end of its log:\n" + log_tail());
    }
    try {
      probe.range("execgate-fixture-probe");
      return;
    } catch (const fleet::EtcdError& e) {
      last = e.what();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill();
      throw std::runtime_error("etcd fixture: etcd did not serve " + endpoint_ + " within 30 s (" + last +
                               "); the end of its log:\n" + log_tail());
    }
    std::this_thread::sleep_for(100ms);
  }
}

void EtcdServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + stop_grace;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  kill();
}

void EtcdServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

fleet::EtcdOptions EtcdServer::client_options(bool as_root) const {
  fleet::EtcdOptions o;
  o.endpoints = {endpoint_};
  o.timeout = client_timeout;
  if (options_.tls) {
    o.ca_file = ca_file();
    o.cert_file = client_cert();
    o.key_file = client_key();
  }
  if (options_.auth && as_root) {
    o.user = root_user;
    o.password = root_password;
  }
  return o;
}

void EtcdServer::etcdctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"etcdctl", "--endpoints=" + endpoint_, "--dial-timeout=10s", "--command-timeout=20s"};
  if (options_.tls) {
    argv.push_back("--cacert=" + ca_file());
    argv.push_back("--cert=" + client_cert());
    argv.push_back("--key=" + client_key());
  }
  if (auth_enabled_) argv.push_back("--user=" + std::string(root_user) + ":" + root_password);
  argv.insert(argv.end(), args.begin(), args.end());
  try {
    run_tool(argv);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "the end of etcd's log:\n" + log_tail(2000));
  }
}

void EtcdServer::enable_auth() {
  etcdctl({"user", "add", std::string(root_user) + ":" + root_password, "--interactive=false"});
  etcdctl({"role", "add", "root"});
  etcdctl({"user", "grant-role", root_user, "root"});
  etcdctl({"auth", "enable"});
  auth_enabled_ = true;
}

void EtcdServer::add_user(const std::string& name, const std::string& password, const std::string& prefix) {
  etcdctl({"role", "add", name});
  etcdctl({"role", "grant-permission", name, "--prefix=true", "readwrite", prefix});
  etcdctl({"user", "add", name + ":" + password, "--interactive=false"});
  etcdctl({"user", "grant-role", name, name});
}

std::string EtcdServer::log_tail(std::size_t bytes) const { return tail_of(dir_ + "/etcd.log", bytes); }

}  // namespace execgate::test
