/* The DWARF loader: an executable's DWARF into the type model, through the
 * builder of types_build.h.
 *
 * This is the only file that includes libdwarf.  One pass over every
 * compile unit's DIEs adds each type (keyed by its DIE offset: references
 * are DIE offsets, resolved by the builder), each package-level variable,
 * and each function with code together with its body -- its locals with
 * their locations, its closure variables; then every FDE of .debug_frame
 * becomes a call-frame table.  Everything is decoded here, up front, so
 * that nothing of libdwarf outlives the load (the load runs in the DWARF
 * sandbox, see sandbox.h) and the model needs no lazy state.
 *
 * What a function body cannot give (a location expression mapscan does not
 * follow, a DIE libdwarf refuses) makes that local or that function's
 * locals unknown, never the load fail: callers then scan the frame
 * conservatively. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dwarf.h>
#include <elf.h>
#include <libdwarf.h>

#include "cpus.h"
#include "arch.h"
#include "dwarf_load.h"
#include "dwcache.h"
#include "dwarf_sections.h"
#include "file.h"
#include "grow.h"
#include "sandbox.h"
#include "types.h"
#include "types_build.h"

/* Go's own attributes (src/cmd/internal/dwarf/dwarf.go). */
#define DW_AT_go_kind 0x2900
#define DW_AT_go_key 0x2901
#define DW_AT_go_elem 0x2902
#define DW_AT_go_embedded_field 0x2903
#define DW_AT_go_runtime_type 0x2904
/* Go 1.23+: on a closure function's variables, their offset in the
 * closure object. */
#define DW_AT_go_closure_offset 0x2907

/* Go's abi.Kind values we care about. */
enum { GOKIND_CHAN = 18, GOKIND_FUNC = 19, GOKIND_IFACE = 20, GOKIND_MAP = 21,
       GOKIND_PTR = 22, GOKIND_SLICE = 23, GOKIND_STRING = 24, GOKIND_STRUCT = 25,
       GOKIND_UNSAFEPTR = 26 };

#define MAX_OPS 64            /* operations of one location expression */
#define MAX_PIECES 16         /* pieces of one variable */
#define MAX_SCOPE_DEPTH 32    /* nested lexical blocks / inlined calls */
#define MAX_PARTS 2           /* processes a load is split between */

struct loader {
	Dwarf_Debug dbg;
	struct gtb *b;
	/* The local being decoded: its ranges and their pieces. */
	struct gtb_range *ranges;
	size_t nranges, capranges;
	struct gpiece *pieces;
	size_t npieces, cappieces;
	bool fb_cfa;               /* the function's frame base is DW_OP_call_frame_cfa */
	const struct arch *arch;   /* the file's; NULL: its CFA tables are not read */
	char err[160];             /* libdwarf's last error message */
	struct dwsec *sec;         /* sections handed over decompressed, or NULL */
	/* Abstract variables by DIE offset: the name and type of each
	 * variable of an inlined call (every call site refers to one). */
	struct origin *origins;
	size_t norigins, caporigins;   /* capacity: a power of two, at most half full */
	Dwarf_Half version;        /* the unit's DWARF version */
	uint64_t cu_base;          /* the unit's base address (DWARF 4 ranges are from it) */
};

struct origin {
	Dwarf_Off off;             /* 0: free slot */
	Dwarf_Off type;
	const char *name;          /* in libdwarf's section data */
};

/* libdwarf allocates an error record for every failing call; give it back
 * at once (a damaged file can fail millions of calls). */
static int dw(struct loader *L, int rc, Dwarf_Error *e)
{
	if (rc == DW_DLV_ERROR && *e) {
		snprintf(L->err, sizeof(L->err), "%s", dwarf_errmsg(*e));
		dwarf_dealloc_error(L->dbg, *e);
		*e = 0;
	}
	return rc;
}

/* ---- attribute helpers -------------------------------------------------- */

static uint64_t uleb_at(const unsigned char *q, Dwarf_Unsigned len)
{
	Dwarf_Unsigned v = 0;
	unsigned shift = 0;
	for (Dwarf_Unsigned i = 0; i < len && shift < 64; i++, shift += 7) {
		v |= (Dwarf_Unsigned)(q[i] & 0x7f) << shift;
		if (!(q[i] & 0x80))
			break;
	}
	return v;
}

static int attr_udata(struct loader *L, Dwarf_Die die, Dwarf_Half at, Dwarf_Unsigned *out)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dw(L, dwarf_attr(die, at, &a, &e), &e) != DW_DLV_OK)
		return -1;
	int rc = -1;
	Dwarf_Half form = 0;
	dw(L, dwarf_whatform(a, &form, &e), &e);
	if (form == DW_FORM_exprloc || form == DW_FORM_block1) {
		/* DW_AT_data_member_location as DW_OP_plus_uconst N. */
		Dwarf_Unsigned len = 0;
		Dwarf_Ptr p = 0;
		Dwarf_Block *blk = NULL;
		const unsigned char *q = NULL;
		if (form == DW_FORM_exprloc &&
		    dw(L, dwarf_formexprloc(a, &len, &p, &e), &e) == DW_DLV_OK) {
			q = p;
		} else if (form == DW_FORM_block1 &&
			   dw(L, dwarf_formblock(a, &blk, &e), &e) == DW_DLV_OK) {
			q = blk->bl_data;
			len = blk->bl_len;
		}
		if (q && len >= 2 && q[0] == DW_OP_plus_uconst) {
			*out = uleb_at(q + 1, len - 1);
			rc = 0;
		}
		if (blk)
			dwarf_dealloc(L->dbg, blk, DW_DLA_BLOCK);
	} else if (dw(L, dwarf_formudata(a, out, &e), &e) == DW_DLV_OK) {
		rc = 0;
	} else {
		Dwarf_Signed s;
		if (dw(L, dwarf_formsdata(a, &s, &e), &e) == DW_DLV_OK) {
			*out = (Dwarf_Unsigned)s;
			rc = 0;
		}
	}
	dwarf_dealloc_attribute(a);
	return rc;
}

static Dwarf_Off attr_ref(struct loader *L, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Off off = 0;
	if (dw(L, dwarf_attr(die, at, &a, &e), &e) != DW_DLV_OK)
		return 0;
	if (dw(L, dwarf_global_formref(a, &off, &e), &e) != DW_DLV_OK)
		off = 0;
	dwarf_dealloc_attribute(a);
	return off;
}

