/* The text formatter, and the helpers every formatter shares (selection,
 * escaping, sizes).
 *
 * The text must read well in a terminal and survive being pasted into a
 * bug report: fixed-width columns, lines that fit the width it is given
 * (the terminal's), and no byte from the core reaching the terminal
 * unescaped.  Names are never cut: a type or path too long for its column
 * goes on over continuation lines, indented two columns more, so that
 * joining them gives it back whole. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "format.h"
#include "utf8.h"

/* Prose (advice, notes) is wrapped to this when there is no width. */
#define PROSE_WIDTH 80

/* The tables: right-aligned figures, then the type (and, on the lines
 * below, the path and notes) from column TYPE_COL to the right margin.
 * The map table and the group table put their names in the same column. */
#define W_SIZE 8                 /* human_size is at most 8 characters */
#define W_COUNT 7
#define W_CAP 8
#define W_FILL 5
#define W_SHARE 6
#define W_MAPS 6
#define W_GCOUNT 8
#define GAP 2
#define TYPE_COL (W_SIZE + GAP + W_SIZE + GAP + W_COUNT + GAP + W_CAP + GAP + \
		  W_FILL + GAP)
#define CONT 2                   /* continuation lines are indented this much more */
#define MIN_NAME_W 24            /* a name column narrower than this is not worth it */
#define NARROW_COL 4             /* ...then names go below the figures, from here */

/* ---- Selecting the maps to show ---------------------------------------- */

typedef int cmp_fn(const struct map_entry *, const struct map_entry *);

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* NULL sorts after every string, so maps without a name sink. */
static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcmp(a, b);
}

/* Ties fall back to the biggest waste first, then the address, so the order
 * is the same on every run. */
static int cmp_tail(const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp_u64_desc(a->fig.reclaimable_bytes, b->fig.reclaimable_bytes);

	if (!c)
		c = cmp_u64_desc(a->fig.retained_bytes, b->fig.retained_bytes);
	if (!c)
		c = -cmp_u64_desc(a->address, b->address);
	return c;
}

static int by_reclaimable(const struct map_entry *a, const struct map_entry *b)
{
	return cmp_tail(a, b);
}

static int by_retained(const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp_u64_desc(a->fig.retained_bytes, b->fig.retained_bytes);

	return c ? c : cmp_tail(a, b);
}

static int by_count(const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp_u64_desc(a->fig.count, b->fig.count);

	return c ? c : cmp_tail(a, b);
}

static int by_type(const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp_str(a->type, b->type);

	return c ? c : cmp_tail(a, b);
}

static const char *first_root(const struct map_entry *m)
{
	return m->nroots ? m->roots[0] : NULL;
}

static int by_path(const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp_str(first_root(a), first_root(b));

	return c ? c : cmp_tail(a, b);
}

static cmp_fn *const sorters[] = {
	[SORT_RECLAIMABLE] = by_reclaimable,
	[SORT_RETAINED] = by_retained,
	[SORT_COUNT] = by_count,
	[SORT_TYPE] = by_type,
	[SORT_PATH] = by_path,
};

/* qsort has no argument to carry the comparator of the chosen key without
 * a static; a small merge sort takes it as a parameter. */
static void msort(const struct map_entry **v, const struct map_entry **tmp,
		  size_t n, cmp_fn *cmp)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;

	msort(v, tmp, h, cmp);
	msort(v + h, tmp, n - h, cmp);
	while (i < h && j < n)
		tmp[k++] = cmp(v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int by_position(const void *a, const void *b)
{
	const struct map_entry *x = *(const struct map_entry *const *)a,
			       *y = *(const struct map_entry *const *)b;
	return (x > y) - (x < y);
}

/* cmp, with ties in array order: what the stable merge sort keeps. */
static int cmp_at(cmp_fn *cmp, const struct map_entry *a, const struct map_entry *b)
{
	int c = cmp(a, b);
	return c ? c : (a > b) - (a < b);
}

static void heap_down(const struct map_entry **h, size_t n, size_t i, cmp_fn *cmp)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && cmp_at(cmp, h[l], h[m]) > 0)
			m = l;
		if (r < n && cmp_at(cmp, h[r], h[m]) > 0)
			m = r;
		if (m == i)
			return;
		const struct map_entry *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Move the k entries of v[0..n) that sort first to v[0..k), in no
 * particular order; returns k.  v's entries are in array order (the
 * order ties keep). */
static size_t select_top(const struct map_entry **v, size_t n, size_t k, cmp_fn *cmp)
{
	for (size_t i = k / 2; i-- > 0;)
		heap_down(v, k, i, cmp);
	for (size_t i = k; i < n; i++) {
		if (cmp_at(cmp, v[i], v[0]) < 0) {
			v[0] = v[i];
			heap_down(v, k, 0, cmp);
		}
	}
	return k;
}

int format_select(const struct report *r, const struct format_opts *o,
		  const struct map_entry ***sel, size_t *nsel)
{
	static const struct format_opts defaults = { .sort = SORT_RECLAIMABLE };
	const struct map_entry **v, **tmp;
	size_t n = 0;

	if (!o)
		o = &defaults;
	*sel = NULL;
	*nsel = 0;
	if (r->nmaps == 0)
		return 0;
	v = calloc(r->nmaps, sizeof(*v));
	tmp = calloc(r->nmaps, sizeof(*tmp));
	if (!v || !tmp) {
		free(v);
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < r->nmaps; i++)
		if (r->maps[i].fig.reclaimable_bytes >= o->min_reclaimable)
			v[n++] = &r->maps[i];

	cmp_fn *cmp = (unsigned)o->sort < sizeof(sorters) / sizeof(sorters[0])
		      ? sorters[o->sort] : by_reclaimable;
	if (o->top && n > o->top) {
		/* Only the first `top` are shown: keep them in a heap whose
		 * root is the last of them (n log top, not n log n; a million
		 * maps sorted to print 20 was about 6% of a text run), then
		 * sort those, from array order, so that ties fall as the
		 * stable sort of all of them put them. */
		n = select_top(v, n, o->top, cmp);
		qsort(v, n, sizeof(*v), by_position);
	}
	msort(v, tmp, n, cmp);
	free(tmp);
	*sel = v;
	*nsel = n;
	return 0;
}

typedef int gcmp_fn(const struct map_group *, const struct map_group *);

static int gcmp_tail(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_u64_desc(a->reclaimable_bytes, b->reclaimable_bytes);

	if (!c)
		c = cmp_u64_desc(a->retained_bytes, b->retained_bytes);
	if (!c)
		c = cmp_u64_desc(a->maps, b->maps);
	if (!c)
		c = cmp_str(a->pattern, b->pattern);
	if (!c)
		c = cmp_str(a->type, b->type);
	return c;
}

static int gby_reclaimable(const struct map_group *a, const struct map_group *b)
{
	return gcmp_tail(a, b);
}

static int gby_retained(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_u64_desc(a->retained_bytes, b->retained_bytes);

	return c ? c : gcmp_tail(a, b);
}

static int gby_count(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_u64_desc(a->count, b->count);

	return c ? c : gcmp_tail(a, b);
}

static int gby_type(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_str(a->type, b->type);

	return c ? c : gcmp_tail(a, b);
}

static int gby_path(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_str(a->pattern, b->pattern);

	return c ? c : gcmp_tail(a, b);
}

static gcmp_fn *const gsorters[] = {
	[SORT_RECLAIMABLE] = gby_reclaimable,
	[SORT_RETAINED] = gby_retained,
	[SORT_COUNT] = gby_count,
	[SORT_TYPE] = gby_type,
	[SORT_PATH] = gby_path,
};

