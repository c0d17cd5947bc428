#include "gate_daemon.h"
#include "protected_set.h"
#include "scope_slots.h"
#include "state_history.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "execgate/encoding.h"

namespace execgate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string id_hex(const std::uint8_t* id) { return hex_encode(std::span<const std::uint8_t>(id, EG_ID_LEN)); }

std::string dev_string(std::uint64_t kdev) {
  return std::to_string(kdev >> 20) + ":" + std::to_string(kdev & ((1u << 20) - 1));
}

json subjects_json(const std::vector<ResolvedSubject>& subs) {
  json a = json::array();
  for (const auto& s : subs)
    a.push_back({{"path", s.path}, {"sha256", s.sha256}, {"dev", dev_string(s.key.dev)}, {"ino", s.key.ino}});
  return a;
}

// Paths of the dynamic loader(s) on this machine.
std::vector<InodeKey> find_loaders() {
  std::vector<InodeKey> keys;
  for (const char* pattern : {"/lib64/ld-linux*.so*", "/lib/ld-linux*.so*", "/lib/x86_64-linux-gnu/ld-linux*.so*",
                              "/usr/lib/x86_64-linux-gnu/ld-linux*.so*", "/usr/lib64/ld-linux*.so*",
                              "/lib/ld-musl*.so*", "/usr/lib/ld-musl*.so*"}) {
    glob_t g{};
    if (::glob(pattern, 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        if (auto s = stat_subject(g.gl_pathv[i]);
            s && std::find(keys.begin(), keys.end(), s->key) == keys.end())
          keys.push_back(s->key);
    }
    ::globfree(&g);
  }
  return keys;
}

}  // namespace

GateDaemon::GateDaemon(Policy policy, DaemonPaths paths, Gate& gate, AuditLog& audit, const Clock& clock)
    : policy_(std::move(policy)),
      paths_(std::move(paths)),
      gate_(gate),
      audit_(audit),
      clock_(clock),
      store_(paths_.state_dir),
      machine_id_(read_machine_id()),
      authority_(std::make_unique<Authority>(Authority::load_issuers(policy_), machine_id_, clock_)) {}

// The kernel config from the policy and the installed tickets. Lineage is tracked only
// while some installed ticket names a parent (tracking costs a task-storage allocation
// per ticketed exec); a parent image started before that is not known and its children
// are denied `lineage` (fail closed).
eg_config GateDaemon::kernel_config() const {
  eg_config cfg{};
  cfg.mode = policy_.mode == GateMode::monitor ? EG_MODE_MONITOR : EG_MODE_ENFORCE;
  cfg.scope_host = policy_.scope_host ? 1 : 0;
  cfg.trust = policy_.trust == BaselineTrust::root_owned ? EG_TRUST_ROOT_OWNED : EG_TRUST_NONE;
  cfg.audit_required = policy_.audit.required ? 1 : 0;
  // Wake the reader once about 1/8 of the ring (at most 64 KiB) is pending per CPU;
  // it also drains on a 50 ms timer, and every denial wakes it at once.
  const std::uint64_t wake_bytes = std::min<std::uint64_t>(64 << 10, (std::uint64_t{policy_.audit.ringbuf_kib} << 10) / 8);
  cfg.wakeup_events = std::max<std::uint64_t>(1, wake_bytes / sizeof(eg_event));
  for (const auto& [id, inst] : installed_)
    if (inst.body.parent) cfg.track_lineage = 1;
  cfg.daemon_tgid = static_cast<__u32>(::getpid());  // its read opens seal tickets
  cfg.caps_allowed = default_scope_capabilities() | policy_.scope_capabilities;
  cfg.allow = policy_.scope_allow;
  static_assert(static_cast<std::uint32_t>(ScopeAllow::mount) == EG_ALLOW_MOUNT &&
                static_cast<std::uint32_t>(ScopeAllow::userns) == EG_ALLOW_USERNS &&
                static_cast<std::uint32_t>(ScopeAllow::module_request) == EG_ALLOW_MODULE_REQUEST);
  static_assert(EG_MAX_SCOPES >= kMaxScopeCgroups);
  for (const auto& sc : scopes_) cfg.scopes[cfg.n_scopes++] = eg_scope{sc.id, sc.level, 0};  // holes: id 0
  return cfg;
}

