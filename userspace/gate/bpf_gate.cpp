// Gate: the BPF skeleton's lifecycle (load, attach, pin, reuse) and map access.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <utility>
#include <vector>

#include "gate/kernel_abi.h"
#include "execgate.skel.h"
#include "common/fs.h"
#include "gate/gate.h"

namespace execgate {
namespace fs = std::filesystem;

// gate.h's limits and flags are the kernel's
static_assert(kTicketIdBytes == EG_ID_LEN && kMaxTicketUids == EG_MAX_UIDS && kMaxScopeSlots == EG_MAX_SCOPES &&
              kMaxProtectedInodes == EG_MAX_PROTECTED && kMaxReservedName == EG_NAME_LEN - 1);
static_assert(protect::dir == EG_PROT_DIR && protect::name == EG_PROT_NAME && protect::content == EG_PROT_CONTENT &&
              protect::secret == EG_PROT_SECRET && protect::launcher == EG_PROT_LAUNCHER);

namespace {

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

void check(int rc, const std::string& what) {
  if (rc < 0) throw Error(ErrorKind::kernel, what + ": " + errstr(rc));
}

struct SkelDeleter {
  void operator()(execgate_bpf* s) const { execgate_bpf__destroy(s); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};

// A shared mapping of the mmapable eg_state array (config, counters, exec clock).
static_assert(sizeof(eg_state) % 8 == 0, "array entries are sizeof(eg_state) apart");
class StateMapping {
 public:
  StateMapping() = default;
  explicit StateMapping(int map_fd) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    len_ = (EG_STATE__COUNT * sizeof(eg_state) + page - 1) / page * page;
    void* p = ::mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (p == MAP_FAILED) throw Error(ErrorKind::kernel, "cannot map the state map: " + errstr(errno));
    base_ = static_cast<eg_state*>(p);
  }
  StateMapping(StateMapping&& o) noexcept : base_(std::exchange(o.base_, nullptr)), len_(o.len_) {}
  StateMapping& operator=(StateMapping&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(len_, o.len_);
    return *this;
  }
  StateMapping(const StateMapping&) = delete;
  StateMapping& operator=(const StateMapping&) = delete;
  ~StateMapping() {
    if (base_) ::munmap(base_, len_);
  }
  // The programs add to it atomically; userspace reads and stores whole words.
  __u64* counter(std::size_t idx) const { return &base_[EG_STATE_COUNTERS].counters[idx]; }
  // Kernel-written (eg_clock_sync); userspace only reads it, or drops it.
  __u64* clock_base() const { return &base_[EG_STATE_CLOCK].clock.boot_base_ns; }

 private:
  eg_state* base_ = nullptr;
  std::size_t len_ = 0;
};

// Hooks that not every supported kernel has: their programs load only where the running
// kernel has the hook (file_truncate since 6.2, file_ioctl_compat since 6.8 and in Debian's
// 6.1 by backport, inode_file_setattr since 6.17). Every other hook is required.
constexpr const char* kOptionalHooks[] = {"file_truncate", "file_ioctl_compat", "inode_file_setattr"};

// Hooks whose arguments changed between supported kernels: one program per shape, named
// with the number of arguments before the return value; the one that fits loads. A program
// of the wrong shape would read an argument as the previous program's return value.
struct HookShape {
  const char* program;
  unsigned args;
};
constexpr HookShape kHookShapes[] = {{"eg_bpf", 3}, {"eg_bpf_kernel", 4}};

// The number of arguments of the running kernel's bpf_lsm_HOOK; -1 when it has no such hook.
int hook_args(const btf* vmlinux, const std::string& hook) {
  const int id = btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC);
  if (id < 0) return -1;
  const btf_type* proto = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
  return proto ? btf_vlen(proto) : -1;
}

// Leaves out the programs the running kernel cannot take: optional hooks it lacks, shapes
// it does not have.
void select_programs(bpf_object* obj) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return;  // the load itself will say what is wrong
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    const std::string sec = bpf_program__section_name(prog);
    if (sec.rfind("lsm/", 0) != 0) continue;
    const std::string hook = sec.substr(4);
    const int args = hook_args(vmlinux, hook);
    const std::string name = bpf_program__name(prog);
    for (const auto& shape : kHookShapes)
      if (name == shape.program && args != static_cast<int>(shape.args)) bpf_program__set_autoload(prog, false);
    if (args < 0 && std::find(std::begin(kOptionalHooks), std::end(kOptionalHooks), hook) != std::end(kOptionalHooks))
      bpf_program__set_autoload(prog, false);
  }
  btf__free(vmlinux);
}

