/* A running process: /proc facts, memory reads, stopping; see live.h.
 *
 * Stopping, step by step.  PTRACE_SEIZE attaches to a thread without
 * stopping it and without sending a signal; PTRACE_INTERRUPT then asks it
 * to stop, and waitpid(__WALL) reports it stopped.  Threads can be created
 * while this goes on, so /proc/PID/task is listed again after every round
 * until a listing shows no thread we do not hold: at that point every
 * thread that could create one is stopped.  A thread that reports a
 * signal instead of the interrupt stop is stopped just the same; the
 * signal is passed back with PTRACE_DETACH so the program still gets it.
 *
 * Signals: while stopping and while resuming, the signals we catch are
 * blocked, so a handler only ever runs when every held thread is stopped,
 * which is when PTRACE_DETACH works.  The held list is a static array for
 * the handler's sake.
 *
 * Two watchdogs bound the pause.  SIGALRM, at --max-pause, detaches from
 * inside mapscan.  But a mapscan that cannot run (SIGSTOP, or stuck) runs
 * no handler, so a child process also watches, whatever the pause limit
 * (none with --save-core or --max-pause 0): unless mapscan lets go of the
 * process first (which closes the pipe the child waits on), the child
 * kills mapscan with SIGKILL -- and the kernel detaches a dead tracer's
 * tracees -- when
 *   - mapscan has been stopped (SIGSTOP, a debugger) for GUARD_STOPPED_NS,
 *   - mapscan has made no progress for GUARD_STALL_NS of the time it could
 *     use (see guard_child): progress is a read of the process's memory or
 *     a tick of live_progress, counted in a page the two processes share,
 *   - or --max-pause plus GUARD_GRACE_NS have passed.
 * It then removes the --save-core file being written, as mapscan's own
 * handlers do. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live.h"

#define PF_KTHREAD_FLAG 0x00200000u
#define CAP_SYS_PTRACE_BIT 19

uint64_t live_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- /proc ------------------------------------------------------------ */

/* Read a small /proc file into buf (NUL-terminated).  Returns the length
 * or -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t k = read(fd, buf + len, size - 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int live_proc_read(int pid, struct live_proc *p, struct ms_error *err)
{
	char path[64], buf[4096];
	const char *open_paren, *close_paren;
	unsigned long flags = 0;
	int n;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return ms_err(err, MS_EPROCESS,
				      "no process with PID %d (it exited, or it lives in another PID "
				      "namespace: give the PID as mapscan's namespace sees it)", pid);
		return ms_err(err, MS_EPROCESS, "%s: cannot read: %s", path, strerror(errno));
	}
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return ms_err(err, MS_EPROCESS, "%s: unexpected contents", path);
	size_t cl = (size_t)(close_paren - open_paren - 1);
	if (cl > sizeof(p->comm) - 1)
		cl = sizeof(p->comm) - 1;
	for (size_t i = 0; i < cl; i++) {
		unsigned char c = (unsigned char)open_paren[1 + i];
		p->comm[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads */
	n = sscanf(close_paren + 1, " %c %d %d %d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %d %ld",
		   &p->state, &p->ppid, &p->pgrp, &p->sid, &flags, &p->nice, &p->nthreads);
	if (n < 5)
		return ms_err(err, MS_EPROCESS, "%s: unexpected contents", path);
	p->kthread = (flags & PF_KTHREAD_FLAG) != 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_small(path, buf, sizeof(buf)) >= 0) {
		long v = status_field(buf, "\nTracerPid:");
		p->tracer = v > 0 ? (int)v : 0;
		v = status_field(buf, "\nUid:");
		p->uid = v >= 0 ? (unsigned)v : 0;
		v = status_field(buf, "\nGid:");
		p->gid = v >= 0 ? (unsigned)v : 0;
	}

	if (p->state == 'Z' || p->state == 'X')
		return ms_err(err, MS_EPROCESS,
			      "process %d (%s) is a zombie: it has exited and only waits for its "
			      "parent (PID %d) to collect its status; there is no memory left to read",
			      pid, p->comm, p->ppid);
	if (p->kthread)
		return ms_err(err, MS_EPROCESS,
			      "process %d (%s) is a kernel thread, not a program; give the PID of a "
			      "Go program", pid, p->comm);
	return 0;
}

int live_proc_alive(int pid)
{
	struct live_proc p;

	return live_proc_read(pid, &p, NULL) == 0;
}

