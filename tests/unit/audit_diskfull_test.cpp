// Writer when the disk is full (docs/audit.md "When the disk is full"): a seam fails the
// live file's write(2) with ENOSPC; nothing is lost or torn, the chain verifies, the
// durability callback says false then true, and records beyond the memory bound are
// counted in a gap record.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "audit_test_util.h"
#include "execgate/error.h"

namespace execgate {
namespace {

using namespace audit_test;
using namespace std::chrono_literals;

// A write(2) that fails with ENOSPC (or another errno) while armed, after letting
// `partial` more bytes through (a batch torn mid-write).
struct FullDisk {
  std::atomic<bool> full{false};
  std::atomic<int> err{ENOSPC};
  std::atomic<long> partial{0};
  std::atomic<int> failures{0};
  long write(int fd, const void* data, std::size_t size) {
    if (full.load()) {
      long p = partial.load();
      if (p > 0) {
        long n = ::write(fd, data, std::min<std::size_t>(size, static_cast<std::size_t>(p)));
        if (n > 0) partial -= n;
        return n;
      }
      ++failures;
      errno = err.load();
      return -1;
    }
    return ::write(fd, data, size);
  }
};

struct Durability {
  std::mutex mu;
  std::vector<bool> seen;
  void operator()(bool d) {
    std::lock_guard lk(mu);
    seen.push_back(d);
  }
  std::vector<bool> get() {
    std::lock_guard lk(mu);
    return seen;
  }
  bool wait_last(bool v, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard lk(mu);
        if (!seen.empty() && seen.back() == v) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

AuditOptions full_options(const TempDir& dir, const Keys& keys, FullDisk& disk, Durability& dur) {
  AuditOptions o = test_options(dir, keys);
  o.reserve_bytes = 256 << 10;
  o.retry_interval = 20ms;
  o.write_syscall = [&disk](int fd, const void* d, std::size_t n) { return disk.write(fd, d, n); };
  o.on_durability = [&dur](bool d) { dur(d); };
  return o;
}

std::vector<nlohmann::json> records(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& l : read_lines(path)) out.push_back(rec(l));
  return out;
}

bool ends_with_newline(const std::string& path) {
  const std::string data = slurp(path);
  return data.empty() || data.back() == '\n';
}

TEST(AuditDiskFull, HeldRetriedAndRecoveredWithoutLoss) {
  TempDir dir;
  Keys keys(dir);
  FullDisk disk;
  Durability dur;
  auto opt = full_options(dir, keys, disk, dur);
  auto log = AuditLog::open(opt);
  EXPECT_EQ(dur.get(), std::vector<bool>{true});  // open() reports the starting state
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("audit.jsonl.reserve").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, opt.reserve_bytes);

  for (int i = 0; i < 5; ++i) log->append(exec_fields(i));
  log->flush();
  disk.partial = 100;  // the first failing batch is torn mid-record
  disk.full = true;
  for (int i = 5; i < 25; ++i) EXPECT_GT(log->append(exec_fields(i)), 0u);
  ASSERT_TRUE(dur.wait_last(false));
  auto s = log->status();
  EXPECT_FALSE(s.durable);
  EXPECT_TRUE(s.disk_full);
  EXPECT_FALSE(s.failed);
  EXPECT_GT(s.held_records, 0u);
  EXPECT_THROW(log->flush(), Error);
  std::this_thread::sleep_for(100ms);  // a few retries
  EXPECT_GT(disk.failures.load(), 1);
  // nothing torn on disk: the partial batch was truncated away; what is there chains
  EXPECT_TRUE(ends_with_newline(opt.path));
  {
    auto r = verify_audit(opt.path, keys.kp.pub);
    EXPECT_TRUE(r.ok) << r.reason;
  }
  // the reserve was given up
  EXPECT_NE(::stat(dir.file("audit.jsonl.reserve").c_str(), &st), 0);

