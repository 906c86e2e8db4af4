/* The TUI's logic that needs no terminal: which rows the list shows and in
 * what order, how a storage picture of any size becomes screen cells, the
 * histogram bars, and how untrusted names are made safe and fitted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "group.h"
#include "report.h"
#include "tui.h"

#include "unit.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define EVIL "map[string]\x1b]0;pwned\x07\x1b[31mint"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static struct map_entry *add(struct report *r, uint64_t addr, const char *type, uint64_t count,
			     uint64_t cap, uint64_t retained, uint64_t ideal, const char *root)
{
	struct map_entry *m = report_add_map(r, addr);

	if (!m)
		abort();
	m->type = type ? xstrdup(type) : NULL;
	m->layout = LAYOUT_SWISS;
	m->fig.count = count;
	m->fig.live_slots = count;
	m->fig.capacity_slots = cap;
	m->fig.buckets = cap / 8;
	m->fig.retained_bytes = retained;
	m->fig.ideal_bytes = ideal;
	m->fig.reclaimable_bytes = retained > ideal ? retained - ideal : 0;
	if (root && map_add_root(m, root, false))
		abort();
	return m;
}

/* Five maps; their indices in r->maps are 0..4 in this order. */
static void build(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->source = xstrdup("core.1234");
	r->go_version = xstrdup("go1.26.8");
	r->layout = LAYOUT_SWISS;
	/* 0: the big offender */
	add(r, 0x1000, "map[string]*main.Session", 12, 61440, 40 * MiB, 488, "main.sessions");
	/* 1: full and fine */
	add(r, 0x2000, "map[int]string", 300, 512, 12 * KiB, 12 * KiB, "main.users");
	/* 2: a hostile type name, a second root */
	struct map_entry *m = add(r, 0x3000, EVIL, 5, 16384, 400 * KiB, 248, "main.shards[2]");
	map_add_root(m, "main.Backup.Cache", false);
	/* 3: never written: no capacity, no name */
	add(r, 0x4000, NULL, 0, 0, 48, 48, NULL);
	/* 4: medium, a non-ASCII path */
	add(r, 0x5000, "map[string]int", 40, 16384, 650 * KiB, 2712, "main.caf\xc3\xa9");
	report_finish(r);
}

