/* analyze_core and analyze_pid: the pipeline target -> types -> runtime ->
 * roots -> report. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "coverage.h"
#include "debugfile.h"
#include "dwarf_load.h"
#include "elffile.h"
#include "live.h"
#include "typedesc.h"
#include "heap.h"
#include "snapshot.h"

static bool is_go(const struct elffile *f)
{
	return elffile_section(f, ".gopclntab") || elffile_section(f, ".go.buildinfo") ||
	       elffile_section(f, ".note.go.buildid") || elffile_build_ids(f)->go[0];
}

int exe_is_go(const char *path, struct ms_error *err)
{
	struct elffile *f = elffile_open(path, err);
	int go;

	if (!f)
		return -1;
	go = is_go(f);
	elffile_close(f);
	return go;
}

/* The image's types: 1 with *g set and r told where they came from, 0 when
 * the executable is not a Go program (err untouched: the caller says what
 * it is), -1 on error (err filled). */
static int load_types(const struct target *t, const struct analyze_opts *opts, struct report *r,
		      struct gtypes **g, struct ms_error *err)
{
	struct debug_choice dc;

	if (!is_go(target_exe_file(t)))
		return 0;
	if (debugfile_find(t, opts ? opts->debug_file : NULL, &dc, err) < 0)
		return -1;
	if (!dc.path) {
		/* No DWARF anywhere: what the binary keeps for its runtime. */
		struct typedesc_info ti;
		if (!(*g = typedesc_load(t, &ti, err)))
			return -1;
		r->names_limited = true;
		report_add_warning(r, "%s has no debug information (DWARF) and none was found (looked "
				   "at %s): types and function names come from the binary's own "
				   "runtime tables (%s), variables are named by their address and "
				   "goroutine locals by their frame; for names, pass a debug copy of "
				   "this build with --debug-file, or an unstripped build with --exe",
				   target_exe_name(t), dc.looked, ti.layout);
		if (ti.newer)
			report_add_warning(r, "built with %s, newer than the layouts mapscan knows "
					   "(%s): figures may be wrong", ti.version, ti.layout);
		if (!ti.goroutines)
			report_add_warning(r, "runtime.allgs was not found without symbols: goroutine "
					   "stacks are not read, and maps only they hold are missed");
		return 1;
	}
	*g = gtypes_load(dc.path, err);
	if (*g && dc.match == DEBUG_OTHER_BUILD && debugfile_verify(t, *g, &dc, err) < 0) {
		gtypes_free(*g);
		*g = NULL;
	}
	if (*g && dc.data_shift)
		gtypes_move_vars(*g, dc.data_lo, dc.data_hi, dc.data_shift);
	if (*g) {
		r->debug_info = dc.path;
		dc.path = NULL;
		r->debug_found_by = debugfile_found_by_name(dc.found_by);
		r->debug_other_build = dc.match == DEBUG_OTHER_BUILD;
	}
	debugfile_choice_free(&dc);
	return *g ? 1 : -1;
}

/* One pass over the target: runtime facts, then every map. */
static int scan_once(const struct target *t, const struct gtypes *g,
		     const struct analyze_opts *opts, struct report *r, struct ms_error *err)
{
	struct goruntime rt;

	if (goruntime_init(&rt, g, t, err) < 0)
		return -1;
	free(r->go_version);
	r->go_version = strdup(rt.version);
	r->layout = rt.layout;
	if (!r->go_version)
		return ms_err(err, MS_EINTERNAL, "out of memory");
	if (!rt.nclasses && rt.layout == LAYOUT_CLASSIC)
		report_add_warning(r, "the allocator's size classes could not be read; classic "
				   "bucket arrays of 16 buckets or more may be under-counted");
	struct heap h;
	analyze_progress(opts, ANALYZE_HEAP, 0, 0);
	int hrc = heap_load(&h, t, g, &rt);
	r->heap_scanned = hrc == 0;
	if (hrc == 0 && opts && opts->no_stop)
		heap_assume_allocated(&h);
	int rc = roots_scan(t, g, &rt, hrc == 0 ? &h : NULL, r, opts, err);
	if (rc == 0)
		heap_summary(r, &h, hrc);
	if (rc == 0 && coverage_report(t, g, r))
		rc = ms_err(err, MS_EINTERNAL, "out of memory");
	heap_free(&h);
	return rc;
}

void analyze_library_versions(char *buf, size_t n)
{
	char codecs[200];
	target_codec_versions(codecs, sizeof(codecs));
	snprintf(buf, n, "libdwarf %s, %s", dwarf_library_version(), codecs);
}

