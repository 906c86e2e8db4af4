/* The live-process backend: reads through a chunk cache from
 * process_vm_readv, target_open_pid, stopping and resuming.  See
 * target_impl.h and live.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "live.h"
#include "target_impl.h"

/* ---- live processes --------------------------------------------------- */

/* Reads from a live process go through a small cache: 8 KiB chunks read
 * with one process_vm_readv each (map walkers make millions of small
 * reads; one system call each would dominate the pause), 2-way set
 * associative, at most 32 MiB.  A chunk remembers which of its pages could
 * be read, so a hole costs one failed read, not one per access.
 *
 * The pause is the bytes copied more than the calls: a walk reads a map
 * header here, a group there, and most of a big chunk is copied for
 * nothing.  Measured on a 2.2 GiB process with a million maps (and on a
 * 1.4 GiB one with 116,000), in a 16 MiB cache: 64 KiB chunks made 239,000
 * reads and a 4.2-4.8 s pause (2.0-2.4 s), 16 KiB 394,000 and 2.9-3.0 s
 * (1.3-1.6 s), 8 KiB 549,000 and 3.2-3.5 s (1.2-1.3 s), 4 KiB 906,000 and
 * 3.3-3.8 s (1.2-1.7 s).  A 32 MiB cache saves only 2-4% of the reads
 * (the misses are first touches, not evictions), and 8 KiB chunks in it
 * paused 2.7-2.9 s (1.1-1.2 s). */
#define CHUNK_SHIFT 13
#define CHUNK_SIZE ((uint64_t)1 << CHUNK_SHIFT)
#define LPAGE 4096u
#define CACHE_SETS 2048
#define CACHE_WAYS 2
#define DIRECT_MIN (4 * CHUNK_SIZE)   /* larger reads bypass the cache */
#define USER_TOP ((uint64_t)1 << 62)  /* no user address is above this */
#define REFRESH_NS 100000000u         /* --no-stop: re-read maps at most every 100 ms */

struct chunk {
	uint64_t base;             /* address; meaningless while data is NULL */
	uint64_t used;             /* tick of the last use, for LRU */
	uint32_t valid;            /* bit i: page i of the chunk was read */
	bool filled;
	unsigned char *data;
};

struct span {
	uint64_t start, end;       /* readable per /proc/PID/maps */
};

/* Everything a const reader may change lives here, behind a pointer. */
struct live {
	struct live_mem mem;
	struct span *readable;
	size_t nreadable;
	uint64_t readable_ns;      /* when /proc/PID/maps was read */
	struct chunk cache[CACHE_SETS][CACHE_WAYS];
	uint64_t tick;
	bool gone;                 /* a read said ESRCH */
	bool denied;               /* a read said EPERM */
	int deny_errno;
};