static uint64_t attr_addr(struct loader *L, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Addr v = 0;
	if (dw(L, dwarf_attr(die, at, &a, &e), &e) != DW_DLV_OK)
		return 0;
	if (dw(L, dwarf_formaddr(a, &v, &e), &e) != DW_DLV_OK) {
		Dwarf_Unsigned u = 0;
		v = dw(L, dwarf_formudata(a, &u, &e), &e) == DW_DLV_OK ? u : 0;
	}
	dwarf_dealloc_attribute(a);
	return v;
}

static bool attr_flag(struct loader *L, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	Dwarf_Bool b = 0;
	if (dw(L, dwarf_attr(die, at, &a, &e), &e) != DW_DLV_OK)
		return false;
	if (dw(L, dwarf_formflag(a, &b, &e), &e) != DW_DLV_OK) {
		Dwarf_Unsigned u = 0;
		b = dw(L, dwarf_formudata(a, &u, &e), &e) == DW_DLV_OK && u;
	}
	dwarf_dealloc_attribute(a);
	return b;
}

/* The bytes of an expression attribute (exprloc or block form), copied to
 * buf (at most max bytes); -1 if it is neither or longer. */
static int attr_expr(struct loader *L, Dwarf_Die die, Dwarf_Half at, unsigned char *buf,
		     size_t max, size_t *len)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dw(L, dwarf_attr(die, at, &a, &e), &e) != DW_DLV_OK)
		return -1;
	int rc = -1;
	Dwarf_Half form = 0;
	dw(L, dwarf_whatform(a, &form, &e), &e);
	if (form == DW_FORM_exprloc) {
		Dwarf_Unsigned n = 0;
		Dwarf_Ptr p = 0;
		if (dw(L, dwarf_formexprloc(a, &n, &p, &e), &e) == DW_DLV_OK && n <= max) {
			memcpy(buf, p, n);
			*len = n;
			rc = 0;
		}
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 ||
		   form == DW_FORM_block4 || form == DW_FORM_block) {
		Dwarf_Block *blk = NULL;
		if (dw(L, dwarf_formblock(a, &blk, &e), &e) == DW_DLV_OK) {
			if (blk->bl_len <= max) {
				memcpy(buf, blk->bl_data, blk->bl_len);
				*len = blk->bl_len;
				rc = 0;
			}
			dwarf_dealloc(L->dbg, blk, DW_DLA_BLOCK);
		}
	}
	dwarf_dealloc_attribute(a);
	return rc;
}

/* Static address of a variable: DW_AT_location = DW_OP_addr A. */
static int var_location(struct loader *L, Dwarf_Die die, uint64_t *addr)
{
	unsigned char p[16];
	size_t len = 0;
	if (attr_expr(L, die, DW_AT_location, p, sizeof(p), &len) || len != 9 || p[0] != DW_OP_addr)
		return -1;
	uint64_t v = 0;
	for (int i = 8; i >= 1; i--)
		v = v << 8 | p[i];
	*addr = v;
	return 0;
}

static bool frame_base_is_cfa(struct loader *L, Dwarf_Die die)
{
	unsigned char p[4];
	size_t len = 0;
	return !attr_expr(L, die, DW_AT_frame_base, p, sizeof(p), &len) && len == 1 &&
	       p[0] == DW_OP_call_frame_cfa;
}

/* The DIE's name; "" without one.  Points into libdwarf's section data:
 * copy it before the next call. */
static const char *die_name(struct loader *L, Dwarf_Die die)
{
	char *name = NULL;
	Dwarf_Error e = 0;
	if (dw(L, dwarf_diename(die, &name, &e), &e) != DW_DLV_OK || !name)
		return "";
	return name;
}

static bool die_pc_range(struct loader *L, Dwarf_Die die, uint64_t *lo, uint64_t *hi)
{
	Dwarf_Addr l = 0, h = 0;
	Dwarf_Half form = 0;
	enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
	Dwarf_Error e = 0;
	if (dw(L, dwarf_lowpc(die, &l, &e), &e) != DW_DLV_OK ||
	    dw(L, dwarf_highpc_b(die, &h, &form, &cls, &e), &e) != DW_DLV_OK)
		return false;
	if (cls == DW_FORM_CLASS_CONSTANT)
		h += l;
	*lo = l;
	*hi = h;
	return h > l;
}

/* Call fn on each child of die, in order. */
static int for_children(struct loader *L, Dwarf_Die die,
			int (*fn)(struct loader *L, Dwarf_Die child, Dwarf_Half tag, void *arg),
			void *arg)
{
	Dwarf_Die child = 0, next = 0;
	Dwarf_Error e = 0;
	int rc = 0;
	if (dw(L, dwarf_child(die, &child, &e), &e) != DW_DLV_OK)
		return 0;
	while (child && !rc) {
		Dwarf_Half tag = 0;
		dw(L, dwarf_tag(child, &tag, &e), &e);
		rc = fn(L, child, tag, arg);
		int r = dw(L, dwarf_siblingof_b(L->dbg, child, 1, &next, &e), &e);
		dwarf_dealloc_die(child);
		child = r == DW_DLV_OK ? next : 0;
	}
	if (child)
		dwarf_dealloc_die(child);
	return rc;
}

/* ---- types and variables ------------------------------------------------ */

static int member_of(struct loader *L, Dwarf_Die child, Dwarf_Half tag, void *arg)
{
	type_id id = *(const type_id *)arg;
	if (tag != DW_TAG_member)
		return 0;
	Dwarf_Unsigned off = 0;
	attr_udata(L, child, DW_AT_data_member_location, &off);
	return gtb_add_member(L->b, id, die_name(L, child), attr_ref(L, child, DW_AT_type), off,
			      attr_flag(L, child, DW_AT_go_embedded_field));
}

static int array_count(struct loader *L, Dwarf_Die child, Dwarf_Half tag, void *arg)
{
	uint64_t *count = arg;
	Dwarf_Unsigned c = 0;
	if (tag != DW_TAG_subrange_type)
		return 0;
	if (attr_udata(L, child, DW_AT_count, &c) == 0)
		*count = c;
	else if (attr_udata(L, child, DW_AT_upper_bound, &c) == 0)
		*count = c + 1;
	return 0;
}

