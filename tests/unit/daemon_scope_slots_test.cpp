// Scope slots: a reload never moves a scope that stays (the kernel may read the config
// mid-update), fills holes first and never needs more than 16 slots.
#include <gtest/gtest.h>

#include "scope_slots.h"

using execgate::assign_scope_slots;
using execgate::CgroupRef;

static std::vector<std::uint64_t> ids(const std::vector<CgroupRef>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& c : v) out.push_back(c.id);
  return out;
}

TEST(ScopeSlots, FirstAssignmentKeepsPolicyOrder) {
  auto s = assign_scope_slots({}, {{10, 1}, {20, 2}});
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10, 20}));
  EXPECT_EQ(s[1].level, 2u);
}

TEST(ScopeSlots, ReorderedPolicyMovesNothing) {
  auto s = assign_scope_slots({{10, 1}, {20, 2}}, {{20, 2}, {10, 1}});
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10, 20}));
}

TEST(ScopeSlots, RemovedLeavesAHoleThatTheNextNewOneFills) {
  auto s = assign_scope_slots({{10, 1}, {20, 2}, {30, 1}}, {{30, 1}, {10, 1}});
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10, 0, 30}));
  s = assign_scope_slots(s, {{30, 1}, {10, 1}, {40, 3}});
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10, 40, 30}));
}

TEST(ScopeSlots, TrailingHolesAreTrimmed) {
  auto s = assign_scope_slots({{10, 1}, {20, 2}}, {{10, 1}});
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10}));
  EXPECT_TRUE(assign_scope_slots({{10, 1}}, {}).empty());
}

TEST(ScopeSlots, SameIdAtAnotherLevelIsAnotherScope) {
  // a cgroup removed and re-created elsewhere: never matched at its old level
  auto s = assign_scope_slots({{10, 1}}, {{10, 2}});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].level, 2u);
}

TEST(ScopeSlots, ReplacingAllSixteenNeedsNoMoreThanSixteen) {
  std::vector<CgroupRef> prev, next;
  for (std::uint64_t i = 1; i <= 16; ++i) prev.push_back({i, 1}), next.push_back({100 + i, 1});
  auto s = assign_scope_slots(prev, next);
  EXPECT_EQ(s.size(), 16u);
  for (std::size_t i = 0; i < 15; ++i) next.pop_back();  // only the first stays
  s = assign_scope_slots(s, next);
  EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{101}));
}
