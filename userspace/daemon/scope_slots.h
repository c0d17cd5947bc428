// Where each scope cgroup sits in eg_config.scopes[]. The kernel reads the config while
// the daemon rewrites it (a map update is a plain copy), so a reload must never move a
// scope that stays: a program reading mid-copy would miss it and let its tasks run
// ungated for that moment. Kept scopes keep their slot, removed ones leave an empty slot
// (id 0 matches nothing), new ones fill empty slots first.
#pragma once

#include <vector>

#include "gate/gate_types.h"

namespace execgate {

// previous: the slots now in the kernel (empty slots have id 0); wanted: the new scope
// cgroups. Returns the new slots; at most max(previous.size(), wanted.size()) of them,
// with no trailing empty slot.
std::vector<CgroupRef> assign_scope_slots(const std::vector<CgroupRef>& previous, const std::vector<CgroupRef>& wanted);

}  // namespace execgate
