/* Finding maps from global variables.
 *
 * Every package-level variable whose DWARF type can lead to a map is a root.
 * Values are interpreted with their DWARF types: struct fields and array
 * elements inline, slices through their backing arrays, pointers by
 * following them (breadth first, so the path kept for a map is a shortest
 * one and a long linked list cannot exhaust the C stack), and maps by
 * walking their live slots and looking inside keys and values.  Each
 * (address, type) pair is visited once; each map is walked once, every
 * further path to it only adds a root.  Types that cannot lead to a map
 * (strings, []byte, pointer-free structs) are never read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "mapwalk.h"

enum pkind { P_VAR, P_FIELD, P_INDEX, P_MAPVAL, P_DEREF, P_DYN, P_CHANBUF };

struct pnode {
	uint32_t parent;          /* index+1, 0 = none */
	uint8_t kind;
	union {
		const char *name;     /* VAR, FIELD: owned by the type model */
		uint64_t index;
	} u;
};

struct qitem {
	uint64_t addr;
	type_id type;
	uint32_t node;
};

struct seenkey {
	uint64_t addr;
	type_id type;
};

struct seen {                     /* open-addressing set of (addr, type) */
	struct seenkey *keys;
	size_t cap, n;
};

struct mapslot {                  /* map header address -> report index */
	uint64_t addr;
	size_t idx;
};

struct roots {
	const struct target *t;
	const struct gtypes *g;
	const struct goruntime *rt;
	struct report *r;
	struct analyze_opts opts;
	struct pnode *nodes;
	size_t nnodes, capnodes;
	struct qitem *q;
	size_t qhead, qlen, qcap;
	struct seen seen;
	struct mapslot *maps;
	size_t mapcap, nmapslots;
	struct maptype **mtcache;     /* per type id */
	uint8_t *mtbad;               /* per type id: descriptor failed */
	bool oom;
	int depth;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Returns true if (addr, type) was new (and records it). addr is never 0. */
static bool seen_add(struct roots *R, uint64_t addr, type_id type)
{
	struct seen *s = &R->seen;
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4096;
		struct seenkey *nk = calloc(nc, sizeof(*nk));
		if (!nk) {
			R->oom = true;
			return false;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->keys[i].addr)
				continue;
			size_t h = mix(s->keys[i].addr ^ ((uint64_t)s->keys[i].type << 48)) & (nc - 1);
			while (nk[h].addr)
				h = (h + 1) & (nc - 1);
			nk[h] = s->keys[i];
		}
		free(s->keys);
		s->keys = nk;
		s->cap = nc;
	}
	size_t h = mix(addr ^ ((uint64_t)type << 48)) & (s->cap - 1);
	while (s->keys[h].addr) {
		if (s->keys[h].addr == addr && s->keys[h].type == type)
			return false;
		h = (h + 1) & (s->cap - 1);
	}
	s->keys[h] = (struct seenkey){ addr, type };
	s->n++;
	return true;
}

static struct mapslot *mapslot_find(struct roots *R, uint64_t addr, bool insert)
{
	if (insert && (R->nmapslots + 1) * 2 > R->mapcap) {
		size_t nc = R->mapcap ? R->mapcap * 2 : 1024;
		struct mapslot *nm = calloc(nc, sizeof(*nm));
		if (!nm) {
			R->oom = true;
			return NULL;
		}
		for (size_t i = 0; i < R->mapcap; i++) {
			if (!R->maps[i].addr)
				continue;
			size_t h = mix(R->maps[i].addr) & (nc - 1);
			while (nm[h].addr)
				h = (h + 1) & (nc - 1);
			nm[h] = R->maps[i];
		}
		free(R->maps);
		R->maps = nm;
		R->mapcap = nc;
	}
	if (!R->mapcap)
		return NULL;
	size_t h = mix(addr) & (R->mapcap - 1);
	while (R->maps[h].addr) {
		if (R->maps[h].addr == addr)
			return &R->maps[h];
		h = (h + 1) & (R->mapcap - 1);
	}
	if (!insert)
		return NULL;
	R->maps[h].addr = addr;
	R->nmapslots++;
	return &R->maps[h];
}

static uint32_t node_new(struct roots *R, uint32_t parent, enum pkind kind, const char *name,
			 uint64_t index)
{
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
	struct pnode *n = &R->nodes[R->nnodes++];
	n->parent = parent;
	n->kind = (uint8_t)kind;
	if (kind == P_INDEX || kind == P_CHANBUF)
		n->u.index = index;
	else
		n->u.name = name;
	return (uint32_t)R->nnodes;
}