int analyze_core(const char *core_path, const char *exe_path, const struct analyze_opts *opts,
		 struct report *r, struct ms_error *err)
{
	memset(r, 0, sizeof(*r));
	struct target *t = target_open_core(core_path, exe_path, err);
	if (!t)
		return -1;
	const char *exe = target_exe_path(t);
	struct gtypes *g = NULL;
	analyze_progress(opts, ANALYZE_DWARF, 0, 0);
	int go = load_types(t, opts, r, &g, err);
	if (go <= 0) {
		if (go == 0)
			ms_err(err, MS_ENOTGO, "%s: core of %s, which is not a Go program; mapscan "
			       "analyses Go programs only", core_path, exe);
		target_close(t);
		return -1;
	}
	int rc = 0;
	r->source = strdup(core_path);
	r->source_kind = strdup("core");
	r->source_compression = target_core_compression(t);
	r->executable = strdup(exe);
	if (!r->source || !r->source_kind || !r->executable)
		rc = ms_err(err, MS_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = coverage_check(t, g, err);
	if (rc == 0)
		rc = scan_once(t, g, opts, r, err);
	if (rc == 0)
		report_finish(r);
	else
		report_free(r);
	gtypes_free(g);
	target_close(t);
	return rc;
}

/* ---- live processes --------------------------------------------------- */

static bool same_figures(const struct map_figures *a, const struct map_figures *b)
{
	return a->count == b->count && a->live_slots == b->live_slots &&
	       a->buckets == b->buckets && a->old_buckets == b->old_buckets &&
	       a->overflow_buckets == b->overflow_buckets &&
	       a->spare_overflow_buckets == b->spare_overflow_buckets &&
	       a->empty_buckets == b->empty_buckets && a->tombstones == b->tombstones &&
	       a->tables == b->tables && a->capacity_slots == b->capacity_slots &&
	       a->growing == b->growing && a->retained_bytes == b->retained_bytes;
}

struct addr_idx {
	uint64_t addr;
	size_t idx;
};

static int cmp_addr_idx(const void *a, const void *b)
{
	uint64_t x = ((const struct addr_idx *)a)->addr, y = ((const struct addr_idx *)b)->addr;

	return x < y ? -1 : x > y;
}

/* --no-stop: the maps of r (the second read) that differ from the first
 * read get a warning, and the report one that sums it up. */
static int mark_changes(struct report *r, const struct report *first, int pid,
			struct ms_error *err)
{
	struct addr_idx *ix = malloc((first->nmaps ? first->nmaps : 1) * sizeof(*ix));
	size_t changed = 0, appeared = 0, matched = 0;

