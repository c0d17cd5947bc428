// libFuzzer target: the control socket's request parser (userspace/daemon/control_api.cpp):
// any line gives a request or an error message, never a crash; a submit always carries
// its document; a job request never carries more than kMaxJobPids processes, each > 0.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "control_api.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace execgate;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = parse_control_request(line);
  if (const auto* error = std::get_if<std::string>(&r)) {
    if (error->empty()) fuzz::die("an empty error message");
  } else if (std::get<ControlRequest>(r).op == ControlRequest::Op::submit &&
             line.find("\"document\"") == std::string_view::npos) {
    fuzz::die("a submit without a document member", std::string(line));
  } else {
    const ControlRequest& req = std::get<ControlRequest>(r);
    if (req.pids.size() > kMaxJobPids) fuzz::die("a job request moving more processes than allowed", std::string(line));
    for (const pid_t p : req.pids)
      if (p <= 0) fuzz::die("a job request naming a process id <= 0", std::string(line));
  }
  return 0;
}
