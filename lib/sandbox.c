/* See sandbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "error.h"
#include "sandbox.h"


/* Built with AddressSanitizer (gcc says __SANITIZE_ADDRESS__, clang
 * __has_feature): its shadow memory needs terabytes of address space, and
 * its reports should reach the test that ran it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
#include <sanitizer/common_interface_defs.h>

/* A sanitizer's report in the child ends in its death by a signal, as a
 * crash would in a build without sanitizers (the sanitizer would exit
 * with status 1, which reads as a result). */
static void die_by_signal(void)
{
	signal(SIGABRT, SIG_DFL);
	raise(SIGABRT);
}
#endif

/* How the child's exit status says what fn returned: 0 stays 0, an error
 * status s becomes STATUS_BASE + s.  Any other status is not fn's. */
#define STATUS_BASE 64

/* The child's descriptors, once set up. */
enum { CHILD_IN = 3, CHILD_OUT = 4 };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *sandbox_signal_name(int sig, char buf[16])
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGABRT: return "SIGABRT";
	case SIGBUS:  return "SIGBUS";
	case SIGILL:  return "SIGILL";
	case SIGFPE:  return "SIGFPE";
	case SIGSYS:  return "SIGSYS";
	case SIGKILL: return "SIGKILL";
	case SIGXCPU: return "SIGXCPU";
	case SIGXFSZ: return "SIGXFSZ";
	case SIGTERM: return "SIGTERM";
	case SIGINT:  return "SIGINT";
	}
	snprintf(buf, 16, "signal %d", sig);
	return buf;
}

/* The filter: everything not listed kills the process.  What a parse of
 * a file already open needs, and what the C library and the allocator do
 * on the way (abort included: a library that detects a corrupted heap
 * raises SIGABRT, which must still kill the child and not be refused). */
static int confine(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (!ctx)
		return -1;
#define ALLOW(name, ...) \
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), __VA_ARGS__)
	/* The input, read in place. */
	ALLOW(read, 1, SCMP_A0(SCMP_CMP_EQ, CHILD_IN, 0));
	ALLOW(pread64, 1, SCMP_A0(SCMP_CMP_EQ, CHILD_IN, 0));
	ALLOW(lseek, 1, SCMP_A0(SCMP_CMP_EQ, CHILD_IN, 0));
	ALLOW(fstat, 0);
	ALLOW(newfstatat, 0);
	/* The output; pwrite puts an error message over a partial result. */
	ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, CHILD_OUT, 0));
	ALLOW(pwrite64, 1, SCMP_A0(SCMP_CMP_EQ, CHILD_OUT, 0));
	/* Memory, never executable. */
	ALLOW(mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ALLOW(mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ALLOW(munmap, 0);
	ALLOW(mremap, 0);
	ALLOW(brk, 0);
	ALLOW(madvise, 0);
	/* Leaving, by returning or by abort(). */
	ALLOW(exit_group, 0);
	ALLOW(exit, 0);
	ALLOW(rt_sigreturn, 0);
	ALLOW(rt_sigprocmask, 0);
	ALLOW(getpid, 0);
	ALLOW(gettid, 0);
	ALLOW(tgkill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	ALLOW(clock_gettime, 0);
	/* glibc's qsort asks how much memory the machine has. */
	ALLOW(sysinfo, 0);
	/* Opening anything is refused, not fatal: glibc reporting a corrupted
	 * heap tries /dev/tty before it aborts, and the abort says more. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	/* Last words (glibc on a corrupted heap, a sanitizer's report) go to
	 * stderr: /dev/null, but in a sanitizer build the test's. */
	ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, 2, 0));
	ALLOW(writev, 1, SCMP_A0(SCMP_CMP_EQ, 2, 0));
#ifdef UNDER_ASAN
	/* What a sanitizer does while it reports; the files it would open to
	 * symbolize the report are refused, the report still appears. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(readlink), 0);
	ALLOW(sigaltstack, 0);
	ALLOW(rt_sigaction, 0);
	ALLOW(sched_yield, 0);
	ALLOW(futex, 0);
	ALLOW(prctl, 0);
	ALLOW(getrlimit, 0);
	ALLOW(prlimit64, 0);
	ALLOW(close, 0);
	ALLOW(ioctl, 1, SCMP_A0(SCMP_CMP_EQ, 2, 0));
	ALLOW(getppid, 0);
	ALLOW(uname, 0);
	ALLOW(sched_getaffinity, 0);
	ALLOW(munlock, 0);
	ALLOW(mlock, 0);
#endif
#undef ALLOW
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc ? -1 : 0;
}

static void limit(int what, uint64_t v)
{
	struct rlimit r = { (rlim_t)v, (rlim_t)v };
	setrlimit(what, &r);
}

/* In the child: never returns. */
static void child(sandbox_fn fn, void *arg, int in_fd, int out_fd, pid_t parent,
		  const struct sandbox_limits *lim)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* Whatever mapscan catches (live.c's handlers) dies the default way. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	int in = fcntl(in_fd, F_DUPFD, 10), out = fcntl(out_fd, F_DUPFD, 10);
	int nul = open("/dev/null", O_RDWR);
	if (in < 0 || out < 0 || nul < 0 || dup2(in, CHILD_IN) < 0 || dup2(out, CHILD_OUT) < 0)
		_exit(126);
	dup2(nul, 0);
	dup2(nul, 1);
#ifndef UNDER_ASAN
	/* What a crashing library prints is not for the user: the parent
	 * says in one line what happened. */
	dup2(nul, 2);
#endif
	/* Every other descriptor (the core, /proc files, pipes) goes. */
	if (syscall(SYS_close_range, CHILD_OUT + 1, ~0u, 0) < 0) {
		struct rlimit r;
		long max = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 65536 ? (long)r.rlim_cur
										   : 65536;
		for (long fd = CHILD_OUT + 1; fd < max; fd++)
			close((int)fd);
	}
	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_FSIZE, lim->max_output);
	limit(RLIMIT_NOFILE, CHILD_OUT + 1);
	if (lim->cpu_seconds) {
		/* SIGXCPU at the limit (the parent can say why), SIGKILL soon
		 * after if that is caught. */
		struct rlimit r = { lim->cpu_seconds, lim->cpu_seconds + 2 };
		setrlimit(RLIMIT_CPU, &r);
	}
#ifndef UNDER_ASAN
	/* ASan reserves terabytes of shadow address space. */
	if (lim->max_memory)
		limit(RLIMIT_AS, lim->max_memory);
#endif
#ifdef UNDER_ASAN
	__sanitizer_set_death_callback(die_by_signal);
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0 ||
	    confine() < 0)
		_exit(SANDBOX_NO_FILTER);
	int rc = fn(arg, CHILD_IN, CHILD_OUT);
	/* _exit: no atexit handlers (LeakSanitizer's would need /proc). */
	/* 1-31 in the status's low bits; anything else is an internal error,
	 * never STATUS_BASE itself, which the parent would read as success. */
	_exit(rc ? STATUS_BASE + (rc >= 1 && rc <= 31 ? rc : MS_EINTERNAL) : 0);
}

