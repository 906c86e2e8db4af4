/* Finding every map, and who holds it.
 *
 * Roots are package-level variables (DWARF types and addresses) and the
 * goroutines' stacks (precise frame variables where DWARF places them in
 * stack memory, every other live stack word conservatively).  Values are
 * interpreted with their DWARF types: struct fields and array elements
 * inline, slices through their backing arrays, pointers by following them
 * (breadth first, so the path kept for a map is a shortest one and a long
 * linked list cannot exhaust the C stack), interfaces through their type
 * word, closures through the captured variables DWARF describes, and maps
 * by walking their live slots and looking inside keys and values.
 *
 * Memory without a DWARF type (what an unsafe.Pointer or a stack word
 * points to, a closure DWARF does not describe) is read through the heap's
 * span table: an object whose allocation header names its type continues
 * typed; any other object is scanned word by word, an interface's type
 * word is recognised, and a word equal to a map header's address finds
 * that map.  Map headers are known beforehand: every allocated object of
 * the header's size class that has a map header's shape is a candidate,
 * and a candidate becomes a map only when its storage walks cleanly with
 * count equal to the live slots found.
 *
 * Each (address, type) pair and each untyped object is visited once; each
 * map is walked once, every further path to it only adds a root.  Types
 * that cannot lead to a map (strings, []byte, pointer-free structs) are
 * never read.  Candidates nothing reached are reported last, apart, as
 * unreachable. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"
#include "analyze.h"
#include "bits.h"
#include "grow.h"
#include "heap.h"
#include "keys.h"
#include "mapwalk.h"
#include "rtype.h"
#include "stacks.h"
#include "wordset.h"

enum pkind {
	P_VAR, P_FIELD, P_INDEX, P_MAPVAL, P_DYN, P_CHANBUF,
	P_GOROUTINE,              /* "goroutine 17": index goid */
	P_GFUNC,                  /* " (main.worker)": the frame's function */
	P_LOCAL,                  /* " → local cache" */
	P_STACKWORD,              /* " → stack word 0xc000051f28" (conservative) */
	P_WORD,                   /* "+16": a word of an untyped object (conservative) */
	P_OBJ,                    /* ".(*T)": an object typed by its allocation header */
	P_CLOSURE,                /* ".(closure main.f.func1)" */
	P_UNVERIFIED,             /* renders nothing: the hop below it went into memory whose
				   * allocation mapscan cannot check (conservative) */
	P_FRAMEWORD,              /* " → frame word at sp+0x40": a map header found in a
				   * frame by its shape (conservative) */
	P_GRECORD,                /* " → _defer": a field of the goroutine's runtime.g record */
	P_TFIELD,                 /* ".left", from a node of a tree to a node of the same
				   * type: a struct with two or more pointers to its own
				   * type (a treap's left and right); a descent renders
				   * in braces, "root{.left.right}" */
};

struct pnode {
	uint32_t parent;          /* index+1, 0 = none */
	uint8_t kind;
	bool conservative;        /* this node or one above is a guess from an untyped word */
	uint16_t run;             /* 1, or the n-th of n steps in a row that read the same
				   * (a linked list's .next.next...): then u.index is the
				   * first of them, which holds the name or index */
	union {
		const char *name;     /* VAR, FIELD, DYN, GFUNC, LOCAL, OBJ, CLOSURE: owned by the type model */
		uint64_t index;
	} u;
};

/* A map header candidate: an allocated object of the header's size class
 * with a header's shape (see cand_shape). */
enum { C_NEW = 0, C_EMPTY = 1, C_MAP = 2, C_NOTMAP = 3 };
struct cand {
	uint64_t addr;
	uint8_t state;            /* C_NEW (has storage) / C_EMPTY (no storage yet), then MAP or NOTMAP */
};

/* Header fields common to every map type (runtime.hmap / maps.Map). */
struct hdr_fields {
	bool ok;
	uint64_t size, cls;       /* header size and its size class */
	uint64_t count, flags, B, buckets, oldbuckets, extra;           /* classic */
	uint64_t used, dirptr, dirlen, depth, shift;                    /* Swiss */
	bool have_depth;
	type_id type;             /* runtime.hmap / maps.Map */
};

/* Map types grouped by storage layout: two map types with the same
 * signature give identical figures for the same memory. */
struct shape {
	const struct maptype *mt; /* the first map type of this layout */
	uint32_t ntypes;
};

struct typed_shape {              /* every describable map type, with its shape */
	const struct maptype *mt;
	uint32_t shape;
	bool shape_type;          /* names a go.shape.* type: never a real map's type */
};

/* A value waiting to be visited, with its path: the stored node of the
 * object it was found in and the last hop, which becomes a node of its
 * own only if something below it needs one (a map found, a pointer
 * queued): most queued values lead nowhere, and a node each would be
 * most of the scan's memory on a big heap. */
struct qitem {
	uint64_t addr;
	union {
		const char *name;
		uint64_t index;
	} u;
	type_id type;
	uint32_t parent;          /* stored node, 0 = none */
	uint8_t kind;             /* the last hop's pkind, or Q_NODE: parent is the whole path */
};
enum { Q_NODE = 0xff };

struct seenkey {
	uint64_t addr;
	type_id type;
};

/* The (addr, type) pairs visited: open addressing.  Nearly every pair
 * fits one word, an 8-aligned user-space address (45 bits once aligned)
 * and a type id under 2^19; the rest go to a table of pairs. */
struct seen {
	struct wordset words;     /* ((addr >> 3) << SEEN_TYPE_BITS) | type */
	struct seenkey *keys;     /* the pairs that do not fit a word */
	size_t kcap, kn;
};
#define SEEN_TYPE_BITS 19

struct mapslot {                  /* map header address -> report index */
	uint64_t addr;
	size_t idx;
};

struct roots {
	const struct target *t;
	const struct gtypes *g;
	const struct goruntime *rt;
	const struct heap *h;         /* NULL: the span table is unknown */
	struct report *r;
	struct analyze_opts opts;
	struct pnode *nodes;
	size_t nnodes, capnodes;
	/* The keys of map values paths go through (a P_MAPVAL node's u.index
	 * is 1 + its key's index here, 0 for a key or a value whose key is
	 * not known): rendered when a path is, "m[\"alice\"]". */
	struct mapkey { uint64_t addr; type_id type; } *keys;
	size_t nkeys, capkeys;
	struct htrie *htries;         /* layouts of the HashTrieMap types met (htrie_of) */
	size_t nhtries;
	struct qitem *q;
	size_t qhead, qlen, qcap;
	struct seen seen;
	struct mapslot *maps;         /* headers outside the heap's header class */
	size_t mapcap, nmapslots;
	uint32_t *hidx;               /* per slot of a header-class span: report index + 1 */
	uint64_t *hbase;              /* per span: its first slot in hidx, UINT64_MAX: none */
	const struct maptype **map_mt; /* per report index: the map's type as far as known */
	size_t cap_map_mt;
	struct maptype **mtcache;     /* per type id */
	struct plan **plans;          /* per type id: how to visit a value of it */
	struct tinfo *tinfo;          /* per type id: facts the hot paths ask again and again */
	uint8_t *mtbad;               /* per type id: descriptor failed */
	bool oom;
	int depth;
	/* the heap side */
	struct cand *cands;           /* sorted by address */
	size_t ncands;
	uint8_t *visited;             /* one bit per heap slot: untyped object scanned */
	uint8_t *owned;               /* one bit per heap slot: storage of a registered map */
	uint8_t *typed;               /* one bit per heap slot: visited whole, by a type filling it */
	struct shape *shapes;         /* lazily built: map types by layout */
	size_t nshapes;
	struct typed_shape *alltypes;
	size_t nalltypes;
	bool shapes_built;
	const struct maptype **by_bucket; /* bucket/group struct id -> its map type */
	struct group_mt { uint64_t desc; const struct maptype *mt; } *by_group;
	size_t nby_group;             /* bucket/group descriptor -> map type, sorted */
	struct maptype **desc_mts;    /* map types only the runtime's descriptors know */
	size_t ndesc_mts;
	struct empty_ref { uint64_t addr, off; } *empty;
	size_t nempty, capempty;
	struct hdr_fields hf;
	uint64_t heap_lo, heap_hi;
	/* where typed pointers may land besides the heap */
	struct gstack *stacks;        /* goroutine stacks, sorted, disjoint */
	size_t nstacks;
	struct varspan { uint64_t lo, hi; type_id type; } *vars;  /* globals, sorted */
	size_t nvars;
	struct varspan *heapsegs;     /* mappings that hold heap spans, sorted */
	size_t nheapsegs;
	struct pend { uint64_t key; uint32_t idx; } *pending; /* maps waiting to be walked */
	size_t npending, cappending;
	/* conservative steps met while following precise roots (cons_defer) */
	bool defer_cons;
	struct deferred { uint64_t value; uint32_t node; bool object; } *deferred;
	size_t ndeferred, capdeferred;
	/* the function of the frame whose word is being read, while a map it
	 * points to is typed (frame_hint) */
	const struct gfunc *hint_fn;
};

/* Returns true if (addr, type) was new (and records it). addr is never 0. */
static bool seen_add(struct roots *R, uint64_t addr, type_id type)
{
	struct seen *s = &R->seen;
	if (!(addr & 7) && addr < (1ull << (64 - SEEN_TYPE_BITS + 3)) && type < (1u << SEEN_TYPE_BITS)) {
		/* not 0: addr >= 8 */
		int rc = wordset_add(&s->words, ((addr >> 3) << SEEN_TYPE_BITS) | type);
		if (rc < 0)
			R->oom = true;
		return rc > 0;
	}
	if ((s->kn + 1) * 2 > s->kcap) {
		size_t nc = s->kcap ? s->kcap * 2 : 1024;
		struct seenkey *nk = calloc(nc, sizeof(*nk));
		if (!nk) {
			R->oom = true;
			return false;
		}
		for (size_t i = 0; i < s->kcap; i++) {
			if (!s->keys[i].addr)
				continue;
			size_t h = mix64(s->keys[i].addr ^ ((uint64_t)s->keys[i].type << 48)) & (nc - 1);
			while (nk[h].addr)
				h = (h + 1) & (nc - 1);
			nk[h] = s->keys[i];
		}
		free(s->keys);
		s->keys = nk;
		s->kcap = nc;
	}
	size_t h = mix64(addr ^ ((uint64_t)type << 48)) & (s->kcap - 1);
	while (s->keys[h].addr) {
		if (s->keys[h].addr == addr && s->keys[h].type == type)
			return false;
		h = (h + 1) & (s->kcap - 1);
	}
	s->keys[h] = (struct seenkey){ addr, type };
	s->kn++;
	return true;
}



/* Which report entry is the map whose header is at addr.  A header in the
 * heap is an object of the header's size class: its slot number indexes a
 * dense array (4 bytes a slot, one load); headers elsewhere (in a frame)
 * are few and go to a hash table. */
static uint32_t *hdr_slot(struct roots *R, uint64_t addr)
{
	if (!R->hidx)
		return NULL;
	const struct hspan *s = heap_span(R->h, addr);
	if (!s || s->elemsize != R->hf.cls)
		return NULL;
	uint64_t off = addr - s->base, base = R->hbase[s - R->h->spans];
	if (off % s->elemsize || base == UINT64_MAX)
		return NULL;
	return &R->hidx[base + off / s->elemsize];
}

/* The report index of the map at addr, or SIZE_MAX. */
static size_t map_index(struct roots *R, uint64_t addr)
{
	uint32_t *slot = hdr_slot(R, addr);
	if (slot)
		return *slot ? *slot - 1 : SIZE_MAX;
	if (!R->mapcap)
		return SIZE_MAX;
	size_t h = mix64(addr) & (R->mapcap - 1);
	while (R->maps[h].addr) {
		if (R->maps[h].addr == addr)
			return R->maps[h].idx;
		h = (h + 1) & (R->mapcap - 1);
	}
	return SIZE_MAX;
}

static bool map_index_set(struct roots *R, uint64_t addr, size_t idx)
{
	uint32_t *slot = hdr_slot(R, addr);
	if (grow_array((void **)&R->map_mt, &R->cap_map_mt, idx + 1, sizeof(*R->map_mt), 1024)) {
		R->oom = true;
		return false;
	}
	if (slot && idx < UINT32_MAX - 1) {
		*slot = (uint32_t)idx + 1;
		return true;
	}
	if ((R->nmapslots + 1) * 2 > R->mapcap) {
		size_t nc = R->mapcap ? R->mapcap * 2 : 1024;
		struct mapslot *nm = calloc(nc, sizeof(*nm));
		if (!nm) {
			R->oom = true;
			return false;
		}
		for (size_t i = 0; i < R->mapcap; i++) {
			if (!R->maps[i].addr)
				continue;
			size_t h = mix64(R->maps[i].addr) & (nc - 1);
			while (nm[h].addr)
				h = (h + 1) & (nc - 1);
			nm[h] = R->maps[i];
		}
		free(R->maps);
		R->maps = nm;
		R->mapcap = nc;
	}
	size_t h = mix64(addr) & (R->mapcap - 1);
	while (R->maps[h].addr && R->maps[h].addr != addr)
		h = (h + 1) & (R->mapcap - 1);
	if (!R->maps[h].addr)
		R->nmapslots++;
	R->maps[h] = (struct mapslot){ addr, idx };
	return true;
}

/* Does a step of this kind hold a number (u.index), not a name?  A map
 * value's holds its key's reference (R->keys). */
static bool step_indexed(unsigned kind)
{
	return kind == P_INDEX || kind == P_CHANBUF || kind == P_GOROUTINE || kind == P_STACKWORD ||
	       kind == P_WORD || kind == P_FRAMEWORD || kind == P_MAPVAL;
}

static uint32_t node_new(struct roots *R, uint32_t parent, enum pkind kind, const char *name,
			 uint64_t index)
{
	bool cons = (parent && R->nodes[parent - 1].conservative) || kind == P_STACKWORD ||
		    kind == P_WORD || kind == P_FRAMEWORD || kind == P_UNVERIFIED;
	if (R->nnodes >= UINT32_MAX - 1) {
		R->oom = true;
		return parent;
	}
	if (R->nnodes == R->capnodes) {
		size_t nc = R->capnodes ? R->capnodes * 2 : 4096;
		struct pnode *nn = realloc(R->nodes, nc * sizeof(*nn));
		if (!nn) {
			R->oom = true;
			return parent;
		}
		R->nodes = nn;
		R->capnodes = nc;
	}
	bool indexed = step_indexed(kind);
	/* The same step as the parent's: one more of a run, which then
	 * renders (and groups) as one step and a count, and costs one step
	 * to render however long it is. */
	uint16_t run = 1;
	uint32_t first = 0;
	if (parent && R->nodes[parent - 1].kind == kind &&
	    (kind == P_FIELD || kind == P_TFIELD || kind == P_INDEX || kind == P_MAPVAL || kind == P_DYN ||
	     kind == P_CHANBUF || kind == P_WORD || kind == P_OBJ || kind == P_CLOSURE)) {
		const struct pnode *up = &R->nodes[parent - 1];
		uint32_t f = up->run > 1 ? (uint32_t)up->u.index : parent;
		const struct pnode *fp = &R->nodes[f - 1];
		bool same = indexed ? fp->u.index == index
			    : fp->u.name == name || (fp->u.name && name && !strcmp(fp->u.name, name));
		if (same && up->run < UINT16_MAX) {
			run = (uint16_t)(up->run + 1);
			first = f;
		}
	}
	struct pnode *n = &R->nodes[R->nnodes++];
	n->parent = parent;
	n->kind = (uint8_t)kind;
	n->conservative = cons;
	n->run = run;
	if (run > 1)
		n->u.index = first;
	else if (indexed)
		n->u.index = index;
	else
		n->u.name = name;
	return (uint32_t)R->nnodes;
}

/* Appending to a fixed buffer, truncating; paths are rendered for every
 * map found, so this avoids printf. */
struct sbuf {
	char *b;
	size_t n, len;            /* n > 0; b[len] is always 0 */
};

static void sb_mem(struct sbuf *s, const char *a, size_t k)
{
	if (k > s->n - 1 - s->len)
		k = s->n - 1 - s->len;
	memcpy(s->b + s->len, a, k);
	s->len += k;
	s->b[s->len] = 0;
}

static void sb_str(struct sbuf *s, const char *a)
{
	sb_mem(s, a ? a : "?", strlen(a ? a : "?"));
}

