/* The Go type model: types, package-level variables, functions with their
 * locals and call-frame tables.
 *
 * The model is separate from what fills it: types.c owns it, loaders fill
 * it through the builder of types_build.h -- dwarf.c from an executable's
 * DWARF, and one from a stripped binary's own type descriptors.  Consumers
 * never see libdwarf: types are small sequential ids (0 means "no type"),
 * members and variables live in flat arrays, and every name is owned by
 * the model, so gtypes_free releases everything at once.  The model is
 * complete and read-only once built (nothing is decoded later), so it can
 * be shared between threads.  The invariants it guarantees (ids in range,
 * members inside their struct, ...) are listed in types_build.h. */
#ifndef MAPSCAN_TYPES_H
#define MAPSCAN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef uint32_t type_id;

/* What a type is, from Go's point of view (DW_AT_go_kind where the linker
 * wrote one, else the DWARF tag). */
enum gkind {
	GK_NONE = 0,
	GK_BASE,      /* bool, ints, floats, complex, uintptr */
	GK_PTR,       /* *T; target = T, or 0 for unsafe.Pointer */
	GK_STRUCT,
	GK_ARRAY,     /* [count]elem */
	GK_SLICE,     /* struct {array *T; len, cap int}; elem = T */
	GK_STRING,
	GK_MAP,       /* typedef; key, elem; target = *hash<K,V> or *map<K,V> */
	GK_CHAN,
	GK_FUNC,
	GK_IFACE,
	GK_TYPEDEF,   /* a named non-struct type; target = underlying */
	GK_OTHER,
};

struct gmember {
	const char *name;
	type_id type;
	uint64_t offset;
	bool embedded;
};

struct gtype {
	enum gkind kind;
	uint8_t go_kind;          /* DW_AT_go_kind, 0 if absent */
	const char *name;         /* "" if anonymous */
	uint64_t size;            /* DW_AT_byte_size (8 for pointers) */
	type_id target;           /* PTR: pointee; TYPEDEF: underlying; MAP: header pointer type */
	type_id elem;             /* ARRAY, SLICE, CHAN, MAP: element/value type */
	type_id key;              /* MAP */
	uint64_t count;           /* ARRAY */
	uint32_t first_member;    /* STRUCT, SLICE, STRING: index into members */
	uint32_t nmembers;
	uint64_t runtime_type;    /* DW_AT_go_runtime_type (offset from runtime.types) */
};

struct gvar {
	const char *name;         /* "main.sessions" */
	uint64_t addr;            /* link-time address */
	type_id type;
};

struct gtypes;

/* Load the model from the DWARF of the executable at path (dwarf.c).
 * MS_EOPEN if unreadable or not a regular file, MS_EFORMAT if not ELF,
 * MS_ENODWARF if it has no usable DWARF.  Returns NULL on error. */
struct gtypes *gtypes_load(const char *path, struct ms_error *err);
void gtypes_free(struct gtypes *g); /* NULL is fine */

size_t gtypes_count(const struct gtypes *g);              /* ids are 1..count */
const struct gtype *gtypes_get(const struct gtypes *g, type_id id); /* NULL for 0/out of range */
const struct gmember *gtypes_members(const struct gtypes *g, type_id id, size_t *n);

/* First type with exactly this name, or 0. */
type_id gtypes_find(const struct gtypes *g, const char *name);

/* Member of struct `id` by name, or NULL. */
const struct gmember *gtypes_member(const struct gtypes *g, type_id id, const char *name);

/* Follow typedefs to the underlying type (bounded; cycles give 0). */
type_id gtypes_resolve(const struct gtypes *g, type_id id);

/* Package-level variables with a static address. */
const struct gvar *gtypes_vars(const struct gtypes *g, size_t *n);
const struct gvar *gtypes_var(const struct gtypes *g, const char *name);

/* Move the variables whose address is in [lo, hi) by delta bytes: the
 * types came from another build whose data lies elsewhere
 * (lib/debugfile.c verified by how much).  Before the model is shared. */
void gtypes_move_vars(struct gtypes *g, uint64_t lo, uint64_t hi, int64_t delta);

/* Does a value of this type hold any pointer (so its storage is scanned by
 * the GC)?  Cached. */
bool gtypes_has_pointers(const struct gtypes *g, type_id id);

/* Can a map be reached from a value of this type, following pointers,
 * struct fields, arrays, slices, map keys/values, channel buffers and
 * interfaces (whose dynamic value can be anything)?  Cached; used to skip whole subgraphs
 * ([]byte, strings, pointer-free structs). */
bool gtypes_may_hold_map(const struct gtypes *g, type_id id);

/* The type whose DW_AT_go_runtime_type is off (a type descriptor's offset
 * from runtime.types), or 0.  Named types win over typedef aliases. */
type_id gtypes_by_runtime_type(const struct gtypes *g, uint64_t off);

/* Is a value of this type stored directly in an interface's data word
 * (pointer-shaped: pointers, maps, chans, funcs, and one-field structs or
 * one-element arrays of those), rather than pointed to by it? */
bool gtypes_direct_iface(const struct gtypes *g, type_id id);

