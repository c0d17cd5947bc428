// Jobs in the daemon, on the fake gate and fake cgroups (docs/gate.md "Jobs"): a job's
// cgroup below the scope, listed in the kernel; a job-bound ticket's entry by inode and
// job, with the inode's own entry its anchor; two jobs' tickets for one file side by side;
// a ticket for a job not running refused; ending a job uninstalls its tickets and takes it
// out of the kernel; what a peer inside the scope may ask; a restart finds the jobs again.
#include <gtest/gtest.h>
#include <unistd.h>

#include "daemon_env.h"

using namespace execgate;
using namespace execgate::test;
using nlohmann::json;

namespace {

class DaemonJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    cc = env.make_file("cc", "#!/bin/sh\necho cc\n");
    tool = env.make_file("tool", "#!/bin/sh\necho tool\n");
    env.cgroups.add("/ci.slice");
    env.cgroups.place(::getpid(), "/");  // the test runs outside the scope
    env.job_cgroups.cgroups["/ci.slice"] = 1;
    env.boot();
  }
  json start(const std::string& job, ControlPeer peer = outside()) {
    return env.daemon().handle(ControlRequest{ControlRequest::Op::job_start, {}, "test", {}, 0, job, {}}, peer);
  }
  json end(const std::string& job, ControlPeer peer = outside()) {
    return env.daemon().handle(ControlRequest{ControlRequest::Op::job_end, {}, "test", {}, 0, job, {}}, peer);
  }
  std::string job_ticket(const std::string& file, const std::string& job, bool builder = false) {
    DaemonEnv::TicketSpec s{{file}};
    s.job = job;
    s.builder = builder;
    return env.issue(s);
  }
  static ControlPeer outside() { return ControlPeer{0, false, ::getpid()}; }
  std::uint64_t job_id(const std::string& job) { return env.job_cgroups.cgroups.at("/ci.slice/job." + job); }

  DaemonEnv env;
  InodeKey cc, tool;
};

TEST_F(DaemonJobs, AJobIsACgroupBelowTheScopeListedInTheKernel) {
  const json r = start("build-1");
  ASSERT_EQ(r["result"], "started") << r.dump();
  EXPECT_EQ(r["cgroup"], "/ci.slice/job.build-1");
  EXPECT_EQ(env.gate().live_jobs, std::set<std::uint64_t>{job_id("build-1")});
  EXPECT_TRUE(env.audited("job_started", "requested"));
  EXPECT_EQ(start("build-1")["result"], "refused") << "a running job is not started twice";
  EXPECT_EQ(start("../x")["result"], "refused") << "a job id names a directory: no path";
}

TEST_F(DaemonJobs, AJobBoundTicketHasItsOwnEntryAndTheInodesEntryIsOnlyItsAnchor) {
  ASSERT_EQ(start("a")["result"], "started");
  const std::string t = job_ticket("cc", "a");
  ASSERT_EQ(env.submit(t)["result"], "installed");
  const auto anchor = env.gate().get_ticket(cc);
  ASSERT_TRUE(anchor);
  EXPECT_TRUE(anchor->jobs_only && anchor->has_jobs) << "the inode's entry allows nothing itself";
  EXPECT_EQ(env.gate().job_exec_reason(cc, job_id("a")), "ticket");
  EXPECT_EQ(env.gate().job_exec_reason(cc, 0), "wrong_job");
  EXPECT_EQ(env.gate().exec_reason(cc), "wrong_job");
}

TEST_F(DaemonJobs, TwoJobsTicketsForOneFileLieSideBySideBesideAHostTicket) {
  ASSERT_EQ(start("a")["result"], "started");
  ASSERT_EQ(start("b")["result"], "started");
  ASSERT_EQ(env.submit(job_ticket("cc", "a"))["result"], "installed");
  ASSERT_EQ(env.submit(job_ticket("cc", "b"))["result"], "installed");
  EXPECT_EQ(env.gate().job_entries.size(), 2u);
  EXPECT_EQ(env.gate().job_exec_reason(cc, job_id("a")), "ticket");
  EXPECT_EQ(env.gate().job_exec_reason(cc, job_id("b")), "ticket");
  const std::string host = env.ticket({"cc"});
  ASSERT_EQ(env.submit(host)["result"], "installed");
  const auto entry = env.gate().get_ticket(cc);
  EXPECT_EQ(hex_id(entry->id), DaemonEnv::id_of(host)) << "the host ticket holds the inode's entry";
  EXPECT_TRUE(entry->has_jobs && !entry->jobs_only);
}

TEST_F(DaemonJobs, ATicketForAJobNotRunningIsRefused) {
  const json r = env.submit(job_ticket("cc", "nope"));
  EXPECT_EQ(r["reason"], "wrong_job") << r.dump();
  EXPECT_FALSE(env.gate().get_ticket(cc));
}