static void sb_num(struct sbuf *s, uint64_t v, unsigned base)
{
	char t[24];
	int i = sizeof(t);
	do {
		t[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i > 0);
	sb_mem(s, t + i, sizeof(t) - (size_t)i);
}

/* The key of a map value a path goes through, in brackets as Go prints
 * it ("[\"alice\"]", "[42]", "[{\"acme\", 3}]"); "[*]" for a key, or when
 * the key is not known.  Keys are read from the core as they are shown. */
static void key_render(const struct roots *R, struct sbuf *sb, uint64_t ref)
{
	char text[KEY_TEXT_MAX];
	if (!ref || ref > R->nkeys) {
		sb_str(sb, "[*]");
		return;
	}
	const struct mapkey *k = &R->keys[ref - 1];
	key_format(R->t, R->g, R->rt, k->type, k->addr, text, sizeof(text));
	sb_str(sb, "[");
	sb_str(sb, text);
	sb_str(sb, "]");
}

/* A step repeated this many times in a row or more renders as one step
 * and a count: a linked list's, not a tree's few lefts in a row. */
enum { RUN_MIN = 8 };

/* One step of a path: node p's, `count` times in a row ("[3]", or
 * ".next×120" for a run of RUN_MIN or more). */
static void step_render(const struct roots *R, struct sbuf *sb, const struct pnode *p,
			uint32_t count)
{
	for (uint32_t k = 0; k < (count < RUN_MIN ? count : 1); k++) {
		switch (p->kind) {
		case P_VAR: sb_str(sb, p->u.name); break;
		case P_FIELD:
		case P_TFIELD: sb_str(sb, "."); sb_str(sb, p->u.name); break;
		case P_INDEX: sb_str(sb, "["); sb_num(sb, p->u.index, 10); sb_str(sb, "]"); break;
		case P_MAPVAL: key_render(R, sb, p->u.index); break;
		case P_DYN: sb_str(sb, ".("); sb_str(sb, p->u.name); sb_str(sb, ")"); break;
		case P_CHANBUF: sb_str(sb, "<-["); sb_num(sb, p->u.index, 10); sb_str(sb, "]"); break;
		case P_GOROUTINE: sb_str(sb, "goroutine "); sb_num(sb, p->u.index, 10); break;
		case P_GFUNC: sb_str(sb, " ("); sb_str(sb, p->u.name); sb_str(sb, ")"); break;
		case P_LOCAL: sb_str(sb, " → local "); sb_str(sb, p->u.name); break;
		case P_STACKWORD: sb_str(sb, " → stack word 0x"); sb_num(sb, p->u.index, 16); break;
		case P_WORD: sb_str(sb, "+"); sb_num(sb, p->u.index, 10); break;
		case P_OBJ: sb_str(sb, ".(*"); sb_str(sb, p->u.name); sb_str(sb, ")"); break;
		case P_CLOSURE: sb_str(sb, ".(closure "); sb_str(sb, p->u.name); sb_str(sb, ")"); break;
		case P_FRAMEWORD: sb_str(sb, " → frame word at sp+0x"); sb_num(sb, p->u.index, 16); break;
		case P_GRECORD: sb_str(sb, " → "); sb_str(sb, p->u.name); break;
		default: break;
		}
	}
	if (count >= RUN_MIN) {
		sb_str(sb, "×");
		sb_num(sb, count, 10);
	}
}

/* Render the path ending at node into buf ("main.srv.cache", "main.m[*]",
 * "main.head.next×120.m"); past 256 steps (a run counting as one), only
 * the last 256, after "…". */
static void path_render(const struct roots *R, uint32_t node, char *buf, size_t n)
{
	struct { uint32_t node, count; } chain[256];
	size_t depth = 0;
	for (uint32_t c = node; c && depth < 256;) {
		const struct pnode *p = &R->nodes[c - 1];
		uint32_t first = p->run > 1 ? (uint32_t)p->u.index : c;
		chain[depth].node = first;
		chain[depth++].count = p->run;
		c = R->nodes[first - 1].parent;
	}
	struct sbuf sb = { buf, n, 0 };
	buf[0] = 0;
	if (depth == 256)
		sb_str(&sb, "…");
	bool tree = false;        /* inside a descent through a tree's nodes */
	while (depth-- > 0) {
		const struct pnode *p = &R->nodes[chain[depth].node - 1];
		if (p->kind == P_UNVERIFIED)
			continue;
		if ((p->kind == P_TFIELD) != tree)
			sb_str(&sb, tree ? "}" : "{");
		tree = p->kind == P_TFIELD;
		step_render(R, &sb, p, chain[depth].count);
	}
	if (tree)
		sb_str(&sb, "}");
}

/* A path not yet stored: visiting a value makes one for every field and
 * element it looks at, and most lead nowhere, so nodes are stored only
 * when a map is found or a pointer queued (path_node). */
struct path {
	struct path *up;
	uint32_t node;            /* stored node, or 0 while pending */
	uint8_t kind;
	const char *name;
	uint64_t index;           /* P_MAPVAL with key: the key's address */
	type_id key;              /* P_MAPVAL: the key's type, 0: no key known */
};
#define PATH_AT(n) (&(struct path){ NULL, (n), 0, NULL, 0, 0 })
#define PATH(up, kind, name, index) (&(struct path){ (up), 0, (kind), (name), (index), 0 })

/* A key for a P_MAPVAL node: 1 + its index in R->keys, 0 when memory ran
 * out (the value then reads "[*]"). */
static uint64_t key_ref(struct roots *R, uint64_t addr, type_id type)
{
	if (grow_array((void **)&R->keys, &R->capkeys, R->nkeys + 1, sizeof(*R->keys), 1024))
		return 0;
	R->keys[R->nkeys++] = (struct mapkey){ addr, type };
	return R->nkeys;
}

static uint32_t path_node(struct roots *R, struct path *p)
{
	if (!p)
		return 0;
	if (!p->node) {
		uint32_t up = path_node(R, p->up);
		uint64_t index = p->index;
		if (p->kind == P_MAPVAL)
			index = p->key ? key_ref(R, p->index, p->key) : 0;
		p->node = node_new(R, up, (enum pkind)p->kind, p->name, index);
	}
	return p->node;
}

static void push(struct roots *R, uint64_t addr, type_id type, struct path *pp)
{
	if (R->qlen == R->qcap) {
		/* Compact the consumed head before growing. */
		if (R->qhead > R->qcap / 2) {
			memmove(R->q, R->q + R->qhead, (R->qlen - R->qhead) * sizeof(*R->q));
			R->qlen -= R->qhead;
			R->qhead = 0;
		} else {
			size_t nc = R->qcap ? R->qcap * 2 : 4096;
			struct qitem *nq = realloc(R->q, nc * sizeof(*nq));
			if (!nq) {
				R->oom = true;
				return;
			}
			R->q = nq;
			R->qcap = nc;
		}
	}
	/* A map value's step stores its key now: the item has no room for
	 * the key's type. */
	if (pp && !pp->node && pp->kind == P_MAPVAL)
		path_node(R, pp);
	struct qitem *it = &R->q[R->qlen++];
	it->addr = addr;
	it->type = type;
	if (!pp || pp->node) {
		it->parent = pp ? pp->node : 0;
		it->kind = Q_NODE;
		it->u.index = 0;
		return;
	}
	it->parent = path_node(R, pp->up);
	it->kind = pp->kind;
	if (step_indexed(pp->kind))
		it->u.index = pp->index;
	else
		it->u.name = pp->name;
}

static void visit(struct roots *R, uint64_t addr, type_id type, struct path *p);
static uint64_t tsize(const struct gtypes *g, type_id id);
static void cons_word(struct roots *R, uint64_t v, struct path *p);
static void cons_object(struct roots *R, uint64_t v, struct path *p);
struct path;
struct alloc;
static void not_a_header(struct roots *R, uint64_t p, type_id type, const struct path *pp,
			 const struct alloc *a);
static bool mt_shaped(struct roots *R, const struct maptype *mt);
static uint64_t storage_ptr(const struct roots *R, uint64_t hdr);
static bool storage_owned(struct roots *R, uint64_t addr);

static const struct maptype *maptype_get(struct roots *R, type_id id, bool quiet)
{
	if (R->mtbad[id])
		return NULL;
	if (!R->mtcache[id]) {
		struct maptype *mt = malloc(sizeof(*mt));
		struct ms_error err;
		if (!mt) {
			R->oom = true;
			return NULL;
		}
		if (maptype_describe(mt, R->g, id, &err)) {
			free(mt);
			R->mtbad[id] = 1;
			if (!quiet)
				report_add_warning(R->r, "%s", err.msg);
			return NULL;
		}
		R->mtcache[id] = mt;
	}
	return R->mtcache[id];
}

static const struct maptype *maptype_for(struct roots *R, type_id id)
{
	return maptype_get(R, id, false);
}

struct slotvisit {
	struct roots *R;
	const struct maptype *mt;
	uint32_t node;            /* the map's path: values go under "[key]" */
	uint32_t keys;            /* keys go under "[*]" */
	bool key, elem;
	struct key_sample ks;     /* the first keys, for keys_render */
};

static void on_slot(void *arg, uint64_t key_addr, uint64_t elem_addr)
{
	struct slotvisit *sv = arg;
	key_sample_add(&sv->ks, key_addr);
	if (sv->key && key_addr)
		visit(sv->R, key_addr, sv->mt->key, PATH_AT(sv->keys));
	if (sv->elem && elem_addr) {
		struct path v = { PATH_AT(sv->node), 0, P_MAPVAL, NULL, key_addr,
				  key_addr ? sv->mt->key : 0 };
		visit(sv->R, elem_addr, sv->mt->elem, &v);
	}
}

/* Facts about a type the scan asks for every pointer it follows. */
struct tinfo {
	uint64_t size;            /* bytes */
	uint64_t whole;           /* the size of an allocation of exactly one of it */
	bool ptrs;                /* it holds pointers */
	bool valid;
};

/* n bytes at addr: in place when the core has them in one piece, else
 * copied into buf; NULL when unreadable. */
static const void *rd(const struct roots *R, uint64_t addr, void *buf, size_t n)
{
	const void *v = target_view(R->t, addr, n);
	if (v)
		return v;
	return target_read(R->t, addr, buf, n) ? NULL : buf;
}

static const struct tinfo *ti(struct roots *R, type_id id)
{
	static const struct tinfo none = { 0, 0, false, true };
	if (!id || id > gtypes_count(R->g) || !R->tinfo)
		return &none;
	struct tinfo *t = &R->tinfo[id];
	if (!t->valid) {
		t->size = tsize(R->g, id);
		t->ptrs = gtypes_has_pointers(R->g, id);
		t->whole = goruntime_roundup(R->rt, t->size, !t->ptrs);
		t->valid = true;
	}
	return t;
}

/* ---- what holds an address ---------------------------------------------- *
 *
 * A typed pointer is followed only where the memory it points to can hold a
 * value of its type: inside one allocated heap object (span table), one
 * goroutine's stack, one global variable or the executable's image; a
 * slice's backing array must fit in one such allocation.  A type a
 * pointer's DWARF type contradicts (pointers in a noscan span, an
 * allocation header naming another type) is not believed.  This bounds
 * every walk by the memory that really holds it, so a stale or garbage
 * word cannot send the scan through millions of made-up elements. */

enum { A_NONE, A_HEAP, A_STACK, A_DATA, A_OTHER };

struct alloc {
	uint8_t kind;
	uint64_t base, end;          /* the allocation holding the address */
	const struct hspan *span;    /* A_HEAP */
	uint64_t slot_base;          /* A_HEAP: the slot, type header included */
};

static const struct varspan *span_find(const struct varspan *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < v[mid].lo)
			hi = mid;
		else if (addr >= v[mid].hi)
			lo = mid + 1;
		else
			return &v[mid];
	}
	return NULL;
}

static const struct gstack *stack_find(const struct roots *R, uint64_t addr)
{
	size_t lo = 0, hi = R->nstacks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < R->stacks[mid].lo)
			hi = mid;
		else if (addr >= R->stacks[mid].hi)
			lo = mid + 1;
		else
			return &R->stacks[mid];
	}
	return NULL;
}

/* The allocation holding addr; false when none does (unmapped, a free
 * heap slot, between heap spans): a pointer there is stale. */
static bool alloc_of(const struct roots *R, uint64_t addr, struct alloc *a)
{
	memset(a, 0, sizeof(*a));
	/* In-use heap spans and goroutine stacks (manual spans) never
	 * overlap, so the heap's page index answers first. */
	const struct hspan *hs = R->h ? heap_span(R->h, addr) : NULL;
	if (hs) {
		const struct hspan *s;
		uint32_t slot;
		uint64_t base, size;
		if (!heap_object_in(hs, R->t, addr, &s, &slot, &base, &size))
			return false;
		a->kind = A_HEAP;
		a->span = s;
		a->base = base;
		a->end = base + size;
		a->slot_base = s->base + (uint64_t)slot * s->elemsize;
		return true;
	}
	const struct gstack *gs = R->nstacks ? stack_find(R, addr) : NULL;
	if (gs) {
		a->kind = A_STACK;
		a->base = gs->lo;
		a->end = gs->hi;
		return true;
	}
	if (R->h && span_find(R->heapsegs, R->nheapsegs, addr))
		return false;     /* heap memory no in-use span holds */
	const struct varspan *v = span_find(R->vars, R->nvars, addr);
	if (v) {
		a->kind = A_DATA;
		a->base = v->lo;
		a->end = v->hi;
		return true;
	}
	uint64_t lo, hi;
	bool exe;
	if (!target_region(R->t, addr, &lo, &hi, &exe))
		return false;
	a->kind = exe ? A_DATA : A_OTHER;
	a->base = lo;
	a->end = hi;
	return true;
}

/* Is there a value of type `want` at byte `off` of a value of type h (h
 * itself, or a field or element inside it)? */
static bool type_within(const struct gtypes *g, type_id h, uint64_t off, type_id want, int depth)
{
	h = gtypes_resolve(g, h);
	want = gtypes_resolve(g, want);
	if (!h || !want || depth > 16)
		return false;
	if (h == want && off == 0)
		return true;
	const struct gtype *t = gtypes_get(g, h), *w = gtypes_get(g, want);
	if (!t || !w)
		return false;
	/* The same Go type under two DWARF entries (a typedef and its
	 * target, two compile units, or a generic type and the go.shape type
	 * its instantiation's descriptor maps to): what the check is for is a
	 * value that cannot fit, so a type of the same size agrees. */
	if (off == 0 && t->size == w->size && t->kind == w->kind)
		return true;
	if (t->kind == GK_STRUCT || t->kind == GK_SLICE || t->kind == GK_STRING) {
		size_t n;
		const struct gmember *m = gtypes_members(g, h, &n);
		for (size_t i = 0; i < n; i++) {
			uint64_t ms = tsize(g, m[i].type);
			if (off >= m[i].offset && off - m[i].offset < (ms ? ms : 1) &&
			    type_within(g, m[i].type, off - m[i].offset, want, depth + 1))
				return true;
		}
		return false;
	}
	if (t->kind == GK_ARRAY) {
		uint64_t es = tsize(g, t->elem);
		return es && off < t->size && type_within(g, t->elem, off % es, want, depth + 1);
	}
	return false;
}

/* Does the heap object a (which holds addr) agree that addr holds a value
 * of `type` (n of them, for a slice's backing array)?  1 yes, 0 it
 * contradicts it, -1 it cannot say (no type recorded). */
static int heap_agrees(struct roots *R, const struct alloc *a, uint64_t addr, type_id type)
{
	if (a->span->noscan)
		return ti(R, type)->ptrs ? 0 : -1;
	uint64_t typ = heap_object_type(R->t, R->rt, a->span, a->slot_base);
	type_id H = typ ? gtypes_by_runtime_type(R->g, typ - R->rt->types) : 0;
	uint64_t hs = H ? tsize(R->g, H) : 0;
	if (!hs)
		return -1;
	return type_within(R->g, H, (addr - a->base) % hs, type, 0) ? 1 : 0;
}

/* Can [addr, addr+size) hold a `type` (size bytes of them) as far as its
 * allocation says?  Fills *a.  0: no (do not read it as typed); 1: yes;
 * 2: yes, but the allocation cannot be checked (memory outside the heap,
 * the stacks and the executable: what is found there is conservative);
 * 3: the allocation is a heap object whose recorded type contradicts
 * `type` (read it by that type, conservatively). */
static int can_hold(struct roots *R, uint64_t addr, uint64_t size, type_id type,
		    struct alloc *a)
{
	if (!alloc_of(R, addr, a) || size > a->end - addr)
		return 0;
	if (a->kind == A_OTHER)
		return 2;
	if (a->kind != A_HEAP)
		return 1;
	int ok = heap_agrees(R, a, addr, type);
	if (ok == 0)
		return a->span->noscan ? 0 : 3;
	return 1;
}

/* A heap object visited as a whole, by the type that fills it: one bit per
 * slot instead of an (address, type) entry, since most pointers point at
 * the start of an object of their own type.  True the first time. */
static bool typed_once_slot(struct roots *R, uint64_t bit)
{
	if (!R->typed)
		return true;
	if (R->typed[bit / 8] & (1u << (bit % 8)))
		return false;
	R->typed[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return true;
}

static bool typed_once(struct roots *R, const struct alloc *a)
{
	uint64_t slot = (a->slot_base - a->span->base) / a->span->elemsize;
	return typed_once_slot(R, a->span->bit0 + slot);
}

/* Follow a typed pointer p to a value of type `type` (the pointee). */
static void follow(struct roots *R, uint64_t p, type_id type, struct path *pp)
{
	struct alloc a;
	struct path unv = { pp, 0, P_UNVERIFIED, NULL, 0, 0 };
	const struct tinfo *tt = ti(R, type);
	switch (can_hold(R, p, tt->size, type, &a)) {
	case 0:
		return;
	case 3:
		cons_object(R, p, &unv);
		return;
	case 2:
		pp = &unv;
		break;
	default:
		break;
	}
	not_a_header(R, p, type, pp, &a);
	if (a.kind == A_HEAP && p == a.base &&
	    tt->whole == a.end - a.base
	    ? typed_once(R, &a) : seen_add(R, p, type))
		push(R, p, type, pp);
}

/* ---- map header candidates ----------------------------------------------- */

static struct cand *cand_find(struct roots *R, uint64_t addr)
{
	size_t lo = 0, hi = R->ncands;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (R->cands[mid].addr < addr)
			lo = mid + 1;
		else if (R->cands[mid].addr > addr)
			hi = mid;
		else
			return &R->cands[mid];
	}
	return NULL;
}