// The policy's scope cgroups as the kernel names them (created when missing).
static std::vector<CgroupRef> resolve_scopes(const Policy& policy) {
  std::vector<CgroupRef> scopes;
  for (const auto& c : policy.scope_cgroups) scopes.push_back(open_scope_cgroup(c));
  return scopes;
}

void GateDaemon::apply_policy() {
  gate_.set_loaders(find_loaders());
  ReservedNames reserved;
  gate_.set_protected(protected_inodes(reserved));
  gate_.set_reserved_names(reserved);
  pin_baseline();
  gate_.set_config(kernel_config());
}

// What the scope may not touch (protected_set.h): the daemon's state, its audit log's
// directory, its policy's directory and its socket's (nothing written, created, linked,
// removed or renamed there; the spool inbox stays open: whatever arrives there is verified
// anyway), every ancestor of them, execgated and its libraries, the loader's cache, the
// kernel's helper programs; the names of helpers and of the loader's preload list that do
// not exist are reserved.
ProtectedSet GateDaemon::protected_inodes(ReservedNames& reserved) const {
  ProtectedSet set;
  const std::uint8_t dir = EG_PROT_DIR | EG_PROT_NAME;
  const fs::path state(paths_.state_dir);
  for (const char* sub : {"", "installed", "tombstones", "spent"}) protect_path(set, (*sub ? state / sub : state).string(), dir);
  protect_path(set, fs::path(policy_.audit.path).parent_path().string(), dir);
  if (!paths_.config.empty()) protect_path(set, fs::absolute(paths_.config).parent_path().string(), dir);
  protect_path(set, fs::path(paths_.socket).parent_path().string(), dir);  // no impostor socket
  for (const auto& f : own_mapped_files()) protect_path(set, f, EG_PROT_CONTENT);
  for (const auto& f : kernel_helper_paths()) protect_path(set, f, EG_PROT_CONTENT, &reserved);
  for (const auto& f : loader_config_paths()) protect_path(set, f, EG_PROT_CONTENT, &reserved);
  // the keys the gate trusts: an issuer key rewritten would be trusted at the next start
  // or SIGHUP; the audit signing key is not even read from the scope
  for (const auto& is : policy_.issuers) protect_path(set, is.pubkey, EG_PROT_CONTENT);
  if (!policy_.audit.signing_key.empty())
    protect_path(set, policy_.audit.signing_key, EG_PROT_CONTENT | EG_PROT_SECRET);
  if (set.size() > EG_MAX_PROTECTED)
    throw Error(ErrorKind::kernel, "protected inodes: " + std::to_string(set.size()) + " exceed the kernel map's " +
                                       std::to_string(EG_MAX_PROTECTED));
  return set;
}

