// The fleet at scale (docs/fleet.md "At scale"; run by tests/bench/fleet_bench.sh): H hosts
// against one etcd on this machine. Each host is the real execgate-sync binary, its own
// process as deployed, feeding a daemon whose kernel is the gate facade's fake (GateDaemon
// over FakeGate: tests/support's DaemonEnv). The daemons live in this process, each behind
// its own control socket served by ControlServer as execgated serves it.
//
//   1. T tickets (hosts ["*"]) are published; every host must install them all.
//   2. R rounds: one ticket revoked; the time from the publisher's write until each host's
//      signed ack (verified with its audit key) names that revision: p50, p99, max over the
//      hosts; each daemon must have uninstalled the ticket.
//   3. The RSS (VmRSS) of every agent with T tickets, then of a few agents given
//      --rss-tickets tickets in all (their own hosts/<id>/tickets/).
//
// A host that does not converge within --timeout is a failure (exit 1); the figures are
// reported against the targets (revocation p99 < 1 s, agent < 20 MB), never asserted.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "common/fs.h"
#include "control_server.h"
#include "daemon_env.h"
#include "etcd_server.h"
#include "execgate/keys.h"
#include "execgate/ticket.h"
#include "fleet/etcd_client.h"
#include "fleet/etcd_json.h"
#include "fleet/layout.h"
#include "fleet/statements.h"
#include "gate/kernel_facts.h"

namespace {

using namespace execgate;
using Clk = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

struct Options {
  std::string sync;  // the execgate-sync binary
  int hosts = 200, tickets = 1000, rounds = 5, rss_hosts = 4, rss_tickets = 10000;
  int timeout = 300;  // seconds for each convergence
};

double seconds(Clk::duration d) { return std::chrono::duration<double>(d).count(); }

// The q-quantile (nearest rank) of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank ? rank - 1 : 0)];
}

std::string random_machine_id() {
  std::uint8_t b[16];
  std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(b), sizeof b);
  return hex_encode(b);
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

// utime + stime of a process, in seconds (0 when it is gone).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// This process's child named etcd (tests/support's EtcdServer starts it).
pid_t etcd_pid() {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    std::getline(in, line);
    const std::size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || line.substr(open + 1, close - open - 1) != "etcd")
      continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

// One simulated host: a daemon on the fake gate behind its control socket, and its agent.
struct Host {
  std::unique_ptr<test::DaemonEnv> env;
  std::unique_ptr<ControlServer> server;
  std::thread serving;
  pid_t sync = -1;
  PublicKey audit_pub;
  std::string id;
};