static int add_type(struct loader *L, Dwarf_Die die, Dwarf_Half tag, Dwarf_Off off)
{
	struct gtb_type t = { 0 };
	Dwarf_Unsigned u = 0;

	/* Names point into libdwarf's section data, which lives as long as
	 * the Dwarf_Debug: no copy until the builder's. */
	t.name = die_name(L, die);
	if (attr_udata(L, die, DW_AT_go_kind, &u) == 0)
		t.go_kind = (uint8_t)(u & 0x1f);
	if (attr_udata(L, die, DW_AT_byte_size, &u) == 0)
		t.size = u;
	t.runtime_type = attr_addr(L, die, DW_AT_go_runtime_type);
	t.target = attr_ref(L, die, DW_AT_type);
	t.elem = attr_ref(L, die, DW_AT_go_elem);
	t.key = attr_ref(L, die, DW_AT_go_key);

	switch (tag) {
	case DW_TAG_base_type:
		t.kind = GK_BASE;
		break;
	case DW_TAG_pointer_type:
		t.kind = GK_PTR;
		break;
	case DW_TAG_structure_type:
		t.kind = t.go_kind == GOKIND_SLICE ? GK_SLICE
			: t.go_kind == GOKIND_STRING ? GK_STRING : GK_STRUCT;
		break;
	case DW_TAG_array_type:
		t.kind = GK_ARRAY;
		t.elem = t.target;
		t.target = 0;
		if (for_children(L, die, array_count, &t.count))
			return -1;
		break;
	case DW_TAG_typedef:
		switch (t.go_kind) {
		case GOKIND_MAP: t.kind = GK_MAP; break;
		case GOKIND_CHAN: t.kind = GK_CHAN; break;
		case GOKIND_IFACE: t.kind = GK_IFACE; break;
		case GOKIND_FUNC: t.kind = GK_FUNC; break;
		default: t.kind = GK_TYPEDEF; break;
		}
		break;
	case DW_TAG_subroutine_type:
		t.kind = GK_FUNC;
		break;
	default:
		t.kind = GK_OTHER;
		break;
	}
	type_id id = gtb_add_type(L->b, off, &t);
	if (!id)
		return -1;
	if (tag == DW_TAG_structure_type)
		return for_children(L, die, member_of, &id);
	return 0;
}

static int add_var(struct loader *L, Dwarf_Die die)
{
	uint64_t addr;
	if (var_location(L, die, &addr) != 0 || addr == 0)
		return 0;
	return gtb_add_var(L->b, die_name(L, die), addr, attr_ref(L, die, DW_AT_type));
}

/* ---- function bodies ---------------------------------------------------- */

/* Append one range of the local being built. */
static int local_range(struct loader *L, uint64_t lo, uint64_t hi, const struct gpiece *p,
		       size_t np)
{
	if (grow_array((void **)&L->ranges, &L->capranges, L->nranges + 1, sizeof(*L->ranges), 16) ||
	    grow_array((void **)&L->pieces, &L->cappieces, L->npieces + np, sizeof(*L->pieces), 64))
		return -1;
	/* Pieces are linked to their range when the local is added (the
	 * array may move meanwhile). */
	L->ranges[L->nranges++] = (struct gtb_range){ lo, hi, NULL, np };
	memcpy(&L->pieces[L->npieces], p, np * sizeof(*p));
	L->npieces += np;
	return 0;
}

/* The location of local `die` as ranges of pieces.  A single expression
 * (not a list) holds over the enclosing scope [lo, hi) when that is known. */
/* A pc range of a scope. */
struct pcrange {
	uint64_t lo, hi;
};

struct scope {
	gtb_func f;
	const struct pcrange *r;  /* the scope's pc ranges (an inlined call's or a
				   * lexical block's may be several) */
	size_t nr;
	bool known;               /* r holds the scope's ranges */
	int depth;                /* 0: the function itself */
};

/* The local's location over [lopc, hipc), within its scope: a variable
 * exists only where its block or inlined call does, though its location
 * list may run on (Go 1.23+ merges the stack slots of locals whose lives
 * do not overlap, and an inlined call's parameter is listed in its slot
 * to the function's end: in gopls, an inlined call's func parameter was
 * read from a slot another variable had since taken, and the word there
 * led 30 untyped hops into 5,000 maps). */
static int local_clipped(struct loader *L, const struct scope *s, uint64_t lopc, uint64_t hipc,
			 const struct gpiece *pieces, size_t np)
{
	if (!s->known)
		return local_range(L, lopc, hipc, pieces, np);
	for (size_t i = 0; i < s->nr; i++) {
		uint64_t a = lopc > s->r[i].lo ? lopc : s->r[i].lo;
		uint64_t b = hipc < s->r[i].hi ? hipc : s->r[i].hi;
		if (a < b && local_range(L, a, b, pieces, np))
			return -1;
	}
	return 0;
}

static int local_location(struct loader *L, Dwarf_Die die, const struct scope *s)
{
	Dwarf_Attribute a;
	Dwarf_Error e = 0;
	if (dw(L, dwarf_attr(die, DW_AT_location, &a, &e), &e) != DW_DLV_OK)
		return 0;
	Dwarf_Loc_Head_c head = 0;
	Dwarf_Unsigned count = 0;
	if (dw(L, dwarf_get_loclist_c(a, &head, &count, &e), &e) != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return 0;
	}
	unsigned int lkind = DW_LKIND_unknown;
	dw(L, dwarf_get_loclist_head_kind(head, &lkind, &e), &e);
	int rc = 0;
	struct gloc_op ops[MAX_OPS];
	struct gpiece pieces[MAX_PIECES];
	for (Dwarf_Unsigned j = 0; j < count && !rc; j++) {
		Dwarf_Small lle = 0, src = 0;
		Dwarf_Unsigned rawlo = 0, rawhi = 0, nops = 0, exoff = 0, ldoff = 0;
		Dwarf_Bool unavail = 0;
		Dwarf_Addr lopc = 0, hipc = 0;
		Dwarf_Locdesc_c desc = 0;
		if (dw(L, dwarf_get_locdesc_entry_d(head, j, &lle, &rawlo, &rawhi, &unavail, &lopc,
						    &hipc, &nops, &desc, &src, &exoff, &ldoff, &e),
		       &e) != DW_DLV_OK)
			break;
		if (unavail)
			continue;
		if (lkind == DW_LKIND_expression) {
			if (!s->known)
				continue;
			lopc = 0;
			hipc = UINT64_MAX;
		}
		if (hipc <= lopc || !nops)
			continue;     /* base-address entries, empty ranges, optimized out */
		int np = -1;
		if (nops <= MAX_OPS) {
			for (Dwarf_Unsigned k = 0; k < nops; k++) {
				Dwarf_Small atom = 0;
				Dwarf_Unsigned o1 = 0, o2 = 0, o3 = 0, br = 0;
				if (dw(L, dwarf_get_location_op_value_c(desc, k, &atom, &o1, &o2, &o3,
									&br, &e), &e) != DW_DLV_OK)
					atom = 0xff; /* not an operation gloc_decode knows */
				ops[k] = (struct gloc_op){ atom, o1, o2 };
			}
			np = gloc_decode(ops, nops, L->fb_cfa, pieces, MAX_PIECES);
		}
		if (np < 0) {
			pieces[0] = (struct gpiece){ GPIECE_NONE, 0, 0 };
			np = 1;
		}
		rc = local_clipped(L, s, lopc, hipc, pieces, (size_t)np);
	}
	dwarf_loc_head_c_dealloc(head);
	dwarf_dealloc_attribute(a);
	return rc;
}

