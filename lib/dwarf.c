/* DWARF loader: fills the type model of types.h from an executable.
 *
 * This is the only file that includes libdwarf.  One pass over the compile
 * units' top-level DIEs records every type and package-level variable with
 * references kept as raw DIE offsets; a second step turns the offsets into
 * sequential ids (DIEs are visited in increasing offset order, so a binary
 * search finds them).  Function bodies are not descended into. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "types.h"

/* Go's own attributes (src/cmd/internal/dwarf/dwarf.go). */
#define DW_AT_go_kind 0x2900
#define DW_AT_go_key 0x2901
#define DW_AT_go_elem 0x2902
#define DW_AT_go_embedded_field 0x2903
#define DW_AT_go_runtime_type 0x2904

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
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 1024;
	while (nc < need)
		nc *= 2;
	void *p = realloc(*arr, nc * elsize);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
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
		case GOKIND_IFACE: t->kind = GK_IFACE; break;
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
	return 0;
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
	rc = walk_units(g, dbg, err, path);
	dwarf_finish(dbg, &e);
	close(fd);
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
	case GK_STRING: case GK_FUNC:
		return !want_map;
	case GK_PTR:
		return want_map ? yes[t->target] : true;
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
