// Text for people: terminal-safe strings and readable times, shared by the CLI's verbs
// and the reports of the rollout tools.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace execgate {

// Text safe for a terminal: control characters, DEL and '\\' become \xNN, one line.
std::string printable(std::string_view s);
// "2026-11-26T06:30:00Z" (or the raw number if out of range).
std::string iso_time(std::int64_t unix_seconds);

// The items (anything `<<` writes) joined by sep, terminal-safe.
template <typename Items>
std::string printable_join(const Items& items, std::string_view sep) {
  std::ostringstream s;
  bool first = true;
  for (const auto& i : items) {
    if (!first) s << sep;
    s << i;
    first = false;
  }
  return printable(s.str());
}

}  // namespace execgate