/* The name and type of the abstract variable at off (NULL name if none). */
static const struct origin *origin_of(struct loader *L, Dwarf_Off off)
{
	if (L->norigins * 2 >= L->caporigins) {
		size_t cap = L->caporigins ? L->caporigins * 2 : 1024;
		struct origin *o = calloc(cap, sizeof(*o));
		if (!o)
			return NULL;
		for (size_t i = 0; i < L->caporigins; i++) {
			struct origin *x = &L->origins[i];
			if (!x->off)
				continue;
			size_t h = (size_t)(x->off * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
			while (o[h].off)
				h = (h + 1) & (cap - 1);
			o[h] = *x;
		}
		free(L->origins);
		L->origins = o;
		L->caporigins = cap;
	}
	size_t h = (size_t)(off * 0x9e3779b97f4a7c15ull >> 20) & (L->caporigins - 1);
	for (; L->origins[h].off; h = (h + 1) & (L->caporigins - 1))
		if (L->origins[h].off == off)
			return &L->origins[h];
	struct origin *o = &L->origins[h];
	Dwarf_Die od = 0;
	Dwarf_Error e = 0;
	*o = (struct origin){ off, 0, NULL };
	L->norigins++;
	if (dw(L, dwarf_offdie_b(L->dbg, off, 1, &od, &e), &e) == DW_DLV_OK) {
		o->name = die_name(L, od);
		o->type = attr_ref(L, od, DW_AT_type);
		dwarf_dealloc_die(od);
	}
	return o;
}

static int add_local(struct loader *L, Dwarf_Die die, bool param, const struct scope *s)
{
	Dwarf_Error e = 0;
	Dwarf_Off tref = attr_ref(L, die, DW_AT_type);
	char *raw = NULL;
	const char *name = NULL;

	if (dw(L, dwarf_diename(die, &raw, &e), &e) == DW_DLV_OK && raw) {
		name = raw;
	} else {
		/* A variable of an inlined call: name and type are on the
		 * abstract function's DIE. */
		Dwarf_Off off = attr_ref(L, die, DW_AT_abstract_origin);
		const struct origin *o = off ? origin_of(L, off) : NULL;
		if (!o || !o->name || !o->name[0])
			return 0;
		name = o->name;
		if (!tref)
			tref = o->type;
	}

	Dwarf_Unsigned coff = 0;
	if (s->depth == 0 && attr_udata(L, die, DW_AT_go_closure_offset, &coff) == 0 &&
	    gtb_add_closure_var(L->b, s->f, name, tref, coff))
		return -1;

	L->nranges = L->npieces = 0;
	if (local_location(L, die, s))
		return -1;
	/* A local without a location (an optimized build's, kept in a
	 * register or optimized out) is kept too, with no ranges: its type
	 * says what a map header found in its function's frame may be. */
	for (size_t i = 0, at = 0; i < L->nranges; i++) {
		L->ranges[i].pieces = &L->pieces[at];
		at += L->ranges[i].npieces;
	}
	return gtb_add_local(L->b, s->f, name, tref, param, L->ranges, L->nranges);
}

/* Append [lo, hi) to the n ranges of *r (room for cap), unless it is
 * empty; false when memory ran out. */
static bool range_add(struct pcrange **r, size_t *n, size_t *cap, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return true;
	if (grow_array((void **)r, cap, *n + 1, sizeof(**r), 4))
		return false;
	(*r)[(*n)++] = (struct pcrange){ lo, hi };
	return true;
}

/* The pc ranges of a scope given by DW_AT_ranges (DWARF 5 range lists,
 * DWARF 4 .debug_ranges), each within the enclosing scope's: a fresh array
 * in *out (free it) and their number, 0 when they cannot be read or do not
 * fit (the scope is then not modelled). */
static size_t die_ranges(struct loader *L, Dwarf_Die die, const struct scope *up,
			 struct pcrange **out)
{
	Dwarf_Attribute a = 0;
	Dwarf_Error e = 0;
	Dwarf_Half form = 0;
	struct pcrange *r = NULL;
	size_t n = 0, cap = 0;
	bool bad = false;
	*out = NULL;
	if (dw(L, dwarf_attr(die, DW_AT_ranges, &a, &e), &e) != DW_DLV_OK)
		return 0;
	if (dw(L, dwarf_whatform(a, &form, &e), &e) != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return 0;
	}
	Dwarf_Unsigned val = 0;
	Dwarf_Off off = 0;
	int ok = form == DW_FORM_rnglistx ? dw(L, dwarf_formudata(a, &val, &e), &e)
					  : dw(L, dwarf_global_formref(a, &off, &e), &e);
	if (form != DW_FORM_rnglistx)
		val = off;
	if (ok != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return 0;
	}
	if (L->version >= 5 || form == DW_FORM_rnglistx) {
		Dwarf_Rnglists_Head head = 0;
		Dwarf_Unsigned count = 0, goff = 0;
		if (dw(L, dwarf_rnglists_get_rle_head(a, form, val, &head, &count, &goff, &e), &e) ==
		    DW_DLV_OK) {
			for (Dwarf_Unsigned i = 0; i < count && !bad; i++) {
				unsigned len = 0, code = 0;
				Dwarf_Unsigned r1 = 0, r2 = 0, c1 = 0, c2 = 0;
				Dwarf_Bool unavail = 0;
				if (dw(L, dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &r1, &r2,
									    &unavail, &c1, &c2, &e),
				       &e) != DW_DLV_OK) {
					bad = true;
					break;
				}
				if (unavail) {
					bad = true;
					break;
				}
				if (code == DW_RLE_end_of_list)
					break;
				if (code == DW_RLE_base_address || code == DW_RLE_base_addressx)
					continue;
				bad = !range_add(&r, &n, &cap, c1, c2);
			}
			dwarf_dealloc_rnglists_head(head);
		} else {
			bad = true;
		}
	} else {
		Dwarf_Ranges *buf = NULL;
		Dwarf_Signed count = 0;
		Dwarf_Unsigned bytes = 0;
		Dwarf_Off real = 0;
		if (dw(L, dwarf_get_ranges_b(L->dbg, off, die, &real, &buf, &count, &bytes, &e), &e) ==
		    DW_DLV_OK) {
			uint64_t base = L->cu_base;
			for (Dwarf_Signed i = 0; i < count && !bad; i++) {
				if (buf[i].dwr_type == DW_RANGES_END)
					break;
				if (buf[i].dwr_type == DW_RANGES_ADDRESS_SELECTION) {
					base = buf[i].dwr_addr2;
					continue;
				}
				bad = !range_add(&r, &n, &cap, base + buf[i].dwr_addr1,
						 base + buf[i].dwr_addr2);
			}
			dwarf_ranges_dealloc(L->dbg, buf, count);
		} else {
			bad = true;
		}
	}
	dwarf_dealloc_attribute(a);
	/* Every range inside the enclosing scope's, or the list is not
	 * what it seems (a base address misread). */
	for (size_t i = 0; i < n && !bad && up->known; i++) {
		bool in = false;
		for (size_t k = 0; k < up->nr && !in; k++)
			in = r[i].lo >= up->r[k].lo && r[i].hi <= up->r[k].hi;
		bad = !in;
	}
	if (bad || !n) {
		free(r);
		return 0;
	}
	*out = r;
	return n;
}

