// The kernel's exec decision (bpf/lib/decision.h), compiled natively (userspace/decision/):
// each row sets up tickets, baseline and loaders as the daemon would install them, then
// asks for one decision, and checks the kernel's reason for it.
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cctype>
#include <functional>
#include <string>

#include "decision/native_decision.h"
#include "execgate.h"
#include "execgate/names.h"

namespace execgate {
namespace {

// The kernel's reason code by its name (execgate/names.h), "unknown N" for a code no list has.
std::string reason(std::uint8_t code) {
  for (const auto& e : all_names<Reason>())
    if (static_cast<std::uint8_t>(e.value) == code) return std::string(e.name);
  return "unknown " + std::to_string(code);
}

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kNow = 100'000 * kSecond;  // CLOCK_BOOTTIME at the decision: a day up

NativeTicketId id(std::uint8_t b) {
  NativeTicketId i{};
  i.fill(b);
  return i;
}

NativeFile file() {
  NativeFile f;
  f.dev = (8u << 20) | 1;
  f.ino = 4242;
  f.ctime_sec = 1700000000;
  f.ctime_nsec = 5;
  f.generation = 77;
  return f;
}

NativeTicket ticket() {
  NativeTicket t;
  t.id = id(1);
  t.not_before_ns = kNow - 3600 * kSecond;
  t.not_after_ns = kNow + 3600 * kSecond;
  return t;
}

struct Ask {
  std::uint32_t uid = 1000;
  std::optional<NativeTicketId> caller;
  bool exec = true;  // an exec (spends uses, judges lineage), else an executable mapping
};

struct Case {
  const char* name;
  std::function<void(NativeDecision&, NativeFile&, Ask&)> setup;
  const char* expect;
};

const Case kCases[] = {
    {"no ticket, no baseline", [](NativeDecision&, NativeFile&, Ask&) {}, "no_ticket"},
    {"a valid ticket", [](NativeDecision& d, NativeFile& f, Ask&) { d.add_ticket(f, ticket()); }, "ticket"},
    {"not yet valid",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.not_before_ns = kNow + 10 * kSecond;
       d.add_ticket(f, t);
     },
     "not_yet_valid"},
    {"expired",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.not_after_ns = kNow;
       d.add_ticket(f, t);
     },
     "expired"},
    {"changed since the ticket (ctime)",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.add_ticket(f, ticket());
       f.ctime_nsec += 1;
     },
     "stale"},
    {"another file at the same inode number (generation)",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.add_ticket(f, ticket());
       f.generation += 1;
     },
     "stale"},
    {"a uid the ticket does not name",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.uids = {0, 33};
       d.add_ticket(f, t);
     },
     "uid_mismatch"},
    {"a uid the ticket names",
     [](NativeDecision& d, NativeFile& f, Ask& a) {
       auto t = ticket();
       t.uids = {0, 33};
       d.add_ticket(f, t);
       a.uid = 33;
     },
     "ticket"},
    {"parent-bound, the caller holds no ticket",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.parent = id(9);
       d.add_ticket(f, t);
     },
     "lineage"},
    {"parent-bound, the caller holds another ticket",
     [](NativeDecision& d, NativeFile& f, Ask& a) {
       auto t = ticket();
       t.parent = id(9);
       d.add_ticket(f, t);
       a.caller = id(8);
     },
     "lineage"},
    {"parent-bound, the caller holds the parent",
     [](NativeDecision& d, NativeFile& f, Ask& a) {
       auto t = ticket();
       t.parent = id(9);
       d.add_ticket(f, t);
       a.caller = id(9);
     },
     "ticket"},
    {"parent-bound, mapped (lineage is judged at exec only)",
     [](NativeDecision& d, NativeFile& f, Ask& a) {
       auto t = ticket();
       t.parent = id(9);
       d.add_ticket(f, t);
       a.exec = false;
     },
     "ticket"},
    {"no use left",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.uses_left = 0;
       d.add_ticket(f, t);
     },
     "exhausted"},
    {"installed, not yet sealed",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.pending = true;
       d.add_ticket(f, t);
     },
     "unsealed"},
    {"pinned baseline, unchanged", [](NativeDecision& d, NativeFile& f, Ask&) { d.pin_baseline(f); }, "baseline"},
    {"pinned baseline, changed since",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.pin_baseline(f);
       f.ctime_sec += 1;
     },
     "stale"},
    {"root-owned trust: owned by root, not group or other writable",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.set_trust_root_owned(true);
       f.owner = 0;
       f.mode = 0100755;
     },
     "baseline"},
    {"root-owned trust: group-writable",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.set_trust_root_owned(true);
       f.owner = 0;
       f.mode = 0100775;
     },
     "no_ticket"},
    {"root-owned trust: owned by a user",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.set_trust_root_owned(true);
       f.owner = 1000;
     },
     "no_ticket"},
    {"the loader run as a program, pinned as baseline",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.pin_baseline(f);
       d.add_loader(f);
     },
     "loader_bypass"},
    {"the loader mapped (not run as a program)",
     [](NativeDecision& d, NativeFile& f, Ask& a) {
       d.pin_baseline(f);
       d.add_loader(f);
       a.exec = false;
     },
     "baseline"},
    {"an expired ticket on a pinned baseline file: the baseline allows",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.not_after_ns = kNow - 1;
       d.add_ticket(f, t);
       d.pin_baseline(f);
     },
     "baseline"},
    {"an expired ticket, no baseline: the ticket's reason",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       auto t = ticket();
       t.not_after_ns = kNow - 1;
       d.add_ticket(f, t);
     },
     "expired"},
    {"memory without a file (memfd)",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.add_ticket(f, ticket());
       f.nlink = 0;
       f.kernel_mount = true;
     },
     "memfd"},
    {"an O_TMPFILE file",
     [](NativeDecision&, NativeFile& f, Ask&) {
       f.nlink = 0;
       f.name = "#4242";
     },
     "tmpfile"},
    {"a file unlinked while open, ticketed",
     [](NativeDecision& d, NativeFile& f, Ask&) {
       d.add_ticket(f, ticket());
       f.nlink = 0;
     },
     "unlinked"},
};