/* Unique DWARF version of the first compile unit (4 or 5), for messages. */
int gtypes_dwarf_version(const struct gtypes *g);

/* ---- functions, their locals and frames --------------------------------
 *
 * Every function with code (DW_TAG_subprogram with a pc range), with what
 * lies inside it -- its locals' locations, its closure variables -- and the
 * call-frame tables of .debug_frame, all loaded with the model.  All pcs
 * are link-time: callers subtract target_exe_bias. */

struct gfunc {
	const char *name;         /* "main.worker", "main.mk.func1" */
	uint64_t lowpc, highpc;   /* [lowpc, highpc); lowpc is the entry */
};

/* All functions, sorted by lowpc. */
const struct gfunc *gtypes_funcs(const struct gtypes *g, size_t *n);

/* The function whose code holds pc, or NULL. */
const struct gfunc *gtypes_func_at(const struct gtypes *g, uint64_t pc);

/* A variable captured by a closure: it lives at `offset` bytes into the
 * closure object (a funcval: {fn uintptr; captured variables...}) whose fn
 * is the closure function's entry pc.  A name starting with '&' means the
 * variable was moved to the heap and the closure holds a pointer to it
 * (type is then that pointer type). */
struct gclosure_var {
	const char *name;
	type_id type;
	uint64_t offset;
};

/* Closure variables of f (DW_AT_go_closure_offset, Go 1.23+), in DWARF
 * order; NULL with *n = 0 when f has none or DWARF does not say (Go < 1.23).
 * Owned by the model. */
const struct gclosure_var *gtypes_closure_vars(const struct gtypes *g, const struct gfunc *f,
					       size_t *n);

/* Where one piece of a variable is at some pc. */
enum gpiece_kind {
	GPIECE_CFA,               /* in memory at CFA + off */
	GPIECE_REG,               /* in DWARF register off */
	GPIECE_NONE,              /* optimized out, a computed value, or an expression mapscan does not follow */
};

struct gpiece {
	uint8_t kind;             /* enum gpiece_kind */
	int64_t off;
	uint64_t size;            /* bytes; 0 = the whole variable (no DW_OP_piece) */
};

/* A local variable or parameter of a function, at one pc. */
struct glocal {
	const char *name;         /* as DWARF names it; "&x": x was moved to the heap and
				   * this slot holds a pointer to it (type is *T) */
	type_id type;
	bool param;               /* DW_TAG_formal_parameter (also results, "~r0") */
	const struct gpiece *pieces;
	unsigned npieces;
};

typedef void (*glocal_fn)(void *arg, const struct glocal *v);

/* Call fn for every local and parameter of f (including those of its
 * lexical blocks and of functions inlined into it) that DWARF gives a
 * location at pc.  Returns how many, or -1 if f's DWARF could not be
 * decoded.  *v lasts for the call; its name and pieces until gtypes_free. */
int gtypes_locals_at(const struct gtypes *g, const struct gfunc *f, uint64_t pc,
		     glocal_fn fn, void *arg);

/* Call fn for every local and parameter of f, wherever DWARF places it
 * (or nowhere: an optimized build's locals often have no location), with
 * no pieces.  Returns how many, or -1 as gtypes_locals_at. */
int gtypes_locals_all(const struct gtypes *g, const struct gfunc *f, glocal_fn fn, void *arg);

/* The CFA at pc (in f) is SP + *off (.debug_frame).  -1 when unknown. */
int gtypes_cfa_offset(const struct gtypes *g, const struct gfunc *f, uint64_t pc, int64_t *off);

/* ---- decoders, exposed for unit tests ---------------------------------- */

/* One operation of a DWARF location expression, as libdwarf splits it. */
struct gloc_op {
	uint8_t atom;
	uint64_t op1, op2;
};

/* Turn a location expression into at most max pieces.  fb_is_cfa: the
 * function's frame base is DW_OP_call_frame_cfa (Go always says so), which
 * is what gives DW_OP_fbreg a meaning here.  A whole-variable location is
 * one piece of size 0; an empty expression is one GPIECE_NONE piece.
 * Returns the number of pieces, or -1 if there are more than max. */
int gloc_decode(const struct gloc_op *ops, size_t n, bool fb_is_cfa, struct gpiece *out,
		size_t max);

/* One row of a CFA table: from pc (an offset from the FDE start) on, the
 * CFA is SP + off. */
struct gcfa_row {
	uint64_t pc;
	int64_t off;
};

/* Run call-frame instructions (DWARF 6.4.2), keeping only the CFA rule,
 * which must stay relative to the stack pointer, DWARF register sp_reg
 * (the architecture's, arch.h: 7 on amd64, 31 on arm64).  *loc is the current
 * location (offset from the FDE start) and *off the current CFA offset; both
 * carry over from the CIE's initial instructions to the FDE's.  Appends
 * rows to rows[*nrows..max).  Returns 0, or -1 for an instruction that
 * changes the CFA in a way not modelled, or too many rows. */
int gcfa_decode(const uint8_t *p, size_t n, unsigned sp_reg, uint64_t code_align,
		int64_t data_align, uint64_t *loc, int64_t *off, struct gcfa_row *rows,
		size_t *nrows, size_t max);

#endif