static int body_child(struct loader *L, Dwarf_Die child, Dwarf_Half tag, void *arg)
{
	const struct scope *s = arg;
	if (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable)
		return add_local(L, child, tag == DW_TAG_formal_parameter, s);
	if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
	    s->depth < MAX_SCOPE_DEPTH) {
		/* A scope whose ranges cannot be read is not modelled: its
		 * single-expression locals are left out (conservative), its
		 * location lists taken as they are. */
		struct pcrange one, *many = NULL;
		struct scope in = { s->f, &one, 1, false, s->depth + 1 };
		if (die_pc_range(L, child, &one.lo, &one.hi)) {
			in.known = true;
		} else if ((in.nr = die_ranges(L, child, s, &many)) > 0) {
			in.r = many;
			in.known = true;
		}
		int rc = for_children(L, child, body_child, &in);
		free(many);
		return rc;
	}
	return 0;
}

static int add_func(struct loader *L, Dwarf_Die die)
{
	struct pcrange whole;
	struct scope s = { 0, &whole, 1, true, 0 };

	/* Abstract functions (only ever inlined) have no code of their own. */
	if (!die_pc_range(L, die, &whole.lo, &whole.hi))
		return 0;
	if (gtb_add_func(L->b, die_name(L, die), whole.lo, whole.hi, &s.f))
		return -1;
	L->fb_cfa = frame_base_is_cfa(L, die);
	return for_children(L, die, body_child, &s);
}

/* ---- the walk ----------------------------------------------------------- */

static int top_level(struct loader *L, Dwarf_Die die, Dwarf_Half tag, void *arg)
{
	(void)arg;
	Dwarf_Off off = 0;
	Dwarf_Error e = 0;
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_pointer_type:
	case DW_TAG_structure_type:
	case DW_TAG_array_type:
	case DW_TAG_typedef:
	case DW_TAG_subroutine_type:
	case DW_TAG_unspecified_type:
		if (dw(L, dwarf_dieoffset(die, &off, &e), &e) != DW_DLV_OK)
			return 0;
		return add_type(L, die, tag, off);
	case DW_TAG_variable:
		return add_var(L, die);
	case DW_TAG_subprogram:
		return add_func(L, die);
	default:
		return 0;
	}
}

/* The next compile unit's header: DW_DLV_OK, DW_DLV_NO_ENTRY after the
 * last one (the next call starts over at the first), or an error said in
 * err. */
static int next_unit(struct loader *L, const char *path, Dwarf_Half *version,
		     Dwarf_Unsigned *next, struct ms_error *err)
{
	Dwarf_Error e = 0;
	Dwarf_Unsigned hdrlen = 0, typeoff = 0;
	Dwarf_Half addrsize = 0, lensize = 0, extsize = 0, cutype = 0;
	Dwarf_Sig8 sig;
	Dwarf_Off aoff = 0;
	int rc = dw(L, dwarf_next_cu_header_d(L->dbg, 1, &hdrlen, version, &aoff, &addrsize,
					      &lensize, &extsize, &sig, &typeoff, next,
					      &cutype, &e), &e);
	/* The DWARF is there (not a -w build): say what libdwarf could not
	 * read. */
	if (rc != DW_DLV_OK && rc != DW_DLV_NO_ENTRY)
		ms_err(err, MS_ENODWARF, "%s: cannot read its DWARF compile units (%s); "
		       "pass an intact copy of the binary, or its debug file with "
		       "--debug-file", path, dwsec_why(L->sec)[0] ? dwsec_why(L->sec) :
		       L->err[0] ? L->err : "damaged DWARF");
	return rc;
}

/* The compile units of part `part` of `nparts`: those that start in that
 * share of .debug_info's bytes (a load split between processes, see
 * gtypes_load).  The DWARF version is the first unit's in every part. */
