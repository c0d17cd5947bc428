// execgated-faults: execgated, with the failures the environment names faked by the gate
// (tests/e2e/upgrade_suite.sh; userspace/gate/gate_faults.h). Never installed.
//   EXECGATE_FAULT_ATTACH=NAME|last    that program's attach fails
//   EXECGATE_FAULT_PIN=pin:N|rename:N|pin:last|rename:last|stamp
//                                      that step of the Nth link's pin replacement fails
//   EXECGATE_FAULT_ABI_BUMP=1          claims the next kernel ABI
//   EXECGATE_FAULT_NEW_BUILD=1         loads over its own build's pins as another build would
#include <cstdlib>
#include <string>

#include "execgated.h"

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

int main(int argc, char** argv) {
  execgate::GateFaults faults;
  faults.attach = env("EXECGATE_FAULT_ATTACH");
  faults.pin = env("EXECGATE_FAULT_PIN");
  faults.abi_bump = !env("EXECGATE_FAULT_ABI_BUMP").empty();
  faults.new_build = !env("EXECGATE_FAULT_NEW_BUILD").empty();
  return execgate::execgated_main(argc, argv, faults);
}
