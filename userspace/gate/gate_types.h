// The gate's C++ values: what the daemon and the kernel gate exchange (tickets, baseline
// pins, the config, events, counters) and the limits of the kernel's maps. No libbpf, no
// kernel layout: bpf_gate.cpp converts these to and from bpf/execgate.h's structs and
// asserts that each limit and flag equals the kernel's.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "execgate/error.h"

namespace execgate {

inline constexpr std::size_t kMaxJobs = 1024;  // EG_MAX_JOBS: live jobs

// Limits of the kernel's entries and maps (bpf/execgate.h; bpf_gate.cpp asserts that
// each equals the kernel's).
inline constexpr std::size_t kTicketIdBytes = 16;         // EG_ID_LEN
inline constexpr std::size_t kMaxTicketUids = 8;          // EG_MAX_UIDS
inline constexpr std::size_t kMaxScopeSlots = 16;         // EG_MAX_SCOPES
inline constexpr std::size_t kMaxProtectedInodes = 1024;  // EG_MAX_PROTECTED
inline constexpr std::size_t kMaxReservedName = 31;       // EG_NAME_LEN - 1: a reserved name's bytes

// What the scope may not do to a protected inode (the flags of GateOps::set_protected;
// docs/gate.md "Protected names").
namespace protect {
inline constexpr std::uint8_t dir = 1;      // the daemon's directories: nothing written, created, linked, removed, renamed in them
inline constexpr std::uint8_t name = 2;     // the inode is not renamed, unlinked or removed (ancestors, helpers)
inline constexpr std::uint8_t content = 4;  // a file the gate or the kernel runs or trusts: not written or truncated
inline constexpr std::uint8_t secret = 8;   // not opened at all (the audit signing key, the state key)
inline constexpr std::uint8_t launcher = 16;  // a launcher program: a launcher that execs it stays one until its next exec
}  // namespace protect

// The exec path's clock: estimated from jiffies (tick_nsec != 0 and the kernel took a
// base), or read from the clocksource on every ticket check.
struct ExecClock {
  std::uint64_t tick_nsec = 0;
  bool calibrated = false;
  std::uint32_t drift_ms = 0;  // the error for which a check last dropped the base (0: none)
  // The checks' cadence (every 100 ms meant): the longest gap between two, and how many
  // came later than kLateClockCheckMs after the one before.
  std::uint32_t max_check_gap_ms = 0;
  std::uint64_t late_checks = 0;
};
// A clock check later than this after the previous one is counted late (docs/gate.md's
// error bound assumes checks every 100 ms).
inline constexpr std::uint32_t kLateClockCheckMs = 300;

struct GateCounters {
  std::uint64_t allowed = 0, denied = 0, monitor_denied = 0, ringbuf_drops = 0, events = 0;
};

struct InodeKey {
  std::uint64_t dev = 0;  // kernel s_dev encoding
  std::uint64_t ino = 0;
  auto operator<=>(const InodeKey&) const = default;
};

// Thrown when the kernel cannot enforce (no BPF-LSM, load refused): the message says
// what to do about it.
class GateUnavailable : public Error {
 public:
  explicit GateUnavailable(std::string msg) : Error(ErrorKind::kernel, std::move(msg)) {}
};

// A ticket id as the kernel keeps it (16 bytes); hex_id() gives the 32 hex digits.
using TicketId = std::array<std::uint8_t, kTicketIdBytes>;
std::string hex_id(const TicketId& id);
TicketId ticket_id(const std::string& hex);  // 32 hex digits (anything else: zeros)

// One entry of the kernel's ticket map as a C++ value (the gate converts it to and from
// struct eg_ticket, bpf/execgate.h).
struct KernelTicket {
  TicketId id{};
  std::optional<TicketId> parent;                     // lineage: the parent image's ticket
  std::uint64_t not_before_ns = 0, not_after_ns = 0;  // on CLOCK_BOOTTIME
  std::int64_t ctime_sec = 0;                         // the inode's change time when sealed
  std::uint32_t ctime_nsec = 0;
  std::optional<std::int64_t> uses_left;  // max_uses tickets: the kernel's count
  std::vector<std::uint32_t> uids;        // empty: any uid (at most kMaxTicketUids)
  bool pending = false;                   // being sealed: no exec, no writer (EG_TF_PENDING)
  bool probed = false;                    // kernel-written: the daemon's sealing open was seen
  std::int32_t writers = 0;               // kernel-written: writers at that open
  std::uint32_t generation = 0;           // i_generation at that open
  bool fleet = false;                     // from the fleet: nothing while it is silent (EG_TF_FLEET)
  bool builder = false;                   // its subjects are builders: what they write in a job is its output
  // Jobs (docs/gate.md "Jobs"): the inode's entry says jobs' tickets name it too (their
  // entries are by inode and job), and, with jobs_only, that it is only their anchor.
  bool has_jobs = false, jobs_only = false;
  bool operator==(const KernelTicket&) const = default;
};

// A baseline file as pinned: its change time when the daemon pinned it.
struct BaselineFile {
  std::int64_t ctime_sec = 0;
  std::uint32_t ctime_nsec = 0;
  bool operator==(const BaselineFile&) const = default;
};

// One decision of the kernel, read from the ring buffer, in the audit log's words
// (docs/audit.md): event ("exec" for whether code runs, "access" for any other operation),
// hook, verdict, reason.
struct GateEvent {
  std::uint64_t boot_ns = 0;  // when the kernel decided (CLOCK_BOOTTIME)
  std::uint64_t dev = 0, ino = 0, cgroup_id = 0;
  std::uint32_t pid = 0, ppid = 0, uid = 0;
  std::string event, hook, verdict, reason;
  std::optional<TicketId> ticket;       // the ticket that decided (allow) or was found (deny)
  std::optional<TicketId> proc_ticket;  // the ticket of the image that called exec (lineage)
  std::string comm, path;               // path: "" when the kernel had none to give
  std::optional<int> capability;        // hook "capable": the capability refused
  std::optional<std::uint32_t> arg;     // other refusals: what was refused (a signal, an ioctl command, a mode)
  bool last_use = false;                // an allowed exec that took its ticket's last use
  std::uint64_t job = 0;                // the job (cgroup id) whose ticket or output decided
  std::uint32_t writer = 0;             // an exec of a job's output: the builder process that wrote it
};

// A file a builder wrote inside a job, as the kernel keeps it (docs/gate.md "Jobs").
struct JobOutput {
  InodeKey file;
  TicketId builder_ticket{};
  InodeKey builder;
  std::uint64_t job = 0;
  std::uint32_t writer = 0;
  bool operator==(const JobOutput&) const = default;
};

// A cgroup v2 directory as the kernel names it: its id (the kernfs node id, which is the
// directory's inode number) and its level (depth below the hierarchy's root, level 0).
struct CgroupRef {
  std::uint64_t id = 0;
  std::uint32_t level = 0;
  bool operator==(const CgroupRef&) const = default;
};

// What the kernel enforces: the policy as the daemon applies it.
struct GateConfig {
  bool monitor = false;              // record refusals, refuse nothing
  bool scope_host = false;           // every task is in scope
  bool baseline_root_owned = false;  // the baseline's trust: only files no one but root can write
  bool audit_required = false;       // deny an exec whose event cannot be reserved
  std::uint64_t wakeup_bytes = 0;    // wake the reader once this much is pending per CPU (at least one event)
  bool track_lineage = false;        // record which ticket authorized each task's image
  std::vector<CgroupRef> scopes;     // the scope cgroups by slot (id 0: an empty slot), at most kMaxScopeSlots
  std::uint32_t daemon_tgid = 0;     // execgated: its read opens probe pending tickets; the posture never judges it
  std::uint64_t caps_allowed = 0;    // the scope's capabilities (bit 1 << CAP_*); the rest are refused
  bool allow_mount = false, allow_userns = false, allow_module_request = false,
       allow_block_read = false;  // beyond the default posture
  std::uint64_t posture_since_ns = 0;  // CLOCK_MONOTONIC when the scopes were set (launchers start after it)
  bool operator==(const GateConfig&) const = default;
};

}  // namespace execgate
