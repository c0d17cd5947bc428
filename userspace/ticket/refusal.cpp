#include "ticket/refusal.h"

namespace execgate {

std::string to_string(RefusalReason r) {
#define EG_REFUSAL_NAME(name) \
  case RefusalReason::name:   \
    return #name;
  switch (r) { EG_REFUSALS(EG_REFUSAL_NAME) }
#undef EG_REFUSAL_NAME
  return "malformed";
}

RefusalReason refusal_reason(std::string_view name) {
#define EG_REFUSAL_MATCH(n) \
  if (name == #n) return RefusalReason::n;
  EG_REFUSALS(EG_REFUSAL_MATCH)
#undef EG_REFUSAL_MATCH
  return RefusalReason::malformed;
}

}  // namespace execgate
