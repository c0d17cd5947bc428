// eg-probe: attack primitives for the VM suite. Each verb attempts one operation and
// prints "<VERB>_OK" or "<VERB>_ERRNO=<NAME>" so tests check the kernel's errno, not
// just an exit status. Exit 0 when the operation succeeded, 1 when it failed.
#define _GNU_SOURCE
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
#include <sys/syscall.h>
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
	fprintf(stderr, "eg-probe: unknown verb or arguments: %s\n", verb);
	return 2;
}