static int shown_is(const struct tui_rows *rows, const size_t *want, size_t n)
{
	if (rows->nshown != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (rows->shown[i] != want[i])
			return 0;
	return 1;
}

#define SHOWN(rows, ...)                                                          \
	do {                                                                      \
		static const size_t want_[] = { __VA_ARGS__ };                    \
		CHECK_MSG(shown_is(rows, want_, sizeof(want_) / sizeof(want_[0])), \
			  "rows differ (first shown %zu of %zu)",                 \
			  (rows)->nshown ? (rows)->shown[0] : (size_t)-1, (rows)->nshown); \
	} while (0)

static void test_rows(void)
{
	struct report r;
	struct tui_rows rows;

	build(&r);
	CHECK(tui_rows_init(&rows, &r, 0, false) == 0);
	CHECK_EQ_U64(rows.nall, 5);

	/* Biggest offenders first, and each column's natural order. */
	SHOWN(&rows, 0, 4, 2, 1, 3);
	tui_rows_sort(&rows, TUI_COL_RETAINED, false);
	SHOWN(&rows, 0, 4, 2, 1, 3);
	tui_rows_sort(&rows, TUI_COL_COUNT, false);
	SHOWN(&rows, 1, 4, 0, 2, 3);
	tui_rows_sort(&rows, TUI_COL_CAPACITY, false);
	SHOWN(&rows, 0, 4, 2, 1, 3);    /* 4 and 2 tie on 16384: more reclaimable first */
	tui_rows_sort(&rows, TUI_COL_FILL, false);
	SHOWN(&rows, 0, 2, 4, 1, 3);    /* emptiest first, no storage last */
	tui_rows_sort(&rows, TUI_COL_FILL, true);
	SHOWN(&rows, 3, 1, 4, 2, 0);
	tui_rows_sort(&rows, TUI_COL_TYPE, false);
	SHOWN(&rows, 1, 0, 2, 4, 3);    /* as shown: '*' < '\\' (the escaped ESC) < 'i'; no name last */
	tui_rows_sort(&rows, TUI_COL_PATH, false);
	SHOWN(&rows, 4, 0, 2, 1, 3);
	tui_rows_sort(&rows, TUI_COL_COUNT, true);
	SHOWN(&rows, 3, 2, 0, 4, 1);

	/* The filter: any case, the type or any path, as typed so far. */
	tui_rows_sort(&rows, TUI_COL_RECLAIM, false);
	tui_rows_filter(&rows, "SESS");
	SHOWN(&rows, 0);
	tui_rows_filter(&rows, "map[string]");
	SHOWN(&rows, 0, 4, 2);
	tui_rows_filter(&rows, "backup");     /* the second root of map 2 */
	SHOWN(&rows, 2);
	tui_rows_filter(&rows, "\\x1b");      /* what the screen shows, not the raw byte */
	SHOWN(&rows, 2);
	tui_rows_filter(&rows, "\x1b");
	CHECK_EQ_U64(rows.nshown, 0);
	tui_rows_filter(&rows, "caf\xc3\xa9");
	SHOWN(&rows, 4);
	tui_rows_filter(&rows, "nothing like it");
	CHECK_EQ_U64(rows.nshown, 0);
	/* Sorting keeps the filter. */
	tui_rows_filter(&rows, "main.s");
	tui_rows_sort(&rows, TUI_COL_COUNT, false);
	SHOWN(&rows, 0, 2);
	tui_rows_filter(&rows, "");
	SHOWN(&rows, 1, 4, 0, 2, 3);

	/* Names are escaped once, up front: no control byte can reach the
	 * terminal. */
	CHECK(strchr(rows.type[2], '\x1b') == NULL);
	CHECK(strchr(rows.type[2], '\x07') == NULL);
	CHECK_STR(rows.type[2], "map[string]\\x1b]0;pwned\\a\\x1b[31mint");
	CHECK_STR(rows.type[3], "(type unknown)");
	CHECK_STR(rows.path[3], "");
	CHECK_STR(rows.path[4], "main.caf\xc3\xa9");
	tui_rows_free(&rows);
	tui_rows_free(&rows);     /* twice is harmless */
	tui_rows_free(NULL);

	/* A terminal without UTF-8 gets ASCII, and the filter matches that. */
	CHECK(tui_rows_init(&rows, &r, 0, true) == 0);
	CHECK_STR(rows.path[4], "main.caf\\u00e9");
	tui_rows_filter(&rows, "CAF\\U00E9");
	SHOWN(&rows, 4);
	tui_rows_free(&rows);

	/* --min-reclaimable hides the small ones for good. */
	CHECK(tui_rows_init(&rows, &r, 500 * KiB, false) == 0);
	SHOWN(&rows, 0, 4);
	tui_rows_filter(&rows, "");
	CHECK_EQ_U64(rows.nall, 2);
	tui_rows_free(&rows);

	/* --sort maps onto the columns. */
	CHECK(tui_col_from_sort(SORT_RECLAIMABLE) == TUI_COL_RECLAIM);
	CHECK(tui_col_from_sort(SORT_RETAINED) == TUI_COL_RETAINED);
	CHECK(tui_col_from_sort(SORT_COUNT) == TUI_COL_COUNT);
	CHECK(tui_col_from_sort(SORT_TYPE) == TUI_COL_TYPE);
	CHECK(tui_col_from_sort(SORT_PATH) == TUI_COL_PATH);
	CHECK_STR(tui_col_name(TUI_COL_FILL), "fill");
	report_free(&r);

	/* An empty report has no rows, and that is fine. */
	struct report e;
	memset(&e, 0, sizeof(e));
	CHECK(tui_rows_init(&rows, &e, 0, false) == 0);
	CHECK_EQ_U64(rows.nshown, 0);
	tui_rows_filter(&rows, "x");
	tui_rows_sort(&rows, TUI_COL_TYPE, true);
	CHECK_EQ_U64(rows.nshown, 0);
	tui_rows_free(&rows);
}

/* ---- groups and scopes ------------------------------------------------ */

/* Three owners: 4 shards (0..3), a big cache (4), 2 maps nothing reaches
 * (5, 6). */
static void build_groups(struct report *r)
{
	char path[64];

	memset(r, 0, sizeof(*r));
	r->layout = LAYOUT_SWISS;
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "main.store.shards[%d].hashmap", i);
		add(r, 0x1000 + 0x100 * (uint64_t)i, "map[uint64]string", 10, 1024, (40 + (uint64_t)i) * KiB,
		    KiB, path);
	}
	add(r, 0x2000, "map[string][]uint8", 40, 16384, 600 * KiB, 2 * KiB, "main.svc.cache");
	struct map_entry *m = add(r, 0x3000, "map[int]int", 0, 8, 900 * KiB, 48, NULL);
	m->unreachable = true;
	m = add(r, 0x3100, "map[int]int", 0, 8, 248, 48, NULL);
	m->unreachable = true;
	report_finish(r);
	if (report_group(r, GROUP_OWNER))
		abort();
}

