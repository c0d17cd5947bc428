// Writer: resume, rotation continuity, concurrency, validation, status.
#include <thread>

#include "audit_test_util.h"
#include "execgate/error.h"

namespace execgate {
namespace {

using namespace audit_test;

TEST(AuditWriter, FirstRecordsAndStatus) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  auto log = AuditLog::open(opt);
  EXPECT_EQ(log->append(exec_fields(0)), 1u);
  EXPECT_EQ(log->append({{"event", "daemon_start"}}), 2u);
  EXPECT_EQ(log->append_gap(17, RecordReason::ring_buffer_full), 3u);
  log->flush();
  auto s = log->status();
  EXPECT_EQ(s.last_seq, 3u);
  EXPECT_EQ(s.durable_seq, 3u);
  EXPECT_EQ(s.records_written, 3u);
  EXPECT_GE(s.fsync_count, 1u);
  EXPECT_EQ(s.key_id, keys.kp.pub.key_id());
  EXPECT_EQ(s.path, opt.path);
  EXPECT_TRUE(s.append_only || !s.append_only_detail.empty());
  auto lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(rec(lines[2])["hash"], s.last_hash);
  auto gap = rec(lines[2]);
  EXPECT_EQ(gap["event"], "gap");
  EXPECT_EQ(gap["count"], 17);
  EXPECT_EQ(gap["reason"], "ring_buffer_full");
  auto first = rec(lines[0]);
  EXPECT_EQ(first["prev"], std::string(kAuditGenesisPrev));
  std::string t = first["time"];
  EXPECT_EQ(t.size(), 30u);
  EXPECT_EQ(t.back(), 'Z');
  log->close();
  log->close();  // idempotent
  EXPECT_THROW(log->append(exec_fields(1)), Error);
  lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(rec(lines[3])["event"], "checkpoint");
  EXPECT_EQ(rec(lines[3])["seq_head"], 3);
  EXPECT_EQ(rec(lines[3])["key_id"], keys.kp.pub.key_id());
  auto r = verify_closed_log(opt.path, keys);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(AuditWriter, RejectsBadFields) {
  TempDir dir;
  Keys keys(dir);
  auto log = AuditLog::open(test_options(dir, keys));
  EXPECT_THROW(log->append(nlohmann::json::array()), Error);
  EXPECT_THROW(log->append({{"verdict", "allow"}}), Error);
  EXPECT_THROW(log->append({{"event", "nonsense"}}), Error);
  EXPECT_THROW(log->append({{"event", "checkpoint"}}), Error);
  EXPECT_THROW(log->append({{"event", "exec"}, {"seq", 5}}), Error);
  EXPECT_THROW(log->append({{"event", "exec"}, {"hash", "x"}}), Error);
  EXPECT_EQ(log->status().last_seq, 0u);
}

TEST(AuditWriter, ReopenContinuesTheChain) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  write_log(opt, 7);  // 1..7, final checkpoint 8
  {
    auto log = AuditLog::open(opt);
    log->flush();  // nothing pending: returns at once
    EXPECT_EQ(log->status().durable_seq, 8u);
    EXPECT_EQ(log->status().last_seq, 8u);
    EXPECT_EQ(log->append(exec_fields(7)), 9u);
  }  // destructor closes: checkpoint 10
  auto lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(rec(lines[8])["prev"], rec(lines[7])["hash"]);
  auto r = verify_closed_log(opt.path, keys);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.last_seq, 10u);
}

// status() gives the newest checkpoint once it is on disk, byte for byte its stored line
// (what a host publishes to the fleet), and after a reopen the one the live file ends with.
TEST(AuditWriter, StatusGivesTheNewestCheckpointOnDisk) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);  // checkpoint_every 10
  {
    auto log = AuditLog::open(opt);
    EXPECT_EQ(log->status().checkpoint_seq, 0u);
    EXPECT_TRUE(log->status().checkpoint_line.empty());
    for (int i = 0; i < 12; ++i) log->append(exec_fields(i));  // checkpoint at 11 before record 12
    log->flush();
    const AuditStatus s = log->status();
    ASSERT_EQ(s.checkpoint_seq, 11u);
    const auto lines = read_lines(opt.path);
    EXPECT_EQ(s.checkpoint_line, lines[10]);
    EXPECT_EQ(rec(s.checkpoint_line)["seq_head"], 10);
  }  // close: the final checkpoint at 14
  auto log = AuditLog::open(opt);
  const AuditStatus s = log->status();
  EXPECT_EQ(s.checkpoint_seq, 14u);
  EXPECT_EQ(s.checkpoint_line, read_lines(opt.path).back());
}

