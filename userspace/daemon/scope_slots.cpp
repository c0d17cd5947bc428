#include "scope_slots.h"

#include <algorithm>

namespace execgate {

static bool same(const CgroupRef& a, const CgroupRef& b) { return a.id == b.id && a.level == b.level; }

std::vector<CgroupRef> assign_scope_slots(const std::vector<CgroupRef>& previous, const std::vector<CgroupRef>& wanted) {
  auto is_wanted = [&](const CgroupRef& c) {
    return std::any_of(wanted.begin(), wanted.end(), [&](const CgroupRef& w) { return same(w, c); });
  };
  std::vector<CgroupRef> slots;
  for (const auto& p : previous) slots.push_back(p.id && is_wanted(p) ? p : CgroupRef{});
  for (const auto& w : wanted) {
    if (std::any_of(slots.begin(), slots.end(), [&](const CgroupRef& s) { return same(s, w); })) continue;
    auto hole = std::find_if(slots.begin(), slots.end(), [](const CgroupRef& s) { return s.id == 0; });
    if (hole != slots.end())
      *hole = w;
    else
      slots.push_back(w);
  }
  while (!slots.empty() && slots.back().id == 0) slots.pop_back();
  return slots;
}

}  // namespace execgate
