/* What mapscan knows about the target's Go runtime: its version, which map
 * implementation it uses, the allocator's size classes, and the layout of
 * each map type (all from DWARF; see lib/goruntime.c for the few facts DWARF
 * does not carry).  Walkers (classic.c, swiss.c) read these descriptors and
 * never look at DWARF themselves. */
#ifndef MAPSCAN_GORUNTIME_H
#define MAPSCAN_GORUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "report.h"
#include "target.h"
#include "types.h"

/* A Go version, from runtime.buildVersion ("go1.27.3-X:mapsplitgroup"). */
struct go_version {
	int major, minor, patch;
	bool known;                /* false: unreadable or not "go1.N" */
};

/* What differs between Go versions and is not in DWARF (goruntime.c holds
 * the one table of these). */
struct go_facts {
	int first_minor, last_minor;   /* Go 1.first .. 1.last */
	/* classic maps grow past loadFactorNum/loadFactorDen entries per bucket */
	unsigned classic_load_num, classic_load_den;
	/* Swiss maps: tables hold at most max_avg_group_load/group_slots full,
	 * and at most max_table_capacity slots */
	unsigned swiss_max_avg_group_load, swiss_group_slots, swiss_max_table_capacity;
	const char *size_classes[2];   /* where class_to_size lives, by preference */
};

/* Parse "go1.N[.P]..." anywhere in s.  Returns 0, or -1 (v->known false). */
int goversion_parse(const char *s, struct go_version *v);

/* The facts for version v (the newest row when v is unknown).  Never NULL. */
const struct go_facts *goversion_facts(const struct go_version *v);

struct goruntime {
	char version[64];          /* "go1.26.8", from runtime.buildVersion */
	struct go_version go;      /* parsed from version */
	const struct go_facts *facts;  /* never NULL after goruntime_init */
	enum map_layout layout;    /* what the binary's maps use */
	bool alloc_headers;        /* Go 1.22+: 8-byte malloc header on big scan objects */
	uint16_t class_to_size[128];
	unsigned nclasses;         /* 0 if the table could not be read */
	/* Type descriptors live in [types, etypes) of the main module; an
	 * interface's type word minus `types` is a DIE's DW_AT_go_runtime_type. */
	uint64_t types, etypes;    /* 0 if unknown: interfaces are then not followed */
	uint64_t itab_type_off;    /* offset of the concrete type in an itab */
};

/* Everything a walker needs about one map type. Offsets in bytes. */
struct maptype {
	type_id type;              /* the map typedef (GK_MAP); 0 for a map type only the
				    * runtime's type descriptors know (then name is set) */
	const char *name, *key_name, *elem_name; /* NULL: the DWARF types' names */
	type_id key, elem;         /* Go key and value types */
	type_id bucket;            /* classic bucket / Swiss group struct (its
				    * descriptor types a heap bucket array) */
	enum map_layout layout;
	uint64_t hdr_size;
	/* header fields (classic: hmap; Swiss: maps.Map) */
	uint64_t off_count;        /* count / used */
	/* classic */
	uint64_t off_flags, off_B, off_buckets, off_oldbuckets, off_extra;
	uint64_t bucket_size, keys_off, vals_off, ovf_off, key_stride, val_stride;
	uint64_t extra_size, off_x_overflow, off_x_oldoverflow, off_x_next;
	bool noscan;               /* bucket array holds no pointers */
	/* Swiss */
	uint64_t off_dirptr, off_dirlen;
	uint64_t table_size, t_used, t_capacity, t_index, t_groups, t_mask;
	uint64_t group_size, ctrl_off, key_off, elem_off;
	/* slot i: key at key_off + i*key_stride, elem at elem_off + i*val_stride */
	/* both */
	bool key_indirect, elem_indirect;
};

/* Read version and layout.  MS_ENOTGO if the image is not a Go program. */
int goruntime_init(struct goruntime *rt, const struct gtypes *g, const struct target *t,
		   struct ms_error *err);

/* Describe map type `map_type` (a GK_MAP typedef).  Returns -1 with a
 * message in err (MS_ENOTGO) if its DWARF does not have the expected shape. */
int maptype_describe(struct maptype *mt, const struct gtypes *g, type_id map_type,
		     struct ms_error *err);

/* Size Go's allocator gives a request of n bytes (runtime.roundupsize). */
uint64_t goruntime_roundup(const struct goruntime *rt, uint64_t n, bool noscan);

#endif
