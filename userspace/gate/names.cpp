// Names of the kernel's reason, verdict and hook codes (the brief's vocabulary), and the
// kernel's events decoded into them. The codes and their names are listed once, in
// bpf/execgate.h (EG_REASONS, EG_VERDICTS, EG_HOOKS).
#include <cstring>

#include "gate/kernel_abi.h"  // EG_REASONS, EG_VERDICTS, EG_HOOKS, struct eg_event
#include "gate/kernel_facts.h"

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

static TicketId id_of(const __u8 (&raw)[EG_ID_LEN]) {
  TicketId id{};
  std::memcpy(id.data(), raw, EG_ID_LEN);
  return id;
}

std::optional<GateEvent> decode_gate_event(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < sizeof(eg_event)) return std::nullopt;
  eg_event ev;
  std::memcpy(&ev, bytes.data(), sizeof ev);
  GateEvent e;
  e.boot_ns = ev.ts_boot_ns;
  e.dev = ev.dev;
  e.ino = ev.ino;
  e.cgroup_id = ev.cgroup_id;
  e.pid = ev.pid;
  e.ppid = ev.ppid;
  e.uid = ev.uid;
  e.event = event_name(ev.hook);
  e.hook = hook_name(ev.hook);
  e.verdict = verdict_name(ev.verdict);
  e.reason = reason_name(ev.reason);
  if (ev.has_ticket) e.ticket = id_of(ev.ticket);
  if (ev.has_proc_ticket) e.proc_ticket = id_of(ev.proc_ticket);
  e.comm.assign(ev.comm, strnlen(ev.comm, sizeof ev.comm));
  e.path.assign(ev.path, strnlen(ev.path, sizeof ev.path));
  if (ev.hook == EG_HOOK_CAPABLE)
    e.capability = static_cast<int>(ev.arg);
  else if (ev.hook == EG_HOOK_EXEC)
    e.last_use = (ev.arg & EG_ARG_LAST_USE) != 0;
  else if (ev.arg)
    e.arg = ev.arg;
  return e;
}

std::vector<std::string> reason_names() {
#define EG_NAME_ENTRY(constant, value, name) name,
  return {EG_REASONS(EG_NAME_ENTRY)};
#undef EG_NAME_ENTRY
}

}  // namespace execgate
