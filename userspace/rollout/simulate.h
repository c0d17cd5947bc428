// `execgate policy simulate` (docs/daemon.md "Rollout: monitor to enforce"): which execs a
// monitor-mode audit log recorded the candidate policy and tickets would deny, grouped by
// file. Pure judgement over records, the policy, the candidate tickets and a HostView: each
// exec and executable mapping is decided by the kernel's own code (bpf/lib/decision.h,
// compiled natively: NativeDecision), with what a log can tell.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "execgate/policy.h"
#include "execgate/ticket.h"
#include "decision/native_decision.h"
#include "rollout/host_view.h"

namespace execgate {

// The tickets of a directory, judged as the daemon would judge their submission.
struct CandidateTickets {
  struct Usable {
    TicketBody body;
    std::string file;
    std::string issuer;
  };
  struct Refused {
    std::string file, reason, detail;
  };
  std::vector<Usable> usable;
  std::vector<Refused> refused;  // not tickets, not trusted, not for this host, revoked, ...
};

// Every regular file of DIR (not its subdirectories): tickets and revocations verified
// against the policy's issuers (their keys are loaded: Error(usage) naming the issuer
// when one cannot be) and judged for `machine_id` at `now` (admit_ticket); a revocation
// from a trusted issuer takes the tickets it names out.
CandidateTickets load_candidate_tickets(const std::string& dir, const Policy& policy, const std::string& machine_id,
                                        std::int64_t now);

// The files records name. An exec record names its file by the path the caller gave (or
// the daemon's index); a mapping (mmap_exec, mprotect_exec) only by its name: its
// (dev, ino) is looked up among the absolute paths earlier records gave.
class FileNames {
 public:
  // The record's file as an absolute path; "" when it cannot be told.
  std::string resolve(const nlohmann::json& r);

 private:
  std::map<std::string, std::string> by_inode_;  // "dev/ino" -> path
};
// "NAME (dev D, inode I)": a file the log does not name by its path.
std::string file_label(const nlohmann::json& r);

// Records that would be refused, grouped: by file for execs, by operation for the rest.
struct RefusalGroup {
  static constexpr std::size_t kSample = 8;  // comms, hooks and uids kept (a sample names the workload)
  std::uint64_t count = 0;
  std::uint64_t mappings = 0;  // of them, executable mappings (mmap_exec, mprotect_exec)
  std::map<std::string, std::uint64_t> reasons;  // the would-be reason -> count
  std::set<std::string> comms, hooks;  // up to kSample each
  std::set<std::uint32_t> uids;        // up to kSample: fewer means all of them
  std::string first_time, last_time;  // of the records
  bool on_host = true;                // the file exists here (else judged by its path alone)
  std::string detail;                 // e.g. which ticket failed and why

  void add(const nlohmann::json& record, const std::string& reason);
  nlohmann::json to_json() const;
};

struct SimulationReport {
  std::string mode;                 // the candidate's: "monitor" denies nothing, it records
  std::uint64_t execs = 0;          // exec records judged (in the candidate's scope)
  std::uint64_t allowed_ticket = 0, allowed_baseline = 0, refused = 0;
  std::uint64_t outside_scope = 0;  // exec and access records in cgroups the candidate does not gate
  std::uint64_t scope_unknown = 0;  // judged although their cgroup is gone (taken as in scope)
  std::uint64_t operations = 0, operations_refused = 0;  // access records (refusals of the log's policy)
  std::uint64_t enforce_denials = 0;  // exec records the log's own policy denied: what followed never ran
  std::map<std::string, RefusalGroup> files;       // by path ("" = no file: memfd, O_TMPFILE, unlinked)
  std::map<std::string, RefusalGroup> operations_by;  // by "hook" or "capable CAP_X"
  std::vector<std::string> warnings;

  // Whether enforcing the candidate would deny anything the log recorded.
  bool would_deny() const { return mode == "enforce" && refused + operations_refused > 0; }
  nlohmann::json to_json() const;
  std::string text() const;
};

class Simulator {
 public:
  // Judges at `now` (the moment of the switch: tickets valid now, not at the time of the
  // recorded exec).
  Simulator(const Policy& candidate, std::vector<CandidateTickets::Usable> tickets, const HostView& host,
            std::int64_t now);
  // Every record of the log, in order (exec and access records are judged).
  void record(const nlohmann::json& r);
  // The report, with warnings on what the log could not tell.
  SimulationReport report() const;

 private:
  struct Verdict {
    bool allowed = false;
    std::string reason, detail;
    std::string ticket;  // the ticket that decided (allowed or failed)
    std::string file;    // the file's path ("" for none; file_label() when unresolved)
  };
  // A file as the simulation installed it (once per canonical path).
  struct Prepared {
    NativeFile file;
    const CandidateTickets::Usable* ticket = nullptr;  // the ticket that holds it
    std::string mismatch;                               // a ticket for other bytes
    bool loader = false;
  };
  // What a task runs: the file of its last allowed exec, and the ticket that allowed it.
  struct Image {
    std::string path;
    std::optional<TicketId> ticket;
  };
  bool in_scope(const nlohmann::json& r);
  Verdict judge_exec(const nlohmann::json& r);
  Verdict judge_operation(const nlohmann::json& r) const;
  const CandidateTickets::Usable* holder(const std::string& canonical_path, bool on_host, std::string* mismatch) const;
  bool baseline_covers(const std::string& canonical_path, const std::optional<HostFile>& file) const;
  NativeFile nameless_file(const std::string& recorded);
  NativeFile prepare(const std::string& canon, const std::optional<HostFile>& file, bool loader, std::string* mismatch,
                     const CandidateTickets::Usable** ticket);
  const Policy& policy_;
  std::vector<CandidateTickets::Usable> tickets_;
  const HostView& host_;
  std::int64_t now_;
  std::vector<std::string> baseline_;               // canonical baseline paths
  NativeDecision native_;                           // the kernel's decision over the simulation's entries
  std::map<std::string, Prepared> files_;           // canonical path -> its entries
  std::uint64_t nameless_ = 0;                      // inode numbers given to nameless files
  std::map<std::uint32_t, Image> images_;           // pid -> its image
  std::set<std::string> not_on_host_;               // files judged by their path alone
  FileNames names_;
  SimulationReport report_;
};

// Whether `path` is `dir` or lies below it.
bool path_within(const std::string& path, const std::string& dir);

}  // namespace execgate
