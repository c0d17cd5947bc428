// The daemon's policy (TOML, strict): mode, scope, baseline, trusted issuers, audit.
// Format and defaults: docs/daemon.md, "Policy".
#pragma once

#include "execgate/defaults.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "execgate/error.h"

namespace execgate {

enum class GateMode { enforce, monitor };
enum class BaselineTrust { none, root_owned };

struct IssuerPolicy {
  std::string name;
  std::string pubkey;             // path of NAME.pub
  std::int64_t max_ttl = 0;       // seconds; 0 = no limit
  bool allow_any_host = false;    // may tickets say hosts = ["*"]
};

struct AuditPolicy {
  std::string path = kDefaultAuditPath;
  std::string signing_key;        // NAME.key; empty = no signed checkpoints
  bool required = false;          // no evidence, no execution
  std::uint64_t checkpoint_every = 1000;
  std::uint64_t rotate_bytes = 64ull << 20;
  std::uint32_t ringbuf_kib = 4096;  // kernel ring buffer size (power of two, >= 4)
};

// [metrics]: the OpenMetrics file for node_exporter's textfile collector (docs/metrics.md).
struct MetricsPolicy {
  std::string textfile = kDefaultMetricsTextfile;  // absolute path of a *.prom file; "" = none
  std::int64_t interval = kDefaultMetricsIntervalSeconds;  // seconds between rewrites
};

// [fleet]: tickets and revocations from etcd through execgate-sync (docs/fleet.md).
struct FleetPolicy {
  std::vector<std::string> endpoints;  // "https://10.0.0.1:2379" (http:// on loopback only)
  std::string prefix = kDefaultFleetPrefix;
  std::int64_t max_silence = kDefaultFleetMaxSilenceSeconds;  // seconds without confirmed contact
  bool suspend_local = false;  // silence suspends locally submitted tickets too
  // how often execgate-sync publishes the newest signed audit checkpoint (seconds)
  std::int64_t publish_interval = kDefaultFleetPublishIntervalSeconds;
  std::string user;            // etcd user; empty = no auth
  std::string password_file;   // absolute path; the password's first line
  std::string ca, cert, key;   // TLS: CA bundle; client certificate and key (absolute paths)
  std::string sync_user = kDefaultFleetSyncUser;  // the account whose peer may send fleet requests
};

inline constexpr std::size_t kMaxScopeCgroups = 16;  // [scope] cgroups entries

// The scope's privilege posture (docs/gate.md "Privilege posture"): the capabilities a
// gated process may use, and the operations refused in the scope unless allowed.
// Default capabilities: Docker's default set without CAP_MKNOD and CAP_SETFCAP.
std::uint64_t default_scope_capabilities();
// "CAP_SYS_ADMIN" or "sys_admin" -> its number; nullopt when unknown.
std::optional<int> capability_number(std::string_view name);
std::string capability_name(int cap);  // "CAP_SYS_ADMIN"; "CAP_<n>" when unknown

enum class ScopeAllow : std::uint32_t { mount = 1u << 0, userns = 1u << 1, module_request = 1u << 2,
                                     block_read = 1u << 3 };

struct Policy {
  std::string name = "default";
  GateMode mode = GateMode::enforce;
  bool scope_host = false;
  std::vector<std::string> scope_cgroups;  // cgroup v2 paths relative to the cgroup2 root
  // [scope] capabilities: extra capabilities beyond the default ("all": every one);
  // with host = true every capability unless the policy names them.
  std::uint64_t scope_capabilities = 0;
  std::uint32_t scope_allow = 0;  // [scope] allow: ScopeAllow bits
  // [scope] launchers: programs a launcher stays a launcher through (absolute paths;
  // default kDefaultLauncherPrograms, [] for none)
  std::vector<std::string> scope_launchers;
  BaselineTrust trust = BaselineTrust::none;
  std::vector<std::string> baseline_paths;
  std::vector<IssuerPolicy> issuers;
  AuditPolicy audit;
  MetricsPolicy metrics;
  std::string control_group;  // group whose members may use the control socket (root always)
  std::optional<FleetPolicy> fleet;  // [fleet]; none: no fleet
};

// A policy error names the source, line and key: "policy.toml:12: [scope] cgroups: expected ...".
class PolicyError : public Error {
 public:
  PolicyError(std::string source, std::uint32_t line, std::string message);
  std::uint32_t line() const noexcept { return line_; }

 private:
  std::uint32_t line_;
};

Policy parse_policy(std::string_view toml_text, const std::string& source_name);
Policy load_policy(const std::string& path);

std::string to_string(GateMode m);
std::string to_string(BaselineTrust t);

}  // namespace execgate