  disk.full = false;  // space comes back
  ASSERT_TRUE(dur.wait_last(true));
  EXPECT_EQ(dur.get(), (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(log->status().durable);
  ASSERT_EQ(::stat(dir.file("audit.jsonl.reserve").c_str(), &st), 0);
  for (int i = 25; i < 30; ++i) log->append(exec_fields(i));
  log->close();

  auto recs = records(opt.path);
  int execs = 0, full_gaps = 0;
  std::int64_t last_pid = 0;
  for (const auto& r : recs) {
    if (r["event"] == "exec") {
      ++execs;
      EXPECT_EQ(r["pid"].get<std::int64_t>(), 1000 + execs - 1) << "in order";
      last_pid = r["pid"].get<std::int64_t>();
    }
    if (r["event"] == "gap") {
      EXPECT_EQ(r["reason"], "disk_full");
      EXPECT_EQ(r["count"], 0);
      ++full_gaps;
    }
  }
  EXPECT_EQ(execs, 30);
  EXPECT_EQ(last_pid, 1029);
  EXPECT_EQ(full_gaps, 1);
  auto r = verify_closed_log(opt.path, keys);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(AuditDiskFull, BeyondTheBoundDroppedAndCountedExactly) {
  TempDir dir;
  Keys keys(dir);
  FullDisk disk;
  Durability dur;
  auto opt = full_options(dir, keys, disk, dur);
  opt.reserve_bytes = 0;  // no reserve: the writes keep failing until space returns
  opt.max_held_bytes = 4096;
  auto log = AuditLog::open(opt);
  log->append(exec_fields(0));
  log->flush();
  disk.full = true;
  // the first failure is seen by the flusher; until then records are held as usual
  log->append(exec_fields(1));
  ASSERT_TRUE(dur.wait_last(false));
  std::uint64_t dropped = 0;
  std::vector<int> kept;
  for (int i = 2; i < 200; ++i) {
    if (log->append(exec_fields(i)) == 0)
      ++dropped;
    else
      kept.push_back(i);
  }
  ASSERT_GT(dropped, 0u);
  EXPECT_EQ(log->status().dropped_records, dropped);
  disk.full = false;
  ASSERT_TRUE(dur.wait_last(true));
  log->append(exec_fields(500));
  log->close();

  auto recs = records(opt.path);
  std::uint64_t execs = 0;
  bool gap_seen = false;
  for (const auto& r : recs) {
    if (r["event"] == "exec") {
      ++execs;
      if (r["pid"] == 1500) EXPECT_TRUE(gap_seen) << "the gap goes in before the next records";
      else EXPECT_FALSE(gap_seen) << "the held records come before the gap";
    }
    if (r["event"] == "gap") {
      EXPECT_EQ(r["reason"], "disk_full");
      EXPECT_EQ(r["count"].get<std::uint64_t>(), dropped);
      EXPECT_FALSE(gap_seen);
      gap_seen = true;
    }
  }
  EXPECT_TRUE(gap_seen);
  EXPECT_EQ(execs, 2 + kept.size() + 1);
  EXPECT_EQ(execs + dropped, 201u);  // 0, 1, 2..199, 500
  auto r = verify_closed_log(opt.path, keys);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(AuditDiskFull, OtherErrorsStayFailedAndStall) {
  TempDir dir;
  Keys keys(dir);
  FullDisk disk;
  Durability dur;
  auto opt = full_options(dir, keys, disk, dur);
  auto log = AuditLog::open(opt);
  log->append(exec_fields(0));
  log->flush();
  disk.err = EIO;
  disk.full = true;
  log->append(exec_fields(1));
  ASSERT_TRUE(dur.wait_last(false));
  EXPECT_TRUE(log->status().failed);
  EXPECT_FALSE(log->status().durable);
  EXPECT_THROW(log->append(exec_fields(2)), Error);
  disk.full = false;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dur.get(), (std::vector<bool>{true, false}));  // permanent
  EXPECT_THROW(log->close(), Error);
  EXPECT_TRUE(ends_with_newline(opt.path));
}

TEST(AuditDiskFull, NoReserveAtOpenStartsStalled) {
  TempDir dir;
  Keys keys(dir);
  FullDisk disk;
  Durability dur;
  auto opt = full_options(dir, keys, disk, dur);
  // a directory where the reserve should be: it cannot be made
  std::filesystem::create_directories(dir.file("audit.jsonl.reserve"));
  auto log = AuditLog::open(opt);
  EXPECT_EQ(dur.get(), std::vector<bool>{false});
  EXPECT_FALSE(log->durable());
  log->append(exec_fields(0));
  log->flush();  // records are still written
  std::filesystem::remove(dir.file("audit.jsonl.reserve"));
  ASSERT_TRUE(dur.wait_last(true));
  EXPECT_TRUE(log->durable());
  log->close();
}

}  // namespace
}  // namespace execgate
