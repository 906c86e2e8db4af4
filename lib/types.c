/* The type model (types.h) and its builder (types_build.h).
 *
 * A loader fills a struct gtb with flat records: strings as offsets into
 * one string table, references to types as the loader's keys.  That is
 * also the builder's flat form (gtb_serialize), so the DWARF sandbox's
 * child sends exactly what a loader built and the parent rebuilds it with
 * one copy per array.  gtb_finish turns the records into the model --
 * names become pointers into the string table, keys become ids, members,
 * locals and closure variables are grouped by their owner -- checking
 * every field on the way, since the records may come from hostile input
 * through any loader.  After that the model is read-only (the caches of
 * gtypes_has_pointers and gtypes_may_hold_map are filled in gtb_finish),
 * so it can be shared between threads. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bits.h"
#include "grow.h"
#include "types.h"
#include "types_build.h"

/* ---- records: the builder's state and its flat form -------------------
 *
 * Fixed-width fields, padding explicit, so that the flat form is the
 * arrays as they are in memory (the child and the parent are the same
 * program). */

struct w_type {
	uint64_t key, size, count, runtime_type;
	uint64_t target, elem, keyt;       /* keys */
	uint32_t name;
	uint8_t kind, go_kind, pad[2];
};

struct w_member {
	uint64_t type, offset;             /* key, bytes */
	uint32_t owner, name;              /* type id */
	uint8_t embedded, pad[7];
};

struct w_var {
	uint64_t addr, type;
	uint32_t name, pad;
};

struct w_func {
	uint64_t lowpc, highpc;
	uint32_t name, flags;
};

#define WF_LOCALS_UNKNOWN 1u

struct w_local {
	uint64_t type;
	uint32_t func, name, first_range, nranges;
	uint8_t param, pad[7];
};

struct w_range {
	uint64_t lo, hi;
	uint32_t first_piece, npieces;
};

struct w_piece {
	int64_t off;
	uint64_t size;
	uint8_t kind, pad[7];
};

struct w_cvar {
	uint64_t type, offset;
	uint32_t func, name;
};

struct w_fde {
	uint64_t lo, hi;
	uint32_t first_row, nrows;
};

/* One growing array of records. */
struct vec {
	void *p;
	size_t n, cap;
};

enum { V_TYPE, V_MEMBER, V_VAR, V_FUNC, V_LOCAL, V_RANGE, V_PIECE, V_CVAR, V_FDE, V_ROW,
       V_STR, NVEC };

static const size_t vec_elsize[NVEC] = {
	sizeof(struct w_type), sizeof(struct w_member), sizeof(struct w_var),
	sizeof(struct w_func), sizeof(struct w_local), sizeof(struct w_range),
	sizeof(struct w_piece), sizeof(struct w_cvar), sizeof(struct w_fde),
	sizeof(struct gcfa_row), 1,
};

/* Every index in the model is 32 bits. */
#define MAX_RECORDS 0xfffffff0u

/* A run of pieces already stored, for sharing: most locals are at one of
 * a few places in their frame. */
struct pseq {
	uint32_t first, n;         /* n == 0: a free slot */
};

struct gtb {
	struct vec v[NVEC];
	int dwarf_version;
	bool oom;
	/* Sharing, while building: equal names and equal runs of pieces
	 * are stored once (gopls: 48 MB of flat form without, 20 MB with). */
	uint32_t *strs;            /* string offset + 1, open addressing */
	size_t nstrs, capstrs;
	struct pseq *pseqs;
	size_t npseqs, cappseqs;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *q = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ q[i]) * 1099511628211ull;
	return h;
}

#define REC(b, k, T) ((T *)(b)->v[k].p)

/* Room for `more` records of kind k; a pointer to the first, or NULL. */
static void *vec_push(struct gtb *b, int k, size_t more)
{
	struct vec *v = &b->v[k];
	if (b->oom || !more)
		return NULL;
	if (more > MAX_RECORDS - v->n ||
	    grow_array(&v->p, &v->cap, v->n + more, vec_elsize[k], k == V_STR ? 4096 : 256)) {
		b->oom = true;
		return NULL;
	}
	void *p = (char *)v->p + v->n * vec_elsize[k];
	memset(p, 0, more * vec_elsize[k]);
	v->n += more;
	return p;
}

/* Make room in an open-addressing table of 32-bit slots (0 free) for one
 * more entry; rehash(old, oldcap, new, newcap) moves the entries. */
