/* The heap's span table: every mspan ever created is in mheap_.allspans;
 * those in state mSpanInUse hold heap objects (go-runtime.md §6).  Field
 * offsets and sizes come from DWARF (freeindex and nelems changed width in
 * Go 1.22), so one reader serves every version. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "heap.h"

enum {
	SPAN_IN_USE = 1,           /* mSpanInUse */
	PAGE_SIZE = 8192,          /* runtime._PageSize */
	MAX_SPAN = 512,            /* bytes of an mspan we read */
	HEADER = 8,                /* Go 1.22+ mallocHeaderSize */
	HEADER_MIN = 512,          /* objects above get a header */
	MAX_PAGES = 1u << 24,      /* 128 GiB in one span: beyond is damage */
	MAX_SPANS = 1u << 26,
};

struct fld {
	uint64_t off, size;
	bool ok;
};

static struct fld member(const struct gtypes *g, type_id st, const char *name)
{
	struct fld f = { 0, 0, false };
	const struct gmember *m = gtypes_member(g, st, name);
	const struct gtype *t = m ? gtypes_get(g, gtypes_resolve(g, m->type)) : NULL;
	if (t && t->size && t->size <= 8) {
		f.off = m->offset;
		f.size = t->size;
		f.ok = true;
	}
	return f;
}

static uint64_t get(const unsigned char *buf, struct fld f)
{
	return f.ok ? le_u(buf + f.off, f.size) : 0;
}

static int by_base(const void *a, const void *b)
{
	const struct hspan *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The arena of this thread's last lookup: a hint, checked before use
 * (lookups come in runs in one arena; threads walk maps side by side). */
static _Thread_local size_t last_arena;

static struct harena *arena_find(const struct heap *h, uint64_t index)
{
	if (last_arena < h->narenas && h->arenas[last_arena].index == index)
		return &h->arenas[last_arena];
	size_t lo = 0, hi = h->narenas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->arenas[mid].index < index)
			lo = mid + 1;
		else if (h->arenas[mid].index > index)
			hi = mid;
		else {
			last_arena = mid;
			return &h->arenas[mid];
		}
	}
	return NULL;
}

/* Page -> span tables for the arenas the spans cover: an address lookup
 * is then a search among a few arenas and one load, not a binary search
 * over every span (the hot path of the whole scan). */
static int index_pages(struct heap *h)
{
	uint64_t *idx = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < h->nspans; i++) {
		uint64_t a0 = h->spans[i].base >> HEAP_ARENA_SHIFT, a1 = (h->spans[i].end - 1) >> HEAP_ARENA_SHIFT;
		for (uint64_t a = a0; a <= a1; a++) {
			if (n && idx[n - 1] == a)
				continue;
			if (grow_array((void **)&idx, &cap, n + 1, sizeof(*idx), 64)) {
				free(idx);
				return -1;
			}
			idx[n++] = a;
		}
	}
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || idx[i] != idx[k - 1])
			idx[k++] = idx[i];
	h->arenas = calloc(k ? k : 1, sizeof(*h->arenas));
	if (!h->arenas) {
		free(idx);
		return -1;
	}
	enum { PAGES = 1u << (HEAP_ARENA_SHIFT - HEAP_PAGE_SHIFT) };
	for (size_t i = 0; i < k; i++) {
		h->arenas[i].index = idx[i];
		h->arenas[i].page = malloc(PAGES * sizeof(uint32_t));
		if (!h->arenas[i].page) {
			h->narenas = i;
			free(idx);
			return -1;
		}
		memset(h->arenas[i].page, 0xff, PAGES * sizeof(uint32_t));
	}
	h->narenas = k;
	free(idx);
	for (size_t i = 0; i < h->nspans; i++) {
		for (uint64_t p = h->spans[i].base; p < h->spans[i].end; p += PAGE_SIZE) {
			struct harena *a = arena_find(h, p >> HEAP_ARENA_SHIFT);
			if (a)
				a->page[(p >> HEAP_PAGE_SHIFT) & (PAGES - 1)] = (uint32_t)i;
		}
	}
	return 0;
}

