// Names of the kernel's reason, verdict and hook codes (the brief's vocabulary), and the
// kernel's events decoded into them. The codes and their names are listed once, in
// bpf/names.h; include/execgate/names.h makes them C++ (Reason, Verdict, Hook, EventKind).
#include <cstring>

#include "execgate/names.h"
#include "gate/kernel_abi.h"  // struct eg_event
#include "gate/kernel_facts.h"

namespace execgate {

std::string reason_name(std::uint8_t code) { return std::string(name(static_cast<Reason>(code))); }

std::string verdict_name(std::uint8_t verdict) { return std::string(name(static_cast<Verdict>(verdict))); }

std::string hook_name(std::uint32_t hook) { return std::string(name(static_cast<Hook>(hook))); }

std::string event_name(std::uint32_t hook) { return std::string(name(event_of(static_cast<Hook>(hook)))); }

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
  e.job = ev.job;
  e.writer = ev.writer;
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
  std::vector<std::string> names;
  for (const auto& e : all_names<Reason>()) names.emplace_back(e.name);
  return names;
}

}  // namespace execgate
