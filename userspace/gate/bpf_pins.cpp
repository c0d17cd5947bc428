#include "gate/bpf_pins.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "gate/gate_impl.h"

namespace execgate {
namespace fs = std::filesystem;

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

namespace pins {

std::optional<std::uint32_t> pinned_abi(const std::string& pin_dir, std::uint32_t current) {
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
  if (pinned.abi_magic == 0 && info.value_size == sizeof(eg_state)) return current;
  return 0;
}

void require_same_abi(const std::string& pin_dir, std::uint32_t current) {
  const auto pinned = pinned_abi(pin_dir, current);
  if (!pinned || *pinned == current) return;
  throw GateUnavailable(
      "the gate pinned under " + pin_dir + " speaks kernel ABI " +
      (*pinned ? std::to_string(*pinned) : std::string("0 (an execgated older than ABI stamps)")) +
      ", this execgated kernel ABI " + std::to_string(current) +
      ": its maps would be read with the wrong layout, so they are left alone and the pinned gate keeps "
      "enforcing. To replace it: stop what runs in the gated scopes, run `execgated --uninstall --pin-dir " +
      pin_dir + "`, then start this execgated (docs/daemon.md, \"Upgrades\")");
}

void unlink_with_prefix(const std::string& pin_dir, const std::string& prefix, const std::set<std::string>& keep) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && !keep.count(name)) ::unlink(entry.path().c_str());
  }
}

std::uint32_t map_id(const std::string& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return 0;
  bpf_map_info info{};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.id : 0;
}

}  // namespace pins
}  // namespace execgate
