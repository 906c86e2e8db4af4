/* DWARF loader: fills the type model of types.h from an executable.
 *
 * This is the only file that includes libdwarf.  One pass over the compile
 * units' top-level DIEs records every type and package-level variable with
 * references kept as raw DIE offsets; a second step turns the offsets into
 * sequential ids (DIEs are visited in increasing offset order, so a binary
 * search finds them).  Functions are listed with their pc ranges only;
 * their bodies (locals and their locations, closure variables) and their
 * CFA tables are decoded the first time a caller asks, so the executable
 * stays open until gtypes_free. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "grow.h"
#include "types.h"

/* Go's own attributes (src/cmd/internal/dwarf/dwarf.go). */
#define DW_AT_go_kind 0x2900
#define DW_AT_go_key 0x2901
#define DW_AT_go_elem 0x2902
#define DW_AT_go_embedded_field 0x2903
#define DW_AT_go_runtime_type 0x2904
/* Go 1.23+: on a closure function's variables, their offset in the
 * closure object. */
#define DW_AT_go_closure_offset 0x2907

/* DWARF register number of rsp on amd64 (the only CFA base Go uses). */
#define DWREG_RSP 7

/* Go's abi.Kind values we care about. */
enum { GOKIND_CHAN = 18, GOKIND_FUNC = 19, GOKIND_IFACE = 20, GOKIND_MAP = 21,
       GOKIND_PTR = 22, GOKIND_SLICE = 23, GOKIND_STRING = 24, GOKIND_STRUCT = 25,
       GOKIND_UNSAFEPTR = 26 };

/* Chunked string storage: names never move once stored. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

/* A function's body, decoded on first use.  Each local has one or more
 * pc ranges, each with its location as pieces. */
struct lrange {
	uint64_t lo, hi;
	uint32_t first_piece, npieces;
};

struct lvar {
	struct glocal pub;         /* pieces filled in per range when reported */
	uint32_t first_range, nranges;
};

struct fbody {
	struct lvar *vars;
	size_t nvars, capvars;
	struct lrange *ranges;
	size_t nranges, capranges;
	struct gpiece *pieces;
	size_t npieces, cappieces;
	struct gclosure_var *cvars;
	size_t ncvars, capcvars;
	bool fb_cfa;               /* DW_AT_frame_base is DW_OP_call_frame_cfa */
	int cfa_state;             /* 0 not yet, 1 rows valid, -1 none */
	uint64_t fde_lo, fde_hi;
	struct gcfa_row *cfa;
	size_t ncfa;
};

/* Raw references (DIE offsets) as read, before they become ids. */
struct rawrefs {
	Dwarf_Off target, elem, key;
};

struct gtypes {
	struct gtype *types;       /* index 0 unused */
	Dwarf_Off *offs;           /* DIE offset of each type, ascending */
	struct rawrefs *raw;
	size_t ntypes, captypes;
	struct gmember *members;
	Dwarf_Off *member_raw;
	size_t nmembers, capmembers;
	struct gvar *vars;
	Dwarf_Off *var_raw;
	size_t nvars, capvars;
	uint32_t *type_hash;       /* open addressing, ids; size hash_cap */
	uint32_t *var_hash;        /* indexes+1 into vars */
	size_t type_hash_cap, var_hash_cap;
	uint8_t *ptr_cache;        /* per type: 1 if it holds a pointer */
	uint8_t *map_cache;        /* per type: 1 if a map can be reached from it */
	uint32_t *rt_hash;         /* runtime_type -> id, open addressing */
	size_t rt_hash_cap;
	struct arena_block *arena;
	int dwarf_version;
	struct gfunc *funcs;       /* sorted by lowpc */
	Dwarf_Off *func_die;       /* DIE offset of each */
	struct fbody **func_body;  /* NULL until decoded */
	uint8_t *func_state;       /* 0 not decoded, 1 decoded, 2 failed */
	size_t nfuncs, capfuncs;
	/* Kept open for lazy decoding. */
	Dwarf_Debug dbg;
	int fd;
	int fde_state;             /* 0 not loaded, 1 loaded, -1 none */
	Dwarf_Cie *cie_data;
	Dwarf_Signed cie_count;
	Dwarf_Fde *fde_data;
	Dwarf_Signed fde_count;
};

static const char *arena_strdup(struct gtypes *g, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena_block *b = g->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = g->arena;
		b->used = 0;
		b->cap = cap;
		g->arena = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elsize)
{
	return grow_array(arr, cap, need, elsize, 1024);
}

/* ---- attribute helpers -------------------------------------------------- */

static int attr_udata(Dwarf_Die die, Dwarf_Half at, Dwarf_Unsigned *out)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK)
		return -1;
	int rc = -1;
	Dwarf_Half form = 0;
	dwarf_whatform(a, &form, &e);
	if (form == DW_FORM_exprloc || form == DW_FORM_block1) {
		/* DW_AT_data_member_location as DW_OP_plus_uconst N. */
		Dwarf_Unsigned len = 0;
		Dwarf_Ptr p = 0;
		if (dwarf_formexprloc(a, &len, &p, &e) == DW_DLV_OK && len >= 2 &&
		    ((unsigned char *)p)[0] == DW_OP_plus_uconst) {
			const unsigned char *q = p;
			Dwarf_Unsigned v = 0;
			unsigned shift = 0;
			for (Dwarf_Unsigned i = 1; i < len && shift < 64; i++, shift += 7) {
				v |= (Dwarf_Unsigned)(q[i] & 0x7f) << shift;
				if (!(q[i] & 0x80))
					break;
			}
			*out = v;
			rc = 0;
		}
	} else if (dwarf_formudata(a, out, &e) == DW_DLV_OK) {
		rc = 0;
	} else {
		Dwarf_Signed s;
		if (dwarf_formsdata(a, &s, &e) == DW_DLV_OK) {
			*out = (Dwarf_Unsigned)s;
			rc = 0;
		}
	}
	dwarf_dealloc_attribute(a);
	return rc;
}

static Dwarf_Off attr_ref(Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Off off = 0;
	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK)
		return 0;
	if (dwarf_global_formref(a, &off, &e) != DW_DLV_OK)
		off = 0;
	dwarf_dealloc_attribute(a);
	return off;
}