// Pins every regular file of the baseline paths as it is now. New pins go in first and
// stale ones are pruned after, so a reload never leaves a moment in which baseline files
// are denied. Only files no one but root can write are pinned: a file its non-root owner (or group, or anyone) may write would
// make the baseline only as trustworthy as that user, who could even change it through a
// shared writable mapping made before the pin without moving ctime. Refused files are
// counted in status and named on stderr; their execs in the scope are denied.
void GateDaemon::pin_baseline() {
  std::map<InodeKey, std::string> index;
  std::size_t refused = 0;
  std::string examples;
  // whether a device is file-backed, asked of sysfs once per device, not once per file
  std::map<dev_t, bool> file_backed;
  auto on_file_backed_device = [&](dev_t dev) {
    auto [it, fresh] = file_backed.try_emplace(dev, false);
    if (fresh) it->second = file_backed_device(dev).has_value();
    return it->second;
  };
  auto pin = [&](const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) || on_file_backed_device(st.st_dev)) {
      if (refused++ < 3) examples += (examples.empty() ? "" : ", ") + p.string();
      return;
    }
    const ResolvedSubject s = subject_of_stat(p.string(), st);
    gate_.put_baseline(s.key, eg_baseline{s.ctime_sec, s.ctime_nsec, 0});
    index.emplace(s.key, p.string());
  };
  for (const auto& path : policy_.baseline_paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec)) pin(it->path());
      }
    } else {
      pin(path);
    }
  }
  std::vector<InodeKey> keep;
  keep.reserve(index.size());
  for (const auto& [key, path] : index) keep.push_back(key);  // std::map: already sorted
  gate_.prune_baseline(keep);
  baseline_files_ = index.size();
  baseline_refused_ = refused;
  if (refused)
    std::fprintf(stderr, "execgated: baseline: %zu file(s) not pinned, writable by a user other than root (%s%s)\n",
                 refused, examples.c_str(), refused > 3 ? ", ..." : "");
  std::lock_guard lk(paths_mu_);
  baseline_paths_ = std::move(index);
}

void GateDaemon::index_ticket_paths_locked() {
  std::map<InodeKey, std::string> index;
  for (const auto& [id, inst] : installed_)
    for (const auto& sub : inst.subjects) index.emplace(sub.key, sub.path);
  std::lock_guard lk(paths_mu_);
  ticket_paths_ = std::move(index);
}

std::string GateDaemon::known_path(const InodeKey& key) const {
  std::lock_guard lk(paths_mu_);
  if (auto it = ticket_paths_.find(key); it != ticket_paths_.end()) return it->second;
  if (auto it = baseline_paths_.find(key); it != baseline_paths_.end()) return it->second;
  return {};
}