static void test_groups(void)
{
	struct report r;
	struct tui_groups g;
	struct tui_rows rows;

	build_groups(&r);
	CHECK(tui_groups_init(&g, &r, 0, false) == 0);
	/* The unreachable group is hidden, and counted. */
	CHECK_EQ_U64(g.nshown, 2);
	CHECK_EQ_U64(g.hidden, 1);
	CHECK_EQ_U64(g.inscope, 2);
	/* By reclaimable: the cache (598 KiB) before the four shards (162). */
	CHECK_STR(g.owner[g.shown[0]], "main.svc.cache");       /* a group of one: its path */
	CHECK_STR(g.owner[g.shown[1]], "main.store.shards[*].hashmap");
	CHECK_STR(g.type[g.shown[1]], "map[uint64]string");
	tui_groups_sort(&g, TUI_G_MAPS, false);
	CHECK_STR(g.owner[g.shown[0]], "main.store.shards[*].hashmap");
	tui_groups_sort(&g, TUI_G_OWNER, false);
	CHECK_STR(g.owner[g.shown[0]], "main.store.shards[*].hashmap");
	tui_groups_sort(&g, TUI_G_OWNER, true);
	CHECK_STR(g.owner[g.shown[0]], "main.svc.cache");
	/* u: shown, and last whatever the order, though it holds the most. */
	tui_groups_show_unreachable(&g, true);
	CHECK_EQ_U64(g.nshown, 3);
	CHECK_EQ_U64(g.hidden, 0);
	CHECK(r.groups[g.shown[2]].unreachable);
	CHECK_STR(g.owner[g.shown[2]], "(unreachable)");
	tui_groups_sort(&g, TUI_G_RECLAIM, false);
	CHECK(r.groups[g.shown[2]].unreachable);
	/* The filter: owner or type. */
	tui_groups_filter(&g, "UINT64");
	CHECK_EQ_U64(g.nshown, 1);
	CHECK_EQ_U64(g.inscope, 3);
	tui_groups_filter(&g, "");
	CHECK(tui_gcol_from_sort(SORT_PATH) == TUI_G_OWNER);
	CHECK_STR(tui_gcol_name(TUI_G_SHARE), "share");

	/* Drilling into a group: its maps only; maps nothing reaches stay
	 * hidden in the list of every map until asked for. */
	CHECK(tui_rows_init(&rows, &r, 0, false) == 0);
	CHECK_EQ_U64(rows.nshown, 5);
	CHECK_EQ_U64(rows.hidden, 2);
	uint32_t shards = r.maps[0].group;
	tui_rows_scope(&rows, shards, false);
	SHOWN(&rows, 3, 2, 1, 0);
	CHECK_EQ_U64(rows.inscope, 4);
	CHECK_EQ_U64(rows.hidden, 0);
	tui_rows_filter(&rows, "shards[2]");
	SHOWN(&rows, 2);
	tui_rows_filter(&rows, "");
	/* A group of maps nothing reaches shows them, u or not. */
	tui_rows_scope(&rows, r.maps[5].group, false);
	SHOWN(&rows, 5, 6);
	tui_rows_scope(&rows, 0, true);
	SHOWN(&rows, 5, 4, 3, 2, 1, 0, 6);
	tui_rows_free(&rows);
	tui_groups_free(&g);
	tui_groups_free(&g);
	tui_groups_free(NULL);
	report_free(&r);

	/* No groups at all. */
	struct report e;
	memset(&e, 0, sizeof(e));
	CHECK(tui_groups_init(&g, &e, 0, false) == 0 && g.nshown == 0);
	tui_groups_sort(&g, TUI_G_TYPE, true);
	tui_groups_free(&g);
}

