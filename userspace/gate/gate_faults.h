// Failures the gate can be told to fake, for the upgrade suite's fault binary
// (tests/e2e/execgated_faults.cpp sets them from EXECGATE_FAULT_*; execgated never does).
// Each says where the load path fails as if the kernel or bpffs refused, so a test can show
// that a failure at every step leaves a pinned gate that enforces.
#pragma once

#include <cstddef>
#include <string>

namespace execgate {

struct GateFaults {
  // This program's attach fails (its name, or "last": the last program attached).
  std::string attach;
  // STEP:N fails step STEP of the Nth link pinned (from 0, or "last"); STEP is "pin" (the
  // new link under its temporary name) or "rename" (that name over the link's own).
  // "stamp": the build stamp's pin fails.
  std::string pin;
  // Claims the next kernel ABI.
  bool abi_bump = false;
  // Loads over its own build's pins as another build would.
  bool new_build = false;

  bool attach_fails(const std::string& program, bool last) const {
    return !attach.empty() && (attach == program || (last && attach == "last"));
  }
  bool pin_fails(const std::string& step, std::size_t index, bool last) const {
    if (pin.empty()) return false;
    if (pin == step) return true;
    const std::string prefix = step + ":";
    if (pin.rfind(prefix, 0) != 0) return false;
    const std::string n = pin.substr(prefix.size());
    return (n == "last" && last) || n == std::to_string(index);
  }
  // A fault in the load path is reached only by loading (never by keeping the pins).
  bool forces_load() const { return new_build || !attach.empty() || !pin.empty(); }
};

}  // namespace execgate
