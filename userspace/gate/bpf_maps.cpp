// The gate's maps in domain operations: the config and its stall word, the inode sets
// (loaders, baseline directories, protected inodes), reserved names, baseline pins,
// tickets, the scope's written marks, and the counters. Values cross through
// kernel_values.h; no other file here knows a map's layout.
#include <time.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gate/gate_impl.h"
#include "gate/kernel_values.h"

namespace execgate {

namespace {

template <typename K>
std::vector<K> map_keys(bpf_map* map) {
  std::vector<K> keys;
  K key{}, next{};
  const void* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof(K)) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  return keys;
}

// Makes an inode map hold exactly `entries`: every new value is written first, keys no
// longer wanted are removed after, so a reload never opens a moment in which an inode
// that stays is missing (the kernel would not protect it then).
void update_inode_map(bpf_map* m, const std::map<InodeKey, __u8>& entries, const std::string& what) {
  for (const auto& [k, v] : entries) {
    eg_inode_key kk{k.dev, k.ino};
    check(bpf_map__update_elem(m, &kk, sizeof kk, &v, 1, BPF_ANY), what);
  }
  for (const auto& k : map_keys<eg_inode_key>(m))
    if (!entries.count(InodeKey{k.dev, k.ino})) bpf_map__delete_elem(m, &k, sizeof k, 0);
}

std::string limited(const char* what, std::size_t max) { return std::string(what) + " (max " + std::to_string(max) + ")"; }

}  // namespace

void Gate::set_config(const GateConfig& cfg) {
  const __u32 idx = EG_STATE_CONFIG;
  eg_state st{};
  st.config = to_kernel(cfg);
  st.config.abi_magic = EG_ABI_MAGIC;  // the pins' stamp (pins::require_same_abi)
  st.config.abi_version = impl_->abi_version();
  check(bpf_map__update_elem(impl_->skel->maps.eg_state, &idx, sizeof idx, &st, sizeof st, BPF_ANY), "config map");
}

void Gate::set_audit_stalled(bool stalled) {
  __atomic_store_n(impl_->state.counter(EG_C_AUDIT_STALLED), stalled ? 1u : 0u, __ATOMIC_RELEASE);
}

void Gate::set_fleet_silent(bool silent) {
  __atomic_store_n(impl_->state.counter(EG_C_FLEET_SILENT), silent ? 1u : 0u, __ATOMIC_RELEASE);
}

GateConfig Gate::config() const {
  const __u32 idx = EG_STATE_CONFIG;
  eg_state st{};
  check(bpf_map__lookup_elem(impl_->skel->maps.eg_state, &idx, sizeof idx, &st, sizeof st, 0), "config map");
  return from_kernel(st.config);
}

void Gate::set_loaders(const std::vector<InodeKey>& keys) {
  std::map<InodeKey, __u8> entries;
  for (const auto& k : keys) entries[k] = 1;
  update_inode_map(impl_->skel->maps.eg_loaders, entries, "loader map");
}

void Gate::set_baseline_dirs(const std::set<InodeKey>& dirs) {
  std::map<InodeKey, __u8> entries;
  for (const auto& d : dirs) entries[d] = 1;
  update_inode_map(impl_->skel->maps.eg_baseline_dirs, entries, limited("baseline directory map", EG_MAX_BASELINE_DIRS));
}

void Gate::set_protected(const std::map<InodeKey, std::uint8_t>& entries) {
  update_inode_map(impl_->skel->maps.eg_protected, entries, limited("protected inode map", EG_MAX_PROTECTED));
}

