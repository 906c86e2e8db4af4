/* The interactive browser (mapscan --tui).
 *
 * The only file that includes curses.  It is built like htop: one event
 * loop (tui_loop) hands each key to the screen on top (list, detail, or the
 * help over either), which redraws the whole screen from the state; a
 * function bar at the bottom names the keys of that screen.
 *
 * The first half needs no terminal and is unit-tested
 * (tests/unit/test_tui.c); the second half draws.
 *
 * Every name shown comes from the core and is untrusted: it goes through
 * format_escape (and tui_ascii on a terminal without UTF-8) before it is
 * drawn, and is drawn with tui_fit so it never runs past its column. */
#define NCURSES_WIDECHAR 1

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wchar.h>

#include "format.h"
#include "tui.h"

/* ==== Rows ============================================================== */

static const char *const col_names[TUI_NCOLS] = {
	[TUI_COL_RECLAIM] = "reclaimable",
	[TUI_COL_RETAINED] = "retained",
	[TUI_COL_COUNT] = "count",
	[TUI_COL_CAPACITY] = "capacity",
	[TUI_COL_FILL] = "fill",
	[TUI_COL_PATH] = "path",
	[TUI_COL_TYPE] = "type",
};

const char *tui_col_name(enum tui_col c)
{
	return (unsigned)c < TUI_NCOLS ? col_names[c] : "?";
}

enum tui_col tui_col_from_sort(enum sort_key k)
{
	switch (k) {
	case SORT_RETAINED:
		return TUI_COL_RETAINED;
	case SORT_COUNT:
		return TUI_COL_COUNT;
	case SORT_TYPE:
		return TUI_COL_TYPE;
	case SORT_PATH:
		return TUI_COL_PATH;
	default:
		return TUI_COL_RECLAIM;
	}
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* An escaped copy of an untrusted name, ASCII-only when asked. */
static char *escape_name(const char *s, bool ascii)
{
	char *e = format_escape(s, ESCAPE_TEXT);

	if (e && ascii) {
		char *a = tui_ascii(e);
		free(e);
		e = a;
	}
	return e;
}

/* "type\nroot\nroot...", lowercase, so one strstr answers the filter. */
static char *make_hay(const struct map_entry *m, const char *type, bool ascii)
{
	size_t len = strlen(type) + 1;
	char **roots = m->nroots ? calloc(m->nroots, sizeof(*roots)) : NULL;
	char *hay = NULL;

	if (m->nroots && !roots)
		return NULL;
	for (size_t i = 0; i < m->nroots; i++) {
		if (!(roots[i] = escape_name(m->roots[i], ascii)))
			goto out;
		len += strlen(roots[i]) + 1;
	}
	if (!(hay = malloc(len)))
		goto out;
	strcpy(hay, type);
	for (size_t i = 0; i < m->nroots; i++) {
		strcat(hay, "\n");
		strcat(hay, roots[i]);
	}
	lower_ascii(hay);
out:
	for (size_t i = 0; roots && i < m->nroots; i++)
		free(roots[i]);
	free(roots);
	return hay;
}

int tui_rows_init(struct tui_rows *rows, const struct report *r, uint64_t min_reclaimable,
		  bool ascii)
{
	size_t n = r->nmaps;

	memset(rows, 0, sizeof(*rows));
	rows->r = r;
	rows->key = TUI_COL_RECLAIM;
	if (n == 0)
		return 0;
	rows->type = calloc(n, sizeof(*rows->type));
	rows->path = calloc(n, sizeof(*rows->path));
	rows->hay = calloc(n, sizeof(*rows->hay));
	rows->all = calloc(n, sizeof(*rows->all));
	rows->shown = calloc(n, sizeof(*rows->shown));
	rows->scratch = calloc(n, sizeof(*rows->scratch));
	if (!rows->type || !rows->path || !rows->hay || !rows->all || !rows->shown ||
	    !rows->scratch)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct map_entry *m = &r->maps[i];

		char tbuf[1024];
		snprintf(tbuf, sizeof(tbuf), "%s%s", m->type ? m->type : "(type unknown)",
			 m->type_guessed ? " (guess)" : "");
		rows->type[i] = escape_name(tbuf, ascii);
		rows->path[i] = escape_name(m->nroots ? m->roots[0] : "", ascii);
		if (!rows->type[i] || !rows->path[i] ||
		    !(rows->hay[i] = make_hay(m, rows->type[i], ascii)))
			return -1;
		if (m->fig.reclaimable_bytes >= min_reclaimable)
			rows->all[rows->nall++] = i;
	}
	tui_rows_sort(rows, TUI_COL_RECLAIM, false);
	return 0;
}

void tui_rows_free(struct tui_rows *rows)
{
	if (!rows)
		return;
	for (size_t i = 0; rows->r && i < rows->r->nmaps; i++) {
		if (rows->type)
			free(rows->type[i]);
		if (rows->path)
			free(rows->path[i]);
		if (rows->hay)
			free(rows->hay[i]);
	}
	free(rows->type);
	free(rows->path);
	free(rows->hay);
	free(rows->all);
	free(rows->shown);
	free(rows->scratch);
	rows->type = rows->path = rows->hay = NULL;
	rows->all = rows->shown = rows->scratch = NULL;
	rows->nall = rows->nshown = 0;
}

static int u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* Emptiest first; maps with no storage at all (capacity 0) last. */
static int fill_asc(const struct map_figures *a, const struct map_figures *b)
{
	if (!a->capacity_slots || !b->capacity_slots)
		return !a->capacity_slots - !b->capacity_slots;
	unsigned __int128 x = (unsigned __int128)a->count * b->capacity_slots;
	unsigned __int128 y = (unsigned __int128)b->count * a->capacity_slots;
	return x < y ? -1 : x > y;
}

/* A map without a name sorts after every name. */
static int name_asc(const char *a, const char *b)
{
	bool na = !a || !*a, nb = !b || !*b;

	if (na || nb)
		return na - nb;
	return strcmp(a, b);
}

/* The chosen column in its natural order (reversed on request), then the
 * biggest waste first and the address, so equal rows keep one order. */
static int rows_cmp(const struct tui_rows *rows, size_t i, size_t j)
{
	const struct map_entry *a = &rows->r->maps[i], *b = &rows->r->maps[j];
	int c;

	switch (rows->key) {
	case TUI_COL_RETAINED:
		c = u64_desc(a->fig.retained_bytes, b->fig.retained_bytes);
		break;
	case TUI_COL_COUNT:
		c = u64_desc(a->fig.count, b->fig.count);
		break;
	case TUI_COL_CAPACITY:
		c = u64_desc(a->fig.capacity_slots, b->fig.capacity_slots);
		break;
	case TUI_COL_FILL:
		c = fill_asc(&a->fig, &b->fig);
		break;
	case TUI_COL_TYPE:        /* what the screen shows; no name last */
		c = !a->type || !b->type ? !a->type - !b->type
		    : name_asc(rows->type[i], rows->type[j]);
		break;
	case TUI_COL_PATH:
		c = name_asc(rows->path[i], rows->path[j]);
		break;
	default:
		c = u64_desc(a->fig.reclaimable_bytes, b->fig.reclaimable_bytes);
		break;
	}
	if (rows->reverse)
		c = -c;
	if (!c)
		c = u64_desc(a->fig.reclaimable_bytes, b->fig.reclaimable_bytes);
	if (!c)
		c = u64_desc(a->fig.retained_bytes, b->fig.retained_bytes);
	if (!c)
		c = -u64_desc(a->address, b->address);
	if (!c)
		c = (i > j) - (i < j);
	return c;
}