TEST(AuditWriter, ReopenWithoutCheckpointCountsTheUnsignedTail) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  write_log(opt, 5);
  auto lines = read_lines(opt.path);
  lines.pop_back();  // as if the daemon died before its final checkpoint
  write_lines(opt.path, lines);
  write_log(opt, 8, 5);  // 5 + 8 = 13 > 10: the writer checkpoints after 5 more
  auto r = verify_audit(opt.path, keys.kp.pub);
  EXPECT_TRUE(r.ok) << r.reason;
  auto all = read_lines(opt.path);
  EXPECT_EQ(rec(all[10])["event"], "checkpoint");  // seq 11 after records 1..5,6..10
}

TEST(AuditWriter, ReopenRefusesATamperedTail) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  write_log(opt, 15);  // 1..10, checkpoint 11, 12..16, final checkpoint 17
  auto lines = read_lines(opt.path);
  lines.pop_back();  // crash before the final checkpoint: 12..16 are unsigned
  auto r = rec(lines[13]);
  r["path"] = "/tmp/other";
  lines[13] = rehash(r);  // chain broken after the last checkpoint (15 names the old hash of 14)
  write_lines(opt.path, lines);
  try {
    AuditLog::open(opt);
    FAIL() << "open should refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::verification);
  }
}

TEST(AuditWriter, TornTailIsTruncatedAndRecordedAsGap) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  write_log(opt, 4);  // 1..4 + checkpoint 5
  {
    std::ofstream out(opt.path, std::ios::app | std::ios::binary);
    out << R"({"comm":"sh","event":"exec","pid":4)";
  }
  EXPECT_FALSE(verify_audit(opt.path, keys.kp.pub).ok);
  auto log = AuditLog::open(opt);
  EXPECT_EQ(log->status().last_seq, 6u);
  log->close();
  auto lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 7u);
  auto gap = rec(lines[5]);
  EXPECT_EQ(gap["event"], "gap");
  EXPECT_EQ(gap["reason"], "torn_write");
  EXPECT_EQ(gap["count"], 1);
  EXPECT_NE(gap["detail"].get<std::string>().find("truncated 35 bytes"), std::string::npos);
  auto r = verify_audit(opt.path, keys.kp.pub);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(AuditWriter, RotationContinuity) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.rotate_bytes = 4000;
  write_log(opt, 100);
  auto files = audit_log_files(opt.path);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.back(), opt.path);
  EXPECT_EQ(files.front(), audit_rotated_name(opt.path, 1));
  // Every rotated file ends with a checkpoint, the next starts with its last hash.
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    auto a = read_lines(files[i]), b = read_lines(files[i + 1]);
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    EXPECT_EQ(rec(a.back())["event"], "checkpoint");
    EXPECT_EQ(rec(b.front())["prev"], rec(a.back())["hash"]);
    EXPECT_EQ(rec(b.front())["seq"].get<std::uint64_t>(), rec(a.back())["seq"].get<std::uint64_t>() + 1);
    EXPECT_EQ(files[i + 1] == opt.path ? "" : files[i + 1],
              files[i + 1] == opt.path ? "" : audit_rotated_name(opt.path, rec(b.front())["seq"]));
  }
  AuditVerifyOptions strict;
  strict.require_final_checkpoint = true;
  auto r = verify_audit(dir.path(), keys.kp.pub, strict);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.files.size(), files.size());
  EXPECT_GE(r.records, 100u);

  // Reopen continues in the live file.
  {
    auto log = AuditLog::open(opt);
    log->append(exec_fields(1000));
  }
  EXPECT_TRUE(verify_audit(dir.path(), keys.kp.pub, strict).ok);

  // Tampering with the first line of the second file is caught.
  auto second = read_lines(files[1]);
  const std::uint64_t seq = rec(second[0])["seq"];
  std::string& l = second[0];
  l.replace(l.find("\"uid\":0"), 7, "\"uid\":1");
  write_lines(files[1], second);
  auto bad = verify_audit(dir.path(), keys.kp.pub);
  EXPECT_FALSE(bad.ok);
  ASSERT_TRUE(bad.first_bad_seq);
  EXPECT_EQ(*bad.first_bad_seq, seq);
  EXPECT_EQ(bad.file, files[1]);
  EXPECT_EQ(bad.line, 1u);
}

