// The kernel's exec decision (bpf/lib/decision.h), compiled natively (userspace/decision/):
// each row of tests/e2e/decision_cases.txt (the table the VM's exec suite runs through the
// real programs) sets up tickets, baseline and loaders as the daemon would install them,
// asks for one decision, and checks the kernel's reason for it.
#include <gtest/gtest.h>
#include <linux/types.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "decision/native_decision.h"
#include "execgate.h"
#include "execgate/names.h"

namespace execgate {
namespace {

// The kernel's reason code by its name (execgate/names.h), "unknown N" for a code no list has.
std::string reason(std::uint8_t code) {
  for (const auto& e : all_names<Reason>())
    if (static_cast<std::uint8_t>(e.value) == code) return std::string(e.name);
  return "unknown " + std::to_string(code);
}

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kNow = 100'000 * kSecond;  // CLOCK_BOOTTIME at the decision: a day up

TicketId id(std::uint8_t b) {
  TicketId i{};
  i.fill(b);
  return i;
}

NativeFile file() {
  NativeFile f;
  f.dev = (8u << 20) | 1;
  f.ino = 4242;
  f.ctime_sec = 1700000000;
  f.ctime_nsec = 5;
  f.generation = 77;
  return f;
}

KernelTicket ticket() {
  KernelTicket t;
  t.id = id(1);
  t.not_before_ns = kNow - 3600 * kSecond;
  t.not_after_ns = kNow + 3600 * kSecond;
  return t;
}

// A row of tests/e2e/decision_cases.txt (its header says the format).
struct Row {
  std::string name, entries, ask, expect, where;
  int line = 0;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

std::vector<Row> table() {
  const std::string path = std::string(EXECGATE_SOURCE_DIR) + "/tests/e2e/decision_cases.txt";
  std::ifstream in(path);
  std::vector<Row> rows;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    const auto cols = split(line, '|');
    if (cols.size() != 5) throw std::runtime_error(path + ":" + std::to_string(n) + ": expected 5 columns");
    rows.push_back({trim(cols[0]), trim(cols[1]), trim(cols[2]), trim(cols[3]), trim(cols[4]), n});
  }
  return rows;
}

// "KEY=V" attributes after the token's kind ("ticket:nbf=600:pending" -> {nbf: 600, pending: ""}).
std::map<std::string, std::string> attrs(const std::string& token) {
  std::map<std::string, std::string> out;
  const auto parts = split(token, ':');
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    out[parts[i].substr(0, eq)] = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
  }
  return out;
}

// The row's entries in the native decision's tables, as eg-probe decision-entries writes
// them into the kernel's maps; owner and mode change the file itself.
void install(const Row& row, NativeDecision& d, NativeFile& f) {
  for (const auto& token : split(row.entries, ' ')) {
    if (token.empty() || token == "-") continue;
    const std::string kind = token.substr(0, token.find_first_of(":="));
    const auto a = attrs(token);
    if (kind == "ticket") {
      KernelTicket t = ticket();
      NativeFile as_entry = f;  // the entry's ctime and generation, the file's unless the row shifts them
      if (a.count("nbf")) t.not_before_ns = kNow + std::stoll(a.at("nbf")) * static_cast<std::int64_t>(kSecond);
      if (a.count("naf")) t.not_after_ns = kNow + std::stoll(a.at("naf")) * static_cast<std::int64_t>(kSecond);
      if (a.count("id")) t.id = id(static_cast<std::uint8_t>(std::stoul(a.at("id"), nullptr, 16)));
      if (a.count("parent")) t.parent = id(static_cast<std::uint8_t>(std::stoul(a.at("parent"), nullptr, 16)));
      if (a.count("uses")) t.uses_left = std::stoll(a.at("uses"));
      if (a.count("pending")) t.pending = true;
      if (a.count("fleet")) t.fleet = true;
      if (a.count("uids"))
        for (const auto& u : split(a.at("uids"), '/')) t.uids.push_back(static_cast<std::uint32_t>(std::stoul(u)));
      if (a.count("ctime")) as_entry.ctime_nsec += static_cast<std::uint32_t>(std::stol(a.at("ctime")));
      if (a.count("gen")) as_entry.generation += static_cast<std::uint32_t>(std::stol(a.at("gen")));
      d.add_ticket(as_entry, t);
    } else if (kind == "baseline") {
      NativeFile as_entry = f;
      if (a.count("ctime")) as_entry.ctime_nsec += static_cast<std::uint32_t>(std::stol(a.at("ctime")));
      d.pin_baseline(as_entry);
    } else if (kind == "loader") {
      d.add_loader(f);
    } else if (token == "fleet_silent") {
      d.set_fleet_silent(true);
    } else if (token == "trust=root_owned") {
      d.set_trust_root_owned(true);
    } else if (kind == "owner") {
      f.owner = static_cast<std::uint32_t>(std::stoul(token.substr(6)));
    } else if (kind == "mode") {
      f.mode = 0100000 | static_cast<std::uint32_t>(std::stoul(token.substr(5), nullptr, 8));
    } else {
      FAIL() << "decision_cases.txt:" << row.line << ": unknown entry " << token;
    }
  }
}

// The row's question, asked of the decision as the kernel's hooks ask it.
NativeVerdict ask(const Row& row, NativeDecision& d, NativeFile& f) {
  constexpr std::uint32_t kUid = 0;  // the VM suite runs as root
  if (row.ask == "exec") return d.decide(f, kUid, std::nullopt, true, true);
  if (row.ask.rfind("exec:caller=", 0) == 0)
    return d.decide(f, kUid, id(static_cast<std::uint8_t>(std::stoul(row.ask.substr(12), nullptr, 16))), true, true);
  if (row.ask == "map") return d.decide_mapping(f, kUid, false);
  f.nlink = 0;  // a nameless file: its inode as each kind leaves it
  if (row.ask == "memfd") f.kernel_mount = true;
  else if (row.ask == "tmpfile") f.name = "#" + std::to_string(f.ino);
  else if (row.ask != "unlinked") ADD_FAILURE() << "decision_cases.txt:" << row.line << ": unknown ask " << row.ask;
  return d.decide(f, kUid, std::nullopt, true, true);
}

TEST(DecisionTable, EveryRowGivesItsReason) {
  const auto rows = table();
  ASSERT_GE(rows.size(), 30u) << "tests/e2e/decision_cases.txt read";
  std::size_t in_vm = 0;
  for (const auto& row : rows) {
    SCOPED_TRACE("decision_cases.txt:" + std::to_string(row.line) + " " + row.name);
    ASSERT_TRUE(row.where == "both" || row.where == "native") << row.where;
    ASSERT_TRUE(parse_reason(row.expect).has_value()) << "no reason " << row.expect;
    in_vm += row.where == "both";
    NativeDecision d;
    d.set_now(kNow);
    NativeFile f = file();
    install(row, d, f);
    const NativeVerdict v = ask(row, d, f);
    EXPECT_EQ(reason(v.reason), row.expect);
    EXPECT_EQ(v.allowed, row.expect == "ticket" || row.expect == "baseline");
  }
  EXPECT_GE(in_vm, 25u) << "most rows are compared with the real programs";
}

TEST(NativeDecision, UsesAreSpentByExecsNotByMappings) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  auto t = ticket();
  t.uses_left = 2;
  d.add_ticket(f, t);
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, false, false).reason), "ticket");  // a mapping
  EXPECT_EQ(d.uses_left(f), 2);
  auto first = d.decide(f, 1000, std::nullopt, true, true);
  EXPECT_EQ(reason(first.reason), "ticket");
  EXPECT_FALSE(first.last_use);
  auto second = d.decide(f, 1000, std::nullopt, true, true);
  EXPECT_EQ(reason(second.reason), "ticket");
  EXPECT_TRUE(second.last_use);
  EXPECT_TRUE(second.spent);
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true).reason), "exhausted");
}