static int walk_units(struct loader *L, const char *path, unsigned part, unsigned nparts,
		      struct ms_error *err)
{
	Dwarf_Error e = 0;
	Dwarf_Half version = 0;
	Dwarf_Unsigned total = 0, next = 0, lo = 0, hi = UINT64_MAX;
	int rc;
	if (nparts > 1) {
		/* The headers alone first: where the units end. */
		while ((rc = next_unit(L, path, &version, &next, err)) == DW_DLV_OK)
			total = next;
		if (rc != DW_DLV_NO_ENTRY)
			return -1;
		/* The last part also loads the call-frame tables, and a Go
		 * binary's first units (the runtime's, the standard library's)
		 * cost less per byte than a program's: the first of two parts
		 * takes 3/5 of the bytes.  Measured: gopls (42 MB) 0.96 s in one
		 * piece, 0.49-0.58 s the longer of two parts at 3/5 (0.58-0.75 s
		 * at 1/2); a 15 MB gRPC server 0.34 s, 0.20-0.21 s at 1/2 to 2/3. */
		Dwarf_Unsigned share = nparts == 2 ? total / 5 * 3 : total / nparts;
		lo = share * part;
		if (part + 1 < nparts)
			hi = share * (part + 1);
	}
	Dwarf_Unsigned at = 0;
	for (bool first = true;; first = false) {
		rc = next_unit(L, path, &version, &next, err);
		if (rc == DW_DLV_NO_ENTRY)
			return 0;
		if (rc != DW_DLV_OK)
			return -1;
		/* The file's first unit in every part: skipped ones are read too. */
		if (first)
			gtb_set_dwarf_version(L->b, version);
		Dwarf_Unsigned start = at;
		at = next;
		if (start < lo || start >= hi)
			continue;
		Dwarf_Die cu = 0;
		if (dw(L, dwarf_siblingof_b(L->dbg, NULL, 1, &cu, &e), &e) != DW_DLV_OK)
			return ms_err(err, MS_ENODWARF, "%s: damaged DWARF compile unit", path);
		/* A cgo program's C units (runtime/cgo's, the program's own C,
		 * what a C library linked in brings) describe C: arrays sized by
		 * their bounds, unions, bit fields.  No Go map is in a C value,
		 * and no C frame is on a goroutine's stack: they are skipped. */
		Dwarf_Unsigned lang = DW_LANG_Go;
		if (attr_udata(L, cu, DW_AT_language, &lang) == 0 && lang != DW_LANG_Go) {
			dwarf_dealloc_die(cu);
			continue;
		}
		L->version = version;
		Dwarf_Addr base = 0;
		L->cu_base = dw(L, dwarf_lowpc(cu, &base, &e), &e) == DW_DLV_OK ? base : 0;
		rc = for_children(L, cu, top_level, NULL);
		dwarf_dealloc_die(cu);
		if (rc)
			return ms_err(err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
	}
}

/* ---- call frame information --------------------------------------------- */

/* One FDE: its CFA rule at every pc, from the CIE's initial instructions
 * (the rule at entry) and the FDE's own (which start over from 0). */
static int add_fde(struct loader *L, Dwarf_Fde fde, struct gcfa_row **rows, size_t *cap)
{
	Dwarf_Error e = 0;
	Dwarf_Addr start = 0;
	Dwarf_Unsigned len = 0, fde_len = 0;
	Dwarf_Ptr fde_bytes = 0;
	Dwarf_Off cie_off = 0, fde_off = 0;
	Dwarf_Signed cie_index = 0;
	if (dw(L, dwarf_get_fde_range(fde, &start, &len, &fde_bytes, &fde_len, &cie_off, &cie_index,
				      &fde_off, &e), &e) != DW_DLV_OK || !len || start + len < start)
		return 0;
	Dwarf_Cie cie = 0;
	Dwarf_Unsigned cie_bytes = 0, caf = 0, init_len = 0, ilen = 0;
	Dwarf_Small ver = 0;
	char *aug = NULL;
	Dwarf_Signed daf = 0;
	Dwarf_Half rar = 0, offsz = 0;
	Dwarf_Ptr init = 0, instr = 0;
	if (dw(L, dwarf_get_cie_of_fde(fde, &cie, &e), &e) != DW_DLV_OK ||
	    dw(L, dwarf_get_cie_info_b(cie, &cie_bytes, &ver, &aug, &caf, &daf, &rar, &init,
				       &init_len, &offsz, &e), &e) != DW_DLV_OK ||
	    dw(L, dwarf_get_fde_instr_bytes(fde, &instr, &ilen, &e), &e) != DW_DLV_OK)
		return 0;
	if (init_len > SIZE_MAX / 2 || ilen > SIZE_MAX / 2)
		return 0;
	/* Each row takes at least one byte of instructions. */
	size_t max = init_len + ilen + 1, n = 0;
	if (grow_array((void **)rows, cap, max, sizeof(**rows), 64))
		return -1;
	uint64_t loc = 0;
	int64_t off = INT64_MIN;
	unsigned sp = L->arch->dwarf_sp;
	int rc = gcfa_decode(init, init_len, sp, caf, daf, &loc, &off, *rows, &n, max);
	loc = 0;
	if (!rc && off != INT64_MIN)
		rc = gcfa_decode(instr, ilen, sp, caf, daf, &loc, &off, *rows, &n, max);
	if (rc || off == INT64_MIN || !n || (*rows)[0].pc != 0)
		return 0;     /* not a table mapscan models: that code has no CFA */
	return gtb_add_cfa(L->b, start, start + len, *rows, n);
}

static int load_cfa(struct loader *L)
{
	Dwarf_Error e = 0;
	Dwarf_Cie *cies = NULL;
	Dwarf_Fde *fdes = NULL;
	Dwarf_Signed ncie = 0, nfde = 0;
	if (!L->arch)
		return 0;     /* no CFA mapscan can use: frames are found by frame pointer */
	if (dw(L, dwarf_get_fde_list(L->dbg, &cies, &ncie, &fdes, &nfde, &e), &e) != DW_DLV_OK)
		return 0;     /* no .debug_frame: no CFA, frames are found by frame pointer */
	struct gcfa_row *rows = NULL;
	size_t cap = 0;
	int rc = 0;
	for (Dwarf_Signed i = 0; i < nfde && !rc; i++)
		rc = add_fde(L, fdes[i], &rows, &cap);
	free(rows);
	dwarf_fde_cie_list_dealloc(L->dbg, cies, ncie, fdes, nfde);
	return rc;
}

/* ---- the entry points --------------------------------------------------- */

static struct gtypes *finish_model(struct gtb *b, const char *path, struct ms_error *err)
{
	struct gtypes *g = gtb_finish(b, path, err);
	if (g && !gtypes_count(g)) {
		ms_err(err, MS_ENODWARF, "%s: its DWARF has no types (no .debug_info?); pass an "
		       "unstripped build with --exe, or its debug file with --debug-file", path);
		gtypes_free(g);
		return NULL;
	}
	return g;
}

/* The architecture of the ELF file on fd, or NULL. */
static const struct arch *file_arch(int fd)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return NULL;
	return arch_by_machine(eh.e_machine);
}

