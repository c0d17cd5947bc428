#include "policy_applier.h"

#include <fcntl.h>
#include <glob.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/fs.h"
#include "scope_slots.h"
#include "service.h"
#include "gate/kernel_facts.h"

namespace execgate {
namespace fs = std::filesystem;

namespace {

// Now on CLOCK_MONOTONIC in ns, the clock of task_struct.start_time: when the scopes were
// set, for the posture's launchers.
std::uint64_t posture_clock_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(now.tv_nsec);
}

// Paths of the dynamic loader(s) on this machine.
std::vector<InodeKey> find_loaders() {
  std::vector<InodeKey> keys;
  for (const char* pattern : {"/lib64/ld-linux*.so*", "/lib/ld-linux*.so*", "/lib/x86_64-linux-gnu/ld-linux*.so*",
                              "/usr/lib/x86_64-linux-gnu/ld-linux*.so*", "/usr/lib64/ld-linux*.so*",
                              "/lib/ld-musl*.so*", "/usr/lib/ld-musl*.so*"}) {
    glob_t g{};
    if (::glob(pattern, 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        if (auto key = regular_file_key(g.gl_pathv[i]); key && std::find(keys.begin(), keys.end(), *key) == keys.end())
          keys.push_back(*key);
    }
    ::globfree(&g);
  }
  return keys;
}

}  // namespace

PolicyApplier::PolicyApplier(GateOps& gate, DaemonPaths paths) : gate_(gate), paths_(std::move(paths)) {}

std::vector<CgroupRef> PolicyApplier::resolve_scopes(const Policy& policy, const CgroupView& cgroups) {
  std::vector<CgroupRef> scopes;
  for (const auto& c : policy.scope_cgroups) scopes.push_back(cgroups.open_scope(c));
  return scopes;
}

void PolicyApplier::adopt_running_scopes(const std::vector<CgroupRef>& wanted) {
  // a restart over pinned maps keeps the slots the kernel reads now
  scopes_ = assign_scope_slots(gate_.config().scopes, wanted);
}

void PolicyApplier::apply(const Policy& policy, const std::vector<CgroupRef>& scopes, bool track_lineage) {
  std::vector<CgroupRef> slots = assign_scope_slots(scopes_, scopes);
  // Only tasks started after the scopes were set can be launchers (bpf/lib/scope.h
  // is_launcher): a cgroup newly gated has no launchers, whatever ran in it before.
  const auto ids = [](const std::vector<CgroupRef>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& c : v) out.push_back(c.id);
    return out;
  };
  std::uint64_t since = posture_since_ns_;
  if (since == 0 || ids(slots) != ids(scopes_)) since = posture_clock_ns();
  gate_.set_loaders(find_loaders());
  ReservedNames reserved;
  gate_.set_protected(protected_inodes(policy, reserved));
  gate_.set_reserved_names(reserved);
  pin_baseline(policy);
  // The config last, and the slots with it: when anything above fails, the slots stay
  // those the kernel reads (a reload applied again, or undone, never moves a scope).
  gate_.set_config(kernel_config(policy, track_lineage, slots, since));
  scopes_ = std::move(slots);
  posture_since_ns_ = since;
}

void PolicyApplier::close_scopes(const Policy& policy, const std::vector<CgroupRef>& scopes) {
  std::vector<CgroupRef> slots = assign_scope_slots(scopes_, scopes);
  const std::uint64_t since = posture_clock_ns();
  gate_.set_config(kernel_config(policy, false, slots, since));
  scopes_ = std::move(slots);
  posture_since_ns_ = since;
}

void PolicyApplier::configure(const Policy& policy, bool track_lineage) {
  gate_.set_config(kernel_config(policy, track_lineage, scopes_, posture_since_ns_));
}