#ifdef EXECGATE_FAULT_INJECTION
// The fault-injection build (execgated-faults, tests/e2e/upgrade_suite.sh only):
// EXECGATE_FAULT_ATTACH=NAME (or "last") makes that program's attach fail as if the kernel
// refused it.
bool attach_fault(const bpf_program* prog, bool last) {
  const char* want = std::getenv("EXECGATE_FAULT_ATTACH");
  return want && (std::string(want) == bpf_program__name(prog) || (last && std::string(want) == "last"));
}
// EXECGATE_FAULT_PIN=STEP:N makes step STEP (pin: the new link under its temporary name;
// rename: that name over the link's own) of the Nth link pinned (from 0, or "last") fail
// as if bpffs refused it; EXECGATE_FAULT_PIN=stamp, the build stamp's pin.
bool pin_fault(const char* step, std::size_t index, bool last) {
  const char* want = std::getenv("EXECGATE_FAULT_PIN");
  if (!want) return false;
  const std::string w(want), prefix = std::string(step) + ":";
  if (w == step) return true;
  if (w.rfind(prefix, 0) != 0) return false;
  const std::string n = w.substr(prefix.size());
  return (n == "last" && last) || n == std::to_string(index);
}
// EXECGATE_FAULT_ABI_BUMP=1 makes it claim the next kernel ABI.
std::uint32_t abi_version() { return EG_ABI_VERSION + (std::getenv("EXECGATE_FAULT_ABI_BUMP") ? 1 : 0); }
// EXECGATE_FAULT_NEW_BUILD=1 makes it load over its own build's pins as another build
// would (so does an attach fault: the fault is in the load path).
bool loads_as_another_build() {
  return std::getenv("EXECGATE_FAULT_NEW_BUILD") || std::getenv("EXECGATE_FAULT_ATTACH") ||
         std::getenv("EXECGATE_FAULT_PIN");
}
#else
constexpr bool attach_fault(const bpf_program*, bool) { return false; }
constexpr bool pin_fault(const char*, std::size_t, bool) { return false; }
constexpr std::uint32_t abi_version() { return EG_ABI_VERSION; }
constexpr bool loads_as_another_build() { return false; }
#endif

}  // namespace

void require_bpf_lsm(const std::string& lsm_file) {
  std::ifstream in(lsm_file);
  if (!in)
    throw GateUnavailable("cannot read " + lsm_file +
                          ": securityfs is not mounted or the kernel has no LSM support; execgate needs BPF-LSM "
                          "(CONFIG_BPF_LSM=y with \"bpf\" in the lsm= boot parameter)");
  std::string list;
  std::getline(in, list);
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (item == "bpf") return;
  throw GateUnavailable("BPF-LSM is not active (active LSMs: " + list +
                        "). Add bpf to the kernel command line, e.g. lsm=" + list +
                        ",bpf, and reboot; execgated never runs without enforcement. "
                        "To try the gate on this machine anyway: scripts/vm-run.sh");
}

namespace {

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

}  // namespace

struct Gate::Impl {
  std::unique_ptr<execgate_bpf, SkelDeleter> skel;
  std::vector<UniqueFd> link_fds;
  UniqueFd clock_sync_fd;      // eg_clock_sync, run by the daemon (bpf_prog_test_run)
  bool programs_kept = false;  // found pinned and kept (keep_pinned) rather than loaded
  std::unique_ptr<ring_buffer, RingDeleter> ring;
  std::function<void(const GateEvent&)> const* cb = nullptr;
  std::string pin_dir;
  StateMapping state;

