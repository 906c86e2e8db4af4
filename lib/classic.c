/* Walker for classic Go maps (runtime.hmap; Go 1.19-1.23, and 1.24/1.25
 * built with GOEXPERIMENT=noswissmap).  Layout facts come from the map
 * type's descriptor (goruntime.c); the runtime's behaviour it relies on is
 * described in docs/figures.md. */
#include <stdlib.h>
#include <string.h>

#include "mapwalk.h"

enum {
	EMPTY_ONE = 1,          /* tophash of a deleted slot */
	EVACUATED_MIN = 2,      /* 2..4: old bucket already evacuated */
	EVACUATED_MAX = 4,
	MIN_TOPHASH = 5,        /* live slot */
	SAME_SIZE_GROW = 8,     /* hmap.flags */
	MAX_B = 40,             /* 2^40 buckets would not fit any real heap */
	MAX_BUCKET = 4096,      /* keys and elems > 128 bytes are indirect */
};

uint64_t classic_nalloc(const struct goruntime *rt, const struct maptype *mt, unsigned b)
{
	if (b == 0)
		return 1;
	uint64_t n = 1ull << b;
	if (b < 4)
		return n;
	n += 1ull << (b - 4);
	uint64_t sz = mt->bucket_size * n;
	uint64_t up = goruntime_roundup(rt, sz, mt->noscan);
	return up != sz ? up / mt->bucket_size : n;
}

uint64_t classic_ideal(const struct goruntime *rt, const struct maptype *mt, uint64_t count)
{
	uint64_t bytes = mt->hdr_size;
	if (count == 0)
		return bytes;
	/* makemap's overLoadFactor, with the target's load factor. */
	const struct go_facts *gf = rt->facts;
	uint64_t num = gf ? gf->classic_load_num : 13, den = gf ? gf->classic_load_den : 2;
	unsigned b = 0;
	while (b < MAX_B && count > 8 && count > num * ((1ull << b) / den))
		b++;
	bytes += mt->bucket_size * classic_nalloc(rt, mt, b);
	if (b >= 4)
		bytes += mt->extra_size;
	return bytes;
}

struct cwalk {
	const struct target *t;
	const struct goruntime *rt;
	const struct maptype *mt;
	struct map_entry *m;
	slot_fn fn;
	alloc_fn alloc;
	void *arg;
	uint64_t cur_lo, cur_hi, old_lo, old_hi;  /* array allocations */
	uint64_t outside;         /* chain buckets allocated on their own */
	uint64_t unreadable;      /* buckets missing from the core */
	uint64_t cycles;
	uint64_t budget;          /* overflow buckets we are still willing to visit */
	bool over_budget;
	uint64_t chain_buckets;   /* current array's chains */
};

static bool in_arrays(const struct cwalk *w, uint64_t a)
{
	return (a >= w->cur_lo && a < w->cur_hi) || (a >= w->old_lo && a < w->old_hi);
}

static const unsigned char *bucket_at(const struct cwalk *w, uint64_t a, unsigned char *buf)
{
	const void *v = target_view(w->t, a, w->mt->bucket_size);
	if (v)
		return v;
	if (target_read(w->t, a, buf, w->mt->bucket_size) == 0)
		return buf;
	return NULL;
}

/* Walk one chain starting at bucket `head`.  `count_live` is false for an
 * evacuated old bucket; `current` says which array the chain hangs off.
 * Returns the chain's summary as a storage cell. */
