// execgated: loads and pins the BPF-LSM gate, installs verified tickets, audits every
// decision. It never runs without enforcement: no BPF-LSM, no daemon. This file wires the
// parts: the gate, the audit log, the daemon's logic, the spool, the control socket, the
// timed threads (workers.h), the signals.
#include "execgated.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <memory>
#include <utility>

#include "common/fs.h"
#include "control_server.h"
#include "execgate/audit.h"
#include "execgate/defaults.h"
#include "execgate/names.h"
#include "execgate/policy.h"
#include "gate/gate.h"
#include "cgroup_view.h"
#include "gate_daemon.h"
#include "policy_applier.h"
#include "service.h"
#include "spool.h"
#include "workers.h"

namespace execgate {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int sig) {
  if (sig == SIGHUP) g_reload = true;
  else g_stop = true;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// CLOCK_MONOTONIC in microseconds (systemd's RELOADING=1 wants it beside).
std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

// The policy file, read again at each reload through the directory opened at the start: a
// directory renamed aside or mounted over later does not change what is read
// (docs/daemon.md, "Reload").
class PolicySource {
 public:
  explicit PolicySource(const std::string& config) : config_(config) {
    const std::filesystem::path path = std::filesystem::absolute(config);
    dir_ = UniqueFd(::open(path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_) throw IoError(path.parent_path().string(), errno, "policy directory");
    via_fd_ = "/proc/self/fd/" + std::to_string(dir_.get()) + "/" + path.filename().string();
  }
  Policy read() const { return parse_policy(read_file(via_fd_, 1 << 20), config_); }

 private:
  std::string config_, via_fd_;
  UniqueFd dir_;
};

std::unique_ptr<Gate> install_gate(const Policy& policy, const DaemonPaths& paths, const GateFaults& faults) {
  GateOptions gopts{paths.pin_dir, policy.audit.ringbuf_kib << 10};
  gopts.faults = faults;
  if (auto hz = running_kernel_hz())
    gopts.tick_nsec = tick_nsec(*hz);
  else
    service::log(service::Priority::warning,
                 "no CONFIG_HZ in /proc/config.gz or /boot/config-$(uname -r): the exec path reads the clocksource "
                 "for every ticket check (slower, equally strict)");
  return Gate::install(gopts);
}

std::unique_ptr<AuditLog> open_audit(const Policy& policy, Gate& gate) {
  AuditOptions aopts;
  aopts.path = policy.audit.path;
  aopts.signing_key_path = policy.audit.signing_key;
  aopts.checkpoint_every = policy.audit.checkpoint_every;
  aopts.rotate_bytes = policy.audit.rotate_bytes;
  // The kernel half of audit durability (docs/audit.md "When the disk is full"): while the
  // writer cannot make records durable, execs in the scope are denied audit_unavailable
  // ([audit] required). open() reports the starting state: a daemon that died stalled
  // left the word set.
  aopts.on_durability = [g = &gate, first = true](bool durable) mutable {
    g->set_audit_stalled(!durable);
    if (std::exchange(first, false) && durable) return;  // the start, as it should be
    service::log(durable ? service::Priority::notice : service::Priority::error,
                 durable ? "audit: records are durable again; execs are no longer stalled"
                         : "audit: records cannot be made durable (disk full or write failure); with [audit] "
                           "required, execs in the scope are denied audit_unavailable");
  };
  return AuditLog::open(aopts);
}

// The control thread's work between two polls of the socket: the spool (bounded, never
// blocks), a reload asked by SIGHUP, uses spent, and every tenth tick the sweep.
class ControlTick {
 public:
  ControlTick(GateDaemon& daemon, Spool& spool, const PolicySource& source, MetricsWriter& metrics, bool spool_more)
      : daemon_(daemon), spool_(spool), source_(source), metrics_(metrics), spool_more_(spool_more) {}

  void operator()() {
    pollfd p{spool_.fd(), POLLIN, 0};
    if (spool_more_ || ::poll(&p, 1, 0) > 0) spool_more_ = spool_.drain();
    if (g_reload.exchange(false)) reload();
    daemon_.spend_used_up();
    if (++ticks_ % 10 == 0) daemon_.sweep();
  }

