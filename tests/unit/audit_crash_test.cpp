// Crash safety: SIGKILL a writer mid-stream; the fsynced prefix verifies, reopen recovers.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "audit_test_util.h"

namespace execgate {
namespace {

using namespace audit_test;

TEST(AuditCrash, SigkillMidStream) {
  TempDir dir;
  Keys keys(dir);
  auto opt = test_options(dir, keys);
  opt.checkpoint_every = 50;
  opt.fsync_interval = std::chrono::milliseconds(1);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto log = AuditLog::open(opt);
    for (int i = 0;; ++i) {
      log->append(exec_fields(i));
      if (i % 25 == 24) {
        log->flush();
        std::uint64_t durable = log->status().durable_seq;
        if (::write(fds[1], &durable, sizeof durable) != sizeof durable) _exit(1);
      }
    }
  }
  ::close(fds[1]);
  std::uint64_t durable = 0, v = 0;
  // Let it write a while (at least a few flushes), then kill it.
  for (int got = 0; got < 40 && ::read(fds[0], &v, sizeof v) == sizeof v; ++got) durable = v;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  while (::read(fds[0], &v, sizeof v) == sizeof v) durable = v;
  ::close(fds[0]);
  ASSERT_GT(durable, 0u);

  // Everything up to the last fsync is there and chains; at most a torn final line.
  auto r = verify_audit(opt.path, keys.kp.pub);
  if (r.ok) {
    EXPECT_GE(r.last_seq, durable);
  } else {
    ASSERT_TRUE(r.first_bad_seq);
    EXPECT_GT(*r.first_bad_seq, durable) << r.reason;
    EXPECT_NE(r.reason.find("partial record"), std::string::npos) << r.reason;
  }

  // Simulate the torn write the kill may or may not have produced, then reopen.
  {
    std::ofstream out(opt.path, std::ios::app | std::ios::binary);
    out << R"({"comm":"sh","event":"ex)";
  }
  std::uint64_t resumed = 0;
  {
    auto log = AuditLog::open(opt);
    resumed = log->status().last_seq;
    log->append(exec_fields(123456));
  }
  auto lines = read_lines(opt.path);
  bool saw_gap = false;
  for (const auto& l : lines) {
    auto j = rec(l);
    if (j["event"] == "gap" && j["reason"] == "torn_write" && j["seq"] == resumed) saw_gap = true;
  }
  EXPECT_TRUE(saw_gap);
  AuditVerifyOptions strict;
  strict.require_final_checkpoint = true;
  auto r2 = verify_audit(opt.path, keys.kp.pub, strict);
  EXPECT_TRUE(r2.ok) << r2.reason;
  EXPECT_GT(r2.last_seq, durable);
}

}  // namespace
}  // namespace execgate
