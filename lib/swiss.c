/* Walker for Swiss-table Go maps (internal/runtime/maps, Go 1.24+).
 * Layout facts come from the map type's descriptor (goruntime.c). */
#include <stdlib.h>
#include <string.h>

#include "mapwalk.h"

enum {
	CTRL_EMPTY_BIT = 0x80,    /* clear in a full slot */
	CTRL_DELETED = 0xfe,      /* tombstone */
	MAX_DIR = 1 << 24,        /* 16M tables = 16G slots: beyond any real heap */
	MAX_GROUPS = 128,         /* tables hold at most 1024 slots (maxTableCapacity) */
	MAX_TABLE_CAP = 1024,     /* maxTableCapacity */
	MAX_GROUP = 1 << 14,
	MAX_HDR = 256,
};

static uint64_t pow2ceil(uint64_t v)
{
	uint64_t p = 1;
	while (p < v && p < (1ull << 62))
		p <<= 1;
	return p;
}

uint64_t swiss_ideal(const struct goruntime *rt, const struct maptype *mt, uint64_t count)
{
	/* NewMap's sizing for hint = count (then count inserts). */
	const struct go_facts *gf = rt ? rt->facts : NULL;
	uint64_t slots = gf ? gf->swiss_group_slots : 8, load = gf ? gf->swiss_max_avg_group_load : 7;
	uint64_t maxcap = gf ? gf->swiss_max_table_capacity : MAX_TABLE_CAP;
	uint64_t bytes = mt->hdr_size;
	if (count == 0)
		return bytes;
	if (count <= slots)
		return bytes + mt->group_size;
	if (count > (1ull << 56))
		return bytes;
	uint64_t target = count * slots / load;
	uint64_t dir = pow2ceil((target + maxcap - 1) / maxcap);
	uint64_t cap = pow2ceil(target / dir);
	if (cap < slots)
		cap = slots;
	return bytes + 8 * dir + dir * (mt->table_size + mt->group_size * (cap / slots));
}

struct swalk {
	const struct target *t;
	const struct maptype *mt;
	struct map_figures *f;
	slot_fn fn;
	alloc_fn alloc;
	void *arg;
	uint64_t unreadable;
	struct map_storage *st;   /* picture, when asked for */
	uint64_t cap_cells;
	bool failed;
};

/* Full slots and tombstones of a control word, without a loop: a slot is
 * full when its byte's top bit is clear; a tombstone's byte is 0xfe, a
 * zero byte of ctrl ^ 0xfe.. (counted exactly, with no carries between
 * bytes). */
/* How many bytes of v have their top bit set (all other bits clear):
 * the bits shifted down to one per byte, summed by one multiply (no
 * popcount instruction on baseline x86-64). */
static unsigned top_bits(uint64_t v)
{
	return (unsigned)((((v & 0x8080808080808080ull) >> 7) * 0x0101010101010101ull) >> 56);
}

static unsigned ctrl_live(uint64_t ctrl)
{
	return top_bits(~ctrl);
}

static unsigned ctrl_tombs(uint64_t ctrl)
{
	uint64_t x = ctrl ^ 0xfefefefefefefefeull;
	uint64_t y = (x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full;
	return top_bits(~(y | x | 0x7f7f7f7f7f7f7f7full));
}

/* The groups of one table, n of them at g: when nothing but the figures
 * is wanted, straight from the control words in place. */
static bool walk_groups_fast(struct swalk *w, uint64_t g, uint64_t n)
{
	const struct maptype *mt = w->mt;
	if (w->fn || w->st)
		return false;
	const unsigned char *v = target_view(w->t, g, n * mt->group_size);
	if (!v)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ctrl = le64(v + i * mt->group_size + mt->ctrl_off);
		unsigned live = ctrl_live(ctrl);
		w->f->live_slots += live;
		w->f->tombstones += ctrl_tombs(ctrl);
		w->f->empty_buckets += !live;
	}
	w->f->buckets += n;
	return true;
}

static void walk_group(struct swalk *w, uint64_t g)
{
	const struct maptype *mt = w->mt;
	uint64_t ctrl;
	w->f->buckets++;
	if (target_read_u64(w->t, g + mt->ctrl_off, &ctrl)) {
		w->unreadable++;
		return;
	}
	unsigned live = 0, tomb = 0;
	for (unsigned i = 0; i < 8; i++) {
		unsigned c = (ctrl >> (8 * i)) & 0xff;
		if (!(c & CTRL_EMPTY_BIT)) {
			live++;
			if (w->fn)
				w->fn(w->arg,
				      slot_addr(w->t, g, mt->key_off, mt->key_stride, i, mt->key_indirect),
				      slot_addr(w->t, g, mt->elem_off, mt->val_stride, i, mt->elem_indirect));
		} else if (c == CTRL_DELETED) {
			w->f->tombstones++;
			tomb = 1;
		}
	}
	w->f->live_slots += live;
	if (!live)
		w->f->empty_buckets++;
	if (w->st) {
		w->st->fill_hist[live]++;
		if (w->st->cells && w->st->ncells < w->cap_cells)
			w->st->cells[w->st->ncells++] = CELL_MAKE(live, tomb, 0);
	}
}