static uint64_t attr_addr(Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Addr v = 0;
	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK)
		return 0;
	if (dwarf_formaddr(a, &v, &e) != DW_DLV_OK) {
		Dwarf_Unsigned u = 0;
		if (dwarf_formudata(a, &u, &e) == DW_DLV_OK)
			v = u;
		else
			v = 0;
	}
	dwarf_dealloc_attribute(a);
	return v;
}

static bool attr_flag(Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Bool b = 0;
	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK)
		return false;
	if (dwarf_formflag(a, &b, &e) != DW_DLV_OK) {
		Dwarf_Unsigned u = 0;
		b = dwarf_formudata(a, &u, &e) == DW_DLV_OK && u;
	}
	dwarf_dealloc_attribute(a);
	return b;
}

/* Static address of a variable: DW_AT_location = DW_OP_addr A (Go writes
 * it as a block1 form; DWARF 4+ producers use exprloc). */
static int var_location(Dwarf_Debug dbg, Dwarf_Die die, uint64_t *addr)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dwarf_attr(die, DW_AT_location, &a, &e) != DW_DLV_OK)
		return -1;
	int rc = -1;
	Dwarf_Half form = 0;
	dwarf_whatform(a, &form, &e);
	const unsigned char *p = NULL;
	Dwarf_Unsigned len = 0;
	Dwarf_Block *blk = NULL;
	if (form == DW_FORM_exprloc) {
		Dwarf_Ptr ptr = 0;
		if (dwarf_formexprloc(a, &len, &ptr, &e) == DW_DLV_OK)
			p = ptr;
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 ||
		   form == DW_FORM_block4 || form == DW_FORM_block) {
		if (dwarf_formblock(a, &blk, &e) == DW_DLV_OK) {
			p = blk->bl_data;
			len = blk->bl_len;
		}
	}
	if (p && len == 9 && p[0] == DW_OP_addr) {
		uint64_t v = 0;
		memcpy(&v, p + 1, 8);
		*addr = v;
		rc = 0;
	}
	if (blk)
		dwarf_dealloc(dbg, blk, DW_DLA_BLOCK);
	dwarf_dealloc_attribute(a);
	return rc;
}

static const char *die_name(struct gtypes *g, Dwarf_Die die)
{
	char *name = NULL;
	Dwarf_Error e = 0;
	if (dwarf_diename(die, &name, &e) != DW_DLV_OK || !name)
		return "";
	return arena_strdup(g, name);
}

/* ---- the walk ----------------------------------------------------------- */

static int add_members(struct gtypes *g, Dwarf_Debug dbg, Dwarf_Die die, struct gtype *t)
{
	Dwarf_Die child = 0, next = 0;
	Dwarf_Error e = 0;
	t->first_member = (uint32_t)g->nmembers;
	if (dwarf_child(die, &child, &e) != DW_DLV_OK)
		return 0;
	while (child) {
		Dwarf_Half tag = 0;
		dwarf_tag(child, &tag, &e);
		if (tag == DW_TAG_member) {
			size_t cap = g->capmembers;
			if (grow((void **)&g->members, &cap, g->nmembers + 1, sizeof(*g->members)))
				return -1;
			void *p = realloc(g->member_raw, cap * sizeof(*g->member_raw));
			if (!p)
				return -1;
			g->member_raw = p;
			g->capmembers = cap;
			struct gmember *m = &g->members[g->nmembers];
			Dwarf_Unsigned off = 0;
			m->name = die_name(g, child);
			if (!m->name)
				return -1;
			attr_udata(child, DW_AT_data_member_location, &off);
			m->offset = off;
			m->type = 0;
			m->embedded = attr_flag(child, DW_AT_go_embedded_field);
			g->member_raw[g->nmembers] = attr_ref(child, DW_AT_type);
			g->nmembers++;
			t->nmembers++;
		} else if (tag == DW_TAG_subrange_type) {
			Dwarf_Unsigned c = 0;
			if (attr_udata(child, DW_AT_count, &c) == 0)
				t->count = c;
			else if (attr_udata(child, DW_AT_upper_bound, &c) == 0)
				t->count = c + 1;
		}
		int rc = dwarf_siblingof_b(dbg, child, 1, &next, &e);
		dwarf_dealloc_die(child);
		child = rc == DW_DLV_OK ? next : 0;
	}
	return 0;
}

static int add_type(struct gtypes *g, Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half tag, Dwarf_Off off)
{
	size_t id = g->ntypes + 1;
	size_t cap = g->captypes;
	if (grow((void **)&g->types, &cap, id + 1, sizeof(*g->types)))
		return -1;
	void *p1 = realloc(g->offs, cap * sizeof(*g->offs));
	if (!p1)
		return -1;
	g->offs = p1;
	void *p2 = realloc(g->raw, cap * sizeof(*g->raw));
	if (!p2)
		return -1;
	g->raw = p2;
	g->captypes = cap;

	struct gtype *t = &g->types[id];
	memset(t, 0, sizeof(*t));
	memset(&g->raw[id], 0, sizeof(g->raw[id]));
	g->offs[id] = off;
	g->ntypes = id;

	Dwarf_Unsigned u = 0;
	t->name = die_name(g, die);
	if (!t->name)
		return -1;
	if (attr_udata(die, DW_AT_go_kind, &u) == 0)
		t->go_kind = (uint8_t)(u & 0x1f);
	if (attr_udata(die, DW_AT_byte_size, &u) == 0)
		t->size = u;
	t->runtime_type = attr_addr(die, DW_AT_go_runtime_type);
	g->raw[id].target = attr_ref(die, DW_AT_type);
	g->raw[id].elem = attr_ref(die, DW_AT_go_elem);
	g->raw[id].key = attr_ref(die, DW_AT_go_key);

	switch (tag) {
	case DW_TAG_base_type:
		t->kind = GK_BASE;
		break;
	case DW_TAG_pointer_type:
		t->kind = GK_PTR;
		t->size = 8;
		break;
	case DW_TAG_structure_type:
		t->kind = t->go_kind == GOKIND_SLICE ? GK_SLICE
			: t->go_kind == GOKIND_STRING ? GK_STRING : GK_STRUCT;
		return add_members(g, dbg, die, t);
	case DW_TAG_array_type:
		t->kind = GK_ARRAY;
		g->raw[id].elem = g->raw[id].target;
		g->raw[id].target = 0;
		return add_members(g, dbg, die, t);
	case DW_TAG_typedef:
		switch (t->go_kind) {
		case GOKIND_MAP: t->kind = GK_MAP; t->size = 8; break;
		case GOKIND_CHAN: t->kind = GK_CHAN; t->size = 8; break;
		case GOKIND_IFACE: t->kind = GK_IFACE; t->size = 16; break;
		case GOKIND_FUNC: t->kind = GK_FUNC; t->size = 8; break;
		default: t->kind = GK_TYPEDEF; break;
		}
		break;
	case DW_TAG_subroutine_type:
		t->kind = GK_FUNC;
		t->size = 8;
		break;
	default:
		t->kind = GK_OTHER;
		break;
	}
	return 0;
}

