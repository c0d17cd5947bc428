// The ticket book: the installed tickets and what the kernel holds for them. Which ticket
// holds each inode (ticket_rank.h), uses and their spending, expiry, revocation, issuers
// that went away, and the reconciliation of the state directory with the kernel at start.
// Pure logic over its ports: the kernel's ticket map (TicketMap, userspace/gate), the state
// directory (StateStore), the clock, a subject resolver and an audit sink; unit-tested
// against fakes (tests/unit/daemon_ticket_book_test.cpp). Not thread-safe: the daemon
// calls it under its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "authority.h"
#include "execgate/clock.h"
#include "execgate/names.h"
#include "gate/gate_ops.h"
#include "gate/kernel_facts.h"
#include "state_store.h"
#include "gate/sealing.h"

namespace execgate {

struct InstalledTicket {
  TicketBody body;
  std::string envelope;
  std::string issuer;  // issuer name
  std::string key_id;  // the policy issuer's key (a delegated ticket's: its chain's root)
  std::vector<ResolvedSubject> subjects;
  std::optional<std::int64_t> uses_left;  // max_uses tickets: last count the daemon saw
  std::string fleet_key;                  // the fleet key it came from; "" = submitted here
  std::string envelope_sha256;            // set by the book: its part of installed_digest()
  std::uint64_t job_cgroup = 0;           // a job-bound ticket: its job's cgroup id (set by the book)
};

class TicketBook {
 public:
  using Resolver = std::function<Resolution(const TicketBody&)>;
  using AuditSink = std::function<void(nlohmann::json)>;

  TicketBook(TicketMap& kernel, StateStore& store, const Clock& clock, Resolver resolve, AuditSink audit);

  // Start: takes the state directory's snapshot (already checked against the audit log)
  // and reconciles it with the kernel both ways. Records that are revoked or spent are
  // removed; the others are re-verified (authority), re-resolved and installed; a ticket
  // whose last use the kernel counted while no daemon read it is spent; kernel entries
  // nothing backs are removed (audited `unbacked`).
  void load(StateSnapshot state, const Authority& authority);

  // A submission: the reply when it is answered here (a refusal, a revocation, a ticket
  // already installed), else the judgement of a ticket to resolve and install. The daemon
  // resolves outside its lock, then judges again before install() (what changed meanwhile
  // decides).
  std::variant<Judgement, nlohmann::json> judge(const std::string& envelope, const std::string& source,
                                                const Authority& authority);
  // Installs a judged ticket whose subjects were resolved: the reply. fleet_key: the fleet
  // key it came from ("" = submitted on this host).
  nlohmann::json install(const Judgement& j, const std::string& envelope, const std::vector<ResolvedSubject>& subjects,
                         const std::string& fleet_key = "");
  // The fleet key KEY was deleted: the tickets that came from it are uninstalled
  // (ticket_revoked, reason deleted). Deletion only narrows. Their ids.
  std::vector<std::string> forget_fleet_key(const std::string& key);
  // The same for every fleet ticket whose key GONE says is gone (a prefix changed, the
  // fleet removed from the policy).
  std::vector<std::string> forget_fleet_keys(const std::function<bool(const std::string&)>& gone);
  // Which kernel entries carry the fleet flag (EG_TF_FLEET: nothing while the fleet is
  // silent): the fleet's tickets, and with suspend_local every ticket. Entries follow.
  void set_fleet_flags(bool fleet_configured, bool suspend_local);
  // The installed set as an acknowledgement names it: SHA-256 (hex) over the sorted lines
  // "<id> <sha256 of its envelope>\n"; and how many came from the fleet.
  std::string installed_digest() const;
  std::size_t fleet_size() const;
  // A refusal after the judgement (the resolver's): audited; the reply.
  nlohmann::json refuse(const Judgement& j, const Refusal& r, const std::string& source);
  // Removes the pending kernel entries a resolution left for ticket `id` (not installed);
  // an inode an installed ticket covers (this very ticket, installed meanwhile) gets that
  // ticket's entry back instead.
  void release_pending(const std::string& id, const std::vector<ResolvedSubject>& subjects);

  // Every second: expired tickets go, used-up ones are spent, uses are persisted, a ticket
  // that became valid takes the inodes it outranks, and the inodes whose kernel entry a
  // failure left allowing nothing get their entry again.
  void sweep();
  // The exec that took an entry's last use was seen: spends the ticket when none of its
  // entries has a use left.
  void last_use_seen(const std::string& id);
  // A new set of issuers (SIGHUP): tickets whose issuer is gone are uninstalled.
  void drop_untrusted(const Authority& authority);

  bool tracks_lineage() const;  // some installed ticket names a parent
  const StateSnapshot& state() const { return state_; }
  std::size_t size() const { return installed_.size(); }
  // Installed tickets whose not_after lies in (now, now + within].
  std::size_t expiring_within(std::int64_t within) const;
  nlohmann::json tickets_json() const;

  // The job JOB ends (docs/gate.md "Jobs"): every ticket bound to it is uninstalled
  // (ticket_revoked, reason job_ended). Their ids.
  std::vector<std::string> end_job(const std::string& job);