static bool in_heap(const struct roots *R, uint64_t p)
{
	return p >= R->heap_lo && p < R->heap_hi && !(p & 7) && heap_span(R->h, p);
}

/* Does a header-sized object look like a map header?  C_NEW when it has
 * storage to check, C_EMPTY when it has none yet (a map never written
 * to: indistinguishable from other objects unless a typed root says so),
 * -1 when it cannot be one. */
static int cand_shape(const struct roots *R, const unsigned char *p)
{
	const struct hdr_fields *f = &R->hf;
	if (R->rt->layout == LAYOUT_CLASSIC) {
		uint64_t count = le_u(p + f->count, 8), buckets = le_u(p + f->buckets, 8),
			 old = le_u(p + f->oldbuckets, 8), extra = le_u(p + f->extra, 8);
		unsigned flags = p[f->flags], B = p[f->B];
		if ((flags & ~0x0fu) || B > 40 || count > (1ull << 48))
			return -1;
		if (!buckets)
			return count == 0 && B == 0 && !old && !extra ? C_EMPTY : -1;
		if (!in_heap(R, buckets) || (old && !in_heap(R, old)) || (extra && !in_heap(R, extra)))
			return -1;
		return C_NEW;
	}
	uint64_t used = le_u(p + f->used, 8), dir = le_u(p + f->dirptr, 8);
	int64_t len = (int64_t)le_u(p + f->dirlen, 8);
	if (used > (1ull << 48) || len < 0 || len > (1 << 24) || (len & (len - 1)))
		return -1;
	if (len == 0) {
		if (!dir)
			return used == 0 ? C_EMPTY : -1;
		return used <= 8 && in_heap(R, dir) ? C_NEW : -1;
	}
	if (f->have_depth) {
		unsigned depth = p[f->depth], shift = p[f->shift];
		if (depth > 24 || (1ll << depth) != len || shift != 64 - depth)
			return -1;
	}
	return in_heap(R, dir) ? C_NEW : -1;
}

static uint64_t fld_off(const struct gtypes *g, type_id st, const char *name, bool *ok)
{
	const struct gmember *m = gtypes_member(g, st, name);
	if (!m)
		*ok = false;
	return m ? m->offset : 0;
}

static void hdr_fields_init(struct roots *R)
{
	struct hdr_fields *f = &R->hf;
	bool ok = true;
	type_id h;
	if (R->rt->layout == LAYOUT_CLASSIC) {
		h = gtypes_find(R->g, "runtime.hmap");
		f->count = fld_off(R->g, h, "count", &ok);
		f->flags = fld_off(R->g, h, "flags", &ok);
		f->B = fld_off(R->g, h, "B", &ok);
		f->buckets = fld_off(R->g, h, "buckets", &ok);
		f->oldbuckets = fld_off(R->g, h, "oldbuckets", &ok);
		f->extra = fld_off(R->g, h, "extra", &ok);
	} else {
		h = gtypes_find(R->g, "internal/runtime/maps.Map");
		f->used = fld_off(R->g, h, "used", &ok);
		f->dirptr = fld_off(R->g, h, "dirPtr", &ok);
		f->dirlen = fld_off(R->g, h, "dirLen", &ok);
		bool dok = true;
		f->depth = fld_off(R->g, h, "globalDepth", &dok);
		f->shift = fld_off(R->g, h, "globalShift", &dok);
		f->have_depth = dok;
	}
	f->type = gtypes_resolve(R->g, h);
	const struct gtype *ht = gtypes_get(R->g, h);
	f->ok = ok && ht && ht->size >= 24 && ht->size <= 512;
	if (f->ok) {
		f->size = ht->size;
		f->cls = goruntime_roundup(R->rt, f->size, false);
	}
}

/* Every allocated object of the header's size class that has a header's
 * shape; spans come sorted, so the list is too. */
static void cands_collect(struct roots *R)
{
	const struct heap *h = R->h;
	size_t cap = 0;
	if (!h || !R->hf.ok || !R->rt->nclasses)
		return;
	for (size_t i = 0; i < h->nspans && !R->oom; i++) {
		const struct hspan *s = &h->spans[i];
		if (!(i & 255))
			analyze_progress(&R->opts, ANALYZE_HEAP, i, h->nspans);
		if (s->noscan || !s->sizeclass || s->elemsize != R->hf.cls)
			continue;
		unsigned misses = 0;
		for (uint32_t k = 0; k < s->nelems && misses < 64; k++) {
			uint64_t a = s->base + (uint64_t)k * s->elemsize;
			unsigned char buf[512];
			const unsigned char *p = target_view(R->t, a, R->hf.size);
			if (!p) {
				if (target_read(R->t, a, buf, R->hf.size)) {
					misses++;   /* a span the image lacks: give up on it */
					continue;
				}
				p = buf;
			}
			int st = cand_shape(R, p);
			if (st < 0 || !heap_allocated(R->t, s, k))
				continue;
			if (grow_array((void **)&R->cands, &cap, R->ncands + 1, sizeof(*R->cands), 4096)) {
				R->oom = true;
				return;
			}
			R->cands[R->ncands++] = (struct cand){ a, (uint8_t)st };
		}
	}
}

/* Number the slots of the header-class spans for map_index. */
static void hidx_init(struct roots *R)
{
	const struct heap *h = R->h;
	uint64_t total = 0;
	if (!R->hf.ok || !(R->hbase = malloc((h->nspans ? h->nspans : 1) * sizeof(*R->hbase))))
		return;
	for (size_t i = 0; i < h->nspans; i++) {
		R->hbase[i] = UINT64_MAX;
		if (h->spans[i].elemsize == R->hf.cls) {
			R->hbase[i] = total;
			total += h->spans[i].nelems;
		}
	}
	R->hidx = calloc(total ? total : 1, sizeof(*R->hidx));
	if (!R->hidx) {
		free(R->hbase);
		R->hbase = NULL;
	}
}

/* A typed pointer to p says what p is: unless that is the runtime's map
 * header type itself, the candidate at p (if any) is not a map. */
/* Does the path end in a conservative step (one already stored, or one
 * still pending in the chain)? */
static bool path_conservative(const struct roots *R, const struct path *p)
{
	for (; p; p = p->up) {
		if (p->node)
			return R->nodes[p->node - 1].conservative;
		if (p->kind == P_STACKWORD || p->kind == P_WORD || p->kind == P_FRAMEWORD ||
		    p->kind == P_UNVERIFIED)
			return true;
	}
	return false;
}

static void not_a_header(struct roots *R, uint64_t p, type_id type, const struct path *pp,
			 const struct alloc *a)
{
	/* Only a precise path proves what p is: through a guessed map type,
	 * or memory without a type, the "pointer" may be of another type. */
	if (!R->ncands || gtypes_resolve(R->g, type) == R->hf.type || path_conservative(R, pp))
		return;
	/* Candidates are the starts of objects of the header's size class
	 * (cands_collect): p's allocation, known already, rules most
	 * pointers out without the search. */
	if (a->kind != A_HEAP || p != a->slot_base || a->span->noscan || !a->span->sizeclass ||
	    a->span->elemsize != R->hf.cls)
		return;
	struct cand *c = cand_find(R, p);
	if (c && c->state != C_MAP)
		c->state = C_NOTMAP;
}

/* ---- typing a map header from its storage ------------------------------- */

static bool same_shape(const struct maptype *a, const struct maptype *b)
{
	if (a->layout != b->layout || a->key_indirect != b->key_indirect ||
	    a->elem_indirect != b->elem_indirect || a->noscan != b->noscan ||
	    a->key_stride != b->key_stride || a->val_stride != b->val_stride)
		return false;
	if (a->layout == LAYOUT_CLASSIC)
		return a->bucket_size == b->bucket_size && a->keys_off == b->keys_off &&
		       a->vals_off == b->vals_off && a->ovf_off == b->ovf_off;
	return a->group_size == b->group_size && a->key_off == b->key_off &&
	       a->elem_off == b->elem_off && a->ctrl_off == b->ctrl_off;
}

/* Add mt (named name) to its storage layout's group. */
static void shape_add(struct roots *R, const struct maptype *mt, const char *name, size_t *cap,
		      size_t *capall)
{
	size_t k = 0;
	while (k < R->nshapes && !same_shape(R->shapes[k].mt, mt))
		k++;
	if (grow_array((void **)&R->alltypes, capall, R->nalltypes + 1, sizeof(*R->alltypes), 64) ||
	    grow_array((void **)&R->shapes, cap, R->nshapes + 1, sizeof(*R->shapes), 64)) {
		R->oom = true;
		return;
	}
	R->alltypes[R->nalltypes++] = (struct typed_shape){ mt, (uint32_t)k,
							    strstr(name, "go.shape.") != NULL };
	if (k < R->nshapes) {
		R->shapes[k].ntypes++;
		return;
	}
	R->shapes[R->nshapes++] = (struct shape){ mt, 1 };
}

struct desc_scan {
	struct roots *R;
	const struct maptype *tmpl;   /* header layout to copy */
	const struct rtype_layout *L;
	size_t cap, capall, capg, capd;
};

/* A map type descriptor: indexed by its group type; and if DWARF has no
 * such map type (a type the compiler kept no variable of), a map type of
 * its own, so that maps of it can be walked and named. */
static void on_desc(void *arg, const struct rmap *d)
{
	struct desc_scan *ds = arg;
	struct roots *R = ds->R;
	type_id id = gtypes_by_runtime_type(R->g, d->desc - R->rt->types);
	const struct gtype *dt = gtypes_get(R->g, id);
	const struct maptype *mt = dt && dt->kind == GK_MAP ? maptype_get(R, id, true) : NULL;
	if (R->oom)
		return;
	if (!mt) {
		char name[512], kn[256], en[256];
		struct maptype *n = malloc(sizeof(*n));
		if (!n || grow_array((void **)&R->desc_mts, &ds->capd, R->ndesc_mts + 1,
				     sizeof(*R->desc_mts), 64)) {
			free(n);
			R->oom = true;
			return;
		}
		R->desc_mts[R->ndesc_mts++] = n;
		*n = *ds->tmpl;
		n->type = 0;
		n->bucket = 0;
		n->key = gtypes_by_runtime_type(R->g, d->key - R->rt->types);
		n->elem = gtypes_by_runtime_type(R->g, d->elem - R->rt->types);
		n->key_indirect = d->key_indirect;
		n->elem_indirect = d->elem_indirect;
		n->noscan = d->noscan;
		n->key_stride = d->key_stride;
		n->val_stride = d->elem_stride;
		if (n->layout == LAYOUT_CLASSIC) {
			n->bucket_size = d->group_size;
			n->keys_off = d->key_off;
			n->vals_off = d->elem_off;
			n->ovf_off = d->group_size - 8;
		} else {
			n->group_size = d->group_size;
			n->ctrl_off = 0;
			n->key_off = d->key_off;
			n->elem_off = d->elem_off;
		}
		if (rtype_name(R->t, R->rt, ds->L, d->desc, name, sizeof(name)))
			strcpy(name, "map[?]?");
		if (rtype_name(R->t, R->rt, ds->L, d->key, kn, sizeof(kn)))
			strcpy(kn, "?");
		if (rtype_name(R->t, R->rt, ds->L, d->elem, en, sizeof(en)))
			strcpy(en, "?");
		n->name = report_intern(R->r, name);
		n->key_name = report_intern(R->r, kn);
		n->elem_name = report_intern(R->r, en);
		if (!n->name || !n->key_name || !n->elem_name) {
			R->oom = true;
			return;
		}
		mt = n;
		shape_add(R, mt, name, &ds->cap, &ds->capall);
	}
	if (grow_array((void **)&R->by_group, &ds->capg, R->nby_group + 1, sizeof(*R->by_group), 64)) {
		R->oom = true;
		return;
	}
	R->by_group[R->nby_group++] = (struct group_mt){ d->group, mt };
}

/* A named map type (type Registry map[string]int) shares its bucket or
 * group type with the unnamed one: storage of that type says the unnamed
 * spelling, true of both. */
static bool named_map(const struct roots *R, const struct maptype *mt)
{
	const struct gtype *t = gtypes_get(R->g, mt->type);
	const char *n = mt->name ? mt->name : t ? t->name : "";
	return strncmp(n, "map[", 4) != 0;
}

static int cmp_group_mt(const void *a, const void *b, void *r)
{
	const struct group_mt *x = a, *y = b;
	if (x->desc != y->desc)
		return x->desc < y->desc ? -1 : 1;
	return (int)named_map(r, x->mt) - (int)named_map(r, y->mt);
}

/* Group the program's map types by storage layout, once: those DWARF
 * describes, then those only the runtime's type descriptors know. */
static void shapes_build(struct roots *R)
{
	size_t n = gtypes_count(R->g);
	struct desc_scan ds = { .R = R };
	R->shapes_built = true;
	R->by_bucket = calloc(n + 1, sizeof(*R->by_bucket));
	if (!R->by_bucket) {
		R->oom = true;
		return;
	}
	for (type_id id = 1; id <= n && !R->oom; id++) {
		const struct gtype *t = gtypes_get(R->g, id);
		if (!t || t->kind != GK_MAP)
			continue;
		const struct maptype *mt = maptype_get(R, id, true);
		if (!mt || mt->layout != R->rt->layout)
			continue;
		if (mt->bucket && mt->bucket <= n &&
		    (!R->by_bucket[mt->bucket] || named_map(R, R->by_bucket[mt->bucket])))
			R->by_bucket[mt->bucket] = mt;
		if (!ds.tmpl)
			ds.tmpl = mt;
		shape_add(R, mt, t->name, &ds.cap, &ds.capall);
	}
	struct rtype_layout L;
	rtype_layout_init(&L, R->g, R->rt->layout);
	ds.L = &L;
	if (!ds.tmpl || R->oom)
		return;
	rtype_each_map(R->t, R->rt, &L, on_desc, &ds);
	if (R->nby_group) {
		qsort_r(R->by_group, R->nby_group, sizeof(*R->by_group), cmp_group_mt, R);
		size_t k = 1;
		for (size_t i = 1; i < R->nby_group; i++)
			if (R->by_group[i].desc != R->by_group[k - 1].desc)
				R->by_group[k++] = R->by_group[i];
		R->nby_group = k;
	}
}

/* The map type whose buckets or groups a heap allocation's recorded type
 * (a descriptor address) says it holds, or NULL. */
static const struct maptype *by_storage_type(struct roots *R, uint64_t typ)
{
	if (!typ)
		return NULL;
	if (!R->shapes_built)
		shapes_build(R);
	size_t lo = 0, hi = R->nby_group;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (R->by_group[mid].desc < typ)
			lo = mid + 1;
		else if (R->by_group[mid].desc > typ)
			hi = mid;
		else
			return R->by_group[mid].mt;
	}
	type_id bt = gtypes_by_runtime_type(R->g, typ - R->rt->types);
	return bt && bt <= gtypes_count(R->g) && R->by_bucket ? R->by_bucket[bt] : NULL;
}

/* The heap object holding a map's storage (classic: the bucket array;
 * Swiss: the small map's group or the first table's group array) and how
 * many buckets or groups the header says it has. */
struct storage {
	uint64_t addr, size, slot_base, n;
	const struct hspan *span;
	uint32_t slot;
};

static bool storage_find(struct roots *R, uint64_t hdr, struct storage *st)
{
	unsigned char p[512];
	const struct hdr_fields *f = &R->hf;
	if (!f->ok || target_read(R->t, hdr, p, f->size))
		return false;
	if (R->rt->layout == LAYOUT_CLASSIC) {
		st->addr = le_u(p + f->buckets, 8);
		st->n = p[f->B];
	} else {
		st->addr = le_u(p + f->dirptr, 8);
		st->n = 0;
		if (le_u(p + f->dirlen, 8)) {
			/* Directory -> first table -> its groups. */
			const struct maptype *mt = R->nshapes ? R->shapes[0].mt : NULL;
			uint64_t table, mask;
			if (!mt || target_read_u64(R->t, st->addr, &table) ||
			    target_read_u64(R->t, table + mt->t_groups, &st->addr) ||
			    target_read_u64(R->t, table + mt->t_mask, &mask) || mask >= 128)
				return false;
			st->n = mask + 1;
		}
	}
	uint64_t size;
	if (!st->addr || !heap_object(R->h, R->t, st->addr, &st->span, &st->slot, &st->slot_base, &size) ||
	    st->slot_base != st->addr)
		return false;
	st->size = size;
	st->slot_base = st->span->base + (uint64_t)st->slot * st->span->elemsize;
	return true;
}

/* Would a map of type mt have allocated storage of this size? */
static bool storage_fits(struct roots *R, const struct maptype *mt, const struct storage *st)
{
	if (mt->noscan != st->span->noscan)
		return false;
	uint64_t want;
	if (mt->layout == LAYOUT_CLASSIC) {
		if (st->n > 40)
			return false;
		want = classic_nalloc(R->rt, mt, (unsigned)st->n) * mt->bucket_size;
	} else {
		want = (st->n ? st->n : 1) * mt->group_size;
	}
	return goruntime_roundup(R->rt, want, mt->noscan) == st->size;
}

enum { SAMPLE = 8 };
struct sample {
	uint64_t key[SAMPLE], elem[SAMPLE];
	unsigned n;
};

static void on_sample(void *arg, uint64_t key_addr, uint64_t elem_addr)
{
	struct sample *s = arg;
	if (s->n < SAMPLE) {
		s->key[s->n] = key_addr;
		s->elem[s->n] = elem_addr;
		s->n++;
	}
}