  std::atomic<std::uint32_t> clock_drift_ms{0};
  std::chrono::steady_clock::time_point last_check{};
  std::atomic<std::uint32_t> max_check_gap_ms{0};
  std::atomic<std::uint64_t> late_checks{0};

  // Runs eg_clock_sync as the daemon (no action, val = EG_CLOCK_*): its return value, or
  // nullopt when the kernel cannot run it.
  std::optional<std::uint32_t> run_clock_sync(int val) {
    __u64 args[3] = {0, static_cast<__u64>(val), 0};  // (action, val, start)
    LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof args);
    if (bpf_prog_test_run_opts(clock_sync_fd.get(), &run) < 0) return std::nullopt;
    return run.retval;
  }

  bool keep_pinned(const std::string& stamp);
  void load_and_pin(const std::string& stamp);

  static int on_event(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (!self->cb) return 0;
    if (auto ev = decode_gate_event(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data), size)))
      (*self->cb)(*ev);
    return 0;
  }
};

Gate::Gate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gate::~Gate() = default;

bool Gate::pinned(const std::string& pin_dir) {
  std::error_code ec;
  return fs::exists(fs::path(pin_dir) / "eg_tickets", ec);
}

void Gate::uninstall(const std::string& pin_dir) {
  std::error_code ec;
  if (!fs::exists(pin_dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(pin_dir)) {
    if (::unlink(entry.path().c_str()) != 0) throw IoError(entry.path(), errno, "cannot remove pin");
  }
  if (::rmdir(pin_dir.c_str()) != 0) throw IoError(pin_dir, errno, "cannot remove pin directory");
}

// The kernel ABI of the gate pinned under pin_dir (read from the pinned config's stamp):
// nullopt when nothing is pinned there, 0 when the pins predate ABI stamps.
static std::optional<std::uint32_t> pinned_abi(const std::string& pin_dir) {
  const std::string pin = pin_dir + "/eg_state";
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw GateUnavailable("cannot open the pinned " + pin + ": " + errstr(errno));
  }
  bpf_map_info info{};
  __u32 len = sizeof info;
  check(bpf_obj_get_info_by_fd(fd.get(), &info, &len), "pinned " + pin);
  std::vector<std::uint8_t> value(std::max<std::size_t>(info.value_size, sizeof(eg_state)));
  const __u32 idx = EG_STATE_CONFIG;
  check(bpf_map_lookup_elem(fd.get(), &idx, value.data()), "pinned " + pin);
  eg_config pinned{};
  std::memcpy(&pinned, value.data(), std::min<std::size_t>(info.value_size, sizeof pinned));
  if (pinned.abi_magic == EG_ABI_MAGIC) return pinned.abi_version;
  // Never configured (a daemon that died before its first config) with today's layout:
  // nothing to misread.
  if (pinned.abi_magic == 0 && info.value_size == sizeof(eg_state)) return abi_version();
  return 0;
}

// Refuses pins of another kernel ABI: their maps would be read with the wrong layout.
static void require_same_abi(const std::string& pin_dir) {
  const auto pinned = pinned_abi(pin_dir);
  if (!pinned || *pinned == abi_version()) return;
  throw GateUnavailable(
      "the gate pinned under " + pin_dir + " speaks kernel ABI " +
      (*pinned ? std::to_string(*pinned) : std::string("0 (an execgated older than ABI stamps)")) +
      ", this execgated kernel ABI " + std::to_string(abi_version()) +
      ": its maps would be read with the wrong layout, so they are left alone and the pinned gate keeps "
      "enforcing. To replace it: stop what runs in the gated scopes, run `execgated --uninstall --pin-dir " +
      pin_dir + "`, then start this execgated (docs/daemon.md, \"Upgrades\")");
}

namespace {
// New links, attached but not yet pinned: destroyed (detached) unless released.
struct NewLinks {
  std::vector<std::pair<std::string, bpf_link*>> links;  // (program name, link)
  ~NewLinks() {
    for (auto& [name, link] : links) bpf_link__destroy(link);
  }
};
}  // namespace

