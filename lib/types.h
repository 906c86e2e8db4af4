/* The Go type model, loaded from an executable's DWARF.
 *
 * Consumers never see libdwarf: DIEs become small sequential ids (0 means
 * "no type"), members and variables live in flat arrays, and every name is
 * owned by the model, so gtypes_free releases everything at once.  The model
 * is read-only after gtypes_load. */
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

/* Load types and package-level variables from the executable at path.
 * MS_EOPEN if unreadable, MS_EFORMAT if not ELF, MS_ENODWARF if it has no
 * .debug_info.  Returns NULL on error. */
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

#endif