static int add_var(struct gtypes *g, Dwarf_Debug dbg, Dwarf_Die die)
{
	uint64_t addr;
	if (var_location(dbg, die, &addr) != 0 || addr == 0)
		return 0;
	if (grow((void **)&g->vars, &g->capvars, g->nvars + 1, sizeof(*g->vars)))
		return -1;
	void *p = realloc(g->var_raw, g->capvars * sizeof(*g->var_raw));
	if (!p)
		return -1;
	g->var_raw = p;
	struct gvar *v = &g->vars[g->nvars];
	v->name = die_name(g, die);
	if (!v->name)
		return -1;
	v->addr = addr;
	v->type = 0;
	g->var_raw[g->nvars] = attr_ref(die, DW_AT_type);
	g->nvars++;
	return 0;
}

static int add_func(struct gtypes *g, Dwarf_Die die, Dwarf_Off off)
{
	Dwarf_Addr lo = 0, hi = 0;
	Dwarf_Half form = 0;
	enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
	Dwarf_Error e = 0;

	/* Abstract functions (only ever inlined) have no code of their own. */
	if (dwarf_lowpc(die, &lo, &e) != DW_DLV_OK)
		return 0;
	if (dwarf_highpc_b(die, &hi, &form, &cls, &e) != DW_DLV_OK)
		return 0;
	if (cls == DW_FORM_CLASS_CONSTANT)
		hi += lo;
	if (hi <= lo)
		return 0;
	size_t cap = g->capfuncs;
	if (grow((void **)&g->funcs, &cap, g->nfuncs + 1, sizeof(*g->funcs)))
		return -1;
	void *p = realloc(g->func_die, cap * sizeof(*g->func_die));
	if (!p)
		return -1;
	g->func_die = p;
	g->capfuncs = cap;
	struct gfunc *f = &g->funcs[g->nfuncs];
	f->name = die_name(g, die);
	if (!f->name)
		return -1;
	f->lowpc = lo;
	f->highpc = hi;
	g->func_die[g->nfuncs++] = off;
	return 0;
}

