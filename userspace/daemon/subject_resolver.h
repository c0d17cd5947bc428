// Binds a ticket's subjects to inodes: opens each path once, hashes through that fd,
// compares with the signed sha256, and records (dev, ino, ctime) for the kernel entry.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "authority.h"
#include "execgate/gate.h"

namespace execgate {

struct ResolvedSubject {
  std::string path;
  std::string sha256;  // hex
  InodeKey key;        // kernel encoding
  std::int64_t ctime_sec = 0;
  std::uint32_t ctime_nsec = 0;
};

struct Resolution {
  std::vector<ResolvedSubject> subjects;
  std::optional<Refusal> refusal;  // missing_file, digest_mismatch, not_regular, changed
};

Resolution resolve_subjects(const TicketBody& t);

// The kernel map value for one subject of a ticket.
eg_ticket kernel_entry(const TicketBody& t, const ResolvedSubject& s, std::optional<std::int64_t> uses_left);

// (dev, ino, ctime) of a path for baseline pinning and lookups; nullopt if absent.
std::optional<ResolvedSubject> stat_subject(const std::string& path);

}  // namespace execgate