/* Walk the header at hdr as a map of type mt, into a scratch entry: is it
 * a sound map (no warnings, count equal to the live slots)?  Keeps the
 * first live slots' addresses in *smp when given. */
static bool walks_clean(struct roots *R, const struct maptype *mt, uint64_t hdr, struct sample *smp)
{
	struct map_entry tmp;
	memset(&tmp, 0, sizeof(tmp));
	struct walk_cb cb = { smp ? on_sample : NULL, NULL, smp };
	int rc = map_walk(R->t, R->rt, mt, hdr, &tmp, &cb);
	bool ok = rc == 0 && tmp.nwarnings == 0 && tmp.fig.count == tmp.fig.live_slots;
	map_entry_clear(&tmp);
	return ok;
}

/* How much a pointer p looks like a *T by where it points: -1 when the
 * memory there cannot hold a T (nothing is allocated there, the object is
 * too small, holds no pointers though T has some, or its allocation
 * header names another type); 3 when it is exactly a T of its own (a
 * heap object of T's size class, or a global of type T); 1 otherwise. */
static long plausible_ptr(struct roots *R, uint64_t p, type_id T)
{
	struct alloc a;
	const struct tinfo *tt = ti(R, T);
	uint64_t size = tt->size;
	if (!alloc_of(R, p, &a) || size > a.end - p)
		return -1;
	if (a.kind == A_HEAP) {
		if (heap_agrees(R, &a, p, T) == 0)
			return -1;
		bool own = p == a.base && a.end - a.base == tt->whole -
			   (a.base - a.slot_base);
		return own ? 3 : 1;
	}
	if (a.kind == A_DATA) {
		const struct varspan *vs = span_find(R->vars, R->nvars, p);
		if (vs && vs->lo == p && vs->type && type_within(R->g, vs->type, 0, T, 0))
			return 3;
	}
	return 1;
}

/* Set while a thread types candidates ahead of the order they are
 * registered in (infer_ahead): plausible says there when its answer rests
 * on a candidate not yet decided. */
static _Thread_local bool *infer_dep;

/* How much a value at addr looks like a value of type `type`: the number
 * of checks it passes (a string's pointer and length, a pointer that
 * points into the image...), or -1 when one fails. */
static long plausible(struct roots *R, uint64_t addr, type_id type, int depth)
{
	const struct gtype *t = gtypes_get(R->g, gtypes_resolve(R->g, type));
	uint64_t w[3];
	unsigned char b;
	if (!t || !addr || depth > 3)
		return 0;
	switch (t->kind) {
	case GK_BASE: {
		if (t->go_kind == 1) /* bool */
			return target_read(R->t, addr, &b, 1) || b > 1 ? -1 : 1;
		if (t->size != 8 || t->go_kind == 13 || t->go_kind == 14)   /* floats */
			return 0;
		/* An integer that is the address of something allocated is more
		 * likely a pointer: a type that says so fits better. */
		struct alloc a;
		if (target_read_u64(R->t, addr, &w[0]))
			return -1;
		return w[0] && !(w[0] & 7) && alloc_of(R, w[0], &a) ? 0 : 1;
	}
	case GK_PTR:
		if (target_read_u64(R->t, addr, &w[0]))
			return -1;
		return !w[0] ? 0 : t->target ? plausible_ptr(R, w[0], t->target)
			 : target_read(R->t, w[0], &b, 1) ? -1 : 1;
	case GK_MAP: {
		/* A map value points at a map header: one found, a heap
		 * candidate with a header's shape, or a header in a frame. */
		if (target_read_u64(R->t, addr, &w[0]))
			return -1;
		if (!w[0])
			return 0;
		if (map_index(R, w[0]) != SIZE_MAX)
			return 3;
		const struct cand *c = cand_find(R, w[0]);
		if (c && c->state != C_NOTMAP) {
			if (c->state == C_NEW && infer_dep)
				*infer_dep = true;   /* may yet turn out not a map */
			return 3;
		}
		struct alloc a;
		return alloc_of(R, w[0], &a) && a.kind == A_STACK ? 1 : -1;
	}
	case GK_CHAN: case GK_FUNC:
		if (target_read_u64(R->t, addr, &w[0]))
			return -1;
		return !w[0] ? 0 : target_read(R->t, w[0], &b, 1) ? -1 : 1;
	case GK_STRING:
		if (target_read(R->t, addr, w, 16))
			return -1;
		if (!w[1])
			return 1;
		return w[1] > (1ull << 40) || !w[0] || target_read(R->t, w[0], &b, 1) ||
		       target_read(R->t, w[0] + w[1] - 1, &b, 1) ? -1 : 2;
	case GK_SLICE:
		if (target_read(R->t, addr, w, 24))
			return -1;
		if (w[1] > w[2] || w[2] > (1ull << 40))
			return -1;
		return !w[2] ? 1 : !w[0] || target_read(R->t, w[0], &b, 1) ? -1 : 2;
	case GK_IFACE:
		if (target_read(R->t, addr, w, 16))
			return -1;
		if (!w[0])
			return w[1] ? -1 : 1;
		if (gtypes_member(R->g, gtypes_resolve(R->g, type), "tab")) {
			uint64_t typ;
			return target_read_u64(R->t, w[0] + R->rt->itab_type_off, &typ) ||
			       typ < R->rt->types || typ >= R->rt->etypes ? -1 : 2;
		}
		return w[0] < R->rt->types || w[0] >= R->rt->etypes ? -1 : 2;
	case GK_STRUCT: {
		size_t n;
		long sum = 0;
		const struct gmember *m = gtypes_members(R->g, gtypes_resolve(R->g, type), &n);
		for (size_t i = 0; i < n && i < 16; i++) {
			long v = plausible(R, addr + m[i].offset, m[i].type, depth + 1);
			if (v < 0)
				return -1;
			sum += v;
		}
		return sum;
	}
	case GK_ARRAY: {
		uint64_t es = tsize(R->g, t->elem);
		long sum = 0;
		for (uint64_t i = 0; i < t->count && i < 4; i++) {
			long v = plausible(R, addr + i * es, t->elem, depth + 1);
			if (v < 0)
				return -1;
			sum += v;
		}
		return sum;
	}
	default:
		return 0;
	}
}

/* The type of the map at hdr, from its storage: exact when the storage's
 * allocation header names the bucket or group type, else the first map
 * type of the first layout whose storage has this size and walks
 * cleanly.  NULL when nothing fits (then it is not a map). */
static const struct maptype *infer_type(struct roots *R, uint64_t hdr, bool *guessed,
					uint32_t *ncand)
{
	struct storage st;
	*guessed = false;
	*ncand = 1;
	if (!R->shapes_built)
		shapes_build(R);
	if (R->oom || !storage_find(R, hdr, &st))
		return NULL;
	const struct maptype *hmt = by_storage_type(R, heap_object_type(R->t, R->rt, st.span,
									   st.slot_base));
	if (hmt && walks_clean(R, hmt, hdr, NULL))
		return hmt;
	/* Layouts whose storage has this size and walks cleanly; then, of their
	 * map types, the one whose keys and values look most like values of
	 * those types (strings that point somewhere, pointers that are
	 * pointers, booleans that are 0 or 1...). */
	const struct maptype *best = NULL;
	long best_score = -1;
	uint32_t n = 0;
	for (size_t k = 0; k < R->nshapes && !R->oom; k++) {
		struct sample smp = { .n = 0 };
		if (!storage_fits(R, R->shapes[k].mt, &st) ||
		    !walks_clean(R, R->shapes[k].mt, hdr, &smp))
			continue;
		for (size_t i = 0; i < R->nalltypes; i++) {
			if (R->alltypes[i].shape != k)
				continue;
			const struct maptype *mt = R->alltypes[i].mt;
			/* A generic function's shape type is never a map's real type. */
			if (R->alltypes[i].shape_type)
				continue;
			long score = 0;
			for (unsigned j = 0; j < smp.n && score >= 0; j++) {
				long a = plausible(R, smp.key[j], mt->key, 0),
				     b = plausible(R, smp.elem[j], mt->elem, 0);
				score = a < 0 || b < 0 ? -1 : score + a + b;
			}
			if (score < 0)
				continue;
			n++;
			if (score > best_score) {
				best_score = score;
				best = mt;
			}
		}
	}
	*ncand = n;
	*guessed = best != NULL;   /* a layout that fits proves nothing */
	return best;
}

/* A map found through a word of a frame of function fn, its type guessed
 * from a layout that several map types share (storage without pointers
 * carries no type): the function's own locals say which it is, located or
 * not (an optimized build keeps the header in the frame and gives the
 * variable no location, but still its type).  The guess stays a guess. */
struct hint {
	struct roots *R;
	const struct maptype *guess, *pick;
	bool several;
};

static const char *mt_name(const struct roots *R, const struct maptype *mt)
{
	return mt->name ? mt->name : gtypes_get(R->g, mt->type)->name;
}

static void on_hint_local(void *arg, const struct glocal *l)
{
	struct hint *h = arg;
	const struct gtype *t = gtypes_get(h->R->g, gtypes_resolve(h->R->g, l->type));
	if (!t || t->kind != GK_MAP || l->name[0] == '&')
		return;
	const struct maptype *mt = maptype_get(h->R, l->type, true);
	if (!mt || !same_shape(mt, h->guess) || mt_shaped(h->R, mt) || mt == h->pick)
		return;
	if (!h->pick)
		h->pick = mt;
	else if (strcmp(mt_name(h->R, h->pick), mt_name(h->R, mt)) != 0)
		h->several = true;
}

static const struct maptype *frame_hint(struct roots *R, const struct gfunc *fn,
					const struct maptype *mt, bool guessed)
{
	struct hint h = { R, mt, NULL, false };
	if (!fn || !mt || !guessed)
		return mt;
	gtypes_locals_all(R->g, fn, on_hint_local, &h);
	return h.pick && !h.several ? h.pick : mt;
}

/* ---- registering maps --------------------------------------------------- */

struct how {
	bool guessed;
	uint32_t ncand;
	bool unreachable;
	int8_t garbage;
	bool on_stack;
};

/* The entry's type names, shared through the report's string pool. */
static void set_types(struct roots *R, struct map_entry *m, const struct maptype *mt)
{
	const struct gtype *T = gtypes_get(R->g, mt->type), *K = gtypes_get(R->g, mt->key),
			   *V = gtypes_get(R->g, mt->elem);
	const char *a = mt->name ? mt->name : report_intern(R->r, T && *T->name ? T->name : "map[?]?"),
		   *b = mt->key_name ? mt->key_name : report_intern(R->r, K ? K->name : "?"),
		   *c = mt->elem_name ? mt->elem_name : report_intern(R->r, V ? V->name : "?");
	if (!a || !b || !c) {
		R->oom = true;
		return;
	}
	m->type = (char *)a;
	m->key_type = (char *)b;
	m->elem_type = (char *)c;
	m->types_interned = true;
}

static void add_root(struct roots *R, struct map_entry *m, uint32_t node)
{
	char path[1024];
	if (!node)
		return;
	bool cons = R->nodes[node - 1].conservative;
	/* Once a precise path is known, words that merely look like pointers
	 * to the map (often stale) are counted, not listed. */
	if (cons && m->nprecise) {
		m->more_roots++;
		return;
	}
	path_render(R, node, path, sizeof(path));
	map_add_root(m, path, cons);
	if (!cons)
		m->conservative = false;
}

/* Walk the map at hdr as type mt into *into, visiting the keys and values
 * that may lead to maps under a "[*]" node below `node` (none for 0).
 * Returns map_walk's result; nesting deeper than 64 maps is refused. */
/* Storage belongs to one map: a header-shaped object or frame word
 * pointing at storage a registered map walked (R->owned) is a copy of a
 * header, not a second map. */
static bool storage_owned(struct roots *R, uint64_t addr)
{
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, size;
	if (!R->owned || !heap_object(R->h, R->t, addr, &s, &slot, &base, &size))
		return false;
	uint64_t bit = s->bit0 + slot;
	return (R->owned[bit / 8] >> (bit % 8)) & 1;
}

/* A heap allocation a registered map's storage consists of: its slot is
 * marked, so that the storage no map owns can be summed at the end. */