TEST(NativeDecision, AnEstimateNearABoundReadsTheClock) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  auto t = ticket();
  t.not_after_ns = kNow - 1;  // expired by the clock
  d.add_ticket(f, t);
  // an estimate 0.5 s behind says valid, but it is within the slack of the bound: the
  // clock is read, and the clock says expired
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true, kNow - kSecond / 2).reason), "expired");
  // an estimate far from both bounds decides alone
  t.not_after_ns = kNow + 3600 * kSecond;
  d.add_ticket(f, t);
  d.set_now(kNow + 7200 * kSecond);  // the clock would say expired; the estimate is trusted
  EXPECT_EQ(reason(d.decide(f, 1000, std::nullopt, true, true, kNow).reason), "ticket");
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

// Jobs (docs/gate.md "Jobs"): a job-bound ticket's entry decides only for a task of its
// job, and the inode's own entry, only their anchor, allows nothing.
TEST(NativeDecision, AJobsTicketAllowsOnlyInsideItsJob) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile f = file();
  KernelTicket anchor = ticket();
  anchor.jobs_only = anchor.has_jobs = true;
  d.add_ticket(f, anchor);
  d.add_live_job(7);
  d.add_live_job(8);
  d.add_job_ticket(f, 7, ticket());
  d.set_task_job(7);
  NativeVerdict v = d.decide(f, 1000, std::nullopt, true, true);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.reason, EG_R_TICKET);
  EXPECT_EQ(v.job, 7u);
  d.set_task_job(8);
  EXPECT_EQ(d.decide(f, 1000, std::nullopt, true, true).reason, EG_R_WRONG_JOB);
  d.set_task_job(0);
  EXPECT_EQ(d.decide(f, 1000, std::nullopt, true, true).reason, EG_R_WRONG_JOB);
}

// A job's output runs in its job while its builder's ticket is installed and valid.
TEST(NativeDecision, AJobsOutputRunsInItsJobWhileItsBuildersTicketHolds) {
  NativeDecision d;
  d.set_now(kNow);
  NativeFile builder = file();
  NativeFile out = file();
  out.ino = builder.ino + 1;
  KernelTicket bt = ticket();
  bt.builder = true;
  d.add_ticket(builder, bt);
  d.add_live_job(7);
  d.add_live_job(8);
  d.add_output(out, JobOutput{{out.dev, out.ino}, bt.id, {builder.dev, builder.ino}, 7, 4242});
  d.set_task_job(7);
  NativeVerdict v = d.decide(out, 1000, std::nullopt, true, true);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.reason, EG_R_JOB_OUTPUT);
  EXPECT_EQ(v.writer, 4242u);
  EXPECT_EQ(v.ticket, bt.id) << "the record names the builder's ticket";
  EXPECT_TRUE(d.decide_mapping(out, 1000, false).allowed) << "loaded as a library in the job too";
  d.set_task_job(8);
  EXPECT_EQ(d.decide(out, 1000, std::nullopt, true, true).reason, EG_R_WRONG_JOB);
  d.set_task_job(7);
  d.remove_ticket(builder);
  EXPECT_EQ(d.decide(out, 1000, std::nullopt, true, true).reason, EG_R_BUILDER_GONE);
  KernelTicket other = ticket();
  other.id = id(2);
  d.add_ticket(builder, other);  // another ticket for the builder: not the one that built
  EXPECT_EQ(d.decide(out, 1000, std::nullopt, true, true).reason, EG_R_BUILDER_GONE);
}

}  // namespace
}  // namespace execgate
