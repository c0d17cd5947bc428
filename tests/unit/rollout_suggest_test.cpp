// `suggest`: baseline paths for root-owned files in system directories, `execgate issue`
// lines for the rest, posture refusals and what nothing fixes as comments: the draft text.
#include "rollout/suggest.h"
#include "rollout_test_util.h"

using namespace execgate;
using namespace execgate::rollout_test;

namespace {

Suggestion suggest(const std::vector<json>& records, const FakeHost& host) {
  TempDir dir;
  Suggester s(host);
  read_audit_log(write_log(dir, records), {}, [&](const json& r) { s.record(r); });
  return s.result();
}

}  // namespace

TEST(Suggest, DraftsBaselinePathsIssueLinesAndComments) {
  FakeHost host;
  host.links["/bin"] = "/usr/bin";
  host.root_file("/usr/bin/newtool");
  host.root_file("/usr/local/bin/admin");  // root's, but not a distribution directory: a ticket
  host.user_file("/opt/app/tool");
  host.user_file("/home/u/my tool");
  const Suggestion s = suggest(
      {exec_record("/bin/newtool", "monitor_deny", "no_ticket", 10), exec_record("/usr/bin/newtool", "deny", "stale", 11),
       exec_record("/opt/app/tool", "monitor_deny", "no_ticket", 12, 1000),
       exec_record("/opt/app/tool", "monitor_deny", "expired", 13, 1000),
       exec_record("/usr/local/bin/admin", "monitor_deny", "no_ticket"),
       exec_record("/home/u/my tool", "monitor_deny", "no_ticket", 14, 1000),
       exec_record("/opt/gone/tool", "monitor_deny", "no_ticket", 15, 1000),
       exec_record("/usr/bin/make", "allow", "baseline"),  // allowed: nothing to suggest
       exec_record("", "monitor_deny", "memfd"), exec_record("/usr/bin/ld.so", "monitor_deny", "loader_bypass"),
       access_record("capable", "privilege", "CAP_NET_ADMIN"), access_record("mount", "privilege"),
       access_record("ptrace", "ptrace")},
      host);
  SuggestOptions o;
  o.key = "/etc/execgate/ops.key";
  o.ttl = "8h";
  o.host = kMachine;
  const std::string text = s.text(o);
  const std::string expected = R"(
# Baseline: root-owned files in system directories. Add to the policy's [baseline] paths
# (pinned as they are when the daemon starts and at each `systemctl reload execgated`):
[baseline]
paths = [
  "/usr/bin/newtool",  # 2 execs (newtool), no_ticket, stale
]

# Tickets for the other files: sign each with a trusted issuer's key, check it with
# `execgate inspect`, then `execgate submit FILE`:
# /home/u/my tool: 1 exec (my tool), no_ticket
execgate issue --key /etc/execgate/ops.key --binary '/home/u/my tool' --host 0123456789abcdef0123456789abcdef --ttl 8h --uid 1000 --purpose 'execgate suggest: 1 exec(s) in the audit log' -o 'my tool.ticket'
# /opt/app/tool: 2 execs (tool), expired, no_ticket
execgate issue --key /etc/execgate/ops.key --binary /opt/app/tool --host 0123456789abcdef0123456789abcdef --ttl 8h --uid 1000 --purpose 'execgate suggest: 2 exec(s) in the audit log' -o tool.ticket
# /opt/gone/tool: 1 exec (tool), no_ticket; not on this host: run it where the file is
execgate issue --key /etc/execgate/ops.key --binary /opt/gone/tool --host 0123456789abcdef0123456789abcdef --ttl 8h --uid 1000 --purpose 'execgate suggest: 1 exec(s) in the audit log' -o tool-2.ticket
# /usr/local/bin/admin: 1 exec (admin), no_ticket
execgate issue --key /etc/execgate/ops.key --binary /usr/local/bin/admin --host 0123456789abcdef0123456789abcdef --ttl 8h --uid 0 --purpose 'execgate suggest: 1 exec(s) in the audit log' -o admin.ticket

# Operations the scope's privilege posture refused. Allow in [scope] only what the
# workload needs (docs/gate.md "Privilege posture"):
#   allow = ["mount"]  # 1 refusal (ip), privilege
#   capabilities = ["CAP_NET_ADMIN"]  # 1 refusal (ip), privilege

# Neither a ticket nor the baseline lets these run:
#   loader_bypass: 1 exec (ld.so), loader_bypass; the dynamic loader running a file: run the file itself
#   memfd: 1 exec (sh), memfd; memory or a file no directory names: write it to a file first
#   1 other refused operation(s) (write guard, tamper): the gate's protections
)";
  EXPECT_EQ(text, expected);
  const json j = s.to_json(o);
  EXPECT_EQ(j["baseline"][0]["path"], "/usr/bin/newtool");
  EXPECT_EQ(j["tickets"].size(), 4u);
  EXPECT_EQ(j["guarded"], 1);
}

TEST(Suggest, AMappingIsItsFilesNotTheLoaders) {
  FakeHost host;
  host.user_file("/opt/app/tool");
  const Suggestion s = suggest({with_ino(exec_record("/opt/app/tool", "monitor_deny", "no_ticket"), 78),
                                mapping_record("tool", 78, "monitor_deny", "loader_bypass"),
                                mapping_record("lib.so", 79, "monitor_deny", "loader_bypass")},
                               host);
  ASSERT_EQ(s.tickets.count("/opt/app/tool"), 1u);
  EXPECT_EQ(s.unfixable.count("loader_bypass"), 0u);
  EXPECT_EQ(s.unfixable.at("unnamed").count, 1u);
  const std::string text = s.text(SuggestOptions{});
  EXPECT_NE(text.find("# /opt/app/tool: 1 exec, 1 mapping (tool), loader_bypass, no_ticket\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#   unnamed: 1 mapping (lib.so), loader_bypass; the kernel named a mapped file only by its name, "
                      "e.g. lib.so (dev 8:1, inode 79)"),
            std::string::npos)
      << text;
}

TEST(Suggest, NothingToSuggestSaysSo) {
  FakeHost host;
  const Suggestion s = suggest({exec_record("/usr/bin/make", "allow", "baseline")}, host);
  EXPECT_NE(s.text(SuggestOptions{}).find("nothing to suggest"), std::string::npos);
}

TEST(Suggest, ManyUidsNameNoUid) {
  FakeHost host;
  host.user_file("/opt/t");
  std::vector<json> log;
  for (std::uint32_t uid = 1000; uid < 1000 + RefusalGroup::kSample + 2; ++uid)
    log.push_back(exec_record("/opt/t", "monitor_deny", "no_ticket", 1, uid));
  const Suggestion s = suggest(log, host);
  EXPECT_EQ(Suggestion::issue_line(s.tickets.at("/opt/t"), SuggestOptions{}, "t.ticket").find("--uid"), std::string::npos);
}

TEST(Suggest, SystemDirectoriesAreTheDistributions) {
  EXPECT_TRUE(in_system_directory("/usr/bin/make"));
  EXPECT_TRUE(in_system_directory("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_FALSE(in_system_directory("/usr/local/bin/x"));
  EXPECT_FALSE(in_system_directory("/opt/x"));
  EXPECT_FALSE(in_system_directory("/usr/binx/y"));
}
