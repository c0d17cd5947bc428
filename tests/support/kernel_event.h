// Kernel events for the daemon's unit tests: a struct eg_event (bpf/execgate.h) as the
// kernel submits it, decoded the way the gate decodes the ring buffer.
#pragma once

#include <cstdint>
#include <span>

#include "gate/kernel_abi.h"
#include "gate/gate.h"

namespace execgate::test {

inline GateEvent decoded(const eg_event& e) {
  return *decode_gate_event(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&e), sizeof e));
}

}  // namespace execgate::test
