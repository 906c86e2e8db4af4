/* The Go heap as the runtime's span table describes it (runtime.mheap_,
 * runtime.mspan; layouts from DWARF): which address belongs to which
 * allocated object, how big it is, and — where the runtime recorded it —
 * its type and whether the last garbage collection found it live.
 *
 * heap_load reads every mspan record once into a table sorted by address
 * (a few dozen bytes per span, nothing per object); lookups then cost a
 * binary search plus, for the allocation bit, one byte read from the
 * target.  Span records from a damaged core that overlap, point outside
 * the image or carry absurd sizes are dropped and counted. */
#ifndef MAPSCAN_HEAP_H
#define MAPSCAN_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "goruntime.h"
#include "report.h"
#include "target.h"
#include "types.h"

struct hspan {
	uint64_t base, end;          /* the span's pages: [base, end) */
	uint64_t elemsize;           /* slot size (the whole span for a large object) */
	uint64_t alloc_bits, mark_bits; /* addresses of the bitmaps */
	uint64_t large_type;         /* mspan.largeType (Go 1.22+), else 0 */
	uint32_t nelems, freeindex, alloc_count;
	uint64_t bit0;               /* first slot's index in a heap-wide slot numbering */
	uint8_t sizeclass;
	bool noscan;                 /* the objects hold no pointers */
	bool header;                 /* each slot starts with an 8-byte type header (Go 1.22+) */
	bool unswept;                /* allocBits still include what the last GC found dead */
};

struct heap_stats {
	uint64_t spans;            /* in-use heap spans */
	uint64_t in_use_bytes;     /* pages of in-use heap spans */
	uint64_t objects;          /* allocated objects in them */
	uint64_t object_bytes;     /* their slot sizes */
	uint64_t bad_spans;        /* span records that could not be read or made no sense */
};

/* Which span holds each 8 KiB page of one 64 MiB arena (the runtime's
 * own heapArena.spans, rebuilt from the span table). */
struct harena {
	uint64_t index;              /* address >> HEAP_ARENA_SHIFT */
	uint32_t *page;              /* span index per page, UINT32_MAX: none */
};

#define HEAP_ARENA_SHIFT 26
#define HEAP_PAGE_SHIFT 13

struct heap {
	struct hspan *spans;         /* sorted by base, disjoint */
	size_t nspans;
	struct harena *arenas;       /* sorted by index; lookups cost one small search */
	size_t narenas;
	uint64_t nslots;             /* slots over all spans (the slot numbering's size) */
	bool marks_valid;            /* no GC mark phase was running: mark bits mean live */
	bool gc_running;             /* a GC mark phase was running (runtime.gcphase != 0) */
	struct heap_stats stats;
};

/* Read the span table into h.  Returns 0, or -1 when the table itself
 * cannot be found or read (h is then empty; lookups find nothing). */
int heap_load(struct heap *h, const struct target *t, const struct gtypes *g,
	      const struct goruntime *rt);
void heap_free(struct heap *h);

/* Treat every slot of every span as allocated.  For a process read while
 * it runs (--no-stop): a sweep can replace a span's allocation bitmap
 * between reading the span and reading the bitmap, and live objects would
 * then look free; walking a freed slot only costs a map header candidate
 * that will not validate. */
void heap_assume_allocated(struct heap *h);

/* Start loading what a lookup of addr will read (the arena's page table
 * entry and the span record): a hint for a caller about to look addr up. */
void heap_prefetch(const struct heap *h, uint64_t addr);

/* The span holding addr, or NULL. */
const struct hspan *heap_span(const struct heap *h, uint64_t addr);

/* The allocated object holding addr: its span, slot index and user address
 * (after the type header, if any) and user size.  False when addr is not in
 * the heap, falls in a free slot, or in a slot's type header. */
bool heap_object(const struct heap *h, const struct target *t, uint64_t addr,
		 const struct hspan **span, uint32_t *slot, uint64_t *base, uint64_t *size);
/* The same when the span holding addr (heap_span) is known already. */
bool heap_object_in(const struct hspan *s, const struct target *t, uint64_t addr,
		    const struct hspan **span, uint32_t *slot, uint64_t *base, uint64_t *size);

/* Is slot i of s allocated (per allocBits and freeindex)?  False when the
 * bitmap is unreadable. */
bool heap_allocated(const struct target *t, const struct hspan *s, uint32_t i);

/* Did the last GC find slot i of s unreachable although it is still
 * allocated (garbage the sweeper has not freed yet)?  1 yes, 0 no, -1 the
 * mark bits cannot say (the span is swept, a mark phase was running, or
 * the bitmap is unreadable). */
int heap_garbage(const struct heap *h, const struct target *t, const struct hspan *s, uint32_t i);

/* Address of the runtime type descriptor the allocator recorded for the
 * object whose slot starts at slot_base (Go 1.22+ headers and
 * mspan.largeType), or 0 when none is recorded or it lies outside the
 * module's types. */
uint64_t heap_object_type(const struct target *t, const struct goruntime *rt,
			  const struct hspan *s, uint64_t slot_base);

/* Fill r's heap totals from a loaded heap, or add a warning saying why
 * they are missing (the maps' figures do not depend on them). */
void heap_summary(struct report *r, const struct heap *h, int load_rc);

#endif
