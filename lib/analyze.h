/* The library's front door: open a core (or a live process), load its
 * executable's types, find and walk every map, and fill a report. */
#ifndef MAPSCAN_ANALYZE_H
#define MAPSCAN_ANALYZE_H

#include <stdbool.h>

#include "error.h"
#include "goruntime.h"
#include "report.h"
#include "target.h"
#include "types.h"

/* The phases of an analysis, for a progress display (cmd/). */
enum analyze_phase {
	ANALYZE_DWARF,            /* loading the executable's types */
	ANALYZE_HEAP,             /* reading the heap's span table, looking for map headers */
	ANALYZE_ROOTS,            /* following the roots; done = maps found so far, no total */
	ANALYZE_MAPS,             /* checking map headers nothing reached */
	ANALYZE_STORAGE,          /* looking for map storage no map owns */
};

/* Called at each phase's start and every few thousand items within one
 * (done of total, total 0 when unknown); it should return quickly. */
typedef void (*analyze_progress_fn)(void *arg, enum analyze_phase phase, uint64_t done,
				    uint64_t total);

struct analyze_opts {
	bool storage;             /* keep each map's storage picture (for the TUI) */
	analyze_progress_fn progress; /* or NULL */
	void *progress_arg;
	bool keys;                /* render a few sample keys of each map (lib/keys.h) */
	const char *debug_file;   /* --debug-file: the file to read DWARF from, or NULL (lib/debugfile.h) */
	/* live processes (analyze_pid) only */
	bool no_stop;             /* read the process without stopping it (twice, to spot changes) */
	uint64_t max_pause_ns;    /* resume the process after this long stopped; 0: no limit */
	const char *save_core;    /* write a core of the stopped process to this file, or NULL */
};

static inline void analyze_progress(const struct analyze_opts *o, enum analyze_phase phase,
				    uint64_t done, uint64_t total)
{
	if (o && o->progress)
		o->progress(o->progress_arg, phase, done, total);
}

/* The libraries mapscan runs with and their versions, for --version:
 * "libdwarf 0.5.0, zstd 1.5.4, zlib 1.2.13, liblzma 5.4.1, lz4 1.9.4". */
void analyze_library_versions(char *buf, size_t n);

/* Analyse core_path (exe_path may be NULL: found from the core).  On
 * success fills *r (caller frees with report_free) and returns 0. */
int analyze_core(const char *core_path, const char *exe_path, const struct analyze_opts *opts,
		 struct report *r, struct ms_error *err);

/* Analyse the running process pid (exe_path may be NULL: the process's
 * own /proc/PID/exe).  Everything that does not need the process's memory
 * (opening the executable, loading its DWARF) happens first; then, unless
 * opts->no_stop, all its threads are stopped for exactly the reads (and
 * the --save-core dump), and resumed before this returns, on success and
 * on every error.  r->paused_ns says for how long.  With no_stop the
 * process is read twice and maps that changed between the reads carry a
 * warning; r->inconsistent is set.  Errors as analyze_core, plus
 * MS_EPROCESS and MS_EPERM (see error.h). */
int analyze_pid(int pid, const char *exe_path, const struct analyze_opts *opts,
		struct report *r, struct ms_error *err);

struct heap;

/* Find every map and add it to r: those reachable from global variables,
 * goroutine stacks and, through untyped memory, the heap; then, when h is
 * not NULL, the map headers the heap holds that nothing reaches. */
int roots_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
	       const struct heap *h, struct report *r, const struct analyze_opts *opts,
	       struct ms_error *err);

/* 1 if the ELF executable at path is a Go program (has Go's sections),
 * 0 if not, -1 if it cannot be read as ELF (err filled). */
int exe_is_go(const char *path, struct ms_error *err);

#endif