void Gate::set_reserved_names(const std::set<std::pair<InodeKey, std::string>>& names) {
  bpf_map* m = impl_->skel->maps.eg_reserved;
  auto key_of = [](const InodeKey& dir, const std::string& name) {
    eg_name_key k{};
    k.dir_dev = dir.dev;
    k.dir_ino = dir.ino;
    std::memcpy(k.name, name.data(), std::min(name.size(), sizeof k.name - 1));
    return k;
  };
  std::vector<eg_name_key> want;
  for (const auto& [dir, name] : names) {
    if (name.size() >= EG_NAME_LEN) throw Error(ErrorKind::usage, "reserved name too long: " + name);
    want.push_back(key_of(dir, name));
    __u8 one = 1;
    check(bpf_map__update_elem(m, &want.back(), sizeof(eg_name_key), &one, 1, BPF_ANY),
          limited("reserved name map", EG_MAX_RESERVED));
  }
  for (const auto& k : map_keys<eg_name_key>(m))
    if (std::none_of(want.begin(), want.end(), [&](const eg_name_key& w) { return std::memcmp(&w, &k, sizeof k) == 0; }))
      bpf_map__delete_elem(m, &k, sizeof k, 0);
}

void Gate::put_baseline(const InodeKey& key, const BaselineFile& file) {
  eg_inode_key k{key.dev, key.ino};
  const eg_baseline value{file.ctime_sec, file.ctime_nsec, 0};
  check(bpf_map__update_elem(impl_->skel->maps.eg_baseline, &k, sizeof k, &value, sizeof value, BPF_ANY),
        "baseline map (max " + std::to_string(EG_MAX_BASELINE) + " files)");
}

std::optional<std::uint32_t> Gate::scope_written(const InodeKey& key) const {
  const eg_inode_key k{key.dev, key.ino};
  eg_written v{};
  if (bpf_map__lookup_elem(impl_->skel->maps.eg_written, &k, sizeof k, &v, sizeof v, 0) != 0) return std::nullopt;
  return v.generation;
}

void Gate::prune_baseline(const std::vector<InodeKey>& keep) {
  bpf_map* m = impl_->skel->maps.eg_baseline;
  for (const auto& k : map_keys<eg_inode_key>(m))
    if (!std::binary_search(keep.begin(), keep.end(), InodeKey{k.dev, k.ino}))
      bpf_map__delete_elem(m, &k, sizeof k, 0);
}

void Gate::put_ticket(const InodeKey& key, const KernelTicket& value) {
  eg_inode_key k{key.dev, key.ino};
  const eg_ticket v = to_kernel(value);
  check(bpf_map__update_elem(impl_->skel->maps.eg_tickets, &k, sizeof k, &v, sizeof v, BPF_ANY),
        "ticket map (max " + std::to_string(EG_MAX_TICKETS) + " files)");
}

bool Gate::delete_ticket(const InodeKey& key) {
  eg_inode_key k{key.dev, key.ino};
  return bpf_map__delete_elem(impl_->skel->maps.eg_tickets, &k, sizeof k, 0) == 0;
}

std::optional<KernelTicket> Gate::get_ticket(const InodeKey& key) const {
  eg_inode_key k{key.dev, key.ino};
  eg_ticket v{};
  if (bpf_map__lookup_elem(impl_->skel->maps.eg_tickets, &k, sizeof k, &v, sizeof v, 0) != 0) return std::nullopt;
  return from_kernel(v);
}

std::vector<std::pair<InodeKey, KernelTicket>> Gate::tickets() const {
  std::vector<std::pair<InodeKey, KernelTicket>> out;
  for (const auto& k : map_keys<eg_inode_key>(impl_->skel->maps.eg_tickets)) {
    eg_ticket v{};
    if (bpf_map__lookup_elem(impl_->skel->maps.eg_tickets, &k, sizeof k, &v, sizeof v, 0) == 0)
      out.push_back({InodeKey{k.dev, k.ino}, from_kernel(v)});
  }
  return out;
}

void Gate::put_job_ticket(const InodeKey& key, std::uint64_t job, const KernelTicket& value) {
  const eg_job_ticket_key k{key.dev, key.ino, job};
  const eg_ticket v = to_kernel(value);
  check(bpf_map__update_elem(impl_->skel->maps.eg_job_tickets, &k, sizeof k, &v, sizeof v, BPF_ANY),
        "job ticket map (max " + std::to_string(EG_MAX_TICKETS) + " entries)");
}