  // The cgroup id of live job JOB on this host; nullopt when it is not running. A ticket
  // naming a job that is not running is refused (wrong_job), at submit and at start.
  std::function<std::optional<std::uint64_t>(const std::string&)> job_cgroup =
      [](const std::string&) -> std::optional<std::uint64_t> { return std::nullopt; };
  // Called when a ticket is installed (not at start-up), before its kernel entries go in.
  std::function<void(const std::string&)> on_install = [](const std::string&) {};
  // Every ticket installed (at start too): where its authorization comes from (issuer,
  // delegations, ticket), for the exec records that name it.
  std::function<void(const std::string&, const nlohmann::json&)> on_origin = [](const std::string&,
                                                                                const nlohmann::json&) {};
  // Called when lineage tracking must change (a ticket naming a parent came or went).
  std::function<void()> on_lineage_change = [] {};
  // The event recorder's index of ticketed paths and its hit counts follow these, one
  // ticket at a time (never a walk over every installed ticket):
  // each subject of a ticket installed or loaded at start, before its kernel entries go in
  // (exec events may follow at once);
  std::function<void(const InodeKey&, const std::string&)> on_subject_added = [](const InodeKey&,
                                                                                 const std::string&) {};
  // a ticket no longer installed, after its entries went: its id, and the inodes that no
  // installed ticket covers any more.
  std::function<void(const std::string&, const std::vector<InodeKey>&)> on_removed =
      [](const std::string&, const std::vector<InodeKey>&) {};

 private:
  void audit_ticket(EventKind event, const std::string& id, std::string_view reason,
                    nlohmann::json extra = nlohmann::json::object());
  void put(const std::string& id, InstalledTicket inst);
  void uninstall(const std::string& id, EventKind event, std::string_view reason, const std::string& detail = "");
  void spend(const std::string& id, const std::string& detail);
  nlohmann::json revoke(const VerifiedDocument& doc, const std::string& issuer);
  // The installed tickets whose delegation chain holds this delegation id.
  std::vector<std::string> issued_under(const std::string& delegation_id) const;
  // Gives the kernel entry of `key` to the installed ticket that outranks the others
  // covering it, or removes it. When the kernel refuses, the entry is made one that allows
  // nothing (fail_closed) and the error is thrown on.
  void sync_entry(const InodeKey& key);
  // The same, a kernel failure logged rather than thrown: the inode allows nothing until
  // the next sweep gives it its entry (revocations, expiry, spending never stop halfway).
  void sync_entry_or_defer(const InodeKey& key);
  void write_entry(const InodeKey& key);
  // The entry of `key` made one that allows nothing: removed, else (the kernel keeps it)
  // overwritten with an entry that expired at boot; a pending entry stays (it allows no
  // exec). The uses the kernel counted are kept; the next sweep syncs the inode again.
  void fail_closed(const InodeKey& key);
  // A ticket whose entry is leaving `cur` keeps the uses the kernel counted on it.
  void keep_kernel_count(const KernelTicket& cur);
  // An install the kernel refused, undone: neither installed nor recorded, its inodes
  // given back to the tickets that still cover them (its pending entries removed).
  void withdraw(const std::string& id);
  void persist_uses(const std::string& id, std::int64_t left);
  // The uses left the kernel's entries of ticket `id` on `subjects` count: the highest (a
  // pending entry holds none); nullopt when the kernel holds no entry of it.
  std::optional<std::int64_t> kernel_count(const std::string& id, const std::vector<ResolvedSubject>& subjects) const;
  // The kernel's count, else the last one the daemon saw.
  std::int64_t kernel_uses_left(const InstalledTicket& inst) const;
  // A limited ticket used up or gone: its envelope's digest is kept (state directory first)
  // so that it is never installed again. Once per ticket.
  void mark_spent(const std::string& id, const std::string& envelope);

  // ---- load() ----
  // One installed record at start-up: installed again, or removed with the reason audited
  // (the entries of a ticket found spent are added to `released`).
  void restore(const std::string& id, const InstalledRecord& rec, const Authority& authority,
               std::set<InodeKey>& released);
  // Why a record is not installed again, known before its ticket is read: not written by
  // this host's execgated, revoked or spent, or no longer verifying (authority); nullopt
  // when none of these.
  std::optional<Refusal> refusal_at_start(const std::string& id, const InstalledRecord& rec,
                                          const Authority& authority) const;
  // A record not installed again: removed, and its refusal audited.
  void drop_at_start(const std::string& id, const Refusal& why);
  // The uses a limited ticket has left at start-up. The kernel's count is authoritative
  // while the pinned map survives (a pending entry, the resolution's own after a reboot,
  // holds none): the lower of it and the record's; the record's alone when the kernel
  // holds no count.
  std::optional<std::int64_t> uses_left_at_start(const std::string& id, const InstalledTicket& inst) const;
  // Kernel entries with no installed ticket behind them go (audited `unbacked`, except the
  // `released` entries of tickets spent at start-up); every covered inode gets the entry of
  // the ticket that outranks the others (the same rule as install and uninstall).
  void reconcile_kernel(const std::set<InodeKey>& released);
  // installed_ and the index of who covers each inode change together
  const InstalledTicket& add_installed(const std::string& id, InstalledTicket inst);
  // Removes the ticket from installed_ and the cover index; the inodes it alone covered
  // are added to uncovered.
  InstalledTicket take_installed(std::map<std::string, InstalledTicket>::iterator it,
                                 std::vector<InodeKey>& uncovered);

  TicketMap& kernel_;
  StateStore& store_;
  const Clock& clock_;
  Resolver resolve_;
  AuditSink audit_;
  StateSnapshot state_;                               // tombstones, spent, installed records
  std::map<std::string, InstalledTicket> installed_;  // by ticket id
  std::map<InodeKey, std::set<std::string>> covering_;  // inode -> ids of the installed tickets naming it
  std::set<InodeKey> resync_;  // inodes failed closed (fail_closed): synced again by sweep()
  // the job entries written for each inode (by job cgroup id), as last written
  std::map<InodeKey, std::map<std::uint64_t, KernelTicket>> job_entries_;
  std::int64_t last_sweep_ = 0;
  bool fleet_configured_ = false, suspend_local_ = false;
};

// The JSON the daemon prints for resolved subjects.
nlohmann::json subjects_json(const std::vector<ResolvedSubject>& subjects);

}  // namespace execgate