TEST(AuditWriter, RotationMissingMiddleFileIsCaught) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.rotate_bytes = 4000;
  write_log(opt, 100);
  auto files = audit_log_files(opt.path);
  ASSERT_GE(files.size(), 3u);
  const std::uint64_t missing_first = rec(read_lines(files[1])[0])["seq"];
  std::filesystem::remove(files[1]);
  auto r = verify_audit(opt.path, keys.kp.pub);
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.first_bad_seq);
  EXPECT_EQ(*r.first_bad_seq, missing_first);
}

TEST(AuditWriter, ResumeAfterRotationBeforeNewFile) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  write_log(opt, 12);
  auto last = rec(read_lines(opt.path).back());
  // Crash between rename and creating the new live file.
  std::filesystem::rename(opt.path, audit_rotated_name(opt.path, 1));
  {
    auto log = AuditLog::open(opt);
    EXPECT_EQ(log->append(exec_fields(50)), last["seq"].get<std::uint64_t>() + 1);
  }
  EXPECT_EQ(rec(read_lines(opt.path)[0])["prev"], last["hash"]);
  auto r = verify_audit(opt.path, keys.kp.pub);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(AuditWriter, ConcurrentAppendersKeepTheChainValid) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.checkpoint_every = 100;
  opt.checkpoint_interval = std::chrono::milliseconds(3);
  opt.rotate_bytes = 256 * 1024;
  opt.fsync_max_records = 64;
  constexpr int kThreads = 4, kEach = 5000;
  {
    auto log = AuditLog::open(opt);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto f = exec_fields(i);
          f["pid"] = t * 100000 + i;
          log->append(std::move(f));
          if (i % 1000 == 0) log->flush();
        }
      });
    for (auto& th : ts) th.join();
    auto s = log->status();
    EXPECT_GE(s.records_written, static_cast<std::uint64_t>(kThreads * kEach));
    EXPECT_GE(s.rotations, 1u);
  }
  AuditVerifyOptions strict;
  strict.require_final_checkpoint = true;
  auto r = verify_audit(opt.path, keys.kp.pub, strict);
  EXPECT_TRUE(r.ok) << r.reason << " at " << r.file << ":" << r.line;
  EXPECT_EQ(r.records - r.checkpoints, static_cast<std::uint64_t>(kThreads * kEach));
}

TEST(AuditWriter, TimeBasedCheckpoint) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.checkpoint_interval = std::chrono::milliseconds(20);
  auto log = AuditLog::open(opt);
  log->append(exec_fields(0));
  for (int i = 0; i < 200 && log->status().checkpoints == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(log->status().checkpoints, 1u);
  log->flush();
  auto lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(rec(lines[1])["event"], "checkpoint");
}

TEST(AuditWriter, NoSigningKeyMeansChainOnly) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.signing_key_path.clear();
  write_log(opt, 5);
  auto lines = read_lines(opt.path);
  EXPECT_EQ(lines.size(), 5u);
  auto r = verify_audit(opt.path, keys.kp.pub);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.unsigned_tail, 5u);
  AuditVerifyOptions strict;
  strict.require_final_checkpoint = true;
  EXPECT_FALSE(verify_audit(opt.path, keys.kp.pub, strict).ok);
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

using namespace audit_test;

