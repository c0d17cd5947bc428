#include "ticket/ticket_rank.h"

#include <tuple>

namespace execgate {

bool outranks(const RankedTicket& a, const RankedTicket& b, std::int64_t now) {
  auto valid = [now](const RankedTicket& t) { return t.not_before <= now && now < t.not_after; };
  // larger is better in every position but the last two
  return std::make_tuple(valid(a), a.not_after, -a.not_before, b.id) >
         std::make_tuple(valid(b), b.not_after, -b.not_before, a.id);
}

}  // namespace execgate