class DecisionTable : public ::testing::TestWithParam<Case> {};

TEST_P(DecisionTable, KernelReason) {
  const Case& c = GetParam();
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  Ask a;
  c.setup(d, f, a);
  const NativeVerdict v = d.decide(f, a.uid, a.caller, a.exec, a.exec);
  EXPECT_EQ(reason(v.reason), c.expect) << c.name;
  EXPECT_EQ(v.allowed, std::string(c.expect) == "ticket" || std::string(c.expect) == "baseline") << c.name;
}

std::string case_name(const ::testing::TestParamInfo<Case>& row) {
  std::string n;
  for (const char* p = row.param.name; *p; ++p) n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return std::to_string(row.index) + "_" + n.substr(0, 40);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecisionTable, ::testing::ValuesIn(kCases), case_name);

TEST(NativeDecision, UsesAreSpentByExecsNotByMappings) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  auto t = ticket();
  t.uses_left = 2;
  d.add_ticket(f, t);
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, false, false).reason), "ticket");  // a mapping
  EXPECT_EQ(d.uses_left(f), 2);
  auto first = d.decide(f, 1000, std::nullopt, true, true);
  EXPECT_EQ(reason(first.reason), "ticket");
  EXPECT_FALSE(first.last_use);
  auto second = d.decide(f, 1000, std::nullopt, true, true);
  EXPECT_EQ(reason(second.reason), "ticket");
  EXPECT_TRUE(second.last_use);
  EXPECT_TRUE(second.spent);
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true).reason), "exhausted");
}

TEST(NativeDecision, AnEstimateNearABoundReadsTheClock) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  auto t = ticket();
  t.not_after_ns = kNow - 1;  // expired by the clock
  d.add_ticket(f, t);
  // an estimate 0.5 s behind says valid, but it is within the slack of the bound: the
  // clock is read, and the clock says expired
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true, kNow - kSecond / 2).reason), "expired");
  // an estimate far from both bounds decides alone
  t.not_after_ns = kNow + 3600 * kSecond;
  d.add_ticket(f, t);
  d.set_now(kNow + 7200 * kSecond);  // the clock would say expired; the estimate is trusted
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true, kNow).reason), "ticket");
}

}  // namespace
}  // namespace execgate