void GateDaemon::start() {
  std::lock_guard lk(mu_);
  started_at_ = clock_.now();
  // a restart over pinned maps keeps the slots the kernel reads now
  const eg_config running = gate_.config();
  std::vector<CgroupRef> slots;
  for (__u32 i = 0; i < running.n_scopes && i < EG_MAX_SCOPES; ++i)
    slots.push_back(CgroupRef{running.scopes[i].cgroup_id, running.scopes[i].level});
  scopes_ = assign_scope_slots(slots, resolve_scopes(policy_));
  apply_policy();
  state_ = store_.load();
  // A state directory that lacks what the audit log records (a tombstone, a spent record)
  // was rewound: refuse to start rather than install a revoked or used-up ticket again.
  if (auto rewound = rewound_state(state_, audited_state(policy_.audit.path), store_))
    throw Error(ErrorKind::validation, "state directory " + paths_.state_dir + " was rewound: " + *rewound +
                                           "; restore the state directory that goes with the audit log (the "
                                           "pinned gate keeps enforcing meanwhile)");
  const auto installed_records = state_.installed;
  state_.installed.clear();

  for (const auto& [id, rec] : installed_records) {
    // A record the daemon itself would never have kept: revoked, or spent (a state
    // directory rewound, or a record planted beside the others). Never installed again.
    const bool spent_with_uses = state_.spent.count(id) && rec.uses_left.value_or(1) > 0;
    if (auto why = state_.tombstones.count(id) ? std::optional<std::string>("revoked")
                   : spent_with_uses           ? std::optional<std::string>("replay")
                                               : std::nullopt) {
      store_.remove_installed(id);
      audit_ticket("ticket_refused", id, *why,
                   {{"detail", "at start-up: " + store_.installed_path(id) + " holds a ticket that is " +
                                   (*why == "revoked" ? "revoked (tombstone " + state_.tombstones.at(id) + ")"
                                                      : std::string("spent")) +
                                   ": removed, not installed"}});
      continue;
    }
    if (auto bad = authority_->recheck(rec.envelope)) {
      store_.remove_installed(id);
      audit_ticket("ticket_refused", id, bad->reason, {{"detail", "at start-up: " + bad->detail}});
      continue;
    }
    VerifiedDocument doc = parse_document_unverified(rec.envelope);
    const TicketBody& t = *doc.ticket;
    if (clock_.now() >= t.not_after) {
      store_.remove_installed(id);
      if (t.max_uses) store_.put_spent(id, envelope_digest(rec.envelope)), state_.spent[id] = envelope_digest(rec.envelope);
      audit_ticket("ticket_expired", id, "expired");
      continue;
    }
    Resolution r = resolve_subjects(t, gate_);
    if (r.refusal) {
      store_.remove_installed(id);
      audit_ticket("ticket_refused", id, r.refusal->reason, {{"detail", "at start-up: " + r.refusal->detail}});
      continue;
    }
    Installed inst{t, rec.envelope, authority_->issuer_for(doc.key_id)->policy.name, doc.key_id, r.subjects,
                   rec.uses_left, state_.spent.count(id) > 0};
    // The kernel's count is authoritative while the pinned map survives.
    if (t.max_uses) {
      for (const auto& s : inst.subjects)
        if (auto k = gate_.get_ticket(s.key); k && id_hex(k->id) == id)
          inst.uses_left = std::min<std::int64_t>(inst.uses_left.value_or(k->uses_left), k->uses_left);
    }
    installed_.emplace(id, std::move(inst));
    state_.installed[id] = rec;
  }

  // Desired kernel entries: for an inode covered twice, the ticket valid longest wins.
  std::map<InodeKey, std::pair<std::string, eg_ticket>> desired;
  for (const auto& [id, inst] : installed_) {
    for (const auto& s : inst.subjects) {
      eg_ticket v = kernel_entry(inst.body, s, inst.uses_left);
      auto it = desired.find(s.key);
      if (it == desired.end() || v.not_after_ns > it->second.second.not_after_ns) desired[s.key] = {id, v};
    }
  }
  for (const auto& [key, value] : gate_.tickets()) {
    if (!desired.count(key)) {
      gate_.delete_ticket(key);
      audit_ticket("ticket_refused", id_hex(value.id), "unbacked",
                   {{"detail", "kernel entry for " + dev_string(key.dev) + "/" + std::to_string(key.ino) +
                                   " had no installed ticket behind it: removed"}});
    }
  }
  for (const auto& [key, e] : desired) {
    auto cur = gate_.get_ticket(key);
    if (!cur || std::memcmp(&*cur, &e.second, sizeof(eg_ticket)) != 0) gate_.put_ticket(key, e.second);
  }
  index_ticket_paths_locked();
  gate_.set_config(kernel_config());
}

void GateDaemon::audit_ticket(const std::string& event, const std::string& id, const std::string& reason, json extra) {
  json r = std::move(extra);
  r["event"] = event;
  r["ticket"] = id.empty() ? json(nullptr) : json(id);
  r["reason"] = reason;
  audit_.append(std::move(r));
}

void GateDaemon::install_locked(const std::string& id, Installed inst) {
  InstalledRecord rec{inst.envelope, inst.body.max_uses ? std::optional<std::int64_t>(inst.body.max_uses) : std::nullopt,
                      clock_.now()};
  store_.put_installed(id, rec);  // durable first: a crash re-installs on start
  state_.installed[id] = rec;
  const Installed& in = installed_[id] = std::move(inst);
  if (in.body.parent) gate_.set_config(kernel_config());  // lineage tracking on before the entries
  index_ticket_paths_locked();  // before the entries: events may follow at once
  for (const auto& s : in.subjects) gate_.put_ticket(s.key, kernel_entry(in.body, s, in.uses_left));
  audit_ticket("ticket_installed", id, "ticket",
               {{"issuer", in.issuer}, {"key_id", in.key_id}, {"subjects", subjects_json(in.subjects)},
                {"not_after", in.body.not_after}, {"max_uses", in.body.max_uses},
                {"initiator", in.body.initiator}, {"purpose", in.body.purpose}});
}

