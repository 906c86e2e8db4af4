/* The interactive browser (mapscan --tui): the owner groups, the maps (of
 * one group, or all), and a detail screen with everything about one map and
 * a picture of its storage.
 *
 * tui.c is the only file that includes curses.  The logic that needs no
 * terminal (choosing and sorting rows, summarising a storage picture into
 * screen cells, histogram bars, fitting untrusted names into a width) is
 * declared here too, so unit tests can run it without one.
 *
 * Like every formatter, the TUI only reads the report. */
#ifndef MAPSCAN_TUI_H
#define MAPSCAN_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "format.h"
#include "report.h"

struct tui_opts {
	enum sort_key sort;        /* initial order of the list (--sort) */
	uint64_t min_reclaimable;  /* hide smaller maps (--min-reclaimable) */
};

/* 0 when stdin and stdout are a terminal curses can drive; otherwise -1
 * with err filled (MS_EUSAGE).  Cheap: call it before a long analysis. */
int tui_check_terminal(struct ms_error *err);

/* Browse r until the user quits.  The terminal is restored on every way
 * out: return, error, exit() and fatal signals.  Returns 0, or -1 with err
 * filled when the terminal cannot be set up or memory runs out. */
int tui_run(const struct report *r, const struct tui_opts *o, struct ms_error *err);

/* ---- Rows of the map list --------------------------------------------- */

enum tui_col {
	TUI_COL_RECLAIM,           /* reclaimable bytes, largest first */
	TUI_COL_RETAINED,          /* retained bytes, largest first */
	TUI_COL_COUNT,             /* entries, most first */
	TUI_COL_CAPACITY,          /* slots, most first */
	TUI_COL_FILL,              /* count / capacity, emptiest first */
	TUI_COL_PATH,              /* first holder path as shown, byte order */
	TUI_COL_TYPE,              /* Go type as shown, byte order */
	TUI_NCOLS
};

/* The maps of a report as rows: every map at or above a reclaimable
 * threshold, sorted by one column, then narrowed by a scope (one group;
 * maps nothing reaches hidden unless asked for) and a filter. */
struct tui_rows {
	const struct report *r;
	char **type;               /* per map: escaped type (owned) */
	char **path;               /* per map: escaped first root, "" if none */
	char **hay;                /* per map: lowercase "type\nroot\nroot..." */
	size_t *all, nall;         /* indices into r->maps, sorted */
	size_t *shown, nshown;     /* the subset of all in scope and matching the filter */
	size_t *scratch;           /* room for sorting */
	enum tui_col key;
	bool reverse;              /* the opposite of the column's natural order */
	char filter[128];
	uint32_t group;            /* 0: every map; else 1 + index of the only group shown */
	bool unreachable;          /* show the maps nothing reaches too */
	size_t hidden;             /* maps in scope left out because nothing reaches them */
	size_t inscope;            /* maps in scope and shown but for the filter */
};

/* Sorted by reclaimable, unfiltered.  With ascii, names are also made
 * pure ASCII (tui_ascii).  Return 0, or -1 when memory ran out (rows can
 * then still be freed). */
int tui_rows_init(struct tui_rows *rows, const struct report *r, uint64_t min_reclaimable,
		  bool ascii);
void tui_rows_sort(struct tui_rows *rows, enum tui_col key, bool reverse);
/* Keep the rows whose escaped type or any escaped root path contains
 * needle, ignoring ASCII case; "" keeps every row. */
void tui_rows_filter(struct tui_rows *rows, const char *needle);
/* Show only the maps of group (1 + index into r->groups; 0: all), and the
 * maps nothing reaches only when unreachable is set (always, in a group of
 * such maps); keeps the filter. */
void tui_rows_scope(struct tui_rows *rows, uint32_t group, bool unreachable);
void tui_rows_free(struct tui_rows *rows);   /* NULL-safe; keeps r */

const char *tui_col_name(enum tui_col c);    /* "reclaimable", ... */
enum tui_col tui_col_from_sort(enum sort_key k);

/* ---- Rows of the group list ------------------------------------------- */

enum tui_gcol {
	TUI_G_RECLAIM,             /* reclaimable bytes, largest first */
	TUI_G_RETAINED,            /* retained bytes, largest first */
	TUI_G_SHARE,               /* share of all reclaimable bytes (as RECLAIM) */
	TUI_G_MAPS,                /* maps in the group, most first */
	TUI_G_COUNT,               /* entries, most first */
	TUI_G_OWNER,               /* owner pattern as shown, byte order */
	TUI_G_TYPE,                /* Go type as shown, byte order */
	TUI_GCOLS
};

