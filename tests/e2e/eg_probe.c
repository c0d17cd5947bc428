// eg-probe: attack primitives for the VM suite. Each verb attempts one operation and
// prints "<VERB>_OK" or "<VERB>_ERRNO=<NAME>" so tests check the kernel's errno, not
// just an exit status. Exit 0 when the operation succeeded, 1 when it failed.
#define _GNU_SOURCE
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/nvme_ioctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ETXTBSY: return "ETXTBSY";
	case EINVAL: return "EINVAL";
	case ENOEXEC: return "ENOEXEC";
	case ENOTTY: return "ENOTTY";
	case ENXIO: return "ENXIO";
	case EBUSY: return "EBUSY";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EEXIST: return "EEXIST";
	case ESRCH: return "ESRCH";
	default: return strerror(e);
	}
}

static int report(const char *verb, int ok, int err)
{
	if (ok)
		printf("%s_OK\n", verb);
	else
		printf("%s_ERRNO=%s\n", verb, errname(err));
	fflush(stdout);
	return ok ? 0 : 1;
}

/* report() for an operation evaluated first: errno is read after it (a call inside
 * report()'s arguments may be evaluated after errno is). */
#define attempt(verb, ok) ({ int ok_ = (ok); report(verb, ok_, errno); })

#include "bpf_obj.h"
#include "execgate.h"

/* uring-cmd DEV: an NVMe passthrough read of block 0 of namespace 1 through io_uring
 * (IORING_OP_URING_CMD) on a read-only fd of DEV (/dev/ngXnY). URING_CMD_OK when the
 * device served it, else the completion's errno. */
static int uring_cmd_read(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	if (fd < 0)
		return report("SETUP", 0, errno);
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32; /* NVMe passthrough needs both */
	int ring = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0)
		return report("SETUP", 0, errno);
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * 2 * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	char *sqes = mmap(NULL, p.sq_entries * 2 * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return report("SETUP", 0, errno);
	static char buf[4096] __attribute__((aligned(4096)));
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)sqes; /* entry 0 */
	memset(sqe, 0, 2 * sizeof *sqe);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)sqe->cmd;
	cmd->opcode = 0x02; /* read */
	cmd->nsid = 1;
	cmd->addr = (__u64)(uintptr_t)buf;
	cmd->data_len = 512; /* one block (cdw12 = blocks - 1 = 0) at LBA 0 */
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
	unsigned *array = (unsigned *)(sq + p.sq_off.array);
	unsigned mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	array[*tail & mask] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return report("URING_CMD", 0, errno);
	unsigned head = __atomic_load_n((unsigned *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
	unsigned cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
	struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes + (head & cmask) * 2 * sizeof *cqe);
	return report("URING_CMD", cqe->res >= 0, cqe->res < 0 ? -cqe->res : 0);
}

/* An io_uring ring with an SQPOLL kernel thread (entries 8): its fd. */
static int sqpoll_ring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SQPOLL;
	p.sq_thread_idle = 5000;
	return (int)syscall(SYS_io_uring_setup, 8, &p);
}

/* uring-open RING PATHADDR: opens for writing, through the SQPOLL ring RING (an fd), the
 * path at PATHADDR in the memory of the ring's creator: its kernel thread reads the
 * submission's pointers in its creator's address space. Prints MMAP_ERRNO=... when the
 * ring may not be mapped, else URING_OPEN_OK or URING_OPEN_ERRNO=... */
static int uring_open(int ring, __u64 path)
{
	struct io_uring_params q;
	memset(&q, 0, sizeof q);
	int probe = (int)syscall(SYS_io_uring_setup, 8, &q); /* the same layout, to learn the offsets */
	if (probe < 0)
		return report("SETUP", 0, errno);
	close(probe);
	size_t sq_len = q.sq_off.array + q.sq_entries * sizeof(__u32);
	size_t cq_len = q.cq_off.cqes + q.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return report("MMAP", 0, errno);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(NULL, 8 * sizeof *sqes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
					 ring, IORING_OFF_SQES);
	if (cq == MAP_FAILED || sqes == MAP_FAILED)
		return report("MMAP_REST", 0, errno);
	memset(&sqes[0], 0, sizeof sqes[0]);
	sqes[0].opcode = IORING_OP_OPENAT;
	sqes[0].fd = AT_FDCWD;
	sqes[0].addr = path;
	sqes[0].open_flags = O_WRONLY;
	unsigned *tail = (unsigned *)(sq + q.sq_off.tail);
	unsigned *array = (unsigned *)(sq + q.sq_off.array);
	unsigned mask = *(unsigned *)(sq + q.sq_off.ring_mask);
	array[*tail & mask] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_SQ_WAKEUP | IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return report("URING_OPEN", 0, errno);
	unsigned head = __atomic_load_n((unsigned *)(cq + q.cq_off.head), __ATOMIC_ACQUIRE);
	unsigned cmask = *(unsigned *)(cq + q.cq_off.ring_mask);
	struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + q.cq_off.cqes) + (head & cmask);
	return report("URING_OPEN", cqe->res >= 0, cqe->res < 0 ? -cqe->res : 0);
}