static void check_shorten(const char *esc, enum tui_name kind, size_t w, bool ascii,
			  const char *want)
{
	char buf[256];
	size_t cols = tui_shorten(esc, kind, w, ascii, buf, sizeof(buf));

	CHECK_MSG(strcmp(buf, want) == 0 && cols <= w && cols == format_width(buf),
		  "tui_shorten(\"%s\", %zu) = \"%s\" (%zu columns), want \"%s\"", esc, w, buf, cols,
		  want);
}

static void test_shorten(void)
{
	const char *T = "map[github.com/acme/cache.Key]*github.com/acme/cache.Entry";

	/* Fits: as is. */
	check_shorten("main.sessions", TUI_NAME_PATH, 20, false, "main.sessions");
	/* Import paths go first, then package qualifiers. */
	check_shorten(T, TUI_NAME_TYPE, 30, false, "map[cache.Key]*cache.Entry");
	check_shorten(T, TUI_NAME_TYPE, 20, false, "map[Key]*Entry");
	/* Then the end of the value type: the key type stays. */
	check_shorten("map[string]*sessionstore.Session", TUI_NAME_TYPE, 16, false,
		      "map[string]*Ses…");
	check_shorten("map[string]*sessionstore.Session", TUI_NAME_TYPE, 16, true,
		      "map[string]*Ses~");
	/* A path keeps its end, the index and field that tell rows apart,
	 * starting at a part when it can. */
	check_shorten("main.store.shards[12].hashmap", TUI_NAME_PATH, 20, false,
		      "…shards[12].hashmap");
	check_shorten("main.store.shards[12].hashmap", TUI_NAME_PATH, 12, false, "…12].hashmap");
	check_shorten("github.com/acme/x.store.shards[3].m", TUI_NAME_PATH, 20, false,
		      "x.store.shards[3].m");
	check_shorten("goroutine 17 (main.worker) → local seen", TUI_NAME_PATH, 24, false,
		      "…worker) → local seen");
	/* A path's quoted key keeps its '/'. */
	check_shorten("a/b.m[\"x/y\"]", TUI_NAME_PATH, 10, false, "b.m[\"x/y\"]");
}

/* ---- pictures ---------------------------------------------------------- */

static struct map_storage *storage(uint64_t n)
{
	struct map_storage *st = calloc(1, sizeof(*st));

	if (!st || !(st->cells = calloc(n ? n : 1, 1)))
		abort();
	st->ncells = n;
	return st;
}

static void storage_free(struct map_storage *st)
{
	free(st->cells);
	free(st->table_start);
	free(st);
}

/* Every screen cell in use covers the run after the previous one, and the
 * runs together cover all storage cells exactly once. */
