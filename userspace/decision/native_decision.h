// The kernel's decision on a file about to run (bpf/lib/decision.h decide(): ticket, loader,
// baseline, nameless files), compiled natively and run over tables this class holds in
// place of the kernel's maps. `execgate policy simulate` and the unit tests judge with it:
// the code the kernel runs, not a second description of it (docs/gate.md "Decision on exec").
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "gate/gate_types.h"

namespace execgate {

// A file as the kernel sees it: its key (dev in the kernel's encoding, ino) and the inode
// fields the decision reads.
struct NativeFile {
  std::uint64_t dev = 0, ino = 0;
  std::int64_t ctime_sec = 0;
  std::uint32_t ctime_nsec = 0;
  std::uint32_t generation = 0;
  std::uint32_t owner = 0;
  std::uint32_t mode = 0100755;
  std::uint32_t nlink = 1;
  bool kernel_mount = false;  // memfd, SysV shm
  std::string name = "file";  // "#<ino>": an O_TMPFILE file
};

struct NativeVerdict {
  std::uint8_t reason = 0;  // EG_R_* (the kernel's code)
  bool allowed = false;
  bool has_ticket = false, pinned = false, per_exec = false, parent_bound = false, spent = false, last_use = false;
  TicketId ticket{};
  std::uint64_t job = 0;     // the job whose ticket entry or output decided
  std::uint32_t writer = 0;  // a job's output: the builder process that wrote it
};

class NativeDecision {
 public:
  void set_trust_root_owned(bool on) { root_owned_ = on; }
  // CLOCK_BOOTTIME as the decision reads it (bpf_ktime_get_boot_ns).
  void set_now(std::uint64_t boot_ns) { now_ = boot_ns; }
  // The daemon's fleet-silent flag (EG_C_FLEET_SILENT): fleet tickets allow nothing.
  void set_fleet_silent(bool silent) { fleet_silent_ = silent; }
  // The entry for FILE as the daemon installs it (kernel_values.h), with FILE's ctime and
  // generation as they are now: a later change is `stale`.
  void add_ticket(const NativeFile& file, KernelTicket ticket);
  void remove_ticket(const NativeFile& file);
  // Jobs (docs/gate.md "Jobs"): JOB (a cgroup id) is live; the asking task runs in job
  // `task_job` (0: none); a job-bound ticket's entry for FILE in JOB (the caller puts the
  // inode's own entry with add_ticket: has_jobs, and jobs_only when only jobs' tickets name
  // it); FILE written inside a job by a builder (OUTPUT: builder ticket, builder image, job).
  void add_live_job(std::uint64_t job) { live_jobs_.insert(job); }
  void set_task_job(std::uint64_t job) { task_job_ = job; }
  void add_job_ticket(const NativeFile& file, std::uint64_t job, KernelTicket ticket);
  void add_output(const NativeFile& file, const JobOutput& output);
  // FILE pinned as baseline as it is now.
  void pin_baseline(const NativeFile& file);
  // FILE is the dynamic loader (never allowed as a program by the baseline).
  void add_loader(const NativeFile& file);
  // The uses left on FILE's ticket (nullopt: none, or no use limit).
  std::optional<std::int64_t> uses_left(const NativeFile& file) const;

  // The decision on FILE run by UID. caller_image: the ticket of the image that asks (its
  // lineage), nullopt for none. consume: an exec (spends a use, judges lineage); else a
  // mapping. is_exec: the file runs as a program (the loader rule). estimate_ns: the exec
  // clock's estimate (0: the clock is read).
  NativeVerdict decide(const NativeFile& file, std::uint32_t uid, const std::optional<TicketId>& caller_image,
                       bool consume, bool is_exec, std::uint64_t estimate_ns = 0);
  // The decision on an executable mapping of FILE by UID (mmap_file, file_mprotect: no use
  // spent, no lineage judged; mapping_reason()). own_image: FILE is the image of the task
  // that maps it (the file of its last allowed exec).
  NativeVerdict decide_mapping(const NativeFile& file, std::uint32_t uid, bool own_image,
                               std::uint64_t estimate_ns = 0);

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;
  NativeVerdict run(const NativeFile& file, std::uint32_t uid, const std::optional<TicketId>& caller_image,
                    bool consume, bool is_exec, std::uint64_t estimate_ns, std::optional<bool> own_image);
  struct Tables;
  bool root_owned_ = false;
  bool fleet_silent_ = false;
  std::uint64_t now_ = 0;
  std::map<Key, std::vector<std::uint8_t>> tickets_, baseline_;  // the kernel's value bytes
  std::map<Key, bool> loaders_;
  std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, std::vector<std::uint8_t>> job_tickets_;
  std::map<Key, std::vector<std::uint8_t>> outputs_;
  std::set<std::uint64_t> live_jobs_;
  std::uint64_t task_job_ = 0;
  friend void* native_job_lookup(const void* key);
  friend bool native_jobs_live();
  friend std::uint64_t native_current_job();
  friend void* native_lookup(int table, std::uint64_t dev, std::uint64_t ino);
  friend bool native_fleet_silent();
};

}  // namespace execgate