static uint8_t walk_chain(struct cwalk *w, uint64_t head, bool count_live, bool current)
{
	unsigned total_live = 0, tomb = 0, chain = 0, head_live = 0;
	const struct maptype *mt = w->mt;
	struct map_figures *f = &w->m->fig;
	unsigned char buf[MAX_BUCKET];
	uint64_t b = head, slow = head;
	for (uint64_t step = 0; b; step++) {
		const unsigned char *p = bucket_at(w, b, buf);
		if (!p) {
			w->unreadable++;
			break;
		}
		if (step > 0) {
			if (w->budget == 0) {
				w->over_budget = true;
				break;
			}
			w->budget--;
			chain++;
			f->overflow_buckets++;
			if (current)
				w->chain_buckets++;
			if (!in_arrays(w, b)) {
				w->outside++;
				if (w->alloc)
					w->alloc(w->arg, b);
			}
		}
		if (step == 0 && !current && p[0] >= EVACUATED_MIN && p[0] <= EVACUATED_MAX)
			count_live = false;
		unsigned live = 0;
		for (unsigned i = 0; i < 8 && count_live; i++) {
			if (p[i] >= MIN_TOPHASH) {
				live++;
				if (w->fn)
					w->fn(w->arg,
					      slot_addr(w->t, b, mt->keys_off, mt->key_stride, i, mt->key_indirect),
					      slot_addr(w->t, b, mt->vals_off, mt->val_stride, i, mt->elem_indirect));
			} else if (p[i] == EMPTY_ONE) {
				f->tombstones++;
				tomb = 1;
			}
		}
		f->live_slots += live;
		total_live += live;
		if (step == 0)
			head_live = live;
		if (current && live == 0)
			f->empty_buckets++;
		b = le64(p + mt->ovf_off);
		/* Brent-style cycle check: a corrupt chain must not hang us. */
		if (b == slow) {
			w->cycles++;
			break;
		}
		if ((step & (step + 1)) == 0)
			slow = b;
	}
	struct map_storage *st = w->m->storage;
	if (st && current) {
		st->chain_hist[chain > 8 ? 8 : chain]++;
		st->fill_hist[head_live]++;
	}
	return CELL_MAKE(total_live, tomb, chain);
}

