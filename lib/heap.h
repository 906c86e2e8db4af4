/* The Go heap as the runtime's span table describes it (runtime.mheap_,
 * runtime.mspan; layouts from DWARF). */
#ifndef MAPSCAN_HEAP_H
#define MAPSCAN_HEAP_H

#include <stdint.h>

#include "goruntime.h"
#include "report.h"
#include "target.h"
#include "types.h"

struct heap_stats {
	uint64_t spans;            /* in-use heap spans */
	uint64_t in_use_bytes;     /* pages of in-use heap spans */
	uint64_t objects;          /* allocated objects in them */
	uint64_t object_bytes;     /* their slot sizes */
	uint64_t bad_spans;        /* span records that could not be read */
};

/* Sum up the heap.  Returns 0, or -1 when the span table itself cannot be
 * found or read (stats then stay zero). */
int heap_stats(const struct target *t, const struct gtypes *g, struct heap_stats *hs);

/* Fill r's heap totals from the span table, or add a warning saying why
 * they are missing (the maps' figures do not depend on them). */
void heap_summary(struct report *r, const struct target *t, const struct gtypes *g);

#endif