// The kernel config from the policy and whether lineage is tracked. Lineage is tracked only
// while some installed ticket names a parent (tracking costs a task-storage allocation
// per ticketed exec); a parent image started before that is not known and its children
// are denied `lineage` (fail closed).
GateConfig PolicyApplier::kernel_config(const Policy& policy, bool track_lineage, const std::vector<CgroupRef>& slots,
                                        std::uint64_t posture_since_ns) const {
  GateConfig cfg;
  cfg.monitor = policy.mode == GateMode::monitor;
  cfg.scope_host = policy.scope_host;
  cfg.baseline_root_owned = policy.trust == BaselineTrust::root_owned;
  cfg.audit_required = policy.audit.required;
  // Wake the reader once about 1/8 of the ring (at most 64 KiB) is pending per CPU;
  // it also drains on a 50 ms timer, and every denial wakes it at once.
  cfg.wakeup_bytes = std::min<std::uint64_t>(64 << 10, (std::uint64_t{policy.audit.ringbuf_kib} << 10) / 8);
  cfg.track_lineage = track_lineage;
  cfg.daemon_tgid = static_cast<std::uint32_t>(::getpid());  // its read opens seal tickets
  cfg.caps_allowed = default_scope_capabilities() | policy.scope_capabilities;
  const auto allows = [&](ScopeAllow a) { return (policy.scope_allow & static_cast<std::uint32_t>(a)) != 0; };
  cfg.allow_mount = allows(ScopeAllow::mount);
  cfg.allow_userns = allows(ScopeAllow::userns);
  cfg.allow_module_request = allows(ScopeAllow::module_request);
  cfg.allow_block_read = allows(ScopeAllow::block_read);
  cfg.posture_since_ns = posture_since_ns;
  static_assert(kMaxScopeSlots >= kMaxScopeCgroups);
  cfg.scopes = slots;  // holes: id 0
  return cfg;
}

// What the scope may not touch (protected_set.h): the daemon's state, its audit log's
// directory, its policy's directory, its socket's and its metrics file's (nothing written, created, linked,
// removed or renamed there; the spool inbox stays open: whatever arrives there is verified
// anyway, but its done/ and rejected/ are the daemon's), every ancestor of them, execgated
// and its libraries, the loader's cache, the kernel's helper programs; the names of helpers and of the loader's preload list that do
// not exist are reserved.
ProtectedSet PolicyApplier::protected_inodes(const Policy& policy, ReservedNames& reserved) const {
  ProtectedSet set;
  const std::uint8_t dir = protect::dir | protect::name;
  const fs::path state(paths_.state_dir);
  for (const char* sub : {"", "installed", "tombstones", "spent"}) protect_path(set, (*sub ? state / sub : state).string(), dir);
  // the spool: the inbox stays open to the scope (its purpose) but is not renamed or
  // removed; done/ and rejected/ are the daemon's (no symlink swapped in, nothing planted
  // there; a missing one's name is reserved)
  protect_path(set, (state / "inbox").string(), protect::name);
  for (const char* sub : {"done", "rejected"}) protect_path(set, (state / "inbox" / sub).string(), dir, &reserved);
  // the seal's key: with it, records could be forged elsewhere and planted (state_seal.h)
  protect_path(set, (state / "state.key").string(), protect::content | protect::secret);
  protect_path(set, fs::path(policy.audit.path).parent_path().string(), dir);
  if (!paths_.config.empty()) protect_path(set, fs::absolute(paths_.config).parent_path().string(), dir);
  protect_path(set, fs::path(paths_.socket).parent_path().string(), dir);  // no impostor socket
  // no forged metrics: the textfile's directory is one of the daemon's (docs/metrics.md)
  // (a missing one's name reserved: no symlink made there for the metrics thread to follow)
  if (!policy.metrics.textfile.empty())
    protect_path(set, fs::path(policy.metrics.textfile).parent_path().string(), dir, &reserved);
  for (const auto& f : own_mapped_files()) protect_path(set, f, protect::content);
  for (const auto& f : kernel_helper_paths()) protect_path(set, f, protect::content, &reserved);
  for (const auto& f : loader_config_paths()) protect_path(set, f, protect::content, &reserved);
  // launcher programs: not rewritten from the scope, and marked for the posture (docs/gate.md)
  for (const auto& f : policy.scope_launchers) protect_path(set, f, protect::content | protect::launcher, &reserved);
  // the keys the gate trusts: an issuer key rewritten would be trusted at the next start
  // or SIGHUP; the audit signing key is not even read from the scope
  for (const auto& is : policy.issuers) protect_path(set, is.pubkey, protect::content);
  if (!policy.audit.signing_key.empty())
    protect_path(set, policy.audit.signing_key, protect::content | protect::secret);
  if (set.size() > kMaxProtectedInodes)
    throw Error(ErrorKind::kernel, "protected inodes: " + std::to_string(set.size()) + " exceed the kernel map's " +
                                       std::to_string(kMaxProtectedInodes));
  return set;
}

