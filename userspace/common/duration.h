// Durations in tickets, policies and on the command line.
#pragma once

#include <cstdint>
#include <string_view>

namespace execgate {

// "90s", "15m", "8h", "7d" -> seconds (positive, at most 3650 days). Throws Error(usage)
// naming the text and what is expected.
std::int64_t parse_duration(std::string_view text);

}  // namespace execgate