static int table_room(struct gtb *b, void **tab, size_t *cap, size_t count, size_t slot,
		      void (*rehash)(struct gtb *, const void *, size_t, void *, size_t))
{
	if (2 * (count + 1) <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 4096;
	void *t = calloc(nc, slot);
	if (!t) {
		b->oom = true;
		return -1;
	}
	rehash(b, *tab, *cap, t, nc);
	free(*tab);
	*tab = t;
	*cap = nc;
	return 0;
}

static void str_rehash(struct gtb *b, const void *old, size_t oldcap, void *nt, size_t nc)
{
	const uint32_t *o = old;
	uint32_t *t = nt;
	const char *base = b->v[V_STR].p;
	for (size_t i = 0; i < oldcap; i++) {
		if (!o[i])
			continue;
		const char *s = base + o[i] - 1;
		size_t h = hash_bytes(s, strlen(s)) & (nc - 1);
		while (t[h])
			h = (h + 1) & (nc - 1);
		t[h] = o[i];
	}
}

/* Offset of s in the string table, stored once; 0 ("") for NULL or "". */
static uint32_t add_str(struct gtb *b, const char *s)
{
	if (!s || !*s || b->oom)
		return 0;
	size_t len = strlen(s);
	if (table_room(b, (void **)&b->strs, &b->capstrs, b->nstrs, sizeof(*b->strs), str_rehash))
		return 0;
	size_t h = hash_bytes(s, len) & (b->capstrs - 1);
	for (; b->strs[h]; h = (h + 1) & (b->capstrs - 1)) {
		const char *t = (const char *)b->v[V_STR].p + b->strs[h] - 1;
		if (!strcmp(t, s))
			return b->strs[h] - 1;
	}
	size_t at = b->v[V_STR].n;
	char *p = vec_push(b, V_STR, len + 1);
	if (!p)
		return 0;
	memcpy(p, s, len + 1);
	b->strs[h] = (uint32_t)at + 1;
	b->nstrs++;
	return (uint32_t)at;
}

static void pseq_rehash(struct gtb *b, const void *old, size_t oldcap, void *nt, size_t nc)
{
	const struct pseq *o = old;
	struct pseq *t = nt;
	const struct w_piece *base = b->v[V_PIECE].p;
	for (size_t i = 0; i < oldcap; i++) {
		if (!o[i].n)
			continue;
		size_t h = hash_bytes(base + o[i].first, o[i].n * sizeof(*base)) & (nc - 1);
		while (t[h].n)
			h = (h + 1) & (nc - 1);
		t[h] = o[i];
	}
}

/* Index of the first of n pieces equal to p[0..n) in the piece table,
 * stored once; -1 when out of memory. */
static int64_t add_pieces(struct gtb *b, const struct gpiece *p, size_t n)
{
	struct w_piece w[16], *big = NULL, *q = w;
	if (n > 16 && !(q = big = calloc(n, sizeof(*big)))) {
		b->oom = true;
		return -1;
	}
	memset(q, 0, n * sizeof(*q));
	for (size_t k = 0; k < n; k++)
		q[k] = (struct w_piece){ .off = p[k].off, .size = p[k].size, .kind = p[k].kind };
	int64_t at = -1;
	if (table_room(b, (void **)&b->pseqs, &b->cappseqs, b->npseqs, sizeof(*b->pseqs),
		       pseq_rehash))
		goto out;
	size_t h = hash_bytes(q, n * sizeof(*q)) & (b->cappseqs - 1);
	for (; b->pseqs[h].n; h = (h + 1) & (b->cappseqs - 1)) {
		const struct pseq *e = &b->pseqs[h];
		if (e->n == n && !memcmp(REC(b, V_PIECE, struct w_piece) + e->first, q,
					 n * sizeof(*q))) {
			at = e->first;
			goto out;
		}
	}
	size_t first = b->v[V_PIECE].n;
	struct w_piece *d = vec_push(b, V_PIECE, n);
	if (!d)
		goto out;
	memcpy(d, q, n * sizeof(*q));
	b->pseqs[h] = (struct pseq){ (uint32_t)first, (uint32_t)n };
	b->npseqs++;
	at = (int64_t)first;
out:
	free(big);
	return at;
}

struct gtb *gtb_new(void)
{
	struct gtb *b = calloc(1, sizeof(*b));
	if (b && !vec_push(b, V_STR, 1)) {   /* offset 0 is "" */
		gtb_free(b);
		return NULL;
	}
	return b;
}

void gtb_free(struct gtb *b)
{
	if (!b)
		return;
	for (int k = 0; k < NVEC; k++)
		free(b->v[k].p);
	free(b->strs);
	free(b->pseqs);
	free(b);
}

static void fill_type(struct gtb *b, struct w_type *w, const struct gtb_type *t)
{
	w->kind = (uint8_t)t->kind;
	w->go_kind = t->go_kind;
	w->name = add_str(b, t->name);
	w->size = t->size;
	w->count = t->count;
	w->runtime_type = t->runtime_type;
	w->target = t->target;
	w->elem = t->elem;
	w->keyt = t->key;
}

type_id gtb_add_type(struct gtb *b, uint64_t key, const struct gtb_type *t)
{
	struct w_type *w = vec_push(b, V_TYPE, 1);
	if (!w)
		return 0;
	w->key = key;
	fill_type(b, w, t);
	return (type_id)b->v[V_TYPE].n;
}

int gtb_set_type(struct gtb *b, type_id id, const struct gtb_type *t)
{
	if (!id || id > b->v[V_TYPE].n)
		return -1;
	fill_type(b, &REC(b, V_TYPE, struct w_type)[id - 1], t);
	return b->oom ? -1 : 0;
}

int gtb_add_member(struct gtb *b, type_id owner, const char *name, uint64_t type_key,
		   uint64_t offset, bool embedded)
{
	uint32_t nm = add_str(b, name);
	struct w_member *m = vec_push(b, V_MEMBER, 1);
	if (!m)
		return -1;
	*m = (struct w_member){ .type = type_key, .offset = offset, .owner = owner, .name = nm,
				.embedded = embedded };
	return 0;
}

int gtb_add_var(struct gtb *b, const char *name, uint64_t addr, uint64_t type_key)
{
	uint32_t nm = add_str(b, name);
	struct w_var *v = vec_push(b, V_VAR, 1);
	if (!v)
		return -1;
	*v = (struct w_var){ .addr = addr, .type = type_key, .name = nm };
	return 0;
}

void gtb_set_dwarf_version(struct gtb *b, int version)
{
	b->dwarf_version = version;
}

int gtb_add_func(struct gtb *b, const char *name, uint64_t lowpc, uint64_t highpc,
		 gtb_func *f)
{
	uint32_t nm = add_str(b, name);
	struct w_func *w = vec_push(b, V_FUNC, 1);
	if (!w)
		return -1;
	*w = (struct w_func){ .lowpc = lowpc, .highpc = highpc, .name = nm };
	*f = (gtb_func)(b->v[V_FUNC].n - 1);
	return 0;
}

int gtb_add_local(struct gtb *b, gtb_func f, const char *name, uint64_t type_key, bool param,
		  const struct gtb_range *ranges, size_t nranges)
{
	uint32_t nm = add_str(b, name);
	size_t first_range = b->v[V_RANGE].n;
	if (nranges && !vec_push(b, V_RANGE, nranges))
		return -1;
	for (size_t i = 0; i < nranges; i++) {
		int64_t at = ranges[i].npieces <= MAX_RECORDS
			? add_pieces(b, ranges[i].pieces, ranges[i].npieces) : -1;
		if (at < 0) {
			b->oom = true;
			return -1;
		}
		REC(b, V_RANGE, struct w_range)[first_range + i] = (struct w_range){
			ranges[i].lo, ranges[i].hi, (uint32_t)at, (uint32_t)ranges[i].npieces };
	}
	struct w_local *l = vec_push(b, V_LOCAL, 1);
	if (!l)
		return -1;
	*l = (struct w_local){ .type = type_key, .func = f, .name = nm,
			       .first_range = (uint32_t)first_range, .nranges = (uint32_t)nranges,
			       .param = param };
	return 0;
}

int gtb_add_closure_var(struct gtb *b, gtb_func f, const char *name, uint64_t type_key,
			uint64_t offset)
{
	uint32_t nm = add_str(b, name);
	struct w_cvar *c = vec_push(b, V_CVAR, 1);
	if (!c)
		return -1;
	*c = (struct w_cvar){ .type = type_key, .offset = offset, .func = f, .name = nm };
	return 0;
}

int gtb_func_locals_unknown(struct gtb *b, gtb_func f)
{
	if (f >= b->v[V_FUNC].n)
		return -1;
	REC(b, V_FUNC, struct w_func)[f].flags |= WF_LOCALS_UNKNOWN;
	return 0;
}

int gtb_add_cfa(struct gtb *b, uint64_t lo, uint64_t hi, const struct gcfa_row *rows, size_t n)
{
	size_t first = b->v[V_ROW].n;
	if (n && !vec_push(b, V_ROW, n))
		return -1;
	struct w_fde *f = vec_push(b, V_FDE, 1);
	if (!f)
		return -1;
	if (n)
		memcpy(REC(b, V_ROW, struct gcfa_row) + first, rows, n * sizeof(*rows));
	*f = (struct w_fde){ lo, hi, (uint32_t)first, (uint32_t)n };
	return 0;
}

/* ---- the flat form ------------------------------------------------------ */

#define WIRE_MAGIC "mapscanT"
#define WIRE_VERSION 1u

struct w_header {
	char magic[8];
	uint32_t version;
	int32_t dwarf_version;
	uint64_t n[NVEC];
};

int gtb_serialize(const struct gtb *b, int (*write_fn)(void *arg, const void *p, size_t n),
		  void *arg)
{
	struct w_header h;
	if (b->oom)
		return -1;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, WIRE_MAGIC, 8);
	h.version = WIRE_VERSION;
	h.dwarf_version = b->dwarf_version;
	for (int k = 0; k < NVEC; k++)
		h.n[k] = b->v[k].n;
	if (write_fn(arg, &h, sizeof(h)))
		return -1;
	for (int k = 0; k < NVEC; k++)
		if (b->v[k].n && write_fn(arg, b->v[k].p, b->v[k].n * vec_elsize[k]))
			return -1;
	return 0;
}

