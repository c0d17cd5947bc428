// Where execgate keeps things unless told otherwise: defined here once, used by the
// daemon, the CLI and the policy parser (and named in docs/daemon.md).
#pragma once

namespace execgate {

inline constexpr const char* kDefaultConfigPath = "/etc/execgate/policy.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/execgate";
inline constexpr const char* kDefaultSocketPath = "/run/execgate/execgated.sock";
inline constexpr const char* kDefaultAuditPath = "/var/log/execgate/audit.jsonl";
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/execgate";
// The metrics file execgated rewrites for node_exporter's textfile collector (policy
// [metrics] textfile; "" writes none) and how often (policy [metrics] interval, seconds;
// docs/metrics.md). It lies in the socket's directory, which the scope cannot write.
inline constexpr const char* kDefaultMetricsTextfile = "/run/execgate/metrics.prom";
inline constexpr long long kDefaultMetricsIntervalSeconds = 15;
// [fleet] (docs/fleet.md): the etcd key prefix, how long without confirmed contact before
// the fleet's tickets are suspended, the account execgate-sync runs as, and its state.
inline constexpr const char* kDefaultFleetPrefix = "/execgate";
inline constexpr long long kDefaultFleetMaxSilenceSeconds = 120;
inline constexpr long long kMinFleetMaxSilenceSeconds = 2;
inline constexpr long long kMaxFleetMaxSilenceSeconds = 7 * 24 * 3600;
// execgate-sync publishes the newest audit checkpoint at most this often (docs/fleet.md
// "Published checkpoints")
inline constexpr long long kDefaultFleetPublishIntervalSeconds = 300;
inline constexpr long long kMinFleetPublishIntervalSeconds = 1;
inline constexpr long long kMaxFleetPublishIntervalSeconds = 24 * 3600;
inline constexpr const char* kDefaultFleetSyncUser = "execgate-sync";
inline constexpr const char* kDefaultFleetSyncStateDir = "/var/lib/execgate-sync";
inline constexpr long long kMaxMetricsIntervalSeconds = 3600;
// Launcher programs (policy [scope] launchers; docs/gate.md "Privilege posture"): a
// launcher that execs one stays a launcher until its next exec. systemd 255 and later set
// a service up in systemd-executor, after its exec in the service's cgroup.
inline constexpr const char* kDefaultLauncherPrograms[] = {"/usr/lib/systemd/systemd-executor"};

}  // namespace execgate