static type_id id_of(const struct gtypes *g, Dwarf_Off off)
{
	if (!off || !g->ntypes)
		return 0;
	size_t lo = 1, hi = g->ntypes + 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->offs[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo <= g->ntypes && g->offs[lo] == off ? (type_id)lo : 0;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void fixpoint(const struct gtypes *g, uint8_t *yes, bool want_map);
static int index_funcs(struct gtypes *g);

/* Slots for an open-addressing table of n entries: a power of two, at most
 * half full. */
static size_t table_cap(size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	return cap;
}

static int build_indexes(struct gtypes *g)
{
	/* Offsets must be ascending for id_of; they are, unless the DWARF is
	 * odd; verify rather than trust. */
	for (size_t i = 2; i <= g->ntypes; i++)
		if (g->offs[i] <= g->offs[i - 1])
			return -1;
	for (size_t i = 1; i <= g->ntypes; i++) {
		struct gtype *t = &g->types[i];
		t->target = id_of(g, g->raw[i].target);
		t->elem = id_of(g, g->raw[i].elem);
		t->key = id_of(g, g->raw[i].key);
	}
	for (size_t i = 0; i < g->nmembers; i++)
		g->members[i].type = id_of(g, g->member_raw[i]);
	for (size_t i = 0; i < g->nvars; i++)
		g->vars[i].type = id_of(g, g->var_raw[i]);
	free(g->raw);
	g->raw = NULL;
	free(g->member_raw);
	g->member_raw = NULL;
	free(g->var_raw);
	g->var_raw = NULL;

	size_t cap = table_cap(g->ntypes);
	g->type_hash = calloc(cap, sizeof(*g->type_hash));
	if (!g->type_hash)
		return -1;
	g->type_hash_cap = cap;
	for (size_t i = 1; i <= g->ntypes; i++) {
		const char *n = g->types[i].name;
		if (!*n)
			continue;
		size_t h = hash_str(n) & (cap - 1);
		for (;;) {
			uint32_t cur = g->type_hash[h];
			if (!cur) {
				g->type_hash[h] = (uint32_t)i;
				break;
			}
			if (!strcmp(g->types[cur].name, n))
				break; /* keep the first */
			h = (h + 1) & (cap - 1);
		}
	}
	cap = table_cap(g->nvars);
	g->var_hash = calloc(cap, sizeof(*g->var_hash));
	if (!g->var_hash)
		return -1;
	g->var_hash_cap = cap;
	for (size_t i = 0; i < g->nvars; i++) {
		size_t h = hash_str(g->vars[i].name) & (cap - 1);
		for (;;) {
			uint32_t cur = g->var_hash[h];
			if (!cur) {
				g->var_hash[h] = (uint32_t)(i + 1);
				break;
			}
			if (!strcmp(g->vars[cur - 1].name, g->vars[i].name))
				break;
			h = (h + 1) & (cap - 1);
		}
	}
	g->ptr_cache = calloc(g->ntypes + 1, 1);
	g->map_cache = calloc(g->ntypes + 1, 1);
	if (!g->ptr_cache || !g->map_cache)
		return -1;
	fixpoint(g, g->ptr_cache, false);
	fixpoint(g, g->map_cache, true);

	cap = table_cap(g->ntypes);
	g->rt_hash = calloc(cap, sizeof(*g->rt_hash));
	if (!g->rt_hash)
		return -1;
	g->rt_hash_cap = cap;
	for (size_t i = 1; i <= g->ntypes; i++) {
		uint64_t off = g->types[i].runtime_type;
		if (!off)
			continue;
		size_t h = (size_t)(off * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
		for (;;) {
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
			h = (h + 1) & (cap - 1);
		}
	}
	return index_funcs(g);
}

static int walk_units(struct gtypes *g, Dwarf_Debug dbg, struct ms_error *err, const char *path)
{
	Dwarf_Error e = 0;
	for (;;) {
		Dwarf_Unsigned hdrlen = 0, abbrev = 0, typeoff = 0, next = 0;
		Dwarf_Half version = 0, addrsize = 0, lensize = 0, extsize = 0, cutype = 0;
		Dwarf_Sig8 sig;
		Dwarf_Off aoff = 0;
		int rc = dwarf_next_cu_header_d(dbg, 1, &hdrlen, &version, &aoff, &addrsize,
						&lensize, &extsize, &sig, &typeoff, &next, &cutype, &e);
		(void)abbrev;
		if (rc == DW_DLV_NO_ENTRY)
			return 0;
		if (rc != DW_DLV_OK)
			return ms_err(err, MS_ENODWARF, "%s: cannot read DWARF compile units (%s); "
				      "rebuild the program without -ldflags=-w", path,
				      e ? dwarf_errmsg(e) : "unknown error");
		if (!g->dwarf_version)
			g->dwarf_version = version;
		Dwarf_Die cu = 0;
		if (dwarf_siblingof_b(dbg, NULL, 1, &cu, &e) != DW_DLV_OK)
			return ms_err(err, MS_ENODWARF, "%s: damaged DWARF compile unit", path);
		Dwarf_Die die = 0, sib = 0;
		rc = dwarf_child(cu, &die, &e);
		while (rc == DW_DLV_OK && die) {
			Dwarf_Half tag = 0;
			Dwarf_Off off = 0;
			dwarf_tag(die, &tag, &e);
			dwarf_dieoffset(die, &off, &e);
			int r = 0;
			switch (tag) {
			case DW_TAG_base_type:
			case DW_TAG_pointer_type:
			case DW_TAG_structure_type:
			case DW_TAG_array_type:
			case DW_TAG_typedef:
			case DW_TAG_subroutine_type:
			case DW_TAG_unspecified_type:
				r = add_type(g, dbg, die, tag, off);
				break;
			case DW_TAG_variable:
				r = add_var(g, dbg, die);
				break;
			case DW_TAG_subprogram:
				r = add_func(g, die, off);
				break;
			default:
				break;
			}
			if (r)
				return ms_err(err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
			rc = dwarf_siblingof_b(dbg, die, 1, &sib, &e);
			dwarf_dealloc_die(die);
			die = rc == DW_DLV_OK ? sib : 0;
		}
		dwarf_dealloc_die(cu);
	}
}

struct gtypes *gtypes_load(const char *path, struct ms_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ms_err(err, MS_EOPEN, "%s: cannot open executable: %s", path, strerror(errno));
		return NULL;
	}
	unsigned char magic[4] = {0};
	if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4)) {
		close(fd);
		ms_err(err, MS_EFORMAT, "%s: not an ELF executable", path);
		return NULL;
	}
	Dwarf_Debug dbg = 0;
	Dwarf_Error e = 0;
	int rc = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &dbg, &e);
	if (rc != DW_DLV_OK) {
		if (rc == DW_DLV_NO_ENTRY)
			ms_err(err, MS_ENODWARF, "%s: executable has no DWARF debug information "
			       "(built with -ldflags=-w or -s, or stripped); rebuild without them "
			       "or pass an unstripped build of the same program with --exe", path);
		else
			ms_err(err, MS_ENODWARF, "%s: cannot read DWARF: %s", path,
			       e ? dwarf_errmsg(e) : "unknown error");
		close(fd);
		return NULL;
	}
	struct gtypes *g = calloc(1, sizeof(*g));
	if (!g) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		dwarf_finish(dbg, &e);
		close(fd);
		return NULL;
	}
	g->dbg = dbg;
	g->fd = fd;
	rc = walk_units(g, dbg, err, path);
	if (rc) {
		gtypes_free(g);
		return NULL;
	}
	if (!g->ntypes) {
		ms_err(err, MS_ENODWARF, "%s: DWARF has no types; rebuild without -ldflags=-w", path);
		gtypes_free(g);
		return NULL;
	}
	if (build_indexes(g)) {
		ms_err(err, MS_ENODWARF, "%s: DWARF types are out of order or memory ran out", path);
		gtypes_free(g);
		return NULL;
	}
	return g;
}

void gtypes_free(struct gtypes *g)
{
	if (!g)
		return;
	for (size_t i = 0; g->func_body && i < g->nfuncs; i++) {
		struct fbody *b = g->func_body[i];
		if (!b)
			continue;
		free(b->vars);
		free(b->ranges);
		free(b->pieces);
		free(b->cvars);
		free(b->cfa);
		free(b);
	}
	free(g->func_body);
	free(g->func_state);
	free(g->funcs);
	free(g->func_die);
	if (g->dbg) {
		Dwarf_Error e = 0;
		if (g->fde_state == 1)
			dwarf_fde_cie_list_dealloc(g->dbg, g->cie_data, g->cie_count,
						   g->fde_data, g->fde_count);
		dwarf_finish(g->dbg, &e);
		close(g->fd);
	}
	while (g->arena) {
		struct arena_block *n = g->arena->next;
		free(g->arena);
		g->arena = n;
	}
	free(g->types);
	free(g->offs);
	free(g->raw);
	free(g->members);
	free(g->member_raw);
	free(g->vars);
	free(g->var_raw);
	free(g->type_hash);
	free(g->var_hash);
	free(g->ptr_cache);
	free(g->map_cache);
	free(g->rt_hash);
	free(g);
}

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
	if (!t || !t->nmembers || (size_t)t->first_member + t->nmembers > g->nmembers) {
		*n = 0;
		return NULL;
	}
	*n = t->nmembers;
	return &g->members[t->first_member];
}

type_id gtypes_find(const struct gtypes *g, const char *name)
{
	if (!g->type_hash_cap)
		return 0;
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
	if (!g->var_hash_cap)
		return NULL;
	size_t h = hash_str(name) & (g->var_hash_cap - 1);
	for (uint32_t cur; (cur = g->var_hash[h]); h = (h + 1) & (g->var_hash_cap - 1))
		if (!strcmp(g->vars[cur - 1].name, name))
			return &g->vars[cur - 1];
	return NULL;
}

