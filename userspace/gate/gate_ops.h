// The kernel gate as the daemon uses it: its domain operations (tickets, baseline pins,
// scopes and the config, protected inodes, events, counters, the exec clock, the audit
// stall word), in C++ values only. Gate (gate.h) implements them over the pinned BPF maps;
// unit tests and the fleet bench run the daemon's logic on a FakeGate
// (tests/support/fake_gate.h). Nothing here knows libbpf or the kernel's layouts.
//
// Failures: an operation the kernel refuses throws Error(ErrorKind::kernel) naming the map
// (a full map included); delete_ticket alone answers false instead (nothing removed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gate/gate_types.h"

namespace execgate {

// The kernel's ticket map, keyed by inode: the narrow port through which the ticket book
// and the sealing of a ticket's files reach the kernel.
class TicketMap {
 public:
  virtual ~TicketMap() = default;
  virtual void put_ticket(const InodeKey& key, const KernelTicket& value) = 0;
  // False when no entry was removed (none there, or the kernel refused).
  virtual bool delete_ticket(const InodeKey& key) = 0;
  virtual std::optional<KernelTicket> get_ticket(const InodeKey& key) const = 0;
  virtual std::vector<std::pair<InodeKey, KernelTicket>> tickets() const = 0;
  // Job-bound tickets' entries, by inode and job (the job's cgroup id): valid only for tasks
  // in that job, and looked up only when the inode's entry has has_jobs.
  virtual void put_job_ticket(const InodeKey& key, std::uint64_t job, const KernelTicket& value) = 0;
  virtual bool delete_job_ticket(const InodeKey& key, std::uint64_t job) = 0;
  virtual std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> job_tickets() const = 0;
};

class GateOps : public TicketMap {
 public:
  // --- scopes and the config
  // The whole config, scope slots included (the gate stamps its kernel ABI on it).
  virtual void set_config(const GateConfig& cfg) = 0;
  virtual GateConfig config() const = 0;
  // Whether the daemon can make audit records durable (false: the disk is full). With
  // [audit] required the kernel then denies execs in the scope (audit_unavailable).
  // A word of the counters page, apart from the config; safe from any thread.
  virtual void set_audit_stalled(bool stalled) = 0;
  // No confirmed contact with the fleet's etcd for max_silence: the kernel then denies
  // every ticket entry from the fleet (fleet_silent). The same page's next word.
  virtual void set_fleet_silent(bool silent) = 0;

  // --- what the scope may not touch, and who loads programs
  virtual void set_loaders(const std::vector<InodeKey>& keys) = 0;
  // What the scope may not do to each inode (protect:: flags): the daemon's directories,
  // their ancestors, execgated and the kernel's helper programs. Add-then-prune.
  virtual void set_protected(const std::map<InodeKey, std::uint8_t>& entries) = 0;
  // Names the scope may not create: (directory, name) pairs (kMaxReservedName bytes at most).
  virtual void set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names) = 0;

  // --- jobs (docs/gate.md "Jobs"): the live jobs by cgroup id; the kernel counts them
  // (EG_C_JOBS: none, and no task pays for a job lookup). Removing a job drops its outputs.
  virtual void add_job(std::uint64_t cgroup_id) = 0;
  virtual void remove_job(std::uint64_t cgroup_id) = 0;
  virtual std::vector<std::uint64_t> jobs() const = 0;
  // The files builders wrote inside jobs (kernel-written).
  virtual std::vector<JobOutput> job_outputs() const = 0;

  // --- the baseline
  virtual void put_baseline(const InodeKey& key, const BaselineFile& value) = 0;
  // The directories of the baseline's paths (the scope adds no name to them). Add-then-prune.
  virtual void set_baseline_dirs(const std::set<InodeKey>& dirs) = 0;
  // The inode generation the kernel marked when a task in the scope created, wrote or
  // renamed this file (docs/gate.md "Files the scope wrote"); nullopt when it is not marked.
  virtual std::optional<std::uint32_t> scope_written(const InodeKey& key) const = 0;
  // Removes every baseline entry whose key is not in keep (sorted).
  virtual void prune_baseline(const std::vector<InodeKey>& keep) = 0;

  // --- what the gate counts and how it runs
  virtual GateCounters counters() const = 0;
  virtual std::size_t attached_programs() const = 0;
  // True when the programs found pinned were kept (a restart of the same build); false
  // when they were loaded.
  virtual bool programs_kept() const = 0;
  virtual ExecClock exec_clock() const = 0;
  // Takes the exec clock's first base; call it when check_exec_clock() starts running
  // every 100 ms.
  virtual void start_exec_clock() = 0;
  // Compares the exec clock's estimate with the clock; when it is off by more than the
  // kernel's bound the base is dropped (execs read the clock) and this returns the error
  // in ms. Meant to run every 100 ms.
  virtual std::optional<std::uint32_t> check_exec_clock() = 0;

  // --- events
  // Drains available events into cb; waits up to timeout_ms for a wakeup first.
  // Returns the number consumed. Events submitted without a wakeup are still drained.
  virtual int poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb) = 0;
};

}  // namespace execgate