static int covers_all(const struct tui_picture *p, uint64_t ncells)
{
	uint64_t next = 0;

	for (size_t i = 0; i < (size_t)p->w * (size_t)p->h; i++) {
		const struct tui_cell *c = &p->cells[i];
		if (!c->n)
			continue;
		if (c->first != next)
			return 0;
		next += c->n;
	}
	return next == ncells;
}

static void test_picture_small(void)
{
	struct map_storage *st = storage(10);
	struct tui_picture p;

	/* Classic: a bucket with a chain counts the chain's slots too. */
	st->cells[0] = CELL_MAKE(8, 0, 0);
	st->cells[1] = CELL_MAKE(4, 1, 0);
	st->cells[2] = CELL_MAKE(12, 0, 2);
	st->cells[9] = CELL_MAKE(1, 0, 7);
	CHECK(tui_picture_build(st, LAYOUT_CLASSIC, 4, 5, &p) == 0);
	CHECK_EQ_U64(p.per_cell, 1);              /* one bucket per cell: it fits */
	CHECK_EQ_U64(p.rows, 3);                  /* 10 cells, 4 a row */
	CHECK(!p.by_table);
	CHECK(covers_all(&p, 10));
	CHECK_EQ_U64(p.cells[0].live, 8);
	CHECK_EQ_U64(p.cells[0].slots, 8);
	CHECK_EQ_U64(tui_shade(&p.cells[0], 10), 9);    /* full */
	CHECK(p.cells[1].tomb && !p.cells[0].tomb);
	CHECK_EQ_U64(tui_shade(&p.cells[1], 10), 5);    /* half: 1 + 4·8/8 */
	CHECK_EQ_U64(p.cells[2].slots, 24);
	CHECK_EQ_U64(p.cells[2].chain, 2);
	CHECK_EQ_U64(tui_shade(&p.cells[3], 10), 0);    /* empty */
	CHECK_EQ_U64(p.cells[9].chain, 7);
	CHECK_EQ_U64(tui_shade(&p.cells[9], 10), 1);    /* 1 of 64: never blank */
	CHECK_EQ_U64(p.cells[10].n, 0);                 /* past the end: blank */
	tui_picture_free(&p);

	/* Squeezed: 10 buckets into 3 cells; tombstones and chains survive. */
	CHECK(tui_picture_build(st, LAYOUT_CLASSIC, 3, 1, &p) == 0);
	CHECK(covers_all(&p, 10));
	CHECK_EQ_U64(p.per_cell, 4);
	CHECK_EQ_U64(p.cells[0].n, 3);
	CHECK_EQ_U64(p.cells[0].live, 8 + 4 + 12);
	CHECK_EQ_U64(p.cells[0].slots, 8 + 8 + 24);
	CHECK(p.cells[0].tomb && !p.cells[1].tomb && !p.cells[2].tomb);
	CHECK_EQ_U64(p.cells[0].chain, 2);
	CHECK_EQ_U64(p.cells[2].chain, 7);
	tui_picture_free(&p);
	tui_picture_free(&p);
	tui_picture_free(NULL);

	/* No storage, or no room: nothing drawn, nothing broken. */
	st->ncells = 0;
	CHECK(tui_picture_build(st, LAYOUT_CLASSIC, 3, 3, &p) == 0);
	CHECK_EQ_U64(p.rows, 0);
	tui_picture_free(&p);
	CHECK(tui_picture_build(NULL, LAYOUT_SWISS, 3, 3, &p) == 0);
	CHECK_EQ_U64(p.rows, 0);
	tui_picture_free(&p);
	CHECK(tui_picture_build(st, LAYOUT_SWISS, 0, 3, &p) == 0);
	CHECK(p.cells == NULL);
	storage_free(st);
}

