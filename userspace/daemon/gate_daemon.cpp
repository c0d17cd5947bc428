#include "gate_daemon.h"

#include <unistd.h>

#include <sstream>
#include <variant>

#include "common/fs.h"
#include "common/text.h"
#include "execgate/names.h"
#include "gate/kernel_facts.h"
#include "fleet/statements.h"
#include "gate/sealing.h"
#include "service.h"
#include "state_history.h"

namespace execgate {
using nlohmann::json;

GateDaemon::GateDaemon(Policy policy, DaemonPaths paths, GateOps& gate, AuditLog& audit, const Clock& clock,
                       const CgroupView& cgroups, JobCgroups& job_cgroups)
    : policy_(std::move(policy)),
      paths_(std::move(paths)),
      gate_(gate),
      audit_(audit),
      clock_(clock),
      cgroups_(cgroups),
      store_(paths_.state_dir),
      machine_id_(read_machine_id(paths_.machine_id)),
      authority_(std::make_unique<Authority>(load_trusted_issuers(policy_), machine_id_, clock_)),
      recorder_([this](json r) { audit_.append(std::move(r)); }),
      applier_(gate_, paths_),
      book_(gate_, store_, clock_, [this](const TicketBody& t) { return resolve_subjects(t, gate_); },
            [this](json r) { audit_.append(std::move(r)); }),
      fleet_(gate_, clock_, paths_.state_dir + "/fleet.json", [this](json r) { audit_.append(std::move(r)); }),
      jobs_(gate_, job_cgroups, [this](json r) { audit_.append(std::move(r)); }) {
  book_.job_cgroup = [this](const std::string& job) { return jobs_.cgroup(job); };
  recorder_.set_job_names([this](std::uint64_t cgroup) { return jobs_.name_of(cgroup); });
  // Lineage is tracked only while some installed ticket names a parent (tracking costs a
  // task-storage allocation per ticketed exec); a parent image started before that is not
  // known and its children are denied `lineage` (fail closed). Turning it on must succeed
  // (the install fails otherwise); when turning it off fails, it stays on: a cost, never
  // an allowance.
  book_.on_lineage_change = [this] {
    const bool track = book_.tracks_lineage();
    try {
      applier_.configure(policy_, track);
    } catch (const std::exception& e) {
      if (track) throw;
      service::log(service::Priority::warning, std::string("lineage tracking stays on: ") + e.what());
    }
  };
  book_.on_install = [this](const std::string& id) { recorder_.reset_hits(id, clock_.now()); };
  book_.on_origin = [this](const std::string& id, const json& origin) { recorder_.set_origin(id, origin); };
  book_.on_subject_added = [this](const InodeKey& key, const std::string& path) {
    recorder_.add_ticket_path(key, path);
  };
  book_.on_removed = [this](const std::string& id, const std::vector<InodeKey>& uncovered) {
    recorder_.forget_ticket(id, uncovered);
  };
}

void GateDaemon::open_state() {
  std::lock_guard lk(mu_);
  // The package's purge (or an operator starting over) leaves a marker beside the audit log,
  // which outlives the state directory: recorded first, so that the log's earlier
  // revocations, spent tickets and state key no longer bind (docs/daemon.md).
  const std::string marker = state_reset_marker(policy_.audit.path);
  if (path_exists(marker)) {
    const std::string why = read_file_trimmed(marker, 4096);
    audit_.append({{"event", name(EventKind::state_reset)},
                   {"reason", name(RecordReason::operator_)},
                   {"detail", marker + ": " + printable(why) +
                                  "; the audit log's earlier state records (revocations, spent tickets, the state "
                                  "key) no longer bind the state directory"}});
    if (::unlink(marker.c_str()) != 0) throw IoError(marker, errno, "cannot remove the reset marker");
  }
  StateSnapshot state = store_.load();
  audited_ = audited_state(policy_.audit.path);
  // A state directory that lacks what the audit log records (a tombstone, a spent record)
  // was rewound: refuse to start rather than install a revoked or used-up ticket again.
  if (auto rewound = rewound_state(state, audited_, store_))
    throw Error(ErrorKind::validation, "state directory " + paths_.state_dir + " was rewound: " + *rewound +
                                           "; restore the state directory that goes with the audit log (the "
                                           "pinned gate keeps enforcing meanwhile)");
  seal_.emplace(open_state_seal(store_, audited_, &seal_created_));
  store_.set_seal(&*seal_);
  authenticate_installed(state, audited_, store_, *seal_, seal_created_);
  opened_ = std::move(state);
}

void GateDaemon::start() {
  if (!opened_) open_state();
  std::lock_guard lk(mu_);
  started_at_ = clock_.now();
  scope_refs_ = PolicyApplier::resolve_scopes(policy_, cgroups_);
  applier_.adopt_running_scopes(scope_refs_);
  applier_.apply(policy_, scope_refs_, book_.tracks_lineage());
  recorder_.set_baseline_paths(applier_.baseline_paths());
  // the fleet's flags and deadline before any ticket goes in: a fleet ticket is never in
  // the kernel unflagged, nor the fleet in contact before its deadline was judged
  apply_fleet(policy_);
  // the live jobs before the tickets bound to them
  jobs_.set_parent(job_parent(policy_));
  jobs_.discover();
  book_.load(std::move(*opened_), *authority_);
  forget_foreign_fleet_tickets(policy_);  // those the state kept from a fleet the policy no longer has
  opened_.reset();
  recorder_.seed_hits(hits_at_start(book_.state(), audited_));
  applier_.configure(policy_, book_.tracks_lineage());
}

json GateDaemon::submit(const std::string& envelope, const std::string& source, const std::string& fleet_key) {
  Judgement j;
  {
    std::lock_guard lk(mu_);
    auto first = book_.judge(envelope, source, *authority_);
    if (auto* reply = std::get_if<json>(&first)) return *reply;
    j = std::move(std::get<Judgement>(first));
    // a fleet ticket's key names it (<prefix>/.../tickets/<id>): deleting one key never
    // uninstalls another key's ticket
    if (!fleet_key.empty() && !fleet_key.ends_with("/tickets/" + j.doc.ticket->id))
      return book_.refuse(j, Refusal{RefusalReason::malformed, "fleet key " + fleet_key + " does not name ticket " +
                                                                   j.doc.ticket->id},
                          source);
  }
  // the files are hashed outside the lock
  Resolution r = resolve_subjects(*j.doc.ticket, gate_);
  std::lock_guard lk(mu_);
  if (r.refusal) return book_.refuse(j, *r.refusal, source);
  // what changed while the files were hashed (a revocation, the same ticket) decides again
  auto again = book_.judge(envelope, source, *authority_);
  if (auto* reply = std::get_if<json>(&again)) {
    book_.release_pending(j.doc.ticket->id, r.subjects);
    return *reply;
  }
  if (!fleet_key.empty() && !fleet_.configured()) {  // the fleet went (a reload) meanwhile
    book_.release_pending(j.doc.ticket->id, r.subjects);
    throw Error(ErrorKind::usage, "fleet_submit: the policy has no [fleet]");
  }
  return book_.install(std::get<Judgement>(again), envelope, r.subjects, fleet_key);
}

json GateDaemon::fleet_forget(const std::string& key) {
  std::lock_guard lk(mu_);
  if (!fleet_.configured()) throw Error(ErrorKind::usage, "fleet_forget: the policy has no [fleet]");
  const auto ids = book_.forget_fleet_key(key);
  return {{"key", key}, {"uninstalled", ids}};
}

json GateDaemon::fleet_contact(std::int64_t revision) {
  std::lock_guard lk(mu_);
  fleet_.contact(revision);
  json reply = {{"silent", fleet_.silent()}, {"revision", fleet_.revision()}, {"ack", make_ack()}};
  // the newest signed checkpoint on disk, byte for byte, for execgate-sync to publish
  if (const AuditStatus as = audit_.status(); !as.checkpoint_line.empty()) reply["audit_checkpoint"] = as.checkpoint_line;
  return reply;
}

json GateDaemon::make_ack() {
  if (policy_.audit.signing_key.empty()) return nullptr;
  if (!ack_key_) ack_key_ = load_secret_key(policy_.audit.signing_key);
  const AuditStatus as = audit_.status();
  fleet::FleetAck a;
  a.host = machine_id_;
  a.revision = fleet_.revision();
  a.digest = book_.installed_digest();
  a.tickets = static_cast<std::int64_t>(book_.size());
  a.fleet_tickets = static_cast<std::int64_t>(book_.fleet_size());
  a.audit_seq = static_cast<std::int64_t>(as.last_seq);
  a.audit_head = as.last_hash;
  a.silent = fleet_.silent();
  a.time = clock_.now();
  return fleet::sign_ack(a, *ack_key_);
}

void GateDaemon::forget_foreign_fleet_tickets(const Policy& policy) {
  const std::optional<FleetPolicy>& f = policy.fleet;
  const std::string prefix = f ? f->prefix + "/" : std::string();
  book_.forget_fleet_keys([&](const std::string& key) { return !f || !key.starts_with(prefix); });
}

void GateDaemon::apply_fleet(const Policy& policy) {
  forget_foreign_fleet_tickets(policy);
  book_.set_fleet_flags(policy.fleet.has_value(), policy.fleet && policy.fleet->suspend_local);
  fleet_.configure(policy.fleet);
}

void GateDaemon::sweep() {
  std::lock_guard lk(mu_);
  fleet_.check();
  book_.sweep();
  jobs_.sweep();
}

void GateDaemon::spend_used_up() {
  const std::set<std::string> ids = recorder_.take_last_uses();
  if (ids.empty()) return;
  std::lock_guard lk(mu_);
  for (const auto& id : ids) book_.last_use_seen(id);
}

int GateDaemon::drain_events(int timeout_ms) {
  const int n = gate_.poll_events(timeout_ms, [this](const GateEvent& ev) { on_event(ev); });
  note_drops();
  return n;
}

void GateDaemon::note_drops() {
  const std::uint64_t drops = gate_.counters().ringbuf_drops;
  const std::uint64_t before = drops_reported_.exchange(drops);
  if (drops > before)
    audit_.append_gap(drops - before, RecordReason::ring_buffer_full, "kernel events could not be reserved");
}

bool GateDaemon::peer_in_scope(pid_t pid) const {
  std::vector<CgroupRef> scopes;
  {
    std::lock_guard lk(mu_);
    if (policy_.scope_host) return true;
    scopes = applier_.scopes();
  }
  const auto path = cgroups_.cgroup_of(pid);
  if (!path) return true;
  std::vector<std::string> parts;  // of the cgroup v2 path "/a/b"
  std::istringstream text(*path);
  for (std::string p; std::getline(text, p, '/');)
    if (!p.empty()) parts.push_back(p);
  // inside when its ancestor at a scope's level is that scope (or cannot be read)
  for (const auto& sc : scopes) {
    if (sc.id == 0 || sc.level > parts.size()) continue;
    std::string dir;
    for (std::uint32_t i = 0; i < sc.level; ++i) dir += "/" + parts[i];
    const auto id = cgroups_.cgroup_id(dir);
    if (!id || *id == sc.id) return true;
  }
  return false;
}

void GateDaemon::reload(Policy policy) {
  // may throw: keep the old policy then
  auto issuers = load_trusted_issuers(policy);
  auto scopes = PolicyApplier::resolve_scopes(policy, cgroups_);
  std::lock_guard lk(mu_);
  try {
    applier_.apply(policy, scopes, book_.tracks_lineage());
  } catch (const std::exception& e) {
    restore_policy(e.what());
    throw;
  }
  policy_ = std::move(policy);
  scope_refs_ = std::move(scopes);
  jobs_.set_parent(job_parent(policy_));  // new jobs below the new scope; running ones stay
  authority_ = std::make_unique<Authority>(std::move(issuers), machine_id_, clock_);
  recorder_.set_baseline_paths(applier_.baseline_paths());
  book_.drop_untrusted(*authority_);
  ack_key_.reset();
  try {
    apply_fleet(policy_);
  } catch (const std::exception& e) {  // the new policy is in force; its fleet part is judged again at each sweep
    service::log(service::Priority::error, std::string("reload: the fleet's part: ") + e.what());
  }
  audit_.append({{"event", name(EventKind::policy_reload)},
                 {"reason", name(RecordReason::sighup)},
                 {"detail", "policy " + paths_.config + " reloaded"}});
}

// The refused policy half in the kernel (its baseline pins beside the old ones, its
// protected set; never a moment without what stays, every set being add-then-prune): the
// policy in force is applied again, so that nothing only the refused policy allows stays
// allowed.
void GateDaemon::restore_policy(const std::string& why) {
  try {
    applier_.apply(policy_, scope_refs_, book_.tracks_lineage());
  } catch (const std::exception& e) {
    service::log(service::Priority::error, "reload refused (" + why +
                                               "), and the policy in force could not be applied again: " + e.what());
  }
  recorder_.set_baseline_paths(applier_.baseline_paths());
}

json GateDaemon::tickets_json() const {
  const auto hits = recorder_.hits();
  std::lock_guard lk(mu_);
  json tickets = book_.tickets_json();
  for (auto& t : tickets) {
    const auto it = hits.find(t["id"].get<std::string>());
    t["hits"] = it == hits.end() ? 0 : it->second.count;
    t["hits_since"] = it == hits.end() ? json(nullptr) : json(it->second.since);
  }
  return tickets;
}

MetricsSnapshot GateDaemon::metrics_snapshot() const {
  MetricsSnapshot s;
  s.version = EXECGATE_VERSION;
  const GateCounters c = gate_.counters();
  s.ringbuf_drops = c.ringbuf_drops;
  s.kernel_events = c.events;
  s.exec_clock_source = gate_.exec_clock().calibrated ? "jiffies" : "clocksource";
  s.audit_failed = audit_.status().failed;
  EventRecorder::Counts counts = recorder_.counts();
  s.decisions = std::move(counts.decisions);
  s.audit_lag = counts.audit_lag;
  std::lock_guard lk(mu_);
  s.now = clock_.now();
  s.start_time = started_at_;
  s.mode = to_string(policy_.mode);
  s.tickets_installed = book_.size();
  s.tickets_expiring = book_.expiring_within(kTicketsExpiringWithin);
  return s;
}

MetricsPolicy GateDaemon::metrics_policy() const {
  std::lock_guard lk(mu_);
  return policy_.metrics;
}

void GateDaemon::set_metrics_file_status(const std::string& path, const std::string& error) {
  std::lock_guard lk(mu_);
  metrics_path_ = path;
  metrics_error_ = error;
}

json GateDaemon::status_json() const {
  GateCounters c = gate_.counters();
  AuditStatus as = audit_.status();
  const ExecClock clock = gate_.exec_clock();
  json metrics = metrics_json(metrics_snapshot());
  std::lock_guard lk(mu_);
  metrics["textfile"] = metrics_path_;
  metrics["textfile_error"] = metrics_error_;
  return {
      {"daemon", {{"pid", ::getpid()}, {"started_at", started_at_}, {"policy", policy_.name}, {"config", paths_.config},
                  {"state_dir", paths_.state_dir}, {"machine_id", machine_id_}}},
      {"gate",
       {{"attached", gate_.attached_programs() > 0},
        {"programs", gate_.attached_programs()},
        {"mode", to_string(policy_.mode)},
        {"pin_dir", paths_.pin_dir},
        {"scope", {{"host", policy_.scope_host}, {"cgroups", policy_.scope_cgroups},
                   {"cgroup_root", policy_.scope_cgroups.empty() ? "" : cgroups_.root()}}},
        {"baseline", {{"trust", to_string(policy_.trust)}, {"pinned_files", applier_.baseline_files()},
                      {"refused_files", applier_.baseline_refused()}}},
        {"tickets", book_.size()},
        {"exec_clock", {{"source", clock.calibrated ? "jiffies" : "clocksource"},
                        {"tick_ns", clock.tick_nsec},
                        {"drift_ms", clock.drift_ms},
                        {"max_check_gap_ms", clock.max_check_gap_ms},
                        {"late_checks", clock.late_checks}}}}},
      {"counters", {{"allowed", c.allowed}, {"denied", c.denied}, {"monitor_denied", c.monitor_denied},
                    {"audit_drops", c.ringbuf_drops}, {"events", c.events}}},
      {"audit", {{"path", as.path}, {"last_seq", as.last_seq}, {"durable_seq", as.durable_seq},
                 {"append_only", as.append_only}, {"append_only_detail", as.append_only_detail},
                 {"signing", !as.key_id.empty()}, {"key_id", as.key_id}, {"required", policy_.audit.required},
                 {"failed", as.failed}, {"error", as.error}, {"stalled", !as.durable},
                 {"disk_full", as.disk_full}, {"held_records", as.held_records},
                 {"dropped_records", as.dropped_records}, {"stall_detail", as.stall_detail}}},
      {"metrics", metrics},
      {"fleet", fleet_.status_json()},
      {"jobs", jobs_.to_json()},
  };
}

json GateDaemon::handle(const ControlRequest& req, const ControlPeer& peer) {
  switch (req.op) {
    case ControlRequest::Op::submit: return submit(req.document, req.source);
    case ControlRequest::Op::tickets: return {{"tickets", tickets_json()}};
    case ControlRequest::Op::status: return status_json();
    case ControlRequest::Op::job_start: return job_start(req.job, req.pids, peer);
    case ControlRequest::Op::job_join: return job_join(req.job, req.pids, peer);
    case ControlRequest::Op::job_end: return job_end(req.job, peer);
    case ControlRequest::Op::fleet_submit:
    case ControlRequest::Op::fleet_forget:
    case ControlRequest::Op::fleet_contact: break;
  }
  // the fleet's requests: execgate-sync's alone, never from a gated scope (a contact
  // would hold off the deadline)
  bool may = false;
  {
    std::lock_guard lk(mu_);
    may = fleet_.configured() && !peer.in_scope && fleet_.peer_may_sync(peer.uid);
  }
  if (!may)
    throw Error(ErrorKind::usage, "fleet requests are execgate-sync's: root or the [fleet] sync_user, outside the "
                                  "gated scope, with a [fleet] in the policy");
  switch (req.op) {
    case ControlRequest::Op::fleet_submit: return submit(req.document, std::string(name(EventKind::fleet)), req.key);
    case ControlRequest::Op::fleet_forget: return fleet_forget(req.key);
    default: return fleet_contact(req.revision);
  }
}

std::string GateDaemon::handle_line(const std::string& line, const ControlPeer& peer) {
  json reply;
  auto req = parse_control_request(line);
  if (const auto* error = std::get_if<std::string>(&req)) {
    reply = {{"ok", false}, {"error", *error}};
  } else {
    try {
      reply = handle(std::get<ControlRequest>(req), peer);
      reply["ok"] = true;
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"error", e.what()}};
    }
  }
  return reply.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace execgate