void tg_live_free(struct live *L)
{
	if (!L)
		return;
	live_mem_close(&L->mem);
	free(L->readable);
	for (size_t s = 0; s < CACHE_SETS; s++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			free(L->cache[s][w].data);
	free(L);
}

static void live_forget(struct live *L)
{
	for (size_t s = 0; s < CACHE_SETS; s++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			L->cache[s][w].filled = false;
}

/* Re-read the readable ranges.  Adjacent ranges are merged. */
static int refresh_readable(struct live *L, int pid, struct ms_error *err)
{
	struct live_range *r;
	size_t n, k = 0;
	struct span *s;

	if (live_ranges_read(pid, &r, &n, err) < 0)
		return -1;
	s = malloc(n * sizeof(*s));
	if (!s) {
		live_ranges_free(r, n);
		return ms_err(err, MS_EINTERNAL, "out of memory for the maps of process %d", pid);
	}
	for (size_t i = 0; i < n; i++) {
		if (r[i].perms[0] != 'r' || r[i].end <= r[i].start)
			continue;
		if (k && s[k - 1].end == r[i].start)
			s[k - 1].end = r[i].end;
		else
			s[k++] = (struct span){ r[i].start, r[i].end };
	}
	live_ranges_free(r, n);
	free(L->readable);
	L->readable = s;
	L->nreadable = k;
	L->readable_ns = live_now_ns();
	return 0;
}

/* Index of the first readable span ending above addr. */
static size_t span_above(const struct live *L, uint64_t addr)
{
	size_t lo = 0, hi = L->nreadable;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (L->readable[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool tg_live_region(const struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	const struct live *L = t->live;
	size_t i = span_above(L, addr);
	if (i >= L->nreadable || L->readable[i].start > addr)
		return false;
	*lo = L->readable[i].start;
	*hi = L->readable[i].end;
	return true;
}

static void note_errno(struct live *L, int e)
{
	if (e == ESRCH)
		L->gone = true;
	else if (e == EPERM || e == EACCES) {
		L->denied = true;
		L->deny_errno = e;
	}
}

static void mark_valid(struct chunk *c, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p + LPAGE <= hi; p += LPAGE)
		c->valid |= 1u << ((p - c->base) / LPAGE);
}

/* Read [lo, hi) of chunk c (page aligned, inside one readable span): in
 * one piece, then page by page past the first page that fails. */
static void read_span(struct live *L, struct chunk *c, uint64_t lo, uint64_t hi)
{
	ssize_t k = live_mem_read(&L->mem, lo, c->data + (lo - c->base), hi - lo);

	if (k < 0) {
		note_errno(L, errno);
		if (L->gone || L->denied)
			return;
		k = 0;
	}
	mark_valid(c, lo, lo + (uint64_t)k);
	if ((uint64_t)k == hi - lo)
		return;
	for (uint64_t p = lo + ((uint64_t)k & ~(uint64_t)(LPAGE - 1)); p < hi; p += LPAGE) {
		if (live_mem_read(&L->mem, p, c->data + (p - c->base), LPAGE) == LPAGE)
			c->valid |= 1u << ((p - c->base) / LPAGE);
		else if (errno == ESRCH || errno == EPERM || errno == EACCES) {
			note_errno(L, errno);
			return;
		}
	}
}

static void fill_chunk(const struct target *t, struct chunk *c, uint64_t base)
{
	struct live *L = t->live;
	uint64_t end = base + CHUNK_SIZE;
	size_t i = span_above(L, base);

	/* --no-stop: the process may have mapped memory since we looked. */
	if ((i == L->nreadable || L->readable[i].start >= end) && t->popts.no_stop &&
	    live_now_ns() - L->readable_ns > REFRESH_NS && refresh_readable(L, t->pid, NULL) == 0)
		i = span_above(L, base);
	c->base = base;
	c->valid = 0;
	c->filled = true;
	for (; i < L->nreadable && L->readable[i].start < end && !L->gone && !L->denied; i++) {
		uint64_t lo = L->readable[i].start > base ? L->readable[i].start : base;
		uint64_t hi = L->readable[i].end < end ? L->readable[i].end : end;

		read_span(L, c, lo, hi);
	}
}

static const struct chunk *get_chunk(const struct target *t, uint64_t base)
{
	struct live *L = t->live;
	struct chunk *way = L->cache[(base >> CHUNK_SHIFT) % CACHE_SETS], *victim = &way[0];

	L->tick++;
	for (size_t w = 0; w < CACHE_WAYS; w++) {
		if (way[w].filled && way[w].base == base) {
			way[w].used = L->tick;
			return &way[w];
		}
		if (!way[w].filled || way[w].used < victim->used)
			victim = &way[w];
	}
	if (!victim->data && !(victim->data = malloc(CHUNK_SIZE)))
		return NULL;
	fill_chunk(t, victim, base);
	victim->used = L->tick;
	return victim;
}

static bool pages_valid(const struct chunk *c, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo / LPAGE; p <= (hi - 1) / LPAGE; p++)
		if (!(c->valid & (1u << p)))
			return false;
	return true;
}

/* A large read (a Swiss map's directory): straight from the process, if
 * every byte lies in readable ranges. */
static int read_direct(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	struct live *L = t->live;
	uint64_t cur = addr, end = addr + n;
	unsigned char *out = buf;

	for (size_t i = span_above(L, addr); cur < end; i++) {
		if (i >= L->nreadable || L->readable[i].start > cur)
			return -1;
		cur = L->readable[i].end;
	}
	for (cur = addr; cur < end;) {
		ssize_t k = live_mem_read(&L->mem, cur, out + (cur - addr), end - cur);

		if (k <= 0) {
			if (k < 0)
				note_errno(L, errno);
			return -1;
		}
		cur += (uint64_t)k;
	}
	return 0;
}

int tg_live_read(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	struct live *L = t->live;
	unsigned char *out = buf;

	if (L->gone || L->denied || addr >= USER_TOP || n >= USER_TOP - addr)
		return -1;
	if (n >= DIRECT_MIN)
		return read_direct(t, addr, buf, n);
	/* Check every chunk first (no partial copies), then copy: the few
	 * chunks of one read sit in consecutive sets, so they stay cached. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t a = addr, left = n;

		while (left) {
			uint64_t base = a & ~(CHUNK_SIZE - 1), off = a - base;
			uint64_t k = CHUNK_SIZE - off < left ? CHUNK_SIZE - off : left;
			const struct chunk *c = get_chunk(t, base);

			if (!c || !pages_valid(c, off, off + k))
				return -1;
			if (pass)
				memcpy(out + (a - addr), c->data + off, k);
			a += k;
			left -= k;
		}
	}
	return 0;
}

/* Read a whole small /proc file; returns its length or -1 with errno. */
static ssize_t slurp(const char *path, unsigned char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len < size) {
		ssize_t k = read(fd, buf + len, size - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = errno;
			close(fd);
			if (k < 0) {
				errno = e;
				return -1;
			}
			return (ssize_t)len;
		}
		len += (size_t)k;
	}
	close(fd);
	return (ssize_t)len;
}

/* An error opening something of process pid: permission is explained,
 * a vanished process said so. */
static int pid_open_error(int pid, const char *what, const char *path, int e,
			  struct ms_error *err)
{
	if (e == EACCES || e == EPERM)
		return live_perm_error(pid, what, e, err);
	if (!live_proc_alive(pid))
		return ms_err(err, MS_EPROCESS, "process %d exited", pid);
	return ms_err(err, MS_EPROCESS, "%s: cannot read: %s", path, strerror(e));
}

/* With --exe: every read-only byte the file has must be what the process
 * has mapped (but the headers strip rewrites, and for another build the
 * notes that hold its build ID), or the DWARF describes some other build. */
static int tg_check_live_match(struct target *t, bool other_ok, struct ms_error *err)
{
	unsigned char buf[16384];

	for (size_t i = 0; i < t->neseg; i++) {
		const struct seg *s = &t->eseg[i];
		uint64_t r[8][2];
		size_t nr;

		if (s->flags & PF_W)
			continue;
		nr = tg_compared_ranges(t, s, other_ok, r, 8);
		for (size_t j = 0; j < nr; j++)
		for (uint64_t a = r[j][0]; a < r[j][1]; a += sizeof(buf)) {
			uint64_t k = r[j][1] - a < sizeof(buf) ? r[j][1] - a : sizeof(buf);
			const unsigned char *d = s->data + (a - s->vaddr);

			if (target_read(t, a, buf, k) < 0) {
				if (t->live->denied)
					return live_perm_error(t->pid, "read the memory of",
							       t->live->deny_errno, err);
				if (t->live->gone)
					return ms_err(err, MS_EPROCESS, "process %d exited", t->pid);
				continue; /* not mapped: nothing to compare */
			}
			if (memcmp(buf, d, k) != 0) {
				uint64_t x = 0;

				while (buf[x] == d[x])
					x++;
				return tg_mismatch(t, err, "read-only memory at 0x%" PRIx64
						" differs from file offset 0x%" PRIx64,
						a + x, s->offset + (a - s->vaddr) + x);
			}
		}
	}
	return 0;
}

struct target *target_open_pid(int pid, const char *exe_override,
			       const struct target_pid_opts *o, struct ms_error *err)
{
	static const struct target_pid_opts defaults;
	struct live_proc proc;
	struct target *t;
	char path[64], link[4096];
	unsigned char auxv[8192];
	ssize_t k;
	int e;

	if (pid <= 0) {
		ms_err(err, MS_EUSAGE, "--pid needs a positive process id, not %d", pid);
		return NULL;
	}
	if (pid == getpid()) {
		ms_err(err, MS_EUSAGE, "process %d is mapscan itself", pid);
		return NULL;
	}
	if (live_proc_read(pid, &proc, err) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (!t || !(t->core_path = strdup(path)) || !(t->live = calloc(1, sizeof(*t->live)))) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		target_close(t);
		return NULL;
	}
	t->pid = pid;
#if defined(__x86_64__)
	/* Live reads are x86-64 only: the registers come from PTRACE_GETREGS
	 * (user_regs_struct), --save-core writes an x86-64 core, and nothing
	 * else could be tested.  A core of an arm64 process reads anywhere. */
	t->arch = &arch_amd64;
#else
	ms_err(err, MS_EFORMAT, "--pid reads processes on x86-64 hosts only; write a core of "
	       "process %d (gcore %d) and pass that", pid, pid);
	goto fail;
#endif
	t->popts = o ? *o : defaults;
	t->page_size = DEFAULT_PAGE_SIZE;
	live_mem_init(&t->live->mem, pid);

	/* The link text names the file for people; the link itself opens
	 * the very file the process runs, deleted or replaced on disk. */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	k = readlink(path, link, sizeof(link) - 1);
	if (k < 0) {
		e = errno;
		if (e == ENOENT && live_proc_alive(pid))
			ms_err(err, MS_EPROCESS, "process %d (%s) has no executable file (it is "
			       "exiting?)", pid, proc.comm);
		else
			pid_open_error(pid, "read the executable of", path, e, err);
		goto fail;
	}
	link[k] = '\0';
	if (!(t->exe_name = strdup(exe_override ? exe_override : link)) ||
	    !(t->exe_path = strdup(exe_override ? exe_override : path))) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		goto fail;
	}
	if (tg_map_file(t->exe_path, "executable", &t->exe, &e, err) < 0) {
		if (!exe_override && e)
			pid_open_error(pid, "read the executable of", path, e, err);
		goto fail;
	}

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	k = slurp(path, auxv, sizeof(auxv));
	if (k < 0) {
		pid_open_error(pid, "read the auxiliary vector of", path, errno, err);
		goto fail;
	}
	for (ssize_t i = 0; i + 16 <= k; i += 16) {
		uint64_t type = le64(auxv + i), val = le64(auxv + i + 8);

		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY) {
			t->have_entry = true;
			t->at_entry = val;
		} else if (type == AT_PAGESZ && val && !(val & (val - 1))) {
			t->page_size = val;
		}
	}
	if (tg_load_exe(t, err) < 0)
		goto fail;
	if (refresh_readable(t->live, pid, err) < 0)
		goto fail;

	/* One read tells whether we may read at all, before anything else. */
	{
		uint64_t probe;
		uint64_t at = t->have_entry ? t->at_entry : t->eseg[0].vaddr;

		if (live_mem_read(&t->live->mem, at, &probe, sizeof(probe)) < 0) {
			e = errno;
			if (e == EPERM || e == EACCES)
				live_perm_error(pid, "read the memory of", e, err);
			else if (e == ESRCH || !live_proc_alive(pid))
				ms_err(err, MS_EPROCESS, "process %d exited", pid);
			else
				ms_err(err, MS_EPROCESS, "cannot read the memory of process %d at "
				       "0x%" PRIx64 ": %s", pid, at, strerror(e));
			goto fail;
		}
	}
	tg_read_image_ids(t);
	if (exe_override) {
		enum exe_match m = tg_check_match(t, false, err);

		if (m == EXE_DEBUG_ONLY || m == EXE_OTHER_BUILD) {
			/* Not what the process runs: the process's own file
			 * serves as the executable, this one only as a
			 * candidate for the types (lib/debugfile.c checks it). */
			free(t->exe_candidate);
			free(t->exe_name);
			free(t->exe_path);
			t->exe_name = t->exe_path = NULL;
			tg_drop_exe(t);
			snprintf(path, sizeof(path), "/proc/%d/exe", pid);
			if (!(t->exe_candidate = strdup(exe_override)) || !(t->exe_name = strdup(link)) ||
			    !(t->exe_path = strdup(path))) {
				ms_err(err, MS_EINTERNAL, "out of memory");
				goto fail;
			}
			if (tg_map_file(t->exe_path, "executable", &t->exe, &e, err) < 0) {
				if (e)
					pid_open_error(pid, "read the executable of", path, e, err);
				goto fail;
			}
			if (tg_load_exe(t, err) < 0)
				goto fail;
		} else if (m != EXE_SAME || tg_check_live_match(t, false, err) < 0) {
			goto fail;
		}
	}
	return t;
fail:
	target_close(t);
	return NULL;
}

int target_pid(const struct target *t)
{
	return t ? t->pid : 0;
}

const char *target_exe_name(const struct target *t)
{
	if (!t)
		return NULL;
	return t->exe_name ? t->exe_name : t->exe_path;
}

int target_stop(struct target *t, struct ms_error *err)
{
	const pid_t *tids;
	size_t n;

	if (!t || !t->live || t->popts.no_stop || t->stopped)
		return 0;
	if (live_stop(t->pid, t->popts.max_pause_ns, &t->held_threads, err) < 0)
		return -1;
	t->stopped = true;
	/* Whatever was read before the stop is stale. */
	live_forget(t->live);
	if (refresh_readable(t->live, t->pid, err) < 0) {
		target_resume(t);
		return -1;
	}
	/* Empty if a signal or the watchdog has already let go. */
	tids = live_held(&n);
	free(t->threads);
	t->nthreads = t->cap_threads = 0;
	t->threads = calloc(n ? n : 1, sizeof(*t->threads));
	for (size_t i = 0; t->threads && i < n; i++) {
		struct target_thread *th = &t->threads[t->nthreads++];

		th->tid = tids[i];
#if defined(__x86_64__)
		struct user_regs_struct regs;

		if (ptrace(PTRACE_GETREGS, tids[i], NULL, &regs) == 0) {
			th->pc = regs.rip;
			th->sp = regs.rsp;
			th->fp = regs.rbp;
		}
#endif
	}
	t->cap_threads = t->nthreads;
	return 0;
}

void target_resume(struct target *t)
{
	if (!t || !t->stopped)
		return;
	t->paused_ns = live_resume();
	t->cut_short = live_cut_short();
	t->stopped = false;
}

void target_forget(struct target *t)
{
	if (t && t->live)
		live_forget(t->live);
}

void target_live_state(const struct target *t, struct target_live_state *s)
{
	memset(s, 0, sizeof(*s));
	if (!t || !t->live)
		return;
	s->stopped = t->held_threads > 0;
	s->cut_short = t->cut_short || (t->stopped && live_cut_short());
	s->gone = t->live->gone;
	s->denied = t->live->denied;
	s->paused_ns = t->paused_ns;
	s->threads = t->held_threads;
}