/* Swiss tables start rows of their own while that fits. */
static void test_picture_tables(void)
{
	struct map_storage *st = storage(8 + 16 + 4);
	struct tui_picture p;

	st->ntables = 3;
	st->table_start = calloc(3, sizeof(*st->table_start));
	st->table_start[0] = 0;
	st->table_start[1] = 8;
	st->table_start[2] = 24;
	for (int i = 0; i < 28; i++)
		st->cells[i] = CELL_MAKE(i % 9, i == 27, 0);

	/* 10 wide: table rows 1 + 2 + 1. */
	CHECK(tui_picture_build(st, LAYOUT_SWISS, 10, 10, &p) == 0);
	CHECK(p.by_table);
	CHECK_EQ_U64(p.rows, 4);
	CHECK(covers_all(&p, 28));
	CHECK_EQ_U64(p.cells[0].first, 0);
	CHECK_EQ_U64(p.cells[8].n, 0);            /* the rest of table 0's row */
	CHECK_EQ_U64(p.cells[10].first, 8);       /* table 1 on row 1 */
	CHECK_EQ_U64(p.cells[20].first, 18);
	CHECK_EQ_U64(p.cells[30].first, 24);      /* table 2 on row 3 */
	CHECK(p.cells[33].tomb);
	CHECK_EQ_U64(p.per_cell, 1);
	tui_picture_free(&p);

	/* 4 wide, 3 high: rows 2 + 4 + 1 do not fit; a row per table. */
	CHECK(tui_picture_build(st, LAYOUT_SWISS, 4, 3, &p) == 0);
	CHECK(p.by_table);
	CHECK(covers_all(&p, 28));
	CHECK_EQ_U64(p.cells[4].first, 8);
	CHECK_EQ_U64(p.cells[4].n + p.cells[5].n + p.cells[6].n + p.cells[7].n, 16);
	CHECK_EQ_U64(p.cells[8].first, 24);
	CHECK_EQ_U64(p.per_cell, 4);
	tui_picture_free(&p);

	/* More tables than rows: one after the other. */
	CHECK(tui_picture_build(st, LAYOUT_SWISS, 4, 2, &p) == 0);
	CHECK(!p.by_table);
	CHECK(covers_all(&p, 28));
	CHECK_EQ_U64(p.rows, 2);
	tui_picture_free(&p);

	/* A table list that makes no sense is ignored, not followed. */
	st->table_start[1] = 99;
	CHECK(tui_picture_build(st, LAYOUT_SWISS, 10, 10, &p) == 0);
	CHECK(!p.by_table);
	CHECK(covers_all(&p, 28));
	tui_picture_free(&p);
	storage_free(st);
}

/* A map of 4M buckets summarised into an 80×20 grid: every bucket is
 * counted once, and building takes one pass. */
