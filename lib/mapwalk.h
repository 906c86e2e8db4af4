/* Map walkers: read one map's storage from the target and fill its figures
 * (docs/figures.md).  They never print; problems found in the storage (a
 * cycle in an overflow chain, memory missing from the core, count and live
 * slots disagreeing) become warnings on the map entry. */
#ifndef MAPSCAN_MAPWALK_H
#define MAPSCAN_MAPWALK_H

#include "goruntime.h"
#include "report.h"
#include "target.h"

/* Called for each live slot with the target addresses of the key and the
 * value (after following indirect storage); 0 if unreadable. */
typedef void (*slot_fn)(void *arg, uint64_t key_addr, uint64_t elem_addr);

/* Called once for each heap allocation the map's storage consists of
 * (bucket arrays, overflow buckets allocated on their own, mapextra and
 * its overflow lists; directory, tables, group arrays), by address. */
typedef void (*alloc_fn)(void *arg, uint64_t addr);

struct walk_cb {
	slot_fn slot;             /* may be NULL */
	alloc_fn alloc;           /* may be NULL */
	void *arg;
};

/* Walk the map whose header is at addr.  Fills m->fig (and warnings).
 * Returns 0, or -1 when the header itself cannot be read or is absurd (then
 * nothing is filled and the caller should not report the map).  cb may be
 * NULL. */
int map_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
	     uint64_t addr, struct map_entry *m, const struct walk_cb *cb);

int classic_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
		 uint64_t addr, struct map_entry *m, const struct walk_cb *cb);
int swiss_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
	       uint64_t addr, struct map_entry *m, const struct walk_cb *cb);

/* Address of slot i's key or value in a bucket or group at base: the slot
 * itself, or for indirect storage (keys/values over 128 bytes) the pointer
 * it holds; 0 when that pointer cannot be read. */
static inline uint64_t slot_addr(const struct target *t, uint64_t base, uint64_t off,
				 uint64_t stride, unsigned i, bool indirect)
{
	uint64_t a = base + off + i * stride, p = 0;
	if (!indirect)
		return a;
	return target_read_u64(t, a, &p) ? 0 : p;
}

/* ideal_bytes of docs/figures.md for `count` entries. */
uint64_t classic_ideal(const struct goruntime *rt, const struct maptype *mt, uint64_t count);
uint64_t swiss_ideal(const struct goruntime *rt, const struct maptype *mt, uint64_t count);

/* Buckets makeBucketArray allocates for 2^b buckets (nalloc in figures.md). */
uint64_t classic_nalloc(const struct goruntime *rt, const struct maptype *mt, unsigned b);

#endif