namespace {
// The build stamp: the pinned config map pinned once more as build-<16 hex digits> (FNV-1a
// of the BPF object this execgated carries and the tick length given to its programs). It
// is pinned after every link of that build and removed before any link changes, so it
// names a pinned set made whole by this very build.
std::string build_stamp(std::uint64_t tick_nsec) {
  std::size_t size = 0;
  const auto* elf = static_cast<const std::uint8_t*>(execgate_bpf__elf_bytes(&size));
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 0x100000001b3ull; };
  for (std::size_t i = 0; i < size; ++i) mix(elf[i]);
  for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(tick_nsec >> (8 * i)));
  char buf[24];
  std::snprintf(buf, sizeof buf, "build-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A new link's pin while it waits to be renamed over the old one (load_and_pin). A leftover
// (a daemon killed between the two steps) is removed at the next install.
constexpr const char* kPinTemp = "new_";  // bpffs refuses names with a dot
constexpr const char* kPinFailed =
    " (each hook's pin holds the old link or the new one; the next start loads again)";

// Removes the pins in pin_dir whose names start with prefix, but those in keep.
void unlink_pins_with_prefix(const std::string& pin_dir, const std::string& prefix,
                             const std::set<std::string>& keep = {}) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && !keep.count(name)) ::unlink(entry.path().c_str());
  }
}

// The id of the object pinned at path, 0 when there is none.
std::uint32_t pinned_map_id(const std::string& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return 0;
  bpf_map_info info{};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.id : 0;
}
}  // namespace

// A restart of the same build finds the programs it would load already pinned and
// attached: it keeps them (no verification, the hooks never change) when the build stamp
// is there and every program this kernel takes has its link pinned, running the program
// of that name, and nothing else is pinned as a link. Otherwise it returns false having
// changed nothing, and install() loads.
bool Gate::Impl::keep_pinned(const std::string& stamp) {
  if (loads_as_another_build()) return false;
  const std::uint32_t state_id = pinned_map_id(pin_dir + "/eg_state");
  if (!state_id || pinned_map_id(pin_dir + "/" + stamp) != state_id) return false;
  std::set<std::string> wanted;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) if (bpf_program__autoload(prog)) wanted.insert(bpf_program__name(prog));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("link_", 0) == 0 && !wanted.count(name.substr(5))) return false;
  }
  std::vector<UniqueFd> links;
  UniqueFd clock_prog;
  for (const auto& name : wanted) {
    UniqueFd link(bpf_obj_get((pin_dir + "/link_" + name).c_str()));
    if (!link) return false;
    bpf_link_info li{};
    __u32 len = sizeof li;
    if (bpf_obj_get_info_by_fd(link.get(), &li, &len) != 0) return false;
    UniqueFd prog_fd(bpf_prog_get_fd_by_id(li.prog_id));
    if (!prog_fd) return false;
    bpf_prog_info pi{};
    len = sizeof pi;
    if (bpf_obj_get_info_by_fd(prog_fd.get(), &pi, &len) != 0) return false;
    if (std::string_view(pi.name) != std::string_view(name).substr(0, BPF_OBJ_NAME_LEN - 1)) return false;
    if (name == bpf_program__name(skel->progs.eg_clock_sync)) clock_prog = std::move(prog_fd);
    links.push_back(std::move(link));
  }
  if (!clock_prog) return false;
  std::vector<std::pair<bpf_map*, UniqueFd>> maps;
  bpf_map* map;
  bpf_object__for_each_map(map, skel->obj) {
    if (bpf_map__is_internal(map)) continue;  // .rodata: this build's, as the stamp says
    UniqueFd fd(bpf_obj_get((pin_dir + "/" + bpf_map__name(map)).c_str()));
    if (!fd) return false;
    maps.emplace_back(map, std::move(fd));
  }
  for (auto& [m, fd] : maps) check(bpf_map__reuse_fd(m, fd.get()), std::string("pinned map ") + bpf_map__name(m));
  link_fds = std::move(links);
  clock_sync_fd = std::move(clock_prog);
  programs_kept = true;
  return true;
}