/* Statuses the child uses for its own setup failures. */
static bool setup_status(int st)
{
	return st >= 125 && st <= 127;
}

int sandbox_run(sandbox_fn fn, void *arg, int in_fd, const struct sandbox_limits *lim,
		struct sandbox_result *res)
{
	struct sandbox_child c;
	if (sandbox_start(fn, arg, in_fd, lim, &c, res))
		return -1;
	return sandbox_wait(&c, lim, res);
}

int sandbox_start(sandbox_fn fn, void *arg, int in_fd, const struct sandbox_limits *lim,
		  struct sandbox_child *c, struct sandbox_result *res)
{
	memset(res, 0, sizeof(*res));
	c->pid = -1;
	c->out = memfd_create("mapscan-sandbox", MFD_CLOEXEC);
	if (c->out < 0) {
		res->end = SANDBOX_SETUP;
		res->errno_ = errno;
		return -1;
	}
	c->t0 = now_ns();
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		res->end = SANDBOX_SETUP;
		res->errno_ = errno;
		close(c->out);
		return -1;
	}
	if (pid == 0)
		child(fn, arg, in_fd, c->out, parent, lim);
	c->pid = pid;
	return 0;
}

int sandbox_wait(struct sandbox_child *c, const struct sandbox_limits *lim,
		 struct sandbox_result *res)
{
	pid_t pid = c->pid;
	int out = c->out;
	uint64_t t0 = c->t0;
	memset(res, 0, sizeof(*res));
	/* Wait, polling (a SIGCHLD handler or a pidfd would do too; this
	 * touches no global state).  The first polls are quick: a small
	 * executable is parsed in milliseconds. */
	uint64_t deadline = t0 + (uint64_t)lim->wall_seconds * 1000000000u;
	long nap = 20000;
	int st = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			res->end = SANDBOX_SETUP;
			res->errno_ = errno;
			close(out);
			return -1;
		}
		if (lim->wall_seconds && now_ns() > deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			res->end = SANDBOX_TIMEOUT;
			close(out);
			return -1;
		}
		struct timespec ts = { 0, nap };
		nanosleep(&ts, NULL);
		if (nap < 10000000)
			nap *= 2;
	}
	res->child_ns = now_ns() - t0;
	if (WIFSIGNALED(st)) {
		res->end = SANDBOX_KILLED;
		res->signal = WTERMSIG(st);
		close(out);
		return -1;
	}
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 125;
	if (setup_status(status)) {
		res->end = SANDBOX_SETUP;
		res->errno_ = 0;
		res->status = status;
		close(out);
		return -1;
	}
	if (status && (status <= STATUS_BASE || status >= STATUS_BASE + 32)) {
		/* Not fn's return: something in the child called exit(). */
		res->end = SANDBOX_KILLED;
		res->status = status;
		close(out);
		return -1;
	}
	if (status)
		status -= STATUS_BASE;
	/* The child is gone: nobody can change the file any more. */
	struct stat sb;
	if (fstat(out, &sb) < 0 || sb.st_size < 0 || (uint64_t)sb.st_size > lim->max_output) {
		res->end = SANDBOX_KILLED;
		res->signal = SIGXFSZ;
		close(out);
		return -1;
	}
	if (sb.st_size > 0) {
		void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, out, 0);
		if (p == MAP_FAILED) {
			res->end = SANDBOX_SETUP;
			res->errno_ = errno;
			close(out);
			return -1;
		}
		res->data = p;
		res->len = (size_t)sb.st_size;
	}
	close(out);
	res->status = status;
	res->end = status ? SANDBOX_FAILED : SANDBOX_OK;
	return status ? -1 : 0;
}

void sandbox_result_free(struct sandbox_result *res)
{
	if (res->data)
		munmap((void *)res->data, res->len);
	res->data = NULL;
	res->len = 0;
}
