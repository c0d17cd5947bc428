// Kernel events to audit records (docs/audit.md): the event thread's only job. It never
// waits for the daemon's lock: the paths it names files by and the tickets whose last use
// it saw have locks of their own.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "gate/gate_types.h"
#include "gate/kernel_facts.h"
#include "execgate/policy.h"
#include "metrics.h"

namespace execgate {

class EventRecorder {
 public:
  using AuditSink = std::function<void(nlohmann::json)>;
  // CLOCK_BOOTTIME in ns, the kernel's event clock (the audit lag is measured on it).
  using BootClock = std::function<std::uint64_t()>;
  explicit EventRecorder(AuditSink audit, BootClock boot_ns = nullptr);

  // One kernel event -> one `exec` or `access` record. An exec that took a ticket's last
  // use is remembered for take_last_uses().
  void record(const GateEvent& ev);
  // The tickets whose last use was seen since the last call (the control thread spends them).
  std::set<std::string> take_last_uses();

  // Paths of the files the daemon installed or pinned, by (dev, ino): the kernel leaves
  // the path out of events it allowed through them.
  void add_ticket_path(const InodeKey& key, const std::string& path);
  // Where an installed ticket's authorization comes from (issuer, delegations, ticket):
  // named by every exec record of that ticket as `origin`; dropped by forget_ticket.
  void set_origin(const std::string& id, nlohmann::json origin);
  void set_baseline_paths(std::map<InodeKey, std::string> paths);
  // The job a cgroup id names ("" for none): a record decided by a job's ticket or output
  // names it (`job`); an exec of a job's output names its lineage (`output`: the builder
  // ticket, the process that wrote it, the job). Set once, before events flow.
  void set_job_names(std::function<std::string(std::uint64_t)> names) { job_names_ = std::move(names); }

  // What the recorder counted since it was made: decisions by event, verdict and reason,
  // and the audit lag (kernel decision to audit append).
  struct Counts {
    std::map<DecisionKey, std::uint64_t> decisions;
    LagHistogram audit_lag;
  };
  Counts counts() const;

  // Uses per installed ticket: seeded at start from the audit log; a ticket installed
  // counts from 0 (reset_hits before its kernel entries go in); a ticket no longer
  // installed is dropped, with the paths of the inodes it alone covered (forget_ticket).
  // Only tickets in the map are counted.
  void seed_hits(std::map<std::string, TicketHits> hits);
  void reset_hits(const std::string& id, std::int64_t since);
  void forget_ticket(const std::string& id, const std::vector<InodeKey>& uncovered);
  std::map<std::string, TicketHits> hits() const;

 private:
  std::string known_path(const InodeKey& key) const;

  AuditSink audit_;
  BootClock boot_ns_;
  mutable std::mutex counts_mu_;
  Counts counts_;
  std::map<std::string, TicketHits> hits_;
  mutable std::mutex paths_mu_;
  std::map<InodeKey, std::string> ticket_paths_, baseline_paths_;
  std::map<std::string, nlohmann::json> origins_;
  std::function<std::string(std::uint64_t)> job_names_ = [](std::uint64_t) { return std::string(); };
  std::mutex last_use_mu_;
  std::set<std::string> last_use_;
};

}  // namespace execgate