static void test_picture_large(void)
{
	const uint64_t n = 4u << 20;
	struct map_storage *st = storage(n);
	struct tui_picture p;
	uint64_t live = 0, slots = 0, tombs = 0;
	clock_t t0;

	for (uint64_t i = 0; i < n; i++) {
		unsigned l = (unsigned)(i * 2654435761u >> 7) % 9, chain = i % 1000 == 0;
		st->cells[i] = CELL_MAKE(l, i == 3000001, chain);
		live += l;
		slots += 8 * (1 + chain);
	}
	t0 = clock();
	CHECK(tui_picture_build(st, LAYOUT_CLASSIC, 80, 20, &p) == 0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK_MSG(secs < 2.0, "building took %.2f s", secs);
	CHECK(covers_all(&p, n));
	CHECK_EQ_U64(p.rows, 20);
	CHECK_EQ_U64(p.per_cell, (n + 1599) / 1600);
	uint64_t sl = 0, sv = 0;
	for (int i = 0; i < 1600; i++) {
		sl += p.cells[i].live;
		sv += p.cells[i].slots;
		tombs += p.cells[i].tomb;
		if (p.cells[i].tomb)
			CHECK(p.cells[i].first <= 3000001 && 3000001 < p.cells[i].first + p.cells[i].n);
	}
	CHECK_EQ_U64(sl, live);
	CHECK_EQ_U64(sv, slots);
	CHECK_EQ_U64(tombs, 1);
	tui_picture_free(&p);
	storage_free(st);
}

static void test_shade_and_bars(void)
{
	struct tui_cell c = { .first = 0, .n = 4, .live = 0, .slots = 32 };

	CHECK_EQ_U64(tui_shade(&c, 9), 0);
	c.live = 1;
	CHECK_EQ_U64(tui_shade(&c, 9), 1);
	c.live = 16;
	CHECK_EQ_U64(tui_shade(&c, 9), 4);
	c.live = 31;
	CHECK_EQ_U64(tui_shade(&c, 9), 7);     /* nearly full is not full */
	c.live = 32;
	CHECK_EQ_U64(tui_shade(&c, 9), 8);
	c.n = 0;
	CHECK_EQ_U64(tui_shade(&c, 9), 0);

	CHECK_EQ_U64(tui_bar(0, 100, 20), 0);
	CHECK_EQ_U64(tui_bar(100, 100, 20), 20);
	CHECK_EQ_U64(tui_bar(50, 100, 20), 10);
	CHECK_EQ_U64(tui_bar(1, 1000000, 20), 1);   /* never hide a non-zero bar */
	CHECK_EQ_U64(tui_bar(12, 7668, 18 * 8), 1);
	CHECK_EQ_U64(tui_bar(104, 8088, 18 * 8), 2);
	CHECK_EQ_U64(tui_bar(5, 0, 20), 0);
	CHECK_EQ_U64(tui_bar(UINT64_MAX - 1, UINT64_MAX, 1000), 1000);
}

static void test_text(void)
{
	char buf[256];
	char *a;

	/* Fits: unchanged. */
	CHECK_EQ_U64(tui_fit("main.sessions", 20, false, buf, sizeof(buf)), 13);
	CHECK_STR(buf, "main.sessions");
	/* Too wide: the middle goes, both ends stay. */
	CHECK_EQ_U64(tui_fit("map[string]*main.Session", 11, false, buf, sizeof(buf)), 11);
	CHECK_STR(buf, "map[s…ssion");
	CHECK_EQ_U64(tui_fit("map[string]*main.Session", 11, true, buf, sizeof(buf)), 11);
	CHECK_STR(buf, "map[s~ssion");
	CHECK_EQ_U64(tui_fit("abc", 0, false, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_EQ_U64(tui_fit("abcdef", 1, false, buf, sizeof(buf)), 1);
	CHECK_STR(buf, "…");
	/* Never half a character: é is 2 bytes, 世 2 columns. */
	CHECK_EQ_U64(tui_fit("caf\xc3\xa9" "caf\xc3\xa9", 5, false, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "ca…f\xc3\xa9");
	CHECK_EQ_U64(tui_fit("\xe4\xb8\x96\xe7\x95\x8c\xe4\xb8\x96\xe7\x95\x8c", 6, false, buf,
			     sizeof(buf)), 5);
	CHECK_STR(buf, "\xe4\xb8\x96…\xe7\x95\x8c");
	/* A small buffer cuts, but at a character boundary. */
	CHECK(tui_fit("caf\xc3\xa9", 10, false, buf, 5) <= 4);
	CHECK_STR(buf, "caf");

	/* ASCII terminals: every non-ASCII code point spelled out. */
	a = tui_ascii("caf\xc3\xa9 \xf0\x9f\x98\x80 \\x1b");
	CHECK_STR(a, "caf\\u00e9 \\U0001f600 \\x1b");
	free(a);
	a = tui_ascii("\xff");
	CHECK_STR(a, "\\xff");
	free(a);
	a = tui_ascii(NULL);
	CHECK_STR(a, "");
	free(a);
}

int main(void)
{
	test_rows();
	test_groups();
	test_shorten();
	test_picture_small();
	test_picture_tables();
	test_picture_large();
	test_shade_and_bars();
	test_text();
	return unit_done();
}