/* Groups nothing reaches come after every reachable one, whatever the key. */
static int gcmp(const struct map_group *a, const struct map_group *b, gcmp_fn *cmp)
{
	int c = (int)a->unreachable - (int)b->unreachable;

	return c ? c : cmp(a, b);
}

static void gsort(const struct map_group **v, const struct map_group **tmp, size_t n,
		  gcmp_fn *cmp)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;

	gsort(v, tmp, h, cmp);
	gsort(v + h, tmp, n - h, cmp);
	while (i < h && j < n)
		tmp[k++] = gcmp(v[j], v[i], cmp) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

int format_select_groups(const struct report *r, const struct format_opts *o,
			 const struct map_group ***sel, size_t *nsel)
{
	static const struct format_opts defaults = { .sort = SORT_RECLAIMABLE };
	const struct map_group **v, **tmp;
	size_t n = 0;

	if (!o)
		o = &defaults;
	*sel = NULL;
	*nsel = 0;
	if (r->ngroups == 0)
		return 0;
	v = calloc(r->ngroups, sizeof(*v));
	tmp = calloc(r->ngroups, sizeof(*tmp));
	if (!v || !tmp) {
		free(v);
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].reclaimable_bytes >= o->min_reclaimable)
			v[n++] = &r->groups[i];
	gcmp_fn *cmp = (unsigned)o->sort < sizeof(gsorters) / sizeof(gsorters[0])
		       ? gsorters[o->sort] : gby_reclaimable;
	gsort(v, tmp, n, cmp);
	free(tmp);
	if (o->top && n > o->top)
		n = o->top;
	*sel = v;
	*nsel = n;
	return 0;
}

struct format_opts format_map_opts(const struct report *r, const struct format_opts *o)
{
	struct format_opts m = { .sort = SORT_RECLAIMABLE };

	if (o)
		m = *o;
	if (r->group_by != GROUP_NONE && r->ngroups)
		m.top = m.top_maps;
	return m;
}

void format_pct(uint64_t part, uint64_t total, char *buf, size_t n)
{
	if (!total) {
		snprintf(buf, n, "-");
		return;
	}
	double pct = (double)part * 100.0 / (double)total;
	int p = (int)(pct + 0.5);

	if (part && p == 0)
		snprintf(buf, n, "<1%%");
	else
		snprintf(buf, n, "%d%%", part < total && p >= 100 ? 99 : p);
}

/* ---- Sizes and sort keys ----------------------------------------------- */

static const char *const units = "KMGTPE";

void human_size(uint64_t bytes, char *buf, size_t n)
{
	if (!buf || !n)
		return;
	if (bytes < 1024) {
		snprintf(buf, n, "%" PRIu64 " B", bytes);
		return;
	}
	for (int k = 1; k <= 6; k++) {
		uint64_t unit = (uint64_t)1 << (10 * k);
		uint64_t whole = bytes / unit, rem = bytes % unit;
		/* rem·10 < 10·2^60 fits; integer rounding avoids "100.0"
		 * and "1024" sneaking past the width limit. */
		uint64_t tenths = whole * 10 + (rem * 10 + unit / 2) / unit;

		if (tenths < 1000) {
			snprintf(buf, n, "%" PRIu64 ".%" PRIu64 " %ciB",
				 tenths / 10, tenths % 10, units[k - 1]);
			return;
		}
		whole += rem >= unit / 2;
		if (whole < 1024 || k == 6) {
			snprintf(buf, n, "%" PRIu64 " %ciB", whole, units[k - 1]);
			return;
		}
	}
}

/* ASCII only, whatever the locale. */
static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

int parse_size(const char *s, uint64_t *out)
{
	uint64_t whole = 0, mult = 1, frac = 0;
	const char *p = s, *fs = NULL, *fe = NULL;
	int digits = 0;

	if (!s)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		fs = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		fe = p;
		if (fe == fs)
			return -1;
		digits += (int)(fe - fs);
	}
	if (!digits)
		return -1;

	/* The unit: K, KB, KiB (any case), or B, or nothing. */
	const char *u = p, *pos = *u ? strchr(units, upper(*u)) : NULL;
	if (pos) {
		mult = (uint64_t)1 << (10 * (pos - units + 1));
		u++;
		if (upper(u[0]) == 'I' && upper(u[1]) == 'B')
			u += 2;
		else if (upper(u[0]) == 'B')
			u++;
	} else if (upper(*u) == 'B') {
		u++;
	}
	if (*u)
		return -1;
	/* A fraction of a byte means nothing. */
	if (fs && mult == 1)
		return -1;
	if (whole > UINT64_MAX / mult)
		return -1;
	/* Horner from the last digit: each step is floor((d·mult + t) / 10),
	 * and d·mult + t < 10·2^60 never overflows; the nested floors equal
	 * the floor of the exact fraction. */
	if (fs)
		for (const char *d = fe; d-- > fs;)
			frac = ((uint64_t)(*d - '0') * mult + frac) / 10;
	if (whole * mult > UINT64_MAX - frac)
		return -1;
	*out = whole * mult + frac;
	return 0;
}

int parse_sort_key(const char *s, enum sort_key *out)
{
	static const char *const names[] = {
		[SORT_RECLAIMABLE] = "reclaimable",
		[SORT_RETAINED] = "retained",
		[SORT_COUNT] = "count",
		[SORT_TYPE] = "type",
		[SORT_PATH] = "path",
	};

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum sort_key)i;
			return 0;
		}
	return -1;
}

/* ---- Escaping and measuring untrusted strings -------------------------- */

int format_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	return utf8_decode(s, SIZE_MAX, cp);
}

/* Code points a terminal shows as nothing, or uses to reorder or hide the
 * text around them (a "trojan source" path could otherwise read as another
 * one). */
static int invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x34f ||
	       c == 0x61c || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	       (c >= 0xe0000 && c <= 0xe0fff);
}

char *format_escape(const char *s, enum escape_mode mode)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	/* Worst case: every byte becomes \xNN. */
	char *buf = malloc(strlen((const char *)p) * 4 + 1), *q = buf;
	static const char hex[] = "0123456789abcdef";

	if (!buf)
		return NULL;
	while (*p) {
		uint32_t cp;
		int len = format_utf8_decode(p, &cp);

		if (len == 0) {
			*q++ = '\\', *q++ = 'x';
			*q++ = hex[*p >> 4], *q++ = hex[*p & 15];
			p++;
			continue;
		}
		if (mode != ESCAPE_JSON && (cp < 0x20 || cp == 0x7f || (cp == '\\' && mode == ESCAPE_TEXT))) {
			static const char named[] = "\aa\bb\tt\nn\vv\ff\rr\\\\";
			const char *e = cp ? strchr(named, (int)cp) : NULL;

			*q++ = '\\';
			if (e && (e - named) % 2 == 0) {
				*q++ = e[1];
			} else {
				*q++ = 'x';
				*q++ = hex[cp >> 4], *q++ = hex[cp & 15];
			}
			p++;
			continue;
		}
		if (mode != ESCAPE_JSON && invisible(cp)) {
			/* 6 bytes for a 2+ byte sequence, 10 for a 4-byte
			 * one: within the 4 bytes per input byte. */
			q += cp > 0xffff ? sprintf(q, "\\U%08x", (unsigned)cp)
					 : sprintf(q, "\\u%04x", (unsigned)cp);
			p += len;
			continue;
		}
		memcpy(q, p, (size_t)len);
		q += len;
		p += len;
	}
	*q = '\0';
	return buf;
}