// Pins every regular file of the baseline paths as it is now. New pins go in first and
// stale ones are pruned after, so a reload never leaves a moment in which baseline files
// are denied. Only files no one but root can write are pinned: a file its non-root owner (or group, or anyone) may write would
// make the baseline only as trustworthy as that user, who could even change it through a
// shared writable mapping made before the pin without moving ctime. Refused files are
// counted in status and named on stderr; their execs in the scope are denied.
void PolicyApplier::pin_baseline(const Policy& policy) {
  std::map<InodeKey, std::string> index;
  std::size_t refused = 0, scope_written = 0;
  std::string examples;
  // Marked by the kernel with the file's generation: a mark of another file that had the
  // same inode number does not count (FS_IOC_GETVERSION; a file whose generation cannot be
  // read counts as marked).
  auto written_by_scope = [&](const fs::path& p, const InodeKey& key) {
    const auto gen = gate_.scope_written(key);
    if (!gen) return false;
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    int version = 0;
    return !fd || ::ioctl(fd.get(), FS_IOC_GETVERSION, &version) != 0 || static_cast<std::uint32_t>(version) == *gen;
  };
  // whether a device is file-backed, asked of sysfs once per device, not once per file
  std::map<dev_t, bool> file_backed;
  auto on_file_backed_device = [&](dev_t dev) {
    auto [it, fresh] = file_backed.try_emplace(dev, false);
    if (fresh) it->second = file_backed_device(dev).has_value();
    return it->second;
  };
  auto pin = [&](const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) || on_file_backed_device(st.st_dev)) {
      if (refused++ < 3) examples += (examples.empty() ? "" : ", ") + p.string();
      return;
    }
    const InodeKey key{kernel_dev(st.st_dev), st.st_ino};
    // never what the scope wrote: a file dropped or rewritten in a baseline directory from
    // the scope is not trusted at the next reload
    if (written_by_scope(p, key)) {
      ++scope_written;
      if (refused++ < 3) examples += (examples.empty() ? "" : ", ") + p.string();
      return;
    }
    gate_.put_baseline(key, BaselineFile{st.st_ctim.tv_sec, static_cast<std::uint32_t>(st.st_ctim.tv_nsec)});
    index.emplace(key, p.string());
  };
  std::set<InodeKey> dirs;  // every directory walked: the scope adds no name to them
  auto add_dir = [&](const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) dirs.insert(InodeKey{kernel_dev(st.st_dev), st.st_ino});
  };
  for (const auto& path : policy.baseline_paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      add_dir(path);
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_directory(ec) && !it->is_symlink(ec)) add_dir(it->path());
        else if (it->is_regular_file(ec)) pin(it->path());
      }
    } else {
      pin(path);
    }
  }
  std::vector<InodeKey> keep;
  keep.reserve(index.size());
  for (const auto& [key, path] : index) keep.push_back(key);  // std::map: already sorted
  gate_.prune_baseline(keep);
  gate_.set_baseline_dirs(dirs);
  baseline_refused_ = refused;
  if (refused)
    service::log(service::Priority::warning, "baseline: " + std::to_string(refused) +
                                                  " file(s) not pinned, writable by a user other than root or written by "
                                                  "the scope (" + std::to_string(scope_written) + ") (" +
                                                  examples + (refused > 3 ? ", ...)" : ")"));
  baseline_paths_ = std::move(index);
}

}  // namespace execgate
