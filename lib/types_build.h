/* Building the type model of types.h: the one way a loader turns what it
 * reads into a struct gtypes.
 *
 * Loaders: dwarf.c (an executable's DWARF), the loader that reads a
 * stripped binary's own runtime type descriptors and pclntab, and the
 * deserializer that takes the model back from the DWARF sandbox
 * (gtb_deserialize below).  None of them sees the model's internals, and
 * none needs to check what it hands over: gtb_finish is the model's single
 * validation.  It checks every reference, index, count, range and name a
 * loader gave, so a loader reading hostile input only checks its own reads
 * of that input (lengths, offsets in its file), never the model's
 * invariants.
 *
 * Usage:
 *
 *     struct gtb *b = gtb_new();
 *     type_id t = gtb_add_type(b, key, &(struct gtb_type){ GK_STRUCT, ... });
 *     gtb_add_member(b, t, "next", key_of_ptr_type, 0, false);
 *     ...
 *     struct gtypes *g = gtb_finish(b, path, &err);   // consumes b
 *
 * Keys.  A loader names each type by a key of its choosing (a DIE offset,
 * a type descriptor's address): nonzero and unique.  Every reference to a
 * type (a pointer's target, a member's type, a variable's type, ...) is
 * given as a key, which may belong to a type added later: references are
 * resolved in gtb_finish, so forward references and cycles need nothing
 * special.  A key no type has resolves to 0, "no type" -- a reference into
 * something the loader chose not to model.  Key 0 is "no type" too.
 *
 * Ids.  gtb_add_type returns the type's id at once (1, 2, ... in the order
 * types are added, and they stay those after gtb_finish), so a loader can
 * add a type and fill in its fields and members later (gtb_set_type).
 * "First" in types.h (gtypes_find) means first added.
 *
 * Errors.  Adding functions return 0, or -1 (0 for gtb_add_type) when
 * memory runs out; the failure is also remembered, and gtb_finish then
 * fails, so a loader may check only gtb_finish.  Strings are copied.
 *
 * Invariants gtb_finish establishes (and users of types.h may rely on):
 *   - every type id in the model is 0 or names a type; every name is a
 *     NUL-terminated string owned by the model;
 *   - a type's members are contiguous, in the order they were added, and
 *     only structs, slices and strings have members; each member lies
 *     inside its struct: offset + size of the member's type <= struct size;
 *   - an array's count times its element's size is its size (when the
 *     element's size is known), so neither overflows;
 *   - pointers, maps, channels and functions are 8 bytes, interfaces 16;
 *   - functions are sorted by entry pc and do not overlap (a duplicate
 *     entry keeps the first added; an overlap is cut at the next entry);
 *   - every local has at least one pc range [lo, hi) with lo < hi and at
 *     least one piece, every piece has a known kind;
 *   - call-frame tables do not overlap, their rows ascend and the first row
 *     is at the table's start.
 * Anything else is refused with one line in err (MS_ENODWARF, naming
 * `what` -- the executable -- and what is wrong). */
#ifndef MAPSCAN_TYPES_BUILD_H
#define MAPSCAN_TYPES_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "types.h"

struct gtb;

struct gtb *gtb_new(void);          /* NULL when out of memory */
void gtb_free(struct gtb *b);       /* abandon a build; NULL is fine */

/* ---- types, members, variables ---------------------------------------- */

/* A type as a loader describes it: struct gtype with keys for references. */
struct gtb_type {
	enum gkind kind;
	uint8_t go_kind;          /* Go's abi.Kind (DW_AT_go_kind), 0 if unknown */
	const char *name;         /* NULL or "" if anonymous */
	uint64_t size;            /* bytes; PTR, MAP, CHAN, FUNC are made 8, IFACE 16 */
	uint64_t count;           /* ARRAY: number of elements */
	uint64_t runtime_type;    /* offset of its type descriptor from runtime.types, 0 if none */
	uint64_t target;          /* key: PTR pointee, TYPEDEF underlying, MAP header pointer */
	uint64_t elem;            /* key: ARRAY, SLICE, CHAN, MAP element/value */
	uint64_t key;             /* key: MAP key type */
};

/* Add a type under key.  Returns its id, or 0 when out of memory. */
type_id gtb_add_type(struct gtb *b, uint64_t key, const struct gtb_type *t);

/* Replace the description of type id (its key stays).  -1 if id was not
 * returned by gtb_add_type. */