/* Columns a code point takes in a terminal: 0 for combining marks, 2 for
 * East Asian wide and emoji, 1 otherwise.  A rough wcwidth that does not
 * depend on the locale. */
static int cp_width(uint32_t c)
{
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) ||
	    (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) ||
	    (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xfe20 && c <= 0xfe2f))
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

/* Decode for measuring: an escaped string is valid UTF-8, but be safe and
 * count a stray byte as one column. */
int format_cp(const char *s, size_t *cols)
{
	uint32_t cp;
	int len = format_utf8_decode((const unsigned char *)s, &cp);

	if (len == 0) {
		*cols = 1;
		return 1;
	}
	*cols = (size_t)cp_width(cp);
	return len;
}

static int next_cp(const char *s, int *w)
{
	size_t cols;
	int len = format_cp(s, &cols);

	*w = (int)cols;
	return len;
}

size_t format_elide(const char *s, size_t w, const char **head_end, const char **tail)
{
	size_t head = (w - 1) / 2, rest = w - 1 - head, hc = 0, tc = 0, cols;
	const char *h = s, *t = s + strlen(s);

	while (*h) {
		int len = format_cp(h, &cols);
		if (hc + cols > head)
			break;
		hc += cols;
		h += len;
	}
	/* Walk back over whole code points from the end. */
	while (t > h) {
		const char *b = t - 1;
		while (b > h && ((unsigned char)*b & 0xc0) == 0x80)
			b--;
		format_cp(b, &cols);
		if (tc + cols > rest)
			break;
		tc += cols;
		t = b;
	}
	*head_end = h;
	*tail = t;
	return hc + tc;
}

size_t format_width(const char *s)
{
	size_t cols = 0;
	int w;

	while (*s) {
		s += next_cp(s, &w);
		cols += (size_t)w;
	}
	return cols;
}

/* ---- Text layout ------------------------------------------------------- */

struct text {
	FILE *out;
	const struct report *r;
	const struct format_opts *o;
	size_t width;             /* 0: no limit */
	size_t col;               /* where names start: TYPE_COL, or NARROW_COL on a
				   * terminal too narrow for names beside the figures */
	bool more_explained;      /* the "+N more" note was printed */
	bool failed;              /* memory ran out */
};

static void put_spaces(FILE *out, size_t n)
{
	while (n--)
		putc(' ', out);
}

/* How good a place for a continuation break the spot before `at` is: 0
 * none; 1 after a separator of a name's parts or before a bracket; 2 after
 * a space (which stays at the end of the line: a continuation line never
 * starts with one, so its indentation says what it is); 3 after ", "
 * (between two keys). */
static int break_rank(const char *s, const char *at)
{
	if (at <= s || !*at || *at == ' ')
		return 0;
	if (at - s >= 2 && at[-1] == ' ' && at[-2] == ',')
		return 3;
	if (at[-1] == ' ')
		return 2;
	return strchr("./,])", at[-1]) || *at == '(' || *at == '[' ? 1 : 0;
}

/* Print the escaped name esc at column col (where the cursor is), then
 * suffix (text of ours, may be ""), then a newline.  What is wider than the
 * room left goes on over continuation lines indented col + CONT, broken at
 * the best place in the last two thirds of the line; nothing is dropped, so
 * the lines joined (without their indentation) give back the name and the
 * suffix. */
static void put_long_at(struct text *T, size_t col, const char *esc, const char *suffix,
			size_t lists_from);

static void put_long(struct text *T, size_t col, const char *esc, const char *suffix)
{
	put_long_at(T, col, esc, suffix, strlen(esc));
}

/* put_long where the text from byte lists_from on is a list ("a", "b"): a
 * break between two of its items drops the space after the comma. */
static void put_long_at(struct text *T, size_t col, const char *esc, const char *suffix,
			size_t lists_from)
{
	FILE *out = T->out;
	size_t room = T->width > col ? T->width - col : 0;
	char *all = malloc(strlen(esc) + strlen(suffix) + 1);

	if (!all) {
		T->failed = true;
		return;
	}
	strcpy(all, esc);
	strcat(all, suffix);
	if (!T->width) {
		fputs(all, out);
		putc('\n', out);
		free(all);
		return;
	}
	if (room < MIN_NAME_W)
		room = MIN_NAME_W;
	const char *p = all;
	for (bool first = true;; first = false) {
		if (format_width(p) <= room) {
			fputs(p, out);
			break;
		}
		/* The longest head that fits, and the best break in it. */
		const char *q = p, *brk = NULL;
		size_t cols = 0;
		int cw, best = 0;
		while (*q) {
			int len = next_cp(q, &cw);
			if (cols + (size_t)cw > room)
				break;
			cols += (size_t)cw;
			q += len;
			int rank = break_rank(p, q);
			if (rank && rank >= best && (size_t)(q - p) * 3 >= (size_t)(q - p + 1) &&
			    cols * 3 >= room) {
				best = rank;
				brk = q;
			}
		}
		if (brk)
			q = brk;
		if (q == p)
			q += next_cp(q, &cw);
		size_t n = (size_t)(q - p);
		bool list = (size_t)(q - all) > lists_from;
		if (list && n > 1 && q[-1] == ' ' && q[-2] == ',')
			n--;              /* "a, " + "b": the space goes */
		fwrite(p, 1, n, out);
		putc('\n', out);
		if (first) {
			col += CONT;
			room = room > CONT + 8 ? room - CONT : room;
		}
		put_spaces(out, col);
		p = q;
	}
	putc('\n', out);
	free(all);
}

/* An untrusted name, escaped, at column col; see put_long. */
static void put_name(struct text *T, size_t col, const char *name, const char *suffix)
{
	char *esc = format_escape(name, ESCAPE_TEXT);

	if (!esc) {
		T->failed = true;
		return;
	}
	put_long(T, col, esc, suffix);
	free(esc);
}

/* Print prose word-wrapped: the first line starts at column indent, the
 * next ones at indent + hang.  A word longer than a whole line (a type or
 * a path in a sentence) goes on over the next lines, broken where a name
 * may break (break_rank). */
static void put_wrapped(struct text *T, size_t indent, size_t hang, const char *text)
{
	FILE *out = T->out;
	size_t width = T->width ? T->width : PROSE_WIDTH;
	size_t col = indent;
	const char *p = text;
	int empty = 1, w;

	put_spaces(out, indent);
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = p;
		size_t ww = 0;
		while (*e && *e != ' ') {
			e += next_cp(e, &w);
			ww += (size_t)w;
		}
		/* A word no line could hold starts where it is and breaks. */
		bool huge = ww > width - (indent + hang < width ? indent + hang : 0);
		if (!empty && col + 1 + ww > width && !(huge && col + 9 < width)) {
			putc('\n', out);
			put_spaces(out, indent + hang);
			col = indent + hang;
			empty = 1;
		}
		if (!empty) {
			putc(' ', out);
			col++;
		}
		/* A word wider than the rest of a fresh line: in pieces. */
		while (col + ww > width && width > col + 8) {
			size_t room = width - col, cols = 0;
			const char *q = p, *brk = NULL;
			int best = 0;
			while (q < e) {
				int len = next_cp(q, &w);
				if (cols + (size_t)w > room)
					break;
				cols += (size_t)w;
				q += len;
				int rank = break_rank(p, q);
				if (rank && rank >= best && cols * 3 >= room) {
					best = rank;
					brk = q;
				}
			}
			if (brk)
				q = brk;
			if (q == p)
				break;
			for (const char *c = p; c < q;) {
				int len = next_cp(c, &w);
				ww -= (size_t)w;
				c += len;
			}
			fwrite(p, 1, (size_t)(q - p), out);
			putc('\n', out);
			put_spaces(out, indent + hang);
			col = indent + hang;
			p = q;
		}
		fwrite(p, 1, (size_t)(e - p), out);
		col += ww;
		p = e;
		empty = 0;
	}
	putc('\n', out);
}