struct gtb *gtb_deserialize(const void *buf, size_t len, const char *what, struct ms_error *err)
{
	const unsigned char *p = buf;
	struct w_header h;
	if (len < sizeof(h)) {
		ms_err(err, MS_ENODWARF, "%s: the DWARF loader's result is truncated (%zu bytes)",
		       what, len);
		return NULL;
	}
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, WIRE_MAGIC, 8) || h.version != WIRE_VERSION) {
		ms_err(err, MS_ENODWARF, "%s: the DWARF loader's result has a bad header", what);
		return NULL;
	}
	size_t at = sizeof(h);
	for (int k = 0; k < NVEC; k++) {
		if (h.n[k] > MAX_RECORDS || h.n[k] > (len - at) / vec_elsize[k]) {
			ms_err(err, MS_ENODWARF, "%s: the DWARF loader's result is truncated or "
			       "claims too many records", what);
			return NULL;
		}
		at += h.n[k] * vec_elsize[k];
	}
	if (at != len) {
		ms_err(err, MS_ENODWARF, "%s: the DWARF loader's result has %zu trailing bytes",
		       what, len - at);
		return NULL;
	}
	struct gtb *b = calloc(1, sizeof(*b));
	if (!b) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		return NULL;
	}
	b->dwarf_version = h.dwarf_version;
	at = sizeof(h);
	for (int k = 0; k < NVEC; k++) {
		size_t bytes = h.n[k] * vec_elsize[k];
		if (h.n[k] && !(b->v[k].p = malloc(bytes))) {
			gtb_free(b);
			ms_err(err, MS_EINTERNAL, "out of memory");
			return NULL;
		}
		if (bytes)
			memcpy(b->v[k].p, p + at, bytes);
		b->v[k].n = b->v[k].cap = h.n[k];
		at += bytes;
	}
	return b;
}

/* Index i of src's records of one kind, moved behind base of dst's: still
 * out of range if it was (a value past src's records lands past all of
 * them), saturating instead of wrapping. */
static uint32_t rebase(uint64_t i, size_t base)
{
	uint64_t v = i + base;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Every field of a record that points into records of another kind (or
 * into the string table), for gtb_append: kind and offset of the field
 * (each a uint32_t), the kind it indexes, and whether 0 means none (a name
 * "", no owner). */
static const struct rebased {
	uint8_t kind, off, into;
	bool zero_is_none;
} rebased[] = {
	{ V_TYPE, offsetof(struct w_type, name), V_STR, true },
	{ V_MEMBER, offsetof(struct w_member, name), V_STR, true },
	{ V_MEMBER, offsetof(struct w_member, owner), V_TYPE, true },
	{ V_VAR, offsetof(struct w_var, name), V_STR, true },
	{ V_FUNC, offsetof(struct w_func, name), V_STR, true },
	{ V_LOCAL, offsetof(struct w_local, name), V_STR, true },
	{ V_LOCAL, offsetof(struct w_local, func), V_FUNC, false },
	{ V_LOCAL, offsetof(struct w_local, first_range), V_RANGE, false },
	{ V_RANGE, offsetof(struct w_range, first_piece), V_PIECE, false },
	{ V_CVAR, offsetof(struct w_cvar, name), V_STR, true },
	{ V_CVAR, offsetof(struct w_cvar, func), V_FUNC, false },
	{ V_FDE, offsetof(struct w_fde, first_row), V_ROW, false },
};

int gtb_append(struct gtb *dst, struct gtb *src)
{
	int rc = -1;
	size_t base[NVEC];
	if (!dst || !src || dst->oom || src->oom)
		goto out;
	for (int k = 0; k < NVEC; k++) {
		base[k] = dst->v[k].n;
		if (src->v[k].n > MAX_RECORDS - base[k])
			goto out;
	}
	for (int k = 0; k < NVEC; k++) {
		void *p = src->v[k].n ? vec_push(dst, k, src->v[k].n) : NULL;
		if (src->v[k].n && !p)
			goto out;
		if (p)
			memcpy(p, src->v[k].p, src->v[k].n * vec_elsize[k]);
	}
	/* Names: offset 0 is "" in both; ids and handles: src's after dst's.
	 * Keys (DIE offsets) are the file's, the same in both. */
	for (size_t r = 0; r < sizeof(rebased) / sizeof(rebased[0]); r++) {
		const struct rebased *f = &rebased[r];
		unsigned char *rec = (unsigned char *)dst->v[f->kind].p;
		for (size_t i = base[f->kind]; i < dst->v[f->kind].n; i++) {
			uint32_t x;
			unsigned char *at = rec + i * vec_elsize[f->kind] + f->off;
			memcpy(&x, at, sizeof(x));
			x = x || !f->zero_is_none ? rebase(x, base[f->into]) : 0;
			memcpy(at, &x, sizeof(x));
		}
	}
	if (!dst->dwarf_version)
		dst->dwarf_version = src->dwarf_version;
	rc = 0;
out:
	if (rc && dst)
		dst->oom = true;
	gtb_free(src);
	return rc;
}

/* ---- the model ---------------------------------------------------------- */

struct fmeta {
	uint32_t first_local, nlocals;
	uint32_t first_cvar, ncvars;
	bool locals_unknown;
};

struct lvar {
	const char *name;
	type_id type;
	bool param;
	uint32_t first_range, nranges;
};

struct lrange {
	uint64_t lo, hi;
	uint32_t first_piece, npieces;
};

struct fde {
	uint64_t lo, hi;
	uint32_t first_row, nrows;
};

struct gtypes {
	struct gtype *types;       /* index 0 unused */
	size_t ntypes;
	struct gmember *members;
	size_t nmembers;
	struct gvar *vars;
	size_t nvars;
	struct gfunc *funcs;       /* sorted by lowpc, disjoint */
	struct fmeta *fmeta;       /* per function */
	size_t nfuncs;
	struct lvar *locals;       /* grouped by function */
	struct lrange *ranges;
	struct gpiece *pieces;
	struct gclosure_var *cvars; /* grouped by function */
	struct fde *fdes;          /* sorted by lo, disjoint */
	size_t nfdes;
	struct gcfa_row *rows;
	char *str;                 /* every name points in here */
	uint32_t *type_hash;       /* name -> id, open addressing */
	uint32_t *var_hash;        /* name -> index + 1 */
	uint32_t *rt_hash;         /* runtime_type -> id */
	size_t type_hash_cap, var_hash_cap, rt_hash_cap;
	uint8_t *ptr_cache;        /* per type: 1 if it holds a pointer */
	uint8_t *map_cache;        /* per type: 1 if a map can be reached from it */
	int dwarf_version;
};

void gtypes_free(struct gtypes *g)
{
	if (!g)
		return;
	free(g->types);
	free(g->members);
	free(g->vars);
	free(g->funcs);
	free(g->fmeta);
	free(g->locals);
	free(g->ranges);
	free(g->pieces);
	free(g->cvars);
	free(g->fdes);
	free(g->rows);
	free(g->str);
	free(g->type_hash);
	free(g->var_hash);
	free(g->rt_hash);
	free(g->ptr_cache);
	free(g->map_cache);
	free(g);
}

/* The names and keys hashed come from the executable, and the model from
 * the sandbox's child: with a fixed hash, a crafted file could put every
 * name in one chain (FNV's low bits are easy to collide) and make building
 * the tables quadratic.  A seed drawn per process, mixed through every bit,
 * keeps chains short whatever the input; nothing depends on the table
 * order, so the report does not change from run to run. */
static uint64_t hash_seed;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_seed_init(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&v;
	}
	hash_seed = v;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull ^ hash_seed;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return mix64(h);
}

