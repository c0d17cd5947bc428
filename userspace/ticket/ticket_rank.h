// Which ticket the kernel holds for an inode that several installed tickets cover: the
// one rule the daemon uses at start, at install, when a ticket goes and when one becomes
// valid (docs/daemon.md, "Two tickets for one file"), and `policy simulate` with it.
#pragma once

#include <cstdint>
#include <string>

namespace execgate {

struct RankedTicket {
  std::string id;
  std::int64_t not_before = 0, not_after = 0;  // unix seconds
};

// True when a outranks b at `now`: a ticket valid now over one that is not (yet); then the
// one valid longest (later not_after); then, among equals, the one that becomes valid
// first; last the smaller id, so that every path picks the same one.
bool outranks(const RankedTicket& a, const RankedTicket& b, std::int64_t now);

}  // namespace execgate
