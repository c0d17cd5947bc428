// The kernel gate: loads, attaches and pins the BPF-LSM programs and maps, and gives
// typed access to the maps. One Gate per daemon; every fd, link and ring buffer it
// holds is released by its destructor. Pinned links keep enforcing after the daemon dies.
// Everything here speaks C++ values (GateConfig, KernelTicket, BaselineFile, GateEvent):
// the kernel's layouts (bpf/execgate.h) are bpf_gate.cpp's alone.
#pragma once

#include "execgate/defaults.h"

#include <array>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <set>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "execgate/error.h"

namespace execgate {

// Limits of the kernel's entries and maps (bpf/execgate.h; bpf_gate.cpp asserts that
// each equals the kernel's).
inline constexpr std::size_t kTicketIdBytes = 16;         // EG_ID_LEN
inline constexpr std::size_t kMaxTicketUids = 8;          // EG_MAX_UIDS
inline constexpr std::size_t kMaxScopeSlots = 16;         // EG_MAX_SCOPES
inline constexpr std::size_t kMaxProtectedInodes = 1024;  // EG_MAX_PROTECTED
inline constexpr std::size_t kMaxReservedName = 31;       // EG_NAME_LEN - 1: a reserved name's bytes

// What the scope may not do to a protected inode (the flags of Gate::set_protected;
// docs/gate.md "Protected names").
namespace protect {
inline constexpr std::uint8_t dir = 1;      // the daemon's directories: nothing written, created, linked, removed, renamed in them
inline constexpr std::uint8_t name = 2;     // the inode is not renamed, unlinked or removed (ancestors, helpers)
inline constexpr std::uint8_t content = 4;  // a file the gate or the kernel runs or trusts: not written or truncated
inline constexpr std::uint8_t secret = 8;   // not opened at all (the audit signing key, the state key)
inline constexpr std::uint8_t launcher = 16;  // a launcher program: a launcher that execs it stays one until its next exec
}  // namespace protect


struct GateOptions {
  std::string pin_dir = kDefaultPinDir;
  std::uint32_t ringbuf_bytes = 4u << 20;
  // The running kernel's TICK_NSEC (tick_nsec(running_kernel_hz())): the exec path then
  // judges ticket validity on jiffies and reads the clock only near a bound. 0: it reads
  // the clock on every check (docs/gate.md, "Exec clock").
  std::uint64_t tick_nsec = 0;
};

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

// CONFIG_HZ from a kernel config ("CONFIG_HZ=250"); nullopt when absent or not a number
// a kernel would have.
std::optional<unsigned> config_hz(std::istream& config);
// The running kernel's CONFIG_HZ: /proc/config.gz, else /boot/config-$(uname -r).
std::optional<unsigned> running_kernel_hz();
// The kernel's TICK_NSEC for HZ.
std::uint64_t tick_nsec(unsigned hz);

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

// Reads /sys/kernel/security/lsm; throws GateUnavailable unless "bpf" is listed.
void require_bpf_lsm(const std::string& lsm_file = "/sys/kernel/security/lsm");

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
  bool operator==(const KernelTicket&) const = default;
};

// A baseline file as pinned: its change time when the daemon pinned it.
struct BaselineFile {
  std::int64_t ctime_sec = 0;
  std::uint32_t ctime_nsec = 0;
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
};

// A ring-buffer record of the kernel decoded (nullopt when it is shorter than one).
std::optional<GateEvent> decode_gate_event(std::span<const std::uint8_t> bytes);

// The kernel's ticket map, keyed by inode: the port through which the ticket book and the
// subject resolver reach the kernel (Gate implements it over the pinned BPF map; unit
// tests use a fake, tests/unit/fake_ticket_map.h).
class TicketMap {
 public:
  virtual ~TicketMap() = default;
  virtual void put_ticket(const InodeKey& key, const KernelTicket& value) = 0;
  virtual bool delete_ticket(const InodeKey& key) = 0;
  virtual std::optional<KernelTicket> get_ticket(const InodeKey& key) const = 0;
  virtual std::vector<std::pair<InodeKey, KernelTicket>> tickets() const = 0;
};

struct GateConfig;  // below, with the cgroups it names

class Gate : public TicketMap {
 public:
  // Loads the programs, reusing maps already pinned under pin_dir, attaches every hook
  // and pins the links (replacing older pinned links without a gap).
  static std::unique_ptr<Gate> install(const GateOptions& opts);
  // Removes every pin under pin_dir: the gate stops enforcing once no fd holds it.
  static void uninstall(const std::string& pin_dir = kDefaultPinDir);
  // True when pins from an earlier daemon exist.
  static bool pinned(const std::string& pin_dir = kDefaultPinDir);

