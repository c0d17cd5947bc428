/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The gate's maps, all pinned by name under the daemon's pin directory: tickets, the
 * baseline, protected inodes and reserved names, the loaders, the config / counters / exec
 * clock page (eg_state), the event ring buffer and per-task lineage. Their keys and values
 * are the ABI in execgate.h. The order of the definitions is the order of the object's
 * .maps section: keep it.
 */
#ifndef EG_LIB_MAPS_H
#define EG_LIB_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "execgate.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_TICKETS);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_ticket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_tickets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_BASELINE);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_baseline);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_baseline SEC(".maps");

/* directories holding the gate's own state, evidence and policy: no writes from the scope */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_PROTECTED);
	__type(key, struct eg_inode_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_protected SEC(".maps");

/* names the scope may not create (execgate.h, struct eg_name_key) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_RESERVED);
	__type(key, struct eg_name_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_reserved SEC(".maps");

/* the dynamic loader(s): never executed directly in scope */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_LOADERS);
	__type(key, struct eg_inode_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_loaders SEC(".maps");

/* Config and counters on one page (execgate.h, union eg_state). A plain array's lookups
 * are inlined by the verifier (a per-CPU array's is a helper call on 6.1), and exec rates
 * make contention on the counters irrelevant. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EG_STATE__COUNT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, union eg_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* userspace may resize before load */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_events SEC(".maps");

/* the directories of the policy's baseline paths: the scope adds no name to them */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_BASELINE_DIRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct eg_inode_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_baseline_dirs SEC(".maps");

/* regular files the scope created, wrote or renamed (execgate.h, struct eg_written): kept
 * while the file exists (lib/written.h) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_WRITTEN);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_written);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_written SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct eg_task_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_task_state SEC(".maps");

/* job-bound tickets' entries, by inode and job (execgate.h, struct eg_job_ticket_key) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_TICKETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct eg_job_ticket_key);
	__type(value, struct eg_ticket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_job_tickets SEC(".maps");

/* the live jobs, by cgroup id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_JOBS);
	__type(key, __u64);
	__type(value, struct eg_job);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_jobs SEC(".maps");

/* files builders wrote inside jobs (lib/outputs.h) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EG_MAX_OUTPUTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct eg_inode_key);
	__type(value, struct eg_output);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} eg_outputs SEC(".maps");


#endif /* EG_LIB_MAPS_H */