/* N vfork+execs of argv[0] with ARGV; counts successes and EPERM denials. */
static void exec_n(int n, char **argv, int *ok, int *denied)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = vfork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(errno == EPERM ? 126 : 127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			(*ok)++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
			(*denied)++;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The pinned ticket map under PIN_DIR and PATH's key in it: the map fd, or -1 (errno set). */
/* bpf(CMD) on a map element: the attribute for map fd MAP, KEY and VALUE (NULL for delete) */
static long map_elem(int cmd, int map, void *key, void *value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	return sys_bpf(cmd, &a);
}

static int ticket_map_key(const char *pin_dir, const char *path, struct eg_inode_key *key)
{
	char pin[512];
	snprintf(pin, sizeof pin, "%s/eg_tickets", pin_dir);
	int map = obj_get(pin);
	struct stat st;
	if (map < 0 || stat(path, &st) != 0)
		return -1;
	key->dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
	key->ino = st.st_ino;
	return map;
}

static int sock_connect(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr;
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
		return -1;
	return fd;
}

static void print_reply(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("REPLY %s", n > 0 ? buf : "(none)\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

/* fd-op OP FD: what changes or reads a file's bytes through an fd without write(2) or
 * read(2) (the fd inherited, opened before the scope): OP is mmap-write (a shared writable
 * mapping, a byte changed, msync), mprotect-write (mapped shared read-only, then made
 * writable), fallocate (one byte more), copy-range (its first byte appended to itself),
 * splice (a byte from a pipe appended), ftruncate (to its own size), read (a byte),
 * mmap-read (a shared read-only mapping). Prints OP_OK or OP_ERRNO=... */
static int fd_op(const char *op, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return report("FSTAT", 0, errno);
	off_t size = st.st_size;
	if (S_ISBLK(st.st_mode))
		size = 4096;
	if (!strcmp(op, "mmap-write") || !strcmp(op, "mmap-read") || !strcmp(op, "mprotect-write")) {
		int write_now = !strcmp(op, "mmap-write");
		size_t len = size > 0 ? (size_t)size : 1;
		volatile char *p = mmap(NULL, len, write_now ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return report(!strcmp(op, "mprotect-write") ? "MMAP" : "MMAP_OP", 0, errno);
		int ok = 1, err = 0;
		if (!strcmp(op, "mprotect-write")) {
			ok = mprotect((void *)p, len, PROT_READ | PROT_WRITE) == 0;
			err = errno;
			if (!ok)
				return report("MPROTECT", 0, err);
		}
		if (strcmp(op, "mmap-read")) {
			p[0] = 'X';
			msync((void *)p, len, MS_SYNC);
		}
		munmap((void *)p, len);
		return report(!strcmp(op, "mprotect-write") ? "MPROTECT" : "MMAP_OP", 1, 0);
	}
	int ok;
	if (!strcmp(op, "fallocate")) {
		ok = fallocate(fd, 0, size, 1) == 0;
	} else if (!strcmp(op, "copy-range")) {
		loff_t in = 0, out = size;
		ok = copy_file_range(fd, &in, fd, &out, 1, 0) == 1;
	} else if (!strcmp(op, "splice")) {
		int pfd[2];
		if (pipe(pfd) != 0 || write(pfd[1], "X", 1) != 1)
			return report("SETUP", 0, errno);
		loff_t out = size;
		ok = splice(pfd[0], NULL, fd, &out, 1, 0) == 1;
	} else if (!strcmp(op, "ftruncate")) {
		ok = ftruncate(fd, size) == 0;
	} else if (!strcmp(op, "read")) {
		char c;
		ok = pread(fd, &c, 1, 0) == 1;
	} else {
		fprintf(stderr, "eg-probe: fd-op: unknown op %s\n", op);
		return 2;
	}
	int err = errno;
	char name[32];
	snprintf(name, sizeof name, "%s", op);
	for (char *c = name; *c; c++)
		*c = *c == '-' ? '_' : (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	return report(name, ok, err);
}

static int dispatch(int argc, char **argv);

/* Each verb: cmd_VERB(verb, argc, argv) with argv[1] the verb, as eg-probe was called. */
#define PROBE_CMD(name) static int name(const char *verb __attribute__((unused)), int argc __attribute__((unused)), char **argv __attribute__((unused)))

PROBE_CMD(cmd_exec)
{
	execv(argv[2], argv + 2);
	return report("EXEC", 0, errno) ? 126 : 0;
}

PROBE_CMD(cmd_exec_then)
{
	/* exec-then FIRST PATH ARGS: an exec of FIRST that fails (after the gate's check),
	 * then PATH from the same process: judged as if FIRST never ran */
	char *first[] = {argv[2], NULL};
	execv(argv[2], first);
	report("FIRST", 0, errno);
	execv(argv[3], argv + 3);
	return report("EXEC", 0, errno) ? 126 : 0;
}

/* entry-key PATH: the kernel's (dev, ino) */
PROBE_CMD(cmd_entry_key)
{
	struct stat st;
	if (stat(argv[2], &st) != 0)
		return report("SETUP", 0, errno);
	printf("%llu %llu\n", ((unsigned long long)major(st.st_dev) << 20) | minor(st.st_dev),
	       (unsigned long long)st.st_ino);
	return 0;
}

PROBE_CMD(cmd_open_write)
{
	int fd = open(argv[2], O_WRONLY);
	int err = errno;
	if (fd >= 0)
		close(fd);
	return report("OPEN", fd >= 0, err);
}

PROBE_CMD(cmd_truncate)
{
	int rc = truncate(argv[2], 0);
	return attempt("TRUNCATE", rc == 0);
}

/* memfd-exec SRC [ARGS]: fexecve a copy */
PROBE_CMD(cmd_memfd_exec)
{
	int mfd = (int)syscall(SYS_memfd_create, "payload", 0);
	int src = open(argv[2], O_RDONLY);
	if (mfd < 0 || src < 0 || copy_fd(src, mfd) < 0)
		return report("SETUP", 0, errno);
	fexecve(mfd, argv + 2, environ);
	return report("EXEC", 0, errno);
}

PROBE_CMD(cmd_tmpfile_exec)
{
	/* tmpfile-exec DIR SRC [ARGS]: an O_TMPFILE copy of SRC in DIR, never linked, run
	 * through a read-only reopen of it (/proc/self/fd: no writer left at exec) */
	int tfd = open(argv[2], O_TMPFILE | O_RDWR, 0755);
	int src = open(argv[3], O_RDONLY);
	if (tfd < 0 || src < 0 || copy_fd(src, tfd) < 0)
		return report("SETUP", 0, errno);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", tfd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	close(tfd);
	if (ro < 0)
		return report("SETUP", 0, errno);
	fexecve(ro, argv + 3, environ);
	return report("EXEC", 0, errno);
}

PROBE_CMD(cmd_unlinked_exec)
{
	/* unlinked-exec PATH SRC [ARGS]: a copy of SRC at PATH, opened, unlinked, then run
	 * through the fd */
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0755);
	int src = open(argv[3], O_RDONLY);
	if (out < 0 || src < 0 || copy_fd(src, out) < 0)
		return report("SETUP", 0, errno);
	close(out);
	int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || unlink(argv[2]) != 0)
		return report("SETUP", 0, errno);
	fexecve(fd, argv + 3, environ);
	return report("EXEC", 0, errno);
}

/* execveat(fd, "", AT_EMPTY_PATH) */
PROBE_CMD(cmd_execveat_empty)
{
	int fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return report("SETUP", 0, errno);
	syscall(SYS_execveat, fd, "", argv + 2, environ, AT_EMPTY_PATH);
	return report("EXEC", 0, errno);
}

PROBE_CMD(cmd_mmap_exec)
{
	int fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return report("SETUP", 0, errno);
	int direct = !strcmp(verb, "mmap-exec");
	void *p = mmap(NULL, 4096, direct ? PROT_READ | PROT_EXEC : PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return report("MMAP", 0, errno);
	if (direct)
		return report("MMAP", 1, 0);
	int rc = mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return attempt("MPROTECT", rc == 0);
}

PROBE_CMD(cmd_write_file)
{
	/* write-file SRC DST [CMD ARGS...]: a linker's write: DST created (or truncated) with mode
	 * 0755 and SRC's bytes written into it; then, with CMD, CMD runs with that fd as its fd 3
	 * (inherited: a child that writes through it is another writer). Prints WRITE_OK. */
	int in = open(argv[2], O_RDONLY);
	if (in < 0)
		return report("SETUP", 0, errno);
	int out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (out < 0)
		return report("WRITE", 0, errno);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			return report("WRITE", 0, errno);
	close(in);
	if (argc > 4) {
		if (dup2(out, 3) < 0)
			return report("SETUP", 0, errno);
		pid_t pid = fork();
		if (pid == 0) {
			execv(argv[4], argv + 4);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
	}
	close(out);
	return report("WRITE", 1, 0);
}

PROBE_CMD(cmd_hold_write)
{
	/* hold-write PATH TRIGGER DONE: open PATH for writing now; once TRIGGER exists,
	 * append a byte through that fd, close it and create DONE. */
	int fd = open(argv[2], O_WRONLY | O_APPEND);
	if (fd < 0)
		return report("OPEN", 0, errno);
	printf("HOLD_OPEN\n");
	fflush(stdout);
	struct stat st;
	for (int i = 0; i < 600 && stat(argv[3], &st) != 0; i++)
		usleep(50000);
	int ok = write(fd, "\0", 1) == 1;
	int err = errno;
	close(fd);
	int d = open(argv[4], O_WRONLY | O_CREAT, 0644);
	if (d >= 0)
		close(d);
	return report("WRITE", ok, err);
}

PROBE_CMD(cmd_mmap_write)
{
	/* mmap-write PATH TRIGGER DONE: map PATH shared and writable and dirty its first
	 * page now (the fd is closed, the mapping stays); once TRIGGER exists, change a
	 * byte through the mapping (no page fault, so no ctime update), unmap, create DONE. */
	int fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return report("OPEN", 0, errno);
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return report("MMAP", 0, errno);
	p[200] = p[200];
	printf("HOLD_OPEN\n");
	fflush(stdout);
	struct stat st;
	for (int i = 0; i < 600 && stat(argv[3], &st) != 0; i++)
		usleep(50000);
	p[201] ^= 0x5a;
	munmap((void *)p, 4096);
	int d = open(argv[4], O_WRONLY | O_CREAT, 0644);
	if (d >= 0)
		close(d);
	return report("MMAP_WRITE", 1, 0);
}

PROBE_CMD(cmd_clone_into_cgroup)
{
	int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0)
		return report("SETUP", 0, errno);
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_INTO_CGROUP;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)cg;
	long pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0)
		_exit(0);
	int err = errno;
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return report("CLONE", pid > 0, err);
}

/* a bogus module file: EPERM vs ENOEXEC */
PROBE_CMD(cmd_finit_module)
{
	int fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return report("SETUP", 0, errno);
	long rc = syscall(SYS_finit_module, fd, "", 0);
	return attempt("MODULE", rc == 0);
}

PROBE_CMD(cmd_init_module)
{
	static char blob[4096] = "not an ELF module";
	long rc = syscall(SYS_init_module, blob, sizeof blob, "");
	return attempt("MODULE", rc == 0);
}

PROBE_CMD(cmd_bpf)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	long rc = syscall(SYS_bpf, BPF_MAP_GET_NEXT_ID, &attr, sizeof attr);
	return report("BPF", rc == 0 || errno == ENOENT, errno);
}

PROBE_CMD(cmd_ptrace)
{
	pid_t pid = (pid_t)atoi(argv[2]);
	long rc = ptrace(PTRACE_ATTACH, pid, 0, 0);
	int err = errno;
	if (rc == 0) {
		waitpid(pid, NULL, 0);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	return report("PTRACE", rc == 0, err);
}

PROBE_CMD(cmd_clock)
{
	printf("%llu\n", (unsigned long long)now_ns());
	return 0;
}

PROBE_CMD(cmd_forge_entry)
{
	/* forge-entry PIN_DIR PATH: an attacker with bpf() outside the scope writes a
	 * ticket entry for PATH (or deletes one); the daemon must undo it on reconcile. */
	struct eg_inode_key key;
	struct stat st;
	int map = ticket_map_key(argv[2], argv[3], &key);
	if (map < 0 || stat(argv[3], &st) != 0)
		return report("SETUP", 0, errno);
	struct eg_ticket val;
	memset(&val, 0, sizeof val);
	memset(val.id, 0xee, sizeof val.id);
	val.not_after_ns = ~0ull;
	val.ctime_sec = st.st_ctim.tv_sec;
	val.ctime_nsec = (uint32_t)st.st_ctim.tv_nsec;
	long rc = !strcmp(verb, "forge-entry") ? map_elem(BPF_MAP_UPDATE_ELEM, map, &key, &val)
					       : map_elem(BPF_MAP_DELETE_ELEM, map, &key, NULL);
	return attempt("MAP", rc == 0);
}

PROBE_CMD(cmd_shift_generation)
{
	/* shift-generation PIN_DIR PATH DELTA: adds DELTA to the i_generation recorded in
	 * PATH's ticket entry: the entry then describes another file with the same inode
	 * number and ctime (inode reuse with a forged clock), which must not run. */
	struct eg_inode_key key;
	int map = ticket_map_key(argv[2], argv[3], &key);
	if (map < 0)
		return report("SETUP", 0, errno);
	struct eg_ticket val;
	if (map_elem(BPF_MAP_LOOKUP_ELEM, map, &key, &val) != 0)
		return report("MAP", 0, errno);
	val.generation += (uint32_t)atoi(argv[4]);
	return attempt("MAP", map_elem(BPF_MAP_UPDATE_ELEM, map, &key, &val) == 0);
}

/* --- launchers (bpf/lib/scope.h is_launcher; launcher_suite.sh): VERB ARGS run in
 * this process or a child of it, without an exec --- */
PROBE_CMD(cmd_join)
{
	/* join CGROUP_DIR VERB ARGS: moves itself into CGROUP_DIR, as a launcher moves the
	 * child it set up, then VERB */
	char p[512];
	snprintf(p, sizeof p, "%s/cgroup.procs", argv[2]);
	int fd = open(p, O_WRONLY);
	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		return report("JOIN", 0, errno);
	close(fd);
	return dispatch(argc - 2, argv + 2);
}

PROBE_CMD(cmd_fork)
{
	/* fork VERB ARGS: VERB in a child; orphan VERB ARGS: in a child once this process
	 * has exited (the child reparented to init) */
	fflush(stdout);
	pid_t parent = getpid(), c = fork();
	if (c < 0)
		return report("FORK", 0, errno);
	if (c == 0) {
		while (!strcmp(verb, "orphan") && getppid() == parent)
			usleep(1000);
		int r = dispatch(argc - 1, argv + 1);
		fflush(stdout);
		_exit(r);
	}
	if (!strcmp(verb, "orphan"))
		return 0;
	int st = 0;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* wait-file PATH VERB ARGS: VERB once PATH exists */
PROBE_CMD(cmd_wait_file)
{
	while (access(argv[2], F_OK) != 0)
		usleep(20000);
	return dispatch(argc - 2, argv + 2);
}

/* --- the scope's privilege posture and tamper attempts (tamper_suite.sh) --- */
/* a child asks to be traced by this process */
PROBE_CMD(cmd_traceme)
{
	pid_t c = fork();
	if (c == 0) {
		long rc = ptrace(PTRACE_TRACEME, 0, 0, 0);
		_exit(rc == 0 ? 0 : errno);
	}
	int st = 0;
	waitpid(c, &st, 0);
	int e = WIFEXITED(st) ? WEXITSTATUS(st) : EINVAL;
	return report("TRACEME", e == 0, e);
}

PROBE_CMD(cmd_mount_tmpfs)
{
	return attempt("MOUNT", mount("none", argv[2], "tmpfs", 0, NULL) == 0);
}

PROBE_CMD(cmd_bind_mount)
{
	return attempt("MOUNT", mount(argv[2], argv[3], NULL, MS_BIND, NULL) == 0);
}

PROBE_CMD(cmd_umount)
{
	return attempt("UMOUNT", umount2(argv[2], MNT_DETACH) == 0);
}

PROBE_CMD(cmd_kill)
{
	return attempt("KILL", kill(atoi(argv[2]), atoi(argv[3])) == 0);
}

PROBE_CMD(cmd_setnice)
{
	return attempt("SETNICE", setpriority(PRIO_PROCESS, (id_t)atoi(argv[2]), atoi(argv[3])) == 0);
}

/* prlimit-nofile PID N */
PROBE_CMD(cmd_prlimit_nofile)
{
	struct rlimit rl = {(rlim_t)atoi(argv[3]), (rlim_t)atoi(argv[3])};
	return attempt("PRLIMIT", prlimit(atoi(argv[2]), RLIMIT_NOFILE, &rl, NULL) == 0);
}

PROBE_CMD(cmd_unshare_user)
{
	return attempt("UNSHARE", unshare(CLONE_NEWUSER) == 0);
}

/* a node of loop7's block device */
PROBE_CMD(cmd_mknod_blk)
{
	return attempt("MKNOD", mknod(argv[2], S_IFBLK | 0600, makedev(7, 7)) == 0);
}

PROBE_CMD(cmd_rename)
{
	return attempt("RENAME", rename(argv[2], argv[3]) == 0);
}

PROBE_CMD(cmd_unlink)
{
	return attempt("UNLINK", unlink(argv[2]) == 0);
}

PROBE_CMD(cmd_rmdir)
{
	return attempt("RMDIR", rmdir(argv[2]) == 0);
}

PROBE_CMD(cmd_link)
{
	return attempt("LINK", link(argv[2], argv[3]) == 0);
}

PROBE_CMD(cmd_symlink)
{
	return attempt("SYMLINK", symlink(argv[2], argv[3]) == 0);
}

PROBE_CMD(cmd_mkdir)
{
	return attempt("MKDIR", mkdir(argv[2], 0700) == 0);
}

PROBE_CMD(cmd_open_read)
{
	return attempt("OPEN", open(argv[2], O_RDONLY) >= 0);
}

/* open(O_RDONLY|O_TRUNC): file_truncate since 6.2 */
PROBE_CMD(cmd_open_trunc)
{
	int fd = open(argv[2], O_RDONLY | O_TRUNC);
	return attempt("OPEN", fd >= 0);
}

PROBE_CMD(cmd_chmod)
{
	return attempt("CHMOD", chmod(argv[2], (mode_t)strtoul(argv[3], NULL, 8)) == 0);
}

/* a key type without an upcall: the kernel runs /sbin/request-key */
PROBE_CMD(cmd_request_key)
{
	long id = syscall(SYS_request_key, "user", "execgate:probe", "callout", -2 /* process keyring */);
	return attempt("REQUEST_KEY", id >= 0);
}

/* setown PID: F_SETOWN of a pipe to PID */
PROBE_CMD(cmd_setown)
{
	int p[2];
	if (pipe(p) != 0)
		return report("SETUP", 0, errno);
	return attempt("SETOWN", fcntl(p[0], F_SETOWN, atoi(argv[2])) == 0);
}

/* sigio PID SIG: SIG to PID through a pipe's SIGIO */
PROBE_CMD(cmd_sigio)
{
	int p[2];
	if (pipe(p) != 0 || fcntl(p[0], F_SETOWN, atoi(argv[2])) != 0 || fcntl(p[0], F_SETSIG, atoi(argv[3])) != 0 ||
	    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) != 0)
		return report("SETUP", 0, errno);
	return attempt("SIGIO", write(p[1], "x", 1) == 1);
}

/* execveat(AT_EXECVE_CHECK): may it run? */
PROBE_CMD(cmd_exec_check)
{
	char *args[] = {argv[2], NULL}, *env[] = {NULL};
	return attempt("EXEC_CHECK", syscall(SYS_execveat, AT_FDCWD, argv[2], args, env, 0x10000) == 0);
}

/* socket FAMILY: a family not loaded asks for its module */
PROBE_CMD(cmd_socket)
{
	return attempt("SOCKET", socket(atoi(argv[2]), SOCK_DGRAM, 0) >= 0);
}

/* has-entry PIN_DIR KDEV INO: a kernel ticket entry? */
PROBE_CMD(cmd_has_entry)
{
	char pin[512];
	snprintf(pin, sizeof pin, "%s/eg_tickets", argv[2]);
	int map = obj_get(pin);
	if (map < 0)
		return report("SETUP", 0, errno);
	struct eg_inode_key key = {strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10)};
	struct eg_ticket val;
	return attempt("ENTRY", map_elem(BPF_MAP_LOOKUP_ELEM, map, &key, &val) == 0);
}

PROBE_CMD(cmd_ioctl)
{
	/* ioctl FILE CMD: CMD (hex) on a read-only fd of FILE with a zeroed argument */
	static unsigned char arg[512];
	int fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return report("SETUP", 0, errno);
	int rc = ioctl(fd, (unsigned long)strtoul(argv[3], NULL, 16), arg);
	return attempt("IOCTL", rc == 0);
}

PROBE_CMD(cmd_uring_cmd)
{
	return uring_cmd_read(argv[2]);
}

/* iopl: raise the I/O privilege level to 3 */
PROBE_CMD(cmd_iopl)
{
	long rc = syscall(SYS_iopl, 3);
	return attempt("IOPL", rc == 0);
}

PROBE_CMD(cmd_settime)
{
	/* settime: sets the realtime clock to what it reads (a no-op if it is allowed) */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int rc = clock_settime(CLOCK_REALTIME, &ts);
	return attempt("SETTIME", rc == 0);
}

PROBE_CMD(cmd_setuid_exec)
{
	uid_t uid = (uid_t)atoi(argv[2]);
	if (setgid(uid) != 0 || setuid(uid) != 0)
		return report("SETUID", 0, errno);
	execv(argv[3], argv + 3);
	return report("EXEC", 0, errno) ? 126 : 0;
}

/* sock-send SOCK LINE: one request */
PROBE_CMD(cmd_sock_send)
{
	int fd = sock_connect(argv[2]);
	if (fd < 0)
		return report("CONNECT", 0, errno);
	dprintf(fd, "%s\n", argv[3]);
	print_reply(fd);
	return 0;
}

PROBE_CMD(cmd_submit_file)
{
	/* submit-file SOCK FILE: one submit request without the CLI's start-up cost;
	 * prints the reply and the round trip in ns (the daemon answers after the maps
	 * were updated). */
	int in = open(argv[3], O_RDONLY);
	static char doc[70000], req[150000];
	ssize_t n = in < 0 ? -1 : read(in, doc, sizeof doc - 1);
	if (n <= 0)
		return report("SETUP", 0, errno);
	size_t o = (size_t)snprintf(req, sizeof req, "{\"op\":\"submit\",\"document\":\"");
	for (ssize_t i = 0; i < n; i++) {
		if (doc[i] == '"' || doc[i] == '\\')
			req[o++] = '\\';
		if (doc[i] == '\n')
			continue;
		req[o++] = doc[i];
	}
	o += (size_t)snprintf(req + o, sizeof req - o, "\"}\n");
	uint64_t t0 = now_ns();
	int fd = sock_connect(argv[2]);
	if (fd < 0 || write(fd, req, o) != (ssize_t)o)
		return report("CONNECT", 0, errno);
	print_reply(fd);
	printf("ROUNDTRIP_NS %llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

PROBE_CMD(cmd_audit_delay)
{
	/* audit-delay LOG PATH: for exec records of PATH, the delay between the kernel's
	 * decision (kernel_time_ns) and the record's `time`; prints max and > 100 ms. */
	FILE *f = fopen(argv[2], "r");
	if (!f)
		return report("SETUP", 0, errno);
	static char line[8192];
	long n = 0, over = 0;
	long long max = 0, max_seq = -1;
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, argv[3]) || !strstr(line, "\"event\":\"exec\""))
			continue;
		char *k = strstr(line, "\"kernel_time_ns\":"), *t = strstr(line, "\"time\":\"");
		if (!k || !t)
			continue;
		long long kns = atoll(k + 17);
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		char *rest = strptime(t + 8, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!rest)
			continue;
		long long frac = 0;
		int digits = 0;
		if (*rest == '.')
			for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
				frac = frac * 10 + (*rest - '0');
		while (digits++ < 9)
			frac *= 10;
		long long rns = (long long)timegm(&tm) * 1000000000ll + frac;
		long long d = rns - kns;
		if (d > max) {
			char *q = strstr(line, "\"seq\":");
			max = d;
			max_seq = q ? atoll(q + 6) : -1;
		}
		if (d > 100000000ll)
			over++;
		n++;
	}
	printf("AUDIT_DELAY records=%ld max_ms=%lld (seq %lld) over_100ms=%ld\n", n, max / 1000000, max_seq, over);
	return n > 0 ? 0 : 1;
}

