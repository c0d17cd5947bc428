#include "metrics.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "common/fs.h"
#include "execgate/error.h"

namespace execgate {
using nlohmann::json;

void LagHistogram::observe(double seconds) {
  if (seconds < 0) seconds = 0;  // a wall-clock step backwards
  for (std::size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++buckets[i];
  ++count;
  sum += seconds;
  if (seconds > max) max = seconds;
}

json LagHistogram::to_json() const {
  json b = json::object();
  for (std::size_t i = 0; i < kBounds.size(); ++i) b[kBoundText[i]] = buckets[i];
  return {{"count", count}, {"sum_seconds", sum}, {"max_seconds", max}, {"buckets", b}};
}

namespace {

// An OpenMetrics number: integers in decimal, reals in their shortest round-trip form.
std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A label value with OpenMetrics' escapes (\\, \", \n).
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Exposition {
 public:
  // A family: its HELP and TYPE lines (HELP texts here hold no character needing an escape).
  Exposition& family(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    return *this;
  }
  // A sample: name{labels} value. labels: pairs of name and value.
  Exposition& sample(const std::string& name, std::initializer_list<std::pair<const char*, std::string>> labels,
                     const std::string& value) {
    out_ += name;
    if (labels.size()) {
      out_ += "{";
      bool first = true;
      for (const auto& [k, v] : labels) {
        out_ += std::string(first ? "" : ",") + k + "=\"" + label_value(v) + "\"";
        first = false;
      }
      out_ += "}";
    }
    out_ += " " + value + "\n";
    return *this;
  }
  Exposition& gauge(const std::string& name, const char* help, std::int64_t value) {
    return family(name, "gauge", help).sample(name, {}, std::to_string(value));
  }
  Exposition& counter(const std::string& name, const char* help, std::uint64_t value) {
    return family(name, "counter", help).sample(name + "_total", {}, std::to_string(value));
  }
  // A gauge over the values of one label: 1 for `current`, 0 for the others.
  Exposition& one_of(const std::string& name, const char* help, const char* label,
                     std::initializer_list<const char*> values, const std::string& current) {
    family(name, "gauge", help);
    for (const char* v : values) sample(name, {{label, v}}, current == v ? "1" : "0");
    return *this;
  }
  std::string finish() { return std::move(out_) + "# EOF\n"; }

 private:
  std::string out_;
};

}  // namespace

std::string render_openmetrics(const MetricsSnapshot& s) {
  Exposition e;
  e.family("execgate_build_info", "gauge", "execgate's version (always 1).")
      .sample("execgate_build_info", {{"version", s.version}}, "1");
  e.gauge("execgate_start_time_seconds", "When execgated started, in unix seconds.", s.start_time);
  e.gauge("execgate_uptime_seconds", "Seconds since execgated started.", s.now - s.start_time);
  e.one_of("execgate_mode", "The policy's mode: 1 for the mode in force.", "mode", {"enforce", "monitor"}, s.mode);
  e.one_of("execgate_exec_clock_source",
           "How the exec path reads the time for ticket validity: 1 for the source in use (docs/gate.md).", "source",
           {"clocksource", "jiffies"}, s.exec_clock_source);
  e.family("execgate_decisions", "counter",
           "Kernel decisions execgated read and recorded since it started, by audit event, verdict and reason.");
  for (const auto& [k, n] : s.decisions)
    e.sample("execgate_decisions_total", {{"event", k.event}, {"verdict", k.verdict}, {"reason", k.reason}},
             std::to_string(n));
  e.counter("execgate_ringbuf_drops",
            "Kernel events the ring buffer could not take (audited as gap records), since the gate's maps were "
            "created.",
            s.ringbuf_drops);
  e.counter("execgate_kernel_events", "Kernel events submitted to the ring buffer, since the gate's maps were created.",
            s.kernel_events);
  e.family("execgate_audit_lag_seconds", "histogram",
           "Seconds from a kernel decision to its audit record being appended to the log.");
  for (std::size_t i = 0; i < LagHistogram::kBounds.size(); ++i)
    e.sample("execgate_audit_lag_seconds_bucket", {{"le", LagHistogram::kBoundText[i]}},
             std::to_string(s.audit_lag.buckets[i]));
  e.sample("execgate_audit_lag_seconds_bucket", {{"le", "+Inf"}}, std::to_string(s.audit_lag.count))
      .sample("execgate_audit_lag_seconds_count", {}, std::to_string(s.audit_lag.count))
      .sample("execgate_audit_lag_seconds_sum", {}, number(s.audit_lag.sum));
  e.gauge("execgate_audit_failed", "1 when the audit log's writer failed: appends fail from then on.",
          s.audit_failed ? 1 : 0);
  e.gauge("execgate_tickets_installed", "Tickets installed.", static_cast<std::int64_t>(s.tickets_installed));
  e.gauge("execgate_tickets_expiring_1h", "Installed tickets whose validity ends within the next hour.",
          static_cast<std::int64_t>(s.tickets_expiring));
  return e.finish();
}

json metrics_json(const MetricsSnapshot& s) {
  json decisions = json::array();
  for (const auto& [k, n] : s.decisions)
    decisions.push_back({{"event", k.event}, {"verdict", k.verdict}, {"reason", k.reason}, {"count", n}});
  return {{"version", s.version},
          {"uptime_seconds", s.now - s.start_time},
          {"decisions", decisions},
          {"audit_lag", s.audit_lag.to_json()},
          {"tickets_expiring_1h", s.tickets_expiring}};
}

void MetricsTextfile::write(const std::string& path, const std::string& text) {
  if (path != path_) remove();
  if (path.empty()) return;
  write_file_atomic(path, text, 0644);
  path_ = path;
}

void MetricsTextfile::remove() noexcept {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace execgate
