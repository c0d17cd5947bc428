/* bpf(2) on pinned objects, for the test programs (tests/e2e/eg_probe.c,
 * tests/bench/peer_loop.c): get a pin, read an object's info, the program behind a
 * pinned link, a program's bpf_stats. Raw syscalls: the programs link no libbpf. */
#ifndef EXECGATE_TESTS_BPF_OBJ_H
#define EXECGATE_TESTS_BPF_OBJ_H

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static inline int obj_get(const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.pathname = (uint64_t)(uintptr_t)path;
	return (int)sys_bpf(BPF_OBJ_GET, &a);
}

/* BPF_OBJ_GET_INFO_BY_FD into INFO (LEN bytes, zeroed first): 0, or -1 with errno set */
static inline int obj_info(int fd, void *info, uint32_t len)
{
	memset(info, 0, len);
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = len;
	a.info.info = (uint64_t)(uintptr_t)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 ? 0 : -1;
}

/* The program behind a pinned link: an fd for obj_info(), or -1 (errno set). */
static inline int link_prog_fd(const char *pinned_link)
{
	int link = obj_get(pinned_link);
	if (link < 0)
		return -1;
	struct bpf_link_info li;
	int rc = obj_info(link, &li, sizeof li);
	int err = errno;
	close(link);
	if (rc != 0) {
		errno = err;
		return -1;
	}
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_id = li.prog_id;
	return (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

/* bpf_stats of a program (and its size when JITED is not NULL): 0, or -1 with errno set */
static inline int prog_stats(int prog, uint64_t *runs, uint64_t *ns, uint32_t *jited)
{
	struct bpf_prog_info pi;
	if (obj_info(prog, &pi, sizeof pi) != 0)
		return -1;
	*runs = pi.run_cnt;
	*ns = pi.run_time_ns;
	if (jited)
		*jited = pi.jited_prog_len;
	return 0;
}

#endif /* EXECGATE_TESTS_BPF_OBJ_H */
