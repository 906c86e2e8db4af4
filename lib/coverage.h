/* How much of what mapscan reads a core holds.
 *
 * A core may lack memory the process had: /proc/PID/coredump_filter can
 * leave out anonymous memory (the heap, the runtime's variables), a tool
 * can write segments empty.  A core with none of the program's variables
 * is useless and says so with its own status (MS_EEMPTY); one that lacks
 * part of them or of the heap gives a report marked partial. */
#ifndef MAPSCAN_COVERAGE_H
#define MAPSCAN_COVERAGE_H

#include "error.h"
#include "report.h"
#include "target.h"
#include "types.h"

/* -1 with err filled (MS_EEMPTY, saying what to do) when the core holds
 * none of the executable's writable memory, or not runtime.mheap_: then
 * neither the heap nor any goroutine can be found.  0 otherwise, and
 * always for a live process. */
int coverage_check(const struct target *t, const struct gtypes *g, struct ms_error *err);

/* Mark r partial (r->partial, r->missing_bytes, a warning) when the core
 * lacks part of the executable's writable memory or of the heap arenas
 * (runtime.mheap_.heapArenas).  -1 when out of memory. */
int coverage_report(const struct target *t, const struct gtypes *g, struct report *r);

#endif
