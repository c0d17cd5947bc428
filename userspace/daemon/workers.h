// The daemon's timed threads, each a class that starts its thread when built and stops and
// joins it at stop() or when destroyed (an exception on the way out included): the event
// pump (every kernel decision into the audit log), the exec clock's keeper (every 100 ms)
// and the metrics textfile's writer (every [metrics] interval).
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "gate/gate_ops.h"
#include "metrics.h"

namespace execgate {

class GateDaemon;

// Drains the ring buffer into the daemon until stopped, then once more. Evidence must not
// wait behind the gated workload: it runs at nice -10.
class EventPump {
 public:
  EventPump(GateDaemon& daemon, GateOps& gate);
  void stop();

 private:
  void run(std::stop_token st, GateDaemon& daemon, GateOps& gate);
  std::jthread thread_;
};

// Checks the exec clock every 100 ms on its own timer (docs/gate.md's error bound rests on
// it: nothing the control thread does may hold it up). nice -10.
class ClockKeeper {
 public:
  explicit ClockKeeper(GateOps& gate);
  void stop();

 private:
  void run(std::stop_token st, GateOps& gate);
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

// Rewrites the metrics textfile (docs/metrics.md) atomically every [metrics] interval; a
// failed write is logged when it starts and when it ends, retried, and never stops the
// daemon. stop() removes the file: stale numbers are not scraped as current ones.
class MetricsWriter {
 public:
  explicit MetricsWriter(GateDaemon& daemon);
  // After a reload: the interval and the file may have changed.
  void wake();
  void stop();

 private:
  void run(std::stop_token st, GateDaemon& daemon);
  MetricsTextfile file_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;  // wake() since the last wait (under mu_)
  std::jthread thread_;
};

}  // namespace execgate