/* prefix + escaped s, wrapped. */
static void put_note(struct text *T, size_t indent, size_t hang, const char *prefix,
		     const char *s)
{
	char *esc = format_escape(s, ESCAPE_TEXT);
	char *line = esc ? malloc(strlen(prefix) + strlen(esc) + 1) : NULL;

	if (!line) {
		free(esc);
		T->failed = true;
		return;
	}
	strcpy(line, prefix);
	strcat(line, esc);
	put_wrapped(T, indent, hang, line);
	free(line);
	free(esc);
}

/* A count in w columns: exact when it fits, else scaled by 1000 ("12.3M"),
 * because a corrupt core can claim any number and the table must hold. */
static void fmt_count(uint64_t v, size_t w, char *buf, size_t n)
{
	static const char sfx[] = "kMGTPE";
	double x = (double)v;
	int k = -1;

	snprintf(buf, n, "%" PRIu64, v);
	if (strlen(buf) <= w)
		return;
	while (x >= 999.95 && k < 5) {
		x /= 1000;
		k++;
	}
	snprintf(buf, n, "%.1f%c", x, sfx[k]);
}

/* count as a share of capacity_slots, in W_FILL columns. */
static void fmt_fill(uint64_t count, uint64_t cap, char *buf, size_t n)
{
	double pct;

	if (cap == 0) {
		snprintf(buf, n, "-");
		return;
	}
	pct = (double)count * 100.0 / (double)cap;
	if (pct < 99.95)
		snprintf(buf, n, "%.1f%%", pct);
	else if (pct < 9999.5)
		snprintf(buf, n, "%.0f%%", pct);
	else
		snprintf(buf, n, "?"); /* inconsistent figures; see warnings */
}

/* A share of a total in W_SHARE columns: "58.1%", "100%", "<0.1%". */
static void fmt_share(uint64_t part, uint64_t total, char *buf, size_t n)
{
	if (!total) {
		snprintf(buf, n, "-");
		return;
	}
	double pct = (double)part * 100.0 / (double)total;
	if (part && pct < 0.05)
		snprintf(buf, n, "<0.1%%");
	else if (part == total)
		snprintf(buf, n, "100%%");
	else
		snprintf(buf, n, "%.1f%%", pct > 99.9 ? 99.9 : pct);
}

/* " +3 more", " (conservative)": what follows a map's first path. */
static void root_suffix(const struct map_entry *m, char *sfx, size_t n)
{
	uint64_t more = m->nroots ? sat_add(m->nroots - 1, m->more_roots) : 0;

	sfx[0] = '\0';
	if (more)
		snprintf(sfx, n, " +%" PRIu64 " more", more);
	if (m->conservative)
		snprintf(sfx + strlen(sfx), n - strlen(sfx), " (conservative)");
}

static const char *no_path(const struct map_entry *m)
{
	return m->unreachable ? (m->garbage > 0 ? "(garbage: the last GC found it dead)"
			       : "(nothing mapscan can read points to it)")
			      : "(path not recorded)";
}

/* The path line of a map, at the name column. */
static void put_path(struct text *T, const struct map_entry *m)
{
	char sfx[64];

	if (!m->nroots) {
		put_wrapped(T, T->col, CONT, no_path(m));
		return;
	}
	put_spaces(T->out, T->col);
	root_suffix(m, sfx, sizeof(sfx));
	put_name(T, T->col, m->roots[0], sfx);
}

/* The type, on the figures line (or below it on a narrow terminal). */
static void put_type(struct text *T, const struct map_entry *m, const char *type)
{
	char tsfx[48] = "";

	if (T->col != TYPE_COL) {
		putc('\n', T->out);
		put_spaces(T->out, T->col);
	} else {
		put_spaces(T->out, GAP);
	}
	if (m && m->type_guessed)
		snprintf(tsfx, sizeof(tsfx), " (guess, 1 of %u)", m->type_candidates);
	put_name(T, T->col, type ? type : "(type unknown)", tsfx);
}

/* The sample keys of m, escaped for the terminal: "\"a\", \"b\"", or what
 * stands for none.  NULL on ENOMEM. */
static char *keys_text(const char *lead, const struct map_entry *m)
{
	size_t len = strlen(lead) + 32;

	for (unsigned i = 0; i < m->nsample_keys; i++)
		len += strlen(map_sample_key(m, i)) + 2;
	char *line = malloc(len), *esc;
	if (!line)
		return NULL;
	strcpy(line, lead);
	for (unsigned i = 0; i < m->nsample_keys; i++) {
		if (i)
			strcat(line, ", ");
		strcat(line, map_sample_key(m, i));
	}
	if (!m->nsample_keys)
		strcat(line, m->fig.count ? "(not readable)" : "(none: the map is empty)");
	esc = format_escape(line, ESCAPE_KEY);
	free(line);
	return esc;
}

/* "keys: "a", "b", "c"" at column col (--keys). */
static void put_keys(struct text *T, size_t col, const struct map_entry *m)
{
	char *esc = keys_text("keys: ", m);

	if (!esc) {
		T->failed = true;
		return;
	}
	put_spaces(T->out, col);
	put_long_at(T, col, esc, "", 0);
	free(esc);
}

static void put_map(struct text *T, const struct map_entry *m)
{
	FILE *out = T->out;
	const struct map_figures *f = &m->fig;
	char rec[16], ret[16], cnt[32], cap[32], fill[16];

	human_size(f->reclaimable_bytes, rec, sizeof(rec));
	human_size(f->retained_bytes, ret, sizeof(ret));
	fmt_count(f->count, W_COUNT, cnt, sizeof(cnt));
	fmt_count(f->capacity_slots, W_CAP, cap, sizeof(cap));
	fmt_fill(f->count, f->capacity_slots, fill, sizeof(fill));
	fprintf(out, "%*s%*s%*s%*s%*s%*s%*s%*s%*s", W_SIZE, rec, GAP, "",
		W_SIZE, ret, GAP, "", W_COUNT, cnt, GAP, "", W_CAP, cap,
		GAP, "", W_FILL, fill);
	put_type(T, m, m->type);
	put_path(T, m);
	if (T->o->keys)
		put_keys(T, T->col, m);
	if (f->growing) {
		char note[64];

		snprintf(note, sizeof(note), "growing (%" PRIu64 " old buckets held)", f->old_buckets);
		put_wrapped(T, T->col, CONT, note);
	}
	for (size_t i = 0; i < m->nwarnings; i++)
		put_note(T, T->col, CONT, "warning: ", m->warnings[i]);
}

/* --keys: the biggest few maps of each group shown, to tell them apart. */
#define MEMBERS_SHOWN 3
struct members {
	size_t idx[MEMBERS_SHOWN];
	unsigned n;
};

static bool bigger_map(const struct map_entry *a, const struct map_entry *b)
{
	if (a->fig.reclaimable_bytes != b->fig.reclaimable_bytes)
		return a->fig.reclaimable_bytes > b->fig.reclaimable_bytes;
	if (a->fig.retained_bytes != b->fig.retained_bytes)
		return a->fig.retained_bytes > b->fig.retained_bytes;
	return a->address < b->address;
}