int heap_load(struct heap *h, const struct target *t, const struct gtypes *g,
	      const struct goruntime *rt)
{
	memset(h, 0, sizeof(*h));
	const struct gvar *mh = gtypes_var(g, "runtime.mheap_");
	type_id span = gtypes_find(g, "runtime.mspan");
	const struct gmember *all = mh ? gtypes_member(g, mh->type, "allspans") : NULL;
	struct fld hsweep = mh ? member(g, mh->type, "sweepgen") : (struct fld){ 0, 0, false };
	const struct gtype *st = gtypes_get(g, span);
	if (!all || !st || st->size > MAX_SPAN || st->size < 64)
		return -1;
	struct fld start = member(g, span, "startAddr"), npages = member(g, span, "npages"),
		   state = member(g, span, "state"), alloc = member(g, span, "allocCount"),
		   elemsize = member(g, span, "elemsize"), nelems = member(g, span, "nelems"),
		   freeindex = member(g, span, "freeindex"), abits = member(g, span, "allocBits"),
		   mbits = member(g, span, "gcmarkBits"), sweepgen = member(g, span, "sweepgen"),
		   sclass = member(g, span, "spanclass"), ltype = member(g, span, "largeType");
	/* mSpanStateBox is a struct around one byte; its size is what we need. */
	if (!start.ok || !npages.ok || !alloc.ok || !elemsize.ok || !nelems.ok ||
	    !freeindex.ok || !abits.ok || !sclass.ok || !gtypes_member(g, span, "state"))
		return -1;
	state.off = gtypes_member(g, span, "state")->offset;
	state.size = 1;
	state.ok = true;

	uint64_t bias = target_exe_bias(t), sl[2], hsg = 0;
	if (target_read(t, mh->addr + bias + all->offset, sl, sizeof(sl)) || sl[1] > MAX_SPANS ||
	    !target_has(t, sl[0], sl[1] * 8))
		return -1;
	if (hsweep.ok) {
		unsigned char b[8] = { 0 };
		if (!target_read(t, mh->addr + bias + hsweep.off, b, hsweep.size))
			hsg = le_u(b, hsweep.size);
	}
	const struct gvar *phase = gtypes_var(g, "runtime.gcphase");
	uint32_t ph = 1;
	bool have_phase = phase && !target_read(t, phase->addr + bias, &ph, 4);
	h->gc_running = have_phase && ph != 0;
	h->marks_valid = have_phase && ph == 0 && hsweep.ok &&
			 mbits.ok && sweepgen.ok;
	/* Green Tea (Go 1.25+) keeps a small span's marks inline until sweep. */
	bool inline_marks = gtypes_find(g, "runtime.spanInlineMarkBits") != 0;

	size_t cap = 0;
	unsigned char buf[MAX_SPAN];
	for (uint64_t i = 0; i < sl[1]; i++) {
		uint64_t sp;
		if (target_read_u64(t, sl[0] + 8 * i, &sp) || !sp)
			continue;
		if (target_read(t, sp, buf, st->size)) {
			h->stats.bad_spans++;
			continue;
		}
		if (get(buf, state) != SPAN_IN_USE)
			continue;
		struct hspan s = { 0 };
		uint64_t np = get(buf, npages), cnt = get(buf, alloc), sc = get(buf, sclass);
		s.base = get(buf, start);
		s.elemsize = get(buf, elemsize);
		uint64_t ne = get(buf, nelems), fi = get(buf, freeindex);
		s.sizeclass = (uint8_t)(sc >> 1);
		s.noscan = sc & 1;
		if (np == 0 || np > MAX_PAGES || s.base % PAGE_SIZE || s.base > UINT64_MAX - np * PAGE_SIZE ||
		    s.elemsize == 0 || s.elemsize > np * PAGE_SIZE || ne > np * PAGE_SIZE / s.elemsize ||
		    fi > ne || cnt > ne || (s.sizeclass == 0 && ne != 1) ||
		    (rt->nclasses && s.sizeclass && (s.sizeclass >= rt->nclasses ||
						     rt->class_to_size[s.sizeclass] != s.elemsize))) {
			h->stats.bad_spans++;
			continue;
		}
		s.end = s.base + np * PAGE_SIZE;
		/* A record that claims memory the image does not have is damage
		 * (or a heap the core lost): its objects cannot be read anyway.
		 * Both ends only: for a live process each probe is a read. */
		if (!target_has(t, s.base, 1) || !target_has(t, s.end - 1, 1)) {
			h->stats.bad_spans++;
			continue;
		}
		s.nelems = (uint32_t)ne;
		s.freeindex = (uint32_t)fi;
		s.alloc_bits = get(buf, abits);
		s.mark_bits = get(buf, mbits);
		s.large_type = get(buf, ltype);
		s.header = rt->alloc_headers && !s.noscan && s.sizeclass && s.elemsize > HEADER_MIN;
		if (sweepgen.ok && hsweep.ok) {
			uint32_t sg = (uint32_t)get(buf, sweepgen), hg = (uint32_t)hsg;
			s.unswept = sg == hg - 2 || sg == hg - 1 || sg == hg + 1;
		}
		/* Marks of an inline-mark span are not in gcmarkBits until it is
		 * swept: say nothing about them. */
		if (inline_marks && np == 1 && !s.noscan && s.elemsize >= 16 && s.elemsize <= 512)
			s.mark_bits = 0;
		if (grow_array((void **)&h->spans, &cap, h->nspans + 1, sizeof(*h->spans), 1024)) {
			heap_free(h);
			return -1;
		}
		s.alloc_count = (uint32_t)cnt;
		h->spans[h->nspans++] = s;
	}
	if (h->nspans)
		qsort(h->spans, h->nspans, sizeof(*h->spans), by_base);
	/* Overlapping records cannot all be right: keep the first of each run. */
	size_t k = 0;
	for (size_t i = 0; i < h->nspans; i++) {
		if (k && h->spans[i].base < h->spans[k - 1].end) {
			h->stats.bad_spans++;
			continue;
		}
		h->spans[k] = h->spans[i];
		h->spans[k].bit0 = h->nslots;
		h->nslots += h->spans[k].nelems;
		h->stats.spans++;
		h->stats.in_use_bytes += h->spans[k].end - h->spans[k].base;
		h->stats.objects += h->spans[k].alloc_count;
		h->stats.object_bytes += (uint64_t)h->spans[k].alloc_count * h->spans[k].elemsize;
		k++;
	}
	h->nspans = k;
	if (index_pages(h) < 0) {
		heap_free(h);
		return -1;
	}
	return 0;
}

