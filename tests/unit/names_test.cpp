// The names (include/execgate/names.h over the lists of bpf/names.h): every value's name
// reads back to the value, no list has a name twice, the kernel's codes are the ABI's (the
// numbers below are pinned: a changed code is a changed ABI), and the docs name every event
// kind and refusal reason.
#include <gtest/gtest.h>

#include "doc_text.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "execgate/names.h"

#if __has_include(<linux/types.h>)
#include <linux/types.h>

#include "../../bpf/execgate.h"  // the kernel's constants (eg_verdict, eg_reason, eg_hook)
#define EXECGATE_HAVE_KERNEL_ABI 1
#endif

namespace execgate {
namespace {

template <class E>
void expect_round_trip_and_unique(const char* list) {
  std::set<std::string_view> names;
  std::set<E> values;
  for (const auto& e : all_names<E>()) {
    EXPECT_FALSE(e.name.empty()) << list;
    EXPECT_NE(e.name, "unknown") << list;
    EXPECT_EQ(e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos)
        << list << ": `" << e.name << "` is not lower_snake_case";
    EXPECT_NE(e.name.back(), '_') << list << ": `" << e.name << "`";
    EXPECT_EQ(name(e.value), e.name) << list;
    EXPECT_EQ(to_string(e.value), std::string(e.name)) << list;
    const auto parsed = parse_name<E>(e.name);
    ASSERT_TRUE(parsed) << list << ": `" << e.name << "` does not parse";
    EXPECT_EQ(*parsed, e.value) << list << ": `" << e.name << "`";
    EXPECT_TRUE(names.insert(e.name).second) << list << ": `" << e.name << "` twice";
    EXPECT_TRUE(values.insert(e.value).second) << list << ": a value twice (`" << e.name << "`)";
  }
  EXPECT_FALSE(parse_name<E>("unknown")) << list;
  EXPECT_FALSE(parse_name<E>("")) << list;
}

TEST(Names, EveryValueRoundTripsAndEveryNameIsUnique) {
  expect_round_trip_and_unique<Verdict>("EG_VERDICTS");
  expect_round_trip_and_unique<Reason>("EG_REASONS");
  expect_round_trip_and_unique<Hook>("EG_HOOKS");
  expect_round_trip_and_unique<EventKind>("EG_EVENTS");
  expect_round_trip_and_unique<RefusalReason>("EG_REFUSALS");
  expect_round_trip_and_unique<RecordReason>("EG_RECORD_REASONS");
}

TEST(Names, ParsersAndHelpers) {
  EXPECT_TRUE(parse_verdict("monitor_deny") == Verdict::monitor_deny);
  EXPECT_TRUE(parse_reason("no_ticket") == Reason::no_ticket);
  EXPECT_TRUE(parse_hook("userns_create") == Hook::userns_create);
  EXPECT_TRUE(parse_event("policy_reload") == EventKind::policy_reload);
  EXPECT_TRUE(parse_refusal("bad_signature") == RefusalReason::bad_signature);
  EXPECT_TRUE(parse_record_reason("operator") == RecordReason::operator_);
  EXPECT_FALSE(parse_record_reason("operator_")) << "the trailing underscore is not part of the name";
  EXPECT_FALSE(parse_reason("No_Ticket"));
  EXPECT_EQ(name(static_cast<Reason>(0)), "unknown");
  EXPECT_EQ(name(static_cast<Hook>(9999)), "unknown");
  EXPECT_EQ(names_text<Verdict>(), "allow, deny, monitor_deny");
  static_assert(name(Reason::scope_written) == "scope_written");
  static_assert(parse_event("access") == EventKind::access);
}

TEST(Names, WhatRunsCodeIsAnExecEventTheRestAccess) {
  const std::set<Hook> exec_hooks = {Hook::exec, Hook::mmap_exec, Hook::mprotect_exec, Hook::exec_check};
  for (const auto& e : all_names<Hook>())
    EXPECT_EQ(event_of(e.value), exec_hooks.count(e.value) ? EventKind::exec : EventKind::access) << e.name;
  EXPECT_EQ(event_of(static_cast<Hook>(9999)), EventKind::access);
}

// The kernel's codes, pinned: they are the ring buffer's ABI (eg_event.verdict, .reason,
// .hook) and the audit log's history. Add new codes here; never change one.
template <class E>
void expect_codes(const std::vector<std::pair<std::string_view, unsigned>>& pinned, const char* list) {
  ASSERT_EQ(all_names<E>().size(), pinned.size()) << list << ": a code added or removed: pin it here";
  for (const auto& [text, code] : pinned) {
    const auto v = parse_name<E>(text);
    ASSERT_TRUE(v) << list << ": `" << text << "` is gone";
    EXPECT_EQ(static_cast<unsigned>(*v), code) << list << ": `" << text << "` changed its code";
  }
}

TEST(Names, KernelCodesArePinned) {
  expect_codes<Verdict>({{"allow", 0}, {"deny", 1}, {"monitor_deny", 2}}, "EG_VERDICTS");
  expect_codes<Reason>({{"ticket", 1},           {"baseline", 2},         {"no_ticket", 10},      {"expired", 11},
                        {"not_yet_valid", 12},   {"uid_mismatch", 13},    {"stale", 14},          {"exhausted", 15},
                        {"lineage", 16},         {"audit_unavailable", 17}, {"loader_bypass", 18}, {"memfd", 19},
                        {"write_protected", 20}, {"scope_escape", 21},    {"gate_tamper", 22},    {"ptrace", 23},
                        {"unsealed", 24},        {"privilege", 25},       {"tmpfile", 26},        {"unlinked", 27},
                        {"scope_written", 28},
                        {"fleet_silent", 29},    {"job_output", 3},       {"wrong_job", 30},      {"builder_gone", 31}},
                       "EG_REASONS");
  expect_codes<Hook>({{"exec", 1},           {"open_write", 2},        {"mmap_exec", 3},       {"mprotect_exec", 4},
                      {"cgroup_write", 5},   {"clone_into_cgroup", 6}, {"bpf", 7},             {"pin_unlink", 8},
                      {"ptrace", 9},         {"state_write", 10},      {"kernel_load", 11},    {"fd_write", 12},
                      {"truncate", 13},      {"settime", 14},          {"kernel_setting", 15}, {"device_write", 16},
                      {"lockdown", 17},      {"capable", 18},          {"mount", 19},          {"module_request", 20},
                      {"other_task", 21},    {"userns_create", 22},    {"mknod", 23},          {"file_attr", 24},
                      {"block_config", 25},  {"protected_name", 26},   {"ptrace_traceme", 27}, {"helper_write", 28},
                      {"tty_inject", 29},    {"key_upcall", 30},       {"exec_check", 31},     {"device_command", 32},
                      {"mmap_write", 33},    {"device_read", 34},      {"write_mark", 35},     {"clock_adjust", 36},
                      {"baseline_name", 37}, {"uring_sqpoll", 38}},
                     "EG_HOOKS");
}

#ifdef EXECGATE_HAVE_KERNEL_ABI
// The C++ enums and the kernel's C enums (bpf/execgate.h) are one list.
TEST(Names, CppEnumsAreTheKernelsConstants) {
#define EG_CHECK(constant, value, id) \
  EXPECT_EQ(static_cast<unsigned>(E::id), static_cast<unsigned>(constant)) << #constant;
#define EG_CHECK_HOOK(constant, value, id, event) EG_CHECK(constant, value, id)
  {
    using E = Verdict;
    EG_VERDICTS(EG_CHECK)
  }
  {
    using E = Reason;
    EG_REASONS(EG_CHECK)
  }
  {
    using E = Hook;
    EG_HOOKS(EG_CHECK_HOOK)
  }
#undef EG_CHECK_HOOK
#undef EG_CHECK
  EXPECT_EQ(static_cast<unsigned>(Reason::no_ticket), static_cast<unsigned>(EG_R_NO_TICKET));
  EXPECT_EQ(static_cast<unsigned>(Verdict::monitor_deny), static_cast<unsigned>(EG_VERDICT_MONITOR_DENY));
  EXPECT_EQ(static_cast<unsigned>(Hook::uring_sqpoll), static_cast<unsigned>(EG_HOOK_URING_SQPOLL));
}
#endif

std::string read_doc(const std::string& rel) { return test::read_doc(EXECGATE_SOURCE_DIR, rel); }
using test::code_spans;
using test::section;

TEST(Names, EveryEventKindIsDocumented) {
  const std::string doc = read_doc("docs/audit.md");
  ASSERT_FALSE(doc.empty()) << "docs/audit.md not found under " << EXECGATE_SOURCE_DIR;
  const std::string text = section(doc, "Record format");
  ASSERT_FALSE(text.empty()) << "docs/audit.md has no section \"## Record format\"";
  const std::set<std::string> spans = code_spans(text);
  for (const auto& e : all_names<EventKind>())
    EXPECT_TRUE(spans.count(std::string(e.name)))
        << "event `" << e.name << "` is not named in docs/audit.md \"Record format\": say what it records";
}

TEST(Names, EveryRefusalReasonIsDocumented) {
  const std::string doc = read_doc("docs/daemon.md");
  ASSERT_FALSE(doc.empty()) << "docs/daemon.md not found under " << EXECGATE_SOURCE_DIR;
  std::set<std::string> spans = code_spans(section(doc, "Submissions"));
  const std::set<std::string> more = code_spans(section(doc, "Reason names"));
  spans.insert(more.begin(), more.end());
  for (const auto& e : all_names<RefusalReason>())
    EXPECT_TRUE(spans.count(std::string(e.name)))
        << "refusal `" << e.name << "` is not named in docs/daemon.md \"Submissions\" nor \"Reason names\"";
}

}  // namespace
}  // namespace execgate