int dwarf_load_fd(int fd, const char *path, struct gtb *b, struct ms_error *err)
{
	return dwarf_load_part(fd, path, 0, 1, b, err);
}

int dwarf_load_part(int fd, const char *path, unsigned part, unsigned nparts, struct gtb *b,
		    struct ms_error *err)
{
	struct loader L = { .b = b, .arch = file_arch(fd) };
	Dwarf_Error e = 0;
	int rc;
	/* DWARF compressed with zstd: libdwarf gets it decompressed. */
	if (dwsec_has_zstd(fd)) {
		if (dwsec_init(fd, path, &L.dbg, &L.sec, err))
			return -1;
		rc = DW_DLV_OK;
	} else {
		rc = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &L.dbg, &e);
	}
	if (rc != DW_DLV_OK) {
		if (rc == DW_DLV_NO_ENTRY)
			ms_err(err, MS_ENODWARF, "%s: executable has no DWARF debug information "
			       "(built with -ldflags=-w or -s, or stripped); rebuild without them "
			       "or pass an unstripped build of the same program with --exe", path);
		else
			ms_err(err, MS_ENODWARF, "%s: cannot read DWARF: %s", path,
			       e ? dwarf_errmsg(e) : "unknown error");
		/* With no Dwarf_Debug yet, the error is the caller's to free. */
		if (e)
			dwarf_dealloc_error(NULL, e);
		return -1;
	}
	if (!nparts || part >= nparts)
		rc = ms_err(err, MS_EINTERNAL, "%s: DWARF part %u of %u", path, part, nparts);
	else
		rc = walk_units(&L, path, part, nparts, err);
	/* The call-frame tables go with the last part: after every unit, as
	 * in a load in one piece. */
	if (!rc && part + 1 == nparts && load_cfa(&L))
		rc = ms_err(err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
	free(L.ranges);
	free(L.pieces);
	free(L.origins);
	if (L.sec) {
		dwarf_object_finish(L.dbg, &e);
		dwsec_free(L.sec);
	} else {
		dwarf_finish(L.dbg, &e);
	}
	return rc;
}

/* ---- the sandbox ------------------------------------------------------
 *
 * gtypes_load runs dwarf_load_fd in the DWARF sandbox (sandbox.h): the
 * child loads into a builder and writes the builder's flat form to its
 * output; the parent rebuilds it with gtb_deserialize and gtb_finish,
 * which check every record as untrusted input. */

