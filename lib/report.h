/* The report model: everything mapscan found, in one structure that every
 * formatter (text, JSON, TUI) reads.  Walkers fill it; formatters never
 * compute figures of their own.
 *
 * The report owns all its strings and arrays; report_free releases them. */
#ifndef MAPSCAN_REPORT_H
#define MAPSCAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum map_layout { LAYOUT_UNKNOWN = 0, LAYOUT_CLASSIC, LAYOUT_SWISS };

/* Figures of one map; see docs/figures.md for the exact definitions. */
struct map_figures {
	uint64_t count;
	uint64_t live_slots;
	uint64_t buckets;
	uint64_t old_buckets;
	uint64_t overflow_buckets;
	uint64_t spare_overflow_buckets;
	uint64_t empty_buckets;
	uint64_t tombstones;
	uint64_t tables;
	uint64_t capacity_slots;
	bool growing;
	uint64_t retained_bytes;
	uint64_t ideal_bytes;
	uint64_t reclaimable_bytes;
};

/* A picture of a map's storage, kept only when asked for (the TUI's detail
 * screen): one cell per bucket of the current array (classic; the cell
 * summarises the bucket and its overflow chain) or per group (Swiss, tables
 * one after the other).  Cell bits: 0-3 live slots (capped at 15),
 * 4 some slot is a tombstone, 5-7 overflow buckets in the chain (capped
 * at 7; always 0 for Swiss). */
#define CELL_LIVE(c) ((unsigned)(c) & 0x0f)
#define CELL_TOMB(c) (((unsigned)(c) >> 4) & 1)
#define CELL_CHAIN(c) (((unsigned)(c) >> 5) & 7)
#define CELL_MAKE(live, tomb, chain) \
	((uint8_t)(((live) > 15 ? 15 : (live)) | ((tomb) ? 0x10 : 0) | (((chain) > 7 ? 7 : (chain)) << 5)))

struct map_storage {
	uint8_t *cells;
	uint64_t ncells;
	uint64_t *table_start;   /* Swiss: first cell of each table; ntables entries */
	uint64_t ntables;
	uint64_t chain_hist[9];  /* classic: buckets with 0..7, 8+ overflow buckets */
	uint64_t fill_hist[9];   /* buckets (classic: head bucket only) or groups with 0..8 live slots */
};

struct map_entry {
	uint64_t address;        /* of the header (hmap / maps.Map) */
	char *type;              /* Go type, e.g. "map[string]*main.Session" */
	char *key_type, *elem_type;
	enum map_layout layout;
	struct map_figures fig;
	char **roots;            /* paths from globals, e.g. "main.srv.cache": the
				  * nprecise precise ones first, then conservative ones */
	size_t nroots;
	size_t nprecise;         /* roots[0..nprecise) are precise */
	uint64_t more_roots;     /* further paths seen but not kept */
	char **warnings;         /* e.g. "count 10 but 9 live slots" */
	size_t nwarnings;
	struct map_storage *storage; /* NULL unless requested */
	/* How mapscan knows of the map.  A map no root reaches was found by
	 * the heap scan alone: garbage the sweeper has not freed yet, or held
	 * through memory mapscan cannot read as pointers. */
	bool unreachable;
	int8_t garbage;          /* 1: the last GC found it dead; 0: no; -1: cannot tell */
	bool conservative;       /* every root is a conservative one (an untyped word
				  * that looks like a pointer to it) */
	bool on_stack;           /* the header is in a goroutine's stack */
	bool types_interned;     /* type, key_type, elem_type belong to the report's
				  * string pool (report_intern), not to the entry */
	bool type_guessed;       /* the type was not proven: `type` is the best
				  * candidate of type_candidates map types whose
				  * storage has this shape (figures are exact for all) */
	uint32_t type_candidates;
	uint32_t group;          /* 1 + index into the report's groups; 0: none (lib/group.h) */
	uint8_t nsample_keys;    /* keys in sample_keys (lib/keys.h) */
	const char *sample_keys; /* nsample_keys keys as Go prints them, each ended by a NUL
				  * ("\"a\"\0\"b\"\0"); kept by the report (report_keep) */
};

/* The i-th sample key of m (i < m->nsample_keys). */
static inline const char *map_sample_key(const struct map_entry *m, unsigned i)
{
	const char *k = m->sample_keys;
	while (k && i--)
		k += strlen(k) + 1;
	return k;
}

/* How the maps are grouped (lib/group.h). */
enum group_by { GROUP_NONE = 0, GROUP_OWNER, GROUP_TYPE };

/* Maps held the same way, summed (lib/group.h report_group). */
struct map_group {
	const char *pattern;     /* owner pattern, e.g. "main.shards[*].m"; NULL when grouped
				  * by type or for maps nothing reaches (interned) */
	const char *type;        /* the maps' Go type, NULL if unknown (interned) */
	bool unreachable;        /* maps nothing reaches: never grouped with reachable ones */
	uint64_t maps;
	uint64_t count, retained_bytes, ideal_bytes, reclaimable_bytes;
	size_t biggest;          /* index into maps of the member with most reclaimable bytes */
};

