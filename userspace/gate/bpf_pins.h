// The pin directory on bpffs: what is pinned there, which kernel ABI it speaks, and the
// names of the pins (docs/daemon.md "Upgrades"). Private to the real gate's sources.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace execgate::pins {

// A new link's pin while it waits to be renamed over the old one (load_and_pin). A leftover
// (a daemon killed between the two steps) is removed at the next install. bpffs refuses
// names with a dot.
inline constexpr const char* kTemp = "new_";
inline constexpr const char* kLink = "link_";
inline constexpr const char* kBuild = "build-";
inline constexpr const char* kAbi = "abi-";

// The kernel ABI of the gate pinned under pin_dir (read from the pinned config's stamp):
// nullopt when nothing is pinned there, 0 when the pins predate ABI stamps. A state map
// never configured, of today's layout, speaks `current`.
std::optional<std::uint32_t> pinned_abi(const std::string& pin_dir, std::uint32_t current);

// Throws GateUnavailable when the pins speak another kernel ABI than `current`: their maps
// would be read with the wrong layout.
void require_same_abi(const std::string& pin_dir, std::uint32_t current);

// Removes the pins in pin_dir whose names start with prefix, but those in keep.
void unlink_with_prefix(const std::string& pin_dir, const std::string& prefix, const std::set<std::string>& keep = {});

// The id of the map pinned at path, 0 when there is none.
std::uint32_t map_id(const std::string& path);

}  // namespace execgate::pins