void GateDaemon::uninstall_locked(const std::string& id, const std::string& event, const std::string& reason) {
  auto it = installed_.find(id);
  if (it == installed_.end()) return;
  Installed inst = std::move(it->second);
  installed_.erase(it);
  state_.installed.erase(id);
  for (const auto& s : inst.subjects) {
    auto cur = gate_.get_ticket(s.key);
    if (!cur || id_hex(cur->id) != id) continue;
    // Another installed ticket covering the same inode takes over in place: never a
    // moment without an entry, in which a writer could open the file.
    const Installed* heir = nullptr;
    const ResolvedSubject* heir_subject = nullptr;
    for (const auto& [oid, other] : installed_)
      for (const auto& os : other.subjects)
        if (os.key == s.key) heir = &other, heir_subject = &os;
    if (heir)
      gate_.put_ticket(s.key, kernel_entry(heir->body, *heir_subject, heir->uses_left));
    else
      gate_.delete_ticket(s.key);
  }
  if (inst.body.max_uses && !state_.spent.count(id)) {
    std::string d = envelope_digest(inst.envelope);
    store_.put_spent(id, d);
    state_.spent[id] = d;
  }
  store_.remove_installed(id);
  index_ticket_paths_locked();
  if (inst.body.parent) gate_.set_config(kernel_config());
  audit_ticket(event, id, reason);
}

json GateDaemon::revoke_locked(const VerifiedDocument& doc, const std::string& issuer) {
  const RevocationBody& r = *doc.revocation;
  json removed = json::array();
  for (const auto& tid : r.revoked) {
    if (!state_.tombstones.count(tid)) {
      store_.put_tombstone(tid, r.id);
      state_.tombstones[tid] = r.id;
    }
    if (installed_.count(tid)) {
      uninstall_locked(tid, "ticket_revoked", "revoked");
      removed.push_back(tid);
    } else {
      audit_ticket("ticket_revoked", tid, "revoked", {{"detail", "not installed: tombstoned"}});
    }
  }
  return {{"result", "revoked"}, {"revocation", r.id}, {"issuer", issuer}, {"revoked", r.revoked}, {"removed", removed}};
}

json GateDaemon::submit(const std::string& envelope, const std::string& source) {
  std::lock_guard lk(mu_);
  Judgement j = authority_->judge(envelope, state_);
  auto refuse = [&](const Refusal& r) {
    std::string id = j.doc.ticket ? j.doc.ticket->id : (j.doc.revocation ? j.doc.revocation->id : "");
    audit_ticket("ticket_refused", id, r.reason, {{"detail", r.detail}, {"source", source}});
    return json{{"result", "refused"}, {"reason", r.reason}, {"detail", r.detail}, {"id", id.empty() ? json(nullptr) : json(id)}};
  };
  if (j.refusal) return refuse(*j.refusal);
  if (j.doc.kind == VerifiedDocument::Kind::revocation) return revoke_locked(j.doc, j.issuer->policy.name);

  const TicketBody& t = *j.doc.ticket;
  if (j.already_installed)
    return {{"result", "installed"}, {"id", t.id}, {"already", true}, {"subjects", subjects_json(installed_.at(t.id).subjects)}};
  if (t.uids.size() > EG_MAX_UIDS)
    return refuse(Refusal{"malformed", "uids: at most " + std::to_string(EG_MAX_UIDS) + " uids fit a kernel entry"});
  Resolution r = resolve_subjects(t, gate_);
  if (r.refusal) return refuse(*r.refusal);
  Installed inst{t, envelope, j.issuer->policy.name, j.doc.key_id, r.subjects,
                 t.max_uses ? std::optional<std::int64_t>(t.max_uses) : std::nullopt, false};
  install_locked(t.id, std::move(inst));
  return {{"result", "installed"}, {"id", t.id}, {"subjects", subjects_json(installed_.at(t.id).subjects)},
          {"not_after", t.not_after}};
}

