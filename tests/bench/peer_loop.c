// peer_loop: the measured loops of tests/bench/peer_bench.sh (run inside the VM, built
// static so the VM needs no libraries for it).
//
//   peer_loop bench [--cgroup CG] [--uid UID] [--stats PIN_DIR] [--n-exec N] [--n-dyn N]
//                   [--n-sys N] [--static PATH] [--dynamic PATH] [--data FILE] [--scratch FILE]
//                   [--xfile FILE] [--deny PATH] OP...
//       A worker child joins /sys/fs/cgroup/CG (when given; this process stays where it is,
//       outside any scope: bpf() is refused inside), drops to UID, and runs each OP as a
//       tight loop (a tenth of it first as warm-up), timed with CLOCK_MONOTONIC:
//         exec_static   vfork + execv(--static) + waitpid     (N = --n-exec)
//         exec_dynamic  the same with --dynamic                (N = --n-dyn)
//         read          pread 4 KiB of --data                 (N = --n-sys, as below)
//         write         pwrite 4 KiB to --scratch
//         open_ro       open(--data, O_RDONLY) + close
//         open_wr       open(--scratch, O_WRONLY) + close
//         mmap          mmap 4 KiB of --xfile PROT_READ, MAP_PRIVATE + munmap
//         mmap_exec     the same with PROT_READ|PROT_EXEC
//         mprotect      mprotect(PROT_READ|PROT_EXEC) + mprotect(PROT_READ) of a --xfile page
//                       (one op = the pair)
//         fork          fork + _exit(0) + waitpid             (N = --n-exec)
//         deny          one execv(--deny), expected to fail with EPERM
//       Prints per OP: "op NAME n N ns_per_op X fails F" ("deny" prints
//       "deny denied 0|1 status S"). With --stats, every program behind a pinned
//       PIN_DIR/link_* is read (bpf_stats) around each OP, and per OP and program
//       "prog OP NAME runs R ns T" (deltas over the timed loop, warm-up excluded; the
//       lsm/bpf program's runs for the reads themselves taken out), programs that ran.
//   peer_loop stats PIN_DIR
//       "prog - NAME runs R ns T" totals for every pinned link.
//   peer_loop spawn-check LOG MARKER TIMEOUT_S UID PATH -- DAEMON ARGS...
//       Starts DAEMON (stdout+stderr to LOG), waits until LOG contains MARKER, then a child
//       with UID execs PATH; prints "SPAWNCHECK ready R exec allowed|denied|failed status S",
//       then SIGTERMs the daemon. For a daemon under which nothing else may be started
//       (this process was started before it).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf_obj.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "peer_loop: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- bpf_stats of the pinned links ---- */

#define MAX_PROGS 128
struct prog {
	char name[64];
	int fd;
	uint64_t runs, ns;
};
static struct prog progs[MAX_PROGS];
static int n_progs;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct prog *)a)->name, ((const struct prog *)b)->name);
}

/* An fd of the program behind every PIN_DIR/link_*, opened once (a read is then one
 * bpf() call per program). */
static void open_progs(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		die(dir);
	struct dirent *de;
	while ((de = readdir(d)) && n_progs < MAX_PROGS) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		int fd = link_prog_fd(path);
		if (fd < 0)
			die(path);
		snprintf(progs[n_progs].name, sizeof progs[n_progs].name, "%s", de->d_name + 5);
		progs[n_progs++].fd = fd;
	}
	closedir(d);
	qsort(progs, (size_t)n_progs, sizeof *progs, cmp_name);
}

static void read_progs(uint64_t *runs, uint64_t *ns)
{
	for (int i = 0; i < n_progs; i++) {
		if (prog_stats(progs[i].fd, &runs[i], &ns[i], NULL) != 0)
			die("prog info");
	}
}

/* ---- the worker's operations ---- */

struct opts {
	const char *cgroup, *stats, *stat_path, *dyn_path, *data, *scratch, *xfile, *deny;
	int uid, n_exec, n_dyn, n_sys;
};

