// Metrics (docs/metrics.md): the OpenMetrics text of a snapshot byte for byte, the audit
// lag histogram, the textfile's atomic rewrite; and the uses per ticket (`tickets --hits`)
// counted from the events read and rebuilt from the audit log at start.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "audit_test_util.h"
#include "common/fs.h"
#include "event_recorder.h"
#include "kernel_event.h"
#include "metrics.h"
#include "state_history.h"

using namespace execgate;
using audit_test::TempDir;
using nlohmann::json;

namespace {

MetricsSnapshot snapshot() {
  MetricsSnapshot s;
  s.version = "0.1.0";
  s.start_time = 1'800'000'000;
  s.now = 1'800'000'090;
  s.mode = "monitor";
  s.exec_clock_source = "jiffies";
  s.decisions[{"exec", "allow", "ticket"}] = 5;
  s.decisions[{"exec", "monitor_deny", "no_ticket"}] = 2;
  s.decisions[{"access", "monitor_deny", "ptrace"}] = 1;
  s.ringbuf_drops = 3;
  s.kernel_events = 11;
  s.audit_lag.observe(0.0005);
  s.audit_lag.observe(0.02);
  s.audit_lag.observe(2.5);
  s.tickets_installed = 4;
  s.tickets_expiring = 1;
  return s;
}

}  // namespace

TEST(Metrics, OpenMetricsTextIsExact) {
  const std::string expected = R"(# HELP execgate_build_info execgate's version (always 1).
# TYPE execgate_build_info gauge
execgate_build_info{version="0.1.0"} 1
# HELP execgate_start_time_seconds When execgated started, in unix seconds.
# TYPE execgate_start_time_seconds gauge
execgate_start_time_seconds 1800000000
# HELP execgate_uptime_seconds Seconds since execgated started.
# TYPE execgate_uptime_seconds gauge
execgate_uptime_seconds 90
# HELP execgate_mode The policy's mode: 1 for the mode in force.
# TYPE execgate_mode gauge
execgate_mode{mode="enforce"} 0
execgate_mode{mode="monitor"} 1
# HELP execgate_exec_clock_source How the exec path reads the time for ticket validity: 1 for the source in use (docs/gate.md).
# TYPE execgate_exec_clock_source gauge
execgate_exec_clock_source{source="clocksource"} 0
execgate_exec_clock_source{source="jiffies"} 1
# HELP execgate_decisions Kernel decisions execgated read and recorded since it started, by audit event, verdict and reason.
# TYPE execgate_decisions counter
execgate_decisions_total{event="access",verdict="monitor_deny",reason="ptrace"} 1
execgate_decisions_total{event="exec",verdict="allow",reason="ticket"} 5
execgate_decisions_total{event="exec",verdict="monitor_deny",reason="no_ticket"} 2
# HELP execgate_ringbuf_drops Kernel events the ring buffer could not take (audited as gap records), since the gate's maps were created.
# TYPE execgate_ringbuf_drops counter
execgate_ringbuf_drops_total 3
# HELP execgate_kernel_events Kernel events submitted to the ring buffer, since the gate's maps were created.
# TYPE execgate_kernel_events counter
execgate_kernel_events_total 11
# HELP execgate_audit_lag_seconds Seconds from a kernel decision to its audit record being appended to the log.
# TYPE execgate_audit_lag_seconds histogram
execgate_audit_lag_seconds_bucket{le="0.001"} 1
execgate_audit_lag_seconds_bucket{le="0.005"} 1
execgate_audit_lag_seconds_bucket{le="0.01"} 1
execgate_audit_lag_seconds_bucket{le="0.05"} 2
execgate_audit_lag_seconds_bucket{le="0.1"} 2
execgate_audit_lag_seconds_bucket{le="0.5"} 2
execgate_audit_lag_seconds_bucket{le="1.0"} 2
execgate_audit_lag_seconds_bucket{le="5.0"} 3
execgate_audit_lag_seconds_bucket{le="30.0"} 3
execgate_audit_lag_seconds_bucket{le="+Inf"} 3
execgate_audit_lag_seconds_count 3
execgate_audit_lag_seconds_sum 2.5205
# HELP execgate_audit_failed 1 when the audit log's writer failed: appends fail from then on.
# TYPE execgate_audit_failed gauge
execgate_audit_failed 0
# HELP execgate_tickets_installed Tickets installed.
# TYPE execgate_tickets_installed gauge
execgate_tickets_installed 4
# HELP execgate_tickets_expiring_1h Installed tickets whose validity ends within the next hour.
# TYPE execgate_tickets_expiring_1h gauge
execgate_tickets_expiring_1h 1
# EOF
)";
  EXPECT_EQ(render_openmetrics(snapshot()), expected);
}