static void on_alloc(void *arg, uint64_t addr)
{
	struct slotvisit *sv = arg;
	struct roots *R = sv->R;
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, size;
	if (R->owned && heap_object(R->h, R->t, addr, &s, &slot, &base, &size)) {
		uint64_t bit = s->bit0 + slot;
		R->owned[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
}

static int walk_slots(struct roots *R, const struct maptype *mt, uint64_t hdr, uint32_t node,
		      bool owns, struct map_entry *into)
{
	struct slotvisit sv = { R, mt, node, 0, false, false, { { 0 }, 0 } };
	if (node) {
		sv.key = gtypes_may_hold_map(R->g, mt->key);
		sv.elem = gtypes_may_hold_map(R->g, mt->elem);
	}
	if (sv.key)
		sv.keys = node_new(R, node, P_MAPVAL, NULL, 0);
	R->depth++;
	struct walk_cb cb = { (sv.key || sv.elem || R->opts.keys) ? on_slot : NULL,
			      owns ? on_alloc : NULL, &sv };
	int rc = R->depth > 64 ? -1 : map_walk(R->t, R->rt, mt, hdr, into, &cb);
	R->depth--;
	if (rc == 0 && R->opts.keys && keys_render(R->r, into, R->t, R->g, R->rt, mt->key, &sv.ks))
		R->oom = true;
	return rc;
}

/* ---- walking maps side by side ------------------------------------------ *
 *
 * Most maps' keys and values cannot lead to other maps, so nothing in the
 * search for roots depends on walking them: they wait in R->pending and
 * are walked together, by as many threads as there are CPUs, in the order
 * of their storage.  Each walk fills its own report entry; reads of a core are
 * thread-safe, the owned-slot bitmap is set atomically, and the report
 * does not grow meanwhile. */

static void on_alloc_shared(void *arg, uint64_t addr);

/* A map waiting: where its storage is (the walk order) and its report
 * index (its header is the entry's address, its type R->map_mt[idx]). */
static bool pending_add(struct roots *R, size_t idx, uint64_t hdr)
{
	if (!target_threads_may_read(R->t) || idx >= UINT32_MAX ||
	    grow_array((void **)&R->pending, &R->cappending, R->npending + 1, sizeof(*R->pending), 4096))
		return false;     /* walked now, in order */
	/* Its storage is owned from now on: a copy of the header met before
	 * the walk must not count as a second map. */
	uint64_t sp = storage_ptr(R, hdr);
	on_alloc_shared(R, sp);
	R->pending[R->npending++] = (struct pend){ sp, (uint32_t)idx };
	return true;
}

static void on_alloc_shared(void *arg, uint64_t addr)
{
	struct roots *R = arg;
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, size;
	if (R->owned && heap_object(R->h, R->t, addr, &s, &slot, &base, &size)) {
		uint64_t bit = s->bit0 + slot;
		__atomic_fetch_or(&R->owned[bit / 8], (uint8_t)(1u << (bit % 8)), __ATOMIC_RELAXED);
	}
}

struct walker {
	struct roots *R;
	size_t next;              /* next block to take (atomic) */
	uint8_t *failed;          /* per pending map: its header could not be walked */
};

enum { WALK_BLOCK = 256 };

static void *walk_some(void *arg)
{
	struct walker *w = arg;
	struct roots *R = w->R;
	struct walk_cb cb = { NULL, on_alloc_shared, R };
	struct keys_cb kc;            /* sample keys: lib/keys.h */
	struct arena *keys = NULL;
	keys_cb_init(&kc, on_alloc_shared, R);
	for (;;) {
		size_t b = __atomic_fetch_add(&w->next, WALK_BLOCK, __ATOMIC_RELAXED);
		if (b >= R->npending) {
			report_adopt(R->r, keys);
			return NULL;
		}
		size_t e = b + WALK_BLOCK < R->npending ? b + WALK_BLOCK : R->npending;
		for (size_t i = b; i < e; i++) {
			size_t idx = R->pending[i].idx;
			struct map_entry *m = &R->r->maps[idx], local;
			memset(&local, 0, sizeof(local));
			if (R->opts.storage)
				local.storage = calloc(1, sizeof(*local.storage));
			kc.ks.n = 0;
			int rc = map_walk(R->t, R->rt, R->map_mt[idx], m->address, &local,
					  R->opts.keys ? &kc.cb : &cb);
			if (rc)
				w->failed[i] = 1;
			else
				m->fig = local.fig;
			if (!rc && R->opts.keys)
				keys_render_in(&keys, m, R->t, R->g, R->rt, R->map_mt[idx]->key, &kc.ks);
			m->warnings = local.warnings;
			m->nwarnings = local.nwarnings;
			m->storage = local.storage;
		}
	}
}

/* Run fn(arg) on one thread per CPU (up to 8, the caller's among them)
 * when `worth` it, else on the caller's alone; fn takes its share of the
 * work from arg until there is none. */
static void side_by_side(void *(*fn)(void *), void *arg, bool worth)
{
	long ncpu = ms_cpus();
	size_t nt = worth && ncpu > 1 ? (size_t)(ncpu < 8 ? ncpu : 8) : 1;
	pthread_t th[8];
	size_t started = 0;
	for (size_t i = 1; i < nt; i++)
		if (pthread_create(&th[started], NULL, fn, arg) == 0)
			started++;
	fn(arg);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* LSD radix sort of n items of type T by their uint64_t KEY, over the
 * bits in which the keys differ (a few passes of 11 bits; a comparison
 * sort was a tenth of the scan on a big heap).  tmp has room for n items.
 * Returns where the sorted items are (a or tmp). */
#define RADIX_SORT(name, T, KEY)                                                   \
	static T *name(T *a, T *tmp, size_t n)                                     \
	{                                                                          \
		enum { BITS = 11, BUCKETS = 1 << BITS };                           \
		uint64_t lo = UINT64_MAX, hi = 0;                                  \
		for (size_t i = 0; i < n; i++) {                                   \
			lo = a[i].KEY < lo ? a[i].KEY : lo;                        \
			hi = a[i].KEY > hi ? a[i].KEY : hi;                        \
		}                                                                  \
		if (n < 2 || lo == hi)                                             \
			return a;                                                  \
		unsigned bits = 64 - (unsigned)__builtin_clzll(hi - lo);           \
		size_t count[BUCKETS];                                             \
		for (unsigned shift = 0; shift < bits; shift += BITS) {            \
			memset(count, 0, sizeof(count));                           \
			for (size_t i = 0; i < n; i++)                             \
				count[((a[i].KEY - lo) >> shift) & (BUCKETS - 1)]++; \
			size_t sum = 0;                                            \
			for (size_t b = 0; b < BUCKETS; b++) {                     \
				size_t c = count[b];                               \
				count[b] = sum;                                    \
				sum += c;                                          \
			}                                                          \
			for (size_t i = 0; i < n; i++)                             \
				tmp[count[((a[i].KEY - lo) >> shift) & (BUCKETS - 1)]++] = a[i]; \
			T *x = a;                                                  \
			a = tmp;                                                   \
			tmp = x;                                                   \
		}                                                                  \
		return a;                                                          \
	}

/* A level of the walk, by address. */
RADIX_SORT(sort_level, struct qitem, addr)

RADIX_SORT(sort_pend, struct pend, key)

/* Sort the waiting maps by storage address (LSD radix sort, 11 bits a
 * pass over the bits that differ): the walks then read the core in one
 * sweep.  In the order maps were found, a walk's header, storage and
 * allocation bits were in a different 2 MiB of the core from the last
 * one's nearly every time, and the trim dropped what the next walk
 * needed: 62,693 trims for a million maps. */
static void pending_sort(struct roots *R)
{
	size_t n = R->npending;
	struct pend *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
	if (!tmp)
		return;
	struct pend *a = sort_pend(R->pending, tmp, n);
	if (a != R->pending)
		memcpy(R->pending, a, n * sizeof(*a));
	free(tmp);
}

static void walk_pending(struct roots *R)
{
	if (!R->npending)
		return;
	pending_sort(R);
	struct walker w = { R, 0, calloc(R->npending, 1) };
	if (!w.failed) {
		R->oom = true;
		return;
	}
	side_by_side(walk_some, &w, R->npending >= 4 * WALK_BLOCK);
	for (size_t i = 0; i < R->npending; i++) {
		const struct map_entry *m = &R->r->maps[R->pending[i].idx];
		if (w.failed[i])
			report_add_warning(R->r, "map at 0x%llx (%s, %s) has an unreadable or corrupt "
					   "header", (unsigned long long)m->address, m->type,
					   m->nroots ? m->roots[0] : "unreachable");
	}
	free(w.failed);
	R->npending = 0;
}

/* Walk the map at hdr (of type mt) and add it to the report, reached
 * through node (0: nothing reaches it). */
static void map_register(struct roots *R, uint64_t hdr, const struct maptype *mt, uint32_t node,
			 const struct how *how)
{
	char path[1024];
	/* Register before walking: the map may (through pointers) contain
	 * itself, and nested maps may grow r->maps, so walk into a local entry
	 * and copy the result in afterwards. */
	struct map_entry local;
	memset(&local, 0, sizeof(local));
	if (R->opts.storage && !(local.storage = calloc(1, sizeof(*local.storage)))) {
		R->oom = true;
		return;
	}
	if (target_read(R->t, hdr, path, 1)) {
		free(local.storage);
		return; /* dangling pointer: not a map we can say anything about */
	}
	struct map_entry *m = report_add_map(R->r, hdr);
	if (!m) {
		free(local.storage);
		R->oom = true;
		return;
	}
	size_t idx = (size_t)(m - R->r->maps);
	if (!map_index_set(R, hdr, idx)) {
		free(local.storage);
		return; /* out of memory: R->oom is set and the scan stops */
	}
	R->map_mt[idx] = mt;
	m->conservative = true;
	add_root(R, m, node);
	if (!node)
		m->conservative = false;
	struct cand *c = cand_find(R, hdr);
	if (c)
		c->state = C_MAP;
	m->type_guessed = how->guessed;
	m->type_candidates = how->ncand;
	m->unreachable = how->unreachable;
	m->garbage = how->garbage;
	m->on_stack = how->on_stack;
	m->layout = mt->layout;
	set_types(R, m, mt);
	/* A map whose keys and values cannot lead to other maps is walked
	 * later, with all such maps, in storage order and side by side. */
	bool slots = node && (gtypes_may_hold_map(R->g, mt->key) || gtypes_may_hold_map(R->g, mt->elem));
	if (!slots && pending_add(R, idx, hdr)) {
		free(local.storage);
		return;
	}
	int rc = walk_slots(R, mt, hdr, node, true, &local);
	m = &R->r->maps[idx];
	if (rc) {
		path_render(R, node, path, sizeof(path));
		report_add_warning(R->r, "map at 0x%llx (%s, %s) has an unreadable or corrupt header",
				   (unsigned long long)hdr,
				   mt->name ? mt->name : gtypes_get(R->g, mt->type)->name,
				   node ? path : "unreachable");
		m->layout = mt->layout;
	} else {
		m->fig = local.fig;
		m->layout = local.layout;
	}
	m->warnings = local.warnings;
	m->nwarnings = local.nwarnings;
	m->sample_keys = local.sample_keys;
	m->nsample_keys = local.nsample_keys;
	m->storage = local.storage;
}

/* A map first reached through an untyped word, its type guessed from its
 * storage, is now reached through a typed one: take that type (the
 * figures do not change: they depend on the storage layout alone, which
 * both share) and look inside its keys and values with the right types. */
static void retype(struct roots *R, size_t idx, type_id type, uint32_t node)
{
	const struct maptype *mt = maptype_for(R, type);
	struct map_entry *m = &R->r->maps[idx];
	if (!mt || mt->layout != m->layout || mt_shaped(R, mt))
		return;
	set_types(R, m, mt);
	m->type_guessed = false;
	m->type_candidates = 1;
	R->map_mt[idx] = mt;
	if (!gtypes_may_hold_map(R->g, mt->key) && !gtypes_may_hold_map(R->g, mt->elem))
		return;
	struct map_entry tmp;
	memset(&tmp, 0, sizeof(tmp));
	walk_slots(R, mt, m->address, node, false, &tmp);
	map_entry_clear(&tmp);
}

/* A typed reference to the map header hdr of map type `type`. */
static void found_map(struct roots *R, uint64_t hdr, type_id type, struct path *p)
{
	uint32_t node = path_node(R, p);
	size_t known = map_index(R, hdr);
	if (known != SIZE_MAX) {
		add_root(R, &R->r->maps[known], node);
		if (R->r->maps[known].type_guessed)
			retype(R, known, type, node);
		return;
	}
	const struct maptype *mt = maptype_for(R, type);
	if (!mt)
		return;
	/* A map header is a heap object of its own, or (a map that does not
	 * escape) in its goroutine's stack. */
	struct alloc a;
	if (!alloc_of(R, hdr, &a) || mt->hdr_size > a.end - hdr ||
	    (a.kind != A_HEAP && a.kind != A_STACK && (R->h || a.kind != A_OTHER)) ||
	    (a.kind == A_HEAP && a.span->noscan))
		return;
	/* A typed word met in untyped memory (an interface's words in an
	 * object no type describes) may be stale: the header must then be a
	 * live heap object with a header's shape that walks as a sound map. */
	if (node && R->nodes[node - 1].conservative) {
		struct cand *c = cand_find(R, hdr);
		if (!c || c->state == C_NOTMAP || !walks_clean(R, mt, hdr, NULL))
			return;
	}
	struct how how = { false, 1, false, -1, false };
	/* Not in the heap: the compiler put a non-escaping map's header in
	 * its function's frame. */
	how.on_stack = a.kind == A_STACK;
	/* A go.shape map type (reached through a generic function's
	 * variable) stands in for the real one: the storage's recorded type
	 * may name it; failing that, the shape type is kept as a guess that a
	 * typed path with the real type replaces. */
	if (mt_shaped(R, mt)) {
		bool g;
		uint32_t nc;
		const struct maptype *real = infer_type(R, hdr, &g, &nc);
		if (real && !g && !mt_shaped(R, real))
			mt = real;
		else
			how.guessed = true;
	}
	map_register(R, hdr, mt, node, &how);
}

/* Is mt's name a go.shape type (never a map's real type)? */
static bool mt_shaped(struct roots *R, const struct maptype *mt)
{
	const char *name = mt->name ? mt->name : gtypes_get(R->g, mt->type)->name;
	return strstr(name, "go.shape.") != NULL;
}

/* An untyped word equal to the address of candidate c: a map if its
 * storage says which.  False when it is not one. */
static bool found_cand(struct roots *R, struct cand *c, struct path *p,
		       const struct maptype **mtp)
{
	size_t known = map_index(R, c->addr);
	if (known != SIZE_MAX) {
		add_root(R, &R->r->maps[known], path_node(R, p));
		*mtp = R->map_mt[known];
		return true;
	}
	if (c->state != C_NEW)
		return false;
	struct how how = { false, 1, false, -1, false };
	const struct maptype *mt = infer_type(R, c->addr, &how.guessed, &how.ncand);
	if (!mt) {
		c->state = C_NOTMAP;
		return false;
	}
	mt = frame_hint(R, R->hint_fn, mt, how.guessed);
	map_register(R, c->addr, mt, path_node(R, p), &how);
	*mtp = mt;
	return true;
}

static uint64_t tsize(const struct gtypes *g, type_id id)
{
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
	return t ? t->size : 0;
}

/* An interface value: {type or itab, data}.  The type word names the
 * dynamic type through its descriptor's offset in the types section; the
 * data word is the value itself for pointer-shaped types, else points to it. */
static void visit_iface(struct roots *R, uint64_t addr, const struct gtype *t, struct path *p)
{
	uint64_t wb[2], w[2], typ;
	const void *v = R->rt->types ? rd(R, addr, wb, sizeof(wb)) : NULL;
	if (!v)
		return;
	memcpy(w, v, sizeof(w));
	if (!w[0] || !w[1])
		return;
	typ = w[0];
	if (gtypes_member(R->g, t->target, "tab") &&
	    target_read_u64(R->t, w[0] + R->rt->itab_type_off, &typ))
		return;
	if (typ < R->rt->types || typ >= R->rt->etypes)
		return;
	type_id dyn = gtypes_by_runtime_type(R->g, typ - R->rt->types);
	if (!dyn || !gtypes_may_hold_map(R->g, dyn))
		return;
	struct path *n = PATH(p, P_DYN, gtypes_get(R->g, dyn)->name, 0);
	if (gtypes_direct_iface(R->g, dyn))
		visit(R, addr + 8, dyn, n);
	else
		follow(R, w[1], dyn, n);
}

/* A buffered channel's hchan: the qcount values waiting in its ring buffer,
 * from recvx on.  Paths name them by receive order: main.jobs<-[0] is the
 * value the next receive gets. */
static void visit_chan(struct roots *R, uint64_t hchan, const struct gtype *t, struct path *p)
{
	const struct gtype *ptr = gtypes_get(R->g, gtypes_resolve(R->g, t->target));
	type_id hc = ptr ? ptr->target : 0;     /* chan T -> *hchan<T> -> hchan<T> */
	const struct gmember *q = gtypes_member(R->g, hc, "qcount"),
		*sz = gtypes_member(R->g, hc, "dataqsiz"), *buf = gtypes_member(R->g, hc, "buf"),
		*rx = gtypes_member(R->g, hc, "recvx");
	uint64_t qcount, size, base, recvx, es = tsize(R->g, t->elem);
	if (!q || !sz || !buf || !rx || target_read_u64(R->t, hchan + q->offset, &qcount) ||
	    target_read_u64(R->t, hchan + sz->offset, &size) ||
	    target_read_u64(R->t, hchan + buf->offset, &base) ||
	    target_read_u64(R->t, hchan + rx->offset, &recvx))
		return;
	/* The buffer is one allocation: refuse sizes a damaged header made up. */
	struct alloc a;
	int ok = !size || qcount > size || recvx >= size || !base || !es ||
		 size > UINT64_MAX / es ? 0 : can_hold(R, base, size * es, t->elem, &a);
	if (ok == 0 || ok == 3)
		return;
	struct path unv = { p, 0, P_UNVERIFIED, NULL, 0, 0 };
	if (ok == 2)
		p = &unv;
	for (uint64_t i = 0; i < qcount && !R->oom; i++)
		visit(R, base + ((recvx + i) % size) * es, t->elem, PATH(p, P_CHANBUF, NULL, i));
}

/* "pkg.(*T).M-fm" -> *pkg.T, "pkg.T.M-fm" -> pkg.T: the receiver type of
 * a method value's wrapper, or 0. */
static type_id method_value_receiver(const struct gtypes *g, const char *name)
{
	size_t n = strlen(name);
	char buf[512];
	if (n < 4 || n >= sizeof(buf) || strcmp(name + n - 3, "-fm"))
		return 0;
	const char *slash = strrchr(name, '/');
	const char *dot = strchr(slash ? slash : name, '.');
	if (!dot)
		return 0;
	size_t pkg = (size_t)(dot - name);
	const char *rest = dot + 1;
	if (!strncmp(rest, "(*", 2)) {
		const char *close = strchr(rest, ')');
		if (!close)
			return 0;
		snprintf(buf, sizeof(buf), "*%.*s.%.*s", (int)pkg, name, (int)(close - rest - 2), rest + 2);
	} else {
		const char *m = strrchr(rest, '.');
		if (!m)
			return 0;
		snprintf(buf, sizeof(buf), "%.*s.%.*s", (int)pkg, name, (int)(m - rest), rest);
	}
	return gtypes_find(g, buf);
}

/* A closure: a func value points to {fn, captured variables...}; where
 * DWARF says at which offsets the closure function finds its captured
 * variables (Go 1.23+), they are typed; otherwise the object is scanned as
 * untyped memory. */
static void visit_func(struct roots *R, uint64_t addr, struct path *p)
{
	uint64_t fv, fn;
	if (target_read_u64(R->t, addr, &fv) || !fv || target_read_u64(R->t, fv, &fn))
		return;
	const struct gfunc *f = gtypes_func_at(R->g, fn - target_exe_bias(R->t));
	size_t n = 0;
	const struct gclosure_var *cv = f ? gtypes_closure_vars(R->g, f, &n) : NULL;
	if (!n) {
		/* A method value (x.M) is a closure {fn, receiver}: its
		 * receiver's type is in the wrapper's name. */
		type_id rt = f ? method_value_receiver(R->g, f->name) : 0;
		struct alloc a;
		if (rt && alloc_of(R, fv, &a) && ti(R, rt)->size <= a.end - fv - 8 &&
		    seen_add(R, fv, 0)) {
			struct path *mn = PATH(p, P_CLOSURE, f->name, 0);
			visit(R, fv + 8, rt, PATH(mn, P_FIELD, "receiver", 0));
			return;
		}
		cons_word(R, fv, p);
		return;
	}
	/* The closure object must hold every captured variable. */
	uint64_t need = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t e = cv[i].offset + tsize(R->g, cv[i].type);
		if (e > need)
			need = e;
	}
	struct alloc a;
	if (!alloc_of(R, fv, &a) || need > a.end - fv || (a.kind == A_HEAP && a.span->noscan))
		return;
	if (!seen_add(R, fv, 0))
		return;
	struct path unv = { p, 0, P_UNVERIFIED, NULL, 0, 0 };
	if (a.kind == A_OTHER)
		p = &unv;
	struct path *cn = PATH(p, P_CLOSURE, f->name, 0);
	for (size_t i = 0; i < n && !R->oom; i++) {
		if (!gtypes_may_hold_map(R->g, cv[i].type))
			continue;
		const char *name = cv[i].name[0] == '&' ? cv[i].name + 1 : cv[i].name;
		visit(R, fv + cv[i].offset, cv[i].type, PATH(cn, P_FIELD, name, 0));
	}
}

/* Remember an empty header met in an untyped object (R->empty is a stack:
 * scan_untyped pops what it pushed). */
static bool empty_add(struct roots *R, uint64_t addr, uint64_t off)
{
	if (grow_array((void **)&R->empty, &R->capempty, R->nempty + 1, sizeof(*R->empty), 256)) {
		R->oom = true;
		return false;
	}
	R->empty[R->nempty++] = (struct empty_ref){ addr, off };
	return true;
}

/* An untyped object (what a conservative word points to): every word is
 * looked at; an interface's type word makes the next word typed. */
static void scan_untyped(struct roots *R, uint64_t addr, struct path *p)
{
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, size;
	if (!heap_object(R->h, R->t, addr, &s, &slot, &base, &size) || s->noscan)
		return;
	uint64_t words = size / 8, copy[513];
	/* A never-written map's header has no storage to type it by; in an
	 * object that also holds maps of a known type (an array of maps) it
	 * is taken to be one of those. */
	const struct maptype *held = NULL;
	size_t empties = 0;
	for (uint64_t i0 = 0; i0 < words && !R->oom; i0 += 512) {
		uint64_t n = words - i0 > 513 ? 513 : words - i0;
		/* Read in place where the core has the bytes in one piece. */
		const uint64_t *buf = target_view(R->t, base + i0 * 8, n * 8);
		if (!buf || ((uintptr_t)buf & 7)) {
			if (target_read(R->t, base + i0 * 8, copy, n * 8))
				return;
			buf = copy;
		}
		uint64_t lim = n > 512 ? 512 : n;
		for (uint64_t k = 0; k < lim; k++) {
			uint64_t w = buf[k];
			if (w < R->heap_lo || w >= R->heap_hi) {
				if (w < R->rt->types || w >= R->rt->etypes)
					continue;
			} else {
				/* Only a word into an in-use span can be anything. */
				const struct hspan *ws = heap_span(R->h, w);
				if (!ws)
					continue;
				if (ws->elemsize != R->hf.cls) {
					cons_object(R, w, PATH(p, P_WORD, NULL, (i0 + k) * 8));
					continue;
				}
			}
			if (w >= R->rt->types && w < R->rt->etypes && k + 1 < n) {
				type_id dyn = gtypes_by_runtime_type(R->g, w - R->rt->types);
				if (dyn) {
					if (gtypes_may_hold_map(R->g, dyn) && buf[k + 1]) {
						struct path *wn = PATH(p, P_WORD, NULL, (i0 + k) * 8);
						struct path *dn = PATH(wn, P_DYN, gtypes_get(R->g, dyn)->name, 0);
						if (gtypes_direct_iface(R->g, dyn))
							visit(R, base + (i0 + k + 1) * 8, dyn, dn);
						else
							follow(R, buf[k + 1], dyn, dn);
					}
					k++;
					continue;
				}
			}
			struct cand *c = R->visited && w >= R->heap_lo && w < R->heap_hi
					 ? cand_find(R, w) : NULL;
			if (c && c->state == C_EMPTY) {
				if (empty_add(R, w, (i0 + k) * 8))
					empties++;
				continue;
			}
			const struct maptype *mt = NULL;
			if (c && c->state != C_NOTMAP && found_cand(R, c, PATH(p, P_WORD, NULL, (i0 + k) * 8), &mt)) {
				if (mt && !held)
					held = mt;
				continue;
			}
			cons_object(R, w, PATH(p, P_WORD, NULL, (i0 + k) * 8));
		}
	}
	for (size_t i = R->nempty - empties; held && i < R->nempty && !R->oom; i++) {
		size_t known = map_index(R, R->empty[i].addr);
		struct path *wp = PATH(p, P_WORD, NULL, R->empty[i].off);
		if (known != SIZE_MAX) {
			add_root(R, &R->r->maps[known], path_node(R, wp));
			continue;
		}
		struct how how = { true, 1, false, -1, false };
		if (walks_clean(R, held, R->empty[i].addr, NULL))
			map_register(R, R->empty[i].addr, held, path_node(R, wp), &how);
	}
	R->nempty -= empties;
}

/* A word that may be a pointer (an untyped word, an unsafe.Pointer), p
 * its path: a map header, an object typed by its allocation header, or an
 * untyped object to scan. */
/* While precise roots are being followed, a conservative step (an
 * unsafe.Pointer, a closure DWARF does not describe, an object whose
 * recorded type contradicts the pointer) waits: following it at once
 * would mark objects visited through untyped memory before a precise
 * path reaches them, and their maps would get a conservative path where
 * a precise one exists. */
static bool cons_defer(struct roots *R, uint64_t v, struct path *p, bool object)
{
	if (!R->defer_cons)
		return false;
	if (!R->h || v < R->heap_lo || v >= R->heap_hi)
		return true;
	if (grow_array((void **)&R->deferred, &R->capdeferred, R->ndeferred + 1,
		       sizeof(*R->deferred), 1024)) {
		R->oom = true;
		return true;
	}
	R->deferred[R->ndeferred++] = (struct deferred){ v, path_node(R, p), object };
	return true;
}

static void cons_word(struct roots *R, uint64_t v, struct path *p)
{
	if (cons_defer(R, v, p, false))
		return;
	if (!R->h || !R->visited || v < R->heap_lo || v >= R->heap_hi)
		return;
	struct cand *c = cand_find(R, v);
	const struct maptype *mt;
	if (c && c->state != C_NOTMAP && c->state != C_EMPTY && found_cand(R, c, p, &mt))
		return;
	cons_object(R, v, p);
}

/* The heap object holding v, once: typed by its allocation header when
 * there is one, else queued to be read word by word. */
static void cons_object(struct roots *R, uint64_t v, struct path *p)
{
	if (cons_defer(R, v, p, true))
		return;
	if (!R->visited || v < R->heap_lo || v >= R->heap_hi)
		return;
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, size;
	if (!heap_object(R->h, R->t, v, &s, &slot, &base, &size) || s->noscan)
		return;
	uint64_t bit = s->bit0 + slot;
	if (R->visited[bit / 8] & (1u << (bit % 8)))
		return;
	R->visited[bit / 8] |= (uint8_t)(1u << (bit % 8));
	uint64_t typ = heap_object_type(R->t, R->rt, s, s->base + (uint64_t)slot * s->elemsize);
	type_id T = typ ? gtypes_by_runtime_type(R->g, typ - R->rt->types) : 0;
	uint64_t es = T ? tsize(R->g, T) : 0;
	if (T && es) {
		if (!gtypes_may_hold_map(R->g, T))
			return;
		struct path *on = PATH(p, P_OBJ, gtypes_get(R->g, T)->name, 0);
		uint64_t n = size / es;
		for (uint64_t i = 0; i < n && !R->oom; i++)
			if (n == 1 ? typed_once_slot(R, bit) : seen_add(R, base + i * es, T))
				push(R, base + i * es, T, n == 1 ? on : PATH(on, P_INDEX, NULL, i));
		return;
	}
	push(R, base, 0, p);
}

/* ---- visiting typed values ------------------------------------------------ *
 *
 * A plan per type lists its leaves: the places inside a value of the type
 * where a map may be reached (maps, pointers, interfaces, slices,
 * channels, funcs, and arrays too long to unroll), flattened through
 * nested structs and short arrays, each with the path hops from the
 * value down to it.  Visiting a value is then one pass over its leaves,
 * with no walk over fields that cannot lead to a map. */

enum { PLAN_MAX_LEAVES = 4096, PLAN_MAX_HOPS = 24, PLAN_UNROLL = 16 };

struct leaf {
	uint64_t off;
	type_id type;             /* the leaf's type, as declared */
	type_id rid;              /* the same with typedefs resolved (gtypes_resolve) */
	uint8_t kind;             /* its resolved kind; GK_ARRAY: an array walked element by element,
				   * GK_STRUCT: a value nested too deep, visited on its own */
	uint8_t nhops;
	uint32_t hop0;            /* its hops: plan->hops[hop0 .. hop0+nhops) */
};

struct hop {
	uint8_t kind;             /* P_FIELD, P_TFIELD or P_INDEX */
	const char *name;
	uint64_t index;
};

struct plan {
	struct leaf *leaf;
	size_t nleaf, capleaf;
	struct hop *hops;
	size_t nhops, caphops;
	bool failed;
};

/* Go 1.24+'s sync.Map (and unique's table) is an internal/sync.HashTrieMap:
 * a trie of indirect nodes, 16 children each, down to entries chained
 * through overflow, every child pointer typed *node, a struct of one bool
 * that says which of the two it is.  Read by those types, nothing below
 * the root leads anywhere: a map stored in a sync.Map was unreachable.
 * The trie is walked as a map is: each entry's value (and key) under its
 * key, main.cache.m["tenant-3"].(*main.Session).seen. */
#define HTRIE_PREFIX "internal/sync.HashTrieMap["
enum { LEAF_HTRIE = 0xf0, HTRIE_DEPTH = 20 };

struct htrie {
	type_id map;              /* the HashTrieMap type (resolved) */
	bool ok;                  /* its layout was understood */
	type_id entry, indirect, key, value;
	uint64_t root;            /* offset of root's pointer in the HashTrieMap */
	uint64_t children, nchildren, child_size;   /* in an indirect */
	uint64_t child_ptr;       /* the pointer's offset in a child */
	uint64_t is_entry;        /* offset of node.isEntry in either */
	uint64_t key_off, value_off, overflow;      /* in an entry */
	uint64_t entry_size, indirect_size;
};

static void plan_leaf(struct plan *pl, uint64_t off, type_id type, uint8_t kind,
		      const struct hop *chain, unsigned depth)
{
	if (pl->failed ||
	    grow_array((void **)&pl->leaf, &pl->capleaf, pl->nleaf + 1, sizeof(*pl->leaf), 8) ||
	    grow_array((void **)&pl->hops, &pl->caphops, pl->nhops + depth + 1, sizeof(*pl->hops), 8)) {
		pl->failed = true;
		return;
	}
	pl->leaf[pl->nleaf++] = (struct leaf){ off, type, 0, kind, (uint8_t)depth, (uint32_t)pl->nhops };
	memcpy(pl->hops + pl->nhops, chain, depth * sizeof(*chain));
	pl->nhops += depth;
}

/* sync/atomic.Pointer[T] is struct { _ [0]*T; _ noCopy; v unsafe.Pointer }:
 * v holds a *T, which the zero-length array names.  Modern Go keeps much
 * of a program's state behind these; read as an unsafe.Pointer, all of it
 * would be untyped (conservative).  Returns the *T type, or 0. */
static type_id atomic_pointer_elem(const struct gtypes *g, const struct gmember *m, size_t n)
{
	type_id ptr = 0;
	bool unsafe_v = false;
	for (size_t i = 0; i < n; i++) {
		const struct gtype *t = gtypes_get(g, gtypes_resolve(g, m[i].type));
		if (!t)
			continue;
		if (!strcmp(m[i].name, "_") && t->kind == GK_ARRAY && t->count == 0) {
			const struct gtype *e = gtypes_get(g, gtypes_resolve(g, t->elem));
			if (e && e->kind == GK_PTR && e->target)
				ptr = t->elem;
		} else if (!strcmp(m[i].name, "v")) {
			unsafe_v = t->kind == GK_PTR && !t->target;
		}
	}
	return unsafe_v ? ptr : 0;
}

static void plan_add(const struct gtypes *g, struct plan *pl, type_id type, uint64_t off,
		     struct hop *chain, unsigned depth)
{
	if (pl->failed || !gtypes_may_hold_map(g, type))
		return;
	type_id rid = gtypes_resolve(g, type);
	const struct gtype *t = gtypes_get(g, rid);
	if (!t)
		return;
	bool full = pl->nleaf >= PLAN_MAX_LEAVES || depth >= PLAN_MAX_HOPS;
	if (t->kind == GK_STRUCT && !strncmp(t->name, HTRIE_PREFIX, sizeof(HTRIE_PREFIX) - 1)) {
		plan_leaf(pl, off, type, LEAF_HTRIE, chain, depth);
		return;
	}
	if (t->kind == GK_STRUCT) {
		if (full) {
			plan_leaf(pl, off, type, GK_STRUCT, chain, depth);
			return;
		}
		size_t n;
		const struct gmember *m = gtypes_members(g, rid, &n);
		type_id typed_v = atomic_pointer_elem(g, m, n);
		for (size_t i = 0; i < n; i++) {
			chain[depth] = (struct hop){ P_FIELD, m[i].name, 0 };
			if (typed_v && !strcmp(m[i].name, "v")) {
				plan_leaf(pl, off + m[i].offset, typed_v, GK_PTR, chain, depth + 1);
				continue;
			}
			plan_add(g, pl, m[i].type, off + m[i].offset, chain, depth + 1);
		}
		return;
	}
	if (t->kind == GK_ARRAY) {
		uint64_t es = tsize(g, t->elem);
		if (full || t->count > PLAN_UNROLL || !es) {
			plan_leaf(pl, off, type, GK_ARRAY, chain, depth);
			return;
		}
		for (uint64_t i = 0; i < t->count; i++) {
			chain[depth] = (struct hop){ P_INDEX, NULL, i };
			plan_add(g, pl, t->elem, off + i * es, chain, depth + 1);
		}
		return;
	}
	/* A pointer to a goroutine, thread or processor record leads into
	 * the scheduler's own graph; goroutines are roots of their own. */
	if (t->kind == GK_PTR && t->target) {
		const struct gtype *tt = gtypes_get(g, gtypes_resolve(g, t->target));
		if (tt && (!strcmp(tt->name, "runtime.g") || !strcmp(tt->name, "runtime.m") ||
			   !strcmp(tt->name, "runtime.p") || !strcmp(tt->name, "runtime.sudog")))
			return;
	}
	plan_leaf(pl, off, type, (uint8_t)t->kind, chain, depth);
}

/* A struct with two or more fields that point to its own type is a tree's
 * node (a binary tree's left and right, a doubly linked list's next and
 * prev): the steps through those fields become P_TFIELD, and a path that
 * descends the tree renders the descent in braces, which owner groups
 * read as one ("root{*}"): the maps at every depth of one tree are one
 * owner's.  A singly linked list (one such field) keeps its .next×N. */
static void plan_tree(const struct gtypes *g, struct plan *pl, type_id rid)
{
	const struct gtype *t = gtypes_get(g, rid);
	if (!t || t->kind != GK_STRUCT)
		return;
	unsigned self = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < pl->nleaf; i++) {
			const struct leaf *l = &pl->leaf[i];
			struct hop *h = &pl->hops[l->hop0];
			if (l->kind != GK_PTR || l->nhops != 1 || h->kind == P_INDEX)
				continue;
			const struct gtype *pt = gtypes_get(g, l->rid);
			if (!pt || !pt->target || gtypes_resolve(g, pt->target) != rid)
				continue;
			if (pass == 0)
				self++;
			else if (self >= 2)
				h->kind = P_TFIELD;
		}
	}
}