static int write_all_fd(void *arg, const void *p, size_t n)
{
	int fd = *(const int *)arg;
	const char *q = p;
	while (n) {
		ssize_t k = write(fd, q, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/* What a child loads: part `part` of `nparts` of the file at path. */
struct part_arg {
	const char *path;
	unsigned part, nparts;
};

/* In the child.  On failure the message goes at the start of the output
 * (over whatever part of a result was written), NUL-terminated. */
static int load_in_child(void *arg, int in, int out)
{
	const struct part_arg *a = arg;
	const char *path = a->path;
	struct ms_error err = { 0, "" };
	struct gtb *b = gtb_new();
	int rc;

	if (!b)
		rc = ms_err(&err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
	else if ((rc = dwarf_load_part(in, path, a->part, a->nparts, b, &err)) == 0 &&
		 gtb_serialize(b, write_all_fd, &out))
		rc = ms_err(&err, MS_EINTERNAL, "out of memory handing over the DWARF of %s", path);
	if (rc) {
		if (pwrite(out, err.msg, strlen(err.msg) + 1, 0) < 0)
			return MS_EINTERNAL;
		return err.code ? err.code : MS_EINTERNAL;
	}
	return 0;
}

/* What the parent says when the child did not hand over a result. */
static void child_failed(const char *path, const struct sandbox_result *res,
			 const struct sandbox_limits *lim, struct ms_error *err)
{
	char sig[16];

	switch (res->end) {
	case SANDBOX_FAILED: {
		/* The child's own message: untrusted like the rest of its output. */
		char msg[sizeof(err->msg)];
		size_t n = res->data ? strnlen((const char *)res->data, res->len) : 0;
		snprintf(msg, sizeof(msg), "%.*s", (int)(n < 900 ? n : 900),
			 res->data ? (const char *)res->data : "");
		int code = res->status == MS_EFORMAT || res->status == MS_EINTERNAL ? res->status
										     : MS_ENODWARF;
		if (!msg[0])
			ms_err(err, code, "%s: cannot read its DWARF", path);
		else
			ms_err(err, code, "%s", msg);
		return;
	}
	case SANDBOX_KILLED:
		if (!res->signal) {
			ms_err(err, MS_ENODWARF, "%s: cannot read its DWARF: the DWARF reader exited "
			       "with status %d without a result; the debug information is damaged or "
			       "hostile: rebuild the program, or pass an intact copy of it with --exe",
			       path, res->status);
			return;
		}
		ms_err(err, MS_ENODWARF, "%s: cannot read its DWARF: the DWARF reader died (%s: %s); "
		       "the debug information is damaged or was made to attack the reader: rebuild "
		       "the program, or pass an intact copy of it with --exe", path,
		       sandbox_signal_name(res->signal, sig),
		       res->signal == SIGSYS ? "it made a system call a parser never needs"
		       : res->signal == SIGXCPU ? "it ran out of CPU time"
		       : res->signal == SIGXFSZ ? "its result was too large"
		       : res->signal == SIGKILL ? "killed, out of memory?"
		       : "it crashed");
		return;
	case SANDBOX_TIMEOUT:
		ms_err(err, MS_ENODWARF, "%s: cannot read its DWARF: the DWARF reader ran for more "
		       "than %u s and was stopped; the debug information is damaged or hostile: "
		       "rebuild the program, or pass an intact copy of it with --exe", path,
		       lim->wall_seconds);
		return;
	default:
		if (res->status == SANDBOX_NO_FILTER)
			ms_err(err, MS_EINTERNAL, "%s: cannot read its DWARF safely here: the kernel "
			       "refused the DWARF reader's seccomp filter (a container's seccomp "
			       "profile or an old kernel); allow seccomp(2) and prctl(2) to mapscan",
			       path);
		else
			ms_err(err, MS_EINTERNAL, "%s: cannot start the DWARF reader's sandbox%s%s",
			       path, res->errno_ ? ": " : " (fork or memfd_create failed)",
			       res->errno_ ? strerror(res->errno_) : "");
		return;
	}
}

/* One builder of the n flat forms part[] (a load's parts, in order), or
 * NULL with err set. */
static struct gtb *parts_builder(const unsigned char *const *part, const size_t *len, unsigned n,
				 const char *path, struct ms_error *err)
{
	struct gtb *b = NULL;
	for (unsigned k = 0; k < n; k++) {
		struct gtb *p = gtb_deserialize(part[k], len[k], path, err);
		if (!p) {
			gtb_free(b);
			return NULL;
		}
		if (!b) {
			b = p;
		} else if (gtb_append(b, p)) {
			gtb_free(b);
			ms_err(err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
			return NULL;
		}
	}
	return b;
}

/* For tests/e2e/ecosystem.py, which sets MAPSCAN_TEST_CACHE_MIN: where
 * the model came from. */
static void cache_trace(const char *how)
{
	if (getenv("MAPSCAN_TEST_CACHE_MIN"))
		fprintf(stderr, "mapscan: test: DWARF model %s\n", how);
}

struct gtypes *gtypes_load(const char *path, struct ms_error *err)
{
	int e = 0;
	int fd = file_open_regular(path, "executable", &e, err);
	struct stat st;
	if (fd < 0)
		return NULL;
	unsigned char magic[4] = {0};
	if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4) || fstat(fd, &st) < 0) {
		close(fd);
		ms_err(err, MS_EFORMAT, "%s: not an ELF executable", path);
		return NULL;
	}
	/* The model is about as big as the (uncompressed) DWARF: 48 MB for
	 * the 42 MB gopls.  libdwarf needs some times the file's size. */
	uint64_t size = (uint64_t)st.st_size;
	struct sandbox_limits lim = {
		.max_output = size < (32ull << 20) ? 256ull << 20 : 8 * size,
		.max_memory = size < (128ull << 20) ? 4ull << 30 : 32 * size,
		/* A loop in libdwarf on a damaged file ends here.  The 42 MB
		 * gopls takes 0.9 s of the 20 s it is given. */
		.cpu_seconds = 10 + (unsigned)(size >> 22),
		.wall_seconds = 3 * (10 + (unsigned)(size >> 22)),
	};
	/* A model kept from an earlier run (dwcache.h): no DWARF to read. */
	struct dwcache cache;
	if (dwcache_open(&cache, &st)) {
		struct ms_error cerr;
		struct gtb *b = parts_builder(cache.part, cache.len, cache.nparts, path, &cerr);
		struct gtypes *g = b ? finish_model(b, path, &cerr) : NULL;
		if (g) {
			dwcache_close(&cache);
			close(fd);
			cache_trace("from the cache");
			return g;
		}
		dwcache_drop(&cache);     /* read the DWARF, and keep that */
	}
	/* Two parts side by side when there are two CPUs (a big binary's
	 * DWARF takes a second): each child loads the compile units of its
	 * part of .debug_info (see walk_units), and the parent appends the
	 * second's records to the first's, which makes the same model as one
	 * load. */
	unsigned nparts = ms_cpus() >= 2 ? MAX_PARTS : 1;
	/* libdwarf reads with lseek and read: each child needs a file
	 * offset of its own, an open of the same file (not a dup). */
	int fds[MAX_PARTS] = { fd };
	for (unsigned k = 1; k < nparts; k++) {
		char self[40];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		if ((fds[k] = open(self, O_RDONLY | O_CLOEXEC)) < 0) {
			nparts = k;
			break;
		}
	}
	struct part_arg args[MAX_PARTS];
	struct sandbox_child ch[MAX_PARTS];
	struct sandbox_result res[MAX_PARTS];
	int rc[MAX_PARTS];
	for (unsigned k = 0; k < nparts; k++) {
		args[k] = (struct part_arg){ path, k, nparts };
		rc[k] = sandbox_start(load_in_child, &args[k], fds[k], &lim, &ch[k], &res[k]);
	}
	for (unsigned k = 1; k < nparts; k++)
		close(fds[k]);
	close(fd);
	for (unsigned k = 0; k < nparts; k++)
		if (!rc[k])
			rc[k] = sandbox_wait(&ch[k], &lim, &res[k]);
	/* The first part that failed says why: the parts before the first
	 * child that failed are read first. */
	const unsigned char *part[MAX_PARTS];
	size_t len[MAX_PARTS];
	unsigned nok = 0;
	while (nok < nparts && !rc[nok]) {
		part[nok] = res[nok].data;
		len[nok] = res[nok].len;
		nok++;
	}
	struct gtb *b = NULL;
	struct gtypes *g = NULL;
	if (!nok || (b = parts_builder(part, len, nok, path, err))) {
		if (nok < nparts) {
			child_failed(path, &res[nok], &lim, err);
			gtb_free(b);
		} else if ((g = finish_model(b, path, err)) &&
			   dwcache_store(&cache, part, len, nparts)) {
			cache_trace("read from the DWARF");
		}
	}
	for (unsigned k = 0; k < nparts; k++)
		sandbox_result_free(&res[k]);
	dwcache_close(&cache);
	return g;
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

int gcfa_decode(const uint8_t *p, size_t n, unsigned sp_reg, uint64_t code_align,
		int64_t data_align, uint64_t *loc, int64_t *off, struct gcfa_row *rows,
		size_t *nrows, size_t max)
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
			if (read_uleb(p, n, &i, &r) || read_uleb(p, n, &i, &u) || r != sp_reg)
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
		case 0x14:                    /* val_offset reg, off */
			if (read_uleb(p, n, &i, &r) || read_uleb(p, n, &i, &u))
				return -1;
			break;
		case 0x11:                    /* offset_extended_sf reg, soff */
		case 0x15:                    /* val_offset_sf reg, soff */
			if (read_uleb(p, n, &i, &r) || read_sleb(p, n, &i, &sv))
				return -1;
			break;
		case 0x12:                    /* def_cfa_sf reg, soff */
			if (read_uleb(p, n, &i, &r) || read_sleb(p, n, &i, &sv) || r != sp_reg)
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

const char *dwarf_library_version(void)
{
	return dwarf_package_version();
}
