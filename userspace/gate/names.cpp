// Names of the kernel's reason, verdict and hook codes (the brief's vocabulary). The codes
// and their names are listed once, in bpf/execgate.h (EG_REASONS, EG_VERDICTS, EG_HOOKS).
#include "gate/gate.h"

namespace execgate {

#define EG_NAME_CASE(constant, value, name) \
  case constant:                            \
    return name;

std::string reason_name(std::uint8_t code) {
  switch (code) {
    EG_REASONS(EG_NAME_CASE)
    default: return "unknown";
  }
}

std::string verdict_name(std::uint8_t verdict) {
  switch (verdict) {
    EG_VERDICTS(EG_NAME_CASE)
    default: return "unknown";
  }
}

std::string hook_name(std::uint32_t hook) {
  switch (hook) {
    EG_HOOKS(EG_NAME_CASE)
    default: return "unknown";
  }
}

#undef EG_NAME_CASE

std::string event_name(std::uint32_t hook) {
  switch (hook) {
    case EG_HOOK_EXEC:
    case EG_HOOK_MMAP_EXEC:
    case EG_HOOK_MPROTECT_EXEC:
    case EG_HOOK_EXEC_CHECK: return "exec";
    default: return "access";
  }
}

std::vector<std::string> reason_names() {
#define EG_NAME_ENTRY(constant, value, name) name,
  return {EG_REASONS(EG_NAME_ENTRY)};
#undef EG_NAME_ENTRY
}

}  // namespace execgate
