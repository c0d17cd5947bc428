/* The kernel's decision on a file about to run (bpf/lib/decision.h decide()), compiled
 * natively over the stand-ins of kernel_shim.h. native_decision.cpp is its C++ face. */
#define EG_NATIVE 1
#include "lib/decision.h"

struct eg_native_map eg_tickets = {EG_NATIVE_TICKETS}, eg_baseline = {EG_NATIVE_BASELINE},
		     eg_loaders = {EG_NATIVE_LOADERS}, eg_job_tickets = {EG_NATIVE_JOB_TICKETS},
		     eg_outputs = {EG_NATIVE_OUTPUTS};

void eg_native_decide(const struct eg_config *cfg, const struct eg_native_file *file, __u32 uid,
		      const struct eg_task_state *caller, bool consume, bool is_exec, __u64 now,
		      struct eg_native_verdict *out)
{
	struct super_block sb = {.s_flags = file->kernel_mount ? SB_KERNMOUNT : 0, .s_dev = (__u32)file->dev};
	struct inode inode = {.i_sb = &sb,
			      .i_ino = (unsigned long)file->ino,
			      .__i_nlink = file->nlink,
			      .i_uid = {file->owner},
			      .i_mode = (umode_t)file->mode,
			      .i_generation = file->generation,
			      .ctime_sec = file->ctime_sec,
			      .ctime_nsec = file->ctime_nsec};
	struct dentry dentry = {.d_name = {(const unsigned char *)(file->name ? file->name : "")}};
	struct decision d = {};
	decide(cfg, &inode, &dentry, uid, caller, consume, is_exec, now, &d);
	out->reason = d.reason;
	out->has_ticket = d.has_ticket;
	out->pinned = d.pinned;
	out->per_exec = d.per_exec;
	out->parent_bound = d.parent_bound;
	out->spent = d.spent;
	out->last_use = d.last_use;
	out->job = d.job;
	out->writer = d.writer;
	memcpy(out->ticket, d.ticket, EG_ID_LEN);
}

__u8 eg_native_mapping_reason(const struct eg_native_verdict *v, bool own_image)
{
	struct decision d = {.reason = v->reason,
			     .per_exec = v->per_exec,
			     .parent_bound = v->parent_bound,
			     .spent = v->spent};
	return mapping_reason(&d, own_image);
}