/* sock-big SOCK BYTES: no newline, ever */
PROBE_CMD(cmd_sock_big)
{
	int fd = sock_connect(argv[2]);
	if (fd < 0)
		return report("CONNECT", 0, errno);
	long total = atol(argv[3]), sent = 0;
	char chunk[65536];
	memset(chunk, 'x', sizeof chunk);
	signal(SIGPIPE, SIG_IGN);
	while (sent < total) {
		ssize_t n = send(fd, chunk, (size_t)(total - sent < (long)sizeof chunk ? total - sent : (long)sizeof chunk), 0);
		if (n <= 0)
			break;
		sent += n;
	}
	printf("SENT %ld\n", sent);
	print_reply(fd);
	return 0;
}

/* sock-idle SOCK N SECONDS */
PROBE_CMD(cmd_sock_idle)
{
	int n = atoi(argv[3]), open_ok = 0;
	for (int i = 0; i < n; i++)
		if (sock_connect(argv[2]) >= 0)
			open_ok++;
	printf("IDLE_OPEN %d\n", open_ok);
	fflush(stdout);
	sleep((unsigned)atoi(argv[4]));
	return 0;
}

/* exec-storm N PATH ARGS: N execs */
PROBE_CMD(cmd_exec_storm)
{
	int ok = 0, denied = 0;
	uint64_t t0 = now_ns();
	exec_n(atoi(argv[2]), argv + 3, &ok, &denied);
	printf("STORM ok=%d denied=%d ns=%llu\n", ok, denied, (unsigned long long)(now_ns() - t0));
	return 0;
}