type_id gtypes_by_runtime_type(const struct gtypes *g, uint64_t off)
{
	if (!off || !g->rt_hash_cap)
		return 0;
	size_t h = (size_t)(off * 0x9e3779b97f4a7c15ull >> 20) & (g->rt_hash_cap - 1);
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

static void fixpoint(const struct gtypes *g, uint8_t *yes, bool want_map)
{
	/* yes[0] stays 0: "no type" holds nothing. */
	for (bool changed = true; changed;) {
		changed = false;
		for (type_id id = 1; id <= g->ntypes; id++)
			if (!yes[id] && derive(g, yes, id, want_map)) {
				yes[id] = 1;
				changed = true;
			}
	}
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

struct funcsort {
	struct gfunc f;
	Dwarf_Off die;
};

static int funcsort_cmp(const void *a, const void *b)
{
	const struct funcsort *x = a, *y = b;
	if (x->f.lowpc != y->f.lowpc)
		return x->f.lowpc < y->f.lowpc ? -1 : 1;
	return x->die < y->die ? -1 : x->die > y->die;
}

/* Sort by entry pc and drop duplicates, so that gtypes_func_at can binary
 * search; a function overlapping the next one is cut at the next's entry. */
static int index_funcs(struct gtypes *g)
{
	if (!g->nfuncs)
		return 0;
	struct funcsort *s = malloc(g->nfuncs * sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < g->nfuncs; i++)
		s[i] = (struct funcsort){ g->funcs[i], g->func_die[i] };
	qsort(s, g->nfuncs, sizeof(*s), funcsort_cmp);
	size_t n = 0;
	for (size_t i = 0; i < g->nfuncs; i++) {
		if (n && s[i].f.lowpc == g->funcs[n - 1].lowpc)
			continue;
		if (n && g->funcs[n - 1].highpc > s[i].f.lowpc)
			g->funcs[n - 1].highpc = s[i].f.lowpc;
		g->funcs[n] = s[i].f;
		g->func_die[n] = s[i].die;
		n++;
	}
	free(s);
	g->nfuncs = n;
	g->func_body = calloc(n, sizeof(*g->func_body));
	g->func_state = calloc(n, 1);
	return g->func_body && g->func_state ? 0 : -1;
}

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

/* ---- location expressions ---------------------------------------------- */

int gloc_decode(const struct gloc_op *ops, size_t n, bool fb_is_cfa, struct gpiece *out,
		size_t max)
{
	/* A small evaluation stack: values are either constants or CFA-relative
	 * addresses; a register location is a separate state. */
	enum { V_CONST, V_CFA } kind[8];
	int64_t val[8];
	int sp = 0;
	int reg = -1;             /* a DW_OP_regN was seen for this piece */
	bool bad = false;         /* something not modelled: the piece is NONE */
	size_t np = 0;

	for (size_t i = 0; i <= n; i++) {
		uint8_t a = i < n ? ops[i].atom : 0;
		bool end = i == n;
		if (end || a == DW_OP_piece) {
			if (end && np && !sp && reg < 0 && !bad)
				break;    /* trailing DW_OP_piece ended the last piece */
			if (np >= max)
				return -1;
			struct gpiece *p = &out[np++];
			p->size = end ? 0 : ops[i].op1;
			p->off = 0;
			if (bad || (reg < 0 && sp != 1))
				p->kind = GPIECE_NONE;
			else if (reg >= 0)
				p->kind = GPIECE_REG, p->off = reg;
			else if (kind[0] == V_CFA)
				p->kind = GPIECE_CFA, p->off = val[0];
			else
				p->kind = GPIECE_NONE; /* a static address: not in a frame */
			if (end && np > 1)
				/* Bytes after the last DW_OP_piece: not described. */
				p->kind = GPIECE_NONE;
			sp = 0;
			reg = -1;
			bad = false;
			if (end)
				break;
			continue;
		}
		if (bad)
			continue;
		if (reg >= 0) {           /* only DW_OP_piece may follow a register */
			bad = true;
			continue;
		}
		if (a >= DW_OP_reg0 && a <= DW_OP_reg31) {
			if (sp)
				bad = true;
			else
				reg = a - DW_OP_reg0;
			continue;
		}
		if (a == DW_OP_regx) {
			if (sp || ops[i].op1 > 1000)
				bad = true;
			else
				reg = (int)ops[i].op1;
			continue;
		}
		if (sp >= 8 && (a == DW_OP_call_frame_cfa || a == DW_OP_fbreg ||
				(a >= DW_OP_lit0 && a <= DW_OP_lit31) ||
				(a >= DW_OP_addr && a <= DW_OP_consts))) {
			bad = true;
			continue;
		}
		switch (a) {
		case DW_OP_call_frame_cfa:
			kind[sp] = V_CFA, val[sp++] = 0;
			break;
		case DW_OP_fbreg:
			if (!fb_is_cfa)
				bad = true;
			else
				kind[sp] = V_CFA, val[sp++] = (int64_t)ops[i].op1;
			break;
		case DW_OP_addr:
		case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u:
		case DW_OP_const8u: case DW_OP_constu:
		case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
		case DW_OP_const8s: case DW_OP_consts:
			/* libdwarf hands signed operands sign-extended. */
			kind[sp] = V_CONST, val[sp++] = (int64_t)ops[i].op1;
			break;
		case DW_OP_plus_uconst:
			if (!sp)
				bad = true;
			else
				val[sp - 1] += (int64_t)ops[i].op1;
			break;
		case DW_OP_plus:
		case DW_OP_minus:
			if (sp < 2 || kind[sp - 1] != V_CONST ||
			    (a == DW_OP_minus && kind[sp - 2] != V_CFA && kind[sp - 2] != V_CONST)) {
				bad = true;
				break;
			}
			if (a == DW_OP_plus)
				val[sp - 2] += val[sp - 1];
			else
				val[sp - 2] -= val[sp - 1];
			sp--;
			break;
		case DW_OP_nop:
			break;
		default:
			if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
				kind[sp] = V_CONST, val[sp++] = a - DW_OP_lit0;
				break;
			}
			/* DW_OP_stack_value, DW_OP_implicit_value, DW_OP_deref, ...:
			 * not a plain place in a frame. */
			bad = true;
			break;
		}
	}
	return (int)np;
}

/* ---- call frame information --------------------------------------------- */

static int read_uleb(const uint8_t *p, size_t n, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *i < n; shift += 7) {
		uint8_t b = p[(*i)++];
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int read_sleb(const uint8_t *p, size_t n, size_t *i, int64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;
	do {
		if (*i >= n)
			return -1;
		b = p[(*i)++];
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	*out = (int64_t)v;
	return 0;
}

static int cfa_set(struct gcfa_row *rows, size_t *nrows, size_t max, uint64_t loc, int64_t off)
{
	if (*nrows && rows[*nrows - 1].pc == loc) {
		rows[*nrows - 1].off = off;
		return 0;
	}
	if (*nrows && rows[*nrows - 1].off == off)
		return 0;
	if (*nrows >= max)
		return -1;
	rows[(*nrows)++] = (struct gcfa_row){ loc, off };
	return 0;
}

int gcfa_decode(const uint8_t *p, size_t n, uint64_t code_align, int64_t data_align,
		uint64_t *loc, int64_t *off, struct gcfa_row *rows, size_t *nrows, size_t max)
{
	size_t i = 0;
	uint64_t u, r;
	int64_t sv;
	while (i < n) {
		uint8_t op = p[i++];
		uint8_t hi = op & 0xc0, lo = op & 0x3f;
		if (hi == 0x40) {             /* DW_CFA_advance_loc */
			*loc += lo * code_align;
			continue;
		}
		if (hi == 0x80) {             /* DW_CFA_offset: a register rule */
			if (read_uleb(p, n, &i, &u))
				return -1;
			continue;
		}
		if (hi == 0xc0)               /* DW_CFA_restore */
			continue;
		switch (op) {
		case 0x00:                    /* nop */
			break;
		case 0x02:                    /* advance_loc1 */
			if (i + 1 > n)
				return -1;
			*loc += p[i] * code_align;
			i += 1;
			break;
		case 0x03:                    /* advance_loc2 */
			if (i + 2 > n)
				return -1;
			*loc += (uint64_t)(p[i] | p[i + 1] << 8) * code_align;
			i += 2;
			break;
		case 0x04:                    /* advance_loc4 */
			if (i + 4 > n)
				return -1;
			*loc += ((uint64_t)p[i] | (uint64_t)p[i + 1] << 8 |
				 (uint64_t)p[i + 2] << 16 | (uint64_t)p[i + 3] << 24) * code_align;
			i += 4;
			break;
		case 0x05:                    /* offset_extended reg, off */
			if (read_uleb(p, n, &i, &r) || read_uleb(p, n, &i, &u))
				return -1;
			break;
		case 0x06:                    /* restore_extended reg */
		case 0x07:                    /* undefined reg */
		case 0x08:                    /* same_value reg */
			if (read_uleb(p, n, &i, &r))
				return -1;
			break;
		case 0x09:                    /* register reg, reg */
			if (read_uleb(p, n, &i, &r) || read_uleb(p, n, &i, &u))
				return -1;
			break;
		case 0x0c:                    /* def_cfa reg, off */
			if (read_uleb(p, n, &i, &r) || read_uleb(p, n, &i, &u) || r != DWREG_RSP)
				return -1;
			*off = (int64_t)u;
			if (cfa_set(rows, nrows, max, *loc, *off))
				return -1;
			break;
		case 0x0e:                    /* def_cfa_offset off */
			if (read_uleb(p, n, &i, &u))
				return -1;
			*off = (int64_t)u;
			if (cfa_set(rows, nrows, max, *loc, *off))
				return -1;
			break;
		case 0x11:                    /* offset_extended_sf reg, soff */
		case 0x14:                    /* val_offset reg, off */
		case 0x15:                    /* val_offset_sf reg, soff */
			if (read_uleb(p, n, &i, &r) || read_sleb(p, n, &i, &sv))
				return -1;
			break;
		case 0x12:                    /* def_cfa_sf reg, soff */
			if (read_uleb(p, n, &i, &r) || read_sleb(p, n, &i, &sv) || r != DWREG_RSP)
				return -1;
			*off = sv * data_align;
			if (cfa_set(rows, nrows, max, *loc, *off))
				return -1;
			break;
		case 0x13:                    /* def_cfa_offset_sf soff */
			if (read_sleb(p, n, &i, &sv))
				return -1;
			*off = sv * data_align;
			if (cfa_set(rows, nrows, max, *loc, *off))
				return -1;
			break;
		default:
			/* def_cfa_register, def_cfa_expression, remember/restore
			 * state, ...: Go does not write them. */
			return -1;
		}
	}
	return 0;
}

/* ---- function bodies, decoded on first use ------------------------------ */

#define MAX_OPS 64            /* operations of one location expression */
#define MAX_PIECES 16         /* pieces of one variable */
#define MAX_SCOPE_DEPTH 32    /* nested lexical blocks / inlined calls */

static bool frame_base_is_cfa(Dwarf_Debug dbg, Dwarf_Die die)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dwarf_attr(die, DW_AT_frame_base, &a, &e) != DW_DLV_OK)
		return false;
	bool yes = false;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr p = 0;
	Dwarf_Half form = 0;
	dwarf_whatform(a, &form, &e);
	if (form == DW_FORM_exprloc && dwarf_formexprloc(a, &len, &p, &e) == DW_DLV_OK)
		yes = len == 1 && ((unsigned char *)p)[0] == DW_OP_call_frame_cfa;
	else if (form == DW_FORM_block1) {
		Dwarf_Block *blk = NULL;
		if (dwarf_formblock(a, &blk, &e) == DW_DLV_OK) {
			yes = blk->bl_len == 1 &&
			      ((unsigned char *)blk->bl_data)[0] == DW_OP_call_frame_cfa;
			dwarf_dealloc(dbg, blk, DW_DLA_BLOCK);
		}
	}
	dwarf_dealloc_attribute(a);
	return yes;
}

/* Append one (range, pieces) entry for the local being built. */
static int body_add_range(struct fbody *b, uint64_t lo, uint64_t hi,
			  const struct gpiece *p, size_t np)
{
	if (grow((void **)&b->ranges, &b->capranges, b->nranges + 1, sizeof(*b->ranges)) ||
	    grow((void **)&b->pieces, &b->cappieces, b->npieces + np, sizeof(*b->pieces)))
		return -1;
	b->ranges[b->nranges++] = (struct lrange){ lo, hi, (uint32_t)b->npieces, (uint32_t)np };
	memcpy(&b->pieces[b->npieces], p, np * sizeof(*p));
	b->npieces += np;
	return 0;
}

/* The location of local `die` as ranges of pieces.  A single expression
 * (not a list) holds over the enclosing scope [lo, hi) when that is known. */
static int body_add_location(struct gtypes *g, struct fbody *b, Dwarf_Die die,
			     uint64_t lo, uint64_t hi, bool scope_known)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dwarf_attr(die, DW_AT_location, &a, &e) != DW_DLV_OK)
		return 0;
	Dwarf_Loc_Head_c head = 0;
	Dwarf_Unsigned count = 0;
	if (dwarf_get_loclist_c(a, &head, &count, &e) != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return 0;
	}
	unsigned int lkind = DW_LKIND_unknown;
	dwarf_get_loclist_head_kind(head, &lkind, &e);
	int rc = 0;
	struct gloc_op ops[MAX_OPS];
	struct gpiece pieces[MAX_PIECES];
	for (Dwarf_Unsigned j = 0; j < count && !rc; j++) {
		Dwarf_Small lle = 0, src = 0;
		Dwarf_Unsigned rawlo = 0, rawhi = 0, nops = 0, exoff = 0, ldoff = 0;
		Dwarf_Bool unavail = 0;
		Dwarf_Addr lopc = 0, hipc = 0;
		Dwarf_Locdesc_c desc = 0;
		if (dwarf_get_locdesc_entry_d(head, j, &lle, &rawlo, &rawhi, &unavail, &lopc, &hipc,
					      &nops, &desc, &src, &exoff, &ldoff, &e) != DW_DLV_OK)
			break;
		if (unavail)
			continue;
		if (lkind == DW_LKIND_expression) {
			if (!scope_known)
				continue;
			lopc = lo;
			hipc = hi;
		}
		if (hipc <= lopc || !nops)
			continue;     /* base-address entries, empty ranges, optimized out */
		int np;
		if (nops > MAX_OPS) {
			np = -1;
		} else {
			for (Dwarf_Unsigned k = 0; k < nops; k++) {
				Dwarf_Small atom = 0;
				Dwarf_Unsigned o1 = 0, o2 = 0, o3 = 0, br = 0;
				if (dwarf_get_location_op_value_c(desc, k, &atom, &o1, &o2, &o3, &br,
								  &e) != DW_DLV_OK)
					atom = 0xff; /* not an operation gloc_decode knows */
				ops[k] = (struct gloc_op){ atom, o1, o2 };
			}
			np = gloc_decode(ops, nops, b->fb_cfa, pieces, MAX_PIECES);
		}
		if (np < 0) {
			pieces[0] = (struct gpiece){ GPIECE_NONE, 0, 0 };
			np = 1;
		}
		rc = body_add_range(b, lopc, hipc, pieces, (size_t)np);
	}
	dwarf_loc_head_c_dealloc(head);
	dwarf_dealloc_attribute(a);
	(void)g;
	return rc;
}