static const struct plan *plan_get(struct roots *R, type_id type)
{
	if (!type || type > gtypes_count(R->g))
		return NULL;
	if (R->plans[type])
		return R->plans[type];
	struct plan *pl = calloc(1, sizeof(*pl));
	struct hop chain[PLAN_MAX_HOPS + 1];
	if (!pl) {
		R->oom = true;
		return NULL;
	}
	plan_add(R->g, pl, type, 0, chain, 0);
	if (pl->failed)
		R->oom = true;
	for (size_t i = 0; i < pl->nleaf; i++)
		pl->leaf[i].rid = gtypes_resolve(R->g, pl->leaf[i].type);
	plan_tree(R->g, pl, gtypes_resolve(R->g, type));
	R->plans[type] = pl;
	return pl;
}

static void plans_free(struct roots *R)
{
	for (size_t i = 0; R->plans && i <= gtypes_count(R->g); i++) {
		if (!R->plans[i])
			continue;
		free(R->plans[i]->leaf);
		free(R->plans[i]->hops);
		free(R->plans[i]);
	}
	free(R->plans);
}

/* The offset of the pointer in a sync/atomic.Pointer[T] (its field v). */
static bool atomic_ptr_off(const struct gtypes *g, type_id id, uint64_t *off)
{
	const struct gmember *v = gtypes_member(g, gtypes_resolve(g, id), "v");
	if (!v)
		return false;
	*off = v->offset;
	return true;
}

/* The layout of HashTrieMap type rid, from its entry and indirect types'
 * DWARF (same type arguments); NULL when it is not understood. */
static const struct htrie *htrie_of(struct roots *R, type_id rid)
{
	for (size_t i = 0; i < R->nhtries; i++)
		if (R->htries[i].map == rid)
			return R->htries[i].ok ? &R->htries[i] : NULL;
	struct htrie *n = realloc(R->htries, (R->nhtries + 1) * sizeof(*n));
	if (!n) {
		R->oom = true;
		return NULL;
	}
	R->htries = n;
	struct htrie *h = &R->htries[R->nhtries++];
	memset(h, 0, sizeof(*h));
	h->map = rid;
	const struct gtypes *g = R->g;
	const char *args = gtypes_get(g, rid)->name + sizeof(HTRIE_PREFIX) - 2;   /* "[K,V]" */
	char name[1024];
	/* The compiler may describe only the shape instantiation of the
	 * entry (Go 1.27 for sync.Map's): the same layout, any for any. */
	static const char any2[] = "[interface {},interface {}]";
	static const char shape2[] = "[go.shape.interface {},go.shape.interface {}]";
	for (int k = 0; k < 2; k++) {
		const char *a = k == 0 ? args : !strcmp(args, any2) ? shape2 : NULL;
		if (!a)
			break;
		snprintf(name, sizeof(name), "internal/sync.entry%s", a);
		if (!h->entry)
			h->entry = gtypes_resolve(g, gtypes_find(g, name));
		snprintf(name, sizeof(name), "internal/sync.indirect%s", a);
		if (!h->indirect)
			h->indirect = gtypes_resolve(g, gtypes_find(g, name));
	}
	const struct gmember *root = gtypes_member(g, rid, "root");
	const struct gmember *ch = h->indirect ? gtypes_member(g, h->indirect, "children") : NULL;
	const struct gmember *en = h->entry ? gtypes_member(g, h->entry, "node") : NULL;
	const struct gmember *in = h->indirect ? gtypes_member(g, h->indirect, "node") : NULL;
	const struct gmember *k = h->entry ? gtypes_member(g, h->entry, "key") : NULL;
	const struct gmember *v = h->entry ? gtypes_member(g, h->entry, "value") : NULL;
	const struct gmember *ov = h->entry ? gtypes_member(g, h->entry, "overflow") : NULL;
	const struct gtype *ct = ch ? gtypes_get(g, gtypes_resolve(g, ch->type)) : NULL;
	const struct gmember *ie = en ? gtypes_member(g, gtypes_resolve(g, en->type), "isEntry") : NULL;
	uint64_t rp, cp, op;
	if (!root || !ch || !en || !in || !k || !v || !ov || !ct || ct->kind != GK_ARRAY || !ie ||
	    en->offset != in->offset || !atomic_ptr_off(g, root->type, &rp) ||
	    !atomic_ptr_off(g, ct->elem, &cp) || !atomic_ptr_off(g, ov->type, &op))
		return NULL;
	h->root = root->offset + rp;
	h->children = ch->offset;
	h->nchildren = ct->count;
	h->child_size = tsize(g, ct->elem);
	h->child_ptr = cp;
	h->is_entry = en->offset + ie->offset;
	h->key = k->type;
	h->value = v->type;
	h->key_off = k->offset;
	h->value_off = v->offset;
	h->overflow = ov->offset + op;
	h->entry_size = tsize(g, h->entry);
	h->indirect_size = tsize(g, h->indirect);
	h->ok = h->nchildren && h->nchildren <= 256 && h->child_size >= 8 && h->entry_size &&
		h->indirect_size && h->children + h->nchildren * h->child_size <= h->indirect_size;
	return h->ok ? h : NULL;
}