/* Render the path ending at node into buf ("main.srv.cache", "main.m[*]"). */
static void path_render(const struct roots *R, uint32_t node, char *buf, size_t n)
{
	uint32_t chain[256];
	size_t depth = 0;
	for (uint32_t c = node; c && depth < 256; c = R->nodes[c - 1].parent)
		chain[depth++] = c;
	size_t len = 0;
	buf[0] = 0;
	if (depth == 256 && len + 4 < n)
		len += (size_t)snprintf(buf, n, "…");
	while (depth-- > 0 && len < n) {
		const struct pnode *p = &R->nodes[chain[depth] - 1];
		int w = 0;
		switch (p->kind) {
		case P_VAR: w = snprintf(buf + len, n - len, "%s", p->u.name); break;
		case P_FIELD: w = snprintf(buf + len, n - len, ".%s", p->u.name); break;
		case P_INDEX: w = snprintf(buf + len, n - len, "[%llu]", (unsigned long long)p->u.index); break;
		case P_MAPVAL: w = snprintf(buf + len, n - len, "[*]"); break;
		case P_DYN: w = snprintf(buf + len, n - len, ".(%s)", p->u.name); break;
		case P_CHANBUF: w = snprintf(buf + len, n - len, "<-[%llu]", (unsigned long long)p->u.index); break;
		default: break;
		}
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static void push(struct roots *R, uint64_t addr, type_id type, uint32_t node)
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
	R->q[R->qlen++] = (struct qitem){ addr, type, node };
}

static void visit(struct roots *R, uint64_t addr, type_id type, uint32_t node);
static void visit_iface(struct roots *R, uint64_t addr, const struct gtype *t, uint32_t node);
static uint64_t tsize(const struct gtypes *g, type_id id);

static const struct maptype *maptype_for(struct roots *R, type_id id)
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
			report_add_warning(R->r, "%s", err.msg);
			return NULL;
		}
		R->mtcache[id] = mt;
	}
	return R->mtcache[id];
}

struct slotvisit {
	struct roots *R;
	const struct maptype *mt;
	uint32_t node;
	bool key, elem;
};

static void on_slot(void *arg, uint64_t key_addr, uint64_t elem_addr)
{
	struct slotvisit *sv = arg;
	if (sv->key && key_addr)
		visit(sv->R, key_addr, sv->mt->key, sv->node);
	if (sv->elem && elem_addr)
		visit(sv->R, elem_addr, sv->mt->elem, sv->node);
}

static void found_map(struct roots *R, uint64_t hdr, type_id type, uint32_t node)
{
	char path[1024];
	struct mapslot *ms = mapslot_find(R, hdr, false);
	if (ms) {
		path_render(R, node, path, sizeof(path));
		map_add_root(&R->r->maps[ms->idx], path);
		return;
	}
	const struct maptype *mt = maptype_for(R, type);
	if (!mt)
		return;
	/* Register before walking: the map may (through pointers) contain
	 * itself, and nested maps may grow r->maps, so walk into a local entry
	 * and copy the result in afterwards. */
	struct map_entry local;
	memset(&local, 0, sizeof(local));
	if (R->opts.storage && !(local.storage = calloc(1, sizeof(*local.storage)))) {
		R->oom = true;
		return;
	}
	struct slotvisit sv = { R, mt, 0, gtypes_may_hold_map(R->g, mt->key),
				gtypes_may_hold_map(R->g, mt->elem) };
	if (sv.key || sv.elem)
		sv.node = node_new(R, node, P_MAPVAL, NULL, 0);
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
	ms = mapslot_find(R, hdr, true);
	if (!ms) {
		free(local.storage);
		return; /* out of memory: R->oom is set and the scan stops */
	}
	ms->idx = idx;
	path_render(R, node, path, sizeof(path));
	map_add_root(m, path);
	R->depth++;
	int rc = R->depth > 64 ? -1 : map_walk(R->t, R->rt, mt, hdr, &local,
						(sv.key || sv.elem) ? on_slot : NULL, &sv);
	R->depth--;
	m = &R->r->maps[idx];
	if (rc) {
		report_add_warning(R->r, "map at 0x%llx (%s, %s) has an unreadable or corrupt header",
				   (unsigned long long)hdr, gtypes_get(R->g, type)->name, path);
		m->layout = mt->layout;
	} else {
		m->fig = local.fig;
		m->layout = local.layout;
	}
	m->warnings = local.warnings;
	m->nwarnings = local.nwarnings;
	m->storage = local.storage;
	const struct gtype *T = gtypes_get(R->g, type), *K = gtypes_get(R->g, mt->key),
			   *V = gtypes_get(R->g, mt->elem);
	m->type = strdup(T && *T->name ? T->name : "map[?]?");
	m->key_type = strdup(K ? K->name : "?");
	m->elem_type = strdup(V ? V->name : "?");
	if (!m->type || !m->key_type || !m->elem_type)
		R->oom = true;
}

static uint64_t tsize(const struct gtypes *g, type_id id)
{
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
	return t ? t->size : 0;
}

/* An interface value: {type or itab, data}.  The type word names the
 * dynamic type through its descriptor's offset in the types section; the
 * data word is the value itself for pointer-shaped types, else points to it. */
