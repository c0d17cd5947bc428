#include "ticket/ticket_rank.h"

#include <gtest/gtest.h>

namespace execgate {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

RankedTicket t(std::string id, std::int64_t nb, std::int64_t na) { return RankedTicket{std::move(id), nb, na}; }

TEST(TicketRank, LongerValidityWins) {
  const auto longer = t("b", kNow - 10, kNow + 7200), shorter = t("a", kNow - 10, kNow + 3600);
  EXPECT_TRUE(outranks(longer, shorter, kNow));
  EXPECT_FALSE(outranks(shorter, longer, kNow));
}

TEST(TicketRank, ValidNowBeatsNotYetValidEvenIfShorter) {
  const auto now_valid = t("a", kNow - 10, kNow + 60), later = t("b", kNow + 600, kNow + 86400);
  EXPECT_TRUE(outranks(now_valid, later, kNow));
  EXPECT_FALSE(outranks(later, now_valid, kNow));
  // once it is valid (and the other has run out), it takes over
  EXPECT_TRUE(outranks(later, now_valid, kNow + 601));
}

TEST(TicketRank, NotYetValidPairsPreferTheLongerThenTheEarlier) {
  const auto soon = t("a", kNow + 60, kNow + 3600), late = t("b", kNow + 600, kNow + 3600);
  EXPECT_TRUE(outranks(soon, late, kNow));
  EXPECT_FALSE(outranks(late, soon, kNow));
}

TEST(TicketRank, TiesBreakOnTheSmallerIdAndNeverBothWays) {
  const auto a = t("0a", kNow - 10, kNow + 60), b = t("0b", kNow - 10, kNow + 60);
  EXPECT_TRUE(outranks(a, b, kNow));
  EXPECT_FALSE(outranks(b, a, kNow));
  EXPECT_FALSE(outranks(a, a, kNow));
}

TEST(TicketRank, ExpiredLosesToValid) {
  const auto expired = t("a", kNow - 7200, kNow - 1), valid = t("b", kNow - 10, kNow + 5);
  EXPECT_TRUE(outranks(valid, expired, kNow));
  EXPECT_FALSE(outranks(expired, valid, kNow));
}

}  // namespace
}  // namespace execgate
