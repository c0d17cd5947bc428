// A fake of the kernel gate (GateOps, userspace/gate/gate_ops.h) for unit tests and the
// fleet bench: the daemon's logic runs on it with no kernel. It keeps what the kernel keeps
// as plain containers (tests read and seed them), does what the kernel does by itself
// (marks a pending entry probed at the daemon's sealing open, takes a use at an exec,
// queues the exec's event), records every call it is told in order, and injects the
// failures the real gate can have:
//   fail_on(op, n)      the nth call of op from now fails: Error(ErrorKind::kernel) thrown
//                       (bpf_gate.cpp's check()), delete_ticket answering false with the
//                       entry kept (bpf_map__delete_elem refused); nothing changes
//   fail_always(op)     every call of op fails, until clear_failures()
//   set_capacity(m, n)  map m holds n entries: a new key beyond fails like a full BPF map
//                       (E2BIG), after the entries that fit (the real gate writes one by one)
//   before/after(op, fn, n)  fn runs once at the nth call of op: another operation
//                       interleaved at that very moment (the race tests)
// Thread-safe for one daemon's threads (the event thread polls while the control thread
// installs); hooks and event callbacks run without its lock. The public containers are for
// a test's own thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "execgate/names.h"
#include "gate/gate_ops.h"

namespace execgate::test {

// The operations the fake logs and can fail (the reads that cannot fail in the real gate,
// get_ticket, tickets, scope_written, counters, exec_clock, are neither).
enum class GateOp {
  put_ticket,
  delete_ticket,
  set_config,
  config,
  set_audit_stalled,
  set_fleet_silent,
  set_loaders,
  set_protected,
  set_reserved_names,
  put_baseline,
  set_baseline_dirs,
  prune_baseline,
  poll_events,
  start_exec_clock,
  check_exec_clock,
};
std::string_view op_name(GateOp op);
// GoogleTest prints a GateOp by its name.
inline void PrintTo(GateOp op, std::ostream* os) { *os << op_name(op); }

// The kernel's maps that can be full.
enum class GateMap { tickets, baseline, baseline_dirs, protected_inodes, reserved_names, loaders };

// One call the fake was told.
struct GateCall {
  GateOp op = GateOp::put_ticket;
  std::optional<InodeKey> key;  // put_ticket, delete_ticket, put_baseline
  std::string detail;           // put_ticket: "<id> pending|sealed"; set_config: "monitor=0 scopes=..."; sizes
  bool failed = false;          // injected, or a full map
  std::string text() const;     // "put_ticket 8:1/4242 <id> sealed" (+ " FAILED")
};

class FakeGate final : public GateOps {
 public:
  // --- GateOps
  void put_ticket(const InodeKey& key, const KernelTicket& value) override;
  bool delete_ticket(const InodeKey& key) override;
  std::optional<KernelTicket> get_ticket(const InodeKey& key) const override;
  std::vector<std::pair<InodeKey, KernelTicket>> tickets() const override;
  void put_job_ticket(const InodeKey& key, std::uint64_t job, const KernelTicket& value) override;
  bool delete_job_ticket(const InodeKey& key, std::uint64_t job) override;
  std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> job_tickets() const override;
  void add_job(std::uint64_t cgroup_id) override;
  void remove_job(std::uint64_t cgroup_id) override;
  std::vector<std::uint64_t> jobs() const override;
  std::vector<JobOutput> job_outputs() const override;
  void set_config(const GateConfig& cfg) override;
  GateConfig config() const override;
  void set_audit_stalled(bool stalled) override;
  void set_fleet_silent(bool silent) override;
  void set_loaders(const std::vector<InodeKey>& keys) override;
  void set_protected(const std::map<InodeKey, std::uint8_t>& entries) override;
  void set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names) override;
  void put_baseline(const InodeKey& key, const BaselineFile& value) override;
  void set_baseline_dirs(const std::set<InodeKey>& dirs) override;
  std::optional<std::uint32_t> scope_written(const InodeKey& key) const override;
  void prune_baseline(const std::vector<InodeKey>& keep) override;
  GateCounters counters() const override;
  std::size_t attached_programs() const override { return programs; }
  bool programs_kept() const override { return kept_programs; }
  ExecClock exec_clock() const override;
  void start_exec_clock() override;
  std::optional<std::uint32_t> check_exec_clock() override;
  int poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb) override;

  // --- what the kernel holds
  std::map<InodeKey, KernelTicket> entries;  // the ticket map
  std::map<std::pair<InodeKey, std::uint64_t>, KernelTicket> job_entries;  // by inode and job
  std::set<std::uint64_t> live_jobs;
  std::vector<JobOutput> outputs;  // seeded by tests (the kernel writes them)
  std::map<InodeKey, BaselineFile> baseline;
  std::set<InodeKey> baseline_dirs;
  std::map<InodeKey, std::uint8_t> protected_inodes;
  std::set<std::pair<InodeKey, std::string>> reserved_names;
  std::set<InodeKey> loaders;
  GateConfig kernel_config;
  bool audit_stalled = false;
  bool fleet_silent = false;
  std::map<InodeKey, std::uint32_t> scope_marks;  // scope_written: the generation marked
  GateCounters gate_counters;
  ExecClock clock_state;
  std::optional<std::uint32_t> clock_error_ms;  // what the next check_exec_clock() reports
  std::size_t programs = 40;
  bool kept_programs = false;
  std::deque<GateEvent> events;  // the ring buffer: poll_events drains it

  // --- what the kernel does by itself
  // The daemon's sealing open of a file with a pending entry: the entry is marked probed,
  // with the writers the file had then (writers_at_open, default none). Off: the kernel
  // never sees the open (the daemon outside the initial PID namespace).
  bool probe_pending = true;
  std::map<InodeKey, std::int32_t> writers_at_open;
  // The kernel's CLOCK_BOOTTIME in ns, for judging validity windows; unset: not judged.
  std::function<std::uint64_t()> boot_clock;
  // An exec of the file as the kernel judges it by its ticket entry (pending, validity,
  // uses; no baseline): an allowed one takes a use. The event is queued for poll_events
  // (last_use set when it took the entry's last one) and returned.
  GateEvent exec(const InodeKey& key, std::uint32_t uid = 0);
  // The reason the kernel would give an exec of the file now ("ticket": allowed), no use taken.
  std::string exec_reason(const InodeKey& key) const;
  bool allows_exec(const InodeKey& key) const { return exec_reason(key) == name(Reason::ticket); }
  // The same for a task of job JOB (a cgroup id, 0: none): the inode's own entry unless it
  // is only the anchor of jobs' entries, else the job's entry (lib/decision.h).
  std::string job_exec_reason(const InodeKey& key, std::uint64_t job) const;

  // --- the call log
  bool record_calls = true;  // off: nothing logged (a bench)
  std::vector<GateCall> calls;
  std::vector<std::string> log() const;
  // Index in calls of the first / last call of op (on key when given); nullopt: none.
  std::optional<std::size_t> first(GateOp op, std::optional<InodeKey> key = std::nullopt) const;
  std::optional<std::size_t> last(GateOp op, std::optional<InodeKey> key = std::nullopt) const;
  std::size_t count(GateOp op) const;
  // Runs after every call that took effect (a test asserts an invariant at each step).
  std::function<void(const GateCall&)> on_call;

  // --- failures and interleavings
  void fail_on(GateOp op, int nth = 1);
  void fail_next(GateOp op) { fail_on(op, 1); }
  void fail_always(GateOp op);
  void clear_failures();
  void set_capacity(GateMap map, std::size_t max_entries);
  void before(GateOp op, std::function<void()> fn, int nth = 1);
  void after(GateOp op, std::function<void()> fn, int nth = 1);

 private:
  struct Fault {
    GateOp op;
    int countdown;  // 0: always
  };
  struct Hook {
    GateOp op;
    int countdown;
    bool before;
    std::function<void()> fn;
  };
  struct Entered {
    bool injected = false;
    std::optional<std::size_t> index;  // in calls
  };
  // A call begins: its before-hooks run, then it is logged and told whether it fails.
  Entered enter(GateOp op, std::optional<InodeKey> key, std::string detail);
  // A call took effect: the observer, then its after-hooks.
  void leave(GateOp op, const Entered& e);
  void run_hooks(GateOp op, bool before);
  void mark_failed(const Entered& e);
  [[noreturn]] void throw_injected(GateOp op) const;
  [[noreturn]] void throw_full(GateMap map) const;
  std::size_t capacity(GateMap map) const;
  // Adds every entry (a new key beyond the capacity throws, those before it stay), then
  // removes the keys not in want: how the real gate updates an inode set.
  template <typename Map>
  void replace_set(Map& current, const Map& want, GateMap map, const Entered& e);
  // One word of the state page (audit stalled, fleet silent) set, as the operation OP.
  void set_word(GateOp op, bool& word, bool value, const std::string& detail);

  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  std::vector<Hook> hooks_;
  std::map<GateMap, std::size_t> capacity_;
};

}  // namespace execgate::test
