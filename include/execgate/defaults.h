// Where execgate keeps things unless told otherwise: defined here once, used by the
// daemon, the CLI and the policy parser (and named in docs/daemon.md).
#pragma once

namespace execgate {

inline constexpr const char* kDefaultConfigPath = "/etc/execgate/policy.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/execgate";
inline constexpr const char* kDefaultSocketPath = "/run/execgate/execgated.sock";
inline constexpr const char* kDefaultAuditPath = "/var/log/execgate/audit.jsonl";
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/execgate";

}  // namespace execgate
