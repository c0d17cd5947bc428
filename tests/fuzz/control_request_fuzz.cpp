// libFuzzer target: the control socket's request parser (userspace/daemon/control_api.cpp):
// any line gives a request or an error message, never a crash; a submit always carries
// its document.
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
  }
  return 0;
}