static size_t hash_u64(uint64_t v)
{
	return (size_t)mix64(v ^ hash_seed);
}

/* Slots for an open-addressing table of n entries: a power of two, at most
 * half full. */
static size_t table_cap(size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	return cap;
}

/* ---- finishing ---------------------------------------------------------- */

/* Key -> id while finishing. */
struct keymap {
	const struct w_type *types;
	uint32_t *slot;            /* ids */
	size_t cap;
};

static type_id key_id(const struct keymap *km, uint64_t key)
{
	if (!key)
		return 0;
	for (size_t h = hash_u64(key) & (km->cap - 1);; h = (h + 1) & (km->cap - 1)) {
		uint32_t id = km->slot[h];
		if (!id)
			return 0;
		if (km->types[id - 1].key == key)
			return id;
	}
}

struct finish {
	struct gtb *b;
	struct gtypes *g;
	const char *what;
	struct ms_error *err;
	struct keymap km;
};

static int bad(struct finish *F, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct finish *F, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ms_err(F->err, MS_ENODWARF, "%s: inconsistent debug information (%s); rebuild the "
		      "program, or pass an intact copy of it with --exe", F->what, why);
}

static int oom(struct finish *F)
{
	return ms_err(F->err, MS_EINTERNAL, "out of memory loading the types of %s", F->what);
}

static int name_at(struct finish *F, uint32_t off, const char **out)
{
	if (off >= F->b->v[V_STR].n)
		return bad(F, "a name at offset %u outside the %zu-byte string table", off,
			   F->b->v[V_STR].n);
	*out = F->g->str + off;
	return 0;
}

/* Size of a type after typedefs (0 if unknown or cyclic). */
static uint64_t size_of(const struct gtypes *g, type_id id)
{
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
	return t ? t->size : 0;
}

static int finish_types(struct finish *F)
{
	struct gtb *b = F->b;
	struct gtypes *g = F->g;
	const struct w_type *w = REC(b, V_TYPE, struct w_type);
	size_t n = b->v[V_TYPE].n;

	F->km.types = w;
	F->km.cap = table_cap(n);
	F->km.slot = calloc(F->km.cap, sizeof(*F->km.slot));
	g->types = calloc(n + 1, sizeof(*g->types));
	if (!F->km.slot || !g->types)
		return oom(F);
	for (size_t i = 0; i < n; i++) {
		if (!w[i].key)
			return bad(F, "type %zu has no key", i + 1);
		size_t h = hash_u64(w[i].key) & (F->km.cap - 1);
		for (; F->km.slot[h]; h = (h + 1) & (F->km.cap - 1))
			if (w[F->km.slot[h] - 1].key == w[i].key)
				return bad(F, "two types under key 0x%llx",
					   (unsigned long long)w[i].key);
		F->km.slot[h] = (uint32_t)(i + 1);
	}
	g->ntypes = n;
	for (size_t i = 0; i < n; i++) {
		struct gtype *t = &g->types[i + 1];
		if (w[i].kind <= GK_NONE || w[i].kind > GK_OTHER)
			return bad(F, "type %zu has kind %u", i + 1, w[i].kind);
		if (name_at(F, w[i].name, &t->name))
			return -1;
		t->kind = w[i].kind;
		t->go_kind = w[i].go_kind;
		t->size = w[i].size;
		t->count = w[i].count;
		t->runtime_type = w[i].runtime_type;
		t->target = key_id(&F->km, w[i].target);
		t->elem = key_id(&F->km, w[i].elem);
		t->key = key_id(&F->km, w[i].keyt);
		switch (t->kind) {
		case GK_PTR: case GK_MAP: case GK_CHAN: case GK_FUNC:
			t->size = 8;
			break;
		case GK_IFACE:
			t->size = 16;
			break;
		default:
			break;
		}
	}

	/* Members, grouped by owner in the order added (a counting sort). */
	const struct w_member *wm = REC(b, V_MEMBER, struct w_member);
	size_t nm = b->v[V_MEMBER].n;
	uint32_t *next = calloc(n + 2, sizeof(*next));
	g->members = calloc(nm ? nm : 1, sizeof(*g->members));
	if (!next || !g->members) {
		free(next);
		return oom(F);
	}
	for (size_t i = 0; i < nm; i++) {
		uint32_t o = wm[i].owner;
		if (!o || o > n) {
			free(next);
			return bad(F, "member %zu belongs to type %u of %zu", i, o, n);
		}
		enum gkind k = g->types[o].kind;
		if (k != GK_STRUCT && k != GK_SLICE && k != GK_STRING) {
			free(next);
			return bad(F, "member %zu belongs to type %u, which is not a struct", i, o);
		}
		g->types[o].nmembers++;
	}
	for (size_t id = 1, at = 0; id <= n; id++) {
		g->types[id].first_member = (uint32_t)at;
		next[id] = (uint32_t)at;
		at += g->types[id].nmembers;
	}
	for (size_t i = 0; i < nm; i++) {
		struct gmember *m = &g->members[next[wm[i].owner]++];
		if (name_at(F, wm[i].name, &m->name)) {
			free(next);
			return -1;
		}
		m->type = key_id(&F->km, wm[i].type);
		m->offset = wm[i].offset;
		m->embedded = wm[i].embedded;
	}
	free(next);
	g->nmembers = nm;

	/* What readers of the model rely on: members inside their struct,
	 * arrays as big as their elements. */
	for (size_t id = 1; id <= n; id++) {
		const struct gtype *t = &g->types[id];
		for (uint32_t k = 0; k < t->nmembers; k++) {
			const struct gmember *m = &g->members[t->first_member + k];
			uint64_t ms = size_of(g, m->type);
			if (m->offset > t->size || ms > t->size - m->offset)
				return bad(F, "member %s of %s at offset %llu, %llu bytes, lies "
					   "outside its %llu-byte struct", m->name, t->name,
					   (unsigned long long)m->offset, (unsigned long long)ms,
					   (unsigned long long)t->size);
		}
		if (t->kind == GK_ARRAY) {
			uint64_t es = size_of(g, t->elem);
			if (es && (t->count > UINT64_MAX / es || t->count * es != t->size))
				return bad(F, "array %s of %llu elements of %llu bytes has %llu "
					   "bytes", t->name, (unsigned long long)t->count,
					   (unsigned long long)es, (unsigned long long)t->size);
		}
	}

	const struct w_var *wv = REC(b, V_VAR, struct w_var);
	g->nvars = b->v[V_VAR].n;
	g->vars = calloc(g->nvars ? g->nvars : 1, sizeof(*g->vars));
	if (!g->vars)
		return oom(F);
	for (size_t i = 0; i < g->nvars; i++) {
		if (name_at(F, wv[i].name, &g->vars[i].name))
			return -1;
		g->vars[i].addr = wv[i].addr;
		g->vars[i].type = key_id(&F->km, wv[i].type);
	}
	return 0;
}

