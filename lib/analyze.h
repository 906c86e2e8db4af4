/* The library's front door: open a core, load its executable's types, find
 * and walk every map, and fill a report. */
#ifndef MAPSCAN_ANALYZE_H
#define MAPSCAN_ANALYZE_H

#include <stdbool.h>

#include "error.h"
#include "goruntime.h"
#include "report.h"
#include "target.h"
#include "types.h"

struct analyze_opts {
	bool storage;             /* keep each map's storage picture (for the TUI) */
};

/* Analyse core_path (exe_path may be NULL: found from the core).  On
 * success fills *r (caller frees with report_free) and returns 0. */
int analyze_core(const char *core_path, const char *exe_path, const struct analyze_opts *opts,
		 struct report *r, struct ms_error *err);

/* Find maps reachable from global variables and add them to r. */
int roots_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
	       struct report *r, const struct analyze_opts *opts, struct ms_error *err);

/* 1 if the ELF executable at path is a Go program (has Go's sections),
 * 0 if not, -1 if it cannot be read as ELF (err filled). */
int exe_is_go(const char *path, struct ms_error *err);

#endif
