// The state directory's seal: the host key, the MAC of an installed record, and the checks
// at start-up against the key the audit log names (state_seal.h, state_history.h).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "audit_test_util.h"
#include "common/fs.h"
#include "execgate/error.h"
#include "state_history.h"
#include "state_seal.h"

namespace execgate {
namespace {

using audit_test::TempDir;

const std::string kA(32, 'a'), kB(32, 'b');

InstalledRecord record(const std::string& envelope = "{\"payload\":\"x\"}") {
  InstalledRecord r;
  r.envelope = envelope;
  r.installed_at = 1'800'000'000;
  r.uses_left = 3;
  return r;
}

// A log whose daemon_start names KEY_ID (none when empty), with A installed.
std::string write_log(const TempDir& dir, const std::string& key_id, bool reset_after = false) {
  AuditOptions o;
  o.path = dir.file("audit.jsonl");
  o.try_append_only = false;
  auto log = AuditLog::open(o);
  log->append({{"event", "ticket_installed"}, {"ticket", kA}, {"reason", "ticket"}, {"max_uses", 0}});
  log->append({{"event", "ticket_revoked"}, {"ticket", kB}, {"reason", "revoked"}});
  nlohmann::json start{{"event", "daemon_start"}, {"reason", "fresh"}};
  if (!key_id.empty()) start["state_key"] = key_id;
  log->append(start);
  if (reset_after) log->append({{"event", "state_reset"}, {"reason", "operator"}, {"detail", "purged"}});
  log->close();
  return o.path;
}

TEST(StateSeal, AKeyReadsBackWithTheSameIdAndIsPrivate) {
  TempDir dir;
  const StateSeal made = StateSeal::create(dir.file("state.key"));
  const StateSeal read = StateSeal::load(dir.file("state.key"));
  EXPECT_EQ(made.key_id(), read.key_id());
  EXPECT_EQ(made.key_id().size(), 16u);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("state.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(StateSeal::create(dir.file("other.key")).key_id(), made.key_id());
}

TEST(StateSeal, EveryFieldIsSealed) {
  TempDir dir;
  const StateSeal seal = StateSeal::create(dir.file("state.key"));
  InstalledRecord r = record();
  r.seal = seal.seal(kA, r);
  EXPECT_TRUE(seal.verifies(kA, r));
  EXPECT_FALSE(seal.verifies(kB, r)) << "another id";
  InstalledRecord e = r, t = r, u = r, n = r, x = r;
  e.envelope += " ";
  t.installed_at += 1;
  u.uses_left = 4;
  n.uses_left.reset();
  x.seal[0] = x.seal[0] == '0' ? '1' : '0';
  for (const auto& bad : {e, t, u, n, x}) EXPECT_FALSE(seal.verifies(kA, bad));
  EXPECT_FALSE(StateSeal::create(dir.file("other.key")).verifies(kA, r)) << "another host's key";
}

TEST(StateSeal, AMalformedKeyFileIsNamed) {
  TempDir dir;
  write_file_atomic(dir.file("state.key"), "not a key\n", 0600);
  try {
    StateSeal::load(dir.file("state.key"));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("state.key")), std::string::npos) << e.what();
  }
}

TEST(StateSeal, TheStoreSealsWhatItWritesAndReadsTheSealBack) {
  TempDir dir;
  StateStore store(dir.file("state"));
  const StateSeal seal = StateSeal::create(store.key_path());
  store.set_seal(&seal);
  store.put_installed(kA, record());
  const InstalledRecord back = store.load().installed.at(kA);
  EXPECT_TRUE(seal.verifies(kA, back));
}

TEST(StateKey, TheLogNamesTheKeyOfEachStart) {
  TempDir dir;
  AuditedState a = audited_state(write_log(dir, "0123456789abcdef"));
  ASSERT_TRUE(a.state_key);
  EXPECT_EQ(a.state_key->id, "0123456789abcdef");
  EXPECT_EQ(a.state_key->seq, 3u);
  EXPECT_EQ(a.installed.count(kA), 1u);
}

TEST(StateKey, AResetRecordEndsWhatTheLogBinds) {
  TempDir dir;
  AuditedState a = audited_state(write_log(dir, "0123456789abcdef", true));
  EXPECT_FALSE(a.state_key);
  EXPECT_TRUE(a.revoked.empty());
  EXPECT_TRUE(a.installed.empty());
}

TEST(StateKey, AMissingKeyTheLogNamesIsRefusedByName) {
  TempDir dir;
  StateStore store(dir.file("state"));
  AuditedState a = audited_state(write_log(dir, "0123456789abcdef"));
  bool created = false;
  try {
    open_state_seal(store, a, &created);
    FAIL() << "a missing key the log names was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(store.key_path() + " is missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0123456789abcdef"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(path_exists(store.key_path())) << "no key made up in its place";
}

TEST(StateKey, AnotherKeyThanTheLogsIsRefused) {
  TempDir dir;
  StateStore store(dir.file("state"));
  StateSeal::create(store.key_path());
  AuditedState a = audited_state(write_log(dir, "0123456789abcdef"));
  bool created = false;
  EXPECT_THROW(open_state_seal(store, a, &created), Error);
}

TEST(StateKey, TheFirstStartMakesTheKeyAndTheNextReadsIt) {
  TempDir dir;
  StateStore store(dir.file("state"));
  bool created = false;
  const std::string id = open_state_seal(store, audited_state(write_log(dir, "")), &created).key_id();
  EXPECT_TRUE(created);
  AuditedState named;
  named.state_key = AuditedStateKey{id, 9};
  EXPECT_EQ(open_state_seal(store, named, &created).key_id(), id);
  EXPECT_FALSE(created);
}

TEST(StateKey, RecordsTheDaemonDidNotWriteAreMarked) {
  TempDir dir;
  StateStore store(dir.file("state"));
  const StateSeal seal = StateSeal::create(store.key_path());
  const StateSeal elsewhere = StateSeal::create(dir.file("elsewhere.key"));
  StateSnapshot s;
  InstalledRecord own = record(), unsealed = record(), foreign = record();
  own.seal = seal.seal(kA, own);
  foreign.seal = elsewhere.seal(kB, foreign);
  s.installed[kA] = own;
  s.installed[kB] = foreign;
  s.installed[std::string(32, 'c')] = unsealed;
  authenticate_installed(s, audited_state(write_log(dir, "")), store, seal, false);
  EXPECT_FALSE(s.installed.at(kA).unrecognised);
  ASSERT_TRUE(s.installed.at(kB).unrecognised);
  EXPECT_NE(s.installed.at(kB).unrecognised->find("does not verify"), std::string::npos);
  ASSERT_TRUE(s.installed.at(std::string(32, 'c')).unrecognised);
  EXPECT_NE(s.installed.at(std::string(32, 'c')).unrecognised->find("no state seal"), std::string::npos);
}

// A state directory from before seals: the key is made now, and an unsealed record is kept
// (and sealed) only when the log records its ticket_installed.
TEST(StateKey, OnTheFirstSealedStartOnlyRecordsTheLogKnowsAreKept) {
  TempDir dir;
  StateStore store(dir.file("state"));
  const std::string c(32, 'c');
  store.put_installed(kA, record());  // written unsealed, as before seals
  store.put_installed(c, record());
  StateSnapshot s = store.load();
  bool created = false;
  const AuditedState a = audited_state(write_log(dir, ""));
  const StateSeal seal = open_state_seal(store, a, &created);
  ASSERT_TRUE(created);
  store.set_seal(&seal);
  authenticate_installed(s, a, store, seal, created);
  EXPECT_FALSE(s.installed.at(kA).unrecognised) << "the log records its install";
  EXPECT_TRUE(seal.verifies(kA, store.load().installed.at(kA))) << "sealed on disk now";
  ASSERT_TRUE(s.installed.at(c).unrecognised);
  EXPECT_NE(s.installed.at(c).unrecognised->find("records no ticket_installed"), std::string::npos);
}

}  // namespace
}  // namespace execgate
