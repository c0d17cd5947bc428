// `policy simulate`: the log's verification first, then each recorded exec judged by the
// candidate policy and tickets, grouped by file with counts (synthetic logs written by the
// project's own audit writer, a fake host).
#include <filesystem>

#include "rollout/simulate.h"
#include "rollout_test_util.h"

using namespace execgate;
using namespace execgate::rollout_test;

namespace {

struct SimulateTest : ::testing::Test {
  TempDir dir;
  Issuer ops{dir, "ops"};
  FakeHost host;
  const std::int64_t now = SystemClock().now();

  SimulateTest() {
    std::filesystem::create_directories(dir.file("tickets"));
    host.links["/bin"] = "/usr/bin";  // merged /usr: the kernel names /usr/bin/make
    host.root_file("/usr/bin/make");
    host.root_file("/usr/bin/loose", 0100775);  // group-writable: the daemon does not pin it
    host.user_file("/opt/app/tool");
    host.user_file("/opt/app/ok");
    host.digests["/opt/app/ok"] = std::string(64, 'a');
  }

  // Simulates the log of `records` with the candidate and the tickets directory.
  SimulationReport simulate(const std::vector<json>& records, const Policy& p) {
    const CandidateTickets t = load_candidate_tickets(dir.file("tickets"), p, kMachine, now);
    Simulator sim(p, t.usable, host, now);
    read_audit_log(write_log(dir, records), {}, [&](const json& r) { sim.record(r); });
    return sim.report();
  }
};

}  // namespace

TEST_F(SimulateTest, DeniedExecsAreGroupedByFileWithCounts) {
  put_ticket(dir, "ok.json", ticket_for({"/opt/app/ok"}, now), ops);
  const SimulationReport r = simulate(
      {exec_record("/opt/app/tool", "monitor_deny", "no_ticket", 101, 1000),
       exec_record("/usr/bin/make", "allow", "baseline"), exec_record("/opt/app/tool", "monitor_deny", "no_ticket", 102, 1000),
       exec_record("/opt/app/ok", "monitor_deny", "no_ticket"),  // the candidate's ticket lets it run
       exec_record("", "monitor_deny", "memfd"), exec_record("/usr/bin/loose", "monitor_deny", "no_ticket"),
       exec_record("/opt/app/tool", "monitor_deny", "no_ticket", 103, 1001),
       exec_record("/opt/app/tool", "monitor_deny", "no_ticket", 104, 0, kOtherCgroup),  // not gated by the candidate
       exec_record("/usr/bin/make", "allow", "baseline", 105, 0, kGoneCgroup)},
      candidate(ops));
  EXPECT_EQ(r.execs, 8u);
  EXPECT_EQ(r.outside_scope, 1u);
  EXPECT_EQ(r.scope_unknown, 1u);
  EXPECT_EQ(r.allowed_baseline, 2u);
  EXPECT_EQ(r.allowed_ticket, 1u);
  EXPECT_EQ(r.refused, 5u);
  ASSERT_EQ(r.files.size(), 3u);
  const RefusalGroup& tool = r.files.at("/opt/app/tool");
  EXPECT_EQ(tool.count, 3u);
  EXPECT_EQ(tool.reasons, (std::map<std::string, std::uint64_t>{{"no_ticket", 3}}));
  EXPECT_EQ(tool.uids, (std::set<std::uint32_t>{1000, 1001}));
  EXPECT_EQ(r.files.at("").reasons.at("memfd"), 1u);
  EXPECT_EQ(r.files.at("/usr/bin/loose").count, 1u);  // in the baseline's directory, but writable by its group
  EXPECT_TRUE(r.would_deny());
  // the text groups by file, most denied first, and says the result
  const std::string text = r.text();
  EXPECT_LT(text.find("/opt/app/tool"), text.find("/usr/bin/loose")) << text;
  EXPECT_NE(text.find("3       no_ticket             /opt/app/tool"), std::string::npos) << text;
  EXPECT_NE(text.find("(exit 3)"), std::string::npos);
  const json j = r.to_json();
  EXPECT_EQ(j["files"][0]["path"], "/opt/app/tool");
  EXPECT_EQ(j["files"][0]["count"], 3);
  EXPECT_TRUE(j["would_deny"].get<bool>());
}

