// Capability names and numbers (the kernel's, linux/capability.h) and the default
// posture's set (docs/gate.md "Privilege posture").
#include <cctype>
#include <iterator>

#include "execgate/policy.h"

namespace execgate {

namespace {

constexpr const char* kCapNames[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",       "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",      "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",      "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",   "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",     "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",        "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",      "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
  for (int i = 0; i < static_cast<int>(std::size(kCapNames)); ++i)
    if (up == kCapNames[i]) return i;
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && cap < static_cast<int>(std::size(kCapNames))) return kCapNames[cap];
  return "CAP_" + std::to_string(cap);
}

std::uint64_t default_scope_capabilities() {
  std::uint64_t mask = 0;
  // not CAP_DAC_READ_SEARCH: open_by_handle_at() opens a file with no parent directory
  // in reach, past every rule that judges a file by the directory it is in
  for (const char* n : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                        "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"})
    mask |= 1ull << *capability_number(n);
  return mask;
}

}  // namespace execgate