	if (!ix)
		return ms_err(err, MS_EINTERNAL, "out of memory");
	for (size_t i = 0; i < first->nmaps; i++)
		ix[i] = (struct addr_idx){ first->maps[i].address, i };
	qsort(ix, first->nmaps, sizeof(*ix), cmp_addr_idx);
	for (size_t i = 0; i < r->nmaps; i++) {
		struct map_entry *m = &r->maps[i];
		struct addr_idx key = { m->address, 0 };
		const struct addr_idx *hit = bsearch(&key, ix, first->nmaps, sizeof(*ix), cmp_addr_idx);

		if (!hit) {
			appeared++;
			map_add_warning(m, "not found by the first of two reads of the running "
					"process: it was created or moved meanwhile");
			continue;
		}
		matched++;
		const struct map_figures *a = &first->maps[hit->idx].fig;
		if (same_figures(a, &m->fig))
			continue;
		changed++;
		map_add_warning(m, "changed while mapscan read the running process: count %llu "
				"then %llu, retained %llu then %llu bytes; these figures are not "
				"reliable", (unsigned long long)a->count,
				(unsigned long long)m->fig.count,
				(unsigned long long)a->retained_bytes,
				(unsigned long long)m->fig.retained_bytes);
	}
	free(ix);
	size_t moved = appeared + (first->nmaps - matched);
	if (changed || moved)
		report_add_warning(r, "process %d was read without stopping it (--no-stop), twice: "
				   "%zu of %zu maps changed between the reads and %zu appeared or "
				   "vanished; those are marked, and any figure may be off by what "
				   "the program changed while it was read", pid, changed, r->nmaps,
				   moved);
	else
		report_add_warning(r, "process %d was read without stopping it (--no-stop), twice: "
				   "no map changed between the reads, but a figure may still be off "
				   "by a write made while it was read", pid);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* For tests/e2e/live.py: MAPSCAN_TEST_HOLD_MS keeps the process stopped
 * that many milliseconds after the reads (to signal or kill mapscan in the
 * middle of a scan), MAPSCAN_TEST_HOLD_BEFORE_MS before them (to make the
 * process exit in the middle of a scan). */
static void test_hold(const struct target *t, const char *var)
{
	const char *s = getenv(var);
	struct target_live_state st;
	uint64_t until;

	if (!s || !*s)
		return;
	until = mono_ns() + strtoull(s, NULL, 10) * 1000000u;
	for (;;) {
		struct timespec ts = { 0, 1000000 };

		live_progress();          /* a hold is mapscan busy, not stuck */
		target_live_state(t, &st);
		if (st.cut_short || mono_ns() >= until || !live_proc_alive(target_pid(t)))
			return;
		nanosleep(&ts, NULL);
	}
}

int analyze_pid(int pid, const char *exe_path, const struct analyze_opts *opts,
		struct report *r, struct ms_error *err)
{
	static const struct analyze_opts defaults;
	struct target_live_state st;
	struct report first;
	char src[32];
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&first, 0, sizeof(first));
	if (!opts)
		opts = &defaults;
	if (opts->save_core && opts->no_stop)
		return ms_err(err, MS_EUSAGE, "--save-core needs a stopped process; leave out --no-stop");
	struct target_pid_opts to = { .no_stop = opts->no_stop, .max_pause_ns = opts->max_pause_ns };
	struct target *t = target_open_pid(pid, exe_path, &to, err);
	if (!t)
		return -1;
	/* Everything that does not read the process comes before the stop. */
	const char *name = target_exe_name(t);
	struct gtypes *g = NULL;
	analyze_progress(opts, ANALYZE_DWARF, 0, 0);
	int go = load_types(t, opts, r, &g, err);
	if (go <= 0) {
		if (go == 0)
			ms_err(err, MS_ENOTGO, "process %d runs %s, which is not a Go program; "
			       "mapscan analyses Go programs only", pid, name);
		target_close(t);
		return -1;
	}
	snprintf(src, sizeof(src), "/proc/%d", pid);
	r->source = strdup(src);
	r->source_kind = strdup("process");
	r->executable = strdup(name);
	r->pid = pid;
	rc = !r->source || !r->source_kind || !r->executable
		? ms_err(err, MS_EINTERNAL, "out of memory") : 0;

	if (rc == 0)
		rc = target_stop(t, err);
	if (rc == 0)
		test_hold(t, "MAPSCAN_TEST_HOLD_BEFORE_MS");
	if (rc == 0)
		rc = scan_once(t, g, opts, opts->no_stop ? &first : r, err);
	if (rc == 0 && opts->save_core) {
		rc = snapshot_write(pid, opts->save_core, err);
		if (rc == 0)
			r->saved_core = opts->save_core;
	}
	if (rc == 0)
		test_hold(t, "MAPSCAN_TEST_HOLD_MS");
	target_resume(t);

	/* A running process is read a second time: what differs moved. */
	if (rc == 0 && opts->no_stop) {
		target_forget(t);
		rc = scan_once(t, g, opts, r, err);
		if (rc == 0)
			rc = mark_changes(r, &first, pid, err);
	}
	target_live_state(t, &st);
	if (rc == 0 && st.gone)
		rc = ms_err(err, MS_EPROCESS, "process %d exited during the scan; there is no "
			    "complete picture to report", pid);
	if (rc == 0 && st.denied)
		rc = ms_err(err, MS_EPERM, "process %d: reading its memory was refused during the "
			    "scan (its credentials changed?); run mapscan as root", pid);
	if (rc == 0) {
		r->stopped = st.stopped;
		r->paused_ns = st.paused_ns;
		r->threads_stopped = st.threads;
		r->inconsistent = opts->no_stop || st.cut_short;
		if (st.cut_short)
			report_add_warning(r, "process %d was resumed after %.1f s (the --max-pause "
					   "limit, or mapscan was suspended) before mapscan finished; "
					   "what was read after that came from the running process and "
					   "may be inconsistent", pid, (double)st.paused_ns / 1e9);
		report_finish(r);
	} else {
		report_free(r);
		r->saved_core = NULL;
	}
	report_free(&first);
	gtypes_free(g);
	target_close(t);
	return rc;
}
