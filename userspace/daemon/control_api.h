// The control socket's requests (docs/daemon.md "Control socket"): one JSON object per
// line, {"op": "submit", "document": "<envelope>", "source": "..."}, {"op": "tickets"} or
// {"op": "status"}. Parsing is pure (fuzzed: tests/fuzz/control_request_fuzz.cpp); the
// daemon only ever sees a request that parsed.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace execgate {

struct ControlRequest {
  enum class Op { submit, tickets, status };
  Op op = Op::status;
  std::string document;           // submit: the envelope, as a string
  std::string source = "socket";  // submit: where it came from (audited)
};

// The request on one line, or the error to send back (which member, what was expected).
std::variant<ControlRequest, std::string> parse_control_request(std::string_view line);

}  // namespace execgate