TEST(Metrics, EveryCounterSampleEndsInTotalAndEveryFamilyIsTyped) {
  const std::string text = render_openmetrics(snapshot());
  std::string family, type;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      type = line.substr(line.rfind(' ') + 1);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(family, 0), 0u) << line << " outside its family " << family;
    if (type == "counter") {
      EXPECT_EQ(name, family + "_total") << line;
    } else if (type == "gauge") {
      EXPECT_EQ(name, family) << line;
    }
  }
  EXPECT_TRUE(text.ends_with("\n# EOF\n"));
}

TEST(Metrics, NoDecisionYetIsAnEmptyFamilyAndLabelValuesAreEscaped) {
  MetricsSnapshot s = snapshot();
  s.decisions.clear();
  s.version = "1.0 \"rc\"\\x";
  const std::string text = render_openmetrics(s);
  EXPECT_NE(text.find("# TYPE execgate_decisions counter\n# HELP execgate_ringbuf_drops"), std::string::npos);
  EXPECT_NE(text.find(R"(execgate_build_info{version="1.0 \"rc\"\\x"} 1)"), std::string::npos) << text;
}

TEST(Metrics, LagHistogramIsCumulative) {
  LagHistogram h;
  h.observe(0.001);  // on a bound: counted in it
  h.observe(-1);     // a clock step: 0
  h.observe(100);    // beyond every bound: only +Inf (the count)
  EXPECT_EQ(h.buckets[0], 2u);
  EXPECT_EQ(h.buckets.back(), 2u);
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.max, 100);
  EXPECT_EQ(h.to_json()["buckets"]["0.001"], 2);
}

TEST(MetricsTextfile, WrittenAtomicallyReadableAndMovedWithThePolicy) {
  TempDir dir;
  MetricsTextfile f;
  const std::string a = dir.file("a.prom"), b = dir.file("b.prom");
  f.write(a, "one\n");
  f.write(a, "two\n");
  EXPECT_EQ(read_file(a, 100), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(a.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);  // node_exporter runs as another user
  f.write(b, "three\n");                  // the policy moved it: the old file goes
  EXPECT_FALSE(std::filesystem::exists(a));
  EXPECT_EQ(read_file(b, 100), "three\n");
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.path() != b;
  EXPECT_EQ(entries, 0u) << "a temporary file was left";
  f.write("", "");  // [metrics] textfile = "": no file
  EXPECT_FALSE(std::filesystem::exists(b));
  f.write(a, "x\n");
  f.remove();
  EXPECT_FALSE(std::filesystem::exists(a));
  EXPECT_THROW(f.write(dir.file("missing/c.prom"), "x\n"), Error);
}

namespace {

struct CountingRecorderTest : ::testing::Test {
  std::uint64_t boot_now = 0;
  EventRecorder recorder{[](json) {}, [this] { return boot_now; }};

  static eg_event exec(std::uint8_t verdict, std::uint8_t reason, std::uint8_t ticket_fill, std::uint64_t ts) {
    eg_event e{};
    e.hook = EG_HOOK_EXEC;
    e.verdict = verdict;
    e.reason = reason;
    e.ts_boot_ns = ts;
    if (ticket_fill) {
      e.has_ticket = 1;
      std::memset(e.ticket, ticket_fill, sizeof e.ticket);
    }
    return e;
  }
};

}  // namespace

TEST_F(CountingRecorderTest, DecisionsAndAuditLagAreCounted) {
  boot_now = 5'000'000'000;
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_BASELINE, 0, 4'999'000'000)));     // 1 ms late
  recorder.record(test::decoded(exec(EG_VERDICT_MONITOR_DENY, EG_R_NO_TICKET, 0, 3'000'000'000)));  // 2 s late
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_BASELINE, 0, 6'000'000'000)));     // from the future: 0
  const auto c = recorder.counts();
  EXPECT_EQ(c.decisions.at(DecisionKey{"exec", "allow", "baseline"}), 2u);
  EXPECT_EQ(c.decisions.at(DecisionKey{"exec", "monitor_deny", "no_ticket"}), 1u);
  EXPECT_EQ(c.audit_lag.count, 3u);
  EXPECT_DOUBLE_EQ(c.audit_lag.max, 2.0);
  EXPECT_EQ(c.audit_lag.buckets[0], 2u);  // <= 1 ms
}

TEST_F(CountingRecorderTest, HitsCountTheAllowedExecsOfInstalledTickets) {
  const std::string a(32, 'a'), b(32, 'b');
  recorder.seed_hits({{a, TicketHits{7, 100}}});
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_TICKET, 0xaa, 0)));
  recorder.record(test::decoded(exec(EG_VERDICT_MONITOR_DENY, EG_R_EXPIRED, 0xaa, 0)));  // named, not allowed: no use
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_TICKET, 0xbb, 0)));          // not installed: not counted
  EXPECT_EQ(recorder.hits().at(a).count, 8u);
  EXPECT_EQ(recorder.hits().count(b), 0u);
  recorder.reset_hits(b, 200);  // installed now
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_TICKET, 0xbb, 0)));
  eg_event mapping = exec(EG_VERDICT_ALLOW, EG_R_TICKET, 0xbb, 0);
  mapping.hook = EG_HOOK_MMAP_EXEC;  // an executable mapping of it is a use too
  recorder.record(test::decoded(mapping));
  EXPECT_EQ(recorder.hits().at(b).count, 2u);
  EXPECT_EQ(recorder.hits().at(b).since, 200);
  recorder.forget_ticket(a, {});  // a uninstalled
  EXPECT_EQ(recorder.hits().count(a), 0u);
  recorder.record(test::decoded(exec(EG_VERDICT_ALLOW, EG_R_TICKET, 0xaa, 0)));  // a late event: not counted again
  EXPECT_EQ(recorder.hits().count(a), 0u);
  EXPECT_EQ(recorder.hits().at(b).count, 2u);
}

