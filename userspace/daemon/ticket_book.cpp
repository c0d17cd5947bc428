#include "ticket_book.h"

#include <climits>
#include <cstring>

#include "common/encoding.h"
#include "service.h"
#include "ticket/ticket_rank.h"

namespace execgate {
using nlohmann::json;

namespace {

RankedTicket rank_of(const TicketBody& t) { return RankedTicket{t.id, t.not_before, t.not_after}; }

// Where a ticket's authorization comes from (docs/audit.md "Authorization origin"): the
// policy issuer, then each delegation of its chain and the key it empowers, then the ticket.
json origin_json(const InstalledTicket& in) {
  json chain = json::array();
  chain.push_back({{"issuer", in.issuer}, {"key_id", in.key_id}});
  for (const auto& e : in.body.delegation) {
    const DelegationLink link = parse_delegation_unverified(e);
    chain.push_back({{"delegation", link.body.id}, {"key_id", link.body.delegate.key_id()}});
  }
  chain.push_back({{"ticket", in.body.id}});
  return chain;
}

}  // namespace

json subjects_json(const std::vector<ResolvedSubject>& subs) {
  json a = json::array();
  for (const auto& s : subs)
    a.push_back({{"path", s.path}, {"sha256", s.sha256}, {"dev", kernel_dev_string(s.key.dev)}, {"ino", s.key.ino}});
  return a;
}

TicketBook::TicketBook(TicketMap& kernel, StateStore& store, const Clock& clock, Resolver resolve, AuditSink audit)
    : kernel_(kernel), store_(store), clock_(clock), resolve_(std::move(resolve)), audit_(std::move(audit)) {}

void TicketBook::audit_ticket(EventKind event, const std::string& id, std::string_view reason, json extra) {
  json r = std::move(extra);
  r["event"] = name(event);
  r["ticket"] = id.empty() ? json(nullptr) : json(id);
  r["reason"] = reason;
  audit_(std::move(r));
}

void TicketBook::load(StateSnapshot state, const Authority& authority) {
  state_ = std::move(state);
  const auto installed_records = state_.installed;
  state_.installed.clear();
  installed_.clear();
  covering_.clear();
  std::set<InodeKey> released;  // entries of tickets spent at start-up
  for (const auto& [id, rec] : installed_records) restore(id, rec, authority, released);
  reconcile_kernel(released);
  last_sweep_ = clock_.now();
}

void TicketBook::restore(const std::string& id, const InstalledRecord& rec, const Authority& authority,
                         std::set<InodeKey>& released) {
  if (auto why = refusal_at_start(id, rec, authority)) {
    drop_at_start(id, *why);
    return;
  }
  VerifiedDocument doc = parse_document_unverified(rec.envelope);
  const TicketBody& t = *doc.ticket;
  if (clock_.now() >= t.not_after) {
    store_.remove_installed(id);
    if (t.max_uses) mark_spent(id, rec.envelope);
    audit_ticket(EventKind::ticket_expired, id, name(Reason::expired));
    return;
  }
  std::optional<std::uint64_t> job;
  if (t.job && !(job = job_cgroup(*t.job))) {
    drop_at_start(id, Refusal{RefusalReason::wrong_job, "its job " + *t.job + " is not running on this host"});
    return;
  }
  Resolution r = resolve_(t);
  if (r.refusal) {
    drop_at_start(id, *r.refusal);
    return;
  }
  InstalledTicket inst{t, rec.envelope, authority.issuer_for(doc.issuer_key_id())->policy.name, doc.issuer_key_id(),
                       r.subjects, rec.uses_left, rec.fleet_key};
  inst.job_cgroup = job.value_or(0);
  if (t.max_uses) inst.uses_left = uses_left_at_start(id, inst);
  // its last use was counted while no daemon read the event: spent now
  if (t.max_uses && inst.uses_left.value_or(1) <= 0) {
    for (const auto& s : inst.subjects) released.insert(s.key);  // its entries go in reconcile_kernel
    mark_spent(id, rec.envelope);
    store_.remove_installed(id);
    audit_ticket(EventKind::ticket_expired, id, name(Reason::exhausted),
                 {{"detail", "at start-up: the kernel counted its last use while no daemon read it"}});
    return;
  }
  add_installed(id, std::move(inst));
  state_.installed[id] = rec;
}

std::optional<Refusal> TicketBook::refusal_at_start(const std::string& id, const InstalledRecord& rec,
                                                    const Authority& authority) const {
  // A record this host's execgated did not write (state_seal.h): copied from elsewhere or
  // planted by hand. Never installed; the ticket may be submitted again.
  if (rec.unrecognised)
    return Refusal{RefusalReason::planted, store_.installed_path(id) + " " + *rec.unrecognised +
                                               ": not written by this host's execgated; removed, not installed"};
  // A record the daemon itself would never have kept: revoked, or spent (a state
  // directory rewound, or a record planted beside the others). Never installed again.
  if (auto tomb = state_.tombstones.find(id); tomb != state_.tombstones.end())
    return Refusal{RefusalReason::revoked, store_.installed_path(id) + " holds a ticket that is revoked (tombstone " +
                                               tomb->second + "): removed, not installed"};
  if (state_.spent.count(id))
    return Refusal{RefusalReason::replay,
                   store_.installed_path(id) + " holds a ticket that is spent: removed, not installed"};
  try {
    for (const auto& link : delegation_ids(parse_document_unverified(rec.envelope).ticket.value()))
      if (auto tomb = state_.tombstones.find(link); tomb != state_.tombstones.end())
        return Refusal{RefusalReason::delegation_revoked, store_.installed_path(id) + " holds a ticket whose delegation " +
                                                              link + " is revoked (tombstone " + tomb->second +
                                                              "): removed, not installed"};
  } catch (const std::exception&) {
    // what does not parse, the authority's recheck refuses
  }
  return authority.recheck(rec.envelope);
}

void TicketBook::drop_at_start(const std::string& id, const Refusal& why) {
  store_.remove_installed(id);
  audit_ticket(EventKind::ticket_refused, id, name(why.reason), {{"detail", "at start-up: " + why.detail}});
}

std::optional<std::int64_t> TicketBook::uses_left_at_start(const std::string& id, const InstalledTicket& inst) const {
  const auto counted = kernel_count(id, inst.subjects);
  if (!counted) return inst.uses_left;
  return std::min(inst.uses_left.value_or(*counted), *counted);
}

void TicketBook::mark_spent(const std::string& id, const std::string& envelope) {
  if (state_.spent.count(id)) return;
  const std::string d = envelope_digest(envelope);
  store_.put_spent(id, d);
  state_.spent[id] = d;
}

void TicketBook::reconcile_kernel(const std::set<InodeKey>& released) {
  for (const auto& [key, value] : kernel_.tickets()) {
    if (covering_.count(key)) continue;
    if (!kernel_.delete_ticket(key) && kernel_.get_ticket(key)) fail_closed(key);
    if (!released.count(key))
      audit_ticket(EventKind::ticket_refused, hex_id(value.id), name(RefusalReason::unbacked),
                   {{"detail", "kernel entry for " + kernel_dev_string(key.dev) + "/" + std::to_string(key.ino) +
                                   " had no installed ticket behind it: removed"}});
  }
  for (const auto& [key, job, value] : kernel_.job_tickets()) {
    job_entries_[key][job] = value;  // what the kernel holds: write_entry makes it what it should be
    if (!covering_.count(key)) {
      kernel_.delete_job_ticket(key, job);
      job_entries_.erase(key);
    }
  }
  for (const auto& [key, ids] : covering_) sync_entry(key);
}

void TicketBook::persist_uses(const std::string& id, std::int64_t left) {
  auto it = installed_.find(id);
  if (it == installed_.end() || it->second.uses_left == left) return;
  it->second.uses_left = left;
  InstalledRecord rec = state_.installed[id];
  rec.uses_left = left;
  store_.put_installed(id, rec);
  state_.installed[id] = rec;
}

void TicketBook::sync_entry(const InodeKey& key) {
  try {
    write_entry(key);
    resync_.erase(key);
  } catch (const std::exception&) {
    fail_closed(key);
    throw;
  }
}

void TicketBook::sync_entry_or_defer(const InodeKey& key) {
  try {
    sync_entry(key);
  } catch (const std::exception& e) {
    service::log(service::Priority::error, "ticket map: " + std::string(e.what()) + ": the entry of " +
                                               kernel_dev_string(key.dev) + "/" + std::to_string(key.ino) +
                                               " allows nothing until the next sweep");
  }
}

void TicketBook::keep_kernel_count(const KernelTicket& cur) {
  if (cur.pending) return;
  const std::string id = hex_id(cur.id);
  if (auto it = installed_.find(id); it != installed_.end() && it->second.body.max_uses)
    persist_uses(id, std::max<std::int64_t>(0, cur.uses_left.value_or(0)));
}

void TicketBook::fail_closed(const InodeKey& key) {
  resync_.insert(key);
  try {
    const auto cur = kernel_.get_ticket(key);
    if (!cur) return;
    keep_kernel_count(*cur);  // when that cannot be kept, the entry stays: it is an installed ticket's
    if (kernel_.delete_ticket(key) || !kernel_.get_ticket(key) || cur->pending) return;
    KernelTicket dead;  // not_after_ns 0: expired since boot, it allows nothing
    dead.id = cur->id;
    dead.uses_left = cur->uses_left;  // the count stays readable (kernel_uses_left)
    kernel_.put_ticket(key, dead);
  } catch (const std::exception&) {
    // nothing more to try now: the next sweep does
  }
}

// Gives the kernel entry of `key` to the installed ticket that outranks the others covering
// it (ticket_rank.h), or removes it when none covers it. Job-bound tickets (docs/gate.md
// "Jobs") have entries of their own by inode and job, the best of each job's: the inode's
// entry says so (has_jobs), and when no other ticket covers the inode it is only their
// anchor (jobs_only: it allows nothing, and seals the file against writers as any entry).
// Jobs' entries go in before the anchor names them, and go after it stops naming them.
void TicketBook::write_entry(const InodeKey& key) {
  const auto now = clock_.now();
  using Holder = std::pair<const InstalledTicket*, const ResolvedSubject*>;
  Holder host{nullptr, nullptr};
  std::map<std::uint64_t, Holder> jobs;
  auto better = [&](Holder& best, const InstalledTicket& inst, const ResolvedSubject& s) {
    if (!best.first || outranks(rank_of(inst.body), rank_of(best.first->body), now)) best = {&inst, &s};
  };
  if (auto c = covering_.find(key); c != covering_.end())
    for (const auto& id : c->second) {
      const InstalledTicket& inst = installed_.at(id);
      for (const auto& s : inst.subjects)
        if (s.key == key) better(inst.job_cgroup ? jobs[inst.job_cgroup] : host, inst, s);
    }
  auto entry_of = [&](const Holder& h) {
    KernelTicket v = kernel_entry(h.first->body, *h.second, h.first->uses_left);
    v.fleet = fleet_configured_ && (!h.first->fleet_key.empty() || suspend_local_);
    return v;
  };
  auto& written = job_entries_[key];
  for (const auto& [job, h] : jobs) {
    const KernelTicket want = entry_of(h);
    if (auto w = written.find(job); w == written.end() || w->second != want) {
      kernel_.put_job_ticket(key, job, want);
      written[job] = want;
    }
  }
  const InstalledTicket* holder = host.first ? host.first : jobs.empty() ? nullptr : jobs.begin()->second.first;
  const auto cur = kernel_.get_ticket(key);
  const bool cur_sealed = cur && !cur->pending;
  const std::string cur_id = cur ? hex_id(cur->id) : "";
  // A limited ticket losing its entry keeps the uses the kernel counted.
  if (cur_sealed && !cur->jobs_only && (!host.first || host.first->body.id != cur_id)) keep_kernel_count(*cur);
  if (!holder) {
    if (cur && !kernel_.delete_ticket(key) && kernel_.get_ticket(key))
      throw Error(ErrorKind::kernel, "the kernel kept the entry of ticket " + cur_id + " (removal refused)");
  } else {
    KernelTicket want;
    if (host.first) {
      want = entry_of(host);
      if (cur_sealed && !cur->jobs_only && cur_id == host.first->body.id && want.uses_left && cur->uses_left)
        want.uses_left = cur->uses_left;  // the kernel's count is authoritative
    } else {  // the anchor of jobs' entries: the sealing of the file, no allowance
      want = entry_of(jobs.begin()->second);
      want.uses_left.reset();
      want.parent.reset();
      want.builder = false;
      want.jobs_only = true;
    }
    want.has_jobs = !jobs.empty();
    // Written in place: another ticket's entry is replaced, never removed first (a moment
    // without an entry would let a writer open the file).
    if (!cur || *cur != want) kernel_.put_ticket(key, want);
  }
  for (auto w = written.begin(); w != written.end();)
    if (jobs.count(w->first)) {
      ++w;
    } else {
      kernel_.delete_job_ticket(key, w->first);
      w = written.erase(w);
    }
  if (written.empty()) job_entries_.erase(key);
}

const InstalledTicket& TicketBook::add_installed(const std::string& id, InstalledTicket inst) {
  if (auto old = installed_.find(id); old != installed_.end()) {
    std::vector<InodeKey> uncovered;
    take_installed(old, uncovered);
    on_removed(id, uncovered);
  }
  for (const auto& s : inst.subjects) {
    covering_[s.key].insert(id);
    on_subject_added(s.key, s.path);
  }
  inst.envelope_sha256 = envelope_digest(inst.envelope);
  on_origin(id, origin_json(inst));
  return installed_[id] = std::move(inst);
}

InstalledTicket TicketBook::take_installed(std::map<std::string, InstalledTicket>::iterator it,
                                           std::vector<InodeKey>& uncovered) {
  InstalledTicket inst = std::move(it->second);
  for (const auto& s : inst.subjects)
    if (auto c = covering_.find(s.key); c != covering_.end() && c->second.erase(it->first) && c->second.empty()) {
      covering_.erase(c);
      uncovered.push_back(s.key);
    }
  installed_.erase(it);
  return inst;
}

void TicketBook::put(const std::string& id, InstalledTicket inst) {
  on_install(id);
  InstalledRecord rec{inst.envelope, inst.body.max_uses ? std::optional<std::int64_t>(inst.body.max_uses) : std::nullopt,
                      clock_.now()};
  rec.fleet_key = inst.fleet_key;
  store_.put_installed(id, rec);  // durable first: a crash re-installs on start
  state_.installed[id] = rec;
  const InstalledTicket& in = add_installed(id, std::move(inst));
  try {
    if (in.body.parent) on_lineage_change();  // lineage tracking on before the entries
    for (const auto& s : in.subjects) sync_entry(s.key);
  } catch (...) {
    withdraw(id);  // the kernel refused: not installed, and no entry of it left
    throw;
  }
  audit_ticket(EventKind::ticket_installed, id, name(Reason::ticket),
               {{"issuer", in.issuer}, {"key_id", in.key_id}, {"subjects", subjects_json(in.subjects)},
                {"not_after", in.body.not_after}, {"max_uses", in.body.max_uses},
                {"initiator", in.body.initiator}, {"purpose", in.body.purpose}, {"origin", origin_json(in)},
                {"job", in.body.job ? json(*in.body.job) : json(nullptr)}, {"builder", in.body.builder}});
}

void TicketBook::withdraw(const std::string& id) {
  auto it = installed_.find(id);
  if (it == installed_.end()) return;
  std::vector<InodeKey> uncovered;
  const InstalledTicket inst = take_installed(it, uncovered);
  state_.installed.erase(id);
  try {
    store_.remove_installed(id);
  } catch (const std::exception& e) {
    service::log(service::Priority::error, "ticket " + id + " was not installed, but its record stays: " + e.what());
  }
  for (const auto& s : inst.subjects) sync_entry_or_defer(s.key);
  on_removed(id, uncovered);
  if (inst.body.parent) {
    try {
      on_lineage_change();
    } catch (const std::exception&) {
      // lineage tracked with no ticket naming a parent: a cost, never an allowance
    }
  }
}

void TicketBook::uninstall(const std::string& id, EventKind event, std::string_view reason, const std::string& detail) {
  auto it = installed_.find(id);
  if (it == installed_.end()) return;
  std::vector<InodeKey> uncovered;
  InstalledTicket inst = take_installed(it, uncovered);
  state_.installed.erase(id);
  // another installed ticket covering the same inode takes over in place
  for (const auto& s : inst.subjects) sync_entry_or_defer(s.key);
  if (inst.body.max_uses) mark_spent(id, inst.envelope);
  store_.remove_installed(id);
  on_removed(id, uncovered);
  if (inst.body.parent) on_lineage_change();
  audit_ticket(event, id, reason, detail.empty() ? json::object() : json{{"detail", detail}});
}

void TicketBook::spend(const std::string& id, const std::string& detail) {
  uninstall(id, EventKind::ticket_expired, name(Reason::exhausted), detail);
}

json TicketBook::revoke(const VerifiedDocument& doc, const std::string& issuer) {
  const RevocationBody& r = *doc.revocation;
  json removed = json::array();
  for (const auto& tid : r.revoked) {
    if (!state_.tombstones.count(tid)) {
      store_.put_tombstone(tid, r.id);
      state_.tombstones[tid] = r.id;
    }
    if (installed_.count(tid)) {
      uninstall(tid, EventKind::ticket_revoked, name(RefusalReason::revoked));
      removed.push_back(tid);
      continue;
    }
    // a delegation: every ticket issued under it goes, in the kernel, now
    const std::vector<std::string> under = issued_under(tid);
    for (const auto& id : under) {
      uninstall(id, EventKind::ticket_revoked, name(RefusalReason::delegation_revoked),
                "its delegation " + tid + " was revoked by " + r.id);
      removed.push_back(id);
    }
    if (under.empty())
      audit_ticket(EventKind::ticket_revoked, tid, name(RefusalReason::revoked),
                   {{"detail", "not installed: tombstoned"}});
  }
  return {{"result", "revoked"}, {"revocation", r.id}, {"issuer", issuer}, {"revoked", r.revoked}, {"removed", removed}};
}

std::vector<std::string> TicketBook::end_job(const std::string& job) {
  std::vector<std::string> ids;
  for (const auto& [id, inst] : installed_)
    if (inst.body.job == job) ids.push_back(id);
  for (const auto& id : ids) uninstall(id, EventKind::ticket_revoked, name(RecordReason::job_ended), "its job " + job + " ended");
  return ids;
}

std::vector<std::string> TicketBook::issued_under(const std::string& delegation_id) const {
  std::vector<std::string> ids;
  for (const auto& [id, inst] : installed_)
    for (const auto& id_in_chain : delegation_ids(inst.body))
      if (id_in_chain == delegation_id) ids.push_back(id);
  return ids;
}

void TicketBook::release_pending(const std::string& id, const std::vector<ResolvedSubject>& subjects) {
  for (const auto& s : subjects)
    if (auto cur = kernel_.get_ticket(s.key); cur && cur->pending && hex_id(cur->id) == id) {
      if (covering_.count(s.key))
        sync_entry_or_defer(s.key);
      else
        kernel_.delete_ticket(s.key);  // one left behind stays pending: it allows no exec
    }
}

json TicketBook::refuse(const Judgement& j, const Refusal& r, const std::string& source) {
  const std::string id = j.doc.ticket ? j.doc.ticket->id : (j.doc.revocation ? j.doc.revocation->id : "");
  audit_ticket(EventKind::ticket_refused, id, name(r.reason), {{"detail", r.detail}, {"source", source}});
  return json{{"result", "refused"},
              {"reason", name(r.reason)},
              {"detail", r.detail},
              {"id", id.empty() ? json(nullptr) : json(id)}};
}

std::variant<Judgement, json> TicketBook::judge(const std::string& envelope, const std::string& source,
                                                const Authority& authority) {
  Judgement j = authority.judge(envelope, state_);
  if (j.refusal) return refuse(j, *j.refusal, source);
  if (j.doc.kind == VerifiedDocument::Kind::revocation) return revoke(j.doc, j.issuer->policy.name);
  const TicketBody& t = *j.doc.ticket;
  if (j.already_installed) {
    const InstalledTicket& inst = installed_.at(t.id);
    // its last use counted by the kernel, not yet seen by the daemon: spent now
    if (t.max_uses && kernel_uses_left(inst) <= 0) {
      spend(t.id, "all uses spent (noticed at a resubmission)");
      return refuse(j, Refusal{RefusalReason::replay, "ticket " + t.id + " was already used up"}, source);
    }
    return json{{"result", "installed"}, {"id", t.id}, {"already", true}, {"subjects", subjects_json(inst.subjects)}};
  }
  if (t.uids.size() > kMaxTicketUids)
    return refuse(j, Refusal{RefusalReason::malformed, "uids: at most " + std::to_string(kMaxTicketUids) + " uids fit a kernel entry"},
                  source);
  if (t.job && !job_cgroup(*t.job))
    return refuse(j, Refusal{RefusalReason::wrong_job, "job " + *t.job + " is not running on this host (execgate job start " +
                                                           *t.job + " first)"},
                  source);
  return j;
}

json TicketBook::install(const Judgement& j, const std::string& envelope, const std::vector<ResolvedSubject>& subjects,
                         const std::string& fleet_key) {
  const TicketBody& t = *j.doc.ticket;
  InstalledTicket inst{t, envelope, j.issuer->policy.name, j.doc.issuer_key_id(), subjects,
                       t.max_uses ? std::optional<std::int64_t>(t.max_uses) : std::nullopt, fleet_key};
  if (t.job) {
    const auto job = job_cgroup(*t.job);
    if (!job) {
      release_pending(t.id, subjects);
      return refuse(j, Refusal{RefusalReason::wrong_job, "job " + *t.job + " ended while the ticket was being resolved"},
                    "install");
    }
    inst.job_cgroup = *job;
  }
  put(t.id, std::move(inst));
  return {{"result", "installed"}, {"id", t.id}, {"subjects", subjects_json(subjects)}, {"not_after", t.not_after}};
}

std::optional<std::int64_t> TicketBook::kernel_count(const std::string& id,
                                                     const std::vector<ResolvedSubject>& subjects) const {
  std::optional<std::int64_t> best;
  for (const auto& s : subjects)  // a pending entry holds no count
    if (auto k = kernel_.get_ticket(s.key); k && !k->pending && hex_id(k->id) == id)
      best = std::max<std::int64_t>(best.value_or(LLONG_MIN), k->uses_left.value_or(0));
  return best;
}

std::int64_t TicketBook::kernel_uses_left(const InstalledTicket& inst) const {
  return kernel_count(inst.body.id, inst.subjects).value_or(inst.uses_left.value_or(0));
}

void TicketBook::sweep() {
  for (const InodeKey& key : std::vector<InodeKey>(resync_.begin(), resync_.end())) sync_entry_or_defer(key);
  const auto now = clock_.now();
  std::vector<std::string> expired, used_up;
  std::set<InodeKey> became_valid;
  for (auto& [id, inst] : installed_) {
    if (now >= inst.body.not_after) {
      expired.push_back(id);
      continue;
    }
    // not yet valid when installed, valid now: it may outrank the ticket holding its files
    const std::int64_t installed_at = state_.installed.count(id) ? state_.installed.at(id).installed_at : now;
    if (inst.body.not_before > installed_at && inst.body.not_before > last_sweep_ && inst.body.not_before <= now)
      for (const auto& s : inst.subjects) became_valid.insert(s.key);
    if (!inst.body.max_uses) continue;
    const std::int64_t left = std::max<std::int64_t>(0, kernel_uses_left(inst));
    persist_uses(id, left);
    if (left == 0) used_up.push_back(id);
  }
  for (const auto& id : expired) uninstall(id, EventKind::ticket_expired, name(Reason::expired));
  for (const auto& id : used_up) spend(id, "all uses spent");
  for (const auto& key : became_valid) sync_entry_or_defer(key);
  last_sweep_ = now;
}

void TicketBook::last_use_seen(const std::string& id) {
  auto it = installed_.find(id);
  if (it != installed_.end() && it->second.body.max_uses && kernel_uses_left(it->second) <= 0)
    spend(id, "all uses spent: the exec that took the last one");
}

void TicketBook::drop_untrusted(const Authority& authority) {
  std::vector<std::string> gone;
  for (const auto& [id, inst] : installed_)
    if (!authority.issuer_for(inst.key_id)) gone.push_back(id);
  for (const auto& id : gone) uninstall(id, EventKind::ticket_revoked, name(RefusalReason::untrusted_issuer));
}

bool TicketBook::tracks_lineage() const {
  for (const auto& [id, inst] : installed_)
    if (inst.body.parent) return true;
  return false;
}

std::size_t TicketBook::expiring_within(std::int64_t within) const {
  const std::int64_t now = clock_.now();
  std::size_t n = 0;
  for (const auto& [id, inst] : installed_)
    if (inst.body.not_after > now && inst.body.not_after <= now + within) ++n;
  return n;
}

std::vector<std::string> TicketBook::forget_fleet_key(const std::string& key) {
  return forget_fleet_keys([&](const std::string& k) { return k == key; });
}

std::vector<std::string> TicketBook::forget_fleet_keys(const std::function<bool(const std::string&)>& gone) {
  std::vector<std::pair<std::string, std::string>> drop;  // id, key
  for (const auto& [id, inst] : installed_)
    if (!inst.fleet_key.empty() && gone(inst.fleet_key)) drop.emplace_back(id, inst.fleet_key);
  std::vector<std::string> ids;
  for (const auto& [id, key] : drop) {
    uninstall(id, EventKind::ticket_revoked, name(RecordReason::deleted), "its fleet key " + key + " is gone");
    ids.push_back(id);
  }
  return ids;
}

void TicketBook::set_fleet_flags(bool fleet_configured, bool suspend_local) {
  if (fleet_configured == fleet_configured_ && suspend_local == suspend_local_) return;
  fleet_configured_ = fleet_configured;
  suspend_local_ = suspend_local;
  for (const auto& [key, ids] : covering_) sync_entry_or_defer(key);  // it leaves covering_ as it is
}

std::string TicketBook::installed_digest() const {
  std::string lines;
  lines.reserve(installed_.size() * 82);
  for (const auto& [id, inst] : installed_) lines += id + " " + inst.envelope_sha256 + "\n";
  return envelope_digest(lines);
}

std::size_t TicketBook::fleet_size() const {
  std::size_t n = 0;
  for (const auto& [id, inst] : installed_) n += !inst.fleet_key.empty();
  return n;
}

json TicketBook::tickets_json() const {
  json a = json::array();
  for (const auto& [id, inst] : installed_) {
    json t{{"id", id},          {"issuer", inst.issuer},       {"key_id", inst.key_id},
           {"subjects", subjects_json(inst.subjects)},          {"not_before", inst.body.not_before},
           {"not_after", inst.body.not_after},                  {"max_uses", inst.body.max_uses},
           {"initiator", inst.body.initiator},                  {"purpose", inst.body.purpose}};
    t["fleet_key"] = inst.fleet_key.empty() ? json(nullptr) : json(inst.fleet_key);
    t["origin"] = origin_json(inst);
    t["uses_left"] = inst.body.max_uses ? json(std::max<std::int64_t>(0, kernel_uses_left(inst))) : json(nullptr);
    t["job"] = inst.body.job ? json(*inst.body.job) : json(nullptr);
    t["builder"] = inst.body.builder;
    a.push_back(std::move(t));
  }
  return a;
}

}  // namespace execgate