static int body_add_local(struct gtypes *g, struct fbody *b, Dwarf_Die die, bool param,
			  uint64_t lo, uint64_t hi, bool scope_known, bool top)
{
	Dwarf_Error e = 0;
	const char *name = NULL;
	Dwarf_Off tref = attr_ref(die, DW_AT_type);
	char *raw = NULL;
	if (dwarf_diename(die, &raw, &e) == DW_DLV_OK && raw) {
		name = arena_strdup(g, raw);
	} else {
		/* A variable of an inlined call: name and type are on the
		 * abstract function's DIE. */
		Dwarf_Off origin = attr_ref(die, DW_AT_abstract_origin);
		Dwarf_Die od = 0;
		if (origin && dwarf_offdie_b(g->dbg, origin, 1, &od, &e) == DW_DLV_OK) {
			name = die_name(g, od);
			if (!tref)
				tref = attr_ref(od, DW_AT_type);
			dwarf_dealloc_die(od);
		}
	}
	if (!name)
		return raw ? -1 : 0;
	type_id type = id_of(g, tref);

	Dwarf_Unsigned coff = 0;
	if (top && attr_udata(die, DW_AT_go_closure_offset, &coff) == 0) {
		if (grow((void **)&b->cvars, &b->capcvars, b->ncvars + 1, sizeof(*b->cvars)))
			return -1;
		b->cvars[b->ncvars++] = (struct gclosure_var){ name, type, coff };
	}

	size_t first = b->nranges;
	if (body_add_location(g, b, die, lo, hi, scope_known))
		return -1;
	if (b->nranges == first)
		return 0;
	if (grow((void **)&b->vars, &b->capvars, b->nvars + 1, sizeof(*b->vars)))
		return -1;
	struct lvar *v = &b->vars[b->nvars++];
	v->pub = (struct glocal){ name, type, param, NULL, 0 };
	v->first_range = (uint32_t)first;
	v->nranges = (uint32_t)(b->nranges - first);
	return 0;
}