TEST_F(DaemonJobs, EndingAJobUninstallsItsTicketsAndTakesItOutOfTheKernel) {
  ASSERT_EQ(start("a")["result"], "started");
  ASSERT_EQ(start("b")["result"], "started");
  const std::string ta = job_ticket("cc", "a"), tb = job_ticket("cc", "b");
  ASSERT_EQ(env.submit(ta)["result"], "installed");
  ASSERT_EQ(env.submit(tb)["result"], "installed");
  const std::uint64_t a = job_id("a");
  env.gate().outputs.push_back(JobOutput{tool, {}, cc, a, 42});
  env.job_cgroups.procs["/ci.slice/job.a"] = {4242};
  const json r = end("a");
  ASSERT_EQ(r["result"], "ended") << r.dump();
  EXPECT_EQ(r["removed"], json::array({DaemonEnv::id_of(ta)}));
  EXPECT_TRUE(env.audited("ticket_revoked", "job_ended", DaemonEnv::id_of(ta)));
  EXPECT_TRUE(env.audited("job_ended", "requested"));
  EXPECT_FALSE(env.gate().live_jobs.count(a));
  EXPECT_TRUE(env.gate().outputs.empty()) << "its outputs go with it";
  EXPECT_EQ(env.gate().job_entries.size(), 1u) << "job b's entry stays";
  EXPECT_EQ(env.gate().job_exec_reason(cc, job_id("b")), "ticket");
  EXPECT_EQ(env.job_cgroups.kills, 1) << "ended from outside: its processes are killed";
  EXPECT_FALSE(env.job_cgroups.cgroups.count("/ci.slice/job.a")) << "and its cgroup removed";
  EXPECT_EQ(end("a")["result"], "refused") << "no such job any more";
}

TEST_F(DaemonJobs, FromInsideTheScopeOnlyTheCallersOwnJobEndsAndNothingStartsOrMoves) {
  ASSERT_EQ(start("a")["result"], "started");
  ASSERT_EQ(start("b")["result"], "started");
  ASSERT_EQ(env.submit(job_ticket("cc", "a"))["result"], "installed");
  const pid_t step = 777;  // a process of job a
  env.cgroups.place(step, "/ci.slice/job.a");
  env.job_cgroups.procs["/ci.slice/job.a"] = {step};
  const ControlPeer inside{0, true, step};
  EXPECT_EQ(start("c", inside)["result"], "refused");
  EXPECT_FALSE(env.job_cgroups.cgroups.count("/ci.slice/job.c"));
  const json join = env.daemon().handle(
      ControlRequest{ControlRequest::Op::job_join, {}, "test", {}, 0, "b", {::getpid()}}, inside);
  EXPECT_EQ(join["result"], "refused");
  EXPECT_EQ(end("b", inside)["result"], "refused") << "another job";
  EXPECT_TRUE(env.gate().live_jobs.count(job_id("b")));
  const json own = end("a", inside);
  ASSERT_EQ(own["result"], "ended") << own.dump();
  EXPECT_EQ(own["killed"], false) << "its processes are left to exit";
  EXPECT_EQ(env.job_cgroups.kills, 0);
  EXPECT_EQ(env.gate().job_exec_reason(cc, 0), "no_ticket") << "its ticket is gone at once";
  EXPECT_TRUE(env.job_cgroups.cgroups.count("/ci.slice/job.a")) << "the cgroup stays while a process is in it";
  env.job_cgroups.procs.erase("/ci.slice/job.a");
  env.daemon().sweep();
  EXPECT_FALSE(env.job_cgroups.cgroups.count("/ci.slice/job.a")) << "removed once empty";
}

TEST(DaemonJobsHostScope, WithTheWholeHostTheScopeNoJobStarts) {
  DaemonEnv env;
  env.policy.scope_host = true;
  env.policy.scope_cgroups.clear();
  env.boot();
  const ControlPeer peer{0, true, ::getpid()};  // with host = true every peer is inside
  const json r = env.daemon().handle(ControlRequest{ControlRequest::Op::job_start, {}, "test", {}, 0, "a", {}}, peer);
  EXPECT_EQ(r["result"], "refused");
  EXPECT_NE(r.value("detail", "").find("[scope] cgroups"), std::string::npos) << r.dump();
  EXPECT_TRUE(env.job_cgroups.cgroups.empty());
}

TEST_F(DaemonJobs, AProcessInsideTheScopeIsNotMovedIntoAJob) {
  const pid_t inside_pid = ::getppid();
  env.cgroups.place(inside_pid, "/ci.slice/run-1");
  const json r = env.daemon().handle(
      ControlRequest{ControlRequest::Op::job_start, {}, "test", {}, 0, "a", {inside_pid}}, outside());
  EXPECT_EQ(r["result"], "refused") << r.dump();
  EXPECT_FALSE(env.job_cgroups.cgroups.count("/ci.slice/job.a")) << "nothing half-started";
}

TEST_F(DaemonJobs, ARestartFindsTheJobsAndTheirTicketsAgain) {
  ASSERT_EQ(start("a")["result"], "started");
  const std::string t = job_ticket("cc", "a");
  ASSERT_EQ(env.submit(t)["result"], "installed");
  env.shut_down();
  env.fresh_kernel();
  env.boot();
  EXPECT_TRUE(env.gate().live_jobs.count(job_id("a")));
  EXPECT_EQ(env.gate().job_exec_reason(cc, job_id("a")), "ticket");
  // the job's cgroup gone while no daemon ran: its ticket is not installed again
  env.shut_down();
  env.job_cgroups.cgroups.erase("/ci.slice/job.a");
  env.fresh_kernel();
  env.boot();
  EXPECT_TRUE(env.gate().live_jobs.empty());
  EXPECT_FALSE(env.gate().get_ticket(cc));
  EXPECT_TRUE(env.audited("ticket_refused", "wrong_job", DaemonEnv::id_of(t)));
}

}  // namespace