/* A node of the trie at p, checked against its allocation: 1 an entry,
 * 0 an indirect node, -1 neither (not readable, not one, or seen). */
static int htrie_node(struct roots *R, const struct htrie *h, uint64_t p)
{
	struct alloc a;
	uint8_t is_entry;
	if (!p || target_read(R->t, p + h->is_entry, &is_entry, 1) || is_entry > 1)
		return -1;
	type_id t = is_entry ? h->entry : h->indirect;
	int ok = can_hold(R, p, is_entry ? h->entry_size : h->indirect_size, t, &a);
	if (ok != 1 && ok != 2)
		return -1;
	return seen_add(R, p, t) ? is_entry : -1;
}

/* Walk the HashTrieMap at addr: every entry's value under its key, its
 * key under "[*]", children in order, an entry's overflow chain after it.
 * Depth and chain length are bounded, and each node is read once. */
static void visit_htrie(struct roots *R, uint64_t addr, type_id rid, struct path *pp)
{
	const struct htrie *h = htrie_of(R, rid);
	bool keys = h && gtypes_may_hold_map(R->g, h->key);
	bool vals = h && gtypes_may_hold_map(R->g, h->value);
	uint64_t root;
	if ((!keys && !vals) || target_read_u64(R->t, addr + h->root, &root) ||
	    htrie_node(R, h, root) != 0)
		return;      /* (unique's table holds strings and weak pointers) */
	struct { uint64_t node, next; } st[HTRIE_DEPTH];
	int depth = 0;
	st[0].node = root;
	st[0].next = 0;
	while (depth >= 0 && !R->oom) {
		if (st[depth].next >= h->nchildren) {
			depth--;
			continue;
		}
		uint64_t c = 0, at = st[depth].node + h->children + st[depth].next++ * h->child_size;
		if (target_read_u64(R->t, at + h->child_ptr, &c) || !c)
			continue;
		int kind = htrie_node(R, h, c);
		if (kind == 0 && depth + 1 < HTRIE_DEPTH) {
			depth++;
			st[depth].node = c;
			st[depth].next = 0;
			continue;
		}
		for (uint64_t n = 0; kind == 1 && n < (1u << 20) && !R->oom; n++) {
			if (keys)
				visit(R, c + h->key_off, h->key, PATH(pp, P_MAPVAL, NULL, 0));
			if (vals) {
				struct path v = { pp, 0, P_MAPVAL, NULL, c + h->key_off, h->key };
				visit(R, c + h->value_off, h->value, &v);
			}
			uint64_t o = 0;
			if (target_read_u64(R->t, c + h->overflow, &o) || !o || htrie_node(R, h, o) != 1)
				break;
			c = o;
		}
	}
}

/* One leaf: the value of type `type` (of resolved kind `kind`) at addr. */
static void visit_leaf(struct roots *R, uint64_t addr, type_id type, type_id rid, unsigned kind,
		       struct path *pp)
{
	const struct gtype *t = gtypes_get(R->g, rid);
	uint64_t p = 0;
	if (!t)
		return;
	switch (kind) {
	case LEAF_HTRIE:
		visit_htrie(R, addr, rid, pp);
		break;
	case GK_MAP:
		if (!target_read_u64(R->t, addr, &p) && p)
			found_map(R, p, type, pp);
		break;
	case GK_PTR:
		if (target_read_u64(R->t, addr, &p) || !p)
			break;
		if (!t->target) {
			cons_word(R, p, pp);      /* unsafe.Pointer */
			break;
		}
		follow(R, p, t->target, pp);
		break;
	case GK_FUNC:
		visit_func(R, addr, pp);
		break;
	case GK_STRUCT:
		visit(R, addr, type, pp);
		break;
	case GK_ARRAY: {
		uint64_t es = tsize(R->g, t->elem);
		for (uint64_t i = 0; i < t->count && !R->oom; i++)
			visit(R, addr + i * es, t->elem, PATH(pp, P_INDEX, NULL, i));
		break;
	}
	case GK_SLICE: {
		uint64_t slb[3], sl[3];
		const void *v = rd(R, addr, slb, sizeof(slb));
		uint64_t es = ti(R, t->elem)->size;
		if (!v)
			break;
		memcpy(sl, v, sizeof(sl));
		if (!sl[0] || !sl[1] || !es)
			break;
		/* The backing array is one allocation that holds cap elements:
		 * a length read from garbage cannot walk past it. */
		struct alloc a;
		int ok = sl[1] > sl[2] || sl[2] > UINT64_MAX / es ? 0
			 : can_hold(R, sl[0], sl[2] * es, t->elem, &a);
		if (ok == 0 || ok == 3)
			break;
		if (!seen_add(R, sl[0], rid))
			break;
		struct path *ap = ok == 2 ? PATH(pp, P_UNVERIFIED, NULL, 0) : pp;
		for (uint64_t i = 0; i < sl[1] && !R->oom; i++)
			visit(R, sl[0] + i * es, t->elem, PATH(ap, P_INDEX, NULL, i));
		break;
	}
	case GK_IFACE:
		visit_iface(R, addr, t, pp);
		break;
	case GK_CHAN: {
		/* chan T -> *hchan<T> -> hchan<T> */
		const struct gtype *hp = gtypes_get(R->g, gtypes_resolve(R->g, t->target));
		struct alloc a;
		int ok;
		if (target_read_u64(R->t, addr, &p) || !p || !hp ||
		    (ok = can_hold(R, p, tsize(R->g, hp->target), hp->target, &a)) == 0 || ok == 3 ||
		    !seen_add(R, p, rid))
			break;
		visit_chan(R, p, t, ok == 2 ? PATH(pp, P_UNVERIFIED, NULL, 0) : pp);
		break;
	}
	default:
		break;
	}
}

/* Look at the value of type `type` stored at addr (type 0: an untyped
 * heap object). */
static void visit(struct roots *R, uint64_t addr, type_id type, struct path *pp)
{
	if (!type) {
		scan_untyped(R, addr, pp);
		return;
	}
	if (R->oom || R->depth > 64)
		return;
	const struct plan *pl = plan_get(R, type);
	if (!pl || !pl->nleaf)
		return;
	R->depth++;
	for (size_t i = 0; i < pl->nleaf && !R->oom; i++) {
		const struct leaf *l = &pl->leaf[i];
		struct path chain[PLAN_MAX_HOPS];
		struct path *lp = pp;
		for (unsigned h = 0; h < l->nhops; h++) {
			const struct hop *hp = &pl->hops[l->hop0 + h];
			chain[h] = (struct path){ lp, 0, hp->kind, hp->name, hp->index, 0 };
			lp = &chain[h];
		}
		visit_leaf(R, addr + l->off, l->type, l->rid, l->kind, lp);
	}
	R->depth--;
}

/* ---- goroutine stacks ----------------------------------------------------- */

struct stackword {
	uint64_t addr, value;
	uint64_t sp, cfa;         /* its frame: [sp, cfa) */
	const struct gfunc *fn;   /* its function, NULL if unknown */
	uint32_t gnode;
};

struct stackctx {
	struct roots *R;
	uint64_t goid;
	uint32_t gnode;           /* "goroutine N (f)" of the current frame */
	uint64_t frame_sp;
	/* Conservative words wait until every precise root has been followed:
	 * a map is then typed by a precise path whenever one exists. */
	struct stackword *words;
	size_t nwords, capwords;
	/* locals of a go.shape type, visited after the others */
	struct shaped { uint64_t addr; type_id type; uint32_t node; } *shaped;
	size_t nshaped, capshaped;
};

static uint32_t frame_node(struct stackctx *c, const struct gframe *f)
{
	struct roots *R = c->R;
	if (c->gnode && c->goid == f->goid && c->frame_sp == f->sp)
		return c->gnode;
	c->goid = f->goid;
	c->frame_sp = f->sp;
	c->gnode = node_new(R, node_new(R, 0, P_GOROUTINE, NULL, f->goid), P_GFUNC, f->func, 0);
	return c->gnode;
}

static void on_stack_var(void *arg, const struct gframe *f, const char *name, type_id type,
			 uint64_t addr)
{
	struct stackctx *c = arg;
	if (c->R->oom || !gtypes_may_hold_map(c->R->g, type))
		return;
	/* "&x": x was moved to the heap and the slot points to it; the path
	 * names x (the dereference is implicit, as for any pointer). */
	if (name[0] == '&')
		name++;
	/* A generic function's locals have go.shape types, which are never a
	 * map's real type: the program's own variables, which name the real
	 * types, are followed first, these after. */
	const struct gtype *t = gtypes_get(c->R->g, type);
	if (t && strstr(t->name, "go.shape.")) {
		if (grow_array((void **)&c->shaped, &c->capshaped, c->nshaped + 1, sizeof(*c->shaped), 64)) {
			c->R->oom = true;
			return;
		}
		c->shaped[c->nshaped++] = (struct shaped){ addr, type,
			path_node(c->R, PATH(PATH_AT(frame_node(c, f)), P_LOCAL, name, 0)) };
		return;
	}
	visit(c->R, addr, type, PATH(PATH_AT(frame_node(c, f)), P_LOCAL, name, 0));
}

static void on_stack_word(void *arg, const struct gframe *f, uint64_t addr, uint64_t value)
{
	struct stackctx *c = arg;
	struct roots *R = c->R;
	if (R->oom || !R->h || value < R->heap_lo || value >= R->heap_hi)
		return;
	if (grow_array((void **)&c->words, &c->capwords, c->nwords + 1, sizeof(*c->words), 1024)) {
		R->oom = true;
		return;
	}
	c->words[c->nwords++] = (struct stackword){ addr, value, f->sp, f->cfa, f->fn, frame_node(c, f) };
}

/* Is the stack word w the storage pointer (classic: buckets; Swiss:
 * dirPtr) of a map header that lies in w's frame?  Then that header is a
 * map of this goroutine if its storage walks cleanly and no map found so
 * far owns the same storage (a copy of a header is not a second map). */
static void frame_header(struct roots *R, const struct stackword *w)
{
	const struct hdr_fields *f = &R->hf;
	uint64_t off = R->rt->layout == LAYOUT_CLASSIC ? f->buckets : f->dirptr;
	unsigned char p[512];
	if (!f->ok || w->addr < off || w->addr - off < w->sp || w->addr - off + f->size > w->cfa ||
	    w->value < R->heap_lo || w->value >= R->heap_hi)
		return;
	uint64_t hdr = w->addr - off;
	if (map_index(R, hdr) != SIZE_MAX || target_read(R->t, hdr, p, f->size) ||
	    cand_shape(R, p) != C_NEW)
		return;
	if (storage_owned(R, w->value))
		return;
	struct how how = { false, 1, false, -1, true };
	const struct maptype *mt = infer_type(R, hdr, &how.guessed, &how.ncand);
	if (!mt)
		return;
	mt = frame_hint(R, w->fn, mt, how.guessed);
	map_register(R, hdr, mt, path_node(R, PATH(PATH_AT(w->gnode), P_FRAMEWORD, NULL, hdr - w->sp)),
		     &how);
}

/* ---- the scan ------------------------------------------------------------- */

static void drain_one(struct roots *R, const struct qitem *it)
{
	struct path up = { NULL, it->parent, 0, NULL, 0, 0 };
	if (it->kind == Q_NODE) {
		visit(R, it->addr, it->type, it->parent ? &up : NULL);
		return;
	}
	bool idx = step_indexed(it->kind);
	struct path hop = { it->parent ? &up : NULL, 0, it->kind, idx ? NULL : it->u.name,
			    idx ? it->u.index : 0, 0 };
	visit(R, it->addr, it->type, &hop);
}

/* Visit what is queued, level by level (every path found is a shortest
 * one), each level in address order: the heap is then read in sweeps, not
 * at random, which is what keeps a many-GiB core's pages from faulting in
 * again and again. */
enum { PREFETCH = 8 };

static void drain(struct roots *R)
{
	/* The arrays are kept from level to level: freed, a big level's
	 * pages went back to the kernel and were faulted in and zeroed again
	 * for the next (a tenth of the system time on a GiB heap). */
	struct qitem *spare = NULL, *tmp = NULL;
	size_t sparecap = 0, tmpcap = 0;
	while (R->qhead < R->qlen && !R->oom) {
		struct qitem *buf = R->q, *cur = R->q + R->qhead;
		size_t n = R->qlen - R->qhead, bufcap = R->qcap;
		/* Take the level out of the queue: what it pushes is the next. */
		R->q = spare;
		R->qcap = sparecap;
		R->qhead = R->qlen = 0;
		spare = NULL;
		sparecap = 0;
		if (n > 1 && tmpcap < n) {
			free(tmp);
			tmp = malloc(n * sizeof(*tmp));
			tmpcap = tmp ? n : 0;
		}
		if (n > 1 && tmp)
			cur = sort_level(cur, tmp, n);
		for (size_t i = 0; i < n && !R->oom; i++) {
			if (!(i & 4095))
				analyze_progress(&R->opts, ANALYZE_ROOTS, R->r->nmaps, 0);
			/* The values are far apart in the heap: ask for the
			 * memory of one a few steps ahead while this one is
			 * visited (the walk is bound by memory latency). */
			if (i + PREFETCH < n) {
				const void *v = target_view(R->t, cur[i + PREFETCH].addr, 1);
				if (v)
					__builtin_prefetch(v);
				if (R->h)
					heap_prefetch(R->h, cur[i + PREFETCH].addr);
			}
			drain_one(R, &cur[i]);
		}
		spare = buf;
		sparecap = bufcap;
	}
	free(spare);
	free(tmp);
}

/* Candidates no root reached: maps the heap holds that nothing mapscan can
 * read points to, reported apart. */
static uint64_t storage_ptr(const struct roots *R, uint64_t hdr)
{
	uint64_t p = 0;
	target_read_u64(R->t, hdr + (R->rt->layout == LAYOUT_CLASSIC ? R->hf.buckets : R->hf.dirptr), &p);
	return p;
}

/* Typing the candidates nothing reached is most of what is left on a big
 * heap (gopls: 45,000 of them, 0.8 s): each from its own storage, without
 * writing anything, so one thread per CPU types them all first, and the
 * registration in address order takes the results.  Only a result that
 * rests on a candidate still undecided then (plausible's map values) is
 * computed again in order: the report is the one typing in order makes. */
struct inferred {
	const struct maptype *mt;
	uint32_t ncand;
	bool guessed, dep;
};

struct inferer {
	struct roots *R;
	size_t next, n;
	const size_t *which;          /* candidate indices, ascending */
	struct inferred *out;
};

/* Threads are started for as few as two candidates: every core with some
 * takes this path (the suite's too), and a thread costs microseconds. */
enum { INFER_BLOCK = 16, INFER_PAR_MIN = 2 };

static void *infer_some(void *arg)
{
	struct inferer *w = arg;
	for (;;) {
		size_t b = __atomic_fetch_add(&w->next, INFER_BLOCK, __ATOMIC_RELAXED);
		if (b >= w->n)
			return NULL;
		size_t e = b + INFER_BLOCK < w->n ? b + INFER_BLOCK : w->n;
		for (size_t i = b; i < e; i++) {
			struct inferred *o = &w->out[i];
			infer_dep = &o->dep;
			o->mt = infer_type(w->R, w->R->cands[w->which[i]].addr, &o->guessed, &o->ncand);
			infer_dep = NULL;
		}
	}
}

/* The candidates unreached() will type, typed ahead; NULL with one CPU,
 * for a live process, with fewer than INFER_PAR_MIN candidates or no
 * memory (then they are typed in order). */
