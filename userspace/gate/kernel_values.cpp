#include "gate/kernel_values.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace execgate {

// gate_types.h's limits and flags are the kernel's
static_assert(kMaxJobs == EG_MAX_JOBS);
static_assert(kTicketIdBytes == EG_ID_LEN && kMaxTicketUids == EG_MAX_UIDS && kMaxScopeSlots == EG_MAX_SCOPES &&
              kMaxProtectedInodes == EG_MAX_PROTECTED && kMaxReservedName == EG_NAME_LEN - 1);
static_assert(protect::dir == EG_PROT_DIR && protect::name == EG_PROT_NAME && protect::content == EG_PROT_CONTENT &&
              protect::secret == EG_PROT_SECRET && protect::launcher == EG_PROT_LAUNCHER);

eg_ticket to_kernel(const KernelTicket& t) {
  if (t.uids.size() > EG_MAX_UIDS)
    throw Error(ErrorKind::usage, "a kernel ticket entry holds at most " + std::to_string(EG_MAX_UIDS) + " uids");
  eg_ticket v{};
  std::memcpy(v.id, t.id.data(), EG_ID_LEN);
  if (t.parent) {
    std::memcpy(v.parent, t.parent->data(), EG_ID_LEN);
    v.flags |= EG_TF_HAS_PARENT;
  }
  v.not_before_ns = t.not_before_ns;
  v.not_after_ns = t.not_after_ns;
  v.ctime_sec = t.ctime_sec;
  v.ctime_nsec = t.ctime_nsec;
  if (t.uses_left) {
    v.flags |= EG_TF_LIMITED_USES;
    v.uses_left = *t.uses_left;
  }
  v.n_uids = static_cast<__u32>(t.uids.size());
  std::copy(t.uids.begin(), t.uids.end(), v.uids);
  if (t.pending) v.flags |= EG_TF_PENDING;
  if (t.probed) v.flags |= EG_TF_PROBED;
  if (t.fleet) v.flags |= EG_TF_FLEET;
  if (t.builder) v.flags |= EG_TF_BUILDER;
  if (t.has_jobs) v.flags |= EG_TF_HAS_JOBS;
  if (t.jobs_only) v.flags |= EG_TF_JOBS_ONLY;
  v.writers = t.writers;
  v.generation = t.generation;
  return v;
}

KernelTicket from_kernel(const eg_ticket& v) {
  KernelTicket t;
  std::memcpy(t.id.data(), v.id, EG_ID_LEN);
  if (v.flags & EG_TF_HAS_PARENT) {
    t.parent.emplace();
    std::memcpy(t.parent->data(), v.parent, EG_ID_LEN);
  }
  t.not_before_ns = v.not_before_ns;
  t.not_after_ns = v.not_after_ns;
  t.ctime_sec = v.ctime_sec;
  t.ctime_nsec = v.ctime_nsec;
  if (v.flags & EG_TF_LIMITED_USES) t.uses_left = v.uses_left;
  t.uids.assign(v.uids, v.uids + std::min<__u32>(v.n_uids, EG_MAX_UIDS));
  t.pending = v.flags & EG_TF_PENDING;
  t.probed = v.flags & EG_TF_PROBED;
  t.fleet = v.flags & EG_TF_FLEET;
  t.builder = v.flags & EG_TF_BUILDER;
  t.has_jobs = v.flags & EG_TF_HAS_JOBS;
  t.jobs_only = v.flags & EG_TF_JOBS_ONLY;
  t.writers = v.writers;
  t.generation = v.generation;
  return t;
}

KernelTicket ticket_entry(const TicketBody& t, std::uint64_t (*to_ns)(std::int64_t unix_seconds)) {
  KernelTicket v;
  v.id = ticket_id(t.id);
  if (t.parent) v.parent = ticket_id(*t.parent);
  v.not_before_ns = to_ns(t.not_before);
  v.not_after_ns = to_ns(t.not_after);
  if (t.max_uses > 0) v.uses_left = static_cast<std::int64_t>(t.max_uses);
  v.uids.assign(t.uids.begin(), t.uids.end());
  v.builder = t.builder;
  return v;
}

eg_config to_kernel(const GateConfig& c) {
  if (c.scopes.size() > EG_MAX_SCOPES)
    throw Error(ErrorKind::usage, std::to_string(c.scopes.size()) + " scope cgroups: the kernel config holds " +
                                      std::to_string(EG_MAX_SCOPES));
  eg_config k{};
  k.mode = c.monitor ? EG_MODE_MONITOR : EG_MODE_ENFORCE;
  k.scope_host = c.scope_host ? 1 : 0;
  k.trust = c.baseline_root_owned ? EG_TRUST_ROOT_OWNED : EG_TRUST_NONE;
  k.audit_required = c.audit_required ? 1 : 0;
  k.wakeup_events = std::max<std::uint64_t>(1, c.wakeup_bytes / sizeof(eg_event));
  k.track_lineage = c.track_lineage ? 1 : 0;
  for (const auto& sc : c.scopes) k.scopes[k.n_scopes++] = eg_scope{sc.id, sc.level, 0};
  k.daemon_tgid = c.daemon_tgid;
  k.allow = (c.allow_mount ? EG_ALLOW_MOUNT : 0u) | (c.allow_userns ? EG_ALLOW_USERNS : 0u) |
            (c.allow_module_request ? EG_ALLOW_MODULE_REQUEST : 0u) | (c.allow_block_read ? EG_ALLOW_BLOCK_READ : 0u);
  k.caps_allowed = c.caps_allowed;
  k.posture_since_ns = c.posture_since_ns;
  return k;
}

GateConfig from_kernel(const eg_config& k) {
  GateConfig c;
  c.monitor = k.mode == EG_MODE_MONITOR;
  c.scope_host = k.scope_host != 0;
  c.baseline_root_owned = k.trust == EG_TRUST_ROOT_OWNED;
  c.audit_required = k.audit_required != 0;
  c.wakeup_bytes = k.wakeup_events * sizeof(eg_event);
  c.track_lineage = k.track_lineage != 0;
  for (__u32 i = 0; i < k.n_scopes && i < EG_MAX_SCOPES; ++i)
    c.scopes.push_back(CgroupRef{k.scopes[i].cgroup_id, k.scopes[i].level});
  c.daemon_tgid = k.daemon_tgid;
  c.allow_mount = k.allow & EG_ALLOW_MOUNT;
  c.allow_userns = k.allow & EG_ALLOW_USERNS;
  c.allow_module_request = k.allow & EG_ALLOW_MODULE_REQUEST;
  c.allow_block_read = k.allow & EG_ALLOW_BLOCK_READ;
  c.caps_allowed = k.caps_allowed;
  c.posture_since_ns = k.posture_since_ns;
  return c;
}

}  // namespace execgate
