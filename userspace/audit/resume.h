// Where an existing audit log continues (docs/audit.md "Crash semantics"): a torn last
// line of the live file truncated, the chain continued from its records (or, when the live
// file is missing or empty, from the newest rotated file's) after verifying those after
// the last checkpoint, and what rotation needs to know of the live file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "chain.h"

namespace execgate::audit_detail {

struct ResumedLog {
  std::size_t torn_bytes = 0;        // of a partial last line, truncated away
  std::uint64_t file_bytes = 0;      // of the live file
  std::uint64_t file_first_seq = 1;  // seq of its first record (the next seq when it has none)
};

// Resumes `chain` from the log at `path`. Throws Error(verification) when the existing
// records do not chain (refusing to append), IoError when the torn tail cannot be removed.
ResumedLog resume_log(const std::string& path, AuditChain& chain);

}  // namespace execgate::audit_detail
