// The control socket's requests (docs/daemon.md "Control socket"): one JSON object per
// line, {"op": "submit", "document": "<envelope>", "source": "..."}, {"op": "tickets"} or
// {"op": "status"}; and execgate-sync's (docs/fleet.md "execgate-sync"):
// {"op": "fleet_submit", "document": "<envelope>", "key": "<etcd key>"},
// {"op": "fleet_forget", "key": "<etcd key>"} and {"op": "fleet_contact", "revision": N};
// and the jobs' (docs/gate.md "Jobs"): {"op": "job_start" | "job_join", "job": "<id>",
// "pids": [N, ...]} and {"op": "job_end", "job": "<id>"}.
// Parsing is pure (fuzzed: tests/fuzz/control_request_fuzz.cpp); the
// daemon only ever sees a request that parsed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace execgate {

struct ControlRequest {
  enum class Op { submit, tickets, status, fleet_submit, fleet_forget, fleet_contact, job_start, job_join, job_end };
  Op op = Op::status;
  std::string document;           // submit, fleet_submit: the envelope, as a string
  std::string source = "socket";  // submit: where it came from (audited)
  std::string key;                // fleet_submit, fleet_forget: the etcd key
  std::int64_t revision = 0;      // fleet_contact: the etcd revision seen
  std::string job;                // job_*: the job's id
  std::vector<pid_t> pids;        // job_start, job_join: processes to move into the job
};

// Who sent a request (SO_PEERCRED): its uid, and whether it runs inside a gated scope.
struct ControlPeer {
  uid_t uid = 0;
  bool in_scope = false;
  pid_t pid = 0;  // 0: not known
};

inline constexpr std::size_t kMaxJobPids = 64;  // processes one job request moves

inline constexpr std::size_t kMaxFleetKeyBytes = 512;

// The request on one line, or the error to send back (which member, what was expected).
std::variant<ControlRequest, std::string> parse_control_request(std::string_view line);

}  // namespace execgate
