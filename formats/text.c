/* The text formatter, and the helpers every formatter shares (selection,
 * escaping, sizes).
 *
 * The text must read well in an 80-column terminal and survive being pasted
 * into a bug report: fixed-width columns, nothing wider than 80 columns, and
 * no byte from the core reaching the terminal unescaped. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define WIDTH 80

/* The table: right-aligned figures, then the type (and, on the lines below,
 * the paths and notes) from column TYPE_COL to the right margin. */
#define W_SIZE 8                 /* human_size is at most 8 characters */
#define W_COUNT 7
#define W_CAP 8
#define W_FILL 5
#define GAP 2
#define TYPE_COL (W_SIZE + GAP + W_SIZE + GAP + W_COUNT + GAP + W_CAP + GAP + \
		  W_FILL + GAP)
#define TYPE_W (WIDTH - TYPE_COL)

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
	msort(v, tmp, n, cmp);
	free(tmp);
	if (o->top && n > o->top)
		n = o->top;
	*sel = v;
	*nsel = n;
	return 0;
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
	uint32_t v, min;
	int len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
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
		if (mode == ESCAPE_TEXT && (cp < 0x20 || cp == 0x7f || cp == '\\')) {
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
		if (mode == ESCAPE_TEXT && invisible(cp)) {
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

static void put_spaces(FILE *out, size_t n)
{
	while (n--)
		putc(' ', out);
}

/* Print esc (escaped) in at most w columns, cutting the middle out with
 * "…" when it is wider.  Both ends of a type or path carry meaning (the
 * map's key type, the field holding it), so the middle goes. */
static void put_fit(FILE *out, const char *esc, size_t w)
{
	if (format_width(esc) <= w) {
		fputs(esc, out);
		return;
	}
	if (w == 0)
		return;

	const char *h, *t;
	format_elide(esc, w, &h, &t);
	fwrite(esc, 1, (size_t)(h - esc), out);
	fputs("…", out);
	fputs(t, out);
}

/* Print text word-wrapped to WIDTH: the first line starts at column
 * indent, the next ones at indent + hang.  A word too long for a line is
 * broken where the line ends. */
static void put_wrapped(FILE *out, size_t indent, size_t hang, const char *text)
{
	size_t col = indent, start = indent;
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
		if (!empty && col + 1 + ww > WIDTH) {
			putc('\n', out);
			start = indent + hang;
			put_spaces(out, start);
			col = start;
			empty = 1;
		}
		if (!empty) {
			putc(' ', out);
			col++;
		}
		while (p < e) {
			int len = next_cp(p, &w);
			if (col + (size_t)w > WIDTH && col > start) {
				putc('\n', out);
				start = indent + hang;
				put_spaces(out, start);
				col = start;
			}
			fwrite(p, 1, (size_t)len, out);
			col += (size_t)w;
			p += len;
			empty = 0;
		}
	}
	putc('\n', out);
}

/* Go names qualify with the full import path, which eats a narrow column:
 * keep only the last element ("github.com/acme/cache.Key" → "cache.Key").
 * In a type every qualified name loses its prefix; in a root path only the
 * global's name does, since map keys further along may hold a '/'.  Works
 * in place; esc only gets shorter. */
static void shorten_names(char *esc, int is_path)
{
	char *w = esc, *seg = esc;
	const char *stop = is_path ? esc + strcspn(esc, "[(\" ") : NULL;

	for (const char *r = esc; *r; r++) {
		if (*r == '/' && (!stop || r < stop)) {
			w = seg;        /* drop the element just copied */
			continue;
		}
		*w++ = *r;
		if (strchr("[]*(){},; ", *r))
			seg = w;
	}
	*w = '\0';
}

/* An untrusted name in at most w columns: escaped, shortened to package
 * names if too wide, then cut in the middle if still too wide. */
static int put_name(FILE *out, const char *name, size_t w, int is_path)
{
	char *esc = format_escape(name, ESCAPE_TEXT);

	if (!esc)
		return -1;
	if (format_width(esc) > w)
		shorten_names(esc, is_path);
	put_fit(out, esc, w);
	free(esc);
	return 0;
}

/* prefix + escaped s, wrapped; -1 when memory ran out. */
static int put_note(FILE *out, size_t indent, size_t hang, const char *prefix,
		    const char *s)
{
	char *esc = format_escape(s, ESCAPE_TEXT);
	char *line;

	if (!esc)
		return -1;
	line = malloc(strlen(prefix) + strlen(esc) + 1);
	if (!line) {
		free(esc);
		return -1;
	}
	strcpy(line, prefix);
	strcat(line, esc);
	put_wrapped(out, indent, hang, line);
	free(line);
	free(esc);
	return 0;
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

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int put_map(FILE *out, const struct map_entry *m)
{
	const struct map_figures *f = &m->fig;
	char rec[16], ret[16], cnt[32], cap[32], fill[16];
	human_size(f->reclaimable_bytes, rec, sizeof(rec));
	human_size(f->retained_bytes, ret, sizeof(ret));
	fmt_count(f->count, W_COUNT, cnt, sizeof(cnt));
	fmt_count(f->capacity_slots, W_CAP, cap, sizeof(cap));
	fmt_fill(f->count, f->capacity_slots, fill, sizeof(fill));
	fprintf(out, "%*s%*s%*s%*s%*s%*s%*s%*s%*s%*s", W_SIZE, rec, GAP, "",
		W_SIZE, ret, GAP, "", W_COUNT, cnt, GAP, "", W_CAP, cap,
		GAP, "", W_FILL, fill, GAP, "");
	char tsfx[48] = "";
	if (m->type_guessed)
		snprintf(tsfx, sizeof(tsfx), " (guess, 1 of %u)", m->type_candidates);
	if (put_name(out, m->type ? m->type : "(type unknown)", TYPE_W - strlen(tsfx), 0) < 0)
		return -1;
	fputs(tsfx, out);
	putc('\n', out);

	put_spaces(out, TYPE_COL);
	if (m->nroots == 0) {
		fputs(m->unreachable ? (m->garbage > 0 ? "(garbage: the last GC found it dead)"
				       : "(nothing mapscan can read points to it)")
				     : "(path not recorded)", out);
	} else {
		uint64_t more = sat_add(m->nroots - 1, m->more_roots);
		char sfx[64] = "";

		if (more)
			snprintf(sfx, sizeof(sfx), " +%" PRIu64 " more", more);
		if (m->conservative)
			snprintf(sfx + strlen(sfx), sizeof(sfx) - strlen(sfx), " (conservative)");
		if (put_name(out, m->roots[0], TYPE_W - strlen(sfx), 1) < 0)
			return -1;
		fputs(sfx, out);
	}
	putc('\n', out);

	if (f->growing) {
		char note[64];

		snprintf(note, sizeof(note), "growing (%" PRIu64 " old buckets"
			 " held)", f->old_buckets);
		put_wrapped(out, TYPE_COL, 2, note);
	}
	for (size_t i = 0; i < m->nwarnings; i++)
		if (put_note(out, TYPE_COL, 2, "warning: ", m->warnings[i]) < 0)
			return -1;
	return 0;
}

/* "mapscan V — CORE (executable: EXE)" when it fits in a line; else the
 * executable gets a line of its own and long names lose their middle. */
static int put_header(FILE *out, const struct report *r)
{
	const char *tool = "mapscan " MAPSCAN_VERSION;
	char *src = NULL, *exe = NULL, *ver = NULL, lay[32];
	int rc = -1;

	if ((r->source && !(src = format_escape(r->source, ESCAPE_TEXT))) ||
	    (r->executable &&
	     !(exe = format_escape(r->executable, ESCAPE_TEXT))) ||
	    (r->go_version &&
	     !(ver = format_escape(r->go_version, ESCAPE_TEXT))))
		goto out;

	size_t tw = format_width(tool), w = tw;
	if (src)
		w += 3 + format_width(src);
	if (exe)
		w += 14 + format_width(exe) + 1;
	fputs(tool, out);
	if (w <= WIDTH) {
		if (src)
			fprintf(out, " — %s", src);
		if (exe)
			fprintf(out, " (executable: %s)", exe);
		putc('\n', out);
	} else {
		if (src) {
			fputs(" — ", out);
			put_fit(out, src, WIDTH - tw - 3);
		}
		putc('\n', out);
		if (exe) {
			fputs("executable: ", out);
			put_fit(out, exe, WIDTH - 12);
			putc('\n', out);
		}
	}

	snprintf(lay, sizeof(lay), ", %s maps", layout_name(r->layout));
	fputs("Go ", out);
	if (ver)
		put_fit(out, ver, WIDTH - 3 - strlen(lay));
	else
		fputs("version unknown", out);
	fprintf(out, "%s\n", lay);
	rc = 0;
out:
	free(src);
	free(exe);
	free(ver);
	return rc;
}

/* Where the DWARF came from, when it is not the executable itself. */
static int put_debug(FILE *out, const struct report *r)
{
	char *p;

	if (r->names_limited) {
		fputs("names limited: no debug information (DWARF); variables are named by address,\n"
		      "locals by frame offset; pass a debug copy of this build with --debug-file\n", out);
		return 0;
	}
	if (!r->debug_info || (!strcmp(r->debug_found_by, "executable") && !r->debug_other_build))
		return 0;
	if (!(p = format_escape(r->debug_info, ESCAPE_TEXT)))
		return -1;
	fputs("debug info: ", out);
	put_fit(out, p, WIDTH - 14 - strlen(r->debug_found_by));
	fprintf(out, " (%s)\n", r->debug_found_by);
	if (r->debug_other_build)
		fputs("executable differs only in build ID / link flags; layout verified\n", out);
	free(p);
	return 0;
}

/* A live process: how long it was stopped, or that it was not. */
static int put_process(FILE *out, const struct report *r)
{
	double ms = (double)r->paused_ns / 1e6;
	char *core = NULL;

	if (!r->pid)
		return 0;
	if (r->saved_core && !(core = format_escape(r->saved_core, ESCAPE_TEXT)))
		return -1;
	if (!r->stopped)
		fprintf(out, "process %d read without stopping it (--no-stop): figures may be "
			"inconsistent\n", r->pid);
	else if (ms < 1000)
		fprintf(out, "process %d paused %.1f ms (%" PRIu64 " thread%s)%s\n", r->pid, ms,
			r->threads_stopped, r->threads_stopped == 1 ? "" : "s",
			r->inconsistent ? ", resumed before the end of the scan" : "");
	else
		fprintf(out, "process %d paused %.2f s (%" PRIu64 " thread%s)%s\n", r->pid, ms / 1000,
			r->threads_stopped, r->threads_stopped == 1 ? "" : "s",
			r->inconsistent ? ", resumed before the end of the scan" : "");
	if (core)
		fprintf(out, "core saved to %s\n", core);
	free(core);
	return 0;
}

/* "heap 120 MiB in use: maps hold 34%, 33% is reclaimable map storage" */
static void put_heap(FILE *out, const struct report *r)
{
	char heap[16];

	if (!r->heap_known || !r->heap_in_use)
		return;
	human_size(r->heap_in_use, heap, sizeof(heap));
	fprintf(out, "heap %s in use: maps hold %.1f%%, reclaimable map storage %.1f%%\n",
		heap, (double)r->total_retained * 100.0 / (double)r->heap_in_use,
		(double)r->total_reclaimable * 100.0 / (double)r->heap_in_use);
}

/* Map storage the heap holds that no map found owns: maps mapscan could
 * not find.  A report must not look clean while that is large. */
#define UNCLAIMED_NOTABLE (64 * 1024)

static void put_unclaimed(FILE *out, const struct report *r)
{
	char b[16];

	if (!r->unclaimed_known || !r->unclaimed_storage)
		return;
	human_size(r->unclaimed_storage, b, sizeof(b));
	fprintf(out, "%s of map storage in the heap belongs to no map found (%" PRIu64
		" allocation%s): %s\n", b, r->unclaimed_objects, r->unclaimed_objects == 1 ? "" : "s",
		r->gc_running ? "mostly garbage not yet freed (a collection was running)"
			      : "maps mapscan could not reach");
}

/* A core that lacks memory: said before anything is counted. */
static void put_partial(FILE *out, const struct report *r)
{
	char b[16];

	if (!r->partial)
		return;
	human_size(r->missing_bytes, b, sizeof(b));
	fprintf(out, "PARTIAL: the core lacks %s of the memory mapscan reads; maps held there "
		"are missing (see the warning below)\n", b);
}

static void put_summary(FILE *out, const struct report *r)
{
	char ret[16], rec[16];

	size_t reach = r->nmaps - (size_t)r->unreachable_maps;
	if (r->nmaps == 0) {
		fputs("no maps found\n", out);
		put_heap(out, r);
		return;
	}
	human_size(r->total_retained, ret, sizeof(ret));
	human_size(r->total_reclaimable, rec, sizeof(rec));
	fprintf(out, "%zu map%s found, %s retained, %s reclaimable", reach,
		reach == 1 ? "" : "s", ret, rec);
	if (r->total_retained) {
		double pct = (double)r->total_reclaimable * 100.0 /
			     (double)r->total_retained;
		int p = (int)(pct + 0.5);

		/* Never round a little waste to 0% or most to 100%. */
		if (r->total_reclaimable && p == 0)
			fputs(" (<1%)", out);
		else
			fprintf(out, " (%d%%)",
				r->total_reclaimable < r->total_retained &&
				p >= 100 ? 99 : p);
	}
	putc('\n', out);
	if (r->unreachable_maps) {
		human_size(r->unreachable_retained, ret, sizeof(ret));
		fprintf(out, "%" PRIu64 " more map%s nothing reaches (listed apart), %s retained%s\n",
			r->unreachable_maps, r->unreachable_maps == 1 ? "" : "s", ret,
			r->gc_running ? ": mostly garbage, a collection was running" : "");
	}
	put_heap(out, r);
	put_unclaimed(out, r);
}

static const char advice[] =
	"Go maps never shrink: delete() leaves the buckets allocated, so a map\n"
	"that was once large keeps its peak size. To give the memory back, copy\n"
	"the live entries into a new map and drop every reference to the old one:\n"
	"\n"
	"    m2 := make(map[K]V, len(m))\n"
	"    for k, v := range m {\n"
	"        m2[k] = v\n"
	"    }\n"
	"    m = m2\n"
	"\n"
	"or rebuild the map periodically. clear(m) empties the map but does NOT\n"
	"free its storage.\n";

int format_text(FILE *out, const struct report *r, const struct format_opts *o)
{
	static const struct format_opts defaults = { .sort = SORT_RECLAIMABLE };
	const struct map_entry **sel = NULL;
	size_t nsel = 0;
	int rc = -1;

	if (!o)
		o = &defaults;
	if (format_select(r, o, &sel, &nsel) < 0)
		return -1;
	if (put_header(out, r) < 0 || put_debug(out, r) < 0 || put_process(out, r) < 0)
		goto out;
	put_partial(out, r);
	put_summary(out, r);

	if (nsel) {
		fprintf(out, "\n%*s%*s%*s%*s%*s%*s%*s%*s%*s%*s%s\n",
			W_SIZE, "RECLAIM", GAP, "", W_SIZE, "RETAINED", GAP, "",
			W_COUNT, "COUNT", GAP, "", W_CAP, "CAPACITY", GAP, "",
			W_FILL, "FILL", GAP, "", "TYPE / PATH");
		int growing = 0, apart = 0;
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < nsel; i++) {
				if (sel[i]->unreachable != pass)
					continue;
				if (pass && !apart++) {
					putc('\n', out);
					put_wrapped(out, 0, 0, "Maps nothing reaches: garbage the "
						    "collector has not freed yet, or held through "
						    "memory mapscan cannot read as pointers:");
				}
				if (put_map(out, sel[i]) < 0)
					goto out;
				growing |= sel[i]->fig.growing;
			}
		}
		/* Evacuation only advances when the map is written, so a map
		 * left alone mid-growth keeps both arrays indefinitely. */
		if (growing) {
			putc('\n', out);
			put_wrapped(out, 0, 0, "A growing map holds its old "
				    "buckets until further writes finish "
				    "moving the entries out of them.");
		}
	}
	if (nsel < r->nmaps) {
		char line[160], min[16];
		int n;

		human_size(o->min_reclaimable, min, sizeof(min));
		if (nsel == 0)
			n = snprintf(line, sizeof(line), "no map has %s or"
				     " more reclaimable", min);
		else
			n = snprintf(line, sizeof(line), "showing %zu of %zu"
				     " maps", nsel, r->nmaps);
		if (nsel && o->min_reclaimable)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      ", those with %s or more reclaimable", min);
		if (nsel && o->top && nsel == o->top)
			snprintf(line + n, sizeof(line) - (size_t)n,
				 " (--top 0 shows all)");
		putc('\n', out);
		put_wrapped(out, 0, 0, line);
	}

	if (r->nwarnings)
		putc('\n', out);
	for (size_t i = 0; i < r->nwarnings; i++)
		if (put_note(out, 0, 9, "warning: ", r->warnings[i]) < 0)
			goto out;

	putc('\n', out);
	if (r->total_reclaimable)
		fputs(advice, out);
	else if (r->partial)
		fputs("Nothing reclaimable in what the core holds; it lacks memory (see the"
		      " warning above).\n", out);
	else if (r->unclaimed_known && !r->gc_running && r->unclaimed_storage >= UNCLAIMED_NOTABLE)
		fputs("Nothing reclaimable in the maps found; but see the map storage"
		      " no map found owns, above.\n", out);
	else if (r->nmaps)
		fputs("Nothing reclaimable: every map is about the size its"
		      " entries need.\n", out);
	else
		fputs("Nothing reclaimable.\n", out);
	rc = 0;
out:
	free(sel);
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	return rc;
}
