// eg-probe: attack primitives for the VM suite. Each verb attempts one operation and
// prints "<VERB>_OK" or "<VERB>_ERRNO=<NAME>" so tests check the kernel's errno, not
// just an exit status. Exit 0 when the operation succeeded, 1 when it failed.
#define _GNU_SOURCE
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <sys/wait.h>
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
	case EBUSY: return "EBUSY";
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

#include "execgate.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Average ns of one run of a socket-filter program looping 32 times, with or without a
 * bpf_ktime_get_boot_ns() call per iteration (BPF_PROG_TEST_RUN, REPEAT runs). */
static long loop_prog_ns(int with_clock, unsigned repeat)
{
	struct bpf_insn call = {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_boot_ns};
	struct bpf_insn nop = {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_7, .imm = 0};
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_6, .imm = 0},
		with_clock ? call : nop,
		{.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_6, .imm = 1},
		{.code = BPF_JMP | BPF_JLT | BPF_K, .dst_reg = BPF_REG_6, .off = -3, .imm = 32},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = sizeof insns / sizeof insns[0];
	a.license = (uint64_t)(uintptr_t)"GPL";
	int prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (prog < 0)
		return -errno;
	unsigned char pkt[64] = {0};
	memset(&a, 0, sizeof a);
	a.test.prog_fd = (uint32_t)prog;
	a.test.data_in = (uint64_t)(uintptr_t)pkt;
	a.test.data_size_in = sizeof pkt;
	a.test.repeat = repeat;
	long rc = sys_bpf(BPF_PROG_TEST_RUN, &a);
	int err = errno;
	close(prog);
	return rc < 0 ? -err : (long)a.test.duration;
}