std::unique_ptr<Gate> Gate::install(const GateOptions& opts) {
  require_bpf_lsm();
  std::error_code ec;
  fs::create_directories(opts.pin_dir, ec);
  if (ec)
    throw GateUnavailable("cannot create " + opts.pin_dir + ": " + ec.message() +
                          " (is bpffs mounted? mount -t bpf bpf /sys/fs/bpf)");
  require_same_abi(opts.pin_dir);

  auto impl = std::make_unique<Impl>();
  impl->pin_dir = opts.pin_dir;
  LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = opts.pin_dir.c_str());
  // Diagnostics: EXECGATE_VERIFIER_STATS=1 prints the verifier's statistics per program
  // (instructions processed, states, time) on stderr.
  if (const char* v = std::getenv("EXECGATE_VERIFIER_STATS"); v && *v == '1') {
    oo.kernel_log_level = 4;
    libbpf_set_print([](enum libbpf_print_level, const char* fmt, va_list ap) {
      if (std::strstr(fmt, "PROG LOAD LOG")) return std::vfprintf(stderr, fmt, ap);
      return 0;
    });
  }
  impl->skel.reset(execgate_bpf__open_opts(&oo));
  if (!impl->skel) throw GateUnavailable("cannot open the BPF object: " + errstr(errno));
  if (!pinned(opts.pin_dir)) check(bpf_map__set_max_entries(impl->skel->maps.eg_events, opts.ringbuf_bytes), "ring buffer size");
  impl->skel->rodata->eg_tick_nsec = opts.tick_nsec;
  select_programs(impl->skel->obj);
  const std::string stamp = build_stamp(opts.tick_nsec);
  unlink_pins_with_prefix(opts.pin_dir, kPinTemp);
  if (!impl->keep_pinned(stamp)) impl->load_and_pin(stamp);

  impl->state = StateMapping(bpf_map__fd(impl->skel->maps.eg_state));
  // A base left by an earlier daemon may have been taken with another tick length: the
  // programs must not use it (until start_exec_clock(), execs read the clock).
  __atomic_store_n(impl->state.clock_base(), 0, __ATOMIC_RELAXED);
  return std::unique_ptr<Gate>(new Gate(std::move(impl)));
}