/* One pass over the maps for the groups shown (sel); NULL on ENOMEM. */
static struct members *members_of(const struct report *r, const struct map_group **sel,
				  size_t nsel)
{
	struct members *mem = calloc(nsel ? nsel : 1, sizeof(*mem));
	size_t *slot = calloc(r->ngroups ? r->ngroups : 1, sizeof(*slot));

	if (!mem || !slot) {
		free(mem);
		free(slot);
		return NULL;
	}
	for (size_t k = 0; k < nsel; k++)
		slot[sel[k] - r->groups] = k + 1;
	for (size_t i = 0; i < r->nmaps; i++) {
		const struct map_entry *m = &r->maps[i];
		if (!m->group || !slot[m->group - 1])
			continue;
		struct members *b = &mem[slot[m->group - 1] - 1];
		unsigned at = b->n;
		while (at > 0 && bigger_map(m, &r->maps[b->idx[at - 1]]))
			at--;
		if (at >= MEMBERS_SHOWN)
			continue;
		if (b->n < MEMBERS_SHOWN)
			b->n++;
		memmove(b->idx + at + 1, b->idx + at, (b->n - 1 - at) * sizeof(b->idx[0]));
		b->idx[at] = i;
	}
	free(slot);
	return mem;
}

static void put_group(struct text *T, const struct map_group *g, const struct members *mem)
{
	const struct report *r = T->r;
	FILE *out = T->out;
	char rec[16], ret[16], share[16], maps[32], cnt[32];
	const struct map_entry *first = g->maps ? &r->maps[g->biggest] : NULL;

	human_size(g->reclaimable_bytes, rec, sizeof(rec));
	human_size(g->retained_bytes, ret, sizeof(ret));
	if (g->unreachable)
		snprintf(share, sizeof(share), "-");
	else
		fmt_share(g->reclaimable_bytes, r->total_reclaimable, share, sizeof(share));
	fmt_count(g->maps, W_MAPS, maps, sizeof(maps));
	fmt_count(g->count, W_GCOUNT, cnt, sizeof(cnt));
	fprintf(out, "%*s%*s%*s%*s%*s%*s%*s%*s%*s", W_SIZE, rec, GAP, "",
		W_SIZE, ret, GAP, "", W_SHARE, share, GAP, "", W_MAPS, maps,
		GAP, "", W_GCOUNT, cnt);
	/* A group of one is that map: its own type and path. */
	put_type(T, g->maps == 1 ? first : NULL, g->type);
	if (g->maps == 1 && first) {
		put_path(T, first);
		if (T->o->keys)
			put_keys(T, T->col, first);
		return;
	}
	if (g->unreachable) {
		put_wrapped(T, T->col, CONT, "(nothing mapscan can read points to these maps)");
	} else if (g->pattern) {
		put_spaces(out, T->col);
		put_name(T, T->col, g->pattern, "");
	} else if (first && first->nroots) {
		put_spaces(out, T->col);
		fputs("biggest: ", out);
		put_name(T, T->col + 9, first->roots[0], "");
	} else {
		put_wrapped(T, T->col, CONT, first ? no_path(first) : "");
	}
	/* --keys: the biggest members, each with its path and keys, as a
	 * list ("- ") below the pattern. */
	for (unsigned i = 0; mem && i < mem->n; i++) {
		const struct map_entry *m = &r->maps[mem->idx[i]];
		char *keys = keys_text("  keys: ", m), at[40];
		if (!keys) {
			T->failed = true;
			return;
		}
		put_spaces(out, T->col);
		fputs("- ", out);
		snprintf(at, sizeof(at), "at 0x%" PRIx64, m->address);
		char *name = format_escape(m->nroots ? m->roots[0] : at, ESCAPE_TEXT);
		if (name)
			put_long(T, T->col + 2, name, keys);
		else
			T->failed = true;
		free(name);
		free(keys);
	}
	if (mem && g->maps > mem->n) {
		char line[64];
		snprintf(line, sizeof(line), "- and %" PRIu64 " more map%s", g->maps - mem->n,
			 g->maps - mem->n == 1 ? "" : "s");
		put_wrapped(T, T->col, CONT, line);
	}
}

/* "mapscan V — CORE (executable: EXE)" when it fits; else the executable
 * on a line of its own, and a name too long for its line goes on over the
 * next ones. */
static void put_header(struct text *T)
{
	const struct report *r = T->r;
	FILE *out = T->out;
	const char *tool = "mapscan " MAPSCAN_VERSION;
	char *src = NULL, *exe = NULL, *ver = NULL, lay[32];

	if ((r->source && !(src = format_escape(r->source, ESCAPE_TEXT))) ||
	    (r->executable && !(exe = format_escape(r->executable, ESCAPE_TEXT))) ||
	    (r->go_version && !(ver = format_escape(r->go_version, ESCAPE_TEXT)))) {
		T->failed = true;
		goto out;
	}
	size_t tw = format_width(tool), w = tw;
	if (src)
		w += 3 + format_width(src);
	if (exe)
		w += 14 + format_width(exe) + 1;
	fputs(tool, out);
	if (!T->width || w <= T->width) {
		if (src)
			fprintf(out, " — %s", src);
		if (exe)
			fprintf(out, " (executable: %s)", exe);
		putc('\n', out);
	} else {
		if (src) {
			fputs(" — ", out);
			put_long(T, tw + 3, src, "");
		} else {
			putc('\n', out);
		}
		if (exe) {
			fputs("executable: ", out);
			put_long(T, 12, exe, "");
		}
	}
	snprintf(lay, sizeof(lay), ", %s maps", layout_name(r->layout));
	fputs("Go ", out);
	put_long(T, 3, ver ? ver : "version unknown", lay);
out:
	free(src);
	free(exe);
	free(ver);
}

/* Where the DWARF came from, when it is not the executable itself. */
static void put_debug(struct text *T)
{
	const struct report *r = T->r;
	char lead[64];

	if (r->names_limited) {
		put_wrapped(T, 0, 0, "names limited: no debug information (DWARF); variables are "
			    "named by address, locals by frame offset; pass a debug copy of this build "
			    "with --debug-file");
		return;
	}
	if (!r->debug_info || (r->debug_found_by && !strcmp(r->debug_found_by, "executable") &&
			       !r->debug_other_build))
		return;
	snprintf(lead, sizeof(lead), "debug info: ");
	fputs(lead, T->out);
	char sfx[64];
	snprintf(sfx, sizeof(sfx), " (%s)", r->debug_found_by ? r->debug_found_by : "?");
	put_name(T, strlen(lead), r->debug_info, sfx);
	if (r->debug_other_build)
		put_wrapped(T, 0, 2, "executable differs only in build ID / link flags; layout verified");
}

/* Map storage the heap holds that no map found owns: maps mapscan could
 * not find.  A report must not look clean while that is large. */
#define UNCLAIMED_NOTABLE (64 * 1024)

static void put_unclaimed(struct text *T)
{
	const struct report *r = T->r;
	char b[16], line[200];

	if (!r->unclaimed_known || !r->unclaimed_storage)
		return;
	human_size(r->unclaimed_storage, b, sizeof(b));
	snprintf(line, sizeof(line), "%s of map storage in the heap belongs to no map found (%" PRIu64
		 " allocation%s): %s", b, r->unclaimed_objects, r->unclaimed_objects == 1 ? "" : "s",
		 r->gc_running ? "mostly garbage not yet freed (a collection was running)"
			       : "storage a map left behind when it grew, which the next "
				 "collection frees, or maps mapscan could not reach");
	put_wrapped(T, 0, 2, line);
}

