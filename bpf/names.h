/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every name execgate writes into audit records and prints, listed once: the kernel's
 * verdicts, reasons and hooks (with their codes), the audit log's event kinds, the reasons
 * a submission is refused, and the reasons of the records the daemon and the audit writer
 * make themselves. Nothing else spells these names.
 *
 * Plain preprocessor lists, no types and no includes: bpf/execgate.h includes this file
 * for the kernel's enums (the BPF programs, the gate library), and
 * include/execgate/names.h (the CMake target execgate_names, header-only, no libbpf) makes
 * C++ enums, names and parsers of every list. The column `name` is the name as an
 * identifier (C++ enumerator; stringified for the text); a trailing underscore keeps a
 * C++ keyword out of the way and is not part of the name (operator_ is "operator").
 */
#ifndef EXECGATE_NAMES_H
#define EXECGATE_NAMES_H

/* ---- The kernel's codes: X(constant, value, name). The values are ABI (eg_event). ---- */

#define EG_VERDICTS(X) \
	X(EG_VERDICT_ALLOW, 0, allow) \
	X(EG_VERDICT_DENY, 1, deny) \
	X(EG_VERDICT_MONITOR_DENY, 2, monitor_deny) /* would deny; monitor mode let it run */

#define EG_REASONS(X) \
	X(EG_R_TICKET, 1, ticket)     /* allowed: a valid ticket covers the file */ \
	X(EG_R_BASELINE, 2, baseline) /* allowed: policy baseline trusts the file */ \
	X(EG_R_NO_TICKET, 10, no_ticket) \
	X(EG_R_EXPIRED, 11, expired) \
	X(EG_R_NOT_YET_VALID, 12, not_yet_valid) \
	X(EG_R_UID_MISMATCH, 13, uid_mismatch) \
	X(EG_R_STALE, 14, stale) \
	X(EG_R_EXHAUSTED, 15, exhausted) \
	X(EG_R_LINEAGE, 16, lineage) \
	X(EG_R_AUDIT_UNAVAILABLE, 17, audit_unavailable) \
	X(EG_R_LOADER_BYPASS, 18, loader_bypass) \
	X(EG_R_MEMFD, 19, memfd)                       /* memory without a file: memfd_create, SysV shm */ \
	X(EG_R_WRITE_PROTECTED, 20, write_protected)   /* open for write of a ticketed file */ \
	X(EG_R_SCOPE_ESCAPE, 21, scope_escape)         /* cgroupfs write or clone3(CLONE_INTO_CGROUP) from the scope */ \
	X(EG_R_GATE_TAMPER, 22, gate_tamper)           /* bpf() or unlinking bpffs pins from the scope */ \
	X(EG_R_PTRACE, 23, ptrace)                     /* ptrace attach / process_vm_writev from the scope */ \
	X(EG_R_UNSEALED, 24, unsealed)                 /* the ticket's entry is still being sealed by the daemon */ \
	X(EG_R_PRIVILEGE, 25, privilege)               /* refused by the scope's privilege posture (capability, mount, userns, ...) */ \
	X(EG_R_TMPFILE, 26, tmpfile)                   /* an O_TMPFILE file, never linked into a directory */ \
	X(EG_R_UNLINKED, 27, unlinked)                 /* a file unlinked while it was open */ \
	X(EG_R_SCOPE_WRITTEN, 28, scope_written)       /* a file the scope created, wrote or renamed, run or loaded outside it */ \
	X(EG_R_FLEET_SILENT, 29, fleet_silent)         /* a ticket from the fleet while the host has had no confirmed contact with etcd for max_silence */ \
	X(EG_R_JOB_OUTPUT, 3, job_output)              /* allowed: a builder wrote the file inside this job, and its ticket is valid */ \
	X(EG_R_WRONG_JOB, 30, wrong_job)               /* a job's ticket or output, used outside that job */ \
	X(EG_R_BUILDER_GONE, 31, builder_gone)         /* a job output whose builder's ticket is no longer valid */

/* Which hook produced an event, and the audit event its decisions are: exec (whether code
 * runs: an exec, an executable mapping, AT_EXECVE_CHECK) or access (any other operation). */
