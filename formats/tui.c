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
	[TUI_COL_TYPE] = "type",
	[TUI_COL_PATH] = "path",
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
	case TUI_COL_TYPE:
		c = name_asc(a->type, b->type);
		break;
	case TUI_COL_PATH:
		c = name_asc(a->nroots ? a->roots[0] : NULL, b->nroots ? b->roots[0] : NULL);
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

void tui_rows_filter(struct tui_rows *rows, const char *needle)
{
	char want[sizeof(rows->filter)];
	size_t len = strlen(needle ? needle : "");

	if (len >= sizeof(want)) {
		len = sizeof(want) - 1;
		while (len && ((unsigned char)needle[len] & 0xc0) == 0x80)
			len--;      /* never keep half a character */
	}
	memcpy(want, needle ? needle : "", len);
	want[len] = '\0';
	lower_ascii(want);
	memcpy(rows->filter, want, len + 1);
	rows->nshown = 0;
	for (size_t k = 0; k < rows->nall; k++) {
		size_t i = rows->all[k];

		if (!*want || strstr(rows->hay[i], want))
			rows->shown[rows->nshown++] = i;
	}
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

enum view { S_LIST, S_DETAIL };

/* Keys as ints: characters as their code point, curses' function keys
 * moved above Unicode so the two never meet. */
#define FKEY(k) ((k) + 0x110000)
#define CTRL(c) ((c) & 0x1f)
#define ESC 27

struct tui {
	const struct report *r;
	struct tui_rows rows;
	struct tui_picture *pics;  /* per map of r, built when first shown */
	size_t kept[8], nkept;     /* maps whose picture is kept, oldest first */
	bool ascii, color;
	attr_t attr[AT_NATTRS];
	enum view screen;
	bool help, editing, quit;
	char edit[sizeof(((struct tui_rows *)0)->filter)];
	uint64_t hidden_below;     /* min_reclaimable */
	/* list */
	size_t cur, top;           /* selected row, first row on screen */
	int col_x[TUI_NCOLS + 1];  /* where the last drawn columns start */
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

/* Drop import paths from qualified names ("github.com/acme/cache.Key" →
 * "cache.Key") to fit a narrow column.  In a path only the global's
 * package is shortened: a map key further along may hold a '/'.  In place. */
static void drop_import_paths(char *s, bool path)
{
	char *out = s, *name = s;
	bool keep = false;

	for (const char *p = s; *p; p++) {
		if (path && strchr("[(\"", *p))
			keep = true;
		if (*p == '/' && !keep) {
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

/* A name in a column: shortened if too wide, then cut in the middle. */
static void put_name(struct tui *t, int y, int x, int w, const char *esc, bool path, attr_t a)
{
	char buf[1024];

	if (w <= 0)
		return;
	if (format_width(esc) > (size_t)w && strlen(esc) < sizeof(buf)) {
		strcpy(buf, esc);
		drop_import_paths(buf, path);
		if (!path && format_width(buf) > (size_t)w)
			drop_packages(buf);
		esc = buf;
	}
	put(y, x, w, esc, a, t->ascii);
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

static const struct fkey list_keys[] = {
	{ "?", "Help" }, { "/", "Filter" }, { "s", "Sort" }, { "r", "Reverse" },
	{ "b", "Biggest" }, { "Enter", "Open" }, { "q", "Quit" },
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
 * output says it; totals always cover every map of the report. */
static void draw_totals(struct tui *t, int y)
{
	const struct report *r = t->r;
	char ret[16], rec[16], pct[16] = "";

	human_size(r->total_retained, ret, sizeof(ret));
	human_size(r->total_reclaimable, rec, sizeof(rec));
	if (r->total_retained) {
		int p = (int)((double)r->total_reclaimable * 100.0 / (double)r->total_retained + 0.5);
		if (r->total_reclaimable && p == 0)
			snprintf(pct, sizeof(pct), " (<1%%)");
		else
			snprintf(pct, sizeof(pct), " (%d%%)",
				 r->total_reclaimable < r->total_retained && p >= 100 ? 99 : p);
	}
	fill_row(y, A_NORMAL);
	size_t reach = r->nmaps - (size_t)r->unreachable_maps;
	int x = 1 + putf(t, y, 1, COLS - 2, A_BOLD, "%zu map%s, %s retained, %s reclaimable%s, %"
			 PRIu64 " entries", reach, reach == 1 ? "" : "s", ret, rec, pct,
			 r->total_count);
	if (r->unreachable_maps)
		putf(t, y, x, COLS - 1 - x, A_NORMAL, "; %" PRIu64 " more nothing reaches",
		     r->unreachable_maps);
}

/* ---- The list screen --------------------------------------------------- */

/* Each title plus the sort mark fits its column. */
#define W_SIZE 8
#define W_RET 9
#define W_COUNT 6
#define W_CAP 9
#define W_FILL 5

static const char *const col_titles[TUI_NCOLS] = {
	"RECLAIM", "RETAINED", "COUNT", "CAPACITY", "FILL", "TYPE", "PATH",
};

/* Does the column's natural order put big values first? */
static bool col_descends(enum tui_col c)
{
	return c <= TUI_COL_CAPACITY;
}

/* Columns' x and widths for the current screen: numbers, then the type and
 * the path sharing what is left by how much each needs. */
static void list_layout(struct tui *t, int *tw, int *pw)
{
	static const int numw[] = { W_SIZE, W_RET, W_COUNT, W_CAP, W_FILL };
	int x = 1, want_t = 4, want_p = 4;

	for (int c = 0; c < 5; c++) {
		t->col_x[c] = x;
		x += numw[c] + (c == 4 ? 2 : 1);
	}
	for (size_t k = 0; k < t->rows.nshown; k++) {
		size_t i = t->rows.shown[k];
		int a = (int)format_width(t->rows.type[i]), b = (int)format_width(t->rows.path[i]);
		const struct map_entry *m = &t->r->maps[i];

		if (m->nroots > 1 || m->more_roots)
			b += 6;  /* " (+N)" */
		want_t = a > want_t ? a : want_t;
		want_p = b > want_p ? b : want_p;
	}
	int avail = COLS - x - 2 - 1, half;
	if (avail < 8)
		avail = 8;
	half = avail * 11 / 20;  /* the type says more than the path */
	if (want_t <= half) {
		*tw = want_t;
	} else if (want_p <= avail - half) {
		*tw = avail - want_p;
	} else {
		*tw = half;
	}
	*pw = avail - *tw;
	t->col_x[TUI_COL_TYPE] = x;
	t->col_x[TUI_COL_PATH] = x + *tw + 2;
	t->col_x[TUI_NCOLS] = COLS;
}

static void draw_list_header(struct tui *t, int y, int tw, int pw)
{
	static const int numw[] = { W_SIZE, W_RET, W_COUNT, W_CAP, W_FILL };

	fill_row(y, t->attr[AT_HEADER]);
	for (int c = 0; c < TUI_NCOLS; c++) {
		int w = c < 5 ? numw[c] : c == TUI_COL_TYPE ? tw : pw;
		int len = (int)strlen(col_titles[c]);
		int x = c < 5 ? t->col_x[c] + w - len : t->col_x[c];
		bool sorted = (enum tui_col)c == t->rows.key;
		attr_t a = sorted ? t->attr[AT_SORTCOL] : t->attr[AT_HEADER];

		put(y, x, len, col_titles[c], a, t->ascii);
		if (sorted) {
			bool down = col_descends((enum tui_col)c) != t->rows.reverse;
			put(y, x - 1, 1, t->ascii ? (down ? "v" : "^") : (down ? "▼" : "▲"), a,
			    t->ascii);
		}
	}
}

static void draw_list_row(struct tui *t, int y, size_t i, bool selected, int tw, int pw)
{
	const struct map_entry *m = &t->r->maps[i];
	const struct map_figures *f = &m->fig;
	char rec[16], ret[16], cnt[32], cap[32], fill[16];
	attr_t base = selected ? t->attr[AT_SELECT] : A_NORMAL;

	human_size(f->reclaimable_bytes, rec, sizeof(rec));
	human_size(f->retained_bytes, ret, sizeof(ret));
	fmt_count(f->count, W_COUNT, cnt, sizeof(cnt));
	fmt_count(f->capacity_slots, W_CAP, cap, sizeof(cap));
	fmt_fill(f, fill, sizeof(fill));
	fill_row(y, base);
	putf(t, y, t->col_x[0], W_SIZE, selected || f->reclaimable_bytes < (1u << 20) ? base
	     : t->attr[AT_BIG], "%*s", W_SIZE, rec);
	putf(t, y, t->col_x[1], W_RET, base, "%*s", W_RET, ret);
	putf(t, y, t->col_x[2], W_COUNT, base, "%*s", W_COUNT, cnt);
	putf(t, y, t->col_x[3], W_CAP, base, "%*s", W_CAP, cap);
	putf(t, y, t->col_x[4], W_FILL, base, "%*s", W_FILL, fill);
	put_name(t, y, t->col_x[TUI_COL_TYPE], tw, t->rows.type[i], false, base);

	uint64_t more = (m->nroots > 1 ? m->nroots - 1 : 0) + m->more_roots;
	char sfx[64] = "";
	if (more)
		snprintf(sfx, sizeof(sfx), " (+%" PRIu64 ")", more);
	int sw = (int)strlen(sfx), x = t->col_x[TUI_COL_PATH];
	if (m->conservative)
		snprintf(sfx + strlen(sfx), sizeof(sfx) - strlen(sfx), " (conservative)");
	sw = (int)strlen(sfx);
	if (!m->nroots) {
		put(y, x, pw, m->unreachable ? (m->garbage > 0 ? "(garbage, not yet freed)"
						: "(unreachable)") : "(path not recorded)",
		    base, t->ascii);
	} else {
		char buf[1024];
		const char *p = t->rows.path[i];
		if (format_width(p) > (size_t)(pw - sw) && strlen(p) < sizeof(buf)) {
			strcpy(buf, p);
			drop_import_paths(buf, true);
			p = buf;
		}
		int used = put(y, x, pw - sw, p, base, t->ascii);
		put(y, x + used, sw, sfx, base, t->ascii);
	}
}

static void list_clamp(struct tui *t)
{
	size_t n = t->rows.nshown, h = t->list_h > 0 ? (size_t)t->list_h : 1;

	if (n == 0) {
		t->cur = t->top = 0;
		return;
	}
	if (t->cur >= n)
		t->cur = n - 1;
	if (t->cur < t->top)
		t->top = t->cur;
	if (t->cur >= t->top + h)
		t->top = t->cur - h + 1;
	if (t->top + h > n)
		t->top = n > h ? n - h : 0;
}

static void draw_status(struct tui *t, int y)
{
	fill_row(y, A_NORMAL);
	if (t->editing) {
		char count[64];
		int cw = snprintf(count, sizeof(count), "%zu of %zu maps", t->rows.nshown,
				  t->r->nmaps);
		put(y, COLS - 1 - cw, cw, count, A_NORMAL, t->ascii);
		int x = put(y, 1, COLS - 2, "Filter (type or path): ", A_BOLD, t->ascii) + 1;
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
	int n;

	snprintf(key, sizeof(key), "%s, %s", tui_col_name(t->rows.key),
		 col_descends(t->rows.key) != t->rows.reverse ? "largest first" : "smallest first");
	if (t->rows.key == TUI_COL_TYPE || t->rows.key == TUI_COL_PATH)
		snprintf(key, sizeof(key), "%s%s", tui_col_name(t->rows.key),
			 t->rows.reverse ? ", Z to A" : ", A to Z");
	else if (t->rows.key == TUI_COL_FILL)
		snprintf(key, sizeof(key), "fill, %s", t->rows.reverse ? "fullest first"
								   : "emptiest first");
	n = snprintf(msg, sizeof(msg), "%zu of %zu maps", t->rows.nshown, t->r->nmaps);
	if (t->hidden_below) {
		human_size(t->hidden_below, below, sizeof(below));
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " (%s+ reclaimable)", below);
	}
	if (t->rows.filter[0])
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, " match \"%s\"", t->rows.filter);
	snprintf(msg + n, sizeof(msg) - (size_t)n, "; sorted by %s", key);
	/* The filter was typed by the user, but may hold anything: escape. */
	put_untrusted(t, y, 1, COLS - 2, msg, A_NORMAL);
}

static void draw_list(struct tui *t)
{
	int tw, pw;

	draw_title(t);
	draw_totals(t, 1);
	list_layout(t, &tw, &pw);
	draw_list_header(t, 2, tw, pw);
	t->list_y = 3;
	t->list_h = LINES - 5;
	list_clamp(t);
	for (int k = 0; k < t->list_h; k++) {
		size_t row = t->top + (size_t)k;
		if (row >= t->rows.nshown)
			break;
		draw_list_row(t, t->list_y + k, t->rows.shown[row], row == t->cur, tw, pw);
	}
	if (t->rows.nshown == 0)
		putf(t, t->list_y + 1, 3, COLS - 4, A_BOLD, "%s",
		     t->r->nmaps == 0 ? "No maps were found reachable from global variables."
		     : t->rows.filter[0] ? "No map matches the filter (Esc clears it)."
		     : "No map has that much reclaimable (see --min-reclaimable).");
	draw_status(t, LINES - 2);
	if (t->editing)
		draw_fbar(t, edit_keys, NELEM(edit_keys));
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

static int draw_roots(struct tui *t, const struct map_entry *m, int line)
{
	int n = 0, ind = 9, y;

	if ((y = row(t, line)) >= 0)
		put(y, 1, ind, "held by", A_NORMAL, t->ascii);
	if (!m->nroots && (y = row(t, line)) >= 0)
		put(y, 1 + ind, COLS - ind - 2,
		    !m->unreachable ? "(path not recorded)"
		    : m->garbage > 0 ? "nothing: garbage the last GC found dead, not yet freed"
		    : "nothing mapscan can read (garbage not yet freed, or untyped memory)",
		    A_NORMAL, t->ascii);
	/* "+N more" goes after the last path when it fits, else on a line
	 * of its own. */
	char more[64] = "";
	if (m->more_roots)
		snprintf(more, sizeof(more), "and %" PRIu64 " more reference%s, not listed",
			 m->more_roots, m->more_roots == 1 ? "" : "s");
	int mw = (int)strlen(more) + 2, w = COLS - ind - 2;
	for (size_t i = 0; i < m->nroots; i++, n++) {
		bool last = i + 1 == m->nroots;
		int used = 0;
		if ((y = row(t, line + n)) >= 0)
			used = put_untrusted(t, y, 1 + ind, w, m->roots[i], A_BOLD);
		if (last && more[0] && used + mw <= w) {
			if (y >= 0)
				put(y, 1 + ind + used + 2, w - used - 2, more, A_NORMAL, t->ascii);
			more[0] = 0;
		}
	}
	if (more[0]) {
		if ((y = row(t, line + n)) >= 0)
			put(y, 1 + ind, w, more, A_NORMAL, t->ascii);
		n++;
	}
	n = n ? n : 1;
	char note[160];
	note[0] = 0;
	if (m->type_guessed)
		snprintf(note, sizeof(note), "type not proven: the best of %u map types whose "
			 "storage has this layout (the figures hold for all)", m->type_candidates);
	if (note[0])
		n += draw_wrapped(t, line + n, 1 + ind, COLS - ind - 2, note, A_NORMAL);
	if (m->conservative)
		n += draw_wrapped(t, line + n, 1 + ind, COLS - ind - 2, "conservative: every path "
				  "goes through a word that only looks like a pointer", A_NORMAL);
	if (m->on_stack)
		n += draw_wrapped(t, line + n, 1 + ind, COLS - ind - 2,
				  "the header is in a goroutine's stack frame", A_NORMAL);
	if (m->fig.growing) {
		char note[128];
		snprintf(note, sizeof(note), "growing: the %" PRIu64 " old buckets stay until "
			 "writes finish moving the entries out of them", m->fig.old_buckets);
		n += draw_wrapped(t, line + n, 1 + ind, COLS - ind - 2, note, A_NORMAL);
	}
	for (size_t i = 0; i < m->nwarnings; i++) {
		char *e = escape_name(m->warnings[i], t->ascii);
		if (!e)
			continue;
		if ((y = row(t, line + n)) >= 0)
			put(y, 1, ind, "warning", t->attr[AT_TOMB], t->ascii);
		n += draw_wrapped(t, line + n, 1 + ind, COLS - ind - 2, e, A_NORMAL);
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
		int y = row(t, line);
		if (y >= 0) {
			char at[40];
			int aw = snprintf(at, sizeof(at), "  at 0x%" PRIx64, m->address);
			int x = 1 + put_untrusted(t, y, 1, COLS - 2 - aw,
						  m->type ? m->type : "(type unknown)", A_BOLD);
			put(y, x, COLS - x - 1, at, A_NORMAL, t->ascii);
		}
		line += 2;
		line += draw_figures(t, m, line);
		line++;
		line += draw_roots(t, m, line);
		line++;
		line += draw_storage(t, m, line);
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
	"List of maps",
	"  Up/Down k/j  move          PgUp/PgDn  page      Home/End g/G  first/last",
	"  Enter l Right  open the map's details",
	"  s >  next sort column      <  previous          1-7  sort by column 1-7",
	"  r I  reverse the order     b  biggest offenders (by reclaimable, no filter)",
	"  /    filter by type or path as you type: Enter keeps it, Esc clears it",
	"  Esc  clear the filter, or quit      q  quit",
	"  mouse: wheel scrolls, click selects, double-click opens, click a title sorts",
	"",
	"Map details",
	"  Up/Down k/j PgUp/PgDn Home/End  scroll      n p  next / previous map",
	"  c    classic maps: picture of overflow chain lengths / of live slots",
	"  f    classic maps: histogram of chain lengths / of live slots per bucket",
	"  q Esc Left h  back to the list",
	"",
	"The picture: one cell per bucket with its overflow chain (classic) or per",
	"group (Swiss); on a big map a cell stands for a run of them.  Shade: share",
	"of the slots that hold an entry; x: some slot is a tombstone (deleted).",
	"",
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
		bool heading = help_text[i][0] && help_text[i][0] != ' ' &&
			       strncmp(help_text[i], "The", 3) && strncmp(help_text[i], "group", 5) &&
			       strncmp(help_text[i], "of the", 6);
		put(y, 1, COLS - 2, help_text[i], heading ? A_BOLD : A_NORMAL, t->ascii);
	}
	draw_fbar(t, help_keys, NELEM(help_keys));
	curs_set(0);
}

/* ---- Keys -------------------------------------------------------------- */

static void list_select_map(struct tui *t, size_t map)
{
	for (size_t k = 0; k < t->rows.nshown; k++)
		if (t->rows.shown[k] == map) {
			t->cur = k;
			return;
		}
	t->cur = 0;
}

static size_t selected_map(const struct tui *t, bool *any)
{
	*any = t->rows.nshown > 0;
	return *any ? t->rows.shown[t->cur < t->rows.nshown ? t->cur : 0] : 0;
}

/* Resort (keeping the selected map selected). */
static void list_sort(struct tui *t, enum tui_col key, bool reverse)
{
	bool any;
	size_t map = selected_map(t, &any);

	tui_rows_sort(&t->rows, key, reverse);
	if (any)
		list_select_map(t, map);
}

static void list_filter(struct tui *t, const char *needle)
{
	bool any;
	size_t map = selected_map(t, &any);

	tui_rows_filter(&t->rows, needle);
	if (any)
		list_select_map(t, map);
}

static void open_detail(struct tui *t)
{
	bool any;
	size_t map = selected_map(t, &any);

	if (!any)
		return;
	t->map = map;
	t->scroll = 0;
	t->screen = S_DETAIL;
}

static void move_cursor(struct tui *t, long delta)
{
	size_t n = t->rows.nshown;

	if (!n)
		return;
	if (delta < 0)
		t->cur = (size_t)-delta > t->cur ? 0 : t->cur - (size_t)-delta;
	else
		t->cur = t->cur + (size_t)delta >= n ? n - 1 : t->cur + (size_t)delta;
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
			if (ev->x >= t->col_x[c] - 1) {
				bool same = (enum tui_col)c == t->rows.key;
				list_sort(t, (enum tui_col)c, same ? !t->rows.reverse : false);
				return;
			}
		return;
	}
	if (ev->y >= t->list_y && ev->y < t->list_y + t->list_h) {
		size_t k = t->top + (size_t)(ev->y - t->list_y);
		if (k < t->rows.nshown) {
			t->cur = k;
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
		t->cur = 0;
		break;
	case FKEY(KEY_END):
	case 'G':
		t->cur = t->rows.nshown ? t->rows.nshown - 1 : 0;
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
	case '.':
		list_sort(t, (enum tui_col)((t->rows.key + 1) % TUI_NCOLS), false);
		break;
	case '<':
	case ',':
		list_sort(t, (enum tui_col)((t->rows.key + TUI_NCOLS - 1) % TUI_NCOLS), false);
		break;
	case 'r':
	case 'I':
		list_sort(t, t->rows.key, !t->rows.reverse);
		break;
	case 'b':
		t->edit[0] = '\0';
		tui_rows_filter(&t->rows, "");
		tui_rows_sort(&t->rows, TUI_COL_RECLAIM, false);
		t->cur = t->top = 0;
		break;
	case '/':
		t->editing = true;
		snprintf(t->edit, sizeof(t->edit), "%s", t->rows.filter);
		break;
	case ESC:
		if (t->rows.filter[0]) {
			t->edit[0] = '\0';
			list_filter(t, "");
		} else {
			t->quit = true;
		}
		break;
	case 'q':
		t->quit = true;
		break;
	default:
		if (ch >= '1' && ch < '1' + TUI_NCOLS) {
			enum tui_col c = (enum tui_col)(ch - '1');
			list_sort(t, c, c == t->rows.key ? !t->rows.reverse : false);
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
			t->cur = dir < 0 ? k - 1 : k + 1;
			t->map = t->rows.shown[t->cur];
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
		if (t->screen == S_LIST)
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
	if (t->screen == S_LIST)
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
	    (r->nmaps && !(t.pics = calloc(r->nmaps, sizeof(*t.pics))))) {
		ms_err(err, MS_EINTERNAL, "out of memory preparing the map list");
		goto out;
	}
	tui_rows_sort(&t.rows, tui_col_from_sort(o->sort), false);
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
	return rc;
}