/* Effective capabilities of mapscan itself include CAP_SYS_PTRACE? */
static bool have_cap_ptrace(void)
{
	char buf[4096];
	const char *p;

	if (read_small("/proc/self/status", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "\nCapEff:")))
		return geteuid() == 0;
	return (strtoull(p + 8, NULL, 16) >> CAP_SYS_PTRACE_BIT) & 1;
}

int live_perm_error(int pid, const char *what, int e, struct ms_error *err)
{
	struct live_proc p;
	char why[512] = "";
	char buf[32];
	int scope = -1;
	unsigned me = (unsigned)getuid();
	bool root = geteuid() == 0, cap = have_cap_ptrace();

	if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) > 0)
		scope = atoi(buf);
	if (live_proc_read(pid, &p, NULL) < 0)
		p.uid = me;
	if (p.tracer && p.tracer != getpid())
		snprintf(why, sizeof(why), "it is already traced by process %d (a debugger or "
			 "strace?): detach that first, or read without stopping with --no-stop",
			 p.tracer);
	else if (scope == 3)
		snprintf(why, sizeof(why), "kernel.yama.ptrace_scope is 3, which forbids reading "
			 "other processes until the next reboot");
	else if (!cap && p.uid != me && p.uid == 0)
		snprintf(why, sizeof(why), "it runs as root and mapscan as uid %u: run mapscan as "
			 "root (sudo), or give it CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)", me);
	else if (!cap && p.uid != me)
		snprintf(why, sizeof(why), "it runs as uid %u and mapscan as uid %u: run mapscan as "
			 "uid %u or as root, or give it CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)",
			 p.uid, me, p.uid);
	else if (!cap && scope == 1)
		snprintf(why, sizeof(why), "kernel.yama.ptrace_scope is 1, which lets a process read "
			 "only its own descendants: run mapscan as root or with CAP_SYS_PTRACE, or "
			 "allow it with 'sysctl kernel.yama.ptrace_scope=0'");
	else if (!cap && scope == 2)
		snprintf(why, sizeof(why), "kernel.yama.ptrace_scope is 2, which lets only "
			 "CAP_SYS_PTRACE read other processes: run mapscan as root");
	else if (root && !cap)
		snprintf(why, sizeof(why), "mapscan runs as root but without CAP_SYS_PTRACE (in a "
			 "container? start it with --cap-add=SYS_PTRACE, and give the PID as the "
			 "container sees it)");
	else if (!cap)
		snprintf(why, sizeof(why), "the process may have made itself undumpable (setuid, "
			 "file capabilities or prctl PR_SET_DUMPABLE): run mapscan as root or with "
			 "CAP_SYS_PTRACE");
	else
		snprintf(why, sizeof(why), "a security policy (seccomp, AppArmor, SELinux or a "
			 "container runtime) forbids ptrace; in a container add CAP_SYS_PTRACE and "
			 "allow ptrace in its seccomp profile");
	if (scope >= 1 && scope <= 2 && !cap && p.uid != me)
		return ms_err(err, MS_EPERM, "not allowed to %s process %d (%s): %s; note that "
			      "kernel.yama.ptrace_scope is %d", what, pid, strerror(e), why, scope);
	return ms_err(err, MS_EPERM, "not allowed to %s process %d (%s): %s", what, pid,
		      strerror(e), why);
}

int live_ranges_read(int pid, struct live_range **out, size_t *n, struct ms_error *err)
{
	char path[64];
	FILE *f;
	char *line = NULL;
	size_t cap = 0, cnt = 0, lcap = 0;
	struct live_range *r = NULL;
	int rc = 0;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return live_perm_error(pid, "read the memory map of", e, err);
		if (e == ENOENT || e == ESRCH)
			return ms_err(err, MS_EPROCESS, "process %d exited", pid);
		return ms_err(err, MS_EPROCESS, "%s: cannot open: %s", path, strerror(e));
	}
	while (getline(&line, &lcap, f) > 0) {
		unsigned long long start, end, off, ino;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %n", &start, &end, perms, &off, &ino,
			   &pos) < 5)
			continue;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct live_range *nr = realloc(r, nc * sizeof(*nr));
			if (!nr) {
				rc = ms_err(err, MS_EINTERNAL, "out of memory for the maps of process %d", pid);
				break;
			}
			r = nr;
			cap = nc;
		}
		char *name = line + pos;
		name[strcspn(name, "\n")] = '\0';
		struct live_range *x = &r[cnt];
		x->start = start;
		x->end = end;
		x->offset = off;
		x->inode = ino;
		memcpy(x->perms, perms, 4);
		x->perms[4] = '\0';
		if (!(x->name = strdup(name))) {
			rc = ms_err(err, MS_EINTERNAL, "out of memory for the maps of process %d", pid);
			break;
		}
		cnt++;
	}
	if (!rc && ferror(f))
		rc = ms_err(err, MS_EPROCESS, "%s: read error", path);
	free(line);
	fclose(f);
	if (rc) {
		live_ranges_free(r, cnt);
		return rc;
	}
	if (cnt == 0) {
		/* Kernel threads are turned away earlier: a user process
		 * without mappings has lost its memory on the way out. */
		free(r);
		return ms_err(err, MS_EPROCESS, "process %d exited", pid);
	}
	*out = r;
	*n = cnt;
	return 0;
}