// Each host's newest acknowledged revision, from a watch on hosts/, and the time each host
// first acknowledged the current target.
class AckWatch {
 public:
  AckWatch(const fleet::EtcdOptions& eo, const fleet::FleetLayout& layout, const std::vector<Host>& hosts)
      : client_(eo), layout_(layout), hosts_(hosts), acked_(hosts.size(), 0), arrived_(hosts.size()) {
    for (std::size_t i = 0; i < hosts.size(); ++i) index_[hosts[i].id] = i;
  }
  void start(std::int64_t from, const std::atomic<bool>& stop) {
    thread_ = std::thread([this, from, &stop] {
      const std::string base = layout_.hosts();
      while (!stop) {
        try {
          client_.watch({{base, fleet::prefix_end(base)}}, from, [&](std::size_t, const fleet::WatchResponse& w) {
            for (const auto& ev : w.events) on_put(ev);
            return !stop;
          }, stop);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "fleet bench: the ack watch: %s (again)\n", e.what());
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // From now on, the time of each host's first ack of revision >= target, counted from t0.
  void target(std::int64_t revision, Clk::time_point t0) {
    std::lock_guard lk(mu_);
    target_ = revision;
    t0_ = t0;
    for (std::size_t i = 0; i < acked_.size(); ++i) arrived_[i] = acked_[i] >= revision ? std::optional(0.0) : std::nullopt;
  }
  // Waits until every host has; the latencies (seconds), or nullopt at the timeout with
  // the hosts still behind.
  std::optional<std::vector<double>> wait(std::chrono::seconds timeout, std::vector<std::string>* behind) {
    std::unique_lock lk(mu_);
    const bool all = cv_.wait_for(lk, timeout, [&] {
      return std::all_of(arrived_.begin(), arrived_.end(), [](const auto& a) { return a.has_value(); });
    });
    if (!all) {
      for (std::size_t i = 0; i < arrived_.size(); ++i)
        if (!arrived_[i]) behind->push_back(hosts_[i].id + " (acked " + std::to_string(acked_[i]) + ")");
      return std::nullopt;
    }
    std::vector<double> out;
    for (const auto& a : arrived_) out.push_back(*a);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  void on_put(const fleet::WatchEvent& ev) {
    if (ev.type != fleet::WatchEvent::Type::put || !ev.kv.key.ends_with("/ack")) return;
    const std::string rest = ev.kv.key.substr(layout_.hosts().size());
    const auto it = index_.find(rest.substr(0, rest.find('/')));
    if (it == index_.end()) return;
    std::int64_t rev = 0;
    try {
      rev = fleet::verify_ack(ev.kv.value, hosts_[it->second].audit_pub).revision;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fleet bench: %s: the ack does not verify: %s\n", ev.kv.key.c_str(), e.what());
      return;
    }
    const auto now = Clk::now();
    std::lock_guard lk(mu_);
    const std::size_t i = it->second;
    acked_[i] = std::max(acked_[i], rev);
    if (target_ && acked_[i] >= target_ && !arrived_[i]) {
      arrived_[i] = seconds(now - t0_);
      cv_.notify_all();
    }
  }

  fleet::EtcdClient client_;
  const fleet::FleetLayout layout_;
  const std::vector<Host>& hosts_;
  std::map<std::string, std::size_t> index_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::int64_t> acked_;
  std::vector<std::optional<double>> arrived_;
  std::int64_t target_ = 0;
  Clk::time_point t0_;
  std::thread thread_;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)), layout_{"/execgate", ""} {}
  ~Bench() { stop_all(); }

  int run() {
    work_ = make_work_dir();
    const int files = std::max(o_.tickets, o_.rss_tickets);
    make_files(files);
    issuer_ = generate_keypair();
    save_keypair(issuer_, (work_ / "issuer").string(), true);
    publisher_ = std::make_unique<fleet::EtcdClient>(etcd_.client_options());
    std::printf("fleet bench: %d hosts (execgate-sync processes; daemons on the fake gate), etcd at %s\n", o_.hosts,
                etcd_.endpoint().c_str());
    const auto t_start = Clk::now();
    for (int i = 0; i < o_.hosts; ++i) add_host();
    std::printf("  %d hosts started in %.1f s\n", o_.hosts, seconds(Clk::now() - t_start));
    std::fflush(stdout);

    const std::int64_t rev0 = publisher_->put(layout_.prefix + "/bench/start", "1");
    acks_ = std::make_unique<AckWatch>(etcd_.client_options(), layout_, hosts_);
    acks_->start(rev0, stop_);
    acks_->target(rev0, Clk::now());
    if (!converge("the first contact of every host")) return 1;

    // 1. T tickets for every host
    std::vector<std::string> ids;
    const auto t_pub = Clk::now();
    std::int64_t rev = 0;
    for (int t = 0; t < o_.tickets; ++t) {
      const std::string env = ticket(t, "*");
      ids.push_back(parse_document_unverified(env).ticket->id);
      rev = publisher_->put(layout_.tickets() + ids.back(), env);
    }
    const double write_s = seconds(Clk::now() - t_pub);
    acks_->target(rev, t_pub);
    const auto published = converge("publishing " + std::to_string(o_.tickets) + " tickets");
    if (!published) return 1;
    std::printf("publish %d tickets: written in %.2f s; every host acknowledged the last in %.2f s (p50 %.2f s)\n",
                o_.tickets, write_s, published->back(), quantile(*published, 0.5));
    if (!all_hold(static_cast<std::size_t>(o_.tickets), -1)) return 1;

    // 2. revocations, and the CPU they cost: agents, this process (the daemons), etcd
    const pid_t etcd = etcd_pid();
    const auto agents_cpu = [&] {
      double sum = 0;
      for (const auto& h : hosts_) sum += cpu_seconds(h.sync);
      return sum;
    };
    const auto cpu_now = [&] { return std::array<double, 3>{agents_cpu(), cpu_seconds(::getpid()), cpu_seconds(etcd)}; };
    std::array<double, 3> cpu{0, 0, 0};
    std::vector<double> all;
    for (int r = 0; r < o_.rounds && r < o_.tickets; ++r) {
      RevocationBody rb;
      rb.id = new_ticket_id();
      rb.issued_at = std::time(nullptr);
      rb.revoked = {ids[static_cast<std::size_t>(r)]};
      rb.reason = "fleet bench";
      const std::string env = sign_revocation(rb, issuer_.secret);
      const auto c0 = cpu_now();
      const auto t0 = Clk::now();
      const std::int64_t rrev = publisher_->put(layout_.revocations() + rb.id, env);
      acks_->target(rrev, t0);
      const auto lat = converge("revocation round " + std::to_string(r + 1));
      if (!lat) return 1;
      const auto c1 = cpu_now();
      for (int k = 0; k < 3; ++k) cpu[k] += c1[k] - c0[k];
      if (!all_hold(static_cast<std::size_t>(o_.tickets - r - 1), r)) return 1;
      std::printf("revocation round %d: every host acknowledged: p50 %.3f s  p99 %.3f s  max %.3f s  (%zu/%zu "
                  "uninstalled it)\n",
                  r + 1, quantile(*lat, 0.5), quantile(*lat, 0.99), lat->back(), hosts_.size(), hosts_.size());
      all.insert(all.end(), lat->begin(), lat->end());
      std::fflush(stdout);
    }
    const double rounds = std::max(1, std::min(o_.rounds, o_.tickets));
    std::printf("CPU per revocation, write to the last ack: agents %.2f s, daemons %.2f s, etcd %.2f s (%u cores: "
                "%.2f s of wall at least)\n",
                cpu[0] / rounds, cpu[1] / rounds, cpu[2] / rounds, std::thread::hardware_concurrency(),
                (cpu[0] + cpu[1] + cpu[2]) / rounds / std::thread::hardware_concurrency());
    std::sort(all.begin(), all.end());
    const double p99 = quantile(all, 0.99);
    std::printf("revocation, %d rounds x %d hosts: p50 %.3f s  p99 %.3f s  max %.3f s  [target p99 < 1 s: %s]\n",
                o_.rounds, o_.hosts, quantile(all, 0.5), p99, all.back(), p99 < 1.0 ? "met" : "NOT met");

    // 3. RSS of the agents
    std::vector<long> rss;
    for (const auto& h : hosts_) rss.push_back(rss_kb(h.sync));
    std::sort(rss.begin(), rss.end());
    std::printf("agent RSS with %d tickets: median %.1f MB  max %.1f MB (%zu agents)\n", o_.tickets,
                static_cast<double>(rss[rss.size() / 2]) / 1024, static_cast<double>(rss.back()) / 1024, rss.size());
    return rss_at_scale();
  }

 private:
  fs::path make_work_dir() {
    std::string tmpl = (fs::temp_directory_path() / "execgate-fleet-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
  }
  std::string file(int i) const { return (work_ / "files" / ("f" + std::to_string(i))).string(); }
  void make_files(int n) {
    fs::create_directories(work_ / "files");
    for (int i = 0; i < n; ++i) std::ofstream(file(i)) << "#!/bin/sh\necho " << i << "\n";
  }
  std::string ticket(int i, const std::string& host) {
    TicketBody t;
    t.id = new_ticket_id();
    t.issued_at = t.not_before = std::time(nullptr) - 10;
    t.not_after = std::time(nullptr) + 86400;
    t.hosts = {host};
    t.initiator = "fleet-bench";
    t.subjects.push_back(Subject{sha256_file(file(i)), file(i)});
    return sign_ticket(t, issuer_.secret);
  }

  void add_host() {
    Host h;
    h.env = std::make_unique<test::DaemonEnv>();
    test::DaemonEnv& env = *h.env;
    h.id = env.machine_id = random_machine_id();
    write_file_atomic(env.paths.machine_id, h.id + "\n");
    IssuerPolicy ip;
    ip.name = "fleet";
    ip.pubkey = (work_ / "issuer.pub").string();
    ip.allow_any_host = true;
    env.policy.issuers = {ip};
    FleetPolicy f;
    f.endpoints = {etcd_.endpoint()};
    env.policy.fleet = f;
    const KeyPair audit = generate_keypair();
    save_keypair(audit, (env.dir / "audit").string());
    h.audit_pub = audit.pub;
    env.policy.audit.signing_key = (env.dir / "audit.key").string();
    env.shut_down();  // the audit log again, signing with that key
    GateDaemon& d = env.boot();
    ControlOptions co;
    co.path = env.paths.socket;
    h.server = std::make_unique<ControlServer>(co, [&d](const std::string& line, const ControlPeer& peer) {
      return d.handle_line(line, peer);
    });
    h.serving = std::thread([s = h.server.get(), this] { s->serve(stop_, 200, [] {}); });
    const std::string config = (env.dir / "sync.toml").string();
    write_file_atomic(config, "name = \"fleet-bench\"\n[scope]\nhost = true\n[fleet]\nendpoints = [\"" +
                                  etcd_.endpoint() + "\"]\n");
    fs::create_directories(env.dir / "sync");
    h.sync = spawn_sync(config, env.paths.socket, (env.dir / "sync").string(), env.paths.machine_id,
                        (env.dir / "sync.log").string());
    hosts_.push_back(std::move(h));
  }

  pid_t spawn_sync(const std::string& config, const std::string& socket, const std::string& state,
                   const std::string& machine_id, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd >= 0) ::dup2(fd, 2);
      ::execl(o_.sync.c_str(), "execgate-sync", "--config", config.c_str(), "--socket", socket.c_str(),
              "--state-dir", state.c_str(), "--machine-id", machine_id.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    return pid;
  }

  std::optional<std::vector<double>> converge(const std::string& what) {
    std::vector<std::string> behind;
    auto lat = acks_->wait(std::chrono::seconds(o_.timeout), &behind);
    if (lat) return lat;
    std::fprintf(stderr, "fleet bench: FAIL: %s: %zu host(s) did not acknowledge within %d s:", what.c_str(),
                 behind.size(), o_.timeout);
    for (std::size_t i = 0; i < behind.size() && i < 5; ++i) std::fprintf(stderr, " %s", behind[i].c_str());
    std::fprintf(stderr, "\n");
    return std::nullopt;
  }

  // Every daemon holds COUNT tickets (its status, asked as the control socket asks) and
  // the kernel (the fake gate) no entry for the file of ticket GONE (its index; -1: none).
  bool all_hold(std::size_t count, int gone) {
    std::optional<InodeKey> gone_key;
    if (gone >= 0) {
      struct stat st {};
      if (::stat(file(gone).c_str(), &st) != 0) throw std::runtime_error("no " + file(gone));
      gone_key = InodeKey{kernel_dev(st.st_dev), st.st_ino};
    }
    for (const auto& h : hosts_) {
      const json r = json::parse(h.env->daemon().handle_line(R"({"op":"status"})", ControlPeer{0, false}));
      const std::size_t n = r["gate"]["tickets"].get<std::size_t>();
      const bool entry = gone_key && h.env->gate().get_ticket(*gone_key).has_value();
      if (n != count || entry) {
        std::fprintf(stderr, "fleet bench: FAIL: host %s holds %zu tickets (expected %zu)%s\n", h.id.c_str(), n, count,
                     entry ? ", and the kernel still an entry of the revoked one" : "");
        return false;
      }
    }
    return true;
  }

  int rss_at_scale() {
    const int n = std::min(o_.rss_hosts, o_.hosts);
    if (n <= 0 || o_.rss_tickets <= o_.tickets) return 0;
    const auto t0 = Clk::now();
    std::int64_t rev = 0;
    for (int i = 0; i < n; ++i)
      for (int t = o_.tickets; t < o_.rss_tickets; ++t) {
        const std::string env = ticket(t, hosts_[static_cast<std::size_t>(i)].id);
        rev = publisher_->put(layout_.host_tickets(hosts_[static_cast<std::size_t>(i)].id) +
                                  parse_document_unverified(env).ticket->id,
                              env);
      }
    acks_->target(rev, t0);
    if (!converge("the hosts given " + std::to_string(o_.rss_tickets) + " tickets")) return 1;
    long worst = 0;
    std::printf("agent RSS with %d tickets:", o_.rss_tickets);
    for (int i = 0; i < n; ++i) {
      const long kb = rss_kb(hosts_[static_cast<std::size_t>(i)].sync);
      worst = std::max(worst, kb);
      std::printf(" %.1f MB", static_cast<double>(kb) / 1024);
    }
    std::printf("  [target < 20 MB: %s]\n", worst < 20 * 1024 ? "met" : "NOT met");
    return 0;
  }

  void stop_all() {
    for (auto& h : hosts_)
      if (h.sync > 0) ::kill(h.sync, SIGTERM);
    for (auto& h : hosts_)
      if (h.sync > 0) ::waitpid(h.sync, nullptr, 0);
    stop_ = true;
    if (acks_) acks_->join();
    for (auto& h : hosts_)
      if (h.serving.joinable()) h.serving.join();
    hosts_.clear();
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  Options o_;
  test::EtcdServer etcd_;
  fleet::FleetLayout layout_;
  fs::path work_;
  KeyPair issuer_;
  std::unique_ptr<fleet::EtcdClient> publisher_;
  std::vector<Host> hosts_;
  std::unique_ptr<AckWatch> acks_;
  std::atomic<bool> stop_{false};
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"execgate fleet bench: hosts against one etcd, revocation latency, agent RSS"};
  app.add_option("--sync", o.sync, "the execgate-sync binary")->required();
  app.add_option("--hosts", o.hosts, "simulated hosts")->capture_default_str();
  app.add_option("--tickets", o.tickets, "tickets published for every host")->capture_default_str();
  app.add_option("--rounds", o.rounds, "revocation rounds")->capture_default_str();
  app.add_option("--rss-hosts", o.rss_hosts, "hosts given --rss-tickets tickets in all")->capture_default_str();
  app.add_option("--rss-tickets", o.rss_tickets, "tickets of those hosts")->capture_default_str();
  app.add_option("--timeout", o.timeout, "seconds each convergence may take")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  try {
    Bench b(o);
    return b.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fleet bench: %s\n", e.what());
    return 1;
  }
}