bool Gate::delete_job_ticket(const InodeKey& key, std::uint64_t job) {
  const eg_job_ticket_key k{key.dev, key.ino, job};
  return bpf_map__delete_elem(impl_->skel->maps.eg_job_tickets, &k, sizeof k, 0) == 0;
}

std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> Gate::job_tickets() const {
  std::vector<std::tuple<InodeKey, std::uint64_t, KernelTicket>> out;
  for (const auto& k : map_keys<eg_job_ticket_key>(impl_->skel->maps.eg_job_tickets)) {
    eg_ticket v{};
    if (bpf_map__lookup_elem(impl_->skel->maps.eg_job_tickets, &k, sizeof k, &v, sizeof v, 0) == 0)
      out.emplace_back(InodeKey{k.dev, k.ino}, k.job, from_kernel(v));
  }
  return out;
}

// The live-job count (EG_C_JOBS) follows the map: the kernel asks for a task's job only
// while it is not 0.
void Gate::add_job(std::uint64_t cgroup_id) {
  const __u64 k = cgroup_id;
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  const eg_job v{static_cast<__u64>(now.tv_sec) * 1000000000ull + static_cast<__u64>(now.tv_nsec)};
  check(bpf_map__update_elem(impl_->skel->maps.eg_jobs, &k, sizeof k, &v, sizeof v, BPF_ANY),
        "job map (max " + std::to_string(EG_MAX_JOBS) + " jobs)");
  __atomic_store_n(impl_->state.counter(EG_C_JOBS), jobs().size(), __ATOMIC_RELEASE);
}

void Gate::remove_job(std::uint64_t cgroup_id) {
  const __u64 k = cgroup_id;
  bpf_map__delete_elem(impl_->skel->maps.eg_jobs, &k, sizeof k, 0);
  bpf_map* out = impl_->skel->maps.eg_outputs;
  for (const auto& f : map_keys<eg_inode_key>(out)) {
    eg_output v{};
    if (bpf_map__lookup_elem(out, &f, sizeof f, &v, sizeof v, 0) == 0 && v.job == cgroup_id)
      bpf_map__delete_elem(out, &f, sizeof f, 0);
  }
  __atomic_store_n(impl_->state.counter(EG_C_JOBS), jobs().size(), __ATOMIC_RELEASE);
}

std::vector<std::uint64_t> Gate::jobs() const {
  std::vector<std::uint64_t> out;
  for (const auto k : map_keys<__u64>(impl_->skel->maps.eg_jobs)) out.push_back(k);
  return out;
}

std::vector<JobOutput> Gate::job_outputs() const {
  std::vector<JobOutput> out;
  bpf_map* m = impl_->skel->maps.eg_outputs;
  for (const auto& f : map_keys<eg_inode_key>(m)) {
    eg_output v{};
    if (bpf_map__lookup_elem(m, &f, sizeof f, &v, sizeof v, 0) != 0) continue;
    JobOutput o;
    o.file = InodeKey{f.dev, f.ino};
    std::memcpy(o.builder_ticket.data(), v.builder_ticket, EG_ID_LEN);
    o.builder = InodeKey{v.builder.dev, v.builder.ino};
    o.job = v.job;
    o.writer = v.writer;
    out.push_back(o);
  }
  return out;
}

GateCounters Gate::counters() const {
  auto get = [&](std::size_t idx) { return __atomic_load_n(impl_->state.counter(idx), __ATOMIC_RELAXED); };
  return GateCounters{get(EG_C_ALLOWED), get(EG_C_DENIED), get(EG_C_MONITOR_DENIED), get(EG_C_RB_DROPS),
                      get(EG_C_EVENTS)};
}

}  // namespace execgate
