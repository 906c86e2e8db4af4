/* Heap totals from the runtime's own span table: every mspan ever created
 * is in mheap_.allspans; those in state mSpanInUse hold heap objects, and
 * allocCount says how many of their elemsize-byte slots are allocated. */
#include <string.h>

#include "heap.h"
#include "mapwalk.h"

enum {
	SPAN_IN_USE = 1,           /* mSpanInUse */
	PAGE_SIZE = 8192,          /* runtime._PageSize */
	MAX_SPAN = 512,            /* bytes of an mspan we read */
};

/* Little-endian unsigned field of 1, 2, 4 or 8 bytes. */
static uint64_t field(const unsigned char *p, uint64_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size <= 8 ? size : 8);
	return v;
}

struct spanfields {
	uint64_t size;
	const struct gmember *npages, *state, *alloc, *elemsize;
	uint64_t npages_sz, alloc_sz, elemsize_sz;
};

static uint64_t member_size(const struct gtypes *g, const struct gmember *m)
{
	const struct gtype *t = m ? gtypes_get(g, gtypes_resolve(g, m->type)) : NULL;
	return t ? t->size : 0;
}

int heap_stats(const struct target *t, const struct gtypes *g, struct heap_stats *hs)
{
	memset(hs, 0, sizeof(*hs));
	const struct gvar *mh = gtypes_var(g, "runtime.mheap_");
	type_id span = gtypes_find(g, "runtime.mspan");
	const struct gmember *all = mh ? gtypes_member(g, mh->type, "allspans") : NULL;
	const struct gtype *st = gtypes_get(g, span);
	if (!all || !st || st->size > MAX_SPAN)
		return -1;
	struct spanfields f = {
		.size = st->size,
		.npages = gtypes_member(g, span, "npages"),
		.state = gtypes_member(g, span, "state"),
		.alloc = gtypes_member(g, span, "allocCount"),
		.elemsize = gtypes_member(g, span, "elemsize"),
	};
	if (!f.npages || !f.state || !f.alloc || !f.elemsize)
		return -1;
	f.npages_sz = member_size(g, f.npages);
	f.alloc_sz = member_size(g, f.alloc);
	f.elemsize_sz = member_size(g, f.elemsize);

	uint64_t sl[2];   /* allspans: array pointer, length */
	if (target_read(t, mh->addr + target_exe_bias(t) + all->offset, sl, sizeof(sl)) ||
	    sl[1] > (1ull << 32) || !mem_readable(t, sl[0], sl[1] * 8))
		return -1;
	unsigned char buf[MAX_SPAN];
	for (uint64_t i = 0; i < sl[1]; i++) {
		uint64_t sp;
		if (target_read_u64(t, sl[0] + 8 * i, &sp) || !sp)
			continue;
		if (target_read(t, sp, buf, f.size)) {
			hs->bad_spans++;
			continue;
		}
		if (buf[f.state->offset] != SPAN_IN_USE)
			continue;
		uint64_t npages = field(buf + f.npages->offset, f.npages_sz);
		uint64_t elemsize = field(buf + f.elemsize->offset, f.elemsize_sz);
		uint64_t alloc = field(buf + f.alloc->offset, f.alloc_sz);
		if (npages == 0 || npages > (1ull << 36) || alloc * elemsize > npages * PAGE_SIZE) {
			hs->bad_spans++;
			continue;
		}
		hs->spans++;
		hs->in_use_bytes += npages * PAGE_SIZE;
		hs->objects += alloc;
		hs->object_bytes += alloc * elemsize;
	}
	return 0;
}

void heap_summary(struct report *r, const struct target *t, const struct gtypes *g)
{
	struct heap_stats hs;
	if (heap_stats(t, g, &hs) != 0) {
		report_add_warning(r, "the runtime's span table (runtime.mheap_.allspans) could not "
				   "be read; heap totals are not shown");
		return;
	}
	r->heap_known = true;
	r->heap_in_use = hs.in_use_bytes;
	r->heap_objects = hs.object_bytes;
	if (hs.bad_spans)
		report_add_warning(r, "%llu span records could not be read; heap totals are low",
				   (unsigned long long)hs.bad_spans);
}

