/* Running a parser of untrusted input where it cannot hurt mapscan.
 *
 * libdwarf is a large C library reading a file an attacker may have
 * written (an executable handed over with --exe, the binary of a process
 * mapscan --pid reads as root); a bug in it must not corrupt mapscan.  So
 * the parse runs in a child process that holds nothing else:
 *
 *   - it is forked before anything is attached with ptrace (analyze_pid
 *     loads types before target_stop), and the core and executable
 *     mappings are not inherited (tg_map_file marks them MADV_DONTFORK);
 *   - it keeps two descriptors, the input (read-only) and the output (a
 *     memory file, memfd_create); stdin, stdout and stderr are /dev/null
 *     (in a sanitizer build stderr stays, so that the tests see a report);
 *   - it cannot gain privileges (PR_SET_NO_NEW_PRIVS), write a core
 *     (RLIMIT_CORE 0), use more than a bounded address space, CPU time
 *     and output (RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE), nor outlive
 *     mapscan (PR_SET_PDEATHSIG);
 *   - a seccomp filter (libseccomp) allows only what a parse needs:
 *     reading its input, memory management, writing its output, exiting.
 *     Any other system call (open, ptrace, process_vm_readv, socket,
 *     execve, ...) kills it.
 *
 * The parent waits for it with a wall-clock limit and only then looks at
 * what it wrote, as untrusted input: the caller validates it like any
 * other (see gtb_deserialize).  Models: file(1)'s libmagic sandbox
 * (seccomp around the parser), OpenSSH's privilege separation (the
 * unprivileged child and the monitor that checks what it sends). */
#ifndef MAPSCAN_SANDBOX_H
#define MAPSCAN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* What runs in the child: read in_fd, write the result to out_fd.
 * Returns 0, or a status from 1 to 31 (an ms_code) after writing a
 * one-line message to out_fd instead of a result. */
typedef int (*sandbox_fn)(void *arg, int in_fd, int out_fd);

struct sandbox_limits {
	uint64_t max_output;       /* bytes the child may write */
	uint64_t max_memory;       /* its address space; 0: no limit */
	unsigned cpu_seconds;      /* CPU time before the kernel kills it */
	unsigned wall_seconds;     /* wall-clock time before mapscan kills it */
};

enum sandbox_end {
	SANDBOX_OK,                /* fn returned 0: data/len is its result */
	SANDBOX_FAILED,            /* fn returned status; data/len is its message */
	SANDBOX_KILLED,            /* the child died of signal (SIGSEGV, SIGABRT, SIGSYS: a
				    * forbidden system call, SIGXCPU, SIGXFSZ: output too big),
				    * or (signal 0) exited with status without fn returning */
	SANDBOX_TIMEOUT,           /* it ran past wall_seconds and was killed */
	SANDBOX_SETUP,             /* the child could not be started (errno_), or could not
				    * set itself up: status SANDBOX_NO_FILTER when the kernel
				    * refused the seccomp filter or no_new_privs */
};

enum { SANDBOX_NO_FILTER = 125 };

struct sandbox_result {
	enum sandbox_end end;
	int status;                /* SANDBOX_FAILED: fn's status */
	int signal;                /* SANDBOX_KILLED */
	int errno_;                /* SANDBOX_SETUP */
	const unsigned char *data; /* what the child wrote, read-only; NULL if nothing */
	size_t len;
	uint64_t child_ns;         /* from fork to the child's end, for measurements */
};

/* Run fn(arg, in_fd, out) in a confined child and wait for it.  Fills *res
 * (release with sandbox_result_free) and returns 0 when the child ended
 * with SANDBOX_OK, -1 otherwise. */
int sandbox_run(sandbox_fn fn, void *arg, int in_fd, const struct sandbox_limits *lim,
		struct sandbox_result *res);

/* The same in two steps, for children that run side by side: start one
 * (-1 with *res saying why when it cannot be), then wait for it, each
 * under its own limits.  Every started child must be waited for. */
struct sandbox_child {
	int pid;
	int out;
	uint64_t t0;
};
int sandbox_start(sandbox_fn fn, void *arg, int in_fd, const struct sandbox_limits *lim,
		  struct sandbox_child *c, struct sandbox_result *res);
int sandbox_wait(struct sandbox_child *c, const struct sandbox_limits *lim,
		 struct sandbox_result *res);
void sandbox_result_free(struct sandbox_result *res);

/* A short name of signal sig ("SIGSEGV"); "signal N" for others. */
const char *sandbox_signal_name(int sig, char buf[16]);

#endif