static int obj_get(const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.pathname = (uint64_t)(uintptr_t)path;
	return (int)sys_bpf(BPF_OBJ_GET, &a);
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: eg-probe VERB ARGS (see tests/e2e/eg_probe.c)\n");
		return 2;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "exec") && argc >= 3) {
		execv(argv[2], argv + 2);
		return report("EXEC", 0, errno) ? 126 : 0;
	}
	if (!strcmp(verb, "open-write") && argc == 3) {
		int fd = open(argv[2], O_WRONLY);
		int err = errno;
		if (fd >= 0)
			close(fd);
		return report("OPEN", fd >= 0, err);
	}
	if (!strcmp(verb, "truncate") && argc == 3) {
		int rc = truncate(argv[2], 0);
		return report("TRUNCATE", rc == 0, errno);
	}
	if (!strcmp(verb, "memfd-exec") && argc >= 3) { /* memfd-exec SRC [ARGS]: fexecve a copy */
		int mfd = (int)syscall(SYS_memfd_create, "payload", 0);
		int src = open(argv[2], O_RDONLY);
		if (mfd < 0 || src < 0 || copy_fd(src, mfd) < 0)
			return report("SETUP", 0, errno);
		fexecve(mfd, argv + 2, environ);
		return report("EXEC", 0, errno);
	}
	if (!strcmp(verb, "execveat-empty") && argc >= 3) { /* execveat(fd, "", AT_EMPTY_PATH) */
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return report("SETUP", 0, errno);
		syscall(SYS_execveat, fd, "", argv + 2, environ, AT_EMPTY_PATH);
		return report("EXEC", 0, errno);
	}
	if ((!strcmp(verb, "mmap-exec") || !strcmp(verb, "mprotect-exec")) && argc == 3) {
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
		return report("MPROTECT", rc == 0, errno);
	}
	if (!strcmp(verb, "hold-write") && argc == 5) {
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
	if (!strcmp(verb, "mmap-write") && argc == 5) {
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
	if (!strcmp(verb, "clone-into-cgroup") && argc == 3) {
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
	if (!strcmp(verb, "finit-module") && argc == 3) { /* a bogus module file: EPERM vs ENOEXEC */
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return report("SETUP", 0, errno);
		long rc = syscall(SYS_finit_module, fd, "", 0);
		return report("MODULE", rc == 0, errno);
	}
	if (!strcmp(verb, "init-module")) {
		static char blob[4096] = "not an ELF module";
		long rc = syscall(SYS_init_module, blob, sizeof blob, "");
		return report("MODULE", rc == 0, errno);
	}
	if (!strcmp(verb, "bpf")) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof attr);
		long rc = syscall(SYS_bpf, BPF_MAP_GET_NEXT_ID, &attr, sizeof attr);
		return report("BPF", rc == 0 || errno == ENOENT, errno);
	}
	if (!strcmp(verb, "ptrace") && argc == 3) {
		pid_t pid = (pid_t)atoi(argv[2]);
		long rc = ptrace(PTRACE_ATTACH, pid, 0, 0);
		int err = errno;
		if (rc == 0) {
			waitpid(pid, NULL, 0);
			ptrace(PTRACE_DETACH, pid, 0, 0);
		}
		return report("PTRACE", rc == 0, err);
	}
	if (!strcmp(verb, "clock")) {
		printf("%llu\n", (unsigned long long)now_ns());
		return 0;
	}
	if ((!strcmp(verb, "forge-entry") || !strcmp(verb, "drop-entry")) && argc == 4) {
		/* forge-entry PIN_DIR PATH: an attacker with bpf() outside the scope writes a
		 * ticket entry for PATH (or deletes one); the daemon must undo it on reconcile. */
		char pin[512];
		snprintf(pin, sizeof pin, "%s/eg_tickets", argv[2]);
		int map = obj_get(pin);
		struct stat st;
		if (map < 0 || stat(argv[3], &st) != 0)
			return report("SETUP", 0, errno);
		struct eg_inode_key key = {((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev), st.st_ino};
		struct eg_ticket val;
		memset(&val, 0, sizeof val);
		memset(val.id, 0xee, sizeof val.id);
		val.not_after_ns = ~0ull;
		val.ctime_sec = st.st_ctim.tv_sec;
		val.ctime_nsec = (uint32_t)st.st_ctim.tv_nsec;
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_fd = (uint32_t)map;
		a.key = (uint64_t)(uintptr_t)&key;
		a.value = (uint64_t)(uintptr_t)&val;
		if (strcmp(verb, "forge-entry"))
			a.value = 0; /* delete takes no value */
		long rc = !strcmp(verb, "forge-entry") ? sys_bpf(BPF_MAP_UPDATE_ELEM, &a)
						       : sys_bpf(BPF_MAP_DELETE_ELEM, &a);
		return report("MAP", rc == 0, errno);
	}
	if (!strcmp(verb, "setuid-exec") && argc >= 4) {
		uid_t uid = (uid_t)atoi(argv[2]);
		if (setgid(uid) != 0 || setuid(uid) != 0)
			return report("SETUID", 0, errno);
		execv(argv[3], argv + 3);
		return report("EXEC", 0, errno) ? 126 : 0;
	}
	if (!strcmp(verb, "sock-send") && argc == 4) { /* sock-send SOCK LINE: one request */
		int fd = sock_connect(argv[2]);
		if (fd < 0)
			return report("CONNECT", 0, errno);
		dprintf(fd, "%s\n", argv[3]);
		print_reply(fd);
		return 0;
	}
	if (!strcmp(verb, "submit-file") && argc == 4) {
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
	if (!strcmp(verb, "audit-delay") && argc == 4) {
		/* audit-delay LOG PATH: for exec records of PATH, the delay between the kernel's
		 * decision (kernel_time_ns) and the record's `time`; prints max and > 100 ms. */
		FILE *f = fopen(argv[2], "r");
		if (!f)
			return report("SETUP", 0, errno);
		static char line[8192];
		long n = 0, over = 0;
		long long max = 0;
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
			if (d > max)
				max = d;
			if (d > 100000000ll)
				over++;
			n++;
		}
		printf("AUDIT_DELAY records=%ld max_ms=%lld over_100ms=%ld\n", n, max / 1000000, over);
		return n > 0 ? 0 : 1;
	}
	if (!strcmp(verb, "sock-big") && argc == 4) { /* sock-big SOCK BYTES: no newline, ever */
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
	if (!strcmp(verb, "sock-idle") && argc == 5) { /* sock-idle SOCK N SECONDS */
		int n = atoi(argv[3]), open_ok = 0;
		for (int i = 0; i < n; i++)
			if (sock_connect(argv[2]) >= 0)
				open_ok++;
		printf("IDLE_OPEN %d\n", open_ok);
		fflush(stdout);
		sleep((unsigned)atoi(argv[4]));
		return 0;
	}
	if (!strcmp(verb, "exec-storm") && argc >= 4) { /* exec-storm N PATH ARGS: N execs */
		int n = atoi(argv[2]), ok = 0, denied = 0;
		uint64_t t0 = now_ns();
		for (int i = 0; i < n; i++) {
			pid_t pid = vfork();
			if (pid == 0) {
				execv(argv[3], argv + 3);
				_exit(errno == EPERM ? 126 : 127);
			}
			int st = 0;
			waitpid(pid, &st, 0);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				ok++;
			else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
				denied++;
		}
		printf("STORM ok=%d denied=%d ns=%llu\n", ok, denied, (unsigned long long)(now_ns() - t0));
		return 0;
	}
	if (!strcmp(verb, "clock-cost") && argc == 2) {
		/* clock-cost: ns of one bpf_ktime_get_boot_ns() call in BPF (the gate reads the
		 * boot clock once per exec; its price depends on the clocksource) */
		long with = loop_prog_ns(1, 2000), without = loop_prog_ns(0, 2000);
		if (with < 0 || without < 0)
			return report("CLOCK_COST", 0, (int)-(with < 0 ? with : without));
		printf("CLOCK_COST ns_per_call=%ld\n", (with - without) / 32);
		return 0;
	}
	if (!strcmp(verb, "prog-stats") && argc == 3) { /* prog-stats PINNED_LINK: bpf_stats */
		int link = obj_get(argv[2]);
		if (link < 0)
			return report("SETUP", 0, errno);
		struct bpf_link_info li;
		memset(&li, 0, sizeof li);
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.info.bpf_fd = (uint32_t)link;
		a.info.info_len = sizeof li;
		a.info.info = (uint64_t)(uintptr_t)&li;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) != 0)
			return report("LINKINFO", 0, errno);
		memset(&a, 0, sizeof a);
		a.prog_id = li.prog_id;
		int prog = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		struct bpf_prog_info pi;
		memset(&pi, 0, sizeof pi);
		memset(&a, 0, sizeof a);
		a.info.bpf_fd = (uint32_t)prog;
		a.info.info_len = sizeof pi;
		a.info.info = (uint64_t)(uintptr_t)&pi;
		if (prog < 0 || sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) != 0)
			return report("PROGINFO", 0, errno);
		printf("PROG run_cnt=%llu run_time_ns=%llu\n", (unsigned long long)pi.run_cnt,
		       (unsigned long long)pi.run_time_ns);
		return 0;
	}
	fprintf(stderr, "eg-probe: unknown verb or arguments: %s\n", verb);
	return 2;
}