/* A core that lacks memory: said before anything is counted. */
static void put_partial(struct text *T)
{
	const struct report *r = T->r;
	char b[16], line[200];

	if (!r->partial)
		return;
	human_size(r->missing_bytes, b, sizeof(b));
	if (r->cut_bytes) {
		char c[16];
		human_size(r->cut_bytes, c, sizeof(c));
		if (r->missing_bytes)
			snprintf(line, sizeof(line), "PARTIAL: the core file is cut short (%s missing at "
				 "its end) and lacks %s of the memory mapscan reads; maps held there "
				 "are missing (see the warning below)", c, b);
		else
			snprintf(line, sizeof(line), "PARTIAL: the core file is cut short (%s missing at "
				 "its end); maps the runtime's records there describe are missing "
				 "(see the warning below)", c);
	} else {
		snprintf(line, sizeof(line), "PARTIAL: the core lacks %s of the memory mapscan reads; "
			 "maps held there are missing (see the warning below)", b);
	}
	put_wrapped(T, 0, 2, line);
}

/* A live process: how long it was stopped, or that it was not. */
static void put_process(struct text *T)
{
	const struct report *r = T->r;
	FILE *out = T->out;
	double ms = (double)r->paused_ns / 1e6;
	char line[200];

	if (!r->pid)
		return;
	if (!r->stopped)
		snprintf(line, sizeof(line), "process %d read without stopping it (--no-stop): "
			 "figures may be inconsistent", r->pid);
	else if (ms < 1000)
		snprintf(line, sizeof(line), "process %d paused %.1f ms (%" PRIu64 " thread%s)%s",
			 r->pid, ms, r->threads_stopped, r->threads_stopped == 1 ? "" : "s",
			 r->inconsistent ? ", resumed before the end of the scan" : "");
	else
		snprintf(line, sizeof(line), "process %d paused %.2f s (%" PRIu64 " thread%s)%s",
			 r->pid, ms / 1000, r->threads_stopped, r->threads_stopped == 1 ? "" : "s",
			 r->inconsistent ? ", resumed before the end of the scan" : "");
	put_wrapped(T, 0, 2, line);
	if (r->saved_core) {
		fputs("core saved to ", out);
		put_name(T, 14, r->saved_core, "");
	}
}

/* "heap 120 MiB in use: maps hold 34%, 33% is reclaimable map storage" */
static void put_heap(struct text *T)
{
	const struct report *r = T->r;
	char heap[16];

	if (!r->heap_known || !r->heap_in_use)
		return;
	char line[160];
	human_size(r->heap_in_use, heap, sizeof(heap));
	snprintf(line, sizeof(line), "heap %s in use: maps hold %.1f%%, reclaimable map storage %.1f%%",
		 heap, (double)r->total_retained * 100.0 / (double)r->heap_in_use,
		 (double)r->total_reclaimable * 100.0 / (double)r->heap_in_use);
	put_wrapped(T, 0, 2, line);
}

static void put_summary(struct text *T)
{
	const struct report *r = T->r;
	FILE *out = T->out;
	char ret[16], rec[16], pct[16];
	size_t reach = r->nmaps - (size_t)r->unreachable_maps;

	if (r->nmaps == 0) {
		fputs("no maps found\n", out);
		put_heap(T);
		return;
	}
	char line[200];
	human_size(r->total_retained, ret, sizeof(ret));
	human_size(r->total_reclaimable, rec, sizeof(rec));
	int n = snprintf(line, sizeof(line), "%zu map%s found, %s retained, %s reclaimable", reach,
			 reach == 1 ? "" : "s", ret, rec);
	if (r->total_retained) {
		format_pct(r->total_reclaimable, r->total_retained, pct, sizeof(pct));
		snprintf(line + n, sizeof(line) - (size_t)n, " (%s)", pct);
	}
	put_wrapped(T, 0, 2, line);
	if (r->unreachable_maps) {
		human_size(r->unreachable_retained, ret, sizeof(ret));
		snprintf(line, sizeof(line), "%" PRIu64 " more map%s nothing reaches (listed apart), "
			 "%s retained%s", r->unreachable_maps, r->unreachable_maps == 1 ? "" : "s", ret,
			 r->gc_running ? ": mostly garbage, a collection was running" : "");
		put_wrapped(T, 0, 2, line);
	}
	put_heap(T);
	put_unclaimed(T);
}

/* "shown: 96% of 462 MiB reclaimable (20 of 1,204 groups; --top 0 shows all)":
 * how much of the total the rows above cover, as pprof -top says it. */
static void put_coverage(struct text *T, uint64_t shown_rec, size_t shown, size_t all,
			 const char *what, size_t top)
{
	const struct report *r = T->r;
	char line[256], pct[16], tot[16];
	int n;

	human_size(r->total_reclaimable, tot, sizeof(tot));
	format_pct(shown_rec, r->total_reclaimable, pct, sizeof(pct));
	if (r->total_reclaimable)
		n = snprintf(line, sizeof(line), "shown: %s of %s reclaimable (%zu of %zu %s",
			     pct, tot, shown, all, what);
	else
		n = snprintf(line, sizeof(line), "shown: %zu of %zu %s (nothing is reclaimable",
			     shown, all, what);
	if (T->o->min_reclaimable && shown < all) {
		char min[16];
		human_size(T->o->min_reclaimable, min, sizeof(min));
		n += snprintf(line + n, sizeof(line) - (size_t)n, "; those with %s or more", min);
	}
	if (top && shown == top && shown < all)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "; --top 0 shows all");
	snprintf(line + n, sizeof(line) - (size_t)n, ")");
	put_wrapped(T, 0, 7, line);
}

static void put_more_note(struct text *T)
{
	if (T->more_explained)
		return;
	T->more_explained = true;
	putc('\n', T->out);
	put_wrapped(T, 0, 0, "+N more: further paths to the same map (other variables or fields "
		    "holding it, or stack and heap words that hold its address); --json lists up "
		    "to 8, precise ones first, and --tui lists every one kept.");
}

static bool shows_more(const struct map_entry *m)
{
	return m->nroots > 1 || m->more_roots;
}

static void put_table_head(struct text *T, bool groups)
{
	if (groups)
		fprintf(T->out, "%*s%*s%*s%*s%*s%*s%*s%*s%*s",
			W_SIZE, "RECLAIM", GAP, "", W_SIZE, "RETAINED", GAP, "",
			W_SHARE, "SHARE", GAP, "", W_MAPS, "MAPS", GAP, "",
			W_GCOUNT, "COUNT");
	else
		fprintf(T->out, "%*s%*s%*s%*s%*s%*s%*s%*s%*s",
			W_SIZE, "RECLAIM", GAP, "", W_SIZE, "RETAINED", GAP, "",
			W_COUNT, "COUNT", GAP, "", W_CAP, "CAPACITY", GAP, "",
			W_FILL, "FILL");
	if (T->col != TYPE_COL)
		fprintf(T->out, "\n%*s", (int)T->col, "");
	else
		put_spaces(T->out, GAP);
	fputs(groups ? "TYPE / OWNER\n" : "TYPE / PATH\n", T->out);
}