void Gate::Impl::load_and_pin(const std::string& build) {
  if (int rc = execgate_bpf__load(skel.get()); rc < 0)
    throw GateUnavailable("the kernel refused to load the BPF-LSM programs: " + errstr(rc) +
                          ". Needs root (CAP_BPF, CAP_MAC_ADMIN), BTF (/sys/kernel/btf/vmlinux) and BPF-LSM");

  // All or nothing: every program is attached (beside the pinned gate, which keeps
  // enforcing) before any pin changes. A program that cannot attach leaves the pinned set
  // exactly as it was; the links made so far are detached again.
  NewLinks fresh;
  std::size_t to_attach = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) to_attach += bpf_program__autoload(prog) ? 1 : 0;
  bpf_object__for_each_program(prog, skel->obj) {
    if (!bpf_program__autoload(prog)) continue;
    const bool last = fresh.links.size() + 1 == to_attach;
    bpf_link* link = attach_fault(prog, last) ? (errno = EPERM, nullptr) : bpf_program__attach(prog);
    if (!link)
      throw GateUnavailable(std::string("cannot attach ") + bpf_program__name(prog) + ": " + errstr(errno) +
                            " (nothing changed: the pinned gate keeps enforcing)");
    fresh.links.emplace_back(bpf_program__name(prog), link);
  }

  // The pinned set stops naming a build before its first link changes (build_stamp).
  unlink_pins_with_prefix(pin_dir, "build-");
  // Each new link is pinned under a temporary name, then renamed over the old link's pin
  // (bpffs renames atomically): at every moment the hook's name holds the old link or the
  // new one. A failure stops there: the links renamed so far stay (new), the others old.
  std::set<std::string> names;
  for (std::size_t i = 0; i < fresh.links.size(); ++i) {
    auto& [name, link] = fresh.links[i];
    const bool last = i + 1 == fresh.links.size();
    // (no temporary pin is left here: install() removed them before loading)
    const std::string pin = pin_dir + "/link_" + name, tmp = pin_dir + "/" + kPinTemp + "link_" + name;
    if (int rc = pin_fault("pin", i, last) ? -EPERM : bpf_link__pin(link, tmp.c_str()); rc < 0)
      throw GateUnavailable("cannot pin " + tmp + ": " + errstr(rc) + kPinFailed);
    if (pin_fault("rename", i, last) ? (errno = EPERM, true) : ::rename(tmp.c_str(), pin.c_str()) != 0) {
      const int err = errno;
      bpf_link__unpin(link);
      throw GateUnavailable("cannot rename " + tmp + " to " + pin + ": " + errstr(err) + kPinFailed);
    }
    // The pin holds the attachment; keep our own fd too and let libbpf forget the link.
    link_fds.emplace_back(::dup(bpf_link__fd(link)));
    bpf_link__disconnect(link);
    names.insert("link_" + name);
  }
  // Links of programs this build no longer has would enforce an older gate beside this one.
  unlink_pins_with_prefix(pin_dir, "link_", names);
  // The pin directory names its ABI and, once whole, its build: the config map pinned
  // again as abi-N and build-H.
  const int state_fd = bpf_map__fd(skel->maps.eg_state);
  const std::string abi = "abi-" + std::to_string(abi_version());
  unlink_pins_with_prefix(pin_dir, "abi-", {abi});
  std::error_code ec;
  if (!fs::exists(pin_dir + "/" + abi, ec)) check(bpf_obj_pin(state_fd, (pin_dir + "/" + abi).c_str()), "pin " + pin_dir + "/" + abi);
  if (pin_fault("stamp", 0, true)) throw GateUnavailable("cannot pin " + pin_dir + "/" + build + ": " + errstr(-EPERM));
  check(bpf_obj_pin(state_fd, (pin_dir + "/" + build).c_str()), "pin " + pin_dir + "/" + build);
  clock_sync_fd = UniqueFd(::dup(bpf_program__fd(skel->progs.eg_clock_sync)));
}

// The exec clock's first base, taken by eg_clock_sync itself (its tracepoint keeps it
// current from then on). Without a tick length, or when the kernel cannot run the
// program, the base stays 0 and execs read the clock.
void Gate::start_exec_clock() {
  if (impl_->skel->rodata->eg_tick_nsec && !impl_->run_clock_sync(EG_CLOCK_TAKE))
    __atomic_store_n(impl_->state.clock_base(), 0, __ATOMIC_RELAXED);
}

std::optional<std::uint32_t> Gate::check_exec_clock() {
  const auto now = std::chrono::steady_clock::now();
  if (impl_->last_check != std::chrono::steady_clock::time_point{}) {
    const auto gap = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - impl_->last_check).count());
    if (gap > impl_->max_check_gap_ms) impl_->max_check_gap_ms = gap;
    if (gap > kLateClockCheckMs) ++impl_->late_checks;
  }
  impl_->last_check = now;
  auto err_ms = impl_->run_clock_sync(EG_CLOCK_CHECK);
  if (!err_ms || *err_ms == 0) return std::nullopt;
  impl_->clock_drift_ms = *err_ms;
  return err_ms;
}

bool Gate::programs_kept() const { return impl_->programs_kept; }
std::size_t Gate::attached_programs() const { return impl_->link_fds.size(); }

ExecClock Gate::exec_clock() const {
  return ExecClock{impl_->skel->rodata->eg_tick_nsec, __atomic_load_n(impl_->state.clock_base(), __ATOMIC_RELAXED) != 0,
                   impl_->clock_drift_ms.load(), impl_->max_check_gap_ms.load(), impl_->late_checks.load()};
}

void Gate::set_config(const GateConfig& cfg) {
  const __u32 idx = EG_STATE_CONFIG;
  eg_state st{};
  st.config = to_kernel(cfg);
  st.config.abi_magic = EG_ABI_MAGIC;  // the pins' stamp (require_same_abi)
  st.config.abi_version = abi_version();
  check(bpf_map__update_elem(impl_->skel->maps.eg_state, &idx, sizeof idx, &st, sizeof st, BPF_ANY), "config map");
}

