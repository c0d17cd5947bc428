// Every name execgate writes into audit records and prints, as C++ values: the kernel's
// verdicts, reasons and hooks (their codes are the kernel's), the audit log's event kinds,
// the reasons a submission is refused, and the reasons of the records the daemon and the
// audit writer make on their own account. All made from the one set of X-macro lists,
// bpf/names.h (which the kernel's bpf/execgate.h includes for its codes): a name is spelled
// there and nowhere else (tests/unit/names_literals_test.cpp keeps it so).
//
// Header-only (CMake target execgate_names): no libbpf, no kernel header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../../bpf/names.h"  // EG_VERDICTS, EG_REASONS, EG_HOOKS, EG_EVENTS, EG_REFUSALS, EG_RECORD_REASONS

namespace execgate {

// The kernel's codes (bpf/execgate.h's eg_verdict, eg_reason, eg_hook: the same values).
enum class Verdict : std::uint8_t {
#define EG_NAMES_ENUM(constant, value, name) name = value,
  EG_VERDICTS(EG_NAMES_ENUM)
};
enum class Reason : std::uint8_t { EG_REASONS(EG_NAMES_ENUM) };
#undef EG_NAMES_ENUM
enum class Hook : std::uint32_t {
#define EG_NAMES_HOOK_ENUM(constant, value, name, event) name = value,
  EG_HOOKS(EG_NAMES_HOOK_ENUM)
#undef EG_NAMES_HOOK_ENUM
};

// Userspace's own lists, in their order.
#define EG_NAMES_ENUM(name) name,
enum class EventKind : std::uint8_t { EG_EVENTS(EG_NAMES_ENUM) };       // an audit record's `event`
enum class RefusalReason : std::uint8_t { EG_REFUSALS(EG_NAMES_ENUM) };  // why a submission is refused
enum class RecordReason : std::uint8_t { EG_RECORD_REASONS(EG_NAMES_ENUM) };  // the daemon's and writer's own records
#undef EG_NAMES_ENUM

namespace names_detail {

// The name of an identifier of the lists: a trailing underscore (a C++ keyword) is not part of it.
constexpr std::string_view spelled(std::string_view id) {
  return !id.empty() && id.back() == '_' ? id.substr(0, id.size() - 1) : id;
}

template <class E>
struct Entry {
  E value;
  std::string_view name;
};

template <class E, std::size_t N>
constexpr std::string_view name_in(const std::array<Entry<E>, N>& list, E value) {
  for (const auto& e : list)
    if (e.value == value) return e.name;
  return "unknown";
}

template <class E, std::size_t N>
constexpr std::optional<E> parse_in(const std::array<Entry<E>, N>& list, std::string_view text) {
  for (const auto& e : list)
    if (e.name == text) return e.value;
  return std::nullopt;
}

}  // namespace names_detail

// Every value of each list with its name, in the list's order.
#define EG_NAMES_ENTRY(constant, value, name) names_detail::Entry<E>{E::name, names_detail::spelled(#name)},
#define EG_NAMES_HOOK_ENTRY(constant, value, name, event) names_detail::Entry<E>{E::name, names_detail::spelled(#name)},
#define EG_NAMES_USER_ENTRY(name) names_detail::Entry<E>{E::name, names_detail::spelled(#name)},
namespace names_detail {
template <class E>
struct Lists;
template <>
struct Lists<Verdict> {
  using E = Verdict;
  static constexpr std::array all{EG_VERDICTS(EG_NAMES_ENTRY)};
};
template <>
struct Lists<Reason> {
  using E = Reason;
  static constexpr std::array all{EG_REASONS(EG_NAMES_ENTRY)};
};
template <>
struct Lists<Hook> {
  using E = Hook;
  static constexpr std::array all{EG_HOOKS(EG_NAMES_HOOK_ENTRY)};
};
template <>
struct Lists<EventKind> {
  using E = EventKind;
  static constexpr std::array all{EG_EVENTS(EG_NAMES_USER_ENTRY)};
};
template <>
struct Lists<RefusalReason> {
  using E = RefusalReason;
  static constexpr std::array all{EG_REFUSALS(EG_NAMES_USER_ENTRY)};
};
template <>
struct Lists<RecordReason> {
  using E = RecordReason;
  static constexpr std::array all{EG_RECORD_REASONS(EG_NAMES_USER_ENTRY)};
};
}  // namespace names_detail
#undef EG_NAMES_ENTRY
#undef EG_NAMES_HOOK_ENTRY
#undef EG_NAMES_USER_ENTRY

// all_names<Reason>(): {value, name} of every reason, in the list's order.
template <class E>
constexpr const auto& all_names() {
  return names_detail::Lists<E>::all;
}

// The name of a value; "unknown" for a value no list entry has (a code from another build).
constexpr std::string_view name(Verdict v) { return names_detail::name_in(all_names<Verdict>(), v); }
constexpr std::string_view name(Reason v) { return names_detail::name_in(all_names<Reason>(), v); }
constexpr std::string_view name(Hook v) { return names_detail::name_in(all_names<Hook>(), v); }
constexpr std::string_view name(EventKind v) { return names_detail::name_in(all_names<EventKind>(), v); }
constexpr std::string_view name(RefusalReason v) { return names_detail::name_in(all_names<RefusalReason>(), v); }
constexpr std::string_view name(RecordReason v) { return names_detail::name_in(all_names<RecordReason>(), v); }

// The name as a std::string (JSON values, messages).
inline std::string to_string(Verdict v) { return std::string(name(v)); }
inline std::string to_string(Reason v) { return std::string(name(v)); }
inline std::string to_string(Hook v) { return std::string(name(v)); }
inline std::string to_string(EventKind v) { return std::string(name(v)); }
inline std::string to_string(RefusalReason v) { return std::string(name(v)); }
inline std::string to_string(RecordReason v) { return std::string(name(v)); }

// The value a name stands for (names read back from records or output); nullopt when none does.
template <class E>
constexpr std::optional<E> parse_name(std::string_view text) {
  return names_detail::parse_in(all_names<E>(), text);
}
constexpr std::optional<Verdict> parse_verdict(std::string_view s) { return parse_name<Verdict>(s); }
constexpr std::optional<Reason> parse_reason(std::string_view s) { return parse_name<Reason>(s); }
constexpr std::optional<Hook> parse_hook(std::string_view s) { return parse_name<Hook>(s); }
constexpr std::optional<EventKind> parse_event(std::string_view s) { return parse_name<EventKind>(s); }
constexpr std::optional<RefusalReason> parse_refusal(std::string_view s) { return parse_name<RefusalReason>(s); }
constexpr std::optional<RecordReason> parse_record_reason(std::string_view s) { return parse_name<RecordReason>(s); }

// The audit event of a hook's decisions: exec (whether code runs) or access (any other
// operation the gate judged); access for a hook no entry has.
constexpr EventKind event_of(Hook h) {
  switch (h) {
#define EG_NAMES_HOOK_EVENT(constant, value, name, event) \
  case Hook::name:                                        \
    return EventKind::event;
    EG_HOOKS(EG_NAMES_HOOK_EVENT)
#undef EG_NAMES_HOOK_EVENT
  }
  return EventKind::access;
}

// The names of a list joined, "allow, deny, monitor_deny" (messages that list them).
template <class E>
std::string names_text(std::string_view separator = ", ") {
  std::string out;
  for (const auto& e : all_names<E>()) {
    if (!out.empty()) out += separator;
    out += e.name;
  }
  return out;
}

}  // namespace execgate
