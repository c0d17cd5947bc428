// The daemon's core: the parts composed, and the operations the control thread and the
// signal handlers call. The policy applier puts the policy into the kernel, the ticket
// book keeps the installed tickets and their kernel entries, the event recorder turns
// kernel events into audit records. Thread-safe: one lock for the control thread's
// operations; the event thread only ever uses the recorder. The kernel is reached through
// GateOps and the cgroup hierarchy through CgroupView: unit-tested on fakes
// (tests/support/, tests/unit/daemon_*_test.cpp).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "authority.h"
#include "cgroup_view.h"
#include "control_api.h"
#include "event_recorder.h"
#include "fleet_link.h"
#include "job_table.h"
#include "execgate/keys.h"
#include "execgate/audit.h"
#include "execgate/policy.h"
#include "gate/gate_ops.h"
#include "metrics.h"
#include "policy_applier.h"
#include "state_history.h"
#include "state_store.h"
#include "ticket_book.h"

namespace execgate {

class GateDaemon {
 public:
  GateDaemon(Policy policy, DaemonPaths paths, GateOps& gate, AuditLog& audit, const Clock& clock,
             const CgroupView& cgroups = system_cgroups(), JobCgroups& job_cgroups = system_job_cgroups());

  // Reads the state directory and checks it against the audit log: a purge's reset marker
  // is recorded (state_reset), a rewound directory or one that is not the log's (its seal
  // key, state_seal.h) throws naming the file, and installed records this host's daemon
  // did not write are marked for refusal. Before the daemon_start record, which names
  // state_key_id(). start() calls it when nobody has.
  void open_state();
  const std::string& state_key_id() const { return seal_->key_id(); }
  bool state_key_created() const { return seal_created_; }

  // Applies the policy to the kernel (config, scope, baseline, loaders) and reconciles
  // the ticket map with the state directory both ways. Throws on corrupted state, or a
  // state directory the audit log shows was rewound.
  void start();

  // One control request (parsed by control_api.h) from PEER; the reply without "ok".
  nlohmann::json handle(const ControlRequest& request, const ControlPeer& peer = {});
  // One control-socket request line: the reply line (without its newline), "ok" true; a
  // request that does not parse or fails is answered {"ok": false, "error": "..."}.
  std::string handle_line(const std::string& line, const ControlPeer& peer = {});
  // fleet_key: the etcd key it came from (execgate-sync's fleet_submit), "" for a local one.
  nlohmann::json submit(const std::string& envelope, const std::string& source, const std::string& fleet_key = "");
  // execgate-sync's requests (docs/fleet.md): a fleet key deleted (what came from it is
  // uninstalled), and a confirmed contact at a revision (the reply carries the signed
  // acknowledgement of what is applied).
  nlohmann::json fleet_forget(const std::string& key);
  nlohmann::json fleet_contact(std::int64_t revision);
  nlohmann::json tickets_json() const;
  nlohmann::json status_json() const;
  // The jobs' requests (docs/gate.md "Jobs", job_requests.cpp): start a job (moving PIDS
  // into it), move processes into a running one, end one. From inside a gated scope only
  // job_end of the caller's own job is answered (it ends the job's authorization; its
  // processes are left to exit); a process moved in must not lie inside a gated scope, and
  // must be the caller's own unless the caller is root. A refusal is the reply.
  nlohmann::json job_start(const std::string& job, const std::vector<pid_t>& pids, const ControlPeer& peer);
  nlohmann::json job_join(const std::string& job, const std::vector<pid_t>& pids, const ControlPeer& peer);
  nlohmann::json job_end(const std::string& job, const ControlPeer& peer);

  // Every second: expiry, uses, tickets becoming valid (TicketBook::sweep).
  void sweep();
  // Spends the tickets whose last use the event thread saw. Runs on the control thread.
  void spend_used_up();
  // SIGHUP: new policy; tickets whose issuer is gone are uninstalled. Throws when the new
  // policy cannot be read or applied: the policy in force stays, and the kernel is put
  // back to it.
  void reload(Policy policy);
  // The event thread: one kernel event, and the ring buffer's losses.
  void on_event(const GateEvent& ev) { recorder_.record(ev); }
  void note_drops();
  // The event thread's round: the kernel's events (waiting up to timeout_ms for a wakeup)
  // into audit records, then the ring buffer's losses; the number of events. Throws what
  // the gate throws (the events stay in the ring buffer for the next round).
  int drain_events(int timeout_ms);

  const Policy& policy() const { return policy_; }
  // Whether the process PID (a control socket peer) is inside a gated scope, as the kernel
  // judges it: host-wide, or its cgroup below a scope cgroup (by id). A process whose
  // cgroup cannot be read counts as inside.
  bool peer_in_scope(pid_t pid) const;

  // Metrics (docs/metrics.md): what the metrics thread renders, and where and how often
  // (the policy's [metrics], which a SIGHUP may change); how its last write went.
  MetricsSnapshot metrics_snapshot() const;
  MetricsPolicy metrics_policy() const;
  void set_metrics_file_status(const std::string& path, const std::string& error);

 private:
  // A reload the kernel refused halfway: the policy in force applied again (logged when
  // that fails too).
  void restore_policy(const std::string& why);
  // The fleet's part of a policy (start, reload): the kernel entries' fleet flags, the
  // deadline, and the tickets of keys outside its prefix (or of a fleet no longer there)
  // uninstalled. Under mu_.
  void apply_fleet(const Policy& policy);
  // The fleet tickets whose key POLICY's [fleet] no longer covers (none, or another
  // prefix) uninstalled (ticket_revoked, reason deleted). Under mu_.
  void forget_foreign_fleet_tickets(const Policy& policy);
  // The signed acknowledgement of what is applied at the fleet's revision (null when the
  // policy names no audit signing key). Under mu_.
  nlohmann::json make_ack();
  // Why process PID may not be moved into a job for PEER; nullopt when it may.
  std::optional<std::string> unmovable(pid_t pid, const ControlPeer& peer) const;
  // Where jobs' cgroups go under POLICY: its first scope cgroup ("" with host = true: none).
  static std::string job_parent(const Policy& policy);

  mutable std::mutex mu_;
  Policy policy_;
  DaemonPaths paths_;
  GateOps& gate_;
  AuditLog& audit_;
  const Clock& clock_;
  const CgroupView& cgroups_;
  std::vector<CgroupRef> scope_refs_;  // the policy in force's scope cgroups (start, reload)
  StateStore store_;
  std::optional<StateSeal> seal_;       // open_state()
  bool seal_created_ = false;
  std::optional<StateSnapshot> opened_;  // open_state() to start()
  AuditedState audited_;
  std::string machine_id_;
  std::unique_ptr<Authority> authority_;
  EventRecorder recorder_;
  PolicyApplier applier_;
  TicketBook book_;
  FleetLink fleet_;
  JobTable jobs_;
  std::optional<SecretKey> ack_key_;  // the audit signing key, loaded at the first ack
  std::atomic<std::uint64_t> drops_reported_{0};
  std::int64_t started_at_ = 0;
  std::string metrics_path_, metrics_error_;  // the metrics thread's last write (under mu_)
};

}  // namespace execgate
