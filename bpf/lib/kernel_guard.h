/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel, from the scope: what it loads (modules, kexec images, policies; and,
 * from anywhere, nothing the scope wrote), request-key upcalls it would run outside the
 * scope, and what kernel lockdown forbids.
 */
#ifndef EG_LIB_KERNEL_GUARD_H
#define EG_LIB_KERNEL_GUARD_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execgate.h"
#include "lib/events.h"
#include "lib/kernel_defs.h"
#include "lib/state.h"
#include "lib/written.h"

/* kernel_read_file: in scope, no kernel modules, kexec images or IMA policies (each could
 * switch the gate off); firmware loads (driven by drivers) pass. From anywhere, nothing the
 * scope wrote is loaded into the kernel (a module, firmware, a kexec image, a policy). */
static __always_inline int kernel_read_file_rule(struct file *file, enum kernel_read_file_id id)
{
	struct eg_config *cfg = get_config();
	if (cfg && file) {
		int rc = denied_outside(cfg, file, EG_HOOK_KERNEL_LOAD);
		if (rc)
			return rc;
	}
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

/* kernel_load_data: the same for images passed from memory (init_module, kexec_load). */
static __always_inline int kernel_load_data_rule(enum kernel_load_data_id id)
{
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_FIRMWARE))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_KERNEL_LOAD);
}

/* key_alloc: the authorization key of a request_key(2) upcall, allocated from the scope. */
static __always_inline int key_upcall_rule(struct key *key)
{
	const char want[] = ".request_key_auth";
	char name[sizeof(want)] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(key, type, name));
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return 0;
	return deny_in_scope(EG_R_SCOPE_ESCAPE, EG_HOOK_KEY_UPCALL);
}

/* locked_down: every reason up to LOCKDOWN_INTEGRITY_MAX but hibernation, from the scope. */
static __always_inline int lockdown_rule(enum lockdown_reason what)
{
	if (what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_NONE) ||
	    what == bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_HIBERNATION) ||
	    what >= bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_INTEGRITY_MAX))
		return 0;
	return deny_in_scope(EG_R_GATE_TAMPER, EG_HOOK_LOCKDOWN);
}

#endif /* EG_LIB_KERNEL_GUARD_H */