PROBE_CMD(cmd_exec_cost)
{
	/* exec-cost PINNED_LINK CGROUP BATCHES SIZE PATH ARGS: a child joins CGROUP (a
	 * path under /sys/fs/cgroup) and execs PATH in BATCHES batches of SIZE; this
	 * process stays outside (bpf() is refused in the scope) and reads the program's
	 * bpf_stats around each batch. Prints the median and the mean over batches of
	 * ns per run, so a host-side preemption spoils one batch, not the figure. */
	int batches = atoi(argv[4]), size = atoi(argv[5]);
	int prog = link_prog_fd(argv[2]);
	if (prog < 0)
		return report("SETUP", 0, errno);
	if (batches < 1 || batches > 10000 || size < 1)
		return report("SETUP", 0, EINVAL);
	int go[2], done[2];
	if (pipe(go) != 0 || pipe(done) != 0)
		return report("SETUP", 0, errno);
	pid_t child = fork();
	if (child < 0)
		return report("SETUP", 0, errno);
	if (child == 0) {
		char procs[512];
		snprintf(procs, sizeof procs, "/sys/fs/cgroup%s/cgroup.procs", argv[3]);
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(3);
		close(fd);
		char c = 0;
		for (int b = 0; b < batches; b++) {
			int ok = 0, denied = 0;
			if (read(go[0], &c, 1) != 1)
				_exit(4);
			exec_n(size, argv + 6, &ok, &denied);
			c = ok == size ? 'y' : 'n';
			if (write(done[1], &c, 1) != 1)
				_exit(4);
		}
		_exit(0);
	}
	uint64_t *per = calloc((size_t)batches, sizeof *per);
	uint64_t runs0, ns0, runs1, ns1, runs_all = 0, ns_all = 0, wall = 0;
	int failed = 0, stray = 0;
	for (int b = 0; b < batches && per; b++) {
		char c = 'g';
		if (prog_stats(prog, &runs0, &ns0, NULL) != 0)
			return report("PROGINFO", 0, errno);
		uint64_t t0 = now_ns();
		if (write(go[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) {
			failed = 1;
			break;
		}
		wall += now_ns() - t0;
		if (prog_stats(prog, &runs1, &ns1, NULL) != 0)
			return report("PROGINFO", 0, errno);
		if (c != 'y')
			failed = 1;
		if (runs1 - runs0 != (uint64_t)size)
			stray++; /* some other exec in the scope ran the program meanwhile */
		per[b] = (ns1 - ns0) / (runs1 - runs0 ? runs1 - runs0 : 1);
		runs_all += runs1 - runs0;
		ns_all += ns1 - ns0;
	}
	int st = 0;
	waitpid(child, &st, 0);
	if (!per || failed || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("EXECCOST_FAILED child_status=%d\n", st);
		return 1;
	}
	qsort(per, (size_t)batches, sizeof *per, cmp_u64);
	uint64_t med = batches % 2 ? per[batches / 2] : (per[batches / 2 - 1] + per[batches / 2]) / 2;
	printf("EXECCOST batches=%d size=%d runs=%llu stray_batches=%d median_ns=%llu mean_ns=%llu "
	       "min_ns=%llu max_ns=%llu wall_ns=%llu\n",
	       batches, size, (unsigned long long)runs_all, stray, (unsigned long long)med,
	       (unsigned long long)(ns_all / runs_all), (unsigned long long)per[0],
	       (unsigned long long)per[batches - 1], (unsigned long long)wall);
	free(per);
	return 0;
}

PROBE_CMD(cmd_create_loop)
{
	/* create-loop N PATH: N attempts to create PATH (removed again when created) */
	int n = atoi(argv[2]), created = 0, refused = 0;
	for (int i = 0; i < n; i++) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			created++;
			close(fd);
			unlink(argv[3]);
		} else if (errno == EPERM) {
			refused++;
		}
	}
	printf("CREATE created=%d refused=%d\n", created, refused);
	return 0;
}

