// The kernel ABI (bpf/execgate.h) for the gate's own sources: the one door through which
// userspace reads the kernel's structs and codes. Nothing outside userspace/gate/ (and the
// unit tests that build kernel events) includes it; gate.h speaks C++ values.
#pragma once

#include <linux/types.h>

#include "execgate.h"