int classic_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
		 uint64_t addr, struct map_entry *m, const struct walk_cb *cb)
{
	unsigned char h[256];
	if (mt->hdr_size > sizeof(h) || mt->bucket_size > MAX_BUCKET ||
	    target_read(t, addr, h, mt->hdr_size))
		return -1;
	uint64_t count = le64(h + mt->off_count);
	unsigned flags = h[mt->off_flags], B = h[mt->off_B];
	uint64_t buckets = le64(h + mt->off_buckets), old = le64(h + mt->off_oldbuckets);
	uint64_t extra = le64(h + mt->off_extra);
	if (B > MAX_B || (int64_t)count < 0 || mt->bucket_size << B >> B != mt->bucket_size)
		return -1;
	unsigned oldB = (flags & SAME_SIZE_GROW) ? B : B - 1;
	if (old && B == 0 && !(flags & SAME_SIZE_GROW))
		return -1;

	struct map_figures *f = &m->fig;
	memset(f, 0, sizeof(*f));
	struct cwalk w = { .t = t, .rt = rt, .mt = mt, .m = m, .fn = cb ? cb->slot : NULL,
			   .alloc = cb ? cb->alloc : NULL, .arg = cb ? cb->arg : NULL };
	uint64_t bs = mt->bucket_size;
	uint64_t nb = 1ull << B;
	f->count = count;
	f->retained_bytes = mt->hdr_size;
	/* A bucket array is one allocation, so all of it is in the core; one
	 * that is not came from a damaged header and is not walked. */
	if (buckets && w.alloc)
		w.alloc(w.arg, buckets);
	if (old && w.alloc)
		w.alloc(w.arg, old);
	if (extra && w.alloc)
		w.alloc(w.arg, extra);
	if (buckets) {
		w.cur_lo = buckets;
		w.cur_hi = buckets + classic_nalloc(rt, mt, B) * bs;
		f->buckets = nb;
		f->retained_bytes += (w.cur_hi - w.cur_lo);
		if (!target_has(t, buckets, nb * bs)) {
			map_add_warning(m, "bucket array at 0x%llx (%llu buckets) is not readable",
					(unsigned long long)buckets, (unsigned long long)nb);
			buckets = 0;
		}
	}
	if (old) {
		f->growing = true;
		f->old_buckets = 1ull << oldB;
		w.old_lo = old;
		w.old_hi = old + classic_nalloc(rt, mt, oldB) * bs;
		f->retained_bytes += (w.old_hi - w.old_lo);
		if (!target_has(t, old, f->old_buckets * bs)) {
			map_add_warning(m, "old bucket array at 0x%llx (%llu buckets) is not readable",
					(unsigned long long)old, (unsigned long long)f->old_buckets);
			old = 0;
		}
	}
	/* Real maps have about as many overflow buckets as buckets at most
	 * (more trigger a same-size grow); far more means a damaged chain. */
	w.budget = 4 * (nb + f->old_buckets) + 65536;
	struct map_storage *st = m->storage;
	if (st && buckets && !(st->cells = malloc(nb)))
		map_add_warning(m, "no memory for the storage picture of %llu buckets",
				(unsigned long long)nb);
	for (uint64_t i = 0; buckets && i < nb; i++) {
		uint8_t cell = walk_chain(&w, buckets + i * bs, true, true);
		if (st && st->cells)
			st->cells[st->ncells++] = cell;
	}
	for (uint64_t i = 0; old && i < f->old_buckets; i++)
		walk_chain(&w, old + i * bs, true, false);
	f->capacity_slots = 8 * (f->buckets + w.chain_buckets);
	f->retained_bytes += w.outside * bs;

	if (extra) {
		unsigned char x[64];
		if (mt->extra_size > sizeof(x) || target_read(t, extra, x, mt->extra_size)) {
			map_add_warning(m, "mapextra at 0x%llx is not readable",
					(unsigned long long)extra);
		} else {
			f->retained_bytes += mt->extra_size;
			uint64_t lists[2] = { le64(x + mt->off_x_overflow), le64(x + mt->off_x_oldoverflow) };
			for (int i = 0; i < 2; i++) {
				uint64_t sl[3];
				if (!lists[i])
					continue;
				if (target_read(t, lists[i], sl, sizeof(sl)) || sl[2] > (1ull << 40) ||
				    sl[1] > sl[2]) {
					map_add_warning(m, "overflow list at 0x%llx is unreadable or corrupt",
							(unsigned long long)lists[i]);
					continue;
				}
				f->retained_bytes += sizeof(sl) + 8 * sl[2];
				if (w.alloc) {
					w.alloc(w.arg, lists[i]);
					if (sl[0])
						w.alloc(w.arg, sl[0]);
				}
			}
			/* Spares run from nextOverflow to the bucket whose overflow word
			 * is set (the runtime's end marker), inside the current array. */
			uint64_t s = le64(x + mt->off_x_next);
			while (s) {
				uint64_t ovf;
				if (s < w.cur_lo || s + bs > w.cur_hi || target_read_u64(t, s + mt->ovf_off, &ovf)) {
					map_add_warning(m, "preallocated overflow buckets run past the bucket array");
					break;
				}
				f->spare_overflow_buckets++;
				if (ovf)
					break;
				s += bs;
			}
		}
	}
	f->ideal_bytes = classic_ideal(rt, mt, count);
	f->reclaimable_bytes = f->retained_bytes > f->ideal_bytes ? f->retained_bytes - f->ideal_bytes : 0;

	if (w.unreadable)
		map_add_warning(m, "%llu buckets are not readable; figures are partial",
				(unsigned long long)w.unreadable);
	if (w.cycles)
		map_add_warning(m, "%llu overflow chains loop back on themselves (corrupt map)",
				(unsigned long long)w.cycles);
	if (w.over_budget)
		map_add_warning(m, "overflow chains are longer than any real map's; "
				"stopped following them (corrupt map)");
	if (f->live_slots != count && !w.unreadable)
		map_add_warning(m, "count is %llu but %llu live slots were found "
				"(was the map being written at that moment?)",
				(unsigned long long)count, (unsigned long long)f->live_slots);
	if (!rt->nclasses && B >= 4)
		map_add_warning(m, "allocator size classes unknown; bucket array sizes may be low");
	return 0;
}
