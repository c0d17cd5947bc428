// Why a submitted ticket is refused (docs/daemon.md "Submissions"): the reasons the daemon
// reports, each defined once, used by the authority (signatures, issuers, lifecycle) and
// by the sealing of a ticket's files (userspace/gate/sealing.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "execgate/names.h"
#include "execgate/policy.h"
#include "execgate/ticket.h"

namespace execgate {

// Why a submission is refused: RefusalReason (execgate/names.h, the list EG_REFUSALS of
// bpf/names.h; to_string, parse_refusal), each defined once.
// The reason a VerificationError names (the ticket library's words); malformed when it
// names none of these.
RefusalReason refusal_reason(std::string_view name);

// A refusal: the reason, and `detail` saying why in words.
struct Refusal {
  RefusalReason reason = RefusalReason::malformed;
  std::string detail;
  std::string name() const { return to_string(reason); }
};

// What a ticket whose signature verified under `issuer` must also meet to be installed on
// the host `machine_id` at `now` (docs/daemon.md "Submissions"): the host (wrong_host),
// the issuer's max_ttl (ttl_too_long), not expired (expired), a path for every subject
// (malformed). The daemon's authority and `policy simulate` judge with it.
std::optional<Refusal> admit_ticket(const TicketBody& t, const IssuerPolicy& issuer, const std::string& machine_id,
                                    std::int64_t now);

// What a delegated ticket must also meet: every link of its verified chain valid at now
// (delegation_expired), and the intersection of their rights (delegation_exceeded): its
// window within each link's, its validity at most each max_ttl, each host and uid allowed
// by each link ("*" only where every link says "*"), at most max_subjects subjects, and a
// job where a link requires one. Revoked links are the caller's (its tombstones).
std::optional<Refusal> admit_delegated(const TicketBody& t, const std::vector<DelegationLink>& chain, std::int64_t now);

}  // namespace execgate
