// Durations as people write them: 90s, 15m, 8h, 7d (include/common/duration.h).
#include "common/duration.h"

#include <string>

#include "execgate/error.h"

namespace execgate {

std::int64_t parse_duration(std::string_view text) {
  const auto bad = [&]() -> std::int64_t {
    throw Error(ErrorKind::usage, "invalid duration '" + std::string(text) +
                                      "': expected a positive number followed by s, m, h or d (e.g. 90s, 15m, 8h, 7d), "
                                      "at most 3650d");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return bad();
  }
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    n = n * 10 + (c - '0');
    if (n > 3650LL * 86400) return bad();
  }
  const std::int64_t secs = n * unit;
  if (secs <= 0 || secs > 3650LL * 86400) return bad();
  return secs;
}

}  // namespace execgate