void live_ranges_free(struct live_range *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		free(r[i].name);
	free(r);
}

/* ---- memory ----------------------------------------------------------- */

void live_mem_init(struct live_mem *m, int pid)
{
	const char *force = getenv("MAPSCAN_TEST_PROC_MEM");

	m->pid = pid;
	m->memfd = -1;
	m->procmem = force && !strcmp(force, "1");
}

void live_mem_close(struct live_mem *m)
{
	if (m->memfd >= 0)
		close(m->memfd);
	m->memfd = -1;
}

ssize_t live_mem_read(struct live_mem *m, uint64_t addr, void *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (addr > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - addr) {
		errno = EFAULT;
		return -1;
	}
	if (!m->procmem) {
		struct iovec local = { buf, n };
		struct iovec remote = { (void *)(uintptr_t)addr, n };
		ssize_t k = process_vm_readv(m->pid, &local, 1, &remote, 1, 0);

		live_progress();
		if (k >= 0 || errno != ENOSYS)
			return k;
		m->procmem = true;
	}
	if (m->memfd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", m->pid);
		m->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (m->memfd < 0) {
			if (errno == ENOENT)
				errno = ESRCH;
			return -1;
		}
	}
	for (;;) {
		ssize_t k = pread(m->memfd, buf, n, (off_t)addr);

		live_progress();
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 && !live_proc_alive(m->pid)) {
			errno = ESRCH; /* the mm is gone: reads return 0 */
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		return k;
	}
}

/* ---- stopping --------------------------------------------------------- */

#define MAX_HELD 16384

static pid_t held_tid[MAX_HELD];
static int held_sig[MAX_HELD];          /* signal to pass back on detach */
static volatile sig_atomic_t held_n;    /* threads seized */
static volatile sig_atomic_t holding;   /* all held_n threads are stopped */
static volatile sig_atomic_t cut;       /* resumed early by a signal */
static uint64_t t_first_stop;
static volatile uint64_t t_resumed;
static char cleanup_path[4096];
static volatile sig_atomic_t guard_fd = -1;  /* write end of the watchdog's pipe */
static pid_t guard_pid;
#define GUARD_GRACE_NS 2000000000u
#define GUARD_STOPPED_NS 1000000000u
#define GUARD_STALL_NS 5000000000u
#define GUARD_POLL_MS 50

/* Shared with the watchdog child (MAP_SHARED, made before it is forked). */
struct guard_page {
	volatile uint64_t progress;
	char cleanup[4096 - 64];   /* the --save-core file being written */
};
static struct guard_page *guard_page;

static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGALRM };
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))
static struct sigaction prev_action[NCAUGHT];
static bool installed;

static long sys_ptrace(long req, pid_t tid, long data)
{
	return syscall(SYS_ptrace, req, (long)tid, 0L, data);
}

/* Async-signal-safe: PTRACE_DETACH, clock_gettime and close only. */
static void detach_all(void)
{
	struct timespec ts;

	for (sig_atomic_t i = 0; i < held_n; i++)
		sys_ptrace(PTRACE_DETACH, held_tid[i], held_sig[i]);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_resumed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	holding = 0;
	if (guard_fd >= 0) {
		close(guard_fd); /* the watchdog child sees EOF and leaves */
		guard_fd = -1;
	}
}

void live_progress(void)
{
	if (guard_page)
		guard_page->progress++;
}

/* State letter of process pid ('R', 'S', 'T', ...) and the CPU time it
 * has used, in clock ticks; 0 if unreadable. */