#define EG_HOOKS(X) \
	X(EG_HOOK_EXEC, 1, exec, exec) \
	X(EG_HOOK_OPEN_WRITE, 2, open_write, access) \
	X(EG_HOOK_MMAP_EXEC, 3, mmap_exec, exec) \
	X(EG_HOOK_MPROTECT_EXEC, 4, mprotect_exec, exec) \
	X(EG_HOOK_CGROUP_WRITE, 5, cgroup_write, access) \
	X(EG_HOOK_CLONE_INTO_CGROUP, 6, clone_into_cgroup, access) \
	X(EG_HOOK_BPF, 7, bpf, access) \
	X(EG_HOOK_PIN_UNLINK, 8, pin_unlink, access) \
	X(EG_HOOK_PTRACE, 9, ptrace, access) \
	X(EG_HOOK_STATE_WRITE, 10, state_write, access) /* write/create/unlink/rename in the daemon's directories */ \
	X(EG_HOOK_KERNEL_LOAD, 11, kernel_load, access) /* module / kexec image / policy load from the scope */ \
	X(EG_HOOK_FD_WRITE, 12, fd_write, access)       /* write through an fd opened before entering the scope */ \
	X(EG_HOOK_TRUNCATE, 13, truncate, access)       /* truncate(2) of a ticketed file */ \
	X(EG_HOOK_SETTIME, 14, settime, access)         /* setting the system clock from the scope */ \
	X(EG_HOOK_KERNEL_SETTING, 15, kernel_setting, access) /* a sysctl, uevent_helper, securityfs or binfmt_misc write from the scope */ \
	X(EG_HOOK_DEVICE_WRITE, 16, device_write, access) /* raw device: block device / mem / kmem / port / input device opened for writing */ \
	X(EG_HOOK_LOCKDOWN, 17, lockdown, access)       /* an action kernel lockdown (integrity) forbids: iopl, MSR writes, PCI config, ... */ \
	X(EG_HOOK_CAPABLE, 18, capable, access)         /* a capability outside the posture's allow-list (arg: CAP_*) */ \
	X(EG_HOOK_MOUNT, 19, mount, access)             /* mount (arg 1), umount (2), move_mount (3), pivot_root (4), or the new mount API's syscall number (open_tree 428, fsopen 430, fsconfig 431, fsmount 432, fspick 433, mount_setattr 442) */ \
	X(EG_HOOK_MODULE_REQUEST, 20, module_request, access) /* module autoload (path: the module's name) */ \
	X(EG_HOOK_OTHER_TASK, 21, other_task, access)   /* acting on a task outside the scope: arg = signal, or EG_OP_* */ \
	X(EG_HOOK_USERNS, 22, userns_create, access)    /* creating a user namespace */ \
	X(EG_HOOK_MKNOD, 23, mknod, access)             /* creating a device node (arg: mode) */ \
	X(EG_HOOK_FILE_ATTR, 24, file_attr, access)     /* inode flags: immutable, append-only (arg: ioctl) */ \
	X(EG_HOOK_BLOCK_CONFIG, 25, block_config, access) /* loop / device-mapper / nbd / partition configuration (arg: ioctl) */ \
	X(EG_HOOK_PROTECTED_NAME, 26, protected_name, access) /* rename / unlink / rmdir of a protected name */ \
	X(EG_HOOK_PTRACE_TRACEME, 27, ptrace_traceme, access) /* PTRACE_TRACEME: asking to be traced */ \
	X(EG_HOOK_HELPER_WRITE, 28, helper_write, access) /* writing or truncating a file the gate or the kernel runs */ \
	X(EG_HOOK_TTY_INJECT, 29, tty_inject, access)   /* TIOCSTI / TIOCLINUX: typing into a terminal a process outside reads */ \
	X(EG_HOOK_KEY_UPCALL, 30, key_upcall, access)   /* request_key(2) upcall: the kernel would run /sbin/request-key */ \
	X(EG_HOOK_EXEC_CHECK, 31, exec_check, exec)     /* execveat(AT_EXECVE_CHECK): may this file run? (7.x) */ \
	X(EG_HOOK_DEVICE_COMMAND, 32, device_command, access) /* a raw command to a device driver, read or write: SG_IO, NVMe passthrough (ioctl, io_uring) */ \
	X(EG_HOOK_MMAP_WRITE, 33, mmap_write, access)   /* a shared writable mapping (mmap_file, file_mprotect): a write */ \
	X(EG_HOOK_DEVICE_READ, 34, device_read, access) /* a block device opened, read or mapped from the scope */ \
	X(EG_HOOK_WRITE_MARK, 35, write_mark, access)   /* a write from the scope whose mark could not be stored (eg_written full) */ \
	X(EG_HOOK_CLOCK_ADJUST, 36, clock_adjust, access) /* CAP_SYS_TIME from the scope: adjtimex, clock_adjtime, settimeofday (arg: CAP_*) */ \
	X(EG_HOOK_BASELINE_NAME, 37, baseline_name, access) /* a new name in a directory of the baseline's paths from the scope */ \
	X(EG_HOOK_URING_SQPOLL, 38, uring_sqpoll, access) /* mapping an io_uring ring whose SQPOLL thread is outside the scope */

