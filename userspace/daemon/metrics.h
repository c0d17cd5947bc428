// The daemon's metrics (docs/metrics.md): a snapshot of what it counts, rendered in the
// OpenMetrics text format (pure, unit-tested against a golden text), and the textfile that
// node_exporter's textfile collector reads, rewritten atomically. No listening socket.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace execgate {

// Seconds from a kernel decision to its audit record: a cumulative histogram.
struct LagHistogram {
  // Upper bounds in seconds, written as OpenMetrics canonical numbers (the `le` label).
  static constexpr std::array<const char*, 9> kBoundText = {"0.001", "0.005", "0.01", "0.05", "0.1",
                                                            "0.5",   "1.0",   "5.0",  "30.0"};
  static constexpr std::array<double, 9> kBounds = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0};
  std::array<std::uint64_t, kBounds.size()> buckets{};  // observations <= kBounds[i] (cumulative)
  std::uint64_t count = 0;
  double sum = 0;     // seconds
  double max = 0;     // the largest observation

  void observe(double seconds);
  nlohmann::json to_json() const;
};

// One decision class of the events the daemon read: the audit record's event, verdict and reason.
struct DecisionKey {
  std::string event, verdict, reason;
  auto operator<=>(const DecisionKey&) const = default;
};

// Uses of a ticket (`tickets --hits`): allowed exec decisions the kernel attributed to
// it (`exec` records, verdict allow, reason ticket), counted since `since` (unix seconds).
struct TicketHits {
  std::uint64_t count = 0;
  std::int64_t since = 0;
};

struct MetricsSnapshot {
  std::string version;              // execgate's version (build info)
  std::int64_t start_time = 0;      // unix seconds: the daemon's start
  std::int64_t now = 0;             // unix seconds: when the snapshot was taken
  std::string mode;                 // "enforce" or "monitor"
  std::string exec_clock_source;    // "jiffies" or "clocksource" (status: gate.exec_clock.source)
  std::map<DecisionKey, std::uint64_t> decisions;  // events read since the daemon started
  std::uint64_t ringbuf_drops = 0;  // kernel: events the ring buffer could not take (since the maps were made)
  std::uint64_t kernel_events = 0;  // kernel: events submitted (since the maps were made)
  LagHistogram audit_lag;
  bool audit_failed = false;
  std::uint64_t tickets_installed = 0;
  std::uint64_t tickets_expiring = 0;  // installed, not_after within kTicketsExpiringWithin from now
};
inline constexpr std::int64_t kTicketsExpiringWithin = 3600;

// The snapshot as an OpenMetrics 1.0 text exposition, ending with "# EOF\n". Families in a
// fixed order, series sorted; counters with `_total`. Only counter, gauge and histogram
// types: node_exporter's textfile collector parses the Prometheus text format, which has
// no stateset or info type (docs/metrics.md).
std::string render_openmetrics(const MetricsSnapshot& s);
// The same snapshot for `status --json` ("metrics").
nlohmann::json metrics_json(const MetricsSnapshot& s);

// The textfile: written atomically (temp file in the same directory, fsync, rename, mode
// 0644 so node_exporter can read it). A change of path removes the file written before.
class MetricsTextfile {
 public:
  // Writes text to path ("" = no file: the previous one is removed). Throws IoError.
  void write(const std::string& path, const std::string& text);
  // Removes the file last written (at a clean stop). Never throws.
  void remove() noexcept;
  const std::string& path() const { return path_; }

 private:
  std::string path_;  // the file last written
};

}  // namespace execgate