void Gate::set_audit_stalled(bool stalled) {
  __atomic_store_n(impl_->state.counter(EG_C_AUDIT_STALLED), stalled ? 1u : 0u, __ATOMIC_RELEASE);
}

GateConfig Gate::config() const {
  const __u32 idx = EG_STATE_CONFIG;
  eg_state st{};
  check(bpf_map__lookup_elem(impl_->skel->maps.eg_state, &idx, sizeof idx, &st, sizeof st, 0), "config map");
  return from_kernel(st.config);
}

template <typename K>
static std::vector<K> map_keys(bpf_map* map) {
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
static void update_inode_map(bpf_map* m, const std::map<InodeKey, __u8>& entries, const std::string& what) {
  for (const auto& [k, v] : entries) {
    eg_inode_key kk{k.dev, k.ino};
    check(bpf_map__update_elem(m, &kk, sizeof kk, &v, 1, BPF_ANY), what);
  }
  for (const auto& k : map_keys<eg_inode_key>(m))
    if (!entries.count(InodeKey{k.dev, k.ino})) bpf_map__delete_elem(m, &k, sizeof k, 0);
}

void Gate::set_loaders(const std::vector<InodeKey>& keys) {
  std::map<InodeKey, __u8> entries;
  for (const auto& k : keys) entries[k] = 1;
  update_inode_map(impl_->skel->maps.eg_loaders, entries, "loader map");
}

void Gate::set_baseline_dirs(const std::set<InodeKey>& dirs) {
  std::map<InodeKey, __u8> entries;
  for (const auto& d : dirs) entries[d] = 1;
  update_inode_map(impl_->skel->maps.eg_baseline_dirs, entries,
                   "baseline directory map (max " + std::to_string(EG_MAX_BASELINE_DIRS) + ")");
}

void Gate::set_protected(const std::map<InodeKey, std::uint8_t>& entries) {
  update_inode_map(impl_->skel->maps.eg_protected, entries,
                   "protected inode map (max " + std::to_string(EG_MAX_PROTECTED) + ")");
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
          "reserved name map (max " + std::to_string(EG_MAX_RESERVED) + ")");
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

namespace {

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
  t.writers = v.writers;
  t.generation = v.generation;
  return t;
}

}  // namespace

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

GateCounters Gate::counters() const {
  auto get = [&](std::size_t idx) { return __atomic_load_n(impl_->state.counter(idx), __ATOMIC_RELAXED); };
  return GateCounters{get(EG_C_ALLOWED), get(EG_C_DENIED), get(EG_C_MONITOR_DENIED), get(EG_C_RB_DROPS),
                      get(EG_C_EVENTS)};
}

int Gate::poll_events(int timeout_ms, const std::function<void(const GateEvent&)>& cb) {
  if (!impl_->ring) {
    impl_->ring.reset(ring_buffer__new(bpf_map__fd(impl_->skel->maps.eg_events), &Impl::on_event, impl_.get(), nullptr));
    if (!impl_->ring) throw Error(ErrorKind::kernel, "cannot open the event ring buffer: " + errstr(errno));
  }
  impl_->cb = &cb;
  int n = ring_buffer__poll(impl_->ring.get(), timeout_ms);
  if (n >= 0) {
    // Events are submitted without a wakeup in batches: drain whatever is there.
    int m = ring_buffer__consume(impl_->ring.get());
    if (m > 0) n += m;
    // Caught up: the kernel counts unwoken events from here, so a reader that keeps pace
    // on its timer is never woken per batch (each wakeup costs the exec that forces it).
    // A racing increment lost here only defers those events to the next timer drain.
    if (n > 0) __atomic_store_n(impl_->state.counter(EG_C_UNWOKEN), 0, __ATOMIC_RELAXED);
  }
  impl_->cb = nullptr;
  if (n == -EINTR) return 0;
  if (n < 0) throw Error(ErrorKind::kernel, "ring buffer poll failed: " + errstr(n));
  return n;
}

}  // namespace execgate
