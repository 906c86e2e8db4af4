/* The Go runtime's own type descriptors (internal/abi.Type, abi.MapType and
 * their older names), read from the target's memory.
 *
 * DWARF describes the types the compiler kept variables of; the runtime
 * keeps a descriptor for every type a program uses at run time, in
 * [moduledata.types, etypes).  A map the compiler put in a goroutine's
 * frame without a DWARF variable (an optimized build's non-escaping
 * make(map[int]int)) may have no DWARF map type at all, but its type has a
 * descriptor.  This module finds the map type descriptors and describes
 * each well enough to walk the map: key, elem and group or bucket sizes,
 * slot offsets, indirect storage, and the names.
 *
 * The descriptors' own layout comes from DWARF (struct rtype_layout is
 * filled from the runtime's abi.Type / abi.MapType members), so a binary
 * without DWARF can use the same reader with a layout from elsewhere.
 * Everything read from the target is untrusted and checked. */
#ifndef MAPSCAN_RTYPE_H
#define MAPSCAN_RTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goruntime.h"
#include "target.h"
#include "types.h"

/* Where the fields of the runtime's type descriptors are (byte offsets). */
struct rtype_layout {
	bool ok;                       /* the map descriptor layout is known */
	uint64_t type_size;            /* sizeof(abi.Type): a map descriptor's fields follow */
	uint64_t size, ptrbytes, tflag, kind, str;
	enum map_layout layout;        /* which map descriptor this is */
	uint64_t key, elem, group;     /* *Type fields of the map descriptor */
	uint64_t flags;                /* u32 */
	/* classic: u8 KeySize, u8 ValueSize, u16 BucketSize */
	uint64_t keysize, valuesize, bucketsize;
	/* Swiss: uintptr GroupSize; up to 1.26 SlotSize and ElemOff; 1.27
	 * KeysOff, KeyStride, ElemsOff, ElemStride */
	uint64_t groupsize, slotsize, elemoff;
	uint64_t keysoff, keystride, elemsoff, elemstride;
	bool strides;                  /* 1.27: the four stride fields exist */
	uint64_t map_size;             /* sizeof the map descriptor */
};

/* Fill L from the DWARF of the runtime (the descriptor structs are
 * runtime types, present in every Go binary with DWARF).  L->ok is false
 * when they cannot be found. */
void rtype_layout_init(struct rtype_layout *L, const struct gtypes *g, enum map_layout layout);

/* A map type descriptor, described. */
struct rmap {
	uint64_t desc;                 /* the map type's descriptor */
	uint64_t key, elem, group;     /* descriptors of K, V and the bucket or group type */
	uint64_t key_size, elem_size;  /* Go sizes of K and V */
	uint64_t group_size;           /* bucket (classic) or group (Swiss) size */
	uint64_t key_off, elem_off;    /* first slot's key and elem, from the bucket/group start */
	uint64_t key_stride, elem_stride;
	bool key_indirect, elem_indirect;
	bool noscan;                   /* the bucket/group holds no pointers */
};

/* Describe the map type descriptor at desc.  -1 when it is not one or does
 * not make sense (sizes that do not fit together). */
int rtype_map(const struct target *t, const struct goruntime *rt, const struct rtype_layout *L,
	      uint64_t desc, struct rmap *m);

/* The Go name of the type described at desc ("map[int]int",
 * "*main.Session") into buf (NUL-terminated, cut to n-1 bytes).  -1 when
 * unreadable. */
int rtype_name(const struct target *t, const struct goruntime *rt, const struct rtype_layout *L,
	       uint64_t desc, char *buf, size_t n);

/* Call fn for every map type descriptor in [rt->types, rt->etypes), found
 * by their shape (kind Map, and key, elem and group descriptors that agree
 * with the map's own sizes), so that it works whatever list of types the
 * runtime keeps (typelinks up to Go 1.26, typedesclen in 1.27).  Returns
 * how many. */
typedef void (*rmap_fn)(void *arg, const struct rmap *m);
size_t rtype_each_map(const struct target *t, const struct goruntime *rt,
		      const struct rtype_layout *L, rmap_fn fn, void *arg);

#endif
