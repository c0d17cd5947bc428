#include "workers.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "gate_daemon.h"
#include "service.h"

namespace execgate {

namespace {

// Names the calling thread (ps -L, top -H, /proc/PID/task/TID/comm: at most 15 bytes) and
// sets its nice value; a refused priority is logged, and the thread runs on.
void set_up_thread(const char* name, int nice) {
  ::pthread_setname_np(::pthread_self(), name);
  if (nice && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) != 0)
    service::log(service::Priority::warning, std::string(name) + " keeps its priority: " + std::strerror(errno));
}

}  // namespace

EventPump::EventPump(GateDaemon& daemon, GateOps& gate)
    : thread_([this, &daemon, &gate](std::stop_token st) { run(st, daemon, gate); }) {}

void EventPump::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void EventPump::run(std::stop_token st, GateDaemon& daemon, GateOps& gate) {
  set_up_thread("eg-events", -10);
  while (!st.stop_requested()) {
    try {
      daemon.drain_events(50);
    } catch (const std::exception& e) {
      service::log(service::Priority::error, std::string("event thread: ") + e.what());
    }
  }
  gate.poll_events(0, [&](const GateEvent& ev) { daemon.on_event(ev); });
}

ClockKeeper::ClockKeeper(GateOps& gate) : thread_([this, &gate](std::stop_token st) { run(st, gate); }) {}

void ClockKeeper::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void ClockKeeper::run(std::stop_token st, GateOps& gate) {
  set_up_thread("eg-clock", -10);
  gate.start_exec_clock();
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lk(mu_);
  while (!st.stop_requested()) {
    next += std::chrono::milliseconds(100);
    if (cv_.wait_until(lk, st, next, [] { return false; }) || st.stop_requested()) break;
    if (auto err_ms = gate.check_exec_clock())
      service::log(service::Priority::warning,
                   "the exec clock's estimate was " + std::to_string(*err_ms) +
                       " ms off the boot clock (wrong CONFIG_HZ?): execs read the clock until the next resume");
    // after a stall (a suspended host), the next check comes 100 ms from now
    next = std::max(next, std::chrono::steady_clock::now() - std::chrono::milliseconds(100));
  }
}

MetricsWriter::MetricsWriter(GateDaemon& daemon)
    : thread_([this, &daemon](std::stop_token st) { run(st, daemon); }) {}

void MetricsWriter::wake() {
  std::lock_guard lk(mu_);
  woken_ = true;
  cv_.notify_all();
}

void MetricsWriter::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  file_.remove();
}

void MetricsWriter::run(std::stop_token st, GateDaemon& daemon) {
  set_up_thread("eg-metrics", 0);
  std::string last_error;
  while (!st.stop_requested()) {
    const MetricsPolicy mp = daemon.metrics_policy();
    std::string error;
    try {
      file_.write(mp.textfile, render_openmetrics(daemon.metrics_snapshot()));
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error != last_error)
      service::log(error.empty() ? service::Priority::notice : service::Priority::warning,
                   error.empty() ? "metrics: " + mp.textfile + " written again" : "metrics not written: " + error);
    last_error = error;
    daemon.set_metrics_file_status(mp.textfile, error);
    const auto written = std::chrono::steady_clock::now();
    std::unique_lock lk(mu_);
    for (;;) {  // the interval read again after each wakeup: a reload may change it
      const auto due = written + std::chrono::seconds(daemon.metrics_policy().interval);
      if (st.stop_requested() || std::chrono::steady_clock::now() >= due) break;
      if (cv_.wait_until(lk, st, due, [this] { return woken_; })) woken_ = false;
    }
  }
}

}  // namespace execgate