struct result {
	uint64_t ns;
	int32_t n, fails, status;
};

/* vfork + execv(PATH) + waitpid: the child's wait status */
static int spawn_wait(const char *path)
{
	char *argv[] = {(char *)path, NULL};
	pid_t pid = vfork();
	if (pid == 0) {
		execv(path, argv);
		_exit(errno == EPERM ? 126 : 127);
	}
	if (pid < 0)
		return -1;
	int st = 0;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return st;
}

struct wctx {
	int data_fd, scratch_fd, x_fd;
	char *xmap;
	char buf[4096];
};

/* one iteration of OP: 0 on success */
static int op_once(const char *op, const struct opts *o, struct wctx *w)
{
	if (!strcmp(op, "exec_static"))
		return spawn_wait(o->stat_path) != 0;
	if (!strcmp(op, "exec_dynamic"))
		return spawn_wait(o->dyn_path) != 0;
	if (!strcmp(op, "read"))
		return pread(w->data_fd, w->buf, sizeof w->buf, 0) != (ssize_t)sizeof w->buf;
	if (!strcmp(op, "write"))
		return pwrite(w->scratch_fd, w->buf, sizeof w->buf, 0) != (ssize_t)sizeof w->buf;
	if (!strcmp(op, "open_ro") || !strcmp(op, "open_wr")) {
		int fd = op[5] == 'r' ? open(o->data, O_RDONLY) : open(o->scratch, O_WRONLY);
		if (fd < 0)
			return 1;
		close(fd);
		return 0;
	}
	if (!strcmp(op, "mmap") || !strcmp(op, "mmap_exec")) {
		int prot = op[4] ? PROT_READ | PROT_EXEC : PROT_READ;
		void *p = mmap(NULL, 4096, prot, MAP_PRIVATE, w->x_fd, 0);
		if (p == MAP_FAILED)
			return 1;
		return munmap(p, 4096) != 0;
	}
	if (!strcmp(op, "mprotect"))
		return mprotect(w->xmap, 4096, PROT_READ | PROT_EXEC) != 0 || mprotect(w->xmap, 4096, PROT_READ) != 0;
	if (!strcmp(op, "fork")) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return 1;
		int st = 0;
		return waitpid(pid, &st, 0) < 0 || st != 0;
	}
	return -1;
}

/* the loop length of OP */
static int loop_count(const char *op, const struct opts *o)
{
	if (!strcmp(op, "exec_dynamic"))
		return o->n_dyn;
	return !strcmp(op, "exec_static") || !strcmp(op, "fork") ? o->n_exec : o->n_sys;
}

/* OP's loop: a tenth of it as warm-up, then WARMED() (the parent reads bpf_stats), then
 * the timed loop */
static struct result run_op(const char *op, const struct opts *o, struct wctx *w, int (*warmed)(void))
{
	struct result r = {0, 0, 0, 0};
	int n = !strcmp(op, "deny") ? 1 : loop_count(op, o);
	for (int i = 0; i < n / 10; i++)
		if (op_once(op, o, w) < 0)
			return (struct result){0, 0, -1, 0};
	if (warmed() != 0)
		_exit(3);
	if (!strcmp(op, "deny")) {
		r.n = 1;
		r.status = spawn_wait(o->deny);
		return r;
	}
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i++)
		r.fails += op_once(op, o, w) != 0;
	r.ns = now_ns() - t0;
	r.n = n;
	return r;
}

/* the worker's half of the handshake (one op at a time): "w" after the warm-up, then the
 * parent's go */
static int worker_go, worker_done;
static int worker_warmed(void)
{
	char c = 'w';
	if (write(worker_done, &c, 1) != 1 || read(worker_go, &c, 1) != 1)
		return -1;
	return 0;
}