 private:
  void reload() {
    service::notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
    try {
      daemon_.reload(source_.read());
      metrics_.wake();  // the metrics interval may have changed
      service::log(service::Priority::notice, "policy reloaded");
    } catch (const std::exception& e) {
      service::log(service::Priority::error, std::string("reload refused, keeping the old policy: ") + e.what());
    }
    service::notify("READY=1");
  }

  GateDaemon& daemon_;
  Spool& spool_;
  const PolicySource& source_;
  MetricsWriter& metrics_;
  bool spool_more_;
  int ticks_ = 0;
};

int run(const DaemonPaths& paths, const GateFaults& faults) {
  Policy policy = load_policy(paths.config);
  const PolicySource source(paths.config);
  const bool reused = Gate::pinned(paths.pin_dir);
  // A gate pinned anew by this start has a zeroed config, which gates nothing, and its pins
  // outlive this process: the policy's scopes go in at once, with no ticket or baseline
  // yet, so that a failure below (the audit log, the state) leaves the scope denied, not
  // open. They are resolved before the install: a scope that cannot be opened stops the
  // start with nothing pinned. A gate found pinned keeps enforcing the config it has.
  const std::vector<CgroupRef> closing =
      reused ? std::vector<CgroupRef>{} : PolicyApplier::resolve_scopes(policy, system_cgroups());
  std::unique_ptr<Gate> gate = install_gate(policy, paths, faults);
  if (!reused) PolicyApplier(*gate, paths).close_scopes(policy, closing);
  std::unique_ptr<AuditLog> audit = open_audit(policy, *gate);

  SystemClock clock;
  GateDaemon daemon(policy, paths, *gate, *audit, clock);
  daemon.open_state();  // refuses a state directory that is not the log's, before it is named below
  if (daemon.state_key_created())
    service::log(service::Priority::notice,
                 "created the state key " + paths.state_dir + "/state.key (id " + daemon.state_key_id() + ")");
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
  Spool spool(paths.state_dir + "/inbox",
              [&](const std::string& env, const std::string& src) { return daemon.submit(env, src); });
  daemon.start();
  install_signal_handlers();

  // Declared in the order they stop in when an exception leaves this scope: the metrics
  // first, the clock, the events last.
  EventPump events(daemon, *gate);
  ControlOptions copts;
  copts.path = paths.socket;
  if (!policy.control_group.empty()) copts.allowed_gid = group_id(policy.control_group);
  // peers inside a gated scope get their own lane (control_server.h)
  copts.peer_in_scope = [&](pid_t pid) { return daemon.peer_in_scope(pid); };
  ControlServer server(copts, [&](const std::string& line, const ControlPeer& peer) {
    return daemon.handle_line(line, peer);
  });
  const bool spool_more = spool.drain();  // one bounded pass: a flooded inbox does not hold up READY
  // Ready only now: the programs are attached and the policy applied (Type=notify).
  const std::string ready = "ready (" + std::to_string(gate->attached_programs()) + " programs, mode " +
                            to_string(policy.mode) + (reused ? ", reused pinned maps" : "") + ")";
  service::log(service::Priority::info, ready);
  service::notify("READY=1\nSTATUS=enforcing: " + ready);
  ClockKeeper clock_keeper(*gate);
  MetricsWriter metrics(daemon);

  server.serve(g_stop, 100, ControlTick(daemon, spool, source, metrics, spool_more));

  service::notify("STOPPING=1\nSTATUS=stopping: the pinned gate keeps enforcing");
  metrics.stop();  // removes the textfile: stale numbers are not scraped as current ones
  clock_keeper.stop();
  events.stop();
  audit->append({{"event", name(EventKind::daemon_stop)},
                 {"reason", name(RecordReason::signal)},
                 {"detail", "the pinned gate keeps enforcing"}});
  audit->close();
  return 0;
}

}  // namespace

int execgated_main(int argc, char** argv, const GateFaults& faults) {
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
    return run(paths, faults);
  } catch (const PolicyError& e) {
    service::log(service::Priority::error, std::string("policy: ") + e.what());
    return 2;
  } catch (const std::exception& e) {
    service::log(service::Priority::error, e.what());
    return 1;
  }
}

}  // namespace execgate