static char proc_state(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024];
	const char *p;
	unsigned long long ut = 0, st = 0;

	*ticks = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) || p[1] != ' ')
		return 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
		*ticks = ut + st;
	return p[2];
}

/* The watchdog child: wait for EOF on fd; kill mapscan when it is stopped,
 * stalls, or runs past end (0: no limit).
 *
 * A stall is time without progress that mapscan could have used: while it
 * waits (sleeping or in the kernel) the wall-clock time counts, while it
 * is runnable only the CPU time it gets -- a mapscan starved of CPU by a
 * loaded machine is not stuck, a loop is. */
static void guard_child(int fd, pid_t parent, uint64_t end)
{
	uint64_t last = guard_page->progress, stall = 0, stopped_since = 0, prev_ns = live_now_ns();
	uint64_t prev_ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	proc_state(parent, &prev_ticks);
	for (;;) {
		uint64_t now = live_now_ns(), p = guard_page->progress, ticks;
		char st = proc_state(parent, &ticks);
		struct pollfd pf = { fd, POLLIN, 0 };

		if (getppid() != parent)
			_exit(0);
		if (p != last) {
			last = p;
			stall = 0;
		} else if (st == 'R') {
			if (ticks > prev_ticks && hz > 0)
				stall += (ticks - prev_ticks) * (1000000000u / (uint64_t)hz);
		} else {
			stall += now - prev_ns;
		}
		prev_ns = now;
		prev_ticks = ticks;
		if (st == 'T' || st == 't') {
			if (!stopped_since)
				stopped_since = now;
		} else {
			stopped_since = 0;
		}
		if ((end && now >= end) || (stopped_since && now - stopped_since >= GUARD_STOPPED_NS) ||
		    stall >= GUARD_STALL_NS) {
			kill(parent, SIGKILL);
			if (guard_page->cleanup[0])
				unlink(guard_page->cleanup);
			_exit(0);
		}
		if (poll(&pf, 1, GUARD_POLL_MS) > 0)
			_exit(0); /* EOF: mapscan let go of the process */
	}
}

/* Start the watchdog child (end: when to give up at the latest, 0 for no
 * limit); without one (fork failed) SIGALRM and the signal handlers still
 * work. */
static void guard_start(uint64_t end)
{
	int fds[2];
	pid_t parent = getpid(), child;

	if (!guard_page) {
		void *p = mmap(NULL, sizeof(*guard_page), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return;
		guard_page = p;
	}
	memcpy(guard_page->cleanup, cleanup_path, sizeof(guard_page->cleanup) - 1);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	child = fork();
	if (child == 0) {
		close(fds[1]);
		guard_child(fds[0], parent, end);
	}
	close(fds[0]);
	if (child < 0) {
		close(fds[1]);
		return;
	}
	guard_pid = child;
	guard_fd = fds[1];
}

static void guard_reap(void)
{
	if (guard_fd >= 0) {
		close(guard_fd);
		guard_fd = -1;
	}
	if (guard_pid > 0) {
		int st;
		while (waitpid(guard_pid, &st, 0) < 0 && errno == EINTR)
			;
		guard_pid = 0;
	}
}

static void on_signal(int sig)
{
	int saved_errno = errno;

	if (holding) {
		detach_all();
		cut = 1;
	}
	if (sig == SIGALRM) {
		errno = saved_errno;
		return;
	}
	if (sig != SIGTSTP && cleanup_path[0])
		unlink(cleanup_path);
	/* Now do what the signal asked: die (or stop) as if we had no
	 * handler.  It is blocked until this handler returns. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved_errno;
}

static void caught_set(sigset_t *s)
{
	sigemptyset(s);
	for (size_t i = 0; i < NCAUGHT; i++)
		sigaddset(s, caught[i]);
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	caught_set(&sa.sa_mask);
	for (size_t i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &sa, &prev_action[i]);
	installed = true;
}

static void restore_handlers(void)
{
	if (!installed)
		return;
	for (size_t i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &prev_action[i], NULL);
	installed = false;
}

static void set_watchdog(uint64_t ns)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	if (ns) {
		it.it_value.tv_sec = (time_t)(ns / 1000000000u);
		it.it_value.tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
		if (!it.it_value.tv_sec && !it.it_value.tv_usec)
			it.it_value.tv_usec = 1;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/* A SIGALRM from a watchdog that fired just before it was cancelled must
 * not reach the default action (which would kill mapscan). */
static void drain_alarm(void)
{
	sigset_t s;
	struct timespec zero = { 0, 0 };

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	while (sigtimedwait(&s, NULL, &zero) == SIGALRM)
		;
}

void live_set_cleanup_path(const char *path)
{
	if (!path || strlen(path) >= sizeof(guard_page->cleanup)) {
		cleanup_path[0] = '\0';
	} else {
		memcpy(cleanup_path, path, strlen(path) + 1);
	}
	if (guard_page)
		memcpy(guard_page->cleanup, cleanup_path, sizeof(guard_page->cleanup));
}

const pid_t *live_held(size_t *n)
{
	*n = holding ? (size_t)held_n : 0;
	return held_tid;
}

bool live_cut_short(void)
{
	return cut != 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* Thread ids in /proc/PID/task, newly allocated; -1 with errno. */
static int list_tasks(int pid, pid_t **out, size_t *n)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t cap = 0, cnt = 0;
	pid_t *v = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
			continue;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 64;
			pid_t *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
			cap = nc;
		}
		v[cnt++] = (pid_t)tid;
	}
	closedir(d);
	*out = v;
	*n = cnt;
	return 0;
}

