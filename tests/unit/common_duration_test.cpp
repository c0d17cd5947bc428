// Durations as tickets, policies and the CLI take them (common/duration.h).
#include <gtest/gtest.h>

#include "common/duration.h"
#include "execgate/error.h"

namespace execgate {
namespace {

TEST(Duration, Accepted) {
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("8h"), 28800);
  EXPECT_EQ(parse_duration("7d"), 604800);
  EXPECT_EQ(parse_duration("3650d"), 3650LL * 86400);
}

TEST(Duration, Rejected) {
  for (const char* bad : {"", "s", "0s", "10", "1x", "-5m", "+5m", "1.5h", "1h30m", " 1h", "1h ", "3651d",
                          "99999999999999999999s", "1H", "h1"}) {
    try {
      parse_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("90s, 15m, 8h, 7d"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace execgate