PROBE_CMD(cmd_link_ids)
{
	/* link-ids PIN_DIR: "NAME LINK_ID PROG_ID" for every pinned link_* (sorted by name) */
	struct dirent **names;
	int n = scandir(argv[2], &names, NULL, alphasort);
	if (n < 0)
		return report("SETUP", 0, errno);
	for (int i = 0; i < n; i++) {
		char path[4096];
		if (!strncmp(names[i]->d_name, "link_", 5)) {
			snprintf(path, sizeof path, "%s/%s", argv[2], names[i]->d_name);
			int fd = obj_get(path);
			struct bpf_link_info li;
			if (fd >= 0 && obj_info(fd, &li, sizeof li) == 0)
				printf("%s %u %u\n", names[i]->d_name, li.id, li.prog_id);
			else
				printf("%s unreadable\n", names[i]->d_name);
			if (fd >= 0)
				close(fd);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* prog-stats PINNED_LINK: bpf_stats */
PROBE_CMD(cmd_prog_stats)
{
	uint64_t runs, ns;
	uint32_t jited = 0;
	int prog = link_prog_fd(argv[2]);
	if (prog < 0 || prog_stats(prog, &runs, &ns, &jited) != 0)
		return report("PROGINFO", 0, errno);
	printf("PROG run_cnt=%llu run_time_ns=%llu jited_bytes=%u\n", (unsigned long long)runs,
	       (unsigned long long)ns, jited);
	return 0;
}

PROBE_CMD(cmd_map_fill)
{
	/* map-fill|map-drain PINNED_MAP N: adds (removes) N entries whose keys name no
	 * file (device 0xeeeeeeee, inode 1..N) and whose values are zero, to measure the
	 * gate's lookups in a full map (tests/bench/vm_exec_cost.sh MAPS=...) */
	int map = obj_get(argv[2]);
	struct bpf_map_info mi;
	if (map < 0 || obj_info(map, &mi, sizeof mi) != 0)
		return report("MAPFILL", 0, errno);
	long n = atol(argv[3]);
	if (mi.key_size < 16 || mi.key_size > 64 || mi.value_size > 4096 || n < 0)
		return report("MAPFILL", 0, EINVAL);
	unsigned char key[64], *value = calloc(1, mi.value_size ? mi.value_size : 1);
	const int fill = !strcmp(verb, "map-fill");
	long done = 0;
	for (long i = 1; i <= n && value; i++) {
		memset(key, 0, sizeof key);
		uint64_t dev = 0xeeeeeeeeULL, ino = (uint64_t)i;
		memcpy(key, &dev, 8);
		memcpy(key + 8, &ino, 8);
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_fd = (uint32_t)map;
		a.key = (uint64_t)(uintptr_t)key;
		if (fill) {
			a.value = (uint64_t)(uintptr_t)value;
			a.flags = BPF_ANY;
		}
		if (sys_bpf(fill ? BPF_MAP_UPDATE_ELEM : BPF_MAP_DELETE_ELEM, &a) == 0)
			done++;
		else if (fill)
			break;
	}
	free(value);
	printf("MAPFILL %s n=%ld of %ld\n", fill ? "filled" : "drained", done, n);
	return done == n ? 0 : 1;
}

PROBE_CMD(cmd_uring_sqpoll_fork)
{
	/* uring-sqpoll-fork PATH CMD ARGS: makes an SQPOLL ring (fd 7) and keeps PATH in its
	 * memory, then runs CMD in a child with "@PATH@" in ARGS replaced by PATH's address
	 * here; keeps the ring's thread alive until CMD ends */
	static char path[256];
	snprintf(path, sizeof path, "%s", argv[2]);
	int ring = sqpoll_ring();
	if (ring < 0 || dup2(ring, 7) != 7)
		return report("SETUP", 0, errno);
	char at[32];
	snprintf(at, sizeof at, "%lx", (unsigned long)(uintptr_t)path);
	for (int i = 3; i < argc; i++)
		if (!strcmp(argv[i], "@PATH@"))
			argv[i] = at;
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

PROBE_CMD(cmd_uring_open)
{
	return uring_open(atoi(argv[2]), (__u64)strtoull(argv[3], NULL, 16));
}

/* uring-open-self PATH: through its own SQPOLL ring */
PROBE_CMD(cmd_uring_open_self)
{
	int ring = sqpoll_ring();
	if (ring < 0)
		return report("SETUP", 0, errno);
	return uring_open(ring, (__u64)(uintptr_t)argv[2]);
}

PROBE_CMD(cmd_fd_op)
{
	return fd_op(argv[2], atoi(argv[3]));
}

PROBE_CMD(cmd_adjtime)
{
	/* adjtime: clock_adjtime(ADJ_SETOFFSET) by zero (a step that moves nothing if allowed) */
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	long rc = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
	return attempt("ADJTIME", rc >= 0);
}

/* fspick PATH: the filesystem's context, for a remount */
PROBE_CMD(cmd_fspick)
{
	long fd = syscall(SYS_fspick, AT_FDCWD, argv[2], 0);
	return attempt("FSPICK", fd >= 0);
}

/* fsopen FSTYPE: a new filesystem context */
PROBE_CMD(cmd_fsopen)
{
	long fd = syscall(SYS_fsopen, argv[2], 0);
	return attempt("FSOPEN", fd >= 0);
}

/* mount-setattr PATH ro|rw */
PROBE_CMD(cmd_mount_setattr)
{
	struct {
		uint64_t attr_set, attr_clr, propagation, userns_fd;
	} attr = {0, 0, 0, 0};
	if (!strcmp(argv[3], "ro"))
		attr.attr_set = 0x1; /* MOUNT_ATTR_RDONLY */
	else
		attr.attr_clr = 0x1;
	long rc = syscall(SYS_mount_setattr, AT_FDCWD, argv[2], 0, &attr, sizeof attr);
	return attempt("SETATTR", rc == 0);
}

/* --- the decision table (tests/e2e/decision_cases.txt, exec_suite.sh case_decision_table):
 * a row's entries written into the real maps, as decision_native_test.cpp writes them into
 * the native decision's tables --- */

/* A byte repeated over a ticket id: "09" gives 09 09 ... 09. */
static void fill_id(__u8 *id, const char *hex)
{
	memset(id, (int)strtoul(hex, NULL, 16), EG_ID_LEN);
}

/* NOW (CLOCK_BOOTTIME ns) moved by SECONDS, at least 1 ns: a VM up for less than an hour
 * has no boot time an hour ago. */
static __u64 boot_offset(__u64 now, long long seconds)
{
	const long long ns = seconds * 1000000000ll;
	if (ns < 0 && (__u64)-ns >= now)
		return 1;
	return now + (__u64)ns;
}

/* One "ticket[:ATTR=V...]" token as the entry of a file with ctime (sec, nsec) and
 * generation GEN, times on CLOCK_BOOTTIME from NOW (ns). */
static int ticket_of_token(char *tok, __s64 sec, __u32 nsec, __u32 gen, __u64 now, struct eg_ticket *t)
{
	memset(t, 0, sizeof *t);
	fill_id(t->id, "01");
	t->not_before_ns = boot_offset(now, -3600);
	t->not_after_ns = boot_offset(now, 3600);
	t->ctime_sec = sec;
	t->ctime_nsec = nsec;
	t->generation = gen;
	char *save = NULL;
	strtok_r(tok, ":", &save); /* "ticket" */
	for (char *a = strtok_r(NULL, ":", &save); a; a = strtok_r(NULL, ":", &save)) {
		char *v = strchr(a, '=');
		if (v)
			*v++ = 0;
		if (!strcmp(a, "pending")) {
			t->flags |= EG_TF_PENDING;
		} else if (!strcmp(a, "fleet")) {
			t->flags |= EG_TF_FLEET;
		} else if (!v) {
			return -1;
		} else if (!strcmp(a, "nbf")) {
			t->not_before_ns = boot_offset(now, strtoll(v, NULL, 10));
		} else if (!strcmp(a, "naf")) {
			t->not_after_ns = boot_offset(now, strtoll(v, NULL, 10));
		} else if (!strcmp(a, "id")) {
			fill_id(t->id, v);
		} else if (!strcmp(a, "parent")) {
			fill_id(t->parent, v);
			t->flags |= EG_TF_HAS_PARENT;
		} else if (!strcmp(a, "uses")) {
			t->uses_left = strtoll(v, NULL, 10);
			t->flags |= EG_TF_LIMITED_USES;
		} else if (!strcmp(a, "uids")) {
			for (char *u = strtok(v, "/"); u && t->n_uids < EG_MAX_UIDS; u = strtok(NULL, "/"))
				t->uids[t->n_uids++] = (__u32)strtoul(u, NULL, 10);
		} else if (!strcmp(a, "ctime")) {
			t->ctime_nsec = (__u32)((__s64)nsec + strtoll(v, NULL, 10));
		} else if (!strcmp(a, "gen")) {
			t->generation = (__u32)((__s64)gen + strtoll(v, NULL, 10));
		} else {
			return -1;
		}
	}
	return 0;
}

static int pinned_map(const char *pin_dir, const char *name)
{
	char pin[512];
	snprintf(pin, sizeof pin, "%s/%s", pin_dir, name);
	return obj_get(pin);
}

/* The eg_state page's EG_C_FLEET_SILENT word set to `silent`, through the map's mapping
 * as the daemon writes it (a map update would race with the programs' counter adds). */
static int set_fleet_silent(const char *pin_dir, __u64 silent)
{
	int fd = pinned_map(pin_dir, "eg_state");
	if (fd < 0)
		return -1;
	const size_t stride = (sizeof(union eg_state) + 7) & ~(size_t)7;
	const size_t len = (EG_STATE__COUNT * stride + 4095) & ~(size_t)4095;
	void *page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (page == MAP_FAILED)
		return -1;
	__u64 *word = (__u64 *)((char *)page + EG_STATE_COUNTERS * stride) + EG_C_FLEET_SILENT;
	__atomic_store_n(word, silent, __ATOMIC_RELEASE);
	munmap(page, len);
	return 0;
}

PROBE_CMD(cmd_decision_entries)
{
	/* decision-entries PIN_DIR FILE GEN TOKEN...: FILE's entries in eg_tickets,
	 * eg_baseline and eg_loaders made what the row's TOKENs say, every other one of
	 * FILE's removed: "-" (none), "ticket[:ATTR=V...]" (nbf, naf: seconds from now on
	 * CLOCK_BOOTTIME; id, parent: a byte repeated, in hex; uids=A/B; uses=N; pending;
	 * ctime, gen: added to the file's; fleet), "baseline[:ctime=D]", "loader",
	 * "fleet_silent" (the state page's word set; every call without it clears it). GEN: the file's
	 * i_generation (read from the entry the daemon sealed: entry-generation). Rows that
	 * need the policy or the inode changed are the native test's alone. */
	struct stat st;
	int tickets = pinned_map(argv[2], "eg_tickets"), baseline = pinned_map(argv[2], "eg_baseline"),
	    loaders = pinned_map(argv[2], "eg_loaders");
	if (tickets < 0 || baseline < 0 || loaders < 0 || stat(argv[3], &st) != 0)
		return report("SETUP", 0, errno);
	struct eg_inode_key key = {((__u64)major(st.st_dev) << 20) | minor(st.st_dev), st.st_ino};
	map_elem(BPF_MAP_DELETE_ELEM, tickets, &key, NULL);
	map_elem(BPF_MAP_DELETE_ELEM, baseline, &key, NULL);
	map_elem(BPF_MAP_DELETE_ELEM, loaders, &key, NULL);
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	const __u64 now_boot = (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec;
	const __u32 gen = (__u32)strtoul(argv[4], NULL, 10);
	__u64 silent = 0;
	for (int i = 5; i < argc; i++)
		silent |= !strcmp(argv[i], "fleet_silent");
	if (set_fleet_silent(argv[2], silent) != 0)
		return report("STATE", 0, errno);
	for (int i = 5; i < argc; i++) {
		char tok[256];
		snprintf(tok, sizeof tok, "%s", argv[i]);
		long rc = 0;
		if (!strcmp(tok, "-") || !strcmp(tok, "fleet_silent")) {
			continue;
		} else if (!strncmp(tok, "ticket", 6)) {
			struct eg_ticket t;
			if (ticket_of_token(tok, st.st_ctim.tv_sec, (__u32)st.st_ctim.tv_nsec, gen, now_boot, &t) != 0)
				return report("TOKEN", 0, EINVAL);
			rc = map_elem(BPF_MAP_UPDATE_ELEM, tickets, &key, &t);
		} else if (!strncmp(tok, "baseline", 8)) {
			struct eg_baseline b = {st.st_ctim.tv_sec, (__u32)st.st_ctim.tv_nsec, 0};
			const char *d = strstr(tok, ":ctime=");
			if (d)
				b.ctime_nsec = (__u32)((__s64)b.ctime_nsec + strtoll(d + 7, NULL, 10));
			rc = map_elem(BPF_MAP_UPDATE_ELEM, baseline, &key, &b);
		} else if (!strcmp(tok, "loader")) {
			__u8 one = 1;
			rc = map_elem(BPF_MAP_UPDATE_ELEM, loaders, &key, &one);
		} else {
			return report("TOKEN", 0, EINVAL);
		}
		if (rc != 0)
			return report("MAP", 0, errno);
	}
	return report("ENTRIES", 1, 0);
}

PROBE_CMD(cmd_entry_generation)
{
	/* entry-generation PIN_DIR FILE: the i_generation in FILE's ticket entry (the kernel
	 * recorded it at the daemon's sealing open) */
	struct eg_inode_key key;
	struct eg_ticket val;
	int map = ticket_map_key(argv[2], argv[3], &key);
	if (map < 0 || map_elem(BPF_MAP_LOOKUP_ELEM, map, &key, &val) != 0)
		return report("ENTRY", 0, errno);
	printf("%u\n", val.generation);
	return 0;
}

/* The verbs: name, the least and greatest argc (0: no limit), counting "eg-probe VERB". */
static const struct probe_command {
	const char *verb;
	int min_argc, max_argc;
	int (*run)(const char *verb, int argc, char **argv);
} commands[] = {
	{"exec", 3, 0, cmd_exec},
	{"exec-then", 4, 0, cmd_exec_then},
	{"entry-key", 3, 3, cmd_entry_key},
	{"open-write", 3, 3, cmd_open_write},
	{"truncate", 3, 3, cmd_truncate},
	{"memfd-exec", 3, 0, cmd_memfd_exec},
	{"tmpfile-exec", 4, 0, cmd_tmpfile_exec},
	{"unlinked-exec", 4, 0, cmd_unlinked_exec},
	{"execveat-empty", 3, 0, cmd_execveat_empty},
	{"mmap-exec", 3, 3, cmd_mmap_exec},
	{"mprotect-exec", 3, 3, cmd_mmap_exec},
	{"hold-write", 5, 5, cmd_hold_write},
	{"write-file", 4, 0, cmd_write_file},
	{"mmap-write", 5, 5, cmd_mmap_write},
	{"clone-into-cgroup", 3, 3, cmd_clone_into_cgroup},
	{"finit-module", 3, 3, cmd_finit_module},
	{"init-module", 2, 0, cmd_init_module},
	{"bpf", 2, 0, cmd_bpf},
	{"ptrace", 3, 3, cmd_ptrace},
	{"clock", 2, 0, cmd_clock},
	{"forge-entry", 4, 4, cmd_forge_entry},
	{"decision-entries", 5, 0, cmd_decision_entries},
	{"entry-generation", 4, 4, cmd_entry_generation},
	{"drop-entry", 4, 4, cmd_forge_entry},
	{"shift-generation", 5, 5, cmd_shift_generation},
	{"join", 4, 0, cmd_join},
	{"fork", 3, 0, cmd_fork},
	{"orphan", 3, 0, cmd_fork},
	{"wait-file", 4, 0, cmd_wait_file},
	{"traceme", 2, 0, cmd_traceme},
	{"mount-tmpfs", 3, 3, cmd_mount_tmpfs},
	{"bind-mount", 4, 4, cmd_bind_mount},
	{"umount", 3, 3, cmd_umount},
	{"kill", 4, 4, cmd_kill},
	{"setnice", 4, 4, cmd_setnice},
	{"prlimit-nofile", 4, 4, cmd_prlimit_nofile},
	{"unshare-user", 2, 0, cmd_unshare_user},
	{"mknod-blk", 3, 3, cmd_mknod_blk},
	{"rename", 4, 4, cmd_rename},
	{"unlink", 3, 3, cmd_unlink},
	{"rmdir", 3, 3, cmd_rmdir},
	{"link", 4, 4, cmd_link},
	{"symlink", 4, 4, cmd_symlink},
	{"mkdir", 3, 3, cmd_mkdir},
	{"open-read", 3, 3, cmd_open_read},
	{"open-trunc", 3, 3, cmd_open_trunc},
	{"chmod", 4, 4, cmd_chmod},
	{"request-key", 2, 0, cmd_request_key},
	{"setown", 3, 3, cmd_setown},
	{"sigio", 4, 4, cmd_sigio},
	{"exec-check", 3, 3, cmd_exec_check},
	{"socket", 3, 3, cmd_socket},
	{"has-entry", 5, 5, cmd_has_entry},
	{"ioctl", 4, 4, cmd_ioctl},
	{"uring-cmd", 3, 3, cmd_uring_cmd},
	{"iopl", 2, 2, cmd_iopl},
	{"settime", 2, 2, cmd_settime},
	{"setuid-exec", 4, 0, cmd_setuid_exec},
	{"sock-send", 4, 4, cmd_sock_send},
	{"submit-file", 4, 4, cmd_submit_file},
	{"audit-delay", 4, 4, cmd_audit_delay},
	{"sock-big", 4, 4, cmd_sock_big},
	{"sock-idle", 5, 5, cmd_sock_idle},
	{"exec-storm", 4, 0, cmd_exec_storm},
	{"exec-cost", 7, 0, cmd_exec_cost},
	{"create-loop", 4, 4, cmd_create_loop},
	{"link-ids", 3, 3, cmd_link_ids},
	{"prog-stats", 3, 3, cmd_prog_stats},
	{"map-fill", 4, 4, cmd_map_fill},
	{"map-drain", 4, 4, cmd_map_fill},
	{"uring-sqpoll-fork", 4, 0, cmd_uring_sqpoll_fork},
	{"uring-open", 4, 4, cmd_uring_open},
	{"uring-open-self", 3, 3, cmd_uring_open_self},
	{"fd-op", 4, 4, cmd_fd_op},
	{"adjtime", 2, 2, cmd_adjtime},
	{"fspick", 3, 3, cmd_fspick},
	{"fsopen", 3, 3, cmd_fsopen},
	{"mount-setattr", 4, 4, cmd_mount_setattr},
};

static int dispatch(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct probe_command *c = &commands[i];
		if (!strcmp(argv[1], c->verb) && argc >= c->min_argc && (!c->max_argc || argc <= c->max_argc))
			return c->run(argv[1], argc, argv);
	}
	fprintf(stderr, "eg-probe: unknown verb or arguments: %s\n", argv[1]);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: eg-probe VERB ARGS (see tests/e2e/eg_probe.c)\n");
		return 2;
	}
	return dispatch(argc, argv);
}