void heap_free(struct heap *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->narenas; i++)
		free(h->arenas[i].page);
	free(h->arenas);
	free(h->spans);
	memset(h, 0, sizeof(*h));
}

void heap_assume_allocated(struct heap *h)
{
	for (size_t i = 0; i < h->nspans; i++)
		h->spans[i].freeindex = h->spans[i].nelems;
	h->marks_valid = false;
}

void heap_prefetch(const struct heap *h, uint64_t addr)
{
	if (!h->narenas)
		return;
	const struct harena *a = arena_find(h, addr >> HEAP_ARENA_SHIFT);
	if (!a)
		return;
	uint32_t i = a->page[(addr >> HEAP_PAGE_SHIFT) & ((1u << (HEAP_ARENA_SHIFT - HEAP_PAGE_SHIFT)) - 1)];
	if (i < h->nspans)
		__builtin_prefetch(&h->spans[i]);
}

const struct hspan *heap_span(const struct heap *h, uint64_t addr)
{
	if (h->narenas) {
		const struct harena *a = arena_find(h, addr >> HEAP_ARENA_SHIFT);
		uint32_t i = a ? a->page[(addr >> HEAP_PAGE_SHIFT) &
				       ((1u << (HEAP_ARENA_SHIFT - HEAP_PAGE_SHIFT)) - 1)] : UINT32_MAX;
		const struct hspan *s = i < h->nspans ? &h->spans[i] : NULL;
		return s && addr >= s->base && addr < s->end ? s : NULL;
	}
	size_t lo = 0, hi = h->nspans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hspan *s = &h->spans[mid];
		if (addr < s->base)
			hi = mid;
		else if (addr >= s->end)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

static int bit(const struct target *t, uint64_t bits, uint32_t i)
{
	unsigned char b;
	if (!bits || target_read(t, bits + i / 8, &b, 1))
		return -1;
	return (b >> (i % 8)) & 1;
}

bool heap_allocated(const struct target *t, const struct hspan *s, uint32_t i)
{
	if (i >= s->nelems)
		return false;
	if (i < s->freeindex)
		return true;
	return bit(t, s->alloc_bits, i) == 1;
}

bool heap_object(const struct heap *h, const struct target *t, uint64_t addr,
		 const struct hspan **span, uint32_t *slot, uint64_t *base, uint64_t *size)
{
	const struct hspan *s = heap_span(h, addr);
	return s && heap_object_in(s, t, addr, span, slot, base, size);
}

bool heap_object_in(const struct hspan *s, const struct target *t, uint64_t addr,
		    const struct hspan **span, uint32_t *slot, uint64_t *base, uint64_t *size)
{
	uint64_t i = (addr - s->base) / s->elemsize;
	if (i >= s->nelems || !heap_allocated(t, s, (uint32_t)i))
		return false;
	uint64_t b = s->base + i * s->elemsize, hdr = s->header ? HEADER : 0;
	if (addr < b + hdr)
		return false;
	*span = s;
	*slot = (uint32_t)i;
	*base = b + hdr;
	*size = s->elemsize - hdr;
	return true;
}

int heap_garbage(const struct heap *h, const struct target *t, const struct hspan *s, uint32_t i)
{
	if (!h->marks_valid || !s->unswept || !s->mark_bits)
		return -1;
	int m = bit(t, s->mark_bits, i);
	return m < 0 ? -1 : !m;
}

uint64_t heap_object_type(const struct target *t, const struct goruntime *rt,
			  const struct hspan *s, uint64_t slot_base)
{
	uint64_t typ = 0;
	if (!rt->alloc_headers || s->noscan)
		return 0;
	if (s->sizeclass == 0)
		typ = s->large_type;
	else if (!s->header || target_read_u64(t, slot_base, &typ))
		return 0;
	if (!rt->types || typ < rt->types || typ >= rt->etypes)
		return 0;
	return typ;
}

void heap_summary(struct report *r, const struct heap *h, int load_rc)
{
	if (load_rc != 0) {
		report_add_warning(r, "the runtime's span table (runtime.mheap_.allspans) could not "
				   "be read; heap totals are not shown and only maps reachable "
				   "from variables are found");
		return;
	}
	r->heap_known = true;
	r->gc_running = h->gc_running;
	r->heap_in_use = h->stats.in_use_bytes;
	r->heap_objects = h->stats.object_bytes;
	if (h->stats.bad_spans)
		report_add_warning(r, "%llu span records could not be read or made no sense; heap "
				   "totals are low and maps in those spans may be missing",
				   (unsigned long long)h->stats.bad_spans);
}
