// Sealing (the gate's protocol with the kernel for a ticket's files): binds a ticket's
// subjects to inodes and seals them (EG_TF_PENDING in bpf/execgate.h):
// a pending kernel entry goes in first (from then on nobody may open the file for
// writing), the file is opened once and hashed through that fd, and the kernel's count
// of writers at that open must be zero. What was hashed is then what will run.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "execgate/ticket.h"
#include "gate/gate_ops.h"
#include "gate/kernel_facts.h"
#include "ticket/refusal.h"

namespace execgate {

struct ResolvedSubject {
  std::string path;
  std::string sha256;  // hex
  InodeKey key;        // kernel encoding
  std::int64_t ctime_sec = 0;
  std::uint32_t ctime_nsec = 0;
  std::uint32_t generation = 0;  // i_generation, as the kernel saw it at the sealing open
};

struct Resolution {
  std::vector<ResolvedSubject> subjects;
  // missing_file, not_regular, unsupported_fs, stale, open_for_write, unsealed, digest_mismatch
  std::optional<Refusal> refusal;
};

// On success each subject's inode holds a kernel entry for t.id (pending, or an entry
// sealed earlier), to be replaced by kernel_entry() right away. On refusal the pending
// entries this call made are gone again.
Resolution resolve_subjects(const TicketBody& t, TicketMap& gate);

// The kernel map value for one subject of a ticket.
KernelTicket kernel_entry(const TicketBody& t, const ResolvedSubject& s, std::optional<std::int64_t> uses_left);


}  // namespace execgate
