// The state directory checked against the audit log: a rewound directory is named.
#include <gtest/gtest.h>

#include "audit_test_util.h"
#include "state_history.h"

namespace execgate {
namespace {

using audit_test::TempDir;
using nlohmann::json;

const std::string kA(32, 'a'), kB(32, 'b'), kC(32, 'c');

// A log as the daemon writes it: A revoked; B (max_uses) exhausted; C (max_uses) expired.
std::string write_log(const TempDir& dir, std::uint64_t rotate_bytes = 64ull << 20) {
  AuditOptions o;
  o.path = dir.file("audit.jsonl");
  o.rotate_bytes = rotate_bytes;
  o.try_append_only = false;
  auto log = AuditLog::open(o);
  log->append({{"event", "ticket_installed"}, {"ticket", kA}, {"reason", "ticket"}, {"max_uses", 0}});
  log->append({{"event", "ticket_installed"}, {"ticket", kB}, {"reason", "ticket"}, {"max_uses", 1}});
  log->append({{"event", "ticket_installed"}, {"ticket", kC}, {"reason", "ticket"}, {"max_uses", 2}});
  log->append({{"event", "ticket_revoked"}, {"ticket", kA}, {"reason", "revoked"}});
  log->append({{"event", "ticket_expired"}, {"ticket", kB}, {"reason", "exhausted"}});
  log->append({{"event", "ticket_expired"}, {"ticket", kC}, {"reason", "expired"}});
  log->close();
  return o.path;
}

TEST(StateHistory, CollectsRevocationsAndSpentTicketsFromTheLog) {
  TempDir dir;
  AuditedState a = audited_state(write_log(dir));
  EXPECT_EQ(a.revoked.size(), 1u);
  EXPECT_EQ(a.revoked.at(kA), 4u);
  EXPECT_EQ(a.spent.size(), 2u);  // B exhausted, C (limited) expired; A had no max_uses
  EXPECT_EQ(a.spent.at(kB), 5u);
  EXPECT_EQ(a.spent.at(kC), 6u);
}

TEST(StateHistory, ReadsRotatedFilesToo) {
  TempDir dir;
  const std::string live = write_log(dir, 4096);
  AuditOptions o;  // enough records to rotate past the ones that matter
  o.path = live;
  o.rotate_bytes = 4096;
  o.try_append_only = false;
  auto log = AuditLog::open(o);
  for (int i = 0; i < 100; ++i) log->append({{"event", "daemon_start"}, {"reason", "fresh"}, {"detail", std::string(64, 'x')}});
  log->close();
  ASSERT_GT(audit_log_files(live).size(), 1u);
  AuditedState a = audited_state(live);
  EXPECT_EQ(a.revoked.count(kA), 1u);
  EXPECT_EQ(a.spent.size(), 2u);
}

TEST(StateHistory, ARewoundStateDirectoryIsNamed) {
  TempDir dir;
  AuditedState a = audited_state(write_log(dir));
  StateStore store(dir.file("state"));
  StateSnapshot s;
  s.tombstones[kA] = std::string(32, 'f');
  s.spent[kB] = "d";
  s.spent[kC] = "d";
  EXPECT_EQ(rewound_state(s, a, store), std::nullopt);

  StateSnapshot no_tomb = s;
  no_tomb.tombstones.clear();
  auto why = rewound_state(no_tomb, a, store);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find(store.tombstone_path(kA)), std::string::npos) << *why;
  EXPECT_NE(why->find("seq 4"), std::string::npos) << *why;

  StateSnapshot no_spent = s;
  no_spent.spent.erase(kC);
  why = rewound_state(no_spent, a, store);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find(store.spent_path(kC)), std::string::npos) << *why;
}

TEST(StateHistory, AnEmptyOrMissingLogAsksNothing) {
  TempDir dir;
  AuditedState a = audited_state(dir.file("none.jsonl"));
  EXPECT_TRUE(a.revoked.empty());
  EXPECT_TRUE(a.spent.empty());
}

}  // namespace
}  // namespace execgate