static void put_groups(struct text *T, const struct map_group **sel, size_t nsel)
{
	const struct report *r = T->r;
	uint64_t rec = 0;
	size_t reach = 0, apart = 0, shown = 0;
	bool more = false;

	struct members *mem = T->o->keys ? members_of(r, sel, nsel) : NULL;

	if (T->o->keys && !mem)
		T->failed = true;
	for (size_t k = 0; k < r->ngroups; k++)
		reach += !r->groups[k].unreachable;
	putc('\n', T->out);
	put_wrapped(T, 0, 0, r->group_by == GROUP_TYPE
		    ? "Types (every map of a type, summed: --group type):"
		    : "Owners (maps held the same way, summed: indices, map keys and "
		      "goroutine ids read as *):");
	put_table_head(T, true);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nsel; i++) {
			const struct map_group *g = sel[i];
			if (g->unreachable != pass)
				continue;
			if (pass && !apart++) {
				putc('\n', T->out);
				put_wrapped(T, 0, 0, "Nothing reaches these, by type (garbage the "
					    "collector has not freed yet, or held through memory "
					    "mapscan cannot read as pointers):");
			}
			put_group(T, g, mem && g->maps > 1 ? &mem[i] : NULL);
			if (!g->unreachable)
				rec = sat_add(rec, g->reclaimable_bytes), shown++;
			if (g->maps == 1 && shows_more(&r->maps[g->biggest]))
				more = true;
		}
		if (!pass)
			put_coverage(T, rec, shown, reach, reach == 1 ? "group" : "groups",
				     T->o->top);
	}
	free(mem);
	if (more)
		put_more_note(T);
}

static void put_maps(struct text *T, const struct map_entry **sel, size_t nsel, size_t top)
{
	const struct report *r = T->r;
	uint64_t rec = 0;
	size_t apart = 0;
	int growing = 0;
	bool more = false;

	if (r->group_by != GROUP_NONE && r->ngroups)
		fputs("\nBiggest maps:\n", T->out);
	else
		putc('\n', T->out);
	put_table_head(T, false);
	size_t reach = r->nmaps - (size_t)r->unreachable_maps, shown = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nsel; i++) {
			const struct map_entry *m = sel[i];
			if (m->unreachable != pass)
				continue;
			if (pass && !apart++) {
				putc('\n', T->out);
				put_wrapped(T, 0, 0, "Maps nothing reaches: garbage the collector has "
					    "not freed yet, or held through memory mapscan cannot "
					    "read as pointers:");
			}
			put_map(T, m);
			growing |= m->fig.growing;
			more |= shows_more(m);
			if (!m->unreachable)
				rec = sat_add(rec, m->fig.reclaimable_bytes), shown++;
		}
		if (!pass)
			put_coverage(T, rec, shown, reach, reach == 1 ? "map" : "maps", top);
	}
	if (more)
		put_more_note(T);
	/* Evacuation only advances when the map is written, so a map left
	 * alone mid-growth keeps both arrays indefinitely. */
	if (growing)
		putc('\n', T->out), put_wrapped(T, 0, 0, "A growing map holds its old buckets until further writes "
			    "finish moving the entries out of them.");
}

/* What to do, for the biggest owner shown: what rebuilding it frees, in
 * the words of the layout, and when rebuilding does not help. */
static void put_advice(struct text *T, const struct map_group **gsel, size_t ngsel,
		       const struct map_entry **sel, size_t nsel)
{
	const struct report *r = T->r;
	const struct map_group *g = NULL;
	const struct map_entry *m = NULL;
	uint64_t rec = 0;

	for (size_t i = 0; i < ngsel; i++)
		if (!gsel[i]->unreachable && gsel[i]->reclaimable_bytes > rec)
			rec = (g = gsel[i])->reclaimable_bytes;
	if (!g)
		for (size_t i = 0; i < nsel; i++)
			if (!sel[i]->unreachable && sel[i]->fig.reclaimable_bytes > rec)
				rec = (m = sel[i])->fig.reclaimable_bytes;
	if (!rec)
		return;
	if (g && g->maps == 1)
		m = &r->maps[g->biggest];

	const char *type = g ? g->type : m->type;
	const char *who = m ? (m->nroots ? m->roots[0] : NULL) : g->pattern;
	char *etype = format_escape(type ? type : "map[K]V", ESCAPE_TEXT);
	char *ewho = who ? format_escape(who, ESCAPE_TEXT) : NULL;
	char size[16], line[2048];
	bool swiss = r->layout == LAYOUT_SWISS;

	if (!etype || (who && !ewho)) {
		T->failed = true;
		goto out;
	}
	human_size(rec, size, sizeof(size));
	putc('\n', T->out);
	if (m && ewho)
		snprintf(line, sizeof(line), "Rebuilding %s (%s) would free %s.", ewho, etype, size);
	else if (m)
		snprintf(line, sizeof(line), "Rebuilding the biggest map (%s at 0x%" PRIx64 ") "
			 "would free %s.", etype, m->address, size);
	else if (ewho)
		snprintf(line, sizeof(line), "Rebuilding the %" PRIu64 " maps of %s (%s) would "
			 "free %s.", g->maps, ewho, etype, size);
	else
		snprintf(line, sizeof(line), "Rebuilding the %" PRIu64 " maps of type %s would "
			 "free %s.", g->maps, etype, size);
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 " Go maps never shrink: delete() and clear() leave the %s allocated. Copy the "
		 "live entries into a new map and drop the old one, where the map is rebuilt "
		 "anyway or once len(m) is well below its peak:",
		 swiss ? "groups and tables" : "buckets and overflow buckets");
	put_wrapped(T, 0, 0, line);
	/* The map's own type in the example, when the line still fits. */
	size_t width = T->width ? T->width : PROSE_WIDTH;
	const char *mk = type && 4 + 12 + format_width(etype) + 9 <= width ? etype : "map[K]V";
	fprintf(T->out, "\n    m2 := make(%s, len(m))\n"
		"    for k, v := range m {\n"
		"        m2[k] = v\n"
		"    }\n"
		"    m = m2\n\n", mk);
	put_wrapped(T, 0, 0, "A map that fills up again (a cache at its working size, a buffer "
		    "refilled every batch) grows back to the same storage: rebuilding it only "
		    "churns the allocator. Rebuild the maps whose peak is behind them.");
out:
	free(etype);
	free(ewho);
}

int format_text(FILE *out, const struct report *r, const struct format_opts *o)
{
	static const struct format_opts defaults = { .sort = SORT_RECLAIMABLE };
	const struct map_entry **sel = NULL;
	const struct map_group **gsel = NULL;
	size_t nsel = 0, ngsel = 0;
	int rc = -1;

	if (!o)
		o = &defaults;
	struct format_opts mo = format_map_opts(r, o);
	struct text T = { .out = out, .r = r, .o = o, .width = o->width, .col = TYPE_COL };
	if (T.width && T.width < TYPE_COL + MIN_NAME_W)
		T.col = NARROW_COL;
	bool grouped = r->group_by != GROUP_NONE && r->ngroups;
	if (format_select(r, &mo, &sel, &nsel) < 0 ||
	    (grouped && format_select_groups(r, o, &gsel, &ngsel) < 0))
		goto out;
	put_header(&T);
	put_debug(&T);
	put_process(&T);
	put_partial(&T);
	put_summary(&T);

	if (ngsel)
		put_groups(&T, gsel, ngsel);
	if (nsel)
		put_maps(&T, sel, nsel, mo.top);
	if (!nsel && r->nmaps) {
		char line[160], min[16];

		human_size(o->min_reclaimable, min, sizeof(min));
		snprintf(line, sizeof(line), "no map has %s or more reclaimable", min);
		putc('\n', out);
		put_wrapped(&T, 0, 0, line);
	}

	if (r->nwarnings)
		putc('\n', out);
	for (size_t i = 0; i < r->nwarnings; i++)
		put_note(&T, 0, 9, "warning: ", r->warnings[i]);
	if (!o->quiet)
		put_advice(&T, gsel, ngsel, sel, nsel);
	if (!r->total_reclaimable && r->partial) {
		putc('\n', out);
		put_wrapped(&T, 0, 0, "Nothing reclaimable in what the core holds; it lacks memory "
			    "(see the warning above).");
	} else if (!r->total_reclaimable && r->unclaimed_known && !r->gc_running &&
		   r->unclaimed_storage >= UNCLAIMED_NOTABLE) {
		putc('\n', out);
		put_wrapped(&T, 0, 0, "Nothing reclaimable in the maps found; but see the map storage "
			    "no map found owns, above.");
	}
	rc = T.failed ? -1 : 0;
out:
	free(sel);
	free(gsel);
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	return rc;
}