static int body_walk(struct gtypes *g, struct fbody *b, Dwarf_Die scope, uint64_t lo,
		     uint64_t hi, bool scope_known, int depth)
{
	Dwarf_Die child = 0, next = 0;
	Dwarf_Error e = 0;
	int rc = 0;
	if (dwarf_child(scope, &child, &e) != DW_DLV_OK)
		return 0;
	while (child && !rc) {
		Dwarf_Half tag = 0;
		dwarf_tag(child, &tag, &e);
		if (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable) {
			rc = body_add_local(g, b, child, tag == DW_TAG_formal_parameter, lo, hi,
					    scope_known, depth == 0);
		} else if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
			   depth < MAX_SCOPE_DEPTH) {
			Dwarf_Addr clo = 0, chi = 0;
			Dwarf_Half form = 0;
			enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
			/* A scope given by DW_AT_ranges is not modelled: its
			 * single-expression locals are left out (conservative). */
			bool known = dwarf_lowpc(child, &clo, &e) == DW_DLV_OK &&
				     dwarf_highpc_b(child, &chi, &form, &cls, &e) == DW_DLV_OK;
			if (known && cls == DW_FORM_CLASS_CONSTANT)
				chi += clo;
			rc = body_walk(g, b, child, clo, chi, known && chi > clo, depth + 1);
		}
		int r = dwarf_siblingof_b(g->dbg, child, 1, &next, &e);
		dwarf_dealloc_die(child);
		child = r == DW_DLV_OK ? next : 0;
	}
	if (child)
		dwarf_dealloc_die(child);
	return rc;
}

