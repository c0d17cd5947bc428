// execgated: loads and pins the BPF-LSM gate, installs verified tickets, audits every
// decision. It never runs without enforcement: no BPF-LSM, no daemon.
#include "execgate/defaults.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <filesystem>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>
#include <utility>
#include <vector>

#include "control_server.h"
#include "execgate/audit.h"
#include "execgate/names.h"
#include "common/fs.h"
#include "gate/gate.h"
#include "execgate/policy.h"
#include "gate_daemon.h"
#include "metrics.h"
#include "service.h"
#include "spool.h"

namespace {
std::atomic<bool> g_stop{false};

// Names the calling thread (ps -L, top -H, /proc/PID/task/TID/comm): at most 15 bytes.
void name_thread(const char* name) { ::pthread_setname_np(::pthread_self(), name); }

// CLOCK_MONOTONIC in microseconds (systemd's RELOADING=1 wants it beside).
std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}
std::atomic<bool> g_reload{false};
void on_signal(int sig) {
  if (sig == SIGHUP) g_reload = true;
  else g_stop = true;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace execgate;
  CLI::App app{"execgated: the execgate daemon (BPF-LSM exec gate)"};
  DaemonPaths paths;
  paths.config = kDefaultConfigPath;
  bool uninstall = false;
  app.add_option("--config", paths.config, "policy file")->capture_default_str();
  app.add_option("--state-dir", paths.state_dir, "state directory")->capture_default_str();
  app.add_option("--socket", paths.socket, "control socket")->capture_default_str();
  app.add_option("--pin-dir", paths.pin_dir, "bpffs directory for pins")->capture_default_str();
  app.add_flag("--uninstall", uninstall, "detach the gate: remove every pin and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (uninstall) {
      Gate::uninstall(paths.pin_dir);
      service::log(service::Priority::notice, "removed " + paths.pin_dir + "; the gate no longer enforces");
      return 0;
    }
    Policy policy = load_policy(paths.config);
    // Reloads read the policy through the directory opened now: a directory renamed aside
    // or mounted over later does not change what is read (docs/daemon.md, "Reload").
    const std::filesystem::path config_path = std::filesystem::absolute(paths.config);
    UniqueFd config_dir(::open(config_path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!config_dir) throw IoError(config_path.parent_path().string(), errno, "policy directory");
    const std::string config_via_fd =
        "/proc/self/fd/" + std::to_string(config_dir.get()) + "/" + config_path.filename().string();
    GateOptions gopts{paths.pin_dir, policy.audit.ringbuf_kib << 10};
    if (auto hz = running_kernel_hz())
      gopts.tick_nsec = tick_nsec(*hz);
    else
      service::log(service::Priority::warning,
                   "no CONFIG_HZ in /proc/config.gz or /boot/config-$(uname -r): the exec path reads the clocksource "
                   "for every ticket check (slower, equally strict)");
    const bool reused = Gate::pinned(paths.pin_dir);
    std::unique_ptr<Gate> gate = Gate::install(gopts);

    AuditOptions aopts;
    aopts.path = policy.audit.path;
    aopts.signing_key_path = policy.audit.signing_key;
    aopts.checkpoint_every = policy.audit.checkpoint_every;
    aopts.rotate_bytes = policy.audit.rotate_bytes;
    // The kernel half of audit durability (docs/audit.md "When the disk is full"): while the
    // writer cannot make records durable, execs in the scope are denied audit_unavailable
    // ([audit] required). open() reports the starting state: a daemon that died stalled
    // left the word set.
    aopts.on_durability = [g = gate.get(), first = true](bool durable) mutable {
      g->set_audit_stalled(!durable);
      if (std::exchange(first, false) && durable) return;  // the start, as it should be
      service::log(durable ? service::Priority::notice : service::Priority::error,
                   durable ? "audit: records are durable again; execs are no longer stalled"
                           : "audit: records cannot be made durable (disk full or write failure); with [audit] "
                             "required, execs in the scope are denied audit_unavailable");
    };
    std::unique_ptr<AuditLog> audit = AuditLog::open(aopts);

    SystemClock clock;
    GateDaemon daemon(policy, paths, *gate, *audit, clock);
    daemon.open_state();  // refuses a state directory that is not the log's, before it is named below
    if (daemon.state_key_created())
      service::log(service::Priority::notice, "created the state key " + paths.state_dir + "/state.key (id " +
                                                  daemon.state_key_id() + ")");
    audit->append({{"event", name(EventKind::daemon_start)},
                   {"reason", name(reused ? RecordReason::reused_pins : RecordReason::fresh)},
                   {"programs", gate->programs_kept() ? "kept" : "loaded"},
                   {"state_key", daemon.state_key_id()},
                   {"detail", "policy " + paths.config + ", mode " + to_string(policy.mode)}});
    // The control socket's directory exists before the protected set is computed (a fresh
    // /run has none yet): otherwise it would be protected only from the next SIGHUP.
    std::error_code sock_ec;
    std::filesystem::create_directories(std::filesystem::path(paths.socket).parent_path(), sock_ec);
    // The spool's done/ and rejected/ are checked (an impostor replaced) before the
    // protected set names them; it is drained once the gate is set up.
    Spool spool(paths.state_dir + "/inbox", [&](const std::string& env, const std::string& src) {
      return daemon.submit(env, src);
    });
    daemon.start();

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::atomic<bool> stop_events{false};
    // Wakes the timed threads that wait on it (the metrics thread) at once: at stop, and
    // after a reload, which may change their interval. They sleep until their deadline
    // otherwise (no polling: an idle daemon wakes only for the event and clock timers).
    struct Wakeup {
      std::mutex mu;
      std::condition_variable cv;
      void notify() {
        std::lock_guard lk(mu);
        cv.notify_all();
      }
    } wakeup;
    MetricsTextfile metrics_file;  // written by the metrics thread, removed at a clean stop
    // The daemon's threads stop and are joined on every way out of this scope, an
    // exception included (a joinable std::thread destroyed would end the process).
    std::vector<std::thread> threads;
    struct StopThreads {
      std::atomic<bool>& stop;
      Wakeup& wakeup;
      std::vector<std::thread>& threads;
      ~StopThreads() {
        stop = true;
        wakeup.notify();
        for (auto& t : threads)
          if (t.joinable()) t.join();
      }
    } stop_threads{stop_events, wakeup, threads};
    threads.emplace_back([&] {
      name_thread("eg-events");
      // Evidence must not wait behind the gated workload: this thread records every
      // decision, so it runs at a higher priority than ordinary processes (nice -10).
      if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), -10) != 0)
        service::log(service::Priority::warning, std::string("event thread keeps its priority: ") + std::strerror(errno));
      while (!stop_events.load()) {
        try {
          daemon.drain_events(50);
        } catch (const std::exception& e) {
          service::log(service::Priority::error, std::string("event thread: ") + e.what());
        }
      }
      gate->poll_events(0, [&](const GateEvent& ev) { daemon.on_event(ev); });
    });

    ControlOptions copts;
    copts.path = paths.socket;
    if (!policy.control_group.empty()) copts.allowed_gid = group_id(policy.control_group);
    // peers inside a gated scope get their own lane (control_server.h)
    copts.peer_in_scope = [&](pid_t pid) { return daemon.peer_in_scope(pid); };
    ControlServer server(copts, [&](const std::string& line, uid_t) { return daemon.handle_line(line); });
    bool spool_more = spool.drain();  // one bounded pass: a flooded inbox does not hold up READY
    // Ready only now: the programs are attached and the policy applied (Type=notify).
    const std::string ready = "ready (" + std::to_string(gate->attached_programs()) + " programs, mode " +
                              to_string(policy.mode) + (reused ? ", reused pinned maps" : "") + ")";
    service::log(service::Priority::info, ready);
    service::notify("READY=1\nSTATUS=enforcing: " + ready);

    // The exec clock's check on its own timer, every 100 ms: docs/gate.md's error bound
    // rests on it, and nothing the control thread does (a large file hashed for a submit,
    // a reload walking the baseline) may hold it up.
    threads.emplace_back([&] {
      name_thread("eg-clock");
      if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), -10) != 0)
        service::log(service::Priority::warning, std::string("clock thread keeps its priority: ") + std::strerror(errno));
      gate->start_exec_clock();
      auto next = std::chrono::steady_clock::now();
      while (!stop_events.load()) {
        next += std::chrono::milliseconds(100);
        std::this_thread::sleep_until(next);
        if (auto err_ms = gate->check_exec_clock())
          service::log(service::Priority::warning,
                       "the exec clock's estimate was " + std::to_string(*err_ms) +
                           " ms off the boot clock (wrong CONFIG_HZ?): execs read the clock until the next resume");
        // after a stall (a suspended host), the next check comes 100 ms from now
        next = std::max(next, std::chrono::steady_clock::now() - std::chrono::milliseconds(100));
      }
    });

    // The metrics textfile (docs/metrics.md) on its own timer: rewritten atomically every
    // [metrics] interval (a SIGHUP may change both); a failed write is logged when it
    // starts and when it ends, retried, and never stops the daemon.
    threads.emplace_back([&] {
      name_thread("eg-metrics");
      std::string last_error;
      while (!stop_events.load()) {
        const MetricsPolicy mp = daemon.metrics_policy();
        std::string error;
        try {
          metrics_file.write(mp.textfile, render_openmetrics(daemon.metrics_snapshot()));
        } catch (const std::exception& e) {
          error = e.what();
        }
        if (error != last_error)
          service::log(error.empty() ? service::Priority::notice : service::Priority::warning,
                       error.empty() ? "metrics: " + mp.textfile + " written again" : "metrics not written: " + error);
        last_error = error;
        daemon.set_metrics_file_status(mp.textfile, error);
        const auto written = std::chrono::steady_clock::now();
        std::unique_lock lk(wakeup.mu);
        for (;;) {  // the interval read again after each wakeup: a reload may change it
          const auto due = written + std::chrono::seconds(daemon.metrics_policy().interval);
          if (stop_events.load() || std::chrono::steady_clock::now() >= due) break;
          wakeup.cv.wait_until(lk, due);
        }
      }
    });

    int ticks = 0;
    server.serve(g_stop, 100, [&] {
      pollfd p{spool.fd(), POLLIN, 0};
      if (spool_more || ::poll(&p, 1, 0) > 0) spool_more = spool.drain();  // bounded, never blocks
      if (g_reload.exchange(false)) {
        service::notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
        try {
          daemon.reload(parse_policy(read_file(config_via_fd, 1 << 20), paths.config));
          wakeup.notify();  // the metrics interval may have changed
          service::log(service::Priority::notice, "policy reloaded");
        } catch (const std::exception& e) {
          service::log(service::Priority::error, std::string("reload refused, keeping the old policy: ") + e.what());
        }
        service::notify("READY=1");
      }
      daemon.spend_used_up();
      if (++ticks % 10 == 0) daemon.sweep();
    });

    service::notify("STOPPING=1\nSTATUS=stopping: the pinned gate keeps enforcing");
    stop_events = true;
    wakeup.notify();
    for (auto& t : threads) t.join();
    metrics_file.remove();  // stale numbers are not scraped as current ones
    audit->append({{"event", name(EventKind::daemon_stop)},
                   {"reason", name(RecordReason::signal)},
                   {"detail", "the pinned gate keeps enforcing"}});
    audit->close();
    return 0;
  } catch (const PolicyError& e) {
    service::log(service::Priority::error, std::string("policy: ") + e.what());
    return 2;
  } catch (const std::exception& e) {
    service::log(service::Priority::error, e.what());
    return 1;
  }
}