static void worker(const struct opts *o, int go, int done)
{
	if (o->cgroup) {
		char procs[4096];
		snprintf(procs, sizeof procs, "/sys/fs/cgroup%s/cgroup.procs", o->cgroup);
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			die(procs);
		close(fd);
	}
	if (o->uid >= 0) {
		if (setgroups(0, NULL) != 0 || setgid((gid_t)o->uid) != 0 || setuid((uid_t)o->uid) != 0)
			die("setuid");
	}
	struct wctx *w = calloc(1, sizeof *w);
	if (!w)
		die("calloc");
	memset(w->buf, 'x', sizeof w->buf);
	w->data_fd = o->data ? open(o->data, O_RDONLY) : -1;
	w->scratch_fd = o->scratch ? open(o->scratch, O_RDWR) : -1;
	w->x_fd = o->xfile ? open(o->xfile, O_RDONLY) : -1;
	if ((o->data && w->data_fd < 0) || (o->scratch && w->scratch_fd < 0) || (o->xfile && w->x_fd < 0))
		die("opening the data, scratch or exec-mapped file");
	if (w->x_fd >= 0) {
		w->xmap = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, w->x_fd, 0);
		if (w->xmap == MAP_FAILED)
			die("mmap");
	}
	char op[64];
	worker_go = go;
	worker_done = done;
	for (;;) {
		ssize_t k = read(go, op, sizeof op - 1);
		if (k <= 0)
			_exit(0);
		op[k] = 0;
		struct result r = run_op(op, o, w, worker_warmed);
		if (write(done, &r, sizeof r) != (ssize_t)sizeof r)
			_exit(3);
	}
}

static int bench(int argc, char **argv)
{
	struct opts o = {.uid = -1, .n_exec = 200, .n_dyn = 60, .n_sys = 2000};
	int i = 2;
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *k = argv[i] + 2, *v = argv[i + 1];
		if (!strcmp(k, "cgroup")) o.cgroup = v;
		else if (!strcmp(k, "uid")) o.uid = atoi(v);
		else if (!strcmp(k, "stats")) o.stats = v;
		else if (!strcmp(k, "n-exec")) o.n_exec = atoi(v);
		else if (!strcmp(k, "n-dyn")) o.n_dyn = atoi(v);
		else if (!strcmp(k, "n-sys")) o.n_sys = atoi(v);
		else if (!strcmp(k, "static")) o.stat_path = v;
		else if (!strcmp(k, "dynamic")) o.dyn_path = v;
		else if (!strcmp(k, "data")) o.data = v;
		else if (!strcmp(k, "scratch")) o.scratch = v;
		else if (!strcmp(k, "xfile")) o.xfile = v;
		else if (!strcmp(k, "deny")) o.deny = v;
		else {
			fprintf(stderr, "peer_loop: unknown option --%s\n", k);
			return 2;
		}
	}
	for (int j = i; j < argc; j++) {
		const char *op = argv[j];
		int need_data = !strcmp(op, "read") || !strcmp(op, "open_ro");
		int need_scratch = !strcmp(op, "write") || !strcmp(op, "open_wr");
		int need_x = !strncmp(op, "mmap", 4) || !strcmp(op, "mprotect");
		if ((need_data && !o.data) || (need_scratch && !o.scratch) || (need_x && !o.xfile) ||
		    (!strcmp(op, "exec_static") && !o.stat_path) || (!strcmp(op, "exec_dynamic") && !o.dyn_path) ||
		    (!strcmp(op, "deny") && !o.deny)) {
			fprintf(stderr, "peer_loop: %s needs its file option\n", op);
			return 2;
		}
	}
	if (o.stats)
		open_progs(o.stats);
	int go[2], done[2];
	if (pipe(go) != 0 || pipe(done) != 0)
		die("pipe");
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(go[1]);
		close(done[0]);
		for (int p = 0; p < n_progs; p++)
			close(progs[p].fd);
		worker(&o, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	uint64_t r0[MAX_PROGS], t0[MAX_PROGS], r1[MAX_PROGS], t1[MAX_PROGS];
	int rc = 0;
	for (int j = i; j < argc; j++) {
		const char *op = argv[j];
		struct result r;
		char c = 'g';
		/* the op's name; "w" once warmed up; stats; go; the result; stats */
		if (write(go[1], op, strlen(op)) != (ssize_t)strlen(op) || read(done[0], &c, 1) != 1) {
			fprintf(stderr, "peer_loop: the worker died before %s\n", op);
			rc = 1;
			break;
		}
		if (o.stats)
			read_progs(r0, t0);
		if (write(go[1], &c, 1) != 1 || read(done[0], &r, sizeof r) != (ssize_t)sizeof r) {
			fprintf(stderr, "peer_loop: the worker died in %s\n", op);
			rc = 1;
			break;
		}
		if (o.stats)
			read_progs(r1, t1);
		if (!strcmp(op, "deny")) {
			int denied = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 126;
			printf("deny denied %d status %d\n", denied, r.status);
		} else if (r.fails < 0) {
			printf("op %s unknown\n", op);
			rc = 1;
		} else {
			printf("op %s n %d ns_per_op %.1f fails %d\n", op, r.n, r.n ? (double)r.ns / r.n : 0.0, r.fails);
		}
		for (int p = 0; p < n_progs; p++) {
			uint64_t runs = r1[p] - r0[p], ns = t1[p] - t0[p];
			/* the lsm/bpf program ran once for each of the reads' bpf() calls between
			 * its own two reads: n_progs of them, taken out (time pro rata) */
			if (!strncmp(progs[p].name, "eg_bpf", 6) && runs > 0) {
				uint64_t own = runs < (uint64_t)n_progs ? runs : (uint64_t)n_progs;
				ns -= ns / runs * own;
				runs -= own;
			}
			if (runs > 0)
				printf("prog %s %s runs %llu ns %llu\n", op, progs[p].name, (unsigned long long)runs,
				       (unsigned long long)ns);
		}
		fflush(stdout);
	}
	close(go[1]);
	int st = 0;
	waitpid(child, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "peer_loop: worker status %d\n", st);
		rc = 1;
	}
	return rc;
}