TEST_F(SimulateTest, NothingDeniedAndMonitorCandidatesDenyNothing) {
  put_ticket(dir, "ok.json", ticket_for({"/opt/app/ok"}, now), ops);
  const std::vector<json> log{exec_record("/opt/app/ok", "monitor_deny", "no_ticket"),
                              exec_record("/usr/bin/make", "allow", "baseline")};
  EXPECT_FALSE(simulate(log, candidate(ops)).would_deny());
  const std::vector<json> denied{exec_record("/opt/app/tool", "monitor_deny", "no_ticket")};
  const SimulationReport monitor = simulate(denied, candidate(ops, "monitor"));
  EXPECT_EQ(monitor.refused, 1u);
  EXPECT_FALSE(monitor.would_deny());
  EXPECT_NE(monitor.text().find("it denies nothing"), std::string::npos);
}

TEST_F(SimulateTest, TicketsAreJudgedLikeASubmissionAndTheKernelsChecks) {
  const Policy p = candidate(ops);
  Issuer rogue{dir, "rogue"};
  host.user_file("/opt/a");
  host.user_file("/opt/b");
  host.user_file("/opt/c");
  host.user_file("/opt/d");
  host.user_file("/opt/e");
  host.digests["/opt/d"] = std::string(64, 'b');  // the ticket's digest is 'aa..': other bytes

  TicketBody uid_bound = ticket_for({"/opt/a"}, now);
  uid_bound.uids = {1000};
  put_ticket(dir, "a.json", uid_bound, ops);
  TicketBody twice = ticket_for({"/opt/b"}, now);
  twice.max_uses = 2;
  put_ticket(dir, "b.json", twice, ops);
  TicketBody later = ticket_for({"/opt/c"}, now);
  later.not_before = now + 600;
  put_ticket(dir, "c.json", later, ops);
  put_ticket(dir, "d.json", ticket_for({"/opt/d"}, now), ops);
  put_ticket(dir, "rogue.json", ticket_for({"/opt/e"}, now), rogue);
  TicketBody elsewhere = ticket_for({"/opt/e"}, now);
  elsewhere.hosts = {std::string(32, 'f')};
  put_ticket(dir, "elsewhere.json", elsewhere, ops);
  put_ticket(dir, "expired.json", ticket_for({"/opt/e"}, now - 7200, 3600), ops);
  TicketBody revoked = ticket_for({"/opt/e"}, now);
  put_ticket(dir, "revoked.json", revoked, ops);
  RevocationBody rv{new_ticket_id(), {revoked.id}, now, "test"};
  write_file_atomic(dir.file("tickets/zz.revocation"), sign_revocation(rv, ops.kp.secret), 0644);
  write_file_atomic(dir.file("tickets/notes.txt"), "not a ticket", 0644);

  const CandidateTickets t = load_candidate_tickets(dir.file("tickets"), p, kMachine, now);
  std::map<std::string, std::string> refused;
  for (const auto& r : t.refused) refused[std::filesystem::path(r.file).filename()] = r.reason;
  EXPECT_EQ(refused, (std::map<std::string, std::string>{{"rogue.json", "untrusted_issuer"},
                                                         {"elsewhere.json", "wrong_host"},
                                                         {"expired.json", "expired"},
                                                         {"revoked.json", "revoked"},
                                                         {"notes.txt", "malformed"}}));
  EXPECT_EQ(t.usable.size(), 4u);

  const SimulationReport r = simulate(
      {exec_record("/opt/a", "monitor_deny", "no_ticket", 1, 1000), exec_record("/opt/a", "monitor_deny", "no_ticket", 2, 0),
       exec_record("/opt/b", "monitor_deny", "no_ticket"), exec_record("/opt/b", "monitor_deny", "no_ticket"),
       exec_record("/opt/b", "monitor_deny", "no_ticket", 100, 0, kGatedCgroup, "mmap_exec"),  // spends no use
       exec_record("/opt/b", "monitor_deny", "no_ticket"), exec_record("/opt/c", "monitor_deny", "no_ticket"),
       exec_record("/opt/d", "monitor_deny", "no_ticket"), exec_record("/opt/e", "monitor_deny", "no_ticket")},
      p);
  EXPECT_EQ(r.allowed_ticket, 4u);  // /opt/a as uid 1000, /opt/b twice and its mapping
  EXPECT_EQ(r.files.at("/opt/a").reasons, (std::map<std::string, std::uint64_t>{{"uid_mismatch", 1}}));
  EXPECT_EQ(r.files.at("/opt/b").reasons, (std::map<std::string, std::uint64_t>{{"exhausted", 1}}));
  EXPECT_EQ(r.files.at("/opt/c").reasons, (std::map<std::string, std::uint64_t>{{"not_yet_valid", 1}}));
  EXPECT_EQ(r.files.at("/opt/d").reasons, (std::map<std::string, std::uint64_t>{{"no_ticket", 1}}));
  EXPECT_NE(r.files.at("/opt/d").detail.find("digest_mismatch"), std::string::npos);
  EXPECT_EQ(r.files.at("/opt/e").reasons, (std::map<std::string, std::uint64_t>{{"no_ticket", 1}}));
}