std::int64_t GateDaemon::kernel_uses_left(const Installed& inst) const {
  std::int64_t best = LLONG_MIN;
  for (const auto& s : inst.subjects)
    if (auto k = gate_.get_ticket(s.key); k && id_hex(k->id) == inst.body.id) best = std::max<std::int64_t>(best, k->uses_left);
  return best == LLONG_MIN ? inst.uses_left.value_or(0) : best;
}

void GateDaemon::sweep() {
  std::lock_guard lk(mu_);
  const auto now = clock_.now();
  std::vector<std::string> expired;
  for (auto& [id, inst] : installed_) {
    if (now >= inst.body.not_after) {
      expired.push_back(id);
      continue;
    }
    if (!inst.body.max_uses) continue;
    std::int64_t left = std::max<std::int64_t>(0, kernel_uses_left(inst));
    if (left != inst.uses_left) {
      inst.uses_left = left;
      InstalledRecord rec = state_.installed[id];
      rec.uses_left = left;
      store_.put_installed(id, rec);
      state_.installed[id] = rec;
    }
    if (left == 0 && !inst.spent) {
      inst.spent = true;
      std::string d = envelope_digest(inst.envelope);
      store_.put_spent(id, d);
      state_.spent[id] = d;
      audit_ticket("ticket_expired", id, "exhausted", {{"detail", "all uses spent"}});
    }
  }
  for (const auto& id : expired) uninstall_locked(id, "ticket_expired", "expired");
}

void GateDaemon::note_drops() {
  const std::uint64_t drops = gate_.counters().ringbuf_drops;
  const std::uint64_t before = drops_reported_.exchange(drops);
  if (drops > before) audit_.append_gap(drops - before, "ring_buffer_full", "kernel events could not be reserved");
}

void GateDaemon::reload(Policy policy) {
  // may throw: keep the old policy then
  auto issuers = Authority::load_issuers(policy);
  auto scopes = resolve_scopes(policy);
  std::lock_guard lk(mu_);
  policy_ = std::move(policy);
  scopes_ = assign_scope_slots(scopes_, scopes);
  authority_ = std::make_unique<Authority>(std::move(issuers), machine_id_, clock_);
  apply_policy();
  std::vector<std::string> gone;
  for (const auto& [id, inst] : installed_)
    if (!authority_->issuer_for(inst.key_id)) gone.push_back(id);
  for (const auto& id : gone) uninstall_locked(id, "ticket_revoked", "untrusted_issuer");
  audit_.append({{"event", "daemon_start"}, {"reason", "reload"}, {"detail", "policy reloaded (SIGHUP)"}});
}

void GateDaemon::on_event(const eg_event& ev) {
  json r;
  r["event"] = "exec";
  r["hook"] = hook_name(ev.hook);
  r["verdict"] = verdict_name(ev.verdict);
  r["reason"] = reason_name(ev.reason);
  r["pid"] = ev.pid;
  r["ppid"] = ev.ppid;
  r["uid"] = ev.uid;
  r["comm"] = std::string(ev.comm, strnlen(ev.comm, sizeof ev.comm));
  std::string path(ev.path, strnlen(ev.path, sizeof ev.path));
  if (path.empty() && ev.hook == EG_HOOK_EXEC) path = known_path(InodeKey{ev.dev, ev.ino});
  r["path"] = path.empty() ? nlohmann::json(nullptr) : nlohmann::json(path);
  r["dev"] = dev_string(ev.dev);
  r["ino"] = ev.ino;
  r["ticket"] = ev.has_ticket ? json(id_hex(ev.ticket)) : json(nullptr);
  json lineage = json::array();
  if (ev.has_proc_ticket) lineage.push_back(id_hex(ev.proc_ticket));
  r["lineage"] = lineage;
  r["cgroup"] = ev.cgroup_id;
  if (ev.hook == EG_HOOK_CAPABLE) r["capability"] = capability_name(static_cast<int>(ev.arg));
  else if (ev.arg) r["arg"] = ev.arg;
  r["kernel_time_ns"] = boot_ns_to_wall_ns(ev.ts_boot_ns);
  audit_.append(std::move(r));
}

