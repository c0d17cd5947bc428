// execgated's whole run, from its command line to its exit code, for the two binaries that
// carry it: execgated (main.cpp) and the upgrade suite's fault binary
// (tests/e2e/execgated_faults.cpp), which passes failures for the gate to fake.
#pragma once

#include "gate/gate_faults.h"

namespace execgate {

// Exit codes: 0 stopped cleanly (the pinned gate keeps enforcing), 1 cannot run (no
// BPF-LSM, a kernel refusal, an unusable state or audit log), 2 bad usage or policy.
int execgated_main(int argc, char** argv, const GateFaults& faults = {});

}  // namespace execgate
