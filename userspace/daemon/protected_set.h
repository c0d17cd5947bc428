// The inodes the scope may not touch (the gate's protect:: flags): the daemon's own
// directories, every ancestor of them up to /, execgated and the files it maps (a binary
// or library replaced under it would run at its next start), and the programs the kernel
// runs by itself (usermode helpers: modprobe, request-key, a core_pattern pipe, ...), each
// through every symlink on the way to it. docs/gate.md "Protected names".
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gate/gate_types.h"
#include "gate/kernel_facts.h"

namespace execgate {

using ProtectedSet = std::map<InodeKey, std::uint8_t>;
using ReservedNames = std::set<std::pair<InodeKey, std::string>>;

// Adds PATH with LEAF flags, every ancestor (and every symlink on the way, with what it
// points to) as a protected name. A missing path protects its existing ancestors, and its
// name in the directory that would hold it is reserved (the scope may not create it) when
// RESERVED is given.
void protect_path(ProtectedSet& set, const std::string& path, std::uint8_t leaf, ReservedNames* reserved = nullptr);

// Files the dynamic loader reads for every program started outside the scope, execgated
// included: its cache, and its preload list (which must not come to exist).
std::vector<std::string> loader_config_paths();

// The paths the kernel may run as usermode helpers on this host, as configured now
// (/proc/sys/kernel/modprobe, core_pattern's pipe, poweroff_cmd, uevent_helper) and the
// fixed ones (/sbin/request-key, /sbin/reboot, /sbin/bridge-stp, ...).
std::vector<std::string> kernel_helper_paths();

// execgated's executable and every file it has mapped (its libraries, the loader).
std::vector<std::string> own_mapped_files();

}  // namespace execgate