static void visit_iface(struct roots *R, uint64_t addr, const struct gtype *t, uint32_t node)
{
	uint64_t w[2], typ;
	if (!R->rt->types || target_read(R->t, addr, w, sizeof(w)) || !w[0] || !w[1])
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
	uint32_t n = node_new(R, node, P_DYN, gtypes_get(R->g, dyn)->name, 0);
	if (gtypes_direct_iface(R->g, dyn))
		visit(R, addr + 8, dyn, n);
	else if (seen_add(R, w[1], dyn))
		push(R, w[1], dyn, n);
}

/* A buffered channel's hchan: the qcount values waiting in its ring buffer,
 * from recvx on.  Paths name them by receive order: main.jobs<-[0] is the
 * value the next receive gets. */
static void visit_chan(struct roots *R, uint64_t hchan, const struct gtype *t, uint32_t node)
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
	if (!size || qcount > size || recvx >= size || !base ||
	    (es && (size > (1ull << 48) / es || !mem_readable(R->t, base, size * es))))
		return;
	for (uint64_t i = 0; i < qcount && !R->oom; i++)
		visit(R, base + ((recvx + i) % size) * es, t->elem,
		      node_new(R, node, P_CHANBUF, NULL, i));
}

/* Look at the value of type `type` stored at addr. */
static void visit(struct roots *R, uint64_t addr, type_id type, uint32_t node)
{
	if (R->oom || !gtypes_may_hold_map(R->g, type) || R->depth > 64)
		return;
	type_id rid = gtypes_resolve(R->g, type);
	const struct gtype *t = gtypes_get(R->g, rid);
	if (!t)
		return;
	uint64_t p = 0;
	R->depth++;
	switch (t->kind) {
	case GK_MAP:
		if (!target_read_u64(R->t, addr, &p) && p)
			found_map(R, p, type, node);
		break;
	case GK_PTR:
		if (!target_read_u64(R->t, addr, &p) && p && seen_add(R, p, t->target))
			push(R, p, t->target, node);
		break;
	case GK_STRUCT: {
		size_t n;
		const struct gmember *m = gtypes_members(R->g, rid, &n);
		for (size_t i = 0; i < n; i++)
			if (gtypes_may_hold_map(R->g, m[i].type))
				visit(R, addr + m[i].offset, m[i].type,
				      node_new(R, node, P_FIELD, m[i].name, 0));
		break;
	}
	case GK_ARRAY: {
		uint64_t es = tsize(R->g, t->elem);
		for (uint64_t i = 0; i < t->count && !R->oom; i++)
			visit(R, addr + i * es, t->elem, node_new(R, node, P_INDEX, NULL, i));
		break;
	}
	case GK_SLICE: {
		uint64_t sl[2];
		uint64_t es = tsize(R->g, t->elem);
		if (target_read(R->t, addr, sl, sizeof(sl)) || !sl[0] || !sl[1])
			break;
		/* An absurd length from a corrupt core is caught by requiring the
		 * whole backing array (one allocation) to be present. */
		if (es && (sl[1] > (1ull << 48) / es || !mem_readable(R->t, sl[0], sl[1] * es)))
			break;
		if (!seen_add(R, sl[0], rid))
			break;
		for (uint64_t i = 0; i < sl[1] && !R->oom; i++)
			visit(R, sl[0] + i * es, t->elem, node_new(R, node, P_INDEX, NULL, i));
		break;
	}
	case GK_IFACE:
		visit_iface(R, addr, t, node);
		break;
	case GK_CHAN:
		if (!target_read_u64(R->t, addr, &p) && p && seen_add(R, p, rid))
			visit_chan(R, p, t, node);
		break;
	default:
		break;
	}
	R->depth--;
}

int roots_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
	       struct report *r, const struct analyze_opts *opts, struct ms_error *err)
{
	struct roots R = { .t = t, .g = g, .rt = rt, .r = r };
	if (opts)
		R.opts = *opts;
	R.mtcache = calloc(gtypes_count(g) + 1, sizeof(*R.mtcache));
	R.mtbad = calloc(gtypes_count(g) + 1, 1);
	if (!R.mtcache || !R.mtbad)
		R.oom = true;
	size_t nv;
	const struct gvar *v = gtypes_vars(g, &nv);
	uint64_t bias = target_exe_bias(t);
	for (size_t i = 0; i < nv && !R.oom; i++) {
		if (!gtypes_may_hold_map(g, v[i].type))
			continue;
		visit(&R, v[i].addr + bias, v[i].type, node_new(&R, 0, P_VAR, v[i].name, 0));
	}
	/* Globals first, then what they point to, level by level: the first
	 * path recorded for a map is a shortest one. */
	while (R.qhead < R.qlen && !R.oom) {
		struct qitem it = R.q[R.qhead++];
		visit(&R, it.addr, it.type, it.node);
	}
	int rc = 0;
	if (R.oom)
		rc = ms_err(err, MS_EINTERNAL, "out of memory while following pointers from globals");
	for (size_t i = 0; R.mtcache && i <= gtypes_count(g); i++)
		free(R.mtcache[i]);
	free(R.mtcache);
	free(R.mtbad);
	free(R.nodes);
	free(R.q);
	free(R.seen.keys);
	free(R.maps);
	return rc;
}
