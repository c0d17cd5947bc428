// CONFIG_HZ from a kernel config, and the tick length the exec clock derives from it.
#include <gtest/gtest.h>

#include <sstream>

#include "gate/gate.h"

namespace execgate {
namespace {

std::optional<unsigned> hz_of(const std::string& text) {
  std::istringstream in(text);
  return config_hz(in);
}

TEST(KernelHz, ReadsTheValueAmongOtherOptions) {
  EXPECT_EQ(hz_of("# CONFIG_HZ_100 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\nCONFIG_SCHED_HRTICK=y\n"), 250u);
  EXPECT_EQ(hz_of("CONFIG_HZ_1000=y\nCONFIG_HZ=1000\n"), 1000u);
}

TEST(KernelHz, AbsentOrMalformedIsNone) {
  EXPECT_EQ(hz_of(""), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ_250=y\n# CONFIG_HZ is not set\n"), std::nullopt);  // choice options only
  EXPECT_EQ(hz_of("CONFIG_HZ=\n"), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ=250Hz\n"), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ=-250\n"), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ=0\n"), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ=99999999999999999999\n"), std::nullopt);
  EXPECT_EQ(hz_of("CONFIG_HZ=50000\n"), std::nullopt);  // no kernel ticks that fast
}

TEST(KernelHz, TickLengthIsTheKernelsTickNsec) {
  // TICK_NSEC = (NSEC_PER_SEC + HZ/2) / HZ
  EXPECT_EQ(tick_nsec(100), 10'000'000u);
  EXPECT_EQ(tick_nsec(250), 4'000'000u);
  EXPECT_EQ(tick_nsec(300), 3'333'333u);
  EXPECT_EQ(tick_nsec(1000), 1'000'000u);
}

}  // namespace
}  // namespace execgate