struct fsort {
	uint64_t lowpc;
	uint32_t handle;
};

static int fsort_cmp(const void *a, const void *b)
{
	const struct fsort *x = a, *y = b;
	if (x->lowpc != y->lowpc)
		return x->lowpc < y->lowpc ? -1 : 1;
	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Group records (locals or closure variables) by function, a counting
 * sort: (*order)[i] is the index of the i-th record once grouped, *kept
 * how many belong to a function that stays (duplicates drop out); each
 * function's first and count go to its fmeta. */
static int group_by_func(struct finish *F, const uint32_t *rec_func, size_t nrec,
			 const uint32_t *final, uint32_t **order, size_t *kept, bool cvars)
{
	struct gtypes *g = F->g;
	size_t nadded = F->b->v[V_FUNC].n;
	uint32_t *next = calloc(g->nfuncs + 1, sizeof(*next));
	*order = malloc((nrec ? nrec : 1) * sizeof(**order));
	if (!next || !*order) {
		free(next);
		return oom(F);
	}
	for (size_t i = 0; i < nrec; i++) {
		if (rec_func[i] >= nadded) {
			free(next);
			return bad(F, "a %s of function %u of %zu", cvars ? "closure variable" : "local",
				   rec_func[i], nadded);
		}
		if (final[rec_func[i]] != UINT32_MAX)
			next[final[rec_func[i]] + 1]++;
	}
	for (size_t f = 0; f < g->nfuncs; f++) {
		if (cvars) {
			g->fmeta[f].first_cvar = next[f];
			g->fmeta[f].ncvars = next[f + 1];
		} else {
			g->fmeta[f].first_local = next[f];
			g->fmeta[f].nlocals = next[f + 1];
		}
		next[f + 1] += next[f];
	}
	*kept = g->nfuncs ? next[g->nfuncs] : 0;
	for (size_t i = 0; i < nrec; i++) {
		uint32_t fi = final[rec_func[i]];
		if (fi != UINT32_MAX)
			(*order)[next[fi]++] = (uint32_t)i;
	}
	free(next);
	return 0;
}

static int finish_funcs(struct finish *F)
{
	struct gtb *b = F->b;
	struct gtypes *g = F->g;
	const struct w_func *wf = REC(b, V_FUNC, struct w_func);
	size_t nf = b->v[V_FUNC].n;

	/* Sort by entry, drop duplicate entries (the first added stays), cut
	 * an overlap at the next entry. */
	struct fsort *s = malloc((nf ? nf : 1) * sizeof(*s));
	uint32_t *final = malloc((nf ? nf : 1) * sizeof(*final));
	g->funcs = calloc(nf ? nf : 1, sizeof(*g->funcs));
	g->fmeta = calloc(nf ? nf : 1, sizeof(*g->fmeta));
	if (!s || !final || !g->funcs || !g->fmeta) {
		free(s);
		free(final);
		return oom(F);
	}
	for (size_t i = 0; i < nf; i++) {
		if (wf[i].lowpc >= wf[i].highpc) {
			free(s);
			free(final);
			return bad(F, "function %zu has an empty pc range [0x%llx, 0x%llx)", i,
				   (unsigned long long)wf[i].lowpc,
				   (unsigned long long)wf[i].highpc);
		}
		s[i] = (struct fsort){ wf[i].lowpc, (uint32_t)i };
		final[i] = UINT32_MAX;
	}
	qsort(s, nf, sizeof(*s), fsort_cmp);
	size_t n = 0;
	for (size_t i = 0; i < nf; i++) {
		const struct w_func *w = &wf[s[i].handle];
		if (n && w->lowpc == g->funcs[n - 1].lowpc)
			continue;
		if (n && g->funcs[n - 1].highpc > w->lowpc)
			g->funcs[n - 1].highpc = w->lowpc;
		if (name_at(F, w->name, &g->funcs[n].name)) {
			free(s);
			free(final);
			return -1;
		}
		g->funcs[n].lowpc = w->lowpc;
		g->funcs[n].highpc = w->highpc;
		g->fmeta[n].locals_unknown = w->flags & WF_LOCALS_UNKNOWN;
		final[s[i].handle] = (uint32_t)n++;
	}
	free(s);
	g->nfuncs = n;

	/* Pieces and ranges are checked whole, whoever refers to them. */
	const struct w_piece *wp = REC(b, V_PIECE, struct w_piece);
	size_t np = b->v[V_PIECE].n;
	g->pieces = malloc((np ? np : 1) * sizeof(*g->pieces));
	const struct w_range *wr = REC(b, V_RANGE, struct w_range);
	size_t nr = b->v[V_RANGE].n;
	g->ranges = malloc((nr ? nr : 1) * sizeof(*g->ranges));
	if (!g->pieces || !g->ranges) {
		free(final);
		return oom(F);
	}
	for (size_t i = 0; i < np; i++) {
		if (wp[i].kind > GPIECE_NONE) {
			free(final);
			return bad(F, "a location piece of kind %u", wp[i].kind);
		}
		g->pieces[i] = (struct gpiece){ wp[i].kind, wp[i].off, wp[i].size };
	}
	for (size_t i = 0; i < nr; i++) {
		if (wr[i].lo >= wr[i].hi || !wr[i].npieces || wr[i].first_piece > np ||
		    wr[i].npieces > np - wr[i].first_piece) {
			free(final);
			return bad(F, "a local's location range %zu is empty or has pieces %u+%u "
				   "of %zu", i, wr[i].first_piece, wr[i].npieces, np);
		}
		g->ranges[i] = (struct lrange){ wr[i].lo, wr[i].hi, wr[i].first_piece,
						wr[i].npieces };
	}

	/* Locals, grouped by function. */
	const struct w_local *wl = REC(b, V_LOCAL, struct w_local);
	size_t nl = b->v[V_LOCAL].n;
	uint32_t *rf = malloc((nl ? nl : 1) * sizeof(*rf)), *order = NULL;
	if (!rf) {
		free(final);
		return oom(F);
	}
	for (size_t i = 0; i < nl; i++)
		rf[i] = wl[i].func;
	size_t kept = 0;
	int grc = group_by_func(F, rf, nl, final, &order, &kept, false);
	free(rf);
	if (grc) {
		free(final);
		free(order);
		return -1;
	}
	g->locals = calloc(kept ? kept : 1, sizeof(*g->locals));
	for (size_t i = 0; g->locals && i < kept; i++) {
		const struct w_local *w = &wl[order[i]];
		struct lvar *v = &g->locals[i];
		if (w->first_range > nr || w->nranges > nr - w->first_range) {
			free(final);
			free(order);
			return bad(F, "a local has ranges %u+%u of %zu", w->first_range, w->nranges,
				   nr);
		}
		if (name_at(F, w->name, &v->name)) {
			free(final);
			free(order);
			return -1;
		}
		v->type = key_id(&F->km, w->type);
		v->param = w->param;
		v->first_range = w->first_range;
		v->nranges = w->nranges;
	}
	free(order);
	if (!g->locals) {
		free(final);
		return oom(F);
	}

	/* Closure variables, grouped by function. */
	const struct w_cvar *wc = REC(b, V_CVAR, struct w_cvar);
	size_t nc = b->v[V_CVAR].n;
	rf = malloc((nc ? nc : 1) * sizeof(*rf));
	if (!rf) {
		free(final);
		return oom(F);
	}
	for (size_t i = 0; i < nc; i++)
		rf[i] = wc[i].func;
	grc = group_by_func(F, rf, nc, final, &order, &kept, true);
	free(rf);
	free(final);
	if (grc) {
		free(order);
		return -1;
	}
	g->cvars = calloc(kept ? kept : 1, sizeof(*g->cvars));
	for (size_t i = 0; g->cvars && i < kept; i++) {
		const struct w_cvar *w = &wc[order[i]];
		struct gclosure_var *c = &g->cvars[i];
		if (name_at(F, w->name, &c->name)) {
			free(order);
			return -1;
		}
		c->type = key_id(&F->km, w->type);
		c->offset = w->offset;
	}
	free(order);
	if (!g->cvars)
		return oom(F);

	/* Call-frame tables: sorted, the rows of each checked; a table that
	 * overlaps the one before is dropped. */
	const struct w_fde *wd = REC(b, V_FDE, struct w_fde);
	size_t nd = b->v[V_FDE].n, nrow = b->v[V_ROW].n;
	const struct gcfa_row *rows = REC(b, V_ROW, struct gcfa_row);
	g->fdes = malloc((nd ? nd : 1) * sizeof(*g->fdes));
	g->rows = malloc((nrow ? nrow : 1) * sizeof(*g->rows));
	if (!g->fdes || !g->rows)
		return oom(F);
	if (nrow)
		memcpy(g->rows, rows, nrow * sizeof(*rows));
	for (size_t i = 0; i < nd; i++) {
		const struct w_fde *d = &wd[i];
		if (d->lo >= d->hi || !d->nrows || d->first_row > nrow ||
		    d->nrows > nrow - d->first_row)
			return bad(F, "call-frame table %zu at [0x%llx, 0x%llx) has rows %u+%u of %zu",
				   i, (unsigned long long)d->lo, (unsigned long long)d->hi,
				   d->first_row, d->nrows, nrow);
		const struct gcfa_row *r = rows + d->first_row;
		if (r[0].pc != 0)
			return bad(F, "call-frame table at 0x%llx does not start at its first pc",
				   (unsigned long long)d->lo);
		for (uint32_t k = 1; k < d->nrows; k++)
			if (r[k].pc <= r[k - 1].pc)
				return bad(F, "call-frame table at 0x%llx has rows out of order",
					   (unsigned long long)d->lo);
		g->fdes[i] = (struct fde){ d->lo, d->hi, d->first_row, d->nrows };
	}
	qsort(g->fdes, nd, sizeof(*g->fdes), fde_cmp);
	size_t k = 0;
	for (size_t i = 0; i < nd; i++)
		if (!k || g->fdes[i].lo >= g->fdes[k - 1].hi)
			g->fdes[k++] = g->fdes[i];
	g->nfdes = k;
	return 0;
}

static int fixpoint(const struct gtypes *g, uint8_t *yes, bool want_map);

static int finish_indexes(struct finish *F)
{
	struct gtypes *g = F->g;
	size_t cap = table_cap(g->ntypes);
	g->type_hash = calloc(cap, sizeof(*g->type_hash));
	if (!g->type_hash)
		return oom(F);
	g->type_hash_cap = cap;
	for (size_t i = 1; i <= g->ntypes; i++) {
		const char *n = g->types[i].name;
		if (!*n)
			continue;
		for (size_t h = hash_str(n) & (cap - 1);; h = (h + 1) & (cap - 1)) {
			uint32_t cur = g->type_hash[h];
			if (!cur) {
				g->type_hash[h] = (uint32_t)i;
				break;
			}
			if (!strcmp(g->types[cur].name, n))
				break; /* keep the first */
		}
	}
	cap = table_cap(g->nvars);
	g->var_hash = calloc(cap, sizeof(*g->var_hash));
	if (!g->var_hash)
		return oom(F);
	g->var_hash_cap = cap;
	for (size_t i = 0; i < g->nvars; i++) {
		for (size_t h = hash_str(g->vars[i].name) & (cap - 1);; h = (h + 1) & (cap - 1)) {
			uint32_t cur = g->var_hash[h];
			if (!cur) {
				g->var_hash[h] = (uint32_t)(i + 1);
				break;
			}
			if (!strcmp(g->vars[cur - 1].name, g->vars[i].name))
				break;
		}
	}
	cap = table_cap(g->ntypes);
	g->rt_hash = calloc(cap, sizeof(*g->rt_hash));
	if (!g->rt_hash)
		return oom(F);
	g->rt_hash_cap = cap;
	for (size_t i = 1; i <= g->ntypes; i++) {
		uint64_t off = g->types[i].runtime_type;
		if (!off)
			continue;
		for (size_t h = hash_u64(off) & (cap - 1);; h = (h + 1) & (cap - 1)) {
			uint32_t cur = g->rt_hash[h];
			if (!cur) {
				g->rt_hash[h] = (uint32_t)i;
				break;
			}
			if (g->types[cur].runtime_type == off) {
				/* A plain typedef alias (no go_kind) loses to the real type. */
				if (!g->types[cur].go_kind && g->types[i].go_kind)
					g->rt_hash[h] = (uint32_t)i;
				break;
			}
		}
	}
	g->ptr_cache = calloc(g->ntypes + 1, 1);
	g->map_cache = calloc(g->ntypes + 1, 1);
	if (!g->ptr_cache || !g->map_cache)
		return oom(F);
	if (fixpoint(g, g->ptr_cache, false) || fixpoint(g, g->map_cache, true))
		return oom(F);
	return 0;
}

struct gtypes *gtb_finish(struct gtb *b, const char *what, struct ms_error *err)
{
	struct finish F = { b, NULL, what ? what : "executable", err, { 0 } };
	int rc = -1;

	pthread_once(&hash_once, hash_seed_init);

	if (!b) {
		ms_err(err, MS_EINTERNAL, "out of memory loading the types of %s", F.what);
		return NULL;
	}
	if (b->oom) {
		oom(&F);
		goto out;
	}
	if (!(F.g = calloc(1, sizeof(*F.g)))) {
		oom(&F);
		goto out;
	}
	/* The string table becomes the model's: every name points into it. */
	struct vec *s = &b->v[V_STR];
	if (!s->n || ((char *)s->p)[s->n - 1]) {
		bad(&F, "the string table is not NUL-terminated");
		goto out;
	}
	F.g->str = s->p;
	s->p = NULL;               /* s->n stays: names are checked against it */
	F.g->dwarf_version = b->dwarf_version;
	rc = finish_types(&F);
	if (!rc)
		rc = finish_funcs(&F);
	if (!rc)
		rc = finish_indexes(&F);
out:
	free(F.km.slot);
	gtb_free(b);
	if (rc) {
		gtypes_free(F.g);
		return NULL;
	}
	return F.g;
}

/* ---- queries ------------------------------------------------------------ */

size_t gtypes_count(const struct gtypes *g)
{
	return g->ntypes;
}

const struct gtype *gtypes_get(const struct gtypes *g, type_id id)
{
	return id && id <= g->ntypes ? &g->types[id] : NULL;
}

const struct gmember *gtypes_members(const struct gtypes *g, type_id id, size_t *n)
{
	const struct gtype *t = gtypes_get(g, id);
	if (!t || !t->nmembers) {
		*n = 0;
		return NULL;
	}
	*n = t->nmembers;
	return &g->members[t->first_member];
}

type_id gtypes_find(const struct gtypes *g, const char *name)
{
	size_t h = hash_str(name) & (g->type_hash_cap - 1);
	for (uint32_t cur; (cur = g->type_hash[h]); h = (h + 1) & (g->type_hash_cap - 1))
		if (!strcmp(g->types[cur].name, name))
			return cur;
	return 0;
}

const struct gmember *gtypes_member(const struct gtypes *g, type_id id, const char *name)
{
	size_t n;
	const struct gmember *m = gtypes_members(g, gtypes_resolve(g, id), &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	return NULL;
}

type_id gtypes_resolve(const struct gtypes *g, type_id id)
{
	for (int i = 0; i < 32; i++) {
		const struct gtype *t = gtypes_get(g, id);
		if (!t)
			return 0;
		if (t->kind != GK_TYPEDEF)
			return id;
		id = t->target;
	}
	return 0;
}

const struct gvar *gtypes_vars(const struct gtypes *g, size_t *n)
{
	*n = g->nvars;
	return g->vars;
}

const struct gvar *gtypes_var(const struct gtypes *g, const char *name)
{
	size_t h = hash_str(name) & (g->var_hash_cap - 1);
	for (uint32_t cur; (cur = g->var_hash[h]); h = (h + 1) & (g->var_hash_cap - 1))
		if (!strcmp(g->vars[cur - 1].name, name))
			return &g->vars[cur - 1];
	return NULL;
}

type_id gtypes_by_runtime_type(const struct gtypes *g, uint64_t off)
{
	if (!off)
		return 0;
	size_t h = hash_u64(off) & (g->rt_hash_cap - 1);
	for (uint32_t cur; (cur = g->rt_hash[h]); h = (h + 1) & (g->rt_hash_cap - 1))
		if (g->types[cur].runtime_type == off)
			return cur;
	return 0;
}

bool gtypes_direct_iface(const struct gtypes *g, type_id id)
{
	for (int depth = 0; depth < 16; depth++) {
		const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
		if (!t)
			return false;
		switch (t->kind) {
		case GK_PTR: case GK_MAP: case GK_CHAN: case GK_FUNC:
			return true;
		case GK_ARRAY:
			if (t->count != 1)
				return false;
			id = t->elem;
			break;
		case GK_STRUCT: {
			size_t n;
			const struct gmember *m = gtypes_members(g, gtypes_resolve(g, id), &n);
			if (n != 1)
				return false;
			id = m[0].type;
			break;
		}
		default:
			return false;
		}
	}
	return false;
}

int gtypes_dwarf_version(const struct gtypes *g)
{
	return g->dwarf_version;
}

/* Both predicates are computed once for every type, as least fixed points
 * over the (possibly cyclic: type T struct { next *T }) type graph: start
 * from "no", mark the base cases, and propagate "yes" until nothing changes. */
static bool derive(const struct gtypes *g, const uint8_t *yes, type_id id, bool want_map)
{
	const struct gtype *t = &g->types[id];
	switch (t->kind) {
	case GK_MAP:
		return true;
	case GK_SLICE:
		return want_map ? yes[t->elem] : true;
	case GK_IFACE:
		return true;      /* any dynamic value, a map among them */
	case GK_CHAN:
		return want_map ? yes[t->elem] : true;   /* values in its buffer */
	case GK_STRING:
		return !want_map;
	case GK_FUNC:
		return true;      /* a closure captures anything */
	case GK_PTR:          /* unsafe.Pointer (no target) points to anything */
		return want_map ? !t->target || yes[t->target] : true;
	case GK_ARRAY:
		return t->count && yes[t->elem];
	case GK_TYPEDEF:
		return yes[t->target];
	case GK_STRUCT: {
		size_t n;
		const struct gmember *m = gtypes_members(g, id, &n);
		for (size_t i = 0; i < n; i++)
			if (yes[m[i].type])
				return true;
		return false;
	}
	default:
		return false;
	}
}

/* The types whose answer follows from id's: what derive reads. */
static size_t deps_of(const struct gtypes *g, type_id id, const type_id **v, type_id one[1])
{
	const struct gtype *t = &g->types[id];
	switch (t->kind) {
	case GK_SLICE: case GK_CHAN: case GK_ARRAY:
		one[0] = t->elem;
		break;
	case GK_PTR: case GK_TYPEDEF:
		one[0] = t->target;
		break;
	case GK_STRUCT: {
		size_t n;
		const struct gmember *m = gtypes_members(g, id, &n);
		*v = NULL;
		return m ? n : 0;
	}
	default:
		return 0;
	}
	*v = one;
	return 1;
}

static type_id dep_at(const struct gtypes *g, type_id id, const type_id *v, size_t i)
{
	if (v)
		return v[i];
	size_t n;
	return gtypes_members(g, id, &n)[i].type;
}

/* A worklist over the reverse edges: each type is decided once its
 * dependencies are, in time linear in the types and members (a pass per
 * change was quadratic in a hostile chain of a million pointer types). */
/* The reverse edges, type d -> the types that depend on it: counted into
 * off[d + 1] when edge is NULL, else written at edge[fill[d]++].  Returns
 * how many there are. */
static size_t reverse_edges(const struct gtypes *g, size_t *off, size_t *fill, uint32_t *edge)
{
	size_t n = g->ntypes, e = 0;
	for (type_id id = 1; id <= n; id++) {
		const type_id *v;
		type_id one[1];
		size_t k = deps_of(g, id, &v, one);
		for (size_t i = 0; i < k; i++) {
			type_id d = dep_at(g, id, v, i);
			if (!d || d > n)
				continue;
			if (edge)
				edge[fill[d]++] = id;
			else
				off[d + 1]++;
			e++;
		}
	}
	return e;
}

static int fixpoint(const struct gtypes *g, uint8_t *yes, bool want_map)
{
	size_t n = g->ntypes;
	size_t *off = calloc(n + 2, sizeof(*off));
	if (!off)
		return -1;
	size_t e = reverse_edges(g, off, NULL, NULL);
	for (size_t d = 1; d <= n + 1; d++)
		off[d] += off[d - 1];
	uint32_t *edge = malloc((e ? e : 1) * sizeof(*edge));
	size_t *fill = malloc((n + 1) * sizeof(*fill));
	uint32_t *work = malloc((n ? n : 1) * sizeof(*work));
	if (!edge || !fill || !work) {
		free(off), free(edge), free(fill), free(work);
		return -1;
	}
	memcpy(fill, off, (n + 1) * sizeof(*fill));
	reverse_edges(g, off, fill, edge);
	/* yes[0] stays 0: "no type" holds nothing. */
	size_t top = 0;
	for (type_id id = 1; id <= n; id++)
		if (derive(g, yes, id, want_map)) {
			yes[id] = 1;
			work[top++] = id;
		}
	while (top) {
		type_id d = work[--top];
		for (size_t i = off[d]; i < off[d + 1]; i++) {
			type_id x = edge[i];
			/* A struct holds one when a member does. */
			if (!yes[x] && (g->types[x].kind == GK_STRUCT || derive(g, yes, x, want_map))) {
				yes[x] = 1;
				work[top++] = x;
			}
		}
	}
	free(off), free(edge), free(fill), free(work);
	return 0;
}

bool gtypes_has_pointers(const struct gtypes *g, type_id id)
{
	return id <= g->ntypes && g->ptr_cache[id];
}

bool gtypes_may_hold_map(const struct gtypes *g, type_id id)
{
	return id <= g->ntypes && g->map_cache[id];
}

/* ---- functions ---------------------------------------------------------- */

const struct gfunc *gtypes_funcs(const struct gtypes *g, size_t *n)
{
	*n = g->nfuncs;
	return g->funcs;
}

const struct gfunc *gtypes_func_at(const struct gtypes *g, uint64_t pc)
{
	size_t lo = 0, hi = g->nfuncs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->funcs[mid].lowpc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= g->funcs[lo - 1].highpc)
		return NULL;
	return &g->funcs[lo - 1];
}

/* f's metadata, or NULL if f is not one of the model's functions. */
static const struct fmeta *meta_of(const struct gtypes *g, const struct gfunc *f)
{
	if (!f || f < g->funcs || f >= g->funcs + g->nfuncs)
		return NULL;
	return &g->fmeta[f - g->funcs];
}

const struct gclosure_var *gtypes_closure_vars(const struct gtypes *g, const struct gfunc *f,
					       size_t *n)
{
	const struct fmeta *m = meta_of(g, f);
	*n = m ? m->ncvars : 0;
	return *n ? &g->cvars[m->first_cvar] : NULL;
}

int gtypes_locals_at(const struct gtypes *g, const struct gfunc *f, uint64_t pc,
		     glocal_fn fn, void *arg)
{
	const struct fmeta *m = meta_of(g, f);
	if (!m || m->locals_unknown)
		return -1;
	int count = 0;
	for (uint32_t i = 0; i < m->nlocals; i++) {
		const struct lvar *v = &g->locals[m->first_local + i];
		for (uint32_t k = 0; k < v->nranges; k++) {
			const struct lrange *r = &g->ranges[v->first_range + k];
			if (pc < r->lo || pc >= r->hi)
				continue;
			struct glocal l = { v->name, v->type, v->param, &g->pieces[r->first_piece],
					    r->npieces };
			fn(arg, &l);
			count++;
			break;
		}
	}
	return count;
}

int gtypes_locals_all(const struct gtypes *g, const struct gfunc *f, glocal_fn fn, void *arg)
{
	const struct fmeta *m = meta_of(g, f);
	if (!m || m->locals_unknown)
		return -1;
	for (uint32_t i = 0; i < m->nlocals; i++) {
		const struct lvar *v = &g->locals[m->first_local + i];
		struct glocal l = { v->name, v->type, v->param, NULL, 0 };
		fn(arg, &l);
	}
	return (int)m->nlocals;
}

int gtypes_cfa_offset(const struct gtypes *g, const struct gfunc *f, uint64_t pc, int64_t *off)
{
	(void)f;
	size_t lo = 0, hi = g->nfdes;   /* last table with lo <= pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->fdes[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= g->fdes[lo - 1].hi)
		return -1;
	const struct fde *d = &g->fdes[lo - 1];
	const struct gcfa_row *r = &g->rows[d->first_row];
	uint64_t rel = pc - d->lo;
	lo = 0;
	hi = d->nrows;                  /* last row with row.pc <= rel */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].pc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	*off = r[lo - 1].off;           /* rows[0].pc is 0 */
	return 0;
}

void gtypes_move_vars(struct gtypes *g, uint64_t lo, uint64_t hi, int64_t delta)
{
	for (size_t i = 0; g && i < g->nvars; i++)
		if (g->vars[i].addr >= lo && g->vars[i].addr < hi)
			g->vars[i].addr += (uint64_t)delta;
}