  ~Gate() override;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  // The whole config, scope slots included (the gate stamps its kernel ABI on it).
  void set_config(const GateConfig& cfg);
  // Whether the daemon can make audit records durable (false: the disk is full). With
  // [audit] required the kernel then denies execs in the scope (audit_unavailable).
  // A word of the counters page, apart from the config; safe from any thread.
  void set_audit_stalled(bool stalled);
  GateConfig config() const;
  void set_loaders(const std::vector<InodeKey>& keys);
  // What the scope may not do to each inode (protect:: flags): the daemon's directories,
  // their ancestors, execgated and the kernel's helper programs. Add-then-prune.
  void set_protected(const std::map<InodeKey, std::uint8_t>& entries);
  // Names the scope may not create: (directory, name) pairs (kMaxReservedName bytes at most).
  void set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names);

  void put_baseline(const InodeKey& key, const BaselineFile& value);
  // The directories of the baseline's paths (the scope adds no name to them). Add-then-prune.
  void set_baseline_dirs(const std::set<InodeKey>& dirs);
  // The inode generation the kernel marked when a task in the scope created, wrote or
  // renamed this file (docs/gate.md "Files the scope wrote"); nullopt when it is not marked.
  std::optional<std::uint32_t> scope_written(const InodeKey& key) const;
  // Removes every baseline entry whose key is not in keep (sorted).
  void prune_baseline(const std::vector<InodeKey>& keep);

  void put_ticket(const InodeKey& key, const KernelTicket& value) override;
  bool delete_ticket(const InodeKey& key) override;
  std::optional<KernelTicket> get_ticket(const InodeKey& key) const override;
  std::vector<std::pair<InodeKey, KernelTicket>> tickets() const override;

  GateCounters counters() const;
  std::size_t attached_programs() const;
  // True when install() found this build's programs pinned and attached and kept them
  // (a restart of the same build: nothing verified, no hook changed); false when it loaded.
  bool programs_kept() const;
  ExecClock exec_clock() const;
  // Takes the exec clock's first base (install() leaves it off: execs read the clock).
  // Call it when check_exec_clock() starts running every 100 ms: a wrong tick length
  // makes the estimate's error grow from this moment.
  void start_exec_clock();
  // Compares the exec clock's estimate with the clock; when it is off by more than
  // EG_CLOCK_DRIFT_NS the kernel drops the base (execs read the clock) and this returns
  // the error in ms. Meant to run every 100 ms.
  std::optional<std::uint32_t> check_exec_clock();

  // Drains available events into cb; waits up to timeout_ms for a wakeup first.
  // Returns the number consumed. Events submitted without a wakeup are still drained.
  int poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb);

 private:
  struct Impl;
  explicit Gate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Userspace st_dev -> the kernel's s_dev encoding (major << 20 | minor).
std::uint64_t kernel_dev(std::uint64_t st_dev);
// A kernel s_dev as "MAJ:MIN" (how audit records and status name devices).
std::string kernel_dev_string(std::uint64_t kdev);

// Reason code <-> brief name ("no_ticket", "stale", ...). Unknown codes -> "unknown".
std::string reason_name(std::uint8_t code);
// Every reason name the kernel records, in code order (the docs name each:
// tests/unit/gate_reason_docs_test.cpp).
std::vector<std::string> reason_names();
std::string verdict_name(std::uint8_t verdict);
std::string hook_name(std::uint32_t hook);
// The audit event of a kernel decision: "exec" for whether code may run (exec, executable
// mappings, AT_EXECVE_CHECK), "access" for every other operation the gate judged.
std::string event_name(std::uint32_t hook);

// Wall-clock unix seconds -> CLOCK_BOOTTIME ns (saturating at 0 and UINT64_MAX).
std::uint64_t wall_to_boot_ns(std::int64_t unix_seconds);
// CLOCK_BOOTTIME ns -> wall-clock unix ns.
std::int64_t boot_ns_to_wall_ns(std::uint64_t boot_ns);

// cgroup v2 mount point (from /proc/self/mounts), e.g. /sys/fs/cgroup.
std::string cgroup2_root();

// A cgroup v2 directory as the kernel names it: its id (the kernfs node id, which is the
// directory's inode number) and its level (depth below the hierarchy's root, level 0).
struct CgroupRef {
  std::uint64_t id = 0;
  std::uint32_t level = 0;
};
// The cgroup at `path` below the cgroup v2 root ("/ci.slice/runner"), created when
// missing so that it is gated from birth. Throws when the mount is not the hierarchy's
// root (a cgroup namespace or a bind mount would give wrong levels) or the path is not
// a cgroup.
CgroupRef open_scope_cgroup(const std::string& path);

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
};

}  // namespace execgate
