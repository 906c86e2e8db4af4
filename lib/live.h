/* A running process seen from outside: what /proc says about it, its
 * memory, and stopping all its threads so that a read is one instant.
 *
 * Nothing here ever writes to the process.  Memory is read with
 * process_vm_readv (falling back to /proc/PID/mem when the kernel lacks
 * it).  Stopping uses PTRACE_SEIZE and PTRACE_INTERRUPT, which send the
 * process no signal; PTRACE_DETACH resumes it, re-delivering any signal
 * that arrived while it was held.  If mapscan dies while holding the
 * process (even by SIGKILL) the kernel detaches it and it runs on.
 *
 * At most one process is held at a time: the list of stopped threads is
 * static so that the signal handlers installed while holding it
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT: resume the process, then die as the
 * signal asks; SIGTSTP: resume it, then stop; SIGALRM: the --max-pause
 * watchdog) can resume it from any point. */
#ifndef MAPSCAN_LIVE_H
#define MAPSCAN_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Facts from /proc/PID/stat and /proc/PID/status. */
struct live_proc {
	int pid;
	char state;                /* 'R', 'S', 'D', 'T', 't', 'Z', 'X', ... */
	char comm[17];             /* sanitised for messages */
	int ppid, pgrp, sid;
	int nice;
	long nthreads;
	bool kthread;              /* a kernel thread: no user memory */
	int tracer;                /* TracerPid: 0 when nobody traces it */
	unsigned uid, gid;         /* real ids */
};

/* Read the process's /proc facts.  A PID with no process, a zombie and
 * a kernel thread are MS_EPROCESS with a message saying so. */
int live_proc_read(int pid, struct live_proc *p, struct ms_error *err);

/* 1 if the process still exists and is not a zombie, else 0. */
int live_proc_alive(int pid);

/* Fill err with MS_EPERM and one line saying why `what` ("read the memory
 * of", "stop") process pid was refused with errno e and how to fix it:
 * same user or CAP_SYS_PTRACE, kernel.yama.ptrace_scope, containers.
 * Returns -1. */
int live_perm_error(int pid, const char *what, int e, struct ms_error *err);

/* One line of /proc/PID/maps.  name is "" for anonymous memory. */
struct live_range {
	uint64_t start, end, offset;
	uint64_t inode;
	char perms[5];             /* "rw-p" */
	char *name;
};

/* Parse /proc/PID/maps into a newly allocated array (sorted by address,
 * as the kernel writes it); free with live_ranges_free. */
int live_ranges_read(int pid, struct live_range **out, size_t *n, struct ms_error *err);
void live_ranges_free(struct live_range *r, size_t n);

/* Memory of a process.  reads: process_vm_readv, or pread on
 * /proc/PID/mem when the kernel has no process_vm_readv (or
 * MAPSCAN_TEST_PROC_MEM=1 asks for it, so tests cover that path). */
struct live_mem {
	int pid;
	int memfd;                 /* /proc/PID/mem, opened on first need */
	bool procmem;              /* reading through /proc/PID/mem */
};

void live_mem_init(struct live_mem *m, int pid);
void live_mem_close(struct live_mem *m);

/* Read up to n bytes at addr.  Returns the bytes read, which are fewer
 * than n when the range runs into memory that cannot be read, or -1 with
 * errno (EFAULT/EIO: nothing readable at addr; EPERM/EACCES: not
 * allowed; ESRCH: the process is gone). */
ssize_t live_mem_read(struct live_mem *m, uint64_t addr, void *buf, size_t n);

/* Stop every thread of pid; *nthreads says how many were stopped.
 * Threads started while stopping are found by listing /proc/PID/task
 * until no new one appears.  After max_pause_ns (measured from the first
 * stop) a watchdog resumes the process even if mapscan has not finished.
 * With or without that limit (0: none), a watchdog process resumes it
 * (by killing mapscan) when mapscan is stopped for more than a second or
 * makes no progress for five (see live_progress); the rule is in live.c.
 * Errors: MS_EPERM (not allowed, explained), MS_EPROCESS (the process
 * exited, is already traced, or a thread did not stop in time); on error
 * nothing is held. */
int live_stop(int pid, uint64_t max_pause_ns, size_t *nthreads, struct ms_error *err);

/* Tell the watchdog that mapscan is still working while it holds the
 * process.  Every read of the process's memory counts already; code that
 * works for seconds without reading calls this now and then. */
void live_progress(void);

/* Thread ids now held, main thread first; *n is 0 when nothing is held
 * (never stopped, resumed, or resumed early by the watchdog). */
const pid_t *live_held(size_t *n);

/* Resume whatever is held (nothing if nothing is) and remove the signal
 * handlers.  Returns how long the process was stopped, in nanoseconds. */
uint64_t live_resume(void);

/* True when the process was resumed before live_resume, by the watchdog
 * or by SIGTSTP: reads after that point saw a running process. */
bool live_cut_short(void);

/* A file to delete if a signal kills mapscan while the process is held
 * (the --save-core output being written); NULL clears it. */
void live_set_cleanup_path(const char *path);

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t live_now_ns(void);

#endif