/* ---- Userspace only (no code): X(name). ---- */

/* The audit log's event kinds (docs/audit.md "Record format"): the brief's, then
 * execgate's own (access: a kernel decision on an operation other than running code). */
#define EG_EVENTS(X) \
	X(exec) \
	X(ticket_installed) \
	X(ticket_refused) \
	X(ticket_expired) \
	X(ticket_revoked) \
	X(gap) \
	X(checkpoint)   /* the audit writer's own */ \
	X(daemon_start) \
	X(daemon_stop) \
	X(access) \
	X(policy_reload) \
	X(state_reset) \
	X(fleet)        /* the fleet's contact: lost for max_silence (fleet tickets suspended), resumed */ \
	X(job_started)  /* a job's cgroup made below the scope (execgate job start, run --job) */ \
	X(job_ended)    /* a job ended: its tickets and outputs gone */

/* Why a submission is refused: the brief's names and execgate's own (docs/daemon.md
 * "Submissions"); the reason of ticket_refused records and of the control API's refusals. */
#define EG_REFUSALS(X) \
	X(bad_signature) \
	X(untrusted_issuer) \
	X(wrong_host) \
	X(ttl_too_long) \
	X(expired) \
	X(not_yet_valid) \
	X(revoked) \
	X(replay) \
	X(malformed) \
	X(missing_file) \
	X(not_regular) \
	X(unsupported_fs) \
	X(stale) \
	X(open_for_write) \
	X(unsealed) \
	X(digest_mismatch) \
	X(unbacked) /* start-up: a kernel entry no installed ticket backs */ \
	X(planted)  /* start-up: an installed record this host's execgated did not write */ \
	X(delegation_exceeded) /* a delegated ticket beyond what its chain allows */ \
	X(delegation_expired)  /* a link of its chain no longer valid */ \
	X(delegation_revoked)  /* a link of its chain revoked */ \
	X(wrong_job)           /* a ticket naming a job that is not running on this host */

/* The reason of the records the daemon and the audit writer make on their own account
 * (docs/audit.md): gap, daemon_start, daemon_stop, policy_reload, state_reset, fleet, and a
 * ticket_revoked that no revocation made. */
#define EG_RECORD_REASONS(X) \
	X(torn_write)       /* gap: a partly written record cut off at resume */ \
	X(disk_full)        /* gap: the audit log's file system full */ \
	X(ring_buffer_full) /* gap: kernel events the ring buffer could not take */ \
	X(reused_pins)      /* daemon_start: the gate was pinned */ \
	X(fresh)            /* daemon_start: no pinned gate */ \
	X(signal)           /* daemon_stop */ \
	X(sighup)           /* policy_reload */ \
	X(operator_)        /* state_reset: "operator", the package's purge */ \
	X(silent)           /* fleet: no confirmed contact with etcd for max_silence */ \
	X(resumed)          /* fleet: contact again after silence */ \
	X(deleted)          /* ticket_revoked: the fleet key it came from was deleted */ \
	X(job_ended)        /* ticket_revoked: its job ended (execgate job end) */ \
	X(requested)        /* job_started, job_ended: asked over the control socket */

#endif /* EXECGATE_NAMES_H */