/* ---- A diff (mapscan diff) ----------------------------------------------
 *
 * The group table's layout with signed figures: the change of reclaimable
 * and retained bytes, of maps and of entries, then the type and under it
 * the pattern (names whole, as in the report), then what the group was
 * and is. */

#define W_DSIZE 9                /* "+" or "-" and a human_size */
#define W_DMAPS 7
#define W_DCOUNT 9
#define DIFF_COL (W_DSIZE + GAP + W_DSIZE + GAP + W_DMAPS + GAP + W_DCOUNT + GAP)

static void signed_size(int64_t d, char *buf, size_t n)
{
	uint64_t m = d < 0 ? (uint64_t)-(d + 1) + 1 : (uint64_t)d;

	if (n < 2)
		return;
	buf[0] = d < 0 ? '-' : '+';
	human_size(m, buf + !!d, n - !!d);   /* 0 B has no sign */
}

static void signed_count(int64_t d, char *buf, size_t n)
{
	snprintf(buf, n, "%+" PRId64, d);
	if (!d)
		snprintf(buf, n, "0");
}

/* "old: FILE (core, go1.26.8): 440 maps, 3.7 MiB reclaimable, 3.9 MiB
 * retained"; a JSON report names the core it was written from. */
static void put_diff_side(struct text *T, const struct diff_input *in, const char *label,
			  uint64_t maps, uint64_t rec, uint64_t ret)
{
	const struct report *r = in->r;
	bool json = !strcmp(in->read_as, "json");
	char r1[16], r2[16], *line = NULL;

	human_size(rec, r1, sizeof(r1));
	human_size(ret, r2, sizeof(r2));
	if (asprintf(&line, "%s %s (%s%s, %s): %" PRIu64 " maps, %s reclaimable, %s retained",
		     label, in->file, json ? "JSON report of " : "core",
		     json ? (r->source ? r->source : "?") : "",
		     r->go_version ? r->go_version : "Go version unknown", maps, r1, r2) < 0) {
		T->failed = true;
		return;
	}
	char *esc = format_escape(line, ESCAPE_TEXT);
	free(line);
	if (!esc) {
		T->failed = true;
		return;
	}
	put_wrapped(T, 0, 5, esc);
	free(esc);
}

int format_diff_text(FILE *out, const struct diff *d, const struct diff_input in[2],
		     const struct format_opts *o)
{
	static const struct format_opts defaults = { .sort = SORT_RECLAIMABLE };
	if (!o)
		o = &defaults;
	struct text T = { .out = out, .r = in[1].r, .o = o, .width = o->width, .col = DIFF_COL };
	if (T.width && T.width < DIFF_COL + MIN_NAME_W)
		T.col = NARROW_COL;
	size_t shown = o->top && o->top < d->ngroups ? o->top : d->ngroups;
	char a[16], b[16], c[32], e[32], line[300];

	put_diff_side(&T, &in[0], "old:", d->maps[0], d->reclaimable_bytes[0], d->retained_bytes[0]);
	put_diff_side(&T, &in[1], "new:", d->maps[1], d->reclaimable_bytes[1], d->retained_bytes[1]);
	signed_size(diff_delta(d->reclaimable_bytes[0], d->reclaimable_bytes[1]), a, sizeof(a));
	signed_size(diff_delta(d->retained_bytes[0], d->retained_bytes[1]), b, sizeof(b));
	signed_count(diff_delta(d->maps[0], d->maps[1]), c, sizeof(c));
	signed_count(diff_delta(d->count[0], d->count[1]), e, sizeof(e));
	snprintf(line, sizeof(line), "change: %s reclaimable, %s retained, %s maps, %s entries", a,
		 b, c, e);
	put_wrapped(&T, 0, 8, line);
	putc('\n', out);
	if (!d->ngroups) {
		snprintf(line, sizeof(line), "No %s changed (%zu the same in both).",
			 d->by == GROUP_TYPE ? "type" : "owner group", d->nunchanged);
		put_wrapped(&T, 0, 0, line);
		return T.failed ? (errno = ENOMEM, -1) : ferror(out) ? -1 : 0;
	}
	snprintf(line, sizeof(line), "%s that changed, largest change of reclaimable bytes first"
		 " (%zu changed, %zu the same):", d->by == GROUP_TYPE ? "Types" : "Owner groups",
		 d->ngroups, d->nunchanged);
	put_wrapped(&T, 0, 0, line);
	fprintf(out, "%*s%*s%*s%*s%*s%*s%*s", W_DSIZE, "RECLAIM", GAP, "", W_DSIZE, "RETAINED",
		GAP, "", W_DMAPS, "MAPS", GAP, "", W_DCOUNT, "COUNT");
	if (T.col != NARROW_COL)
		fprintf(out, "%*s%s", GAP, "", d->by == GROUP_TYPE ? "TYPE" : "TYPE / OWNER");
	putc('\n', out);
	for (size_t i = 0; i < shown; i++) {
		const struct diff_group *g = &d->groups[i];
		signed_size(diff_delta(g->reclaimable_bytes[0], g->reclaimable_bytes[1]), a, sizeof(a));
		signed_size(diff_delta(g->retained_bytes[0], g->retained_bytes[1]), b, sizeof(b));
		signed_count(diff_delta(g->maps[0], g->maps[1]), c, sizeof(c));
		signed_count(diff_delta(g->count[0], g->count[1]), e, sizeof(e));
		fprintf(out, "%*s%*s%*s%*s%*s%*s%*s", W_DSIZE, a, GAP, "", W_DSIZE, b, GAP, "",
			W_DMAPS, c, GAP, "", W_DCOUNT, e);
		if (T.col == NARROW_COL)
			putc('\n', out);
		put_spaces(out, T.col == NARROW_COL ? T.col : GAP);
		put_name(&T, T.col, g->type ? g->type : "(type unknown)", "");
		if (g->pattern) {
			put_spaces(out, T.col);
			put_name(&T, T.col, g->pattern, "");
		}
		char r0[16], r1[16];
		human_size(g->reclaimable_bytes[0], r0, sizeof(r0));
		human_size(g->reclaimable_bytes[1], r1, sizeof(r1));
		if (!g->in[0])
			snprintf(line, sizeof(line), "new: %" PRIu64 " map%s, %s reclaimable", g->maps[1],
				 g->maps[1] == 1 ? "" : "s", r1);
		else if (!g->in[1])
			snprintf(line, sizeof(line), "gone: had %" PRIu64 " map%s, %s reclaimable",
				 g->maps[0], g->maps[0] == 1 ? "" : "s", r0);
		else
			snprintf(line, sizeof(line), "%" PRIu64 " → %" PRIu64 " maps, %s → %s reclaimable",
				 g->maps[0], g->maps[1], r0, r1);
		put_wrapped(&T, T.col, CONT, line);
	}
	if (shown < d->ngroups) {
		snprintf(line, sizeof(line), "(%zu more changed; --top 0 shows all)", d->ngroups - shown);
		put_wrapped(&T, 0, 0, line);
	}
	if (T.failed) {
		errno = ENOMEM;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