TEST(TicketHitsFromTheLog, CountedAfterTheLastInstallAndSeededForInstalledTickets) {
  TempDir dir;
  const std::string a(32, 'a'), b(32, 'b'), c(32, 'c');
  AuditOptions o;
  o.path = dir.file("audit.jsonl");
  o.try_append_only = false;
  auto log = AuditLog::open(o);
  auto hit = [&](const std::string& id, const char* verdict = "allow", const char* reason = "ticket") {
    log->append({{"event", "exec"}, {"hook", "exec"}, {"verdict", verdict}, {"reason", reason}, {"pid", 1}, {"ppid", 1},
                 {"uid", 0}, {"comm", "x"}, {"path", "/x"}, {"dev", "8:1"}, {"ino", 1}, {"ticket", id},
                 {"lineage", json::array()}});
  };
  hit(b);  // b's install is in a file retention removed: counted from the log's start
  log->append({{"event", "ticket_installed"}, {"ticket", a}, {"reason", "ticket"}, {"max_uses", 0}});
  hit(a);
  hit(a);
  hit(a, "monitor_deny", "expired");
  log->append({{"event", "ticket_revoked"}, {"ticket", a}, {"reason", "untrusted_issuer"}});
  log->append({{"event", "ticket_installed"}, {"ticket", a}, {"reason", "ticket"}, {"max_uses", 0}});  // again
  hit(a);
  hit(b);
  log->close();

  const AuditedState audited = audited_state(o.path);
  EXPECT_EQ(audited.hits.at(a).count, 1u);
  EXPECT_GT(audited.hits.at(a).installed_at, 0);
  EXPECT_EQ(audited.hits.at(b).count, 2u);
  EXPECT_EQ(audited.hits.at(b).installed_at, 0);
  EXPECT_GT(audited.first_time, 0);

  StateSnapshot state;
  state.installed[a].installed_at = 1;
  state.installed[b].installed_at = 1;                     // before the oldest record kept
  state.installed[c].installed_at = audited.first_time + 5;  // nothing in the log yet
  const auto hits = hits_at_start(state, audited);
  EXPECT_EQ(hits.at(a).count, 1u);
  EXPECT_EQ(hits.at(a).since, audited.hits.at(a).installed_at);
  EXPECT_EQ(hits.at(b).count, 2u);
  EXPECT_EQ(hits.at(b).since, audited.first_time);  // counted from the oldest record kept
  EXPECT_EQ(hits.at(c).count, 0u);
  EXPECT_EQ(hits.at(c).since, audited.first_time + 5);
}