int gtb_set_type(struct gtb *b, type_id id, const struct gtb_type *t);

/* Append a member to struct (or slice, string) `owner`, at offset bytes.
 * Members of different types may be added in any interleaving. */
int gtb_add_member(struct gtb *b, type_id owner, const char *name, uint64_t type_key,
		   uint64_t offset, bool embedded);

/* A package-level variable at link-time address addr. */
int gtb_add_var(struct gtb *b, const char *name, uint64_t addr, uint64_t type_key);

/* The DWARF version to report (gtypes_dwarf_version); 0 for none. */
void gtb_set_dwarf_version(struct gtb *b, int version);

/* ---- functions ---------------------------------------------------------- */

/* Handle of a function being built (not its index in the model: functions
 * are sorted in gtb_finish). */
typedef uint32_t gtb_func;

/* A function with code at [lowpc, highpc), link-time pcs.  *f receives
 * its handle. */
int gtb_add_func(struct gtb *b, const char *name, uint64_t lowpc, uint64_t highpc,
		 gtb_func *f);

/* One pc range of a local and where the local is over it. */
struct gtb_range {
	uint64_t lo, hi;          /* [lo, hi), link-time pcs */
	const struct gpiece *pieces; /* copied */
	size_t npieces;           /* >= 1 (one piece of size 0: the whole variable) */
};

/* A local variable or parameter of f (of f itself, its lexical blocks and
 * the calls inlined into it), with every pc range where its location is
 * known.  name as types.h's struct glocal says ("&x" for a heap-moved x). */
int gtb_add_local(struct gtb *b, gtb_func f, const char *name, uint64_t type_key, bool param,
		  const struct gtb_range *ranges, size_t nranges);

/* A variable captured by closure f, at offset bytes into the closure
 * object (see struct gclosure_var). */
int gtb_add_closure_var(struct gtb *b, gtb_func f, const char *name, uint64_t type_key,
			uint64_t offset);

/* f's locals could not be decoded: gtypes_locals_at says -1 for it (the
 * caller falls back to a conservative scan of its frame) rather than
 * reporting none. */
int gtb_func_locals_unknown(struct gtb *b, gtb_func f);

/* The call-frame table of the code at [lo, hi) (an FDE; usually one
 * function): from lo + rows[i].pc on, the CFA is SP + rows[i].off.  Rows
 * ascend and rows[0].pc is 0. */
int gtb_add_cfa(struct gtb *b, uint64_t lo, uint64_t hi, const struct gcfa_row *rows, size_t n);

/* ---- the end ------------------------------------------------------------ */

/* Check everything, resolve keys, build the indexes.  Consumes b (also on
 * failure).  what names the input in messages (the executable's path).
 * Returns the model, or NULL with err filled (MS_ENODWARF for an
 * inconsistent input, MS_EINTERNAL when out of memory). */
struct gtypes *gtb_finish(struct gtb *b, const char *what, struct ms_error *err);

/* ---- the flat form ------------------------------------------------------
 *
 * A build, as it stands before gtb_finish, in one flat buffer: what the
 * DWARF sandbox's child sends its parent.  The parent treats it as
 * untrusted input: gtb_deserialize checks the buffer's own structure
 * (header, counts, that every array fits), copies it, and gtb_finish then
 * checks every id, offset, count and string in it, as for any loader. */

/* Write b's flat form with write_fn (called with consecutive pieces;
 * returns 0 or -1).  b is unchanged.  Returns 0, or -1 if write_fn failed
 * or b had run out of memory. */
int gtb_serialize(const struct gtb *b, int (*write_fn)(void *arg, const void *p, size_t n),
		  void *arg);

/* A new build from a flat form of len bytes (not kept).  NULL with err
 * filled (MS_ENODWARF naming what) if the buffer is not a well-formed flat
 * form, MS_EINTERNAL when out of memory. */
struct gtb *gtb_deserialize(const void *buf, size_t len, const char *what, struct ms_error *err);

/* Append what src holds to dst, as if src's loader had gone on adding to
 * dst (ids and handles follow dst's; keys are shared): how the parts of one
 * file loaded side by side (dwarf.c) become one builder.  Consumes src.
 * Returns 0, or -1 when the records would be too many or memory runs out
 * (dst then fails gtb_finish).  Nothing is checked: gtb_finish does. */
int gtb_append(struct gtb *dst, struct gtb *src);

#endif