/* The report's groups (lib/group.h) as rows, like tui_rows. */
struct tui_groups {
	const struct report *r;
	char **owner;              /* per group: escaped owner as shown (owned) */
	char **type;               /* per group: escaped type (owned) */
	char **hay;                /* per group: lowercase "owner\ntype" */
	size_t *all, nall;         /* indices into r->groups, sorted */
	size_t *shown, nshown;
	size_t *scratch;
	enum tui_gcol key;
	bool reverse;
	char filter[128];
	bool unreachable;          /* show groups of maps nothing reaches */
	size_t hidden;             /* groups left out because nothing reaches them */
	size_t inscope;            /* groups shown but for the filter */
};

/* Every group at or above the threshold, by reclaimable bytes, the
 * unreachable ones hidden.  A group of one map is shown as that map (its
 * path); with --group type a group's owner is its biggest map's path.
 * Return 0, or -1 when memory ran out (groups can then still be freed). */
int tui_groups_init(struct tui_groups *g, const struct report *r, uint64_t min_reclaimable,
		    bool ascii);
void tui_groups_sort(struct tui_groups *g, enum tui_gcol key, bool reverse);
void tui_groups_filter(struct tui_groups *g, const char *needle);
void tui_groups_show_unreachable(struct tui_groups *g, bool on);
void tui_groups_free(struct tui_groups *g);  /* NULL-safe */
const char *tui_gcol_name(enum tui_gcol c);
enum tui_gcol tui_gcol_from_sort(enum sort_key k);

/* ---- The storage picture ----------------------------------------------- */

/* One screen cell: a run of consecutive storage cells (buckets with their
 * chains, or groups) of lib/report.h's struct map_storage. */
struct tui_cell {
	uint64_t first, n;         /* storage cells covered; n = 0: blank */
	uint64_t live, slots;      /* live slots over slots, summed over them */
	bool tomb;                 /* some covered cell has a tombstone */
	uint8_t chain;             /* longest overflow chain among them (0-7) */
};

/* The storage of one map summarised into a w × h grid of screen cells,
 * built once (O(ncells + w·h)) and kept while the screen size stays. */
struct tui_picture {
	int w, h;                  /* the grid it was built for */
	int rows;                  /* rows that hold a cell */
	uint64_t per_cell;         /* most storage cells behind one screen cell */
	bool by_table;             /* Swiss: each table starts a row of its own */
	struct tui_cell *cells;    /* w·h, row by row (owned) */
};

/* Summarise st into a w × h grid.  One storage cell per screen cell when
 * they fit; otherwise each screen cell covers a run of about ncells/(w·h)
 * storage cells.  Swiss tables each start a new row when that still fits
 * (tables laid out row by row, or given an equal share of the rows each),
 * else they run one after the other.  Return 0, or -1 on ENOMEM. */
int tui_picture_build(const struct map_storage *st, enum map_layout layout, int w, int h,
		      struct tui_picture *p);
void tui_picture_free(struct tui_picture *p);   /* NULL-safe */

/* Shade of a cell on a scale of nlevels (≥ 2): 0 when no covered slot is
 * live, nlevels-1 when all are, and at least 1 when any is. */
int tui_shade(const struct tui_cell *c, int nlevels);

/* Length of a histogram bar for v out of max in a bar of width units
 * (characters, or eighths of one): rounded, never 0 for a non-zero v. */
unsigned tui_bar(uint64_t v, uint64_t max, unsigned width);

/* ---- Text -------------------------------------------------------------- */

/* esc (a format_escape result) with every code point outside ASCII written
 * as \uXXXX, for terminals that cannot show UTF-8.  Newly allocated, owned
 * by the caller; NULL when memory ran out. */
char *tui_ascii(const char *esc);

/* Copy esc into out (size n) so that it takes at most w columns: whole
 * when it fits, else with its middle replaced by "…" (ascii: "~"), never
 * cutting a UTF-8 sequence.  Returns the columns used. */
size_t tui_fit(const char *esc, size_t w, bool ascii, char *out, size_t n);

/* A name for a column w wide, shortened where it says least: first the
 * import paths of qualified names ("github.com/acme/cache.Key" →
 * "cache.Key"), then, for a type, the package qualifiers ("cache.Key" →
 * "Key"), then the end of a map's value type (the key type stays:
 * "map[string]*Sess…"); for a path, its start -- the part rows of one
 * owner share -- so that the index and field that tell rows apart stay
 * ("…shards[12].hashmap").  "…" is "~" when ascii.  Returns the columns
 * used. */
enum tui_name { TUI_NAME_PATH, TUI_NAME_TYPE };
size_t tui_shorten(const char *esc, enum tui_name kind, size_t w, bool ascii, char *out, size_t n);

#endif
