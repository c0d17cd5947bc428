#include "ticket/refusal.h"

#include "common/encoding.h"

namespace execgate {

std::optional<Refusal> admit_ticket(const TicketBody& t, const IssuerPolicy& issuer, const std::string& machine_id,
                                    std::int64_t now) {
  bool host_ok = false;
  for (const auto& h : t.hosts) {
    if (h == machine_id) host_ok = true;
    if (h == "*") {
      if (!issuer.allow_any_host)
        return Refusal{RefusalReason::wrong_host, "hosts has \"*\" but issuer \"" + issuer.name + "\" does not allow_any_host"};
      host_ok = true;
    }
  }
  if (!host_ok) return Refusal{RefusalReason::wrong_host, "hosts does not include this machine-id " + machine_id};
  if (issuer.max_ttl > 0 && t.not_after - t.not_before > issuer.max_ttl)
    return Refusal{RefusalReason::ttl_too_long, "validity " + std::to_string(t.not_after - t.not_before) +
                                                    " s exceeds issuer \"" + issuer.name + "\" max_ttl " +
                                                    std::to_string(issuer.max_ttl) + " s"};
  // A ticket that is not valid yet is installed: the kernel denies it (not_yet_valid)
  // until not_before. One that has already expired is refused.
  if (now >= t.not_after) return Refusal{RefusalReason::expired, "ticket " + t.id + " expired at " + std::to_string(t.not_after)};
  for (const auto& s : t.subjects)
    if (!s.path)
      return Refusal{RefusalReason::malformed,
                     "subject " + hex_encode(s.sha256) + " has no path: the daemon installs tickets by path"};
  return std::nullopt;
}

RefusalReason refusal_reason(std::string_view text) { return parse_refusal(text).value_or(RefusalReason::malformed); }

}  // namespace execgate
