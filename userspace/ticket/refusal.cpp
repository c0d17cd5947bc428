#include "ticket/refusal.h"

#include <algorithm>

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

std::optional<Refusal> admit_delegated(const TicketBody& t, const std::vector<DelegationLink>& chain, std::int64_t now) {
  for (const DelegationLink& link : chain) {
    const DelegationBody& d = link.body;
    const std::string of = "delegation " + d.id + " (to key " + d.delegate.key_id() + ")";
    const auto exceeded = [&](const std::string& why) {
      return Refusal{RefusalReason::delegation_exceeded, "ticket " + t.id + ": " + why + ", beyond " + of};
    };
    if (now >= d.not_after)
      return Refusal{RefusalReason::delegation_expired, of + " expired at " + std::to_string(d.not_after)};
    if (t.not_before < d.not_before || t.not_after > d.not_after)
      return exceeded("valid " + std::to_string(t.not_before) + ".." + std::to_string(t.not_after) +
                      ", outside " + std::to_string(d.not_before) + ".." + std::to_string(d.not_after));
    if (t.not_after - t.not_before > d.max_ttl)
      return exceeded("validity " + std::to_string(t.not_after - t.not_before) + " s, more than max_ttl " +
                      std::to_string(d.max_ttl) + " s");
    const bool any_host = std::find(d.hosts.begin(), d.hosts.end(), "*") != d.hosts.end();
    for (const auto& h : t.hosts)
      if (h == "*" ? !any_host : !any_host && std::find(d.hosts.begin(), d.hosts.end(), h) == d.hosts.end())
        return exceeded("host " + h + " is not among its hosts");
    if (!d.uids.empty()) {
      if (t.uids.empty()) return exceeded("any uid, where it allows only some");
      for (const auto u : t.uids)
        if (std::find(d.uids.begin(), d.uids.end(), u) == d.uids.end())
          return exceeded("uid " + std::to_string(u) + " is not among its uids");
    }
    if (t.subjects.size() > d.max_subjects)
      return exceeded(std::to_string(t.subjects.size()) + " subjects, more than max_subjects " +
                      std::to_string(d.max_subjects));
    if (d.require_job && !t.job) return exceeded("it names no job, which the delegation requires");
    if (t.builder && !d.may_mark_builders) return exceeded("it marks builders, which the delegation does not allow");
  }
  return std::nullopt;
}

RefusalReason refusal_reason(std::string_view text) { return parse_refusal(text).value_or(RefusalReason::malformed); }

}  // namespace execgate
