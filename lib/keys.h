/* Sample keys: a few keys of each map, rendered as Go would print them, so
 * that twenty maps of the same type under the same owner can be told
 * apart ("tenant-17", 42, {"acme", 3}, 0xc000123456).
 *
 * The walkers hand out the addresses of live slots (mapwalk.h slot_fn);
 * whoever walks a map collects the first few key addresses in a struct
 * key_sample and calls keys_render once the walk is done.  Rendering reads
 * the target through the key's DWARF type, bounded in depth and bytes:
 * the keys come from an untrusted core. */
#ifndef MAPSCAN_KEYS_H
#define MAPSCAN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "goruntime.h"
#include "mapwalk.h"
#include "report.h"
#include "target.h"
#include "types.h"

#define KEYS_MAX 3               /* sample keys kept per map */
#define KEY_TEXT_MAX 96          /* bytes of one rendered key, "…" included */

struct key_sample {
	uint64_t addr[KEYS_MAX];
	unsigned n;
};

/* Note a live slot's key address (0: unreadable, skipped). */
static inline void key_sample_add(struct key_sample *s, uint64_t key_addr)
{
	if (key_addr && s->n < KEYS_MAX)
		s->addr[s->n++] = key_addr;
}

/* Render the keys of s, of Go type `key`, into m->sample_keys (stored in
 * r, see report_keep).  A key that cannot be read reads "?".  Returns 0,
 * or -1 when memory ran out (m then has no sample keys). */
int keys_render(struct report *r, struct map_entry *m, const struct target *t,
		const struct gtypes *g, const struct goruntime *rt, type_id key,
		const struct key_sample *s);

/* The same into an arena of one's own (report.h arena_keep): for walker
 * threads, which must not touch the report.  Reading the target and the
 * type model is safe from several threads. */
int keys_render_in(struct arena **a, struct map_entry *m, const struct target *t,
		   const struct gtypes *g, const struct goruntime *rt, type_id key,
		   const struct key_sample *s);

/* A walk_cb (mapwalk.h) that samples the keys of the map it walks and
 * passes allocations on to alloc(arg, addr) (may be NULL).  Reset ks.n
 * before each walk. */
struct keys_cb {
	struct walk_cb cb;
	struct key_sample ks;
	alloc_fn alloc;
	void *alloc_arg;
};
void keys_cb_init(struct keys_cb *k, alloc_fn alloc, void *alloc_arg);

/* One value of type `type` at addr, as Go would print it: strings quoted
 * (strconv.Quote), numbers as fmt's %v, pointers as 0x..., structs as
 * {a, b}, arrays as [a, b], interfaces by their dynamic value.  Written
 * into out (n > 0, always terminated, valid UTF-8 with every control and
 * invisible character escaped); returns the length.  rt may be NULL
 * (interfaces then read "?"). */
size_t key_format(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
		  type_id type, uint64_t addr, char *out, size_t n);

/* Go's strconv.Quote of the n bytes at s, into out (size cap > 0, always
 * terminated, never more than cap - 1 bytes: cut on a whole escape or
 * character, the closing quote kept).  Returns the length. */
size_t key_quote(const unsigned char *s, size_t n, char *out, size_t cap);

/* Go's strconv.FormatFloat(v, 'g', -1, bits) for bits 32 or 64. */
void key_float(double v, int bits, char *out, size_t cap);

#endif