static void rows_msort(const struct tui_rows *rows, size_t *v, size_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;

	rows_msort(rows, v, tmp, h);
	rows_msort(rows, v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = rows_cmp(rows, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

void tui_rows_sort(struct tui_rows *rows, enum tui_col key, bool reverse)
{
	rows->key = (unsigned)key < TUI_NCOLS ? key : TUI_COL_RECLAIM;
	rows->reverse = reverse;
	if (rows->nall)
		rows_msort(rows, rows->all, rows->scratch, rows->nall);
	tui_rows_filter(rows, rows->filter);
}

/* Copy needle into want (its size), lowercase, never half a character. */
static void filter_prepare(char *want, size_t size, const char *needle)
{
	size_t len = strlen(needle ? needle : "");

	if (len >= size) {
		len = size - 1;
		while (len && ((unsigned char)needle[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(want, needle ? needle : "", len);
	want[len] = '\0';
	lower_ascii(want);
}

void tui_rows_scope(struct tui_rows *rows, uint32_t group, bool unreachable)
{
	rows->group = group;
	rows->unreachable = unreachable;
	tui_rows_filter(rows, rows->filter);
}

void tui_rows_filter(struct tui_rows *rows, const char *needle)
{
	char want[sizeof(rows->filter)];

	filter_prepare(want, sizeof(want), needle);
	size_t len = strlen(want);
	memcpy(rows->filter, want, len + 1);
	rows->nshown = rows->hidden = rows->inscope = 0;
	const struct map_group *g = rows->group && rows->group <= rows->r->ngroups
				    ? &rows->r->groups[rows->group - 1] : NULL;
	for (size_t k = 0; k < rows->nall; k++) {
		size_t i = rows->all[k];
		const struct map_entry *m = &rows->r->maps[i];

		if (g && m->group != rows->group)
			continue;
		if (m->unreachable && !rows->unreachable && !(g && g->unreachable)) {
			rows->hidden++;
			continue;
		}
		rows->inscope++;
		if (!*want || strstr(rows->hay[i], want))
			rows->shown[rows->nshown++] = i;
	}
}

/* ==== Rows of the group list ============================================ */

static const char *const gcol_names[TUI_GCOLS] = {
	[TUI_G_RECLAIM] = "reclaimable",
	[TUI_G_RETAINED] = "retained",
	[TUI_G_SHARE] = "share",
	[TUI_G_MAPS] = "maps",
	[TUI_G_COUNT] = "count",
	[TUI_G_OWNER] = "owner",
	[TUI_G_TYPE] = "type",
};

const char *tui_gcol_name(enum tui_gcol c)
{
	return (unsigned)c < TUI_GCOLS ? gcol_names[c] : "?";
}

enum tui_gcol tui_gcol_from_sort(enum sort_key k)
{
	switch (k) {
	case SORT_RETAINED:
		return TUI_G_RETAINED;
	case SORT_COUNT:
		return TUI_G_COUNT;
	case SORT_TYPE:
		return TUI_G_TYPE;
	case SORT_PATH:
		return TUI_G_OWNER;
	default:
		return TUI_G_RECLAIM;
	}
}

/* What stands for a group's owner: its pattern; for a group of one map,
 * that map's own path; with --group type, its biggest map's path. */
static const char *group_owner(const struct report *r, const struct map_group *g, char *buf,
			       size_t n)
{
	const struct map_entry *big = g->maps ? &r->maps[g->biggest] : NULL;

	if (g->unreachable)
		return "(unreachable)";
	if (g->maps == 1 && big && big->nroots)
		return big->roots[0];
	if (g->pattern)
		return g->pattern;
	if (big && big->nroots) {
		snprintf(buf, n, "e.g. %s", big->roots[0]);
		return buf;
	}
	return "(path not recorded)";
}

int tui_groups_init(struct tui_groups *g, const struct report *r, uint64_t min_reclaimable,
		    bool ascii)
{
	size_t n = r->ngroups;
	char buf[1100];

	memset(g, 0, sizeof(*g));
	g->r = r;
	g->key = TUI_G_RECLAIM;
	if (n == 0)
		return 0;
	g->owner = calloc(n, sizeof(*g->owner));
	g->type = calloc(n, sizeof(*g->type));
	g->hay = calloc(n, sizeof(*g->hay));
	g->all = calloc(n, sizeof(*g->all));
	g->shown = calloc(n, sizeof(*g->shown));
	g->scratch = calloc(n, sizeof(*g->scratch));
	if (!g->owner || !g->type || !g->hay || !g->all || !g->shown || !g->scratch)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct map_group *gr = &r->groups[i];
		if (!(g->owner[i] = escape_name(group_owner(r, gr, buf, sizeof(buf)), ascii)) ||
		    !(g->type[i] = escape_name(gr->type ? gr->type : "(type unknown)", ascii)) ||
		    !(g->hay[i] = malloc(strlen(g->owner[i]) + strlen(g->type[i]) + 2)))
			return -1;
		sprintf(g->hay[i], "%s\n%s", g->owner[i], g->type[i]);
		lower_ascii(g->hay[i]);
		if (gr->reclaimable_bytes >= min_reclaimable)
			g->all[g->nall++] = i;
	}
	tui_groups_sort(g, TUI_G_RECLAIM, false);
	return 0;
}

void tui_groups_free(struct tui_groups *g)
{
	if (!g)
		return;
	for (size_t i = 0; g->r && i < g->r->ngroups; i++) {
		if (g->owner)
			free(g->owner[i]);
		if (g->type)
			free(g->type[i]);
		if (g->hay)
			free(g->hay[i]);
	}
	free(g->owner);
	free(g->type);
	free(g->hay);
	free(g->all);
	free(g->shown);
	free(g->scratch);
	g->owner = g->type = g->hay = NULL;
	g->all = g->shown = g->scratch = NULL;
	g->nall = g->nshown = 0;
}

static int groups_cmp(const struct tui_groups *g, size_t i, size_t j)
{
	const struct map_group *a = &g->r->groups[i], *b = &g->r->groups[j];
	int c;

	switch (g->key) {
	case TUI_G_RETAINED:
		c = u64_desc(a->retained_bytes, b->retained_bytes);
		break;
	case TUI_G_MAPS:
		c = u64_desc(a->maps, b->maps);
		break;
	case TUI_G_COUNT:
		c = u64_desc(a->count, b->count);
		break;
	case TUI_G_OWNER:
		c = name_asc(g->owner[i], g->owner[j]);
		break;
	case TUI_G_TYPE:
		c = name_asc(g->type[i], g->type[j]);
		break;
	default:
		c = u64_desc(a->reclaimable_bytes, b->reclaimable_bytes);
		break;
	}
	if (g->reverse)
		c = -c;
	/* Groups nothing reaches come last, whatever the order. */
	if (a->unreachable != b->unreachable)
		c = a->unreachable ? 1 : -1;
	if (!c)
		c = u64_desc(a->reclaimable_bytes, b->reclaimable_bytes);
	if (!c)
		c = u64_desc(a->retained_bytes, b->retained_bytes);
	if (!c)
		c = name_asc(g->owner[i], g->owner[j]);
	if (!c)
		c = (i > j) - (i < j);
	return c;
}

static void groups_msort(const struct tui_groups *g, size_t *v, size_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;

	groups_msort(g, v, tmp, h);
	groups_msort(g, v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = groups_cmp(g, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

void tui_groups_sort(struct tui_groups *g, enum tui_gcol key, bool reverse)
{
	g->key = (unsigned)key < TUI_GCOLS ? key : TUI_G_RECLAIM;
	g->reverse = reverse;
	if (g->nall)
		groups_msort(g, g->all, g->scratch, g->nall);
	tui_groups_filter(g, g->filter);
}

void tui_groups_filter(struct tui_groups *g, const char *needle)
{
	char want[sizeof(g->filter)];

	filter_prepare(want, sizeof(want), needle);
	memcpy(g->filter, want, strlen(want) + 1);
	g->nshown = g->hidden = g->inscope = 0;
	for (size_t k = 0; k < g->nall; k++) {
		size_t i = g->all[k];
		if (g->r->groups[i].unreachable && !g->unreachable) {
			g->hidden++;
			continue;
		}
		g->inscope++;
		if (!*want || strstr(g->hay[i], want))
			g->shown[g->nshown++] = i;
	}
}

void tui_groups_show_unreachable(struct tui_groups *g, bool on)
{
	g->unreachable = on;
	tui_groups_filter(g, g->filter);
}

/* ==== The storage picture =============================================== */

/* Add storage cells [from, to) to one screen cell. */
static void cell_cover(struct tui_cell *c, const struct map_storage *st, bool classic,
		       uint64_t from, uint64_t to)
{
	c->first = from;
	c->n = to - from;
	for (uint64_t i = from; i < to; i++) {
		unsigned v = st->cells[i], chain = classic ? CELL_CHAIN(v) : 0;
		uint64_t slots = 8 * (1 + (uint64_t)chain), live = CELL_LIVE(v);

		c->live += live < slots ? live : slots;
		c->slots += slots;
		c->tomb |= CELL_TOMB(v);
		if (chain > c->chain)
			c->chain = (uint8_t)chain;
	}
}

/* Spread storage cells [first, first+n) evenly over at most m screen cells
 * starting at grid index g. */
static void spread(struct tui_picture *p, const struct map_storage *st, bool classic,
		   uint64_t first, uint64_t n, size_t g, size_t m)
{
	if (m > n)
		m = (size_t)n;
	for (size_t j = 0; j < m; j++) {
		uint64_t from = first + (uint64_t)((unsigned __int128)j * n / m);
		uint64_t to = first + (uint64_t)((unsigned __int128)(j + 1) * n / m);

		cell_cover(&p->cells[g + j], st, classic, from, to);
		if (to - from > p->per_cell)
			p->per_cell = to - from;
	}
}

/* Tables as [start, end) runs, if the table list is sane. */
static bool table_bounds(const struct map_storage *st, uint64_t t, uint64_t *s, uint64_t *e)
{
	*s = st->table_start[t];
	*e = t + 1 < st->ntables ? st->table_start[t + 1] : st->ncells;
	return *s <= *e && *e <= st->ncells;
}

static int swiss_by_table(struct tui_picture *p, const struct map_storage *st)
{
	uint64_t w = (uint64_t)p->w, h = (uint64_t)p->h, need = 0, s, e;

	for (uint64_t t = 0; t < st->ntables; t++) {
		if (!table_bounds(st, t, &s, &e))
			return 0;
		need += (e - s + w - 1) / w;
	}
	if (need <= h) {        /* every group its own cell, a table per row run */
		uint64_t row = 0;
		for (uint64_t t = 0; t < st->ntables; t++) {
			table_bounds(st, t, &s, &e);
			spread(p, st, false, s, e - s, (size_t)(row * w), (size_t)(e - s));
			row += (e - s + w - 1) / w;
		}
		return 1;
	}
	if (st->ntables <= h) { /* each table an equal share of the rows */
		uint64_t share = h / st->ntables;
		for (uint64_t t = 0; t < st->ntables; t++) {
			table_bounds(st, t, &s, &e);
			spread(p, st, false, s, e - s, (size_t)(t * share * w),
			       (size_t)(share * w));
		}
		return 1;
	}
	return 0;
}

int tui_picture_build(const struct map_storage *st, enum map_layout layout, int w, int h,
		      struct tui_picture *p)
{
	memset(p, 0, sizeof(*p));
	if (w < 1 || h < 1)
		return 0;
	p->w = w;
	p->h = h;
	size_t grid = (size_t)w * (size_t)h;
	if (!(p->cells = calloc(grid, sizeof(*p->cells))))
		return -1;
	if (!st || !st->cells || !st->ncells)
		return 0;

	if (layout == LAYOUT_SWISS && st->table_start && st->ntables)
		p->by_table = swiss_by_table(p, st);
	if (!p->by_table)
		spread(p, st, layout == LAYOUT_CLASSIC, 0, st->ncells, 0,
		       st->ncells < grid ? (size_t)st->ncells : grid);
	for (size_t g = grid; g-- > 0;)
		if (p->cells[g].n) {
			p->rows = (int)(g / (size_t)w) + 1;
			break;
		}
	return 0;
}

void tui_picture_free(struct tui_picture *p)
{
	if (!p)
		return;
	free(p->cells);
	p->cells = NULL;
	p->w = p->h = p->rows = 0;
}

int tui_shade(const struct tui_cell *c, int nlevels)
{
	if (nlevels < 2 || !c->n || !c->slots || !c->live)
		return 0;
	if (c->live >= c->slots)
		return nlevels - 1;
	return 1 + (int)((unsigned __int128)c->live * (unsigned)(nlevels - 2) / c->slots);
}

unsigned tui_bar(uint64_t v, uint64_t max, unsigned width)
{
	if (!v || !max || !width)
		return 0;
	if (v >= max)
		return width;
	unsigned __int128 len = ((unsigned __int128)v * width + max / 2) / max;
	return len ? (unsigned)len : 1;
}

/* ==== Text ============================================================== */

/* Length of the UTF-8 sequence at s, and its code point; 0 for a byte that
 * does not start a valid one. */
static int utf8_next(const char *str, uint32_t *cp)
{
	return format_utf8_decode((const unsigned char *)str, cp);
}

char *tui_ascii(const char *esc)
{
	const char *p = esc ? esc : "";
	char *out = malloc(strlen(p) * 10 + 1), *q = out; /* \UXXXXXXXX per 4 bytes at most */

	if (!out)
		return NULL;
	while (*p) {
		uint32_t cp;
		int len = utf8_next(p, &cp);

		if (len == 0) {
			q += sprintf(q, "\\x%02x", (unsigned char)*p);
			p++;
		} else if (cp >= 0x80) {
			q += sprintf(q, cp > 0xffff ? "\\U%08" PRIx32 : "\\u%04" PRIx32, cp);
			p += len;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	return out;
}


/* Append bytes to out (size n, *used so far) only while they fit whole. */
static void put_bytes(char *out, size_t n, size_t *used, const char *s, size_t len)
{
	if (*used + len + 1 > n)
		return;
	memcpy(out + *used, s, len);
	*used += len;
	out[*used] = '\0';
}

size_t tui_fit(const char *esc, size_t w, bool ascii, char *out, size_t n)
{
	const char *s = esc ? esc : "", *ell = ascii ? "~" : "…";
	size_t used = 0, total = format_width(s), cols;

	if (!n)
		return 0;
	out[0] = '\0';
	if (total <= w) {
		size_t done = 0;
		while (*s) {
			int len = format_cp(s, &cols);
			if (used + (size_t)len + 1 > n)
				break;
			put_bytes(out, n, &used, s, (size_t)len);
			done += cols;
			s += len;
		}
		return done;
	}
	if (w == 0)
		return 0;

	const char *h, *t;
	size_t kept = format_elide(s, w, &h, &t);
	put_bytes(out, n, &used, s, (size_t)(h - s));
	put_bytes(out, n, &used, ell, strlen(ell));
	put_bytes(out, n, &used, t, strlen(t));
	return kept + 1;
}

/* Drop import paths from qualified names ("github.com/acme/cache.Key" →
 * "cache.Key") to fit a narrow column.  A path may one day hold a map key
 * in quotes, with any '/' in it: what is quoted stays.  In place. */
static void drop_import_paths(char *s, bool path)
{
	char *out = s, *name = s;
	bool quoted = false;

	for (const char *p = s; *p; p++) {
		if (path && *p == '"' && (p == s || p[-1] != '\\'))
			quoted = !quoted;
		if (*p == '/' && !quoted) {
			out = name;
			continue;
		}
		*out++ = *p;
		if (strchr("[]*(){},; ", *p))
			name = out;
	}
	*out = '\0';
}

/* Drop package qualifiers from a type ("map[string]*main.Session" →
 * "map[string]*Session"): in a Go type a '.' only ever follows one.  The
 * detail screen shows the type whole.  In place. */
static void drop_packages(char *s)
{
	char *out = s, *ident = s;

	for (const char *p = s; *p; p++) {
		bool word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || (unsigned char)*p >= 0x80;
		if (*p == '.' && out > ident) {
			out = ident;
			continue;
		}
		*out++ = *p;
		if (!word)
			ident = out;
	}
	*out = '\0';
}

static void copy_fit(const char *s, size_t w, char *out, size_t n, size_t *cols)
{
	size_t used = 0, c;

	*cols = 0;
	out[0] = '\0';
	while (*s) {
		int len = format_cp(s, &c);
		if (*cols + c > w || used + (size_t)len + 1 > n)
			break;
		memcpy(out + used, s, (size_t)len);
		used += (size_t)len;
		*cols += c;
		s += len;
	}
	out[used] = '\0';
}

/* The end of s that fits in w columns. */
static const char *tail_fit(const char *s, size_t w)
{
	const char *t = s + strlen(s);
	size_t cols = 0, c;

	while (t > s) {
		const char *b = t - 1;
		while (b > s && ((unsigned char)*b & 0xc0) == 0x80)
			b--;
		format_cp(b, &c);
		if (cols + c > w)
			break;
		cols += c;
		t = b;
	}
	return t;
}

size_t tui_shorten(const char *esc, enum tui_name kind, size_t w, bool ascii, char *out, size_t n)
{
	const char *ell = ascii ? "~" : "…";
	char buf[1024];
	size_t cols;

	if (!n)
		return 0;
	out[0] = '\0';
	if (format_width(esc) <= w || strlen(esc) >= sizeof(buf))
		return tui_fit(esc, w, ascii, out, n);
	strcpy(buf, esc);
	drop_import_paths(buf, kind == TUI_NAME_PATH);
	if (kind == TUI_NAME_TYPE && format_width(buf) > w)
		drop_packages(buf);
	if (format_width(buf) <= w || w < 2)
		return tui_fit(buf, w, ascii, out, n);
	if (kind == TUI_NAME_TYPE) {
		/* Keep "map[K]" whole and cut the value type's end. */
		size_t close = 0;
		if (!strncmp(buf, "map[", 4)) {
			int depth = 0;
			for (size_t i = 3; buf[i]; i++) {
				depth += buf[i] == '[';
				if (buf[i] == ']' && --depth == 0) {
					close = i + 1;
					break;
				}
			}
		}
		char head[1024];
		memcpy(head, buf, close);
		head[close] = '\0';
		if (!close || format_width(head) + 2 > w) {
			if (close)
				return tui_fit(buf, w, ascii, out, n);   /* the key alone is too wide */
			close = 0;
		}
		copy_fit(buf, w - 1, out, n - strlen(ell), &cols);
		if (strlen(out) + strlen(ell) + 1 <= n)
			strcat(out, ell);
		return cols + 1;
	}
	/* A path: what rows of one owner share is its start; keep the end. */
	const char *t = tail_fit(buf, w - 1);
	size_t tw = format_width(t);
	for (const char *q = t; *q && format_width(q) * 3 >= tw * 2; q++)
		if (q > t && (q[-1] == '.' || *q == '[' || q[-1] == ' ')) {
			t = q;
			break;
		}
	if (strlen(ell) + strlen(t) + 1 > n)
		return tui_fit(buf, w, ascii, out, n);
	strcpy(out, ell);
	strcat(out, t);
	return 1 + format_width(t);
}

/* ==== The terminal ====================================================== */

/* The terminal is a process-wide resource: the signal and atexit handlers
 * that give it back need to find it without an argument. */
static volatile sig_atomic_t curses_on;
static SCREEN *tui_screen;
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static struct sigaction saved_actions[sizeof(fatal_signals) / sizeof(fatal_signals[0])];

static void terminal_restore(void)
{
	if (curses_on) {
		curses_on = 0;
		endwin();
	}
}

/* Give the terminal back, then die of the signal as if we had not caught
 * it (SA_RESETHAND put back the default action; the raised signal is
 * delivered when this handler returns). */
static void on_fatal_signal(int sig)
{
	terminal_restore();
	raise(sig);
}

static void signals_install(void)
{
	static bool atexit_done;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, &saved_actions[i]);
	if (!atexit_done && atexit(terminal_restore) == 0)
		atexit_done = true;
}

static void signals_restore(void)
{
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &saved_actions[i], NULL);
}

int tui_check_terminal(struct ms_error *err)
{
	const char *term = getenv("TERM");

	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return ms_err(err, MS_EUSAGE, "--tui needs a terminal, but standard %s is not one;"
			      " in a pipe or a script use the text or --json output",
			      isatty(STDOUT_FILENO) ? "input" : "output");
	if (!term || !*term || !strcmp(term, "dumb"))
		return ms_err(err, MS_EUSAGE, "--tui needs a terminal that can move the cursor,"
			      " but TERM is %s; set TERM (e.g. TERM=xterm) or use the text output",
			      term && *term ? "dumb" : "not set");
	return 0;
}

/* ---- State ------------------------------------------------------------- */

enum {
	AT_TITLE, AT_HEADER, AT_SORTCOL, AT_SELECT, AT_FKEY, AT_LIVE, AT_TOMB, AT_CHAIN, AT_BAR,
	AT_BIG, AT_DIM, AT_NATTRS
};

enum view { S_GROUPS, S_LIST, S_DETAIL };

/* Keys as ints: characters as their code point, curses' function keys
 * moved above Unicode so the two never meet. */
#define FKEY(k) ((k) + 0x110000)
#define CTRL(c) ((c) & 0x1f)
#define ESC 27

/* Where a list screen is: its selected row and first row on screen. */
struct cursor {
	size_t cur, top;
};

struct tui {
	const struct report *r;
	struct tui_rows rows;
	struct tui_groups groups;
	struct tui_picture *pics;  /* per map of r, built when first shown */
	size_t kept[8], nkept;     /* maps whose picture is kept, oldest first */
	bool ascii, color;
	attr_t attr[AT_NATTRS];
	enum view screen;
	bool grouped;              /* the report has groups: the TUI opens on them */
	bool help, editing, quit;
	char edit[sizeof(((struct tui_rows *)0)->filter)];
	uint64_t hidden_below;     /* min_reclaimable */
	/* the list screens */
	struct cursor mc, gc;      /* maps, groups */
	int col_x[TUI_NCOLS + 1];  /* where the last drawn columns start */
	int col_w[TUI_NCOLS];
	int list_y, list_h;
	/* detail */
	size_t map;                /* index into r->maps */
	int scroll, lines, body_h;
	bool chains, fill_hist;    /* classic: picture of chains; other histogram */
};

static const char *const ramp_ascii[] = { " ", ".", ":", "-", "=", "+", "*", "#", "%", "@" };
static const char *const ramp_utf8[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const eighths[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void attrs_init(struct tui *t)
{
	static const struct { short fg, bg; attr_t mono; } spec[AT_NATTRS] = {
		[AT_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_REVERSE | A_BOLD },
		[AT_HEADER] = { COLOR_BLACK, COLOR_GREEN, A_REVERSE },
		[AT_SORTCOL] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE | A_BOLD },
		[AT_SELECT] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE | A_BOLD },
		[AT_FKEY] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE },
		[AT_LIVE] = { COLOR_GREEN, -1, A_NORMAL },
		[AT_TOMB] = { COLOR_RED, -1, A_BOLD },
		/* A background, so an empty bucket with a chain shows too. */
		[AT_CHAIN] = { COLOR_BLACK, COLOR_YELLOW, A_UNDERLINE },
		[AT_BAR] = { COLOR_CYAN, -1, A_NORMAL },
		[AT_BIG] = { COLOR_RED, -1, A_BOLD },
		[AT_DIM] = { COLOR_BLUE, -1, A_NORMAL },
	};
	const char *nc = getenv("NO_COLOR");

	t->color = has_colors() && !(nc && *nc) && start_color() == OK;
	if (t->color && use_default_colors() != OK)
		t->color = false;   /* -1 backgrounds need it */
	for (int i = 0; i < AT_NATTRS; i++) {
		t->attr[i] = spec[i].mono;
		if (t->color && init_pair((short)(i + 1), spec[i].fg, spec[i].bg) == OK)
			t->attr[i] = COLOR_PAIR(i + 1) |
				     (i == AT_TITLE || i == AT_TOMB || i == AT_BIG ? A_BOLD : 0);
	}
}

/* ---- Drawing helpers --------------------------------------------------- */

/* esc in at most w columns at (y, x); returns the columns drawn. */
static int put(int y, int x, int w, const char *esc, attr_t a, bool ascii)
{
	char buf[4096];
	size_t cols;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	if (w > 1000)
		w = 1000;
	cols = tui_fit(esc, (size_t)w, ascii, buf, sizeof(buf));
	attrset(a);
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	return (int)cols;
}

/* Like put, for text the program composed itself (printf-style). */
static int putf(struct tui *t, int y, int x, int w, attr_t a, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int putf(struct tui *t, int y, int x, int w, attr_t a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(y, x, w, buf, a, t->ascii);
}

/* An untrusted string escaped for this terminal, then put. */
static int put_untrusted(struct tui *t, int y, int x, int w, const char *s, attr_t a)
{
	char *e = escape_name(s, t->ascii);
	int n = 0;

	if (e)
		n = put(y, x, w, e, a, t->ascii);
	free(e);
	return n;
}

static void fill_row(int y, attr_t a)
{
	if (y < 0 || y >= LINES)
		return;
	attrset(a);
	move(y, 0);
	for (int x = 0; x < COLS; x++)
		addch(' ');
	attrset(A_NORMAL);
}

/* A name in a column, shortened where it says least (tui_shorten). */
static int put_name(struct tui *t, int y, int x, int w, const char *esc, bool path, attr_t a)
{
	char buf[4096];

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	size_t cols = tui_shorten(esc, path ? TUI_NAME_PATH : TUI_NAME_TYPE, (size_t)w, t->ascii,
				  buf, sizeof(buf));
	attrset(a);
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	return (int)cols;
}

/* A count in w columns: exact when it fits, else scaled ("12.3M"). */
static void fmt_count(uint64_t v, int w, char *buf, size_t n)
{
	static const char sfx[] = "kMGTPE";
	double x = (double)v;
	int k = -1;

	snprintf(buf, n, "%" PRIu64, v);
	if ((int)strlen(buf) <= w)
		return;
	while (x >= 999.95 && k < 5) {
		x /= 1000;
		k++;
	}
	snprintf(buf, n, "%.1f%c", x, sfx[k < 0 ? 0 : k]);
}

static void fmt_fill(const struct map_figures *f, char *buf, size_t n)
{
	double pct;

	if (!f->capacity_slots) {
		snprintf(buf, n, "-");
		return;
	}
	pct = (double)f->count * 100.0 / (double)f->capacity_slots;
	if (pct < 99.95)
		snprintf(buf, n, "%.1f%%", pct);
	else if (pct < 9999.5)
		snprintf(buf, n, "%.0f%%", pct);
	else
		snprintf(buf, n, "?");  /* inconsistent figures; see the warnings */
}

/* ---- The function bar -------------------------------------------------- */

struct fkey {
	const char *key, *label;
};

static const struct fkey group_keys[] = {
	{ "?", "Help" }, { "Enter", "Maps" }, { "/", "Filter" }, { "s", "Sort" },
	{ "u", "Unreachable" }, { "m", "All maps" }, { "q", "Quit" },
};
static const struct fkey list_keys[] = {
	{ "?", "Help" }, { "/", "Filter" }, { "s", "Sort" }, { "r", "Reverse" },
	{ "u", "Unreachable" }, { "Enter", "Open" }, { "q", "Quit" },
};
static const struct fkey sub_list_keys[] = {
	{ "?", "Help" }, { "/", "Filter" }, { "s", "Sort" }, { "r", "Reverse" },
	{ "Enter", "Open" }, { "q", "Owners" },
};
static const struct fkey edit_keys[] = {
	{ "Enter", "Keep filter" }, { "Esc", "Clear" }, { "^U", "Erase" },
	{ "Up/Dn", "Move" },
};
static const struct fkey detail_keys[] = {
	{ "?", "Help" }, { "n", "Next" }, { "p", "Prev" }, { "c", "Chains" },
	{ "f", "Histogram" }, { "q", "Back" },
};
static const struct fkey swiss_detail_keys[] = {
	{ "?", "Help" }, { "n", "Next" }, { "p", "Prev" }, { "q", "Back" },
};
static const struct fkey help_keys[] = {
	{ "q", "Close help" },
};

static void draw_fbar(struct tui *t, const struct fkey *k, size_t n)
{
	int y = LINES - 1, x = 0;

	fill_row(y, A_NORMAL);
	for (size_t i = 0; i < n && x < COLS; i++) {
		x += put(y, x, COLS - x, k[i].key, t->attr[AT_FKEY], t->ascii) + 1;
		x += put(y, x, COLS - x, k[i].label, A_NORMAL, t->ascii) + 2;
	}
}

/* ---- Header: what was analysed ----------------------------------------- */

/* " mapscan 0.1.0 — Go go1.26.8, swiss maps — core.4711" */
static void draw_title(struct tui *t)
{
	const struct report *r = t->r;
	const char *dash = t->ascii ? " - " : " — ";
	attr_t a = t->attr[AT_TITLE];
	int x;

	fill_row(0, a);
	x = putf(t, 0, 1, COLS - 1, a, "mapscan %s%sGo ", MAPSCAN_VERSION, dash) + 1;
	x += put_untrusted(t, 0, x, COLS - x, r->go_version ? r->go_version : "(version unknown)", a);
	x += putf(t, 0, x, COLS - x, a, ", %s maps%s", layout_name(r->layout), dash);
	put_untrusted(t, 0, x, COLS - x - 1, r->source ? r->source : "", a);
}

/* "22 maps, 3.0 MiB retained, 2.9 MiB reclaimable (96%)", as the text
 * output says it; totals always cover every reachable map of the report,
 * the maps nothing reaches counted apart. */
static void draw_totals(struct tui *t, int y)
{
	const struct report *r = t->r;
	char ret[16], rec[16], pct[24] = "";

	human_size(r->total_retained, ret, sizeof(ret));
	human_size(r->total_reclaimable, rec, sizeof(rec));
	if (r->total_retained) {
		char p[16];
		format_pct(r->total_reclaimable, r->total_retained, p, sizeof(p));
		snprintf(pct, sizeof(pct), " (%s)", p);
	}
	fill_row(y, A_NORMAL);
	size_t reach = r->nmaps - (size_t)r->unreachable_maps;
	int x = 1 + putf(t, y, 1, COLS - 2, A_BOLD, "%zu map%s, %s retained, %s reclaimable%s, %"
			 PRIu64 " entries", reach, reach == 1 ? "" : "s", ret, rec, pct,
			 r->total_count);
	char more[64];
	int mw = snprintf(more, sizeof(more), "; %" PRIu64 " more nothing reaches", r->unreachable_maps);
	if (r->unreachable_maps && x + mw < COLS)
		put(y, x, COLS - 1 - x, more, A_NORMAL, t->ascii);
}

/* ---- The list screens ------------------------------------------------- */

/* Each title plus the sort mark fits its column. */
#define W_SIZE 8
#define W_RET 9
#define W_COUNT 6
#define W_CAP 9
#define W_FILL 5
#define W_SHARE 6
#define W_MAPS 6
#define W_GCOUNT 8
#define NUMCOLS 5

static const char *const col_titles[TUI_NCOLS] = {
	"RECLAIM", "RETAINED", "COUNT", "CAPACITY", "FILL", "PATH", "TYPE",
};
static const char *const gcol_titles[TUI_GCOLS] = {
	"RECLAIM", "RETAINED", "SHARE", "MAPS", "COUNT", "OWNER", "TYPE",
};
static const int numw[NUMCOLS] = { W_SIZE, W_RET, W_COUNT, W_CAP, W_FILL };
static const int gnumw[NUMCOLS] = { W_SIZE, W_RET, W_SHARE, W_MAPS, W_GCOUNT };

/* Does the column's natural order put big values first? */
static bool col_descends(int c)
{
	return c < NUMCOLS && c != TUI_COL_FILL;
}

static bool groups_screen(const struct tui *t)
{
	return t->screen == S_GROUPS;
}

static struct cursor *cursor(struct tui *t)
{
	return groups_screen(t) ? &t->gc : &t->mc;
}

static size_t nshown(const struct tui *t)
{
	return groups_screen(t) ? t->groups.nshown : t->rows.nshown;
}

/* " (+3)", " (+3, cons.)", " (cons.)": what follows a map's path. */
static void root_suffix(const struct map_entry *m, char *sfx, size_t n)
{
	uint64_t more = (m->nroots > 1 ? m->nroots - 1 : 0) + m->more_roots;

	sfx[0] = '\0';
	if (more && m->conservative)
		snprintf(sfx, n, " (+%" PRIu64 ", cons.)", more);
	else if (more)
		snprintf(sfx, n, " (+%" PRIu64 ")", more);
	else if (m->conservative)
		snprintf(sfx, n, " (cons.)");
}

/* Columns' x and widths for the current screen: numbers, then the two
 * names sharing what is left, the first (path, owner: what tells rows
 * apart) before the type.  A list of one group's maps has one type, said
 * above the list: no type column. */
static void list_layout(struct tui *t)
{
	bool g = groups_screen(t);
	const int *w = g ? gnumw : numw;
	int x = 1, want_a = 4, want_b = 4;

	for (int c = 0; c < NUMCOLS; c++) {
		t->col_x[c] = x;
		/* A narrow screen keeps its room for the names: the share is
		 * the reclaimable bytes again (the scope line says it), the
		 * capacity is in the fill and the map's page. */
		t->col_w[c] = COLS < 100 && c == (g ? (int)TUI_G_SHARE : (int)TUI_COL_CAPACITY) ? 0 : w[c];
		if (t->col_w[c])
			x += w[c] + (c == NUMCOLS - 1 ? 2 : 1);
	}
	/* What each name needs whole, and once its package paths (and a
	 * type's qualifiers) are dropped; looked at on the rows a screen
	 * shows at most. */
	int short_a = 4, short_b = 4;
	char buf[1024];
	size_t first = cursor(t)->top, last = first + (size_t)(LINES > 5 ? LINES - 5 : 1);
	for (size_t k = first; k < nshown(t) && k < last; k++) {
		const char *pa, *pb;
		char sfx[48] = "";
		if (g) {
			size_t i = t->groups.shown[k];
			pa = t->groups.owner[i];
			pb = t->groups.type[i];
		} else {
			size_t i = t->rows.shown[k];
			root_suffix(&t->r->maps[i], sfx, sizeof(sfx));
			pa = t->rows.path[i];
			pb = t->rows.type[i];
		}
		int a = (int)format_width(pa) + (int)strlen(sfx), b = (int)format_width(pb);
		want_a = a > want_a ? a : want_a;
		want_b = b > want_b ? b : want_b;
		if (strlen(pa) < sizeof(buf)) {
			strcpy(buf, pa);
			drop_import_paths(buf, true);
			a = (int)format_width(buf) + (int)strlen(sfx);
		}
		if (strlen(pb) < sizeof(buf)) {
			strcpy(buf, pb);
			drop_import_paths(buf, false);
			drop_packages(buf);
			b = (int)format_width(buf);
		}
		short_a = a > short_a ? a : short_a;
		short_b = b > short_b ? b : short_b;
	}
	int avail = COLS - x - 1;
	if (avail < 10)
		avail = 10;
	bool no_type = !g && t->rows.group;
	int wa, wb;
	if (no_type) {
		wa = avail;
		wb = 0;
	} else if (want_a + 2 + want_b <= avail) {
		wa = want_a;
		wb = avail - 2 - wa;
	} else if (short_a + 2 + short_b <= avail) {
		/* Both fit shortened: the spare columns first to the type (short
		 * whole, it makes every row whole), then to the path. */
		int spare = avail - 2 - short_a - short_b;
		int more_b = want_b - short_b < spare ? want_b - short_b : spare;
		wb = short_b + more_b;
		wa = avail - 2 - wb;
	} else {
		/* The type keeps up to two fifths (its key type shows), the
		 * path the rest. */
		int tmin = avail * 2 / 5 < 16 ? 16 : avail * 2 / 5;
		if (tmin > short_b)
			tmin = short_b;
		wa = short_a < avail - 2 - tmin ? short_a : avail - 2 - tmin;
		wb = avail - 2 - wa;
	}
	t->col_x[NUMCOLS] = x;
	t->col_w[NUMCOLS] = wa;
	t->col_x[NUMCOLS + 1] = no_type ? COLS : x + wa + 2;
	t->col_w[NUMCOLS + 1] = wb;
	t->col_x[TUI_NCOLS] = COLS;
}

static void draw_list_header(struct tui *t, int y)
{
	bool g = groups_screen(t);
	int key = g ? (int)t->groups.key : (int)t->rows.key;
	bool reverse = g ? t->groups.reverse : t->rows.reverse;

	fill_row(y, t->attr[AT_HEADER]);
	for (int c = 0; c < TUI_NCOLS; c++) {
		const char *title = g ? gcol_titles[c] : col_titles[c];
		int w = t->col_w[c];
		int len = (int)strlen(title);
		int x = c < NUMCOLS ? t->col_x[c] + w - len : t->col_x[c];
		bool sorted = c == key || (g && c == TUI_G_SHARE && key == TUI_G_RECLAIM);
		attr_t a = sorted ? t->attr[AT_SORTCOL] : t->attr[AT_HEADER];

		if (w <= 0)
			continue;
		put(y, x, len, title, a, t->ascii);
		if (sorted && c == key) {
			bool down = col_descends(c) != reverse;
			put(y, x - 1, 1, t->ascii ? (down ? "v" : "^") : (down ? "▼" : "▲"), a,
			    t->ascii);
		}
	}
}

/* The five figures of a row, right-aligned in their columns. */
static void draw_numbers(struct tui *t, int y, char fig[NUMCOLS][32], attr_t base, attr_t first)
{
	for (int c = 0; c < NUMCOLS; c++)
		if (t->col_w[c])
			putf(t, y, t->col_x[c], t->col_w[c], c ? base : first, "%*s", t->col_w[c],
			     fig[c]);
}

static void draw_list_row(struct tui *t, int y, size_t i, bool selected)
{
	const struct map_entry *m = &t->r->maps[i];
	const struct map_figures *f = &m->fig;
	char fig[NUMCOLS][32];
	attr_t base = selected ? t->attr[AT_SELECT] : A_NORMAL;

	human_size(f->reclaimable_bytes, fig[0], sizeof(fig[0]));
	human_size(f->retained_bytes, fig[1], sizeof(fig[1]));
	fmt_count(f->count, W_COUNT, fig[2], sizeof(fig[2]));
	fmt_count(f->capacity_slots, W_CAP, fig[3], sizeof(fig[3]));
	fmt_fill(f, fig[4], sizeof(fig[4]));
	fill_row(y, base);
	draw_numbers(t, y, fig, base, selected || f->reclaimable_bytes < (1u << 20) ? base
		     : t->attr[AT_BIG]);

	int x = t->col_x[TUI_COL_PATH], pw = t->col_w[TUI_COL_PATH];
	if (!m->nroots) {
		put(y, x, pw, m->unreachable ? (m->garbage > 0 ? "(garbage)" : "(unreachable)")
		    : "(path not recorded)", base, t->ascii);
	} else {
		char sfx[48];
		root_suffix(m, sfx, sizeof(sfx));
		int sw = (int)strlen(sfx);
		int used = put_name(t, y, x, pw - sw, t->rows.path[i], true, base);
		put(y, x + used, sw, sfx, base, t->ascii);
	}
	if (t->col_w[TUI_COL_TYPE] > 0)
		put_name(t, y, t->col_x[TUI_COL_TYPE], t->col_w[TUI_COL_TYPE], t->rows.type[i], false,
			 base);
}

static void draw_group_row(struct tui *t, int y, size_t i, bool selected)
{
	const struct report *r = t->r;
	const struct map_group *g = &r->groups[i];
	char fig[NUMCOLS][32];
	attr_t base = selected ? t->attr[AT_SELECT] : A_NORMAL;

	human_size(g->reclaimable_bytes, fig[0], sizeof(fig[0]));
	human_size(g->retained_bytes, fig[1], sizeof(fig[1]));
	if (g->unreachable || !r->total_reclaimable)
		snprintf(fig[2], sizeof(fig[2]), "-");
	else
		snprintf(fig[2], sizeof(fig[2]), "%.1f%%",
			 (double)g->reclaimable_bytes * 100.0 / (double)r->total_reclaimable);
	fmt_count(g->maps, W_MAPS, fig[3], sizeof(fig[3]));
	fmt_count(g->count, W_GCOUNT, fig[4], sizeof(fig[4]));
	fill_row(y, base);
	draw_numbers(t, y, fig, base, selected || g->reclaimable_bytes < (1u << 20) ? base
		     : t->attr[AT_BIG]);
	put_name(t, y, t->col_x[TUI_G_OWNER], t->col_w[TUI_G_OWNER], t->groups.owner[i], true, base);
	put_name(t, y, t->col_x[TUI_G_TYPE], t->col_w[TUI_G_TYPE], t->groups.type[i], false, base);
}

static void list_clamp(struct tui *t)
{
	struct cursor *c = cursor(t);
	size_t n = nshown(t), h = t->list_h > 0 ? (size_t)t->list_h : 1;

	if (n == 0) {
		c->cur = c->top = 0;
		return;
	}
	if (c->cur >= n)
		c->cur = n - 1;
	if (c->cur < c->top)
		c->top = c->cur;
	if (c->cur >= c->top + h)
		c->top = c->cur - h + 1;
	if (c->top + h > n)
		c->top = n > h ? n - h : 0;
}

/* "12 of 443 maps": the rows shown of those in scope. */
static int shown_count(struct tui *t, char *buf, size_t n)
{
	if (groups_screen(t))
		return snprintf(buf, n, "%zu of %zu group%s", t->groups.nshown, t->groups.inscope,
				t->groups.inscope == 1 ? "" : "s");
	return snprintf(buf, n, "%zu of %zu map%s", t->rows.nshown, t->rows.inscope,
			t->rows.inscope == 1 ? "" : "s");
}

static void draw_status(struct tui *t, int y)
{
	bool g = groups_screen(t);
	const char *filter = g ? t->groups.filter : t->rows.filter;

	fill_row(y, A_NORMAL);
	if (t->editing) {
		char count[64];
		int cw = shown_count(t, count, sizeof(count));
		put(y, COLS - 1 - cw, cw, count, A_NORMAL, t->ascii);
		int x = put(y, 1, COLS - 2, g ? "Filter (owner or type): " : "Filter (type or path): ",
			    A_BOLD, t->ascii) + 1;
		char *e = escape_name(t->edit, t->ascii);
		int w = COLS - x - 2 - cw - 2;
		if (e) {
			/* Show the end of what is being typed. */
			const char *s = e;
			while (format_width(s) > (size_t)w && *s) {
				size_t c;
				s += format_cp(s, &c);
			}
			x += put(y, x, w, s, A_NORMAL, t->ascii);
		}
		free(e);
		move(y, x);
		return;
	}
	char key[64], below[16], msg[512];
	int col = g ? (int)t->groups.key : (int)t->rows.key;
	bool reverse = g ? t->groups.reverse : t->rows.reverse;
	const char *name = g ? tui_gcol_name((enum tui_gcol)col) : tui_col_name((enum tui_col)col);
	size_t hidden = g ? t->groups.hidden : t->rows.hidden;
	bool shows_unreachable = g ? t->groups.unreachable : t->rows.unreachable;
	int n;

	if (col >= NUMCOLS)
		snprintf(key, sizeof(key), "%s%s", name, reverse ? ", Z to A" : ", A to Z");
	else if (!g && col == TUI_COL_FILL)
		snprintf(key, sizeof(key), "fill, %s", reverse ? "fullest first" : "emptiest first");
	else
		snprintf(key, sizeof(key), "%s, %s", name,
			 col_descends(col) != reverse ? "largest first" : "smallest first");
	n = shown_count(t, msg, sizeof(msg));
	if (t->hidden_below) {
		human_size(t->hidden_below, below, sizeof(below));
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " (%s+ reclaimable)", below);
	}
	if (filter[0])
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " match \"%s\"", filter);
	if (hidden)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " (%zu unreachable: u)", hidden);
	else if (shows_unreachable)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " (with unreachable: u)");
	snprintf(msg + n, sizeof(msg) - (size_t)n, "; sorted by %s", key);
	/* The filter was typed by the user, but may hold anything: escape. */
	put_untrusted(t, y, 1, COLS - 2, msg, A_NORMAL);
}

/* Row 1 of a list of one group's maps: the group itself. */
static void draw_scope(struct tui *t, int y)
{
	const struct report *r = t->r;
	const struct map_group *g = &r->groups[t->rows.group - 1];
	char rec[16], line[1400], pct[16] = "";
	char *owner = escape_name(g->pattern ? g->pattern : g->unreachable
				  ? "maps nothing reaches" : "every map", t->ascii);
	char *type = escape_name(g->type ? g->type : "(type unknown)", t->ascii);

	fill_row(y, A_NORMAL);
	if (owner && type) {
		human_size(g->reclaimable_bytes, rec, sizeof(rec));
		if (!g->unreachable && r->total_reclaimable)
			snprintf(pct, sizeof(pct), " (%.1f%%)", (double)g->reclaimable_bytes * 100.0 /
				 (double)r->total_reclaimable);
		int x = 1 + put_name(t, y, 1, COLS / 2, owner, true, A_BOLD);
		snprintf(line, sizeof(line), ": %" PRIu64 " map%s, %s reclaimable%s, ", g->maps,
			 g->maps == 1 ? "" : "s", rec, pct);
		x += put(y, x, COLS - x - 1, line, A_NORMAL, t->ascii);
		put_name(t, y, x, COLS - x - 1, type, false, A_NORMAL);
	}
	free(owner);
	free(type);
}

static void draw_list(struct tui *t)
{
	bool g = groups_screen(t);
	struct cursor *c = cursor(t);

	draw_title(t);
	if (!g && t->rows.group)
		draw_scope(t, 1);
	else
		draw_totals(t, 1);
	list_layout(t);
	draw_list_header(t, 2);
	t->list_y = 3;
	t->list_h = LINES - 5;
	list_clamp(t);
	for (int k = 0; k < t->list_h; k++) {
		size_t row = c->top + (size_t)k;
		if (row >= nshown(t))
			break;
		if (g)
			draw_group_row(t, t->list_y + k, t->groups.shown[row], row == c->cur);
		else
			draw_list_row(t, t->list_y + k, t->rows.shown[row], row == c->cur);
	}
	const char *filter = g ? t->groups.filter : t->rows.filter;
	size_t hidden = g ? t->groups.hidden : t->rows.hidden;
	if (nshown(t) == 0)
		putf(t, t->list_y + 1, 3, COLS - 4, A_BOLD, "%s",
		     t->r->nmaps == 0 ? "No maps were found reachable from global variables."
		     : filter[0] ? "Nothing matches the filter (Esc clears it)."
		     : hidden ? "Only maps nothing reaches are left: u shows them."
		     : "No map has that much reclaimable (see --min-reclaimable).");
	draw_status(t, LINES - 2);
	if (t->editing)
		draw_fbar(t, edit_keys, NELEM(edit_keys));
	else if (g)
		draw_fbar(t, group_keys, NELEM(group_keys));
	else if (t->grouped)
		draw_fbar(t, sub_list_keys, NELEM(sub_list_keys));
	else
		draw_fbar(t, list_keys, NELEM(list_keys));
	if (t->editing) {
		/* draw_fbar moved the cursor; put it back at the filter's end. */
		draw_status(t, LINES - 2);
		curs_set(1);
	} else {
		curs_set(0);
	}
}

/* ---- The detail screen ------------------------------------------------- */

/* Lines of the detail page are numbered from 0; the page scrolls in the
 * body (rows 1 .. LINES-2).  row() maps a page line to a screen row. */
static int row(struct tui *t, int line)
{
	int y = 1 + line - t->scroll;
	return y >= 1 && y < LINES - 1 ? y : -1;
}

struct fig {
	const char *label;
	char value[40];
	char exact[40];            /* bytes, when shown exactly beside */
};

struct fig_group {
	struct fig f[7];
	int n;
	int lw, vw, ew;            /* label, value and exact widths */
};

static void group_add(struct fig_group *g, const char *label, const char *exact, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
static void group_add(struct fig_group *g, const char *label, const char *exact, const char *fmt,
		      ...)
{
	struct fig *f = &g->f[g->n++];
	va_list ap;

	f->label = label;
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
	snprintf(f->exact, sizeof(f->exact), "%s", exact ? exact : "");
	if ((int)strlen(label) > g->lw)
		g->lw = (int)strlen(label);
	if ((int)strlen(f->value) > g->vw)
		g->vw = (int)strlen(f->value);
	if ((int)strlen(f->exact) > g->ew)
		g->ew = (int)strlen(f->exact);
}

static int group_width(const struct fig_group *g, bool exact)
{
	return g->lw + 2 + g->vw + (exact && g->ew ? 2 + g->ew : 0);
}

/* The figures in three groups side by side (or wrapped below each other
 * on a narrow screen); returns the lines used. */
static int draw_figures(struct tui *t, const struct map_entry *m, int line)
{
	const struct map_figures *f = &m->fig;
	bool swiss = m->layout == LAYOUT_SWISS;
	struct fig_group g[3];
	char h[16], e[40];

	memset(g, 0, sizeof(g));
	human_size(f->reclaimable_bytes, h, sizeof(h));
	snprintf(e, sizeof(e), "%" PRIu64 " B", f->reclaimable_bytes);
	group_add(&g[0], "reclaimable", e, "%s", h);
	human_size(f->retained_bytes, h, sizeof(h));
	snprintf(e, sizeof(e), "%" PRIu64 " B", f->retained_bytes);
	group_add(&g[0], "retained", e, "%s", h);
	human_size(f->ideal_bytes, h, sizeof(h));
	snprintf(e, sizeof(e), "%" PRIu64 " B", f->ideal_bytes);
	group_add(&g[0], "ideal", e, "%s", h);
	fmt_fill(f, h, sizeof(h));
	group_add(&g[0], "fill", NULL, "%s", h);
	group_add(&g[0], "layout", NULL, "%s", layout_name(m->layout));

	group_add(&g[1], "count", NULL, "%" PRIu64, f->count);
	group_add(&g[1], "live slots", NULL, "%" PRIu64, f->live_slots);
	group_add(&g[1], "capacity", NULL, "%" PRIu64, f->capacity_slots);
	group_add(&g[1], "tombstones", NULL, "%" PRIu64, f->tombstones);
	group_add(&g[1], "growing", NULL, "%s", f->growing ? "yes" : "no");

	group_add(&g[2], swiss ? "groups" : "buckets", NULL, "%" PRIu64, f->buckets);
	group_add(&g[2], swiss ? "empty groups" : "empty buckets", NULL, "%" PRIu64,
		  f->empty_buckets);
	group_add(&g[2], "tables", NULL, "%" PRIu64, f->tables);
	group_add(&g[2], "overflow buckets", NULL, "%" PRIu64, f->overflow_buckets);
	group_add(&g[2], "spare overflow", NULL, "%" PRIu64, f->spare_overflow_buckets);
	group_add(&g[2], "old buckets", NULL, "%" PRIu64, f->old_buckets);

	/* Exact bytes beside the sizes when all three groups still fit. */
	const int gap = 4;
	bool exact = 1 + group_width(&g[0], true) + gap + group_width(&g[1], false) + gap +
		     group_width(&g[2], false) <= COLS;
	int x = 1, top = line, band_h = 0;

	for (int k = 0; k < 3; k++) {
		int w = group_width(&g[k], exact && k == 0);
		if (x > 1 && x + w > COLS) {   /* wrap to a band below */
			line += band_h;
			band_h = 0;
			x = 1;
		}
		for (int i = 0; i < g[k].n; i++) {
			const struct fig *fi = &g[k].f[i];
			int y = row(t, line + i);
			if (y < 0)
				continue;
			put(y, x, g[k].lw, fi->label, A_NORMAL, t->ascii);
			putf(t, y, x + g[k].lw + 2, g[k].vw, A_BOLD, "%*s", g[k].vw, fi->value);
			if (exact && k == 0 && fi->exact[0])
				putf(t, y, x + g[k].lw + 2 + g[k].vw + 2, g[k].ew, t->attr[AT_DIM],
				     "%*s", g[k].ew, fi->exact);
		}
		if (g[k].n > band_h)
			band_h = g[k].n;
		x += w + gap;
	}
	return line + band_h - top;
}

/* Split an escaped string into lines of at most w columns, breaking after
 * a space where one is near; calls put for each.  Returns lines used. */
static int draw_wrapped(struct tui *t, int line, int x, int w, const char *esc, attr_t a)
{
	char buf[2048];
	int n = 0;

	if (w < 8)
		w = 8;
	while (*esc) {
		const char *p = esc, *brk = NULL;
		size_t cols = 0, c;
		while (*p) {
			int len = format_cp(p, &c);
			if (cols + c > (size_t)w)
				break;
			cols += c;
			p += len;
			if (p[-1] == ' ')
				brk = p;
		}
		if (*p && brk && brk > esc)
			p = brk;
		size_t len = (size_t)(p - esc) < sizeof(buf) - 1 ? (size_t)(p - esc) : sizeof(buf) - 1;
		memcpy(buf, esc, len);
		buf[len] = '\0';
		int y = row(t, line + n);
		if (y >= 0)
			put(y, x, w, buf, a, t->ascii);
		n++;
		esc = p;
	}
	return n;
}

/* Where a name may go on over the next line: after a separator of its
 * parts or before a bracket, never next to a space (a line of the screen
 * neither ends nor starts with one, so that the lines joined give the name
 * back whole). */
static bool name_break(const char *s, const char *at)
{
	if (at <= s || !*at || *at == ' ' || at[-1] == ' ')
		return false;
	return strchr("./,])", at[-1]) || *at == '(' || *at == '[';
}

/* An escaped name from page line `line`, column x, w columns wide: what
 * does not fit goes on over lines indented two columns more.  Returns the
 * lines used. */
static int draw_name(struct tui *t, int line, int x, int w, const char *esc, attr_t a)
{
	char buf[2048];
	int n = 0;

	if (w < 12)
		w = 12;
	while (*esc) {
		const char *p = esc, *brk = NULL;
		size_t cols = 0, c;
		int lw = n ? w - 2 : w;
		while (*p) {
			int len = format_cp(p, &c);
			if (cols + c > (size_t)lw)
				break;
			cols += c;
			p += len;
			if (name_break(esc, p) && cols * 3 >= (size_t)lw)
				brk = p;
		}
		if (*p && brk)
			p = brk;
		else if (*p)
			/* No good place: not next to a space, at least. */
			while (p > esc + 1 && (*p == ' ' || p[-1] == ' '))
				p--;
		size_t len = (size_t)(p - esc) < sizeof(buf) - 1 ? (size_t)(p - esc) : sizeof(buf) - 1;
		memcpy(buf, esc, len);
		buf[len] = '\0';
		int y = row(t, line + n);
		if (y >= 0)
			put(y, n ? x + 2 : x, lw, buf, a, t->ascii);
		n++;
		esc = p;
	}
	return n ? n : 1;
}

/* An untrusted name, escaped, then draw_name. */
static int draw_untrusted(struct tui *t, int line, int x, int w, const char *s, attr_t a)
{
	char *e = escape_name(s, t->ascii);
	int n = e ? draw_name(t, line, x, w, e, a) : 1;

	free(e);
	return n;
}

/* A label in the left margin of the detail page. */
#define IND 9
static void draw_label(struct tui *t, int line, const char *label, attr_t a)
{
	int y = row(t, line);

	if (y >= 0)
		put(y, 1, IND, label, a, t->ascii);
}

/* The head of the detail page: the path that holds the map, its keys and
 * its owner group. */
static int draw_who(struct tui *t, const struct map_entry *m, int line)
{
	const struct report *r = t->r;
	int n = 0, w = COLS - IND - 2;

	draw_label(t, line, "path", A_NORMAL);
	if (m->nroots) {
		char more[64] = "";
		uint64_t k = m->nroots - 1 + m->more_roots;
		if (k)
			snprintf(more, sizeof(more), "  (+%" PRIu64 " more, listed below)", k);
		char *e = escape_name(m->roots[0], t->ascii);
		char *line_text = e ? malloc(strlen(e) + strlen(more) + 1) : NULL;
		if (line_text) {
			strcpy(line_text, e);
			strcat(line_text, more);
			n += draw_name(t, line, 1 + IND, w, line_text, A_BOLD);
		} else {
			n++;
		}
		free(line_text);
		free(e);
	} else {
		draw_wrapped(t, line, 1 + IND, w, !m->unreachable ? "(path not recorded)"
			     : m->garbage > 0 ? "nothing: garbage the last GC found dead, not yet freed"
			     : "nothing mapscan can read (garbage not yet freed, or untyped memory)",
			     A_NORMAL);
		n++;
	}
	/* The keys, as Go prints them (lib/keys.c escaped them already). */
	draw_label(t, line + n, "keys", A_NORMAL);
	if (m->nsample_keys) {
		size_t len = 1;
		for (unsigned i = 0; i < m->nsample_keys; i++)
			len += strlen(map_sample_key(m, i)) + 2;
		char *k = malloc(len), *e;
		if (k) {
			k[0] = '\0';
			for (unsigned i = 0; i < m->nsample_keys; i++) {
				if (i)
					strcat(k, ", ");
				strcat(k, map_sample_key(m, i));
			}
			e = format_escape(k, ESCAPE_KEY);
			if (e && t->ascii) {
				char *a = tui_ascii(e);
				free(e);
				e = a;
			}
			if (e)
				n += draw_name(t, line + n, 1 + IND, w, e, A_NORMAL);
			else
				n++;
			free(e);
		} else {
			n++;
		}
		free(k);
	} else {
		int y = row(t, line + n);
		if (y >= 0)
			put(y, 1 + IND, w, m->fig.count ? "(not read: run without --keys?)"
			    : "(none: the map is empty)", A_NORMAL, t->ascii);
		n++;
	}
	const struct map_group *g = m->group && m->group <= r->ngroups ? &r->groups[m->group - 1]
				    : NULL;
	if (g && g->maps > 1) {
		char rec[16], tail[160];
		human_size(g->reclaimable_bytes, rec, sizeof(rec));
		snprintf(tail, sizeof(tail), ": %" PRIu64 " maps, %s reclaimable", g->maps, rec);
		char *e = escape_name(g->pattern ? g->pattern : "(nothing reaches these)", t->ascii);
		char *txt = e ? malloc(strlen(e) + strlen(tail) + 1) : NULL;
		draw_label(t, line + n, "owner", A_NORMAL);
		if (txt) {
			strcpy(txt, e);
			strcat(txt, tail);
			n += draw_name(t, line + n, 1 + IND, w, txt, A_NORMAL);
		} else {
			n++;
		}
		free(txt);
		free(e);
	}
	return n;
}

/* Every path mapscan kept, precise ones first, then the notes. */
static int draw_roots(struct tui *t, const struct map_entry *m, int line)
{
	int n = 0, y, w = COLS - IND - 2;

	if (m->nroots) {
		draw_label(t, line, "held by", A_NORMAL);
		for (size_t i = 0; i < m->nroots; i++) {
			if (i == m->nprecise && i) {
				n += draw_wrapped(t, line + n, 1 + IND, w, "conservative (words that "
						  "only look like a pointer to it):", A_NORMAL);
			} else if (i == m->nprecise) {
				n += draw_wrapped(t, line + n, 1 + IND, w, "conservatively only (words "
						  "that only look like a pointer to it):", A_NORMAL);
			}
			n += draw_untrusted(t, line + n, 1 + IND, w, m->roots[i],
					    i < m->nprecise ? A_BOLD : A_NORMAL);
		}
		if (m->more_roots) {
			char more[96];
			snprintf(more, sizeof(more), "and %" PRIu64 " more reference%s, counted but "
				 "not kept", m->more_roots, m->more_roots == 1 ? "" : "s");
			n += draw_wrapped(t, line + n, 1 + IND, w, more, A_NORMAL);
		}
	}
	char note[160];
	note[0] = 0;
	if (m->type_guessed)
		snprintf(note, sizeof(note), "type not proven: the best of %u map types whose "
			 "storage has this layout (the figures hold for all)", m->type_candidates);
	if (note[0] || m->conservative || m->on_stack || m->fig.growing || m->nwarnings)
		draw_label(t, line + n, "notes", A_NORMAL);
	if (note[0])
		n += draw_wrapped(t, line + n, 1 + IND, w, note, A_NORMAL);
	if (m->conservative)
		n += draw_wrapped(t, line + n, 1 + IND, w, "conservative: every path "
				  "goes through a word that only looks like a pointer", A_NORMAL);
	if (m->on_stack)
		n += draw_wrapped(t, line + n, 1 + IND, w,
				  "the header is in a goroutine's stack frame", A_NORMAL);
	if (m->fig.growing) {
		char g[128];
		snprintf(g, sizeof(g), "growing: the %" PRIu64 " old buckets stay until "
			 "writes finish moving the entries out of them", m->fig.old_buckets);
		n += draw_wrapped(t, line + n, 1 + IND, w, g, A_NORMAL);
	}
	for (size_t i = 0; i < m->nwarnings; i++) {
		char *e = escape_name(m->warnings[i], t->ascii);
		if (!e)
			continue;
		if ((y = row(t, line + n)) >= 0)
			put(y, 1, IND, "warning", t->attr[AT_TOMB], t->ascii);
		n += draw_wrapped(t, line + n, 1 + IND, w, e, A_NORMAL);
		free(e);
	}
	return n;
}

/* The histogram of chain lengths (classic) or live slots per group (Swiss,
 * or head buckets for classic with 'f'), at (line, x), w wide; 9 lines. */
static void draw_histogram(struct tui *t, const struct map_entry *m, int line, int x, int w)
{
	const struct map_storage *st = m->storage;
	bool chains = m->layout == LAYOUT_CLASSIC && !t->fill_hist;
	const uint64_t *h = chains ? st->chain_hist : st->fill_hist;
	uint64_t max = 0;
	int cw = 1, y;
	char num[32];

	for (int i = 0; i < 9; i++) {
		if (h[i] > max)
			max = h[i];
		int l = snprintf(num, sizeof(num), "%" PRIu64, h[i]);
		cw = l > cw ? l : cw;
	}
	int bw = w - 3 - 1 - cw;
	if (bw < 1)
		bw = 1;
	for (int i = 0; i < 9; i++) {
		if ((y = row(t, line + i)) < 0)
			continue;
		putf(t, y, x, 2, A_NORMAL, chains && i == 8 ? "8+" : "%2d", i);
		if (t->ascii) {
			unsigned len = tui_bar(h[i], max, (unsigned)bw);
			attrset(t->attr[AT_BAR]);
			for (unsigned k = 0; k < len; k++)
				mvaddch(y, x + 3 + (int)k, '#');
		} else {
			unsigned len = tui_bar(h[i], max, (unsigned)bw * 8);
			attrset(t->attr[AT_BAR]);
			move(y, x + 3);
			for (unsigned k = 0; k < len / 8; k++)
				addstr("█");
			addstr(eighths[len % 8]);
		}
		attrset(A_NORMAL);
		putf(t, y, x + 3 + bw + 1, cw, A_NORMAL, "%*" PRIu64, cw, h[i]);
	}
}

static void frame(struct tui *t, int line, int x, int w, int h)
{
	for (int i = 0; i < h; i++) {
		int y = row(t, line + i);
		if (y < 0)
			continue;
		bool edge = i == 0 || i == h - 1;
		attrset(t->attr[AT_DIM]);
		if (t->ascii) {
			mvaddch(y, x, edge ? '+' : '|');
			mvaddch(y, x + w - 1, edge ? '+' : '|');
			for (int k = 1; edge && k < w - 1; k++)
				mvaddch(y, x + k, '-');
		} else {
			mvaddstr(y, x, i == 0 ? "┌" : i == h - 1 ? "└" : "│");
			mvaddstr(y, x + w - 1, i == 0 ? "┐" : i == h - 1 ? "┘" : "│");
			for (int k = 1; edge && k < w - 1; k++)
				mvaddstr(y, x + k, "─");
		}
		attrset(A_NORMAL);
	}
}

/* One screen cell of the picture. */
static void draw_cell(struct tui *t, int y, int x, const struct tui_cell *c, bool classic)
{
	const char *glyph;
	char digit[2] = "0";
	attr_t a;

	if (!c->n)
		return;
	if (classic && t->chains) {
		digit[0] = (char)('0' + c->chain);
		glyph = c->chain ? digit : (t->ascii ? "." : "·");
		a = c->chain ? t->attr[AT_CHAIN] : t->attr[AT_DIM];
	} else if (c->tomb) {
		glyph = t->ascii ? "x" : "×";
		a = t->attr[AT_TOMB];
	} else {
		glyph = t->ascii ? ramp_ascii[tui_shade(c, NELEM(ramp_ascii))]
				 : ramp_utf8[tui_shade(c, NELEM(ramp_utf8))];
		a = classic && c->chain ? t->attr[AT_CHAIN] : t->attr[AT_LIVE];
	}
	attrset(a);
	mvaddstr(y, x, glyph);
	attrset(A_NORMAL);
}

/* A picture is a few hundred KiB on a big screen: keep those of the last
 * few maps looked at, not of every map of a long session. */
static void pictures_keep(struct tui *t, size_t map)
{
	for (size_t i = 0; i < t->nkept; i++)
		if (t->kept[i] == map)
			return;
	if (t->nkept == NELEM(t->kept)) {
		tui_picture_free(&t->pics[t->kept[0]]);
		memmove(t->kept, t->kept + 1, (t->nkept - 1) * sizeof(t->kept[0]));
		t->nkept--;
	}
	t->kept[t->nkept++] = map;
}

static int draw_storage(struct tui *t, const struct map_entry *m, int line)
{
	const struct map_storage *st = m->storage;
	bool classic = m->layout == LAYOUT_CLASSIC;
	const char *unit = classic ? "bucket" : "group";
	int y, n = 0;

	if (!st || !st->ncells || !st->cells) {
		if ((y = row(t, line)) >= 0)
			putf(t, y, 1, COLS - 2, A_BOLD, "Storage: %s",
			     !m->fig.buckets ? "nothing allocated yet (the map was never written to)"
			     : !st ? "no picture (analysis run without it)"
			     : "no picture (see the warnings)");
		return 1;
	}

	/* Picture on the left, histogram on the right. */
	int hw = COLS / 3;
	hw = hw < 24 ? 24 : hw > 48 ? 48 : hw;
	int fw = COLS - 2 - hw - 2;
	if (fw < 12)
		fw = 12;
	int gw = fw - 2;
	int gh = t->body_h - line - 1 - 2 - 1;   /* header, frame, legend */
	if (gh < 7)
		gh = 7;                          /* the histogram's 9 lines */

	struct tui_picture *p = &t->pics[t->map];
	if (!p->cells || p->w != gw || p->h != gh) {
		pictures_keep(t, t->map);
		tui_picture_free(p);
		if (tui_picture_build(st, m->layout, gw, gh, p) < 0) {
			if ((y = row(t, line)) >= 0)
				put(y, 1, COLS - 2, "Storage: no memory for the picture", A_BOLD,
				    t->ascii);
			return 1;
		}
	}

	char head[256];
	int k = snprintf(head, sizeof(head), "Storage: %" PRIu64 " %s%s", st->ncells, unit,
			 st->ncells == 1 ? "" : "s");
	if (!classic && st->ntables)
		k += snprintf(head + k, sizeof(head) - (size_t)k, " in %" PRIu64 " table%s",
			      st->ntables, st->ntables == 1 ? "" : "s");
	if (p->by_table && st->ntables > 1)
		snprintf(head + k, sizeof(head) - (size_t)k, ", a table per row");
	if ((y = row(t, line + n)) >= 0) {
		put(y, 1, fw, head, A_BOLD, t->ascii);
		put(y, 1 + fw + 2, hw, classic && !t->fill_hist ? "Overflow chain lengths"
		    : classic ? "Live slots, head buckets" : "Live slots per group", A_BOLD,
		    t->ascii);
	}
	n++;

	int ih = p->rows > 7 ? p->rows : 7;
	frame(t, line + n, 1, fw, ih + 2);
	/* The scale goes in the frame's top edge. */
	if ((y = row(t, line + n)) >= 0) {
		if (p->per_cell > 1)
			snprintf(head, sizeof(head), " 1 cell = up to %" PRIu64 " %ss ",
				 p->per_cell, unit);
		else
			snprintf(head, sizeof(head), " 1 cell = 1 %s%s ", unit,
				 classic ? " and its chain" : "");
		put(y, 3, fw - 4, head, t->attr[AT_DIM], t->ascii);
	}
	for (int r = 0; r < ih && r < p->h; r++) {
		if ((y = row(t, line + n + 1 + r)) < 0)
			continue;
		for (int c = 0; c < p->w; c++)
			draw_cell(t, y, 2 + c, &p->cells[(size_t)r * (size_t)p->w + (size_t)c],
				  classic);
	}
	draw_histogram(t, m, line + n, 1 + fw + 2, hw);
	n += ih + 2;

	if ((y = row(t, line + n)) >= 0) {
		int x = 1;
		if (classic && t->chains) {
			x += put(y, x, COLS - x, "digit: longest overflow chain in the cell   ",
				 A_NORMAL, t->ascii);
		} else {
			const char *const *ramp = t->ascii ? ramp_ascii : ramp_utf8;
			size_t nr = t->ascii ? NELEM(ramp_ascii) : NELEM(ramp_utf8);
			x += put(y, x, COLS - x, "live ", A_NORMAL, t->ascii);
			attrset(t->attr[AT_LIVE]);
			for (size_t i = 1; i < nr && x < COLS; i++)
				mvaddstr(y, x++, ramp[i]);
			attrset(A_NORMAL);
			x += put(y, x, COLS - x, " (blank: none)  ", A_NORMAL, t->ascii);
			x += put(y, x, COLS - x, t->ascii ? "x" : "×", t->attr[AT_TOMB], t->ascii);
			x += put(y, x, COLS - x, " tombstone  ", A_NORMAL, t->ascii);
			if (classic) {
				x += put(y, x, COLS - x, t->color ? "yellow" : "underline",
					 t->attr[AT_CHAIN], t->ascii);
				x += put(y, x, COLS - x, ": overflow chain  ", A_NORMAL,
					 t->ascii);
			}
		}
		if (classic && m->fig.growing)
			put(y, x, COLS - x, "(old buckets not drawn)", A_NORMAL, t->ascii);
	}
	n++;
	return n;
}

static void draw_detail(struct tui *t)
{
	const struct map_entry *m = &t->r->maps[t->map];
	int line = 0;

	t->body_h = LINES - 2;
	draw_title(t);

	/* The page is drawn twice when the scroll position must be clamped:
	 * the first pass measures it. */
	for (int pass = 0; pass < 2; pass++) {
		for (int y = 1; y < LINES - 1; y++)
			fill_row(y, A_NORMAL);
		line = 0;
		/* The type, whole, then where the map is. */
		char at[40];
		snprintf(at, sizeof(at), "at 0x%" PRIx64, m->address);
		int aw = (int)strlen(at) + 2;
		char *te = escape_name(m->type ? m->type : "(type unknown)", t->ascii);
		int tl = te ? draw_name(t, line, 1, COLS - 2 - aw, te, A_BOLD) : 1;
		int y = row(t, line);
		if (y >= 0 && te) {
			int tw = (int)format_width(te);
			int x = tl == 1 && tw < COLS - 2 - aw ? 1 + tw + 2 : COLS - 1 - (int)strlen(at);
			put(y, x, COLS - x - 1, at, A_NORMAL, t->ascii);
		}
		free(te);
		line += tl;
		line += draw_who(t, m, line);
		line += draw_figures(t, m, line);
		line++;
		line += draw_storage(t, m, line);
		line++;
		line += draw_roots(t, m, line);
		t->lines = line;
		int max = t->lines - t->body_h;
		max = max < 0 ? 0 : max;
		if (t->scroll <= max)
			break;
		t->scroll = max;
	}
	if (m->layout == LAYOUT_CLASSIC)
		draw_fbar(t, detail_keys, NELEM(detail_keys));
	else
		draw_fbar(t, swiss_detail_keys, NELEM(swiss_detail_keys));
	curs_set(0);
}

/* ---- Help -------------------------------------------------------------- */

static const char *const help_text[] = {
	"Owners: maps held the same way (indices, map keys, goroutines read as *)",
	"  Enter  the owner's maps     m  every map       u  show/hide what nothing reaches",
	"  Up/Down k/j PgUp/PgDn Home/End g/G  move       /  filter by owner or type",
	"  s > < r  sort: next / previous column, reverse; 1-7 a column; b biggest",
	"Maps (of one owner, or all)",
	"  Enter l Right  open the map      q Esc Left h  back to the owners (or quit)",
	"  / filter by type or path as you type: Enter keeps it, Esc clears it",
	"  (+N) more paths (the map's page lists them); cons.: conservative paths only",
	"  mouse: wheel scrolls, click selects, double-click opens, click a title sorts",
	"One map",
	"  Up/Down PgUp/PgDn Home/End  scroll     n p  next / previous map",
	"  c f  classic maps: picture of chains or live slots, histogram of either",
	"  q Esc Left h  back to the list",
	"The picture: a cell per bucket and its overflow chain (classic) or per group",
	"(Swiss), a run of them on a big map; shade: share of slots holding an entry;",
	"x: some slot is a tombstone (deleted).  Names too long for a column lose",
	"their package paths, then the start of a path or the end of a type.",
	"Anywhere: ? F1 this help   Ctrl-L redraw   Q quit at once",
};

static void draw_help(struct tui *t)
{
	draw_title(t);
	for (int y = 1; y < LINES - 1; y++)
		fill_row(y, A_NORMAL);
	for (size_t i = 0; i < NELEM(help_text); i++) {
		int y = 1 + (int)i;
		if (y >= LINES - 1)
			break;
		bool heading = i == 0 || i == 4 || i == 9;
		put(y, 1, COLS - 2, help_text[i], heading ? A_BOLD : A_NORMAL, t->ascii);
	}
	draw_fbar(t, help_keys, NELEM(help_keys));
	curs_set(0);
}

/* ---- Keys -------------------------------------------------------------- */

/* The index (into r->maps or r->groups) of the selected row. */
static bool selected(struct tui *t, size_t *idx)
{
	struct cursor *c = cursor(t);
	size_t n = nshown(t);
	const size_t *shown = groups_screen(t) ? t->groups.shown : t->rows.shown;

	if (!n)
		return false;
	*idx = shown[c->cur < n ? c->cur : 0];
	return true;
}

static void select_index(struct tui *t, size_t idx)
{
	struct cursor *c = cursor(t);
	size_t n = nshown(t);
	const size_t *shown = groups_screen(t) ? t->groups.shown : t->rows.shown;

	for (size_t k = 0; k < n; k++)
		if (shown[k] == idx) {
			c->cur = k;
			return;
		}
	c->cur = 0;
}

/* Resort, refilter or rescope, keeping the selected row selected. */
static void list_sort(struct tui *t, int key, bool reverse)
{
	size_t idx;
	bool any = selected(t, &idx);

	if (groups_screen(t))
		tui_groups_sort(&t->groups, (enum tui_gcol)key, reverse);
	else
		tui_rows_sort(&t->rows, (enum tui_col)key, reverse);
	if (any)
		select_index(t, idx);
}

static void list_filter(struct tui *t, const char *needle)
{
	size_t idx;
	bool any = selected(t, &idx);

	if (groups_screen(t))
		tui_groups_filter(&t->groups, needle);
	else
		tui_rows_filter(&t->rows, needle);
	if (any)
		select_index(t, idx);
}

static void toggle_unreachable(struct tui *t)
{
	size_t idx;
	bool any = selected(t, &idx);
	/* One switch for both lists. */
	bool on = !(groups_screen(t) ? t->groups.unreachable : t->rows.unreachable);

	tui_groups_show_unreachable(&t->groups, on);
	tui_rows_scope(&t->rows, t->rows.group, on);
	if (any)
		select_index(t, idx);
}

/* The maps of group idx (1 + index; 0: every map). */
static void open_maps(struct tui *t, uint32_t group)
{
	t->mc.cur = t->mc.top = 0;
	t->edit[0] = '\0';
	t->rows.filter[0] = '\0';
	tui_rows_scope(&t->rows, group, t->rows.unreachable);
	t->screen = S_LIST;
}

static void open_detail(struct tui *t)
{
	size_t idx;

	if (!selected(t, &idx))
		return;
	if (groups_screen(t)) {
		open_maps(t, (uint32_t)idx + 1);
		return;
	}
	t->map = idx;
	t->scroll = 0;
	t->screen = S_DETAIL;
}

/* From a list back to where it was opened from; false when there is
 * nothing before it (then the key quits). */
static bool list_back(struct tui *t)
{
	if (groups_screen(t) || !t->grouped)
		return false;
	t->edit[0] = '\0';
	t->screen = S_GROUPS;
	return true;
}

static void move_cursor(struct tui *t, long delta)
{
	struct cursor *c = cursor(t);
	size_t n = nshown(t);

	if (!n)
		return;
	if (delta < 0)
		c->cur = (size_t)-delta > c->cur ? 0 : c->cur - (size_t)-delta;
	else
		c->cur = c->cur + (size_t)delta >= n ? n - 1 : c->cur + (size_t)delta;
}

static int sort_key(const struct tui *t)
{
	return groups_screen(t) ? (int)t->groups.key : (int)t->rows.key;
}

static bool sort_reverse(const struct tui *t)
{
	return groups_screen(t) ? t->groups.reverse : t->rows.reverse;
}

/* Mouse: what was hit, in screen terms. */
static void list_mouse(struct tui *t, const MEVENT *ev)
{
#ifdef BUTTON5_PRESSED
	if (ev->bstate & BUTTON5_PRESSED) {
		move_cursor(t, 3);
		return;
	}
#endif
	if (ev->bstate & BUTTON4_PRESSED) {
		move_cursor(t, -3);
		return;
	}
	if (!(ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED)))
		return;
	if (ev->y == t->list_y - 1) {     /* a column title: sort by it */
		for (int c = TUI_NCOLS - 1; c >= 0; c--)
			if (ev->x >= t->col_x[c] - 1 && (c < NUMCOLS || t->col_w[c] > 0)) {
				bool same = c == sort_key(t);
				list_sort(t, c, same ? !sort_reverse(t) : false);
				return;
			}
		return;
	}
	if (ev->y >= t->list_y && ev->y < t->list_y + t->list_h) {
		struct cursor *c = cursor(t);
		size_t k = c->top + (size_t)(ev->y - t->list_y);
		if (k < nshown(t)) {
			c->cur = k;
			if (ev->bstate & BUTTON1_DOUBLE_CLICKED)
				open_detail(t);
		}
	}
}

/* Append the character ch (a code point) to the filter being typed. */
static void edit_append(struct tui *t, int ch)
{
	char mb[MB_LEN_MAX];
	mbstate_t ps;
	size_t len = strlen(t->edit), n;

	memset(&ps, 0, sizeof(ps));
	n = wcrtomb(mb, (wchar_t)ch, &ps);
	if (n == (size_t)-1 || len + n + 1 > sizeof(t->edit))
		return;
	memcpy(t->edit + len, mb, n);
	t->edit[len + n] = '\0';
}

static void edit_backspace(struct tui *t)
{
	size_t len = strlen(t->edit);

	while (len && ((unsigned char)t->edit[len - 1] & 0xc0) == 0x80)
		len--;
	if (len)
		len--;
	t->edit[len] = '\0';
}

static bool list_edit_key(struct tui *t, int ch)
{
	switch (ch) {
	case '\r':
	case '\n':
	case FKEY(KEY_ENTER):
		t->editing = false;
		return true;
	case ESC:
		t->editing = false;
		t->edit[0] = '\0';
		list_filter(t, "");
		return true;
	case FKEY(KEY_BACKSPACE):
	case 127:
	case CTRL('h'):
		edit_backspace(t);
		break;
	case CTRL('u'):
		t->edit[0] = '\0';
		break;
	default:
		if (ch >= ' ' && ch < 0x110000 && ch != 127) {
			edit_append(t, ch);
			break;
		}
		return false;   /* arrows and the like move the selection */
	}
	list_filter(t, t->edit);
	return true;
}

static void list_key(struct tui *t, int ch)
{
	size_t page = t->list_h > 1 ? (size_t)t->list_h - 1 : 1;
	struct cursor *c = cursor(t);
	int ncols = TUI_NCOLS;     /* TUI_GCOLS is the same */

	if (t->editing && list_edit_key(t, ch))
		return;
	switch (ch) {
	case FKEY(KEY_UP):
	case 'k':
		move_cursor(t, -1);
		break;
	case FKEY(KEY_DOWN):
	case 'j':
		move_cursor(t, 1);
		break;
	case FKEY(KEY_PPAGE):
	case CTRL('b'):
		move_cursor(t, -(long)page);
		break;
	case FKEY(KEY_NPAGE):
	case CTRL('f'):
	case ' ':
		move_cursor(t, (long)page);
		break;
	case FKEY(KEY_HOME):
	case 'g':
		c->cur = 0;
		break;
	case FKEY(KEY_END):
	case 'G':
		c->cur = nshown(t) ? nshown(t) - 1 : 0;
		break;
	case '\r':
	case '\n':
	case FKEY(KEY_ENTER):
	case FKEY(KEY_RIGHT):
	case 'l':
		open_detail(t);
		break;
	case 's':
	case '>':
	case '.': {
		int k = (sort_key(t) + 1) % ncols;
		if (!groups_screen(t) && t->rows.group && k == TUI_COL_TYPE)
			k = 0;             /* no type column in one group's list */
		list_sort(t, k, false);
		break;
	}
	case '<':
	case ',': {
		int k = (sort_key(t) + ncols - 1) % ncols;
		if (!groups_screen(t) && t->rows.group && k == TUI_COL_TYPE)
			k = TUI_COL_PATH;
		list_sort(t, k, false);
		break;
	}
	case 'r':
	case 'I':
		list_sort(t, sort_key(t), !sort_reverse(t));
		break;
	case 'b':
		t->edit[0] = '\0';
		list_filter(t, "");
		list_sort(t, 0, false);
		c->cur = c->top = 0;
		break;
	case 'u':
		toggle_unreachable(t);
		break;
	case 'm':
		if (groups_screen(t))
			open_maps(t, 0);
		break;
	case '/':
		t->editing = true;
		snprintf(t->edit, sizeof(t->edit), "%s",
			 groups_screen(t) ? t->groups.filter : t->rows.filter);
		break;
	case ESC:
		if ((groups_screen(t) ? t->groups.filter : t->rows.filter)[0]) {
			t->edit[0] = '\0';
			list_filter(t, "");
		} else if (!list_back(t)) {
			t->quit = true;
		}
		break;
	case FKEY(KEY_LEFT):
	case 'h':
	case FKEY(KEY_BACKSPACE):
	case 127:
		list_back(t);
		break;
	case 'q':
		if (!list_back(t))
			t->quit = true;
		break;
	default:
		if (ch >= '1' && ch < '1' + ncols) {
			int k = ch - '1';
			if (!groups_screen(t) && t->rows.group && k == TUI_COL_TYPE)
				break;
			list_sort(t, k, k == sort_key(t) ? !sort_reverse(t) : false);
		}
		break;
	}
}

/* The next (dir 1) or previous (-1) map of the list, from the detail. */
static void detail_step(struct tui *t, int dir)
{
	for (size_t k = 0; k < t->rows.nshown; k++)
		if (t->rows.shown[k] == t->map) {
			if ((dir < 0 && k == 0) || (dir > 0 && k + 1 >= t->rows.nshown))
				return;
			t->mc.cur = dir < 0 ? k - 1 : k + 1;
			t->map = t->rows.shown[t->mc.cur];
			t->scroll = 0;
			return;
		}
}

static void detail_key(struct tui *t, int ch)
{
	int page = t->body_h > 2 ? t->body_h - 1 : 1;
	bool classic = t->r->maps[t->map].layout == LAYOUT_CLASSIC;

	switch (ch) {
	case FKEY(KEY_UP):
	case 'k':
		t->scroll--;
		break;
	case FKEY(KEY_DOWN):
	case 'j':
		t->scroll++;
		break;
	case FKEY(KEY_PPAGE):
	case CTRL('b'):
		t->scroll -= page;
		break;
	case FKEY(KEY_NPAGE):
	case CTRL('f'):
	case ' ':
		t->scroll += page;
		break;
	case FKEY(KEY_HOME):
	case 'g':
		t->scroll = 0;
		break;
	case FKEY(KEY_END):
	case 'G':
		t->scroll = t->lines;  /* clamped when drawn */
		break;
	case 'n':
	case 'J':
		detail_step(t, 1);
		break;
	case 'p':
	case 'K':
		detail_step(t, -1);
		break;
	case 'c':
		if (classic)
			t->chains = !t->chains;
		break;
	case 'f':
		if (classic)
			t->fill_hist = !t->fill_hist;
		break;
	case 'q':
	case ESC:
	case FKEY(KEY_LEFT):
	case 'h':
	case FKEY(KEY_BACKSPACE):
	case 127:
		t->screen = S_LIST;
		break;
	}
	if (t->scroll < 0)
		t->scroll = 0;
}

static void detail_mouse(struct tui *t, const MEVENT *ev)
{
#ifdef BUTTON5_PRESSED
	if (ev->bstate & BUTTON5_PRESSED)
		t->scroll += 3;
#endif
	if (ev->bstate & BUTTON4_PRESSED)
		t->scroll = t->scroll > 3 ? t->scroll - 3 : 0;
}

/* ---- The loop ---------------------------------------------------------- */

static void draw(struct tui *t)
{
	erase();
	if (COLS < 40 || LINES < 10) {
		curs_set(0);
		put(0, 0, COLS, "mapscan: the terminal is too small (40x10 at least);"
		    " q quits", A_BOLD, t->ascii);
	} else if (t->help) {
		draw_help(t);
	} else if (t->screen == S_DETAIL) {
		draw_detail(t);
	} else {
		draw_list(t);
	}
	refresh();
}

/* One key (or mouse event) to whichever screen is on top. */
static void dispatch(struct tui *t, int ch)
{
	if (ch == FKEY(KEY_RESIZE))
		return;             /* LINES and COLS are new; draw() lays out again */
	if (ch == CTRL('l')) {
		clearok(curscr, TRUE);
		return;
	}
	if (t->help) {
		t->help = false;    /* any key closes the help */
		return;
	}
	if (!t->editing && (ch == '?' || ch == FKEY(KEY_F(1)))) {
		t->help = true;
		return;
	}
	if (!t->editing && ch == 'Q') {
		t->quit = true;
		return;
	}
	if (ch == FKEY(KEY_MOUSE)) {
		MEVENT ev;
		if (getmouse(&ev) != OK)
			return;
		if (t->screen != S_DETAIL)
			list_mouse(t, &ev);
		else
			detail_mouse(t, &ev);
		return;
	}
	if (COLS < 40 || LINES < 10) {
		if (ch == 'q' || ch == ESC)
			t->quit = true;
		return;
	}
	if (t->screen != S_DETAIL)
		list_key(t, ch);
	else
		detail_key(t, ch);
}

static void tui_loop(struct tui *t)
{
	int errors = 0;

	while (!t->quit) {
		wint_t wc;
		int rc;

		draw(t);
		rc = get_wch(&wc);
		if (rc == ERR) {
			/* A blocking read only fails when the terminal is gone
			 * (or for a signal, which we do not expect to repeat). */
			if (++errors > 50)
				break;
			continue;
		}
		errors = 0;
		dispatch(t, rc == KEY_CODE_YES ? FKEY((int)wc) : (int)wc);
	}
}

static int screen_start(struct tui *t, struct ms_error *err)
{
	SCREEN *s;

	/* Esc alone must not wait a second to be told from an escape
	 * sequence. */
	set_escdelay(25);
	if (!(s = newterm(NULL, stdout, stdin)))
		return ms_err(err, MS_EUSAGE, "cannot drive the terminal '%s' (no terminfo entry?);"
			      " set TERM to one this system knows, e.g. xterm",
			      getenv("TERM") ? getenv("TERM") : "");
	set_term(s);
	tui_screen = s;
	curses_on = 1;
	signals_install();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	curs_set(0);
	mouseinterval(200);
	mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
		  | BUTTON5_PRESSED
#endif
		  , NULL);
	attrs_init(t);
	return 0;
}

int tui_run(const struct report *r, const struct tui_opts *o, struct ms_error *err)
{
	static const struct tui_opts defaults = { .sort = SORT_RECLAIMABLE };
	struct tui t;
	int rc = -1;

	if (!o)
		o = &defaults;
	memset(&t, 0, sizeof(t));
	t.r = r;
	t.hidden_below = o->min_reclaimable;
	if (tui_check_terminal(err))
		return -1;
	setlocale(LC_ALL, "");
	const char *cs = nl_langinfo(CODESET);
	t.ascii = !(cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8")));

	if (tui_rows_init(&t.rows, r, o->min_reclaimable, t.ascii) ||
	    tui_groups_init(&t.groups, r, o->min_reclaimable, t.ascii) ||
	    (r->nmaps && !(t.pics = calloc(r->nmaps, sizeof(*t.pics))))) {
		ms_err(err, MS_EINTERNAL, "out of memory preparing the map list");
		goto out;
	}
	tui_rows_sort(&t.rows, tui_col_from_sort(o->sort), false);
	tui_groups_sort(&t.groups, tui_gcol_from_sort(o->sort), false);
	/* Opens on the owners when there are any. */
	t.grouped = r->group_by != GROUP_NONE && r->ngroups;
	t.screen = t.grouped ? S_GROUPS : S_LIST;
	if (screen_start(&t, err))
		goto out;
	tui_loop(&t);
	terminal_restore();
	signals_restore();
	delscreen(tui_screen);
	tui_screen = NULL;
	rc = 0;
out:
	for (size_t i = 0; t.pics && i < r->nmaps; i++)
		tui_picture_free(&t.pics[i]);
	free(t.pics);
	tui_rows_free(&t.rows);
	tui_groups_free(&t.groups);
	return rc;
}
