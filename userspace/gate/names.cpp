// Names of the kernel's reason, verdict and hook codes (the brief's vocabulary).
#include "execgate/gate.h"

namespace execgate {

std::string reason_name(std::uint8_t code) {
  switch (code) {
    case EG_R_TICKET: return "ticket";
    case EG_R_BASELINE: return "baseline";
    case EG_R_NO_TICKET: return "no_ticket";
    case EG_R_EXPIRED: return "expired";
    case EG_R_NOT_YET_VALID: return "not_yet_valid";
    case EG_R_UID_MISMATCH: return "uid_mismatch";
    case EG_R_STALE: return "stale";
    case EG_R_EXHAUSTED: return "exhausted";
    case EG_R_LINEAGE: return "lineage";
    case EG_R_AUDIT_UNAVAILABLE: return "audit_unavailable";
    case EG_R_LOADER_BYPASS: return "loader_bypass";
    case EG_R_MEMFD: return "memfd";
    case EG_R_WRITE_PROTECTED: return "write_protected";
    case EG_R_SCOPE_ESCAPE: return "scope_escape";
    case EG_R_GATE_TAMPER: return "gate_tamper";
    case EG_R_PTRACE: return "ptrace";
    case EG_R_UNSEALED: return "unsealed";
    case EG_R_PRIVILEGE: return "privilege";
    default: return "unknown";
  }
}

std::string verdict_name(std::uint8_t verdict) {
  switch (verdict) {
    case EG_VERDICT_ALLOW: return "allow";
    case EG_VERDICT_DENY: return "deny";
    case EG_VERDICT_MONITOR_DENY: return "monitor_deny";
    default: return "unknown";
  }
}

std::string hook_name(std::uint32_t hook) {
  switch (hook) {
    case EG_HOOK_EXEC: return "exec";
    case EG_HOOK_OPEN_WRITE: return "open_write";
    case EG_HOOK_MMAP_EXEC: return "mmap_exec";
    case EG_HOOK_MPROTECT_EXEC: return "mprotect_exec";
    case EG_HOOK_CGROUP_WRITE: return "cgroup_write";
    case EG_HOOK_CLONE_INTO_CGROUP: return "clone_into_cgroup";
    case EG_HOOK_BPF: return "bpf";
    case EG_HOOK_PIN_UNLINK: return "pin_unlink";
    case EG_HOOK_PTRACE: return "ptrace";
    case EG_HOOK_STATE_WRITE: return "state_write";
    case EG_HOOK_KERNEL_LOAD: return "kernel_load";
    case EG_HOOK_FD_WRITE: return "fd_write";
    case EG_HOOK_TRUNCATE: return "truncate";
    case EG_HOOK_SETTIME: return "settime";
    case EG_HOOK_KERNEL_SETTING: return "kernel_setting";
    case EG_HOOK_DEVICE_WRITE: return "device_write";
    case EG_HOOK_LOCKDOWN: return "lockdown";
    case EG_HOOK_CAPABLE: return "capable";
    case EG_HOOK_MOUNT: return "mount";
    case EG_HOOK_MODULE_REQUEST: return "module_request";
    case EG_HOOK_OTHER_TASK: return "other_task";
    case EG_HOOK_USERNS: return "userns_create";
    case EG_HOOK_MKNOD: return "mknod";
    case EG_HOOK_FILE_ATTR: return "file_attr";
    case EG_HOOK_BLOCK_CONFIG: return "block_config";
    case EG_HOOK_PROTECTED_NAME: return "protected_name";
    case EG_HOOK_PTRACE_TRACEME: return "ptrace_traceme";
    case EG_HOOK_HELPER_WRITE: return "helper_write";
    case EG_HOOK_TTY_INJECT: return "tty_inject";
    case EG_HOOK_KEY_UPCALL: return "key_upcall";
    case EG_HOOK_EXEC_CHECK: return "exec_check";
    default: return "unknown";
  }
}

}  // namespace execgate