/* The body record of f, created on first use; its locals are decoded then
 * too (vars_ok says whether that worked).  NULL only when out of memory. */
static struct fbody *func_body(const struct gtypes *cg, const struct gfunc *f, bool *vars_ok)
{
	struct gtypes *g = (struct gtypes *)cg;   /* lazy caches */
	if (!f || f < g->funcs || f >= g->funcs + g->nfuncs)
		return NULL;
	size_t i = (size_t)(f - g->funcs);
	if (g->func_state[i]) {
		*vars_ok = g->func_state[i] == 1;
		return g->func_body[i];
	}
	struct fbody *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	g->func_body[i] = b;
	Dwarf_Die die = 0;
	Dwarf_Error e = 0;
	int rc = -1;
	if (dwarf_offdie_b(g->dbg, g->func_die[i], 1, &die, &e) == DW_DLV_OK) {
		b->fb_cfa = frame_base_is_cfa(g->dbg, die);
		rc = body_walk(g, b, die, f->lowpc, f->highpc, true, 0);
		dwarf_dealloc_die(die);
	}
	g->func_state[i] = rc ? 2 : 1;
	*vars_ok = !rc;
	return b;
}

const struct gclosure_var *gtypes_closure_vars(const struct gtypes *g, const struct gfunc *f,
					       size_t *n)
{
	bool ok = false;
	struct fbody *b = func_body(g, f, &ok);
	*n = b ? b->ncvars : 0;
	return *n ? b->cvars : NULL;
}

int gtypes_locals_at(const struct gtypes *g, const struct gfunc *f, uint64_t pc,
		     glocal_fn fn, void *arg)
{
	bool ok = false;
	struct fbody *b = func_body(g, f, &ok);
	if (!b || !ok)
		return -1;
	int count = 0;
	for (size_t i = 0; i < b->nvars; i++) {
		const struct lvar *v = &b->vars[i];
		for (uint32_t k = 0; k < v->nranges; k++) {
			const struct lrange *r = &b->ranges[v->first_range + k];
			if (pc < r->lo || pc >= r->hi)
				continue;
			struct glocal l = v->pub;
			l.pieces = &b->pieces[r->first_piece];
			l.npieces = r->npieces;
			fn(arg, &l);
			count++;
			break;
		}
	}
	return count;
}

static void load_cfa(struct gtypes *g, struct fbody *b, const struct gfunc *f)
{
	Dwarf_Error e = 0;
	b->cfa_state = -1;
	if (!g->fde_state)
		g->fde_state = dwarf_get_fde_list(g->dbg, &g->cie_data, &g->cie_count,
						  &g->fde_data, &g->fde_count, &e) == DW_DLV_OK ? 1 : -1;
	if (g->fde_state != 1)
		return;
	Dwarf_Fde fde = 0;
	Dwarf_Addr lo = 0, hi = 0;
	if (dwarf_get_fde_at_pc(g->fde_data, f->lowpc, &fde, &lo, &hi, &e) != DW_DLV_OK)
		return;
	Dwarf_Addr start = 0;
	Dwarf_Unsigned len = 0, fde_len = 0;
	Dwarf_Ptr fde_bytes = 0;
	Dwarf_Off cie_off = 0, fde_off = 0;
	Dwarf_Signed cie_index = 0;
	if (dwarf_get_fde_range(fde, &start, &len, &fde_bytes, &fde_len, &cie_off, &cie_index,
				&fde_off, &e) != DW_DLV_OK || !len)
		return;
	Dwarf_Cie cie = 0;
	Dwarf_Unsigned cie_bytes = 0, caf = 0, init_len = 0, ilen = 0;
	Dwarf_Small ver = 0;
	char *aug = NULL;
	Dwarf_Signed daf = 0;
	Dwarf_Half rar = 0, offsz = 0;
	Dwarf_Ptr init = 0, instr = 0;
	if (dwarf_get_cie_of_fde(fde, &cie, &e) != DW_DLV_OK ||
	    dwarf_get_cie_info_b(cie, &cie_bytes, &ver, &aug, &caf, &daf, &rar, &init, &init_len,
				 &offsz, &e) != DW_DLV_OK ||
	    dwarf_get_fde_instr_bytes(fde, &instr, &ilen, &e) != DW_DLV_OK)
		return;
	size_t max = init_len + ilen + 1;
	b->cfa = malloc(max * sizeof(*b->cfa));
	if (!b->cfa)
		return;
	uint64_t loc = 0;
	int64_t off = INT64_MIN;
	b->ncfa = 0;
	/* The CIE's initial instructions set the rule at the entry; the FDE's
	 * start over from location 0. */
	int rc = gcfa_decode(init, init_len, caf, daf, &loc, &off, b->cfa, &b->ncfa, max);
	loc = 0;
	if (!rc && off != INT64_MIN)
		rc = gcfa_decode(instr, ilen, caf, daf, &loc, &off, b->cfa, &b->ncfa, max);
	if (rc || off == INT64_MIN || !b->ncfa || b->cfa[0].pc != 0) {
		free(b->cfa);
		b->cfa = NULL;
		b->ncfa = 0;
		return;
	}
	b->fde_lo = start;
	b->fde_hi = start + len;
	b->cfa_state = 1;
}

int gtypes_cfa_offset(const struct gtypes *g, const struct gfunc *f, uint64_t pc, int64_t *off)
{
	bool ok = false;
	struct fbody *b = func_body(g, f, &ok);
	if (!b)
		return -1;
	if (!b->cfa_state)
		load_cfa((struct gtypes *)g, b, f);
	if (b->cfa_state != 1 || pc < b->fde_lo || pc >= b->fde_hi)
		return -1;
	uint64_t rel = pc - b->fde_lo;
	size_t lo = 0, hi = b->ncfa;   /* last row with row.pc <= rel */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->cfa[mid].pc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	*off = b->cfa[lo - 1].off;
	return 0;
}

void gtypes_move_vars(struct gtypes *g, uint64_t lo, uint64_t hi, int64_t delta)
{
	for (size_t i = 0; g && i < g->nvars; i++)
		if (g->vars[i].addr >= lo && g->vars[i].addr < hi)
			g->vars[i].addr += (uint64_t)delta;
}
