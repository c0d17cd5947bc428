// The daemon's timed threads (userspace/daemon/workers.h) on a DaemonEnv: the metrics
// writer writes at once, is woken by a reload (the interval read again, not slept out),
// and removes its file at stop.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "daemon_env.h"
#include "workers.h"

using namespace execgate;
using namespace execgate::test;
namespace fs = std::filesystem;

namespace {

// Whether cond holds within `limit` (polled every 10 ms).
bool within(std::chrono::milliseconds limit, const std::function<bool()>& cond) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

TEST(MetricsWriter, AReloadWakesItToTheNewInterval) {
  DaemonEnv env;
  env.policy.metrics.interval = 3600;
  GateDaemon& daemon = env.boot();
  const std::string path = env.policy.metrics.textfile;
  MetricsWriter writer(daemon);
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return fs::exists(path); })) << "the first write comes at once";
  fs::remove(path);
  Policy faster = env.policy;
  faster.metrics.interval = 1;
  daemon.reload(faster);
  writer.wake();
  // asleep until the old interval's end, the next write would come in an hour
  EXPECT_TRUE(within(std::chrono::seconds(10), [&] { return fs::exists(path); }));
  writer.stop();
  EXPECT_FALSE(fs::exists(path)) << "stale numbers are not left to be scraped";
}

}  // namespace
