// The kernel's ring-buffer records decoded into the audit log's words (decode_gate_event):
// what runs code is an exec event, anything else access; what the hook refused is named.
#include <gtest/gtest.h>

#include <cstring>

#include "gate/gate.h"
#include "gate/kernel_abi.h"

namespace execgate {
namespace {

eg_event kernel_event(std::uint32_t hook, std::uint8_t verdict, std::uint8_t reason, std::uint32_t arg = 0) {
  eg_event e{};
  e.hook = hook;
  e.verdict = verdict;
  e.reason = reason;
  e.arg = arg;
  e.pid = 42;
  e.ts_boot_ns = 7;
  std::memcpy(e.comm, "sh", 3);
  std::memcpy(e.path, "/opt/app/run", 13);
  return e;
}

GateEvent decode(const eg_event& e) {
  auto d = decode_gate_event(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&e), sizeof e));
  EXPECT_TRUE(d);
  return d.value_or(GateEvent{});
}

TEST(GateEventDecode, CodeRunningHooksAreExecEventsTheRestAccess) {
  for (std::uint32_t hook : {EG_HOOK_EXEC, EG_HOOK_MMAP_EXEC, EG_HOOK_MPROTECT_EXEC, EG_HOOK_EXEC_CHECK})
    EXPECT_EQ(decode(kernel_event(hook, EG_VERDICT_DENY, EG_R_NO_TICKET)).event, "exec") << hook_name(hook);
  const GateEvent p = decode(kernel_event(EG_HOOK_PTRACE, EG_VERDICT_MONITOR_DENY, EG_R_PTRACE));
  EXPECT_EQ(p.event, "access");
  EXPECT_EQ(p.hook, "ptrace");
  EXPECT_EQ(p.verdict, "monitor_deny");
  EXPECT_EQ(p.reason, "ptrace");
  EXPECT_EQ(p.comm, "sh");
  EXPECT_EQ(p.path, "/opt/app/run");
  EXPECT_EQ(p.pid, 42u);
  EXPECT_EQ(p.boot_ns, 7u);
}

TEST(GateEventDecode, TicketsLastUseAndWhatWasRefused) {
  eg_event e = kernel_event(EG_HOOK_EXEC, EG_VERDICT_ALLOW, EG_R_TICKET, EG_ARG_LAST_USE);
  e.has_ticket = 1;
  std::memset(e.ticket, 0xab, sizeof e.ticket);
  const GateEvent x = decode(e);
  ASSERT_TRUE(x.ticket);
  EXPECT_EQ(hex_id(*x.ticket), "abababababababababababababababab");
  EXPECT_FALSE(x.proc_ticket);
  EXPECT_TRUE(x.last_use);
  EXPECT_FALSE(x.arg) << "an exec's arg holds flags, not a refused value";
  const GateEvent cap = decode(kernel_event(EG_HOOK_CAPABLE, EG_VERDICT_DENY, EG_R_PRIVILEGE, 21));
  EXPECT_EQ(cap.capability, 21);
  EXPECT_FALSE(cap.arg);
  const GateEvent sig = decode(kernel_event(EG_HOOK_OTHER_TASK, EG_VERDICT_DENY, EG_R_SCOPE_ESCAPE, 9));
  EXPECT_EQ(sig.arg, 9u);
  EXPECT_FALSE(sig.last_use);
}

TEST(GateEventDecode, AShortRecordIsNotAnEvent) {
  const eg_event e = kernel_event(EG_HOOK_EXEC, EG_VERDICT_DENY, EG_R_NO_TICKET);
  EXPECT_FALSE(decode_gate_event(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&e), sizeof e - 1)));
}

}  // namespace
}  // namespace execgate