struct report {
	char *source;            /* core file path */
	char *source_kind;       /* "core" */
	const char *source_compression; /* "zstd", "gzip", "xz", "lz4"; NULL: plain (static string) */
	char *executable;        /* executable path */
	char *go_version;        /* runtime.buildVersion, e.g. "go1.26.8" */
	enum map_layout layout;  /* layout the binary uses */
	struct map_entry *maps;
	size_t nmaps, capmaps;
	char **warnings;         /* report-wide warnings */
	size_t nwarnings;
	/* totals over reachable maps, filled by report_finish */
	uint64_t total_retained, total_ideal, total_reclaimable, total_count;
	/* the same over maps no root reaches (reported apart) */
	uint64_t unreachable_maps, unreachable_retained, unreachable_reclaimable;
	/* how the maps were found: goroutines whose stacks were read, and
	 * whether the heap's span table could be enumerated */
	uint64_t goroutines;
	bool heap_scanned;
	/* Map storage in the heap that no map found owns (allocations whose
	 * type the allocator recorded as a bucket or group array, Go 1.22+):
	 * maps mapscan could not reach or recognise. */
	uint64_t unclaimed_storage, unclaimed_objects;
	bool unclaimed_known;    /* false: the heap records no types (Go < 1.22) or was not read */
	struct strpool *pool;    /* interned strings (report_intern) */
	struct arena *arena;     /* bytes kept for the report's lifetime (report_keep) */
	/* the Go heap from the runtime's span table; heap_known is false when
	 * that could not be read */
	bool heap_known;
	/* A garbage collection was marking when the memory was read: objects
	 * that died since the last one are still allocated, so maps nothing
	 * reaches and storage no map owns are mostly such garbage. */
	bool gc_running;
	uint64_t heap_in_use;    /* bytes of in-use heap spans */
	uint64_t heap_objects;   /* bytes of allocated objects in them */
	/* A live process (source_kind "process", source "/proc/PID"); all
	 * zero for a core. */
	int pid;
	bool stopped;            /* its threads were stopped while mapscan read it */
	uint64_t paused_ns;      /* how long they were stopped */
	uint64_t threads_stopped;
	bool inconsistent;       /* not read at one instant: --no-stop, or the pause was cut short */
	const char *saved_core;  /* --save-core file written, or NULL; not owned (the caller's) */
	/* A core that lacks memory mapscan reads (coredump_filter): what it
	 * found is reported, but maps held in what is missing are not. */
	bool partial;
	uint64_t missing_bytes;  /* of the executable's variables and the in-use heap */
	uint64_t cut_bytes;      /* the core file is cut short: bytes its headers call for
				  * past its end (a size limit, a full disk); partial too */
	/* Groups (report_group); none until it is called. */
	enum group_by group_by;
	struct map_group *groups;
	size_t ngroups;
	/* Where the types came from (lib/debugfile.h). */
	char *debug_info;        /* the file whose DWARF was read; NULL: none (names are limited) */
	const char *debug_found_by; /* "executable", "--exe", "--debug-file", ".gnu_debuglink", "build-id" */
	bool debug_other_build;  /* another build of the program whose layout was verified */
	bool names_limited;      /* no DWARF at all: types from the runtime's descriptors,
				  * variables named by address (lib/typedesc.h) */
};

const char *layout_name(enum map_layout l); /* "classic", "swiss", "unknown" */

/* Make room for n maps in all, so that a scan that knows how many to
 * expect does not copy a growing array (on a million maps the copies
 * were the peak of the resident set).  Returns 0, or -1 on ENOMEM. */
int report_reserve(struct report *r, size_t n);

/* Append a map; returns it (zeroed but for address) or NULL on ENOMEM. */
struct map_entry *report_add_map(struct report *r, uint64_t address);
/* Keeps ≤ 32 distinct paths, precise ones before conservative ones (a
 * precise path displaces the last conservative one when the list is
 * full); the rest are counted in more_roots. */
int map_add_root(struct map_entry *m, const char *path, bool conservative);
int map_add_warning(struct map_entry *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int report_add_warning(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A copy of s owned by the report, shared by every caller that interns
 * the same string (a million maps have a few dozen types).  NULL on
 * ENOMEM. */
const char *report_intern(struct report *r, const char *s);

/* A copy of the n bytes at p, kept as long as the report (freed by
 * report_free, not by map_entry_clear): many small pieces, one
 * allocation per 64 KiB.  NULL on ENOMEM. */
const char *report_keep(struct report *r, const void *p, size_t n);

/* The same into a list of chunks of one's own (*a, NULL at first), for a
 * thread that must not touch the report; report_adopt then hands the
 * chunks to the report (thread-safe), which frees them with the rest. */
const char *arena_keep(struct arena **a, const void *p, size_t n);
void report_adopt(struct report *r, struct arena *a);

/* Sum the totals. */
void report_finish(struct report *r);

/* Free what an entry owns and zero it (for entries the report does not
 * hold too, such as a walker's scratch entry). */
void map_entry_clear(struct map_entry *m);

void report_free(struct report *r); /* frees contents, not r; NULL is fine */

#endif
