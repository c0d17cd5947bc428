// The gate's programs: which of them this kernel takes, keeping this very build's pinned
// programs on a restart, and loading, attaching and pinning them otherwise, one hook's pin
// replaced at a time (docs/daemon.md "Upgrades").
#include <bpf/btf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include "gate/bpf_pins.h"
#include "gate/gate_impl.h"

namespace execgate {
namespace fs = std::filesystem;

namespace {

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

// New links, attached but not yet pinned: destroyed (detached) unless released.
struct NewLinks {
  std::vector<std::pair<std::string, bpf_link*>> links;  // (program name, link)
  ~NewLinks() {
    for (auto& [name, link] : links) bpf_link__destroy(link);
  }
};

constexpr const char* kPinFailed =
    " (each hook's pin holds the old link or the new one; the next start loads again)";

}  // namespace

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
  std::snprintf(buf, sizeof buf, "%s%016llx", pins::kBuild, static_cast<unsigned long long>(h));
  return buf;
}

// Leaves out the programs the running kernel cannot take: optional hooks it lacks, shapes
// it does not have.
void Gate::Impl::select_programs() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return;  // the load itself will say what is wrong
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
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

// A restart of the same build finds the programs it would load already pinned and
// attached: it keeps them (no verification, the hooks never change) when the build stamp
// is there and every program this kernel takes has its link pinned, running the program
// of that name, and nothing else is pinned as a link. Otherwise it returns false having
// changed nothing, and install() loads.
bool Gate::Impl::keep_pinned(const std::string& stamp) {
  if (faults.forces_load()) return false;
  const std::uint32_t state_id = pins::map_id(pin_dir + "/eg_state");
  if (!state_id || pins::map_id(pin_dir + "/" + stamp) != state_id) return false;
  std::set<std::string> wanted;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) if (bpf_program__autoload(prog)) wanted.insert(bpf_program__name(prog));
  const std::string link_prefix = pins::kLink;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(link_prefix, 0) == 0 && !wanted.count(name.substr(link_prefix.size()))) return false;
  }
  std::vector<UniqueFd> links;
  UniqueFd clock_prog;
  for (const auto& name : wanted) {
    UniqueFd link(bpf_obj_get((pin_dir + "/" + link_prefix + name).c_str()));
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
    bpf_link* link = faults.attach_fails(bpf_program__name(prog), last) ? (errno = EPERM, nullptr)
                                                                        : bpf_program__attach(prog);
    if (!link)
      throw GateUnavailable(std::string("cannot attach ") + bpf_program__name(prog) + ": " + errstr(errno) +
                            " (nothing changed: the pinned gate keeps enforcing)");
    fresh.links.emplace_back(bpf_program__name(prog), link);
  }

  // The pinned set stops naming a build before its first link changes (build_stamp).
  pins::unlink_with_prefix(pin_dir, pins::kBuild);
  // Each new link is pinned under a temporary name, then renamed over the old link's pin
  // (bpffs renames atomically): at every moment the hook's name holds the old link or the
  // new one. A failure stops there: the links renamed so far stay (new), the others old.
  // (No temporary pin is left from before: install() removed them before loading.)
  std::set<std::string> names;
  for (std::size_t i = 0; i < fresh.links.size(); ++i) {
    auto& [name, link] = fresh.links[i];
    const bool last = i + 1 == fresh.links.size();
    const std::string pin_name = pins::kLink + name;
    const std::string pin = pin_dir + "/" + pin_name, tmp = pin_dir + "/" + pins::kTemp + pin_name;
    if (int rc = faults.pin_fails("pin", i, last) ? -EPERM : bpf_link__pin(link, tmp.c_str()); rc < 0)
      throw GateUnavailable("cannot pin " + tmp + ": " + errstr(rc) + kPinFailed);
    if (faults.pin_fails("rename", i, last) ? (errno = EPERM, true) : ::rename(tmp.c_str(), pin.c_str()) != 0) {
      const int err = errno;
      bpf_link__unpin(link);
      throw GateUnavailable("cannot rename " + tmp + " to " + pin + ": " + errstr(err) + kPinFailed);
    }
    // The pin holds the attachment; keep our own fd too and let libbpf forget the link.
    link_fds.emplace_back(::dup(bpf_link__fd(link)));
    bpf_link__disconnect(link);
    names.insert(pin_name);
  }
  // Links of programs this build no longer has would enforce an older gate beside this one.
  pins::unlink_with_prefix(pin_dir, pins::kLink, names);
  // The pin directory names its ABI and, once whole, its build: the config map pinned
  // again as abi-N and build-H.
  const int state_fd = bpf_map__fd(skel->maps.eg_state);
  const std::string abi = pins::kAbi + std::to_string(abi_version());
  pins::unlink_with_prefix(pin_dir, pins::kAbi, {abi});
  std::error_code ec;
  if (!fs::exists(pin_dir + "/" + abi, ec)) check(bpf_obj_pin(state_fd, (pin_dir + "/" + abi).c_str()), "pin " + pin_dir + "/" + abi);
  if (faults.pin_fails("stamp", 0, true)) throw GateUnavailable("cannot pin " + pin_dir + "/" + build + ": " + errstr(-EPERM));
  check(bpf_obj_pin(state_fd, (pin_dir + "/" + build).c_str()), "pin " + pin_dir + "/" + build);
  clock_sync_fd = UniqueFd(::dup(bpf_program__fd(skel->progs.eg_clock_sync)));
}

}  // namespace execgate