/* A thread listed in /proc/PID/task that is gone or dying (ptrace refuses
 * those with EPERM, which must not read as a permission problem). */
static bool thread_exiting(int pid, pid_t tid)
{
	char path[64], buf[512];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return true;
	p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Wait until held threads [from, held_n) are stopped or gone (gone ones
 * are dropped from the list).  Returns 0, or the tid of a thread still
 * running at the deadline (> 0). */
static pid_t wait_stopped(int from, uint64_t deadline)
{
	int n = held_n - from;
	char *done = calloc((size_t)(n > 0 ? n : 1), 1);
	int left = n;
	pid_t late = 0;

	if (!done)
		return held_tid[from];
	while (left > 0) {
		for (int i = 0; i < n; i++) {
			int st;
			pid_t tid = held_tid[from + i];

			if (done[i])
				continue;
			pid_t r = waitpid(tid, &st, __WALL | WNOHANG);
			if (r == 0)
				continue;
			if (r == tid && WIFSTOPPED(st)) {
				int event = (unsigned)st >> 16;
				/* A signal-delivery-stop: keep the signal for the
				 * program.  An interrupt or group stop: nothing. */
				held_sig[from + i] = event == 0 ? WSTOPSIG(st) : 0;
				done[i] = 1;
				live_progress();
			} else {
				done[i] = 2; /* exited (or not ours any more) */
			}
			left--;
		}
		if (left == 0)
			break;
		if (live_now_ns() > deadline) {
			for (int i = 0; i < n && !late; i++)
				if (!done[i])
					late = held_tid[from + i];
			break;
		}
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	if (!late) {
		/* Drop the threads that exited; keep the order. */
		int w = from;
		for (int i = 0; i < n; i++) {
			if (done[i] == 1) {
				held_tid[w] = held_tid[from + i];
				held_sig[w] = held_sig[from + i];
				w++;
			}
		}
		held_n = w;
	}
	free(done);
	return late;
}

/* Give back what a failed stop holds.  Threads that are stopped are
 * detached; a thread that never stopped cannot be detached by
 * PTRACE_DETACH and is released when mapscan exits, moments later. */
static void release_after_failure(void)
{
	for (sig_atomic_t i = 0; i < held_n; i++) {
		int st = 0;
		pid_t tid = held_tid[i];

		if (sys_ptrace(PTRACE_DETACH, tid, held_sig[i]) < 0 && errno == ESRCH) {
			/* Not stopped yet: give it a moment to reach the stop. */
			uint64_t until = live_now_ns() + 100000000u;
			while (live_now_ns() < until && waitpid(tid, &st, __WALL | WNOHANG) == 0) {
				struct timespec ts = { 0, 100000 };
				nanosleep(&ts, NULL);
			}
			sys_ptrace(PTRACE_DETACH, tid, WIFSTOPPED(st) && ((unsigned)st >> 16) == 0
				   ? WSTOPSIG(st) : 0);
		}
	}
	held_n = 0;
	holding = 0;
}

int live_stop(int pid, uint64_t max_pause_ns, size_t *nthreads, struct ms_error *err)
{
	sigset_t block, old;
	uint64_t deadline = UINT64_MAX;
	int rc = 0;

	if (held_n || holding)
		return ms_err(err, MS_EINTERNAL, "a process is already held (one at a time)");
	cut = 0;
	t_first_stop = t_resumed = 0;
	caught_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	install_handlers();
	/* The watchdog child exists before the first thread stops: a SIGSTOP
	 * to mapscan at any moment of the pause is then covered. */
	guard_start(max_pause_ns ? live_now_ns() + max_pause_ns + GUARD_GRACE_NS : 0);

	for (;;) {
		pid_t *tids = NULL, *known = NULL;
		size_t ntids = 0;
		int first_new = held_n;

		if (list_tasks(pid, &tids, &ntids) < 0) {
			rc = errno == ENOENT ? ms_err(err, MS_EPROCESS, "process %d exited", pid)
					     : ms_err(err, MS_EPROCESS, "/proc/%d/task: %s", pid,
						      strerror(errno));
			break;
		}
		known = malloc(((size_t)held_n + 1) * sizeof(*known));
		if (!known) {
			free(tids);
			rc = ms_err(err, MS_EINTERNAL, "out of memory");
			break;
		}
		memcpy(known, held_tid, (size_t)held_n * sizeof(*known));
		qsort(known, (size_t)held_n, sizeof(*known), cmp_pid);
		/* The main thread first: it is the one a core names first. */
		for (size_t i = 1; i < ntids; i++)
			if (tids[i] == pid) {
				tids[i] = tids[0];
				tids[0] = pid;
			}
		for (size_t i = 0; i < ntids && !rc; i++) {
			if (bsearch(&tids[i], known, (size_t)first_new, sizeof(*known), cmp_pid))
				continue;
			if (held_n == MAX_HELD) {
				rc = ms_err(err, MS_EPROCESS, "process %d has more than %d threads; "
					    "mapscan cannot stop it (use --no-stop)", pid, MAX_HELD);
				break;
			}
			if (sys_ptrace(PTRACE_SEIZE, tids[i], 0) < 0) {
				int e = errno;
				if (e == ESRCH || (e == EPERM && thread_exiting(pid, tids[i])))
					continue; /* the thread exited meanwhile */
				if (e == EPERM || e == EACCES)
					rc = live_perm_error(pid, "stop", e, err);
				else
					rc = ms_err(err, MS_EPROCESS, "cannot attach to thread %d of "
						    "process %d: %s", tids[i], pid, strerror(e));
				break;
			}
			held_tid[held_n] = tids[i];
			held_sig[held_n] = 0;
			held_n = held_n + 1;
		}
		free(tids);
		free(known);
		if (rc)
			break;
		if (held_n == first_new)
			break; /* a listing with nothing new: everything is stopped */
		if (!t_first_stop) {
			t_first_stop = live_now_ns();
			deadline = max_pause_ns ? t_first_stop + max_pause_ns : UINT64_MAX;
		}
		for (int i = first_new; i < held_n; i++)
			sys_ptrace(PTRACE_INTERRUPT, held_tid[i], 0);
		pid_t late = wait_stopped(first_new, deadline);
		if (late) {
			rc = ms_err(err, MS_EPROCESS, "thread %d of process %d did not stop within "
				    "the pause limit (busy in the kernel?); try again, raise --max-pause, "
				    "or read without stopping with --no-stop", late, pid);
			break;
		}
	}
	if (!rc && (held_n == 0 || held_tid[0] != pid))
		rc = ms_err(err, MS_EPROCESS, "process %d exited while mapscan was stopping it", pid);
	if (rc) {
		release_after_failure();
		guard_reap();
		restore_handlers();
		sigprocmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	holding = 1;
	*nthreads = (size_t)held_n;
	if (max_pause_ns) {
		uint64_t now = live_now_ns();
		uint64_t left = deadline > now ? deadline - now : 1;
		set_watchdog(left);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

uint64_t live_resume(void)
{
	sigset_t block, old;

	caught_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (installed) {
		set_watchdog(0);
		drain_alarm();
	}
	if (holding)
		detach_all();
	/* Threads that died while held are still ours to collect. */
	for (sig_atomic_t i = 0; i < held_n; i++) {
		int st;
		waitpid(held_tid[i], &st, __WALL | WNOHANG);
	}
	held_n = 0;
	guard_reap();
	restore_handlers();
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!t_first_stop || t_resumed < t_first_stop)
		return 0;
	return t_resumed - t_first_stop;
}