static int spawn_check(int argc, char **argv)
{
	/* spawn-check LOG MARKER TIMEOUT_S UID PATH -- DAEMON ARGS... */
	if (argc < 9 || strcmp(argv[7], "--"))
		return 2;
	const char *log = argv[2], *marker = argv[3], *path = argv[6];
	int timeout = atoi(argv[4]), uid = atoi(argv[5]);
	pid_t d = fork();
	if (d < 0)
		die("fork");
	if (d == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(log);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[8], argv + 8);
		die(argv[8]);
	}
	int ready = 0;
	for (int t = 0; t < timeout * 10 && !ready; t++) {
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
		char buf[65536];
		int fd = open(log, O_RDONLY);
		if (fd >= 0) {
			ssize_t k = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (k > 0) {
				buf[k] = 0;
				ready = strstr(buf, marker) != NULL;
			}
		}
		if (waitpid(d, NULL, WNOHANG) == d)
			break;
	}
	int st = -1;
	if (ready) {
		pid_t c = fork();
		if (c == 0) {
			if (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0)
				_exit(125);
			char *av[] = {(char *)path, NULL};
			execv(path, av);
			_exit(errno == EPERM ? 126 : 127);
		}
		waitpid(c, &st, 0);
	}
	const char *what = st < 0 ? "failed"
			   : WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "allowed"
			   : WIFEXITED(st) && WEXITSTATUS(st) == 126 ? "denied" : "failed";
	printf("SPAWNCHECK ready %d exec %s status %d\n", ready, what, st);
	fflush(stdout);
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return bench(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "stats")) {
		open_progs(argv[2]);
		uint64_t r[MAX_PROGS], t[MAX_PROGS];
		read_progs(r, t);
		for (int p = 0; p < n_progs; p++)
			printf("prog - %s runs %llu ns %llu\n", progs[p].name, (unsigned long long)r[p],
			       (unsigned long long)t[p]);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "spawn-check"))
		return spawn_check(argc, argv);
	fprintf(stderr, "usage: peer_loop bench|stats|spawn-check ... (see the source's head)\n");
	return 2;
}
