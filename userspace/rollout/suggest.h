// `execgate suggest AUDIT_LOG` (docs/daemon.md "Rollout: monitor to enforce"): a draft of
// what would let the execs a log recorded as denied or monitor_deny pass: [baseline] paths
// for root-owned files in system directories, `execgate issue` lines for the rest, and
// the posture refusals as commented lines. Printed for review; nothing is applied.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "rollout/host_view.h"
#include "rollout/simulate.h"

namespace execgate {

// The directories whose files the distribution's packages own (a package upgrade changes
// them, root owns them): a root-owned file there is a baseline candidate. /usr/local and
// /opt are the administrator's: their files get tickets.
bool in_system_directory(const std::string& canonical_path);

struct SuggestOptions {
  std::string key = "ISSUER.key";  // the issuer key the `execgate issue` lines name
  std::string ttl = "8h";          // a working day: re-issued as the work goes on
  std::string host;                // the machine-id the tickets name
};

struct Suggestion {
  struct Entry {
    std::string path;  // canonical
    RefusalGroup seen;
  };
  std::map<std::string, Entry> baseline;  // root-owned files in system directories
  std::map<std::string, Entry> tickets;   // the others
  // by reason: memfd, tmpfile, unlinked, loader_bypass (the loader run as a program),
  // audit_unavailable, and "unnamed" (a mapping of a file no record named by its path)
  std::map<std::string, RefusalGroup> unfixable;
  std::map<std::string, RefusalGroup> posture;    // "capabilities CAP_X", "allow mount", ...
  std::uint64_t guarded = 0;  // other refusals (write guard, tamper): by design, nothing suggested

  nlohmann::json to_json(const SuggestOptions& o) const;
  std::string text(const SuggestOptions& o) const;
  // The `execgate issue` line for one file, its ticket written to `out`.
  static std::string issue_line(const Entry& e, const SuggestOptions& o, const std::string& out);
  // "NAME.ticket" for the file's name, not one of `used` (then added to it).
  static std::string ticket_file_name(const std::string& path, std::set<std::string>& used);
};

class Suggester {
 public:
  explicit Suggester(const HostView& host) : host_(host) {}
  // Every record of the log, in order: exec records that were not allowed, and the
  // refusals of operations.
  void record(const nlohmann::json& r);
  const Suggestion& result() const { return s_; }

 private:
  const HostView& host_;
  FileNames names_;
  Suggestion s_;
};

}  // namespace execgate
