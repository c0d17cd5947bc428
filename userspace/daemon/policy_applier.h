// The policy applied to the kernel: scope cgroups and their slots, the dynamic loaders,
// the protected inodes and reserved names (protected_set.h), the baseline pins, and the
// config (mode, posture, lineage). Every set is updated add-then-prune: a reload never
// opens a moment in which something that stays is unprotected.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cgroup_view.h"
#include "execgate/defaults.h"
#include "execgate/policy.h"
#include "gate/gate_ops.h"
#include "protected_set.h"

namespace execgate {

struct DaemonPaths {
  std::string config;
  std::string state_dir = kDefaultStateDir;
  std::string socket = kDefaultSocketPath;
  std::string pin_dir = kDefaultPinDir;
  std::string machine_id = "/etc/machine-id";  // the host's id, which tickets name
};

class PolicyApplier {
 public:
  PolicyApplier(GateOps& gate, DaemonPaths paths);

  // The policy's scope cgroups as the kernel names them (created when missing); throws
  // naming the cgroup.
  static std::vector<CgroupRef> resolve_scopes(const Policy& policy, const CgroupView& cgroups);
  // At start: the slots the pinned config uses now stay where they are.
  void adopt_running_scopes(const std::vector<CgroupRef>& wanted);
  // Everything: scopes, loaders, protected set, baseline, config (last). Throws what the
  // gate throws; the slots stay those of the last config written then.
  void apply(const Policy& policy, const std::vector<CgroupRef>& scopes, bool track_lineage);
  // The config alone (lineage tracking changed).
  void configure(const Policy& policy, bool track_lineage);
  // The config alone with the policy's scopes, before anything else is in the kernel (no
  // ticket, baseline, loader or protected inode): a gate pinned anew denies in the scope
  // from then on, whatever fails before apply().
  void close_scopes(const Policy& policy, const std::vector<CgroupRef>& scopes);

  const std::map<InodeKey, std::string>& baseline_paths() const { return baseline_paths_; }
  std::size_t baseline_files() const { return baseline_paths_.size(); }
  std::size_t baseline_refused() const { return baseline_refused_; }
  const DaemonPaths& paths() const { return paths_; }
  const std::vector<CgroupRef>& scopes() const { return scopes_; }  // by slot; id 0: an empty slot

 private:
  GateConfig kernel_config(const Policy& policy, bool track_lineage, const std::vector<CgroupRef>& slots,
                           std::uint64_t posture_since_ns) const;
  ProtectedSet protected_inodes(const Policy& policy, ReservedNames& reserved) const;
  void pin_baseline(const Policy& policy);

  GateOps& gate_;
  DaemonPaths paths_;
  std::vector<CgroupRef> scopes_;  // GateConfig::scopes slots (scope_slots.h); id 0: an empty slot
  std::uint64_t posture_since_ns_ = 0;  // GateConfig::posture_since_ns: when this daemon last set the scopes
  std::map<InodeKey, std::string> baseline_paths_;
  std::size_t baseline_refused_ = 0;  // not pinned: writable by a user other than root
};

}  // namespace execgate