static struct inferred *infer_ahead(struct roots *R, size_t **whichp, size_t *np)
{
	*whichp = NULL;
	*np = 0;
	if (ms_cpus() < 2 || !target_threads_may_read(R->t))
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < R->ncands; i++)
		n += R->cands[i].state == C_NEW;
	if (n < INFER_PAR_MIN)
		return NULL;
	size_t *which = malloc(n * sizeof(*which));
	struct inferred *out = calloc(n, sizeof(*out));
	if (!which || !out) {
		free(which);
		free(out);
		return NULL;
	}
	n = 0;
	for (size_t i = 0; i < R->ncands; i++) {
		const struct cand *c = &R->cands[i];
		if (c->state != C_NEW || map_index(R, c->addr) != SIZE_MAX)
			continue;
		uint64_t sp = storage_ptr(R, c->addr);
		if (sp && storage_owned(R, sp))
			continue;
		which[n++] = i;
	}
	/* What infer_type fills lazily, filled now: the threads only read. */
	if (!R->shapes_built)
		shapes_build(R);
	for (type_id id = 1; id <= gtypes_count(R->g); id++)
		ti(R, id);
	struct inferer w = { R, 0, n, which, out };
	side_by_side(infer_some, &w, true);
	*whichp = which;
	*np = n;
	return out;
}

static void unreached(struct roots *R)
{
	size_t *which = NULL, nwhich = 0, at = 0;
	struct inferred *ahead = R->oom ? NULL : infer_ahead(R, &which, &nwhich);
	for (size_t i = 0; i < R->ncands && !R->oom; i++) {
		if (!(i & 1023))
			analyze_progress(&R->opts, ANALYZE_MAPS, i, R->ncands);
		struct cand *c = &R->cands[i];
		while (ahead && at < nwhich && which[at] < i)
			at++;
		const struct inferred *o = ahead && at < nwhich && which[at] == i ? &ahead[at] : NULL;
		if (c->state != C_NEW || map_index(R, c->addr) != SIZE_MAX)
			continue;
		uint64_t sp = storage_ptr(R, c->addr);
		if (sp && storage_owned(R, sp)) {
			c->state = C_NOTMAP;
			continue;
		}
		struct how how = { false, 1, true, -1, false };
		const struct maptype *mt;
		if (o && !o->dep) {
			mt = o->mt;
			how.guessed = o->guessed;
			how.ncand = o->ncand;
		} else {
			mt = infer_type(R, c->addr, &how.guessed, &how.ncand);
		}
		if (!mt) {
			c->state = C_NOTMAP;
			continue;
		}
		const struct hspan *s = heap_span(R->h, c->addr);
		if (s)
			how.garbage = (int8_t)heap_garbage(R->h, R->t, s,
							   (uint32_t)((c->addr - s->base) / s->elemsize));
		map_register(R, c->addr, mt, 0, &how);
	}
	if (ahead) {
		free(which);
		free(ahead);
	}
}

/* Mark the heap object holding addr as owned; false when there is none
 * or it was owned already. */
static bool own(struct roots *R, uint64_t addr, uint64_t *size)
{
	const struct hspan *s;
	uint32_t slot;
	uint64_t base, sz;
	if (!heap_object(R->h, R->t, addr, &s, &slot, &base, &sz))
		return false;
	uint64_t bit = s->bit0 + slot;
	if ((R->owned[bit / 8] >> (bit % 8)) & 1)
		return false;
	R->owned[bit / 8] |= (uint8_t)(1u << (bit % 8));
	*size = s->elemsize;
	return true;
}

/* The tables and group arrays an orphaned Swiss directory of n bytes at
 * dir points to (they carry no type of their own when their slots hold
 * no pointers): their bytes, each allocation counted once. */
static uint64_t orphan_tables(struct roots *R, uint64_t dir, uint64_t n, uint64_t *objs)
{
	const struct maptype *mt = R->nshapes ? R->shapes[0].mt : NULL;
	uint64_t bytes = 0, sz, ptrs[64];
	if (!mt)
		return 0;
	for (uint64_t off = 0; off + 8 <= n; off += sizeof(ptrs)) {
		uint64_t k = (n - off) / 8 < 64 ? (n - off) / 8 : 64;
		if (target_read(R->t, dir + off, ptrs, k * 8))
			break;
		for (uint64_t i = 0; i < k; i++) {
			uint64_t groups, mask;
			if (!ptrs[i] || !own(R, ptrs[i], &sz))
				continue;
			bytes += sz;
			(*objs)++;
			if (target_read_u64(R->t, ptrs[i] + mt->t_groups, &groups) ||
			    target_read_u64(R->t, ptrs[i] + mt->t_mask, &mask) || mask >= 128 ||
			    !own(R, groups, &sz))
				continue;
			bytes += sz;
			(*objs)++;
		}
	}
	return bytes;
}

/* Map storage no map found owns: heap objects whose allocation header (Go
 * 1.22+, pointerful objects over 512 bytes, and large objects) names a
 * bucket or group type, or the table pointers of a Swiss directory, that
 * no registered map walked through.  A map mapscan could not find (its
 * header in memory it cannot read as a map) still shows up here, so a
 * report never says "nothing reclaimable" with such storage around. */
static void unclaimed(struct roots *R)
{
	const struct heap *h = R->h;
	if (!R->owned || !R->rt->alloc_headers || !R->rt->types)
		return;
	if (!R->shapes_built)
		shapes_build(R);
	/* A Swiss directory is a []*table: its header names *table. */
	type_id tptr = R->rt->layout == LAYOUT_SWISS ? gtypes_find(R->g, "*internal/runtime/maps.table") : 0;
	uint64_t bytes = 0, objs = 0, last_typ = 0;
	bool last_is = false;
	for (size_t i = 0; i < h->nspans && !R->oom; i++) {
		const struct hspan *s = &h->spans[i];
		if (!(i & 255))
			analyze_progress(&R->opts, ANALYZE_STORAGE, i, h->nspans);
		if (s->noscan || (s->sizeclass && !s->header))
			continue;
		for (uint32_t k = 0; k < s->nelems; k++) {
			uint64_t bit = s->bit0 + k, slot = s->base + (uint64_t)k * s->elemsize;
			if ((R->owned[bit / 8] >> (bit % 8)) & 1 || !heap_allocated(R->t, s, k))
				continue;
			uint64_t typ = heap_object_type(R->t, R->rt, s, slot);
			if (!typ)
				continue;
			if (typ != last_typ) {
				type_id T = gtypes_by_runtime_type(R->g, typ - R->rt->types);
				last_typ = typ;
				last_is = by_storage_type(R, typ) || (T && T == tptr);
			}
			if (!last_is)
				continue;
			/* Garbage the last collection found dead, not yet swept:
			 * the old storage of a map that has grown since. */
			if (heap_garbage(h, R->t, s, k) == 1)
				continue;
			bytes += s->elemsize;
			objs++;
			if (tptr && last_typ && gtypes_by_runtime_type(R->g, typ - R->rt->types) == tptr)
				bytes += orphan_tables(R, slot + (s->header ? 8 : 0), s->elemsize - (s->header ? 8 : 0), &objs);
		}
	}
	R->r->unclaimed_storage = bytes;
	R->r->unclaimed_objects = objs;
	R->r->unclaimed_known = !R->oom;
}


/* Runtime globals that are the allocator's, the collector's or the
 * scheduler's bookkeeping: gigabytes of pointers on a big heap that say
 * nothing about who holds a map (the heap is enumerated from the span
 * table; goroutines are roots of their own).  A path through them
 * (runtime.work.stackRoots[178]._defer...) only hides the real one. */
static const char *const runtime_books[] = {
	"runtime.mheap_", "runtime.work", "runtime.allgs", "runtime.allgptr", "runtime.allm",
	"runtime.allp", "runtime.sched", "runtime.m0", "runtime.g0", NULL,
};

static void globals(struct roots *R, const struct gvar *v, size_t nv, bool runtime)
{
	uint64_t bias = target_exe_bias(R->t);
	for (size_t i = 0; i < nv && !R->oom; i++) {
		bool rt = !strncmp(v[i].name, "runtime.", 8);
		if (rt != runtime || !gtypes_may_hold_map(R->g, v[i].type))
			continue;
		bool skip = false;
		for (const char *const *b = runtime_books; rt && *b && !skip; b++)
			skip = !strcmp(v[i].name, *b);
		if (!skip)
			visit(R, v[i].addr + bias, v[i].type, PATH(NULL, P_VAR, v[i].name, 0));
	}
}

/* The fields of each goroutine's runtime.g that hold program data. */
static void goroutine_records(struct roots *R)
{
	static const char *const fields[] = { "_defer", "_panic", "labels", NULL };
	type_id gt = gtypes_find(R->g, "runtime.g");
	for (size_t i = 0; gt && i < R->nstacks && !R->oom; i++) {
		for (const char *const *f = fields; *f; f++) {
			const struct gmember *m = gtypes_member(R->g, gt, *f);
			if (!m || !gtypes_may_hold_map(R->g, m->type))
				continue;
			struct path *gp = PATH(NULL, P_GOROUTINE, NULL, R->stacks[i].goid);
			visit(R, R->stacks[i].g + m->offset, m->type, PATH(gp, P_GRECORD, m->name, 0));
		}
	}
}

static int cmp_varspan(const void *a, const void *b)
{
	const struct varspan *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort spans and merge overlapping ones (two variables DWARF places at
 * the same address, a variable inside another). */
static size_t spans_merge(struct varspan *v, size_t n)
{
	size_t k = 0;
	if (n)
		qsort(v, n, sizeof(*v), cmp_varspan);
	for (size_t i = 0; i < n; i++) {
		if (k && v[i].lo < v[k - 1].hi) {
			if (v[i].hi > v[k - 1].hi)
				v[k - 1].hi = v[i].hi;
			v[k - 1].type = 0;    /* no longer one variable */
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

/* The allocations typed pointers may land in besides heap objects: the
 * goroutines' stacks, the globals, and which mappings hold the heap (so
 * that a pointer between spans is known to be stale). */
static void where_init(struct roots *R)
{
	struct ms_error e;
	if (stacks_list(R->t, R->g, &R->stacks, &R->nstacks, &e) < 0) {
		R->stacks = NULL;
		R->nstacks = 0;
	}
	size_t nv;
	const struct gvar *v = gtypes_vars(R->g, &nv);
	uint64_t bias = target_exe_bias(R->t);
	R->vars = malloc((nv ? nv : 1) * sizeof(*R->vars));
	if (!R->vars) {
		R->oom = true;
		return;
	}
	for (size_t i = 0; i < nv; i++) {
		uint64_t sz = tsize(R->g, v[i].type), lo = v[i].addr + bias;
		if (!sz || lo > UINT64_MAX - sz)
			continue;
		R->vars[R->nvars++] = (struct varspan){ lo, lo + sz, v[i].type };
	}
	R->nvars = spans_merge(R->vars, R->nvars);
	if (!R->h)
		return;
	size_t cap = 0;
	for (size_t i = 0; i < R->h->nspans && !R->oom; i++) {
		uint64_t lo, hi, b = R->h->spans[i].base;
		bool exe;
		if (R->nheapsegs && b < R->heapsegs[R->nheapsegs - 1].hi && b >= R->heapsegs[R->nheapsegs - 1].lo)
			continue;
		if (!target_region(R->t, b, &lo, &hi, &exe) || exe)
			continue;
		if (grow_array((void **)&R->heapsegs, &cap, R->nheapsegs + 1, sizeof(*R->heapsegs), 16)) {
			R->oom = true;
			return;
		}
		R->heapsegs[R->nheapsegs++] = (struct varspan){ lo, hi, 0 };
	}
	R->nheapsegs = spans_merge(R->heapsegs, R->nheapsegs);
}

int roots_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
	       const struct heap *h, struct report *r, const struct analyze_opts *opts,
	       struct ms_error *err)
{
	struct roots R = { .t = t, .g = g, .rt = rt, .h = h, .r = r };
	if (opts)
		R.opts = *opts;
	R.mtcache = calloc(gtypes_count(g) + 1, sizeof(*R.mtcache));
	R.mtbad = calloc(gtypes_count(g) + 1, 1);
	R.plans = calloc(gtypes_count(g) + 1, sizeof(*R.plans));
	R.tinfo = calloc(gtypes_count(g) + 1, sizeof(*R.tinfo));
	if (!R.mtcache || !R.mtbad || !R.plans || !R.tinfo)
		R.oom = true;
	if (h && h->nspans) {
		R.heap_lo = h->spans[0].base;
		R.heap_hi = h->spans[h->nspans - 1].end;
		/* One bit per slot; a damaged span table that claims more slots
		 * than memory allows only loses the untyped walk. */
		R.visited = calloc(h->nslots / 8 + 1, 1);
		R.owned = calloc(h->nslots / 8 + 1, 1);
		R.typed = calloc(h->nslots / 8 + 1, 1);
		if (!R.visited)
			report_add_warning(r, "no memory to track %llu heap objects; memory without "
					   "a type is not followed", (unsigned long long)h->nslots);
		hdr_fields_init(&R);
		cands_collect(&R);
		hidx_init(&R);
		/* Most candidates are maps: room for them up front (what is not
		 * used is never touched, so it is not resident). */
		report_reserve(r, r->nmaps + R.ncands + 1024);
	} else {
		R.h = NULL;
	}
	where_init(&R);
	size_t nv;
	const struct gvar *v = gtypes_vars(g, &nv);
	/* The program's globals first, then what they point to, level by
	 * level: the first path recorded for a map is a shortest one. */
	R.defer_cons = true;
	globals(&R, v, nv, false);
	drain(&R);
	struct stackctx sc = { .R = &R };
	struct stacks_stats ss;
	memset(&ss, 0, sizeof(ss));
	struct ms_error serr;
	if (!R.oom && stacks_scan(t, g, rt, on_stack_var, on_stack_word, &sc, &ss, &serr) < 0)
		report_add_warning(r, "%s; maps held only by goroutine stacks are reported as "
				   "unreachable", serr.msg);
	r->goroutines = ss.goroutines;
	if (ss.unreadable)
		report_add_warning(r, "%llu goroutine records (runtime.allgs) could not be read; "
				   "maps only their stacks hold are listed as unreachable, or missed "
				   "if their headers are on those stacks",
				   (unsigned long long)ss.unreadable);
	if (ss.bad_stacks)
		report_add_warning(r, "%llu goroutines have impossible stack bounds (damaged "
				   "core?); their stacks were not read", (unsigned long long)ss.bad_stacks);
	if (ss.unwind_failures)
		report_add_warning(r, "%llu goroutine stacks could not be unwound to their end; "
				   "the rest was read conservatively (paths say \"stack word\")",
				   (unsigned long long)ss.unwind_failures);
	/* What each goroutine's record holds besides its stack: deferred
	 * closures, panics, profiler labels. */
	goroutine_records(&R);
	drain(&R);
	for (size_t i = 0; i < sc.nshaped && !R.oom; i++)
		visit(&R, sc.shaped[i].addr, sc.shaped[i].type, PATH_AT(sc.shaped[i].node));
	free(sc.shaped);
	drain(&R);
	/* The runtime's own globals last: a map they reach is usually a
	 * program's (a timer's closure, a waiter's value), and the program's
	 * path to it, when there is one, says more. */
	globals(&R, v, nv, true);
	drain(&R);
	/* Then the conservative steps the precise walk met, and after them
	 * the stack words no variable covers. */
	R.defer_cons = false;
	for (size_t i = 0; i < R.ndeferred && !R.oom; i++) {
		const struct deferred *d = &R.deferred[i];
		if (d->object)
			cons_object(&R, d->value, PATH_AT(d->node));
		else
			cons_word(&R, d->value, PATH_AT(d->node));
	}
	drain(&R);
	free(R.deferred);
	/* All of them at once: one search from every word, level by level. */
	for (size_t i = 0; i < sc.nwords && !R.oom; i++)
	{
		R.hint_fn = sc.words[i].fn;   /* a header the word points to: typed now */
		cons_word(&R, sc.words[i].value,
			  PATH(PATH_AT(sc.words[i].gnode), P_STACKWORD, NULL, sc.words[i].addr));
		R.hint_fn = NULL;
	}
	drain(&R);
	/* Which storage the maps found so far own decides what follows. */
	walk_pending(&R);
	/* Last, map headers the compiler kept in a frame that DWARF does not
	 * place (an optimized build's non-escaping make(map)): a stack word
	 * that points at map storage may be a header's storage pointer. */
	for (size_t i = 0; i < sc.nwords && !R.oom && R.h; i++) {
		frame_header(&R, &sc.words[i]);
		drain(&R);
	}
	free(sc.words);
	walk_pending(&R);
	if (R.h) {
		unreached(&R);
		walk_pending(&R);
		unclaimed(&R);
	}
	int rc = 0;
	if (R.oom)
		rc = ms_err(err, MS_EINTERNAL, "out of memory while following pointers");
	for (size_t i = 0; R.mtcache && i <= gtypes_count(g); i++)
		free(R.mtcache[i]);
	free(R.mtcache);
	free(R.mtbad);
	plans_free(&R);
	free(R.tinfo);
	free(R.nodes);
	free(R.keys);
	free(R.htries);
	free(R.q);
	wordset_free(&R.seen.words);
	free(R.seen.keys);
	free(R.maps);
	free(R.pending);
	free(R.hidx);
	free(R.hbase);
	free(R.map_mt);
	free(R.cands);
	free(R.visited);
	free(R.owned);
	free(R.typed);
	free(R.shapes);
	free(R.alltypes);
	free(R.empty);
	free(R.by_bucket);
	free(R.by_group);
	for (size_t i = 0; i < R.ndesc_mts; i++)
		free(R.desc_mts[i]);
	free(R.desc_mts);
	free(R.stacks);
	free(R.vars);
	free(R.heapsegs);
	return rc;
}
