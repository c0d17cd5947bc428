// What userspace reads of the running kernel, and how the kernel encodes what the gate
// exchanges with it: CONFIG_HZ and the tick length, device numbers, CLOCK_BOOTTIME, the
// names of its reason / verdict / hook codes, ring-buffer records, cgroup v2. No libbpf.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gate/gate_types.h"

namespace execgate {

// CONFIG_HZ from a kernel config ("CONFIG_HZ=250"); nullopt when absent or not a number
// a kernel would have.
std::optional<unsigned> config_hz(std::istream& config);
// The running kernel's CONFIG_HZ: /proc/config.gz, else /boot/config-$(uname -r).
std::optional<unsigned> running_kernel_hz();
// The kernel's TICK_NSEC for HZ.
std::uint64_t tick_nsec(unsigned hz);

// A ring-buffer record of the kernel decoded (nullopt when it is shorter than one).
std::optional<GateEvent> decode_gate_event(std::span<const std::uint8_t> bytes);

// Userspace st_dev -> the kernel's s_dev encoding (major << 20 | minor).
std::uint64_t kernel_dev(std::uint64_t st_dev);
// A kernel s_dev as "MAJ:MIN" (how audit records and status name devices).
std::string kernel_dev_string(std::uint64_t kdev);
// When the filesystem on DEV (a userspace st_dev) lies on a block device whose bytes are a
// file or come from elsewhere (a loop device, nbd, ublk, or a device stacked on one), what
// it is: those bytes can change with no writer of the ticketed inode. nullopt otherwise.
std::optional<std::string> file_backed_device(std::uint64_t dev);
// The kernel's key (dev, ino) of the regular file at path (symlinks followed); nullopt
// when there is none.
std::optional<InodeKey> regular_file_key(const std::string& path);

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
// The cgroup at `path` below the cgroup v2 root ("/ci.slice/runner"), created when
// missing so that it is gated from birth. Throws when the mount is not the hierarchy's
// root (a cgroup namespace or a bind mount would give wrong levels) or the path is not
// a cgroup.
CgroupRef open_scope_cgroup(const std::string& path);

}  // namespace execgate
