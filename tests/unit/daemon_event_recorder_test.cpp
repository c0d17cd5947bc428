// Kernel events to audit records: the event name by hook, the last use, paths of files the
// daemon installed, what the hook refused.
#include <gtest/gtest.h>

#include <cstring>

#include "event_recorder.h"
#include "kernel_event.h"

using namespace execgate;

namespace {
struct EventRecorderTest : ::testing::Test {
  std::vector<nlohmann::json> records;
  EventRecorder recorder{[this](nlohmann::json r) { records.push_back(std::move(r)); }};

  static eg_event event(std::uint32_t hook, std::uint8_t verdict, std::uint8_t reason) {
    eg_event e{};
    e.hook = hook;
    e.verdict = verdict;
    e.reason = reason;
    e.pid = 42;
    e.dev = (8u << 20) | 1;
    e.ino = 4242;
    std::memcpy(e.comm, "sh", 3);
    return e;
  }
};
}  // namespace

TEST_F(EventRecorderTest, CodeDecisionsAreExecRecordsOthersAccess) {
  recorder.record(test::decoded(event(EG_HOOK_EXEC, EG_VERDICT_DENY, EG_R_NO_TICKET)));
  recorder.record(test::decoded(event(EG_HOOK_MMAP_EXEC, EG_VERDICT_DENY, EG_R_LOADER_BYPASS)));
  recorder.record(test::decoded(event(EG_HOOK_PTRACE, EG_VERDICT_DENY, EG_R_PTRACE)));
  recorder.record(test::decoded(event(EG_HOOK_DEVICE_COMMAND, EG_VERDICT_MONITOR_DENY, EG_R_GATE_TAMPER)));
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["event"], "exec");
  EXPECT_EQ(records[1]["event"], "exec");
  EXPECT_EQ(records[2]["event"], "access");
  EXPECT_EQ(records[2]["hook"], "ptrace");
  EXPECT_EQ(records[3]["event"], "access");
  EXPECT_EQ(records[3]["hook"], "device_command");
  EXPECT_EQ(records[3]["verdict"], "monitor_deny");
  EXPECT_EQ(records[0]["dev"], "8:1");
}

TEST_F(EventRecorderTest, TheLastUseIsRecordedAndHandedOnOnce) {
  eg_event e = event(EG_HOOK_EXEC, EG_VERDICT_ALLOW, EG_R_TICKET);
  e.has_ticket = 1;
  std::memset(e.ticket, 0xab, sizeof e.ticket);
  e.arg = EG_ARG_LAST_USE;
  recorder.record(test::decoded(e));
  EXPECT_EQ(records.at(0)["last_use"], true);
  EXPECT_FALSE(records.at(0).contains("arg"));
  const auto ids = recorder.take_last_uses();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(*ids.begin(), "abababababababababababababababab");
  EXPECT_TRUE(recorder.take_last_uses().empty());
}

TEST_F(EventRecorderTest, AllowedExecsAreNamedByThePathsTheDaemonKnows) {
  const InodeKey run{(8u << 20) | 1, 4242};
  recorder.add_ticket_path(run, "/opt/app/run");
  recorder.record(test::decoded(event(EG_HOOK_EXEC, EG_VERDICT_ALLOW, EG_R_TICKET)));
  EXPECT_EQ(records.at(0)["path"], "/opt/app/run");
  recorder.forget_ticket("abababababababababababababababab", {});  // another ticket still covers it
  recorder.record(test::decoded(event(EG_HOOK_EXEC, EG_VERDICT_ALLOW, EG_R_TICKET)));
  EXPECT_EQ(records.at(1)["path"], "/opt/app/run");
  recorder.forget_ticket("abababababababababababababababab", {run});
  recorder.record(test::decoded(event(EG_HOOK_EXEC, EG_VERDICT_ALLOW, EG_R_TICKET)));
  EXPECT_TRUE(records.at(2)["path"].is_null());
}

TEST_F(EventRecorderTest, WhatTheHookRefusedIsNamed) {
  eg_event cap = event(EG_HOOK_CAPABLE, EG_VERDICT_DENY, EG_R_PRIVILEGE);
  cap.arg = 21;  // CAP_SYS_ADMIN
  recorder.record(test::decoded(cap));
  EXPECT_EQ(records.at(0)["capability"], "CAP_SYS_ADMIN");
  eg_event sig = event(EG_HOOK_OTHER_TASK, EG_VERDICT_DENY, EG_R_SCOPE_ESCAPE);
  sig.arg = 9;
  recorder.record(test::decoded(sig));
  EXPECT_EQ(records.at(1)["arg"], 9);
}
