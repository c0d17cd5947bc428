// The gate's C++ values (gate_types.h) as the kernel's map entries (bpf/execgate.h) and
// back: one codec, used by the real gate (bpf_gate) and by the natively compiled decision
// (userspace/decision), so the entry the simulator judges is the entry the daemon installs.
// No libbpf: it builds with the offline CLI.
#pragma once

#include "execgate/ticket.h"
#include "gate/gate_types.h"
#include "gate/kernel_abi.h"

namespace execgate {

// Throws Error(usage) for a value the kernel's entry cannot hold (too many uids, scopes).
eg_ticket to_kernel(const KernelTicket& t);
KernelTicket from_kernel(const eg_ticket& v);
eg_config to_kernel(const GateConfig& c);

// What a ticket puts in the entry of each of its files: id, parent, uids, uses (max_uses),
// and its bounds on the clock the entry is judged by (to_ns: unix seconds -> that clock's
// ns). The file's ctime and generation are the caller's to add.
KernelTicket ticket_entry(const TicketBody& t, std::uint64_t (*to_ns)(std::int64_t unix_seconds));
GateConfig from_kernel(const eg_config& k);

}  // namespace execgate