json GateDaemon::tickets_json() const {
  std::lock_guard lk(mu_);
  json a = json::array();
  for (const auto& [id, inst] : installed_) {
    json t{{"id", id},          {"issuer", inst.issuer},       {"key_id", inst.key_id},
           {"subjects", subjects_json(inst.subjects)},          {"not_before", inst.body.not_before},
           {"not_after", inst.body.not_after},                  {"max_uses", inst.body.max_uses},
           {"initiator", inst.body.initiator},                  {"purpose", inst.body.purpose}};
    t["uses_left"] = inst.body.max_uses ? json(std::max<std::int64_t>(0, kernel_uses_left(inst))) : json(nullptr);
    a.push_back(std::move(t));
  }
  return a;
}

json GateDaemon::status_json() const {
  GateCounters c = gate_.counters();
  AuditStatus as = audit_.status();
  const ExecClock clock = gate_.exec_clock();
  std::lock_guard lk(mu_);
  return {
      {"daemon", {{"pid", ::getpid()}, {"started_at", started_at_}, {"policy", policy_.name}, {"config", paths_.config},
                  {"state_dir", paths_.state_dir}, {"machine_id", machine_id_}}},
      {"gate",
       {{"attached", gate_.attached_programs() > 0},
        {"programs", gate_.attached_programs()},
        {"mode", to_string(policy_.mode)},
        {"pin_dir", paths_.pin_dir},
        {"scope", {{"host", policy_.scope_host}, {"cgroups", policy_.scope_cgroups},
                   {"cgroup_root", policy_.scope_cgroups.empty() ? "" : cgroup2_root()}}},
        {"baseline", {{"trust", to_string(policy_.trust)}, {"pinned_files", baseline_files_},
                      {"refused_files", baseline_refused_}}},
        {"tickets", installed_.size()},
        {"exec_clock", {{"source", clock.calibrated ? "jiffies" : "clocksource"},
                        {"tick_ns", clock.tick_nsec},
                        {"drift_ms", clock.drift_ms}}}}},
      {"counters", {{"allowed", c.allowed}, {"denied", c.denied}, {"monitor_denied", c.monitor_denied},
                    {"audit_drops", c.ringbuf_drops}, {"events", c.events}}},
      {"audit", {{"path", as.path}, {"last_seq", as.last_seq}, {"durable_seq", as.durable_seq},
                 {"append_only", as.append_only}, {"append_only_detail", as.append_only_detail},
                 {"signing", !as.key_id.empty()}, {"key_id", as.key_id}, {"required", policy_.audit.required},
                 {"failed", as.failed}, {"error", as.error}}},
  };
}

json GateDaemon::handle(const json& req, std::uint32_t peer_uid) {
  (void)peer_uid;
  if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
    return {{"ok", false}, {"error", "request must be a JSON object with a string \"op\""}};
  const std::string op = req["op"];
  json out;
  if (op == "submit") {
    if (!req.contains("document") || !req["document"].is_string())
      return {{"ok", false}, {"error", "submit: \"document\" must be the envelope as a string"}};
    out = submit(req["document"].get<std::string>(), req.value("source", std::string("socket")));
  } else if (op == "tickets") {
    out = {{"tickets", tickets_json()}};
  } else if (op == "status") {
    out = status_json();
  } else {
    return {{"ok", false}, {"error", "unknown op \"" + op + "\""}};
  }
  out["ok"] = true;
  return out;
}

}  // namespace execgate