TEST_F(SimulateTest, LineageFollowsTheImagesOfTheLog) {
  host.user_file("/opt/parent");
  host.user_file("/opt/child");
  const TicketBody parent = ticket_for({"/opt/parent"}, now);
  TicketBody child = ticket_for({"/opt/child"}, now);
  child.parent = parent.id;
  put_ticket(dir, "parent.json", parent, ops);
  put_ticket(dir, "child.json", child, ops);
  const SimulationReport r = simulate(
      {exec_record("/opt/parent", "monitor_deny", "no_ticket", 500),
       exec_record("/opt/child", "monitor_deny", "no_ticket", 501, 0, kGatedCgroup, "exec", 500),  // forked by it
       exec_record("/opt/child", "monitor_deny", "no_ticket", 600, 0, kGatedCgroup, "exec", 1)},   // by another
      candidate(ops));
  EXPECT_EQ(r.allowed_ticket, 2u);
  EXPECT_EQ(r.files.at("/opt/child").reasons, (std::map<std::string, std::uint64_t>{{"lineage", 1}}));
}

TEST_F(SimulateTest, MappingsAreNamedByTheExecRecordsOfTheirInode) {
  put_ticket(dir, "ok.json", ticket_for({"/opt/app/ok"}, now), ops);
  const SimulationReport r = simulate(
      {with_ino(exec_record("/opt/app/ok", "monitor_deny", "no_ticket"), 77),
       mapping_record("ok", 77, "monitor_deny", "loader_bypass"),  // the image of that exec: its ticket maps it
       with_ino(exec_record("/opt/app/tool", "monitor_deny", "no_ticket"), 78),
       mapping_record("tool", 78, "monitor_deny", "loader_bypass"),
       mapping_record("lib.so", 79, "monitor_deny", "loader_bypass")},  // no record names inode 79
      candidate(ops));
  EXPECT_EQ(r.allowed_ticket, 2u);
  const RefusalGroup& tool = r.files.at("/opt/app/tool");
  EXPECT_EQ(tool.count, 2u);
  EXPECT_EQ(tool.mappings, 1u);
  EXPECT_EQ(tool.reasons, (std::map<std::string, std::uint64_t>{{"loader_bypass", 1}, {"no_ticket", 1}}));
  const RefusalGroup& lib = r.files.at("lib.so (dev 8:1, inode 79)");
  EXPECT_FALSE(lib.on_host);
  EXPECT_EQ(lib.reasons.count("loader_bypass"), 1u);
}

TEST_F(SimulateTest, TheLoaderAndNamelessFilesAreNeverAllowed) {
  host.root_file("/usr/bin/ld.so");
  const SimulationReport r = simulate({exec_record("/usr/bin/ld.so", "monitor_deny", "loader_bypass"),
                                       exec_record("/memfd:x (deleted)", "monitor_deny", "memfd"),
                                       exec_record("/tmp/#123", "monitor_deny", "tmpfile")},
                                      candidate(ops));
  EXPECT_EQ(r.refused, 3u);
  EXPECT_EQ(r.files.at("/usr/bin/ld.so").reasons.count("loader_bypass"), 1u);
  EXPECT_EQ(r.files.at("").reasons, (std::map<std::string, std::uint64_t>{{"memfd", 1}, {"tmpfile", 1}}));
}