// FS_APPEND_FL needs CAP_LINUX_IMMUTABLE and file system support; either way status says so.
TEST(AuditWriterAppendOnly, FlagIsSetOrExplained) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.try_append_only = true;
  opt.rotate_bytes = 3000;
  auto log = AuditLog::open(opt);
  auto s = log->status();
  if (!s.append_only) {
    EXPECT_NE(s.append_only_detail.find("FS_APPEND_FL"), std::string::npos);
    GTEST_SKIP() << s.append_only_detail;
  }
  // Truncation/overwrite is refused by the kernel.
  EXPECT_EQ(::truncate(opt.path.c_str(), 0), -1);
  int fd = ::open(opt.path.c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_EQ(fd, -1);
  if (fd >= 0) ::close(fd);
  // Rotation still works (flag cleared for the rename, set again on both files).
  for (int i = 0; i < 60; ++i) log->append(exec_fields(i));
  EXPECT_GE(log->status().rotations, 1u);
  EXPECT_TRUE(log->status().append_only);
  log->close();
  auto files = audit_log_files(opt.path);
  ASSERT_GE(files.size(), 2u);
  EXPECT_NE(::rename(files[0].c_str(), (files[0] + ".x").c_str()), 0);  // rotated file still append-only
  // Reopen of an append-only file with a torn tail works (flag cleared to truncate).
  {
    std::ofstream out(opt.path, std::ios::app | std::ios::binary);
    out << R"({"comm":"sh")";
  }
  log = AuditLog::open(opt);
  EXPECT_TRUE(log->status().append_only);
  log->close();
  EXPECT_TRUE(verify_audit(opt.path, keys.kp.pub).ok);
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

using namespace audit_test;

TEST(AuditWriterFields, ExecRecordsCarryAllDecisionFields) {
  TempDir dir;
  Keys keys(dir);
  auto log = AuditLog::open(test_options(dir, keys));
  log->append({{"event", "exec"}, {"verdict", "deny"}, {"reason", "no_ticket"}, {"pid", 5}});
  EXPECT_THROW(log->append({{"event", "exec"}}), Error);
  EXPECT_THROW(log->append({{"event", "exec"}, {"verdict", "maybe"}}), Error);
  log->append({{"event", "daemon_start"}, {"version", "0.1.0"}});
  log->close();
  auto lines = read_lines(dir.file("audit.jsonl"));
  auto e = rec(lines[0]);
  for (const char* k : {"verdict", "reason", "pid", "ppid", "uid", "comm", "path", "dev", "ino", "ticket", "lineage"})
    EXPECT_TRUE(e.contains(k)) << k;
  EXPECT_TRUE(e["ticket"].is_null());
  EXPECT_EQ(e["pid"], 5);
  auto d = rec(lines[1]);
  EXPECT_FALSE(d.contains("verdict"));  // fields that do not apply are absent
  EXPECT_EQ(d["version"], "0.1.0");
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

using namespace audit_test;

// Regression: an idle group-commit thread sleeping on a far deadline must be woken by the
// first pending record (commit within ~fsync_interval, without flush()).
TEST(AuditWriterGroupCommit, IdleWriterCommitsWithoutFlush) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.fsync_interval = std::chrono::milliseconds(10);
  opt.checkpoint_interval = std::chrono::milliseconds(50);
  auto log = AuditLog::open(opt);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // let the thread go idle
  for (int round = 1; round <= 2; ++round) {
    const std::uint64_t seq = log->append(exec_fields(round));
    bool durable = false;
    for (int i = 0; i < 100 && !durable; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      durable = log->status().durable_seq >= seq;
    }
    EXPECT_TRUE(durable) << "round " << round;
    // The time-based checkpoint follows within checkpoint_interval.
    bool signed_ = false;
    for (int i = 0; i < 200 && !signed_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      signed_ = log->status().durable_seq >= seq + 1;
    }
    EXPECT_TRUE(signed_) << "round " << round;
  }
  auto lines = read_lines(opt.path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(rec(lines[1])["event"], "checkpoint");
  EXPECT_EQ(rec(lines[3])["event"], "checkpoint");
}

}  // namespace
}  // namespace execgate