/* Make room for n more cells (and one more table start) in the picture. */
static void picture_grow(struct swalk *w, uint64_t n, bool table)
{
	struct map_storage *st = w->st;
	if (!st || w->failed)
		return;
	if (st->ncells + n > w->cap_cells) {
		uint64_t nc = w->cap_cells ? w->cap_cells : 64;
		while (nc < st->ncells + n)
			nc *= 2;
		uint8_t *c = realloc(st->cells, nc);
		if (!c) {
			w->failed = true;
			return;
		}
		st->cells = c;
		w->cap_cells = nc;
	}
	if (table) {
		uint64_t *t = realloc(st->table_start, (st->ntables + 1) * sizeof(*t));
		if (!t) {
			w->failed = true;
			return;
		}
		st->table_start = t;
		st->table_start[st->ntables++] = st->ncells;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int swiss_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
	       uint64_t addr, struct map_entry *m, const struct walk_cb *cb)
{
	unsigned char h[MAX_HDR];
	if (mt->hdr_size > sizeof(h) || mt->group_size > MAX_GROUP || mt->table_size > 64 ||
	    target_read(t, addr, h, mt->hdr_size))
		return -1;
	uint64_t used = le64(h + mt->off_count);
	uint64_t dirptr = le64(h + mt->off_dirptr);
	int64_t dirlen = (int64_t)le64(h + mt->off_dirlen);
	if (dirlen < 0 || dirlen > MAX_DIR || (dirlen & (dirlen - 1)) || used > (1ull << 48))
		return -1;

	struct map_figures *f = &m->fig;
	memset(f, 0, sizeof(*f));
	struct swalk w = { .t = t, .mt = mt, .f = f, .fn = cb ? cb->slot : NULL,
			   .alloc = cb ? cb->alloc : NULL, .arg = cb ? cb->arg : NULL, .st = m->storage };
	f->count = used;
	f->retained_bytes = mt->hdr_size;

	if (dirlen == 0) {
		if (dirptr) {
			if (w.alloc)
				w.alloc(w.arg, dirptr);
			picture_grow(&w, 1, false);
			if (!walk_groups_fast(&w, dirptr, 1))
				walk_group(&w, dirptr);
			f->retained_bytes += mt->group_size;
		}
	} else {
		uint64_t *dir = malloc((size_t)dirlen * 8);
		if (!dir)
			return -1;
		if (target_read(t, dirptr, dir, (size_t)dirlen * 8)) {
			map_add_warning(m, "directory at 0x%llx (%lld tables) is not readable",
					(unsigned long long)dirptr, (long long)dirlen);
			free(dir);
			dir = NULL;
		}
		f->retained_bytes += 8 * (uint64_t)dirlen;
		if (w.alloc)
			w.alloc(w.arg, dirptr);
		/* A table fills 2^(globalDepth-localDepth) directory entries; count
		 * each once whatever order a damaged directory has. */
		size_t n = dir ? (size_t)dirlen : 0;
		if (n)
			qsort(dir, n, 8, cmp_u64);
		for (size_t i = 0; i < n; i++) {
			if ((i && dir[i] == dir[i - 1]) || !dir[i])
				continue;
			unsigned char tb[64];
			if (target_read(t, dir[i], tb, mt->table_size)) {
				w.unreadable++;
				continue;
			}
			uint64_t groups = le64(tb + mt->t_groups);
			uint64_t mask = le64(tb + mt->t_mask);
			uint16_t cap;
			memcpy(&cap, tb + mt->t_capacity, 2);
			if (mask >= MAX_GROUPS || ((mask + 1) & mask) || !groups ||
			    !target_has(t, groups, (mask + 1) * mt->group_size)) {
				map_add_warning(m, "table at 0x%llx has an impossible or unreadable group "
						"array (%llu groups)",
						(unsigned long long)dir[i], (unsigned long long)mask + 1);
				continue;
			}
			if (cap != 8 * (mask + 1))
				map_add_warning(m, "table at 0x%llx: capacity %u but %llu groups",
						(unsigned long long)dir[i], cap,
						(unsigned long long)mask + 1);
			f->tables++;
			f->retained_bytes += mt->table_size + mt->group_size * (mask + 1);
			if (w.alloc) {
				w.alloc(w.arg, dir[i]);
				w.alloc(w.arg, groups);
			}
			picture_grow(&w, mask + 1, true);
			if (walk_groups_fast(&w, groups, mask + 1))
				continue;
			for (uint64_t gi = 0; gi <= mask; gi++)
				walk_group(&w, groups + gi * mt->group_size);
		}
		free(dir);
	}
	f->capacity_slots = 8 * f->buckets;
	f->ideal_bytes = swiss_ideal(rt, mt, used);
	f->reclaimable_bytes = f->retained_bytes > f->ideal_bytes ? f->retained_bytes - f->ideal_bytes : 0;
	if (w.failed)
		map_add_warning(m, "no memory for the storage picture");
	if (w.unreadable)
		map_add_warning(m, "%llu groups or tables are not readable; figures are partial",
				(unsigned long long)w.unreadable);
	if (f->live_slots != used && !w.unreadable)
		map_add_warning(m, "used is %llu but %llu full slots were found "
				"(was the map being written at that moment?)",
				(unsigned long long)used, (unsigned long long)f->live_slots);
	return 0;
}

int map_walk(const struct target *t, const struct goruntime *rt, const struct maptype *mt,
	     uint64_t addr, struct map_entry *m, const struct walk_cb *cb)
{
	m->layout = mt->layout;
	return mt->layout == LAYOUT_SWISS ? swiss_walk(t, rt, mt, addr, m, cb)
					  : classic_walk(t, rt, mt, addr, m, cb);
}