TEST_F(SimulateTest, OperationsFollowTheCandidatesPosture) {
  const SimulationReport r = simulate(
      {access_record("capable", "privilege", "CAP_NET_ADMIN"), access_record("capable", "privilege", "CAP_SYS_MODULE"),
       access_record("mount", "privilege"), access_record("ptrace", "ptrace")},
      candidate(ops, "enforce", "capabilities = [\"CAP_NET_ADMIN\"]\nallow = [\"mount\"]\n"));
  EXPECT_EQ(r.operations, 4u);
  EXPECT_EQ(r.operations_refused, 2u);
  EXPECT_EQ(r.operations_by.count("capable CAP_SYS_MODULE"), 1u);
  EXPECT_EQ(r.operations_by.count("ptrace"), 1u);
  EXPECT_TRUE(r.would_deny());
}

TEST_F(SimulateTest, EnforceModeLogsAndMissingFilesAreSaidInWarnings) {
  const SimulationReport r = simulate({exec_record("/opt/gone", "deny", "no_ticket")}, candidate(ops));
  std::string all;
  for (const auto& w : r.warnings) all += w + "\n";
  EXPECT_NE(all.find("denied by the log's own policy"), std::string::npos) << all;
  EXPECT_NE(all.find("not on this host"), std::string::npos) << all;
  EXPECT_FALSE(r.files.at("/opt/gone").on_host);
}

TEST(AuditReading, ABrokenChainIsRefusedUnlessAcceptedAndSaidSo) {
  TempDir dir;
  const std::string log = write_log(dir, {exec_record("/opt/x", "monitor_deny", "no_ticket"),
                                          exec_record("/opt/y", "monitor_deny", "no_ticket")});
  std::size_t n = 0;
  auto count = [&](const json&) { ++n; };
  const AuditReading chain_only = read_audit_log(log, {}, count);
  EXPECT_TRUE(chain_only.verify.ok);
  EXPECT_NE(chain_only.summary().find("signatures NOT checked"), std::string::npos) << chain_only.summary();
  EXPECT_EQ(n, 3u);  // daemon_start and the two execs

  auto lines = audit_test::read_lines(log);
  lines[1] = lines[1].replace(lines[1].find("/opt/x"), 6, "/opt/z");  // edited, hash left as it was
  audit_test::write_lines(log, lines);
  try {
    read_audit_log(log, {}, count);
    FAIL() << "a broken chain was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::verification);
    EXPECT_NE(std::string(e.what()).find("broken at seq 2"), std::string::npos) << e.what();
  }
  n = 0;
  AuditReadOptions accept;
  accept.accept_broken = true;
  const AuditReading broken = read_audit_log(log, accept, count);
  EXPECT_FALSE(broken.verify.ok);
  EXPECT_EQ(broken.unreadable, 1u);
  EXPECT_EQ(n, 2u);
  EXPECT_NE(broken.summary().find("NOT VERIFIED: broken at seq 2"), std::string::npos) << broken.summary();
}

TEST(AuditReading, SignedCheckpointsAreVerifiedWithTheKey) {
  TempDir dir;
  audit_test::Keys keys(dir);
  std::vector<json> records;
  for (int i = 0; i < 12; ++i) records.push_back(exec_record("/opt/x", "monitor_deny", "no_ticket"));
  const std::string log = write_log(dir, records, keys.key());
  AuditReadOptions with_key;
  with_key.keys.push_back(keys.kp.pub);
  const AuditReading r = read_audit_log(log, with_key, [](const json&) {});
  EXPECT_TRUE(r.verify.ok);
  EXPECT_NE(r.summary().find("checkpoint signature(s) verified"), std::string::npos) << r.summary();
  AuditReadOptions wrong_key;
  wrong_key.keys.push_back(generate_keypair().pub);
  EXPECT_THROW(read_audit_log(log, wrong_key, [](const json&) {}), Error);
}

TEST(PathWithin, ComponentsNotPrefixes) {
  EXPECT_TRUE(path_within("/usr/bin/make", "/usr/bin"));
  EXPECT_TRUE(path_within("/usr/bin", "/usr/bin"));
  EXPECT_FALSE(path_within("/usr/binx/make", "/usr/bin"));
  EXPECT_TRUE(path_within("/anything", "/"));
}
