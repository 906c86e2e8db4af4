/* The report model and its formatters, on a report built in memory: what a
 * user sees in the terminal and what a script reads from --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "format.h"
#include "group.h"
#include "report.h"

#include "unit.h"

#define MiB (1024ull * 1024)
#define EVIL "\x1b[31mevil"

/* ---- helpers ----------------------------------------------------------- */

/* Render with fn into a new string (caller frees); *rc gets fn's result. */
static char *render(int (*fn)(FILE *, const struct report *,
			      const struct format_opts *),
		    const struct report *r, const struct format_opts *o,
		    int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	*rc = fn(f, r, o);
	fclose(f);
	return buf;
}

/* Columns of a line, counting code points: the test report has no wide
 * characters, so this is independent of format_width. */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static int all_lines_fit(const char *text)
{
	int ok = 1;

	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (columns(p, n) > 80) {
			fprintf(stderr, "line wider than 80: %.*s\n", (int)n, p);
			ok = 0;
		}
		p += n + (e != NULL);
	}
	return ok;
}

/* No byte a terminal would act on: controls other than newline, DEL, or
 * bytes that are not UTF-8 (checked loosely: 0xc0, 0xc1, 0xf5-0xff). */
static int terminal_safe(const char *text, int tabs)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n' && !(tabs && *p == '\t')) ||
		    *p == 0x7f ||
		    *p == 0xc0 || *p == 0xc1 || *p >= 0xf5)
			return 0;
	return 1;
}

static int count_substr(const char *s, const char *sub)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static struct map_entry *add(struct report *r, uint64_t addr, const char *type,
			     enum map_layout layout, uint64_t count,
			     uint64_t cap, uint64_t retained, uint64_t ideal)
{
	struct map_entry *m = report_add_map(r, addr);

	if (!m)
		abort();
	m->type = xstrdup(type);
	m->key_type = xstrdup("string");
	m->elem_type = xstrdup("int");
	m->layout = layout;
	m->fig.count = count;
	m->fig.live_slots = count;
	m->fig.capacity_slots = cap;
	m->fig.buckets = cap / 8;
	m->fig.tables = layout == LAYOUT_SWISS && cap > 8 ? 1 : 0;
	m->fig.retained_bytes = retained;
	m->fig.ideal_bytes = ideal;
	m->fig.reclaimable_bytes = retained > ideal ? retained - ideal : 0;
	return m;
}

/* A report like one from a long-running server. */
static void build(struct report *r)
{
	struct map_entry *m;

	memset(r, 0, sizeof(*r));
	r->source = xstrdup("core.1234");
	r->source_kind = xstrdup("core");
	r->executable = xstrdup("/srv/app");
	r->go_version = xstrdup("go1.26.8");
	r->layout = LAYOUT_SWISS;

	m = add(r, 0xc000123456, "map[string]*main.Session", LAYOUT_SWISS,
		10, 1048576, 40 * MiB + 4096, 4096);
	map_add_root(m, "main.sessions", false);

	m = add(r, 0xc000200000, "map[int]string", LAYOUT_CLASSIC,
		5000, 8192, 3 * MiB, 200 * 1024);
	m->fig.growing = 1;
	m->fig.old_buckets = 512;
	for (int i = 0; i < 10; i++) {
		char path[32];
		snprintf(path, sizeof(path), "main.caches[%d].byID", i);
		map_add_root(m, path, false);
		if (i < 8)  /* the same path again is not a new one */
			map_add_root(m, path, false);
	}

	m = add(r, 0xc000300000, EVIL, LAYOUT_SWISS, 3, 64, 2 * MiB, 1024);
	map_add_root(m, "main.\x1b]0;pwned\x07title", false);
	map_add_warning(m, "count %d but %d live slots\r\n\xff", 3, 2);

	/* Figures a corrupt core could claim. */
	m = add(r, 0xc000400000, "map[uint64]uint64", LAYOUT_SWISS,
		UINT64_MAX, UINT64_MAX, UINT64_MAX, 0);
	map_add_root(m, "main.huge", false);

	m = add(r, 0xc000500000,
		"map[github.com/acme/platform/internal/cache.Key]*github.com/"
		"acme/platform/internal/cache.Entry", LAYOUT_SWISS,
		100, 1024, 512 * 1024, 16 * 1024);
	map_add_root(m, "github.com/acme/platform/internal/cache.defaultStore."
		     "shards[12].entriesByKey.withAVeryLongFieldName", false);

	m = add(r, 0xc000600000, "map[string]main.café", LAYOUT_SWISS,
		7, 8, 200, 200);
	map_add_root(m, "main.menu", false);

	m = add(r, 0xc000700000, "map[string]int", LAYOUT_SWISS, 0, 0, 48, 48);
	/* no root recorded */

	report_add_warning(r, "%d maps could not be read: the core has no "
			   "memory at 0x%x and 0x%x; the figures of the maps "
			   "involved are lower bounds", 2, 0xdead, 0xbeef);
	report_finish(r);
}

/* ---- lib/report.c ------------------------------------------------------ */

static void test_report_model(void)
{
	struct report r = { 0 };
	struct map_entry *m;

	CHECK(strcmp(layout_name(LAYOUT_CLASSIC), "classic") == 0);
	CHECK(strcmp(layout_name(LAYOUT_SWISS), "swiss") == 0);
	CHECK(strcmp(layout_name(LAYOUT_UNKNOWN), "unknown") == 0);
	CHECK(strcmp(layout_name((enum map_layout)42), "unknown") == 0);

	for (uint64_t i = 0; i < 1000; i++) {
		m = report_add_map(&r, 0x1000 + i);
		if (!m)
			break;
		CHECK(m->type == NULL && m->nroots == 0 && m->fig.count == 0);
		m->fig.retained_bytes = 10;
		m->fig.ideal_bytes = 4;
		m->fig.reclaimable_bytes = 6;
		m->fig.count = i;
	}
	CHECK(r.nmaps == 1000 && r.capmaps >= 1000);
	CHECK(r.maps[999].address == 0x1000 + 999);
	report_finish(&r);
	CHECK(r.total_retained == 10000 && r.total_ideal == 4000);
	CHECK(r.total_reclaimable == 6000 && r.total_count == 999 * 1000 / 2);
	/* Calling it again does not double the totals. */
	report_finish(&r);
	CHECK(r.total_retained == 10000);

	m = &r.maps[0];
	for (int i = 0; i < 36; i++) {
		char p[16];
		snprintf(p, sizeof(p), "main.v%d", i % 34);
		CHECK(map_add_root(m, p, false) == 0);
	}
	/* v0..v31 kept; v32, v33 counted; then v0, v1 again are duplicates */
	CHECK(m->nroots == 32 && m->more_roots == 2);
	CHECK(strcmp(m->roots[31], "main.v31") == 0);

	CHECK(map_add_warning(m, "count %d but %s", 10, "9 live slots") == 0);
	CHECK(m->nwarnings == 1 &&
	      strcmp(m->warnings[0], "count 10 but 9 live slots") == 0);
	CHECK(report_add_warning(&r, "%s", "hole") == 0 && r.nwarnings == 1);

	m = report_add_map(&r, 1);
	m->fig.retained_bytes = UINT64_MAX;
	report_finish(&r);
	CHECK(r.total_retained == UINT64_MAX);   /* saturates, never wraps */

	report_free(&r);
	CHECK(r.maps == NULL && r.nmaps == 0);
	report_free(&r);    /* twice is fine */
	report_free(NULL);
}

/* ---- shared helpers ---------------------------------------------------- */

static void check_size(const char *s, int ok, uint64_t want)
{
	uint64_t v = 12345;
	int rc = parse_size(s, &v);

	if (ok)
		CHECK(rc == 0 && v == want);
	else
		CHECK(rc == -1 && v == 12345);
	if ((rc == 0) != ok || (ok && v != want))
		fprintf(stderr, "  parse_size(\"%s\") = %d, %llu\n", s, rc,
			(unsigned long long)v);
}

static void test_parse_size(void)
{
	check_size("0", 1, 0);
	check_size("4096", 1, 4096);
	check_size("64K", 1, 65536);
	check_size("64k", 1, 65536);
	check_size("64KiB", 1, 65536);
	check_size("64kib", 1, 65536);
	check_size("64KB", 1, 65536);
	check_size("1.5M", 1, 1572864);
	check_size("1.5MiB", 1, 1572864);
	check_size("2G", 1, 2ull << 30);
	check_size("1MB", 1, MiB);
	check_size("512B", 1, 512);
	check_size("0.5K", 1, 512);
	check_size("0.0001K", 1, 0);      /* a fraction of a byte rounds down */
	check_size("1.999999999999999999999G", 1, (2ull << 30) - 1);
	check_size("1T", 1, 1ull << 40);
	check_size("15E", 1, 15ull << 60);
	check_size("18446744073709551615", 1, UINT64_MAX);

	check_size("", 0, 0);
	check_size("K", 0, 0);
	check_size("-1", 0, 0);
	check_size("-1K", 0, 0);
	check_size("+1", 0, 0);
	check_size(" 1", 0, 0);
	check_size("1 ", 0, 0);
	check_size("1 K", 0, 0);
	check_size("1KK", 0, 0);
	check_size("1Kx", 0, 0);
	check_size("1.K", 0, 0);
	check_size(".", 0, 0);
	check_size("1.5", 0, 0);          /* a fraction of a byte */
	check_size("1.5B", 0, 0);
	check_size("1e3", 0, 0);
	check_size("0x10", 0, 0);
	check_size("abc", 0, 0);
	check_size("16E", 0, 0);          /* 2^64 */
	check_size("18446744073709551616", 0, 0);
	check_size("99999999999999999999999", 0, 0);
	check_size("17179869184G", 0, 0);
	check_size("16777215.9999999T", 1, 18446744073709441664ull);
	{
		uint64_t v;
		CHECK(parse_size(NULL, &v) == -1);
	}

	enum sort_key k = SORT_TYPE;
	CHECK(parse_sort_key("reclaimable", &k) == 0 && k == SORT_RECLAIMABLE);
	CHECK(parse_sort_key("retained", &k) == 0 && k == SORT_RETAINED);
	CHECK(parse_sort_key("count", &k) == 0 && k == SORT_COUNT);
	CHECK(parse_sort_key("type", &k) == 0 && k == SORT_TYPE);
	CHECK(parse_sort_key("path", &k) == 0 && k == SORT_PATH);
	k = SORT_PATH;
	CHECK(parse_sort_key("size", &k) == -1 && k == SORT_PATH);
	CHECK(parse_sort_key("Count", &k) == -1);
	CHECK(parse_sort_key("", &k) == -1);
}

static void check_human(uint64_t v, const char *want)
{
	char buf[32];

	human_size(v, buf, sizeof(buf));
	CHECK(strcmp(buf, want) == 0);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "  human_size(%llu) = \"%s\", want \"%s\"\n",
			(unsigned long long)v, buf, want);
}

static void test_human_size(void)
{
	check_human(0, "0 B");
	check_human(512, "512 B");
	check_human(1023, "1023 B");
	check_human(1024, "1.0 KiB");
	check_human(1536, "1.5 KiB");
	check_human(40 * MiB, "40.0 MiB");
	check_human(2254857830ull, "2.1 GiB");
	check_human(99 * 1024 + 1000, "100 KiB");   /* 99.98 would print 100.0 */
	check_human(512 * 1024, "512 KiB");
	check_human(1048064, "1.0 MiB");            /* 1023.5 KiB */
	check_human(1ull << 60, "1.0 EiB");
	check_human(UINT64_MAX, "16.0 EiB");

	/* Every size fits the table's 8-character column. */
	int fits = 1;
	for (int sh = 0; sh < 64; sh++)
		for (int d = -3; d <= 3; d++) {
			uint64_t base = 1ull << sh, v = base + (uint64_t)d;
			uint64_t vs[] = { v, base / 1000 * 999, base * 3 / 2 };
			for (size_t i = 0; i < 3; i++) {
				char buf[32];
				human_size(vs[i], buf, sizeof(buf));
				if (strlen(buf) > 8) {
					fits = 0;
					fprintf(stderr, "  \"%s\" too wide\n",
						buf);
				}
			}
		}
	CHECK(fits);

	char small[4];
	human_size(40 * MiB, small, sizeof(small));
	CHECK(strcmp(small, "40.") == 0);     /* truncated, terminated */
}

static void check_escape(const char *in, enum escape_mode mode,
			 const char *want)
{
	char *got = format_escape(in, mode);

	CHECK(got && strcmp(got, want) == 0);
	if (got && strcmp(got, want) != 0)
		fprintf(stderr, "  escape -> \"%s\", want \"%s\"\n", got, want);
	free(got);
}

static void test_escape(void)
{
	check_escape(EVIL, ESCAPE_TEXT, "\\x1b[31mevil");
	check_escape("a\nb\tc\rd\a\b\f\v", ESCAPE_TEXT,
		     "a\\nb\\tc\\rd\\a\\b\\f\\v");
	check_escape("x\x7fy\x01", ESCAPE_TEXT, "x\\x7fy\\x01");
	check_escape("back\\slash", ESCAPE_TEXT, "back\\\\slash");
	check_escape("bad\xff\xfe", ESCAPE_TEXT, "bad\\xff\\xfe");
	check_escape("overlong\xc0\xaf", ESCAPE_TEXT, "overlong\\xc0\\xaf");
	check_escape("cut\xe2\x82", ESCAPE_TEXT, "cut\\xe2\\x82");
	check_escape("surrogate\xed\xa0\x80", ESCAPE_TEXT,
		     "surrogate\\xed\\xa0\\x80");
	check_escape("café ✓ 世界", ESCAPE_TEXT, "café ✓ 世界");
	check_escape("rtl\xe2\x80\xaeoverride", ESCAPE_TEXT,
		     "rtl\\u202eoverride");
	check_escape("c1\xc2\x9b", ESCAPE_TEXT, "c1\\u009b");
	check_escape("tag\xf3\xa0\x80\x81", ESCAPE_TEXT, "tag\\U000e0001");
	check_escape(NULL, ESCAPE_TEXT, "");
	check_escape(EVIL "\n\\", ESCAPE_JSON, EVIL "\n\\");
	check_escape("bad\xff" "café", ESCAPE_JSON, "bad\\xffcafé");

	CHECK(format_width("abc") == 3);
	CHECK(format_width("café") == 4);
	CHECK(format_width("世界") == 4);
	CHECK(format_width("e\xcc\x81") == 1);      /* e + combining acute */
}

/* ---- text -------------------------------------------------------------- */

/* The figures line of the map whose type column starts with type. */
static const char *figures_line(const char *text, const char *type)
{
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n > 46 && strspn(p, " ") < 46 &&
		    strncmp(p + 46, type, strlen(type)) == 0)
			return p;
		p += n + (e != NULL);
	}
	return NULL;
}

/* The text with continuation lines (indented col + 2) joined back onto
 * the line they continue: what a reader sees as one name.  Caller frees. */
static char *unwrap(const char *t, size_t col)
{
	char *out = xstrdup(t), *w = out;

	for (const char *p = t; *p; p++) {
		if (*p == '\n' && strspn(p + 1, " ") == col + 2 && p[col + 3] != '\0') {
			p += col + 2;
			continue;
		}
		*w++ = *p;
	}
	*w = '\0';
	return out;
}

static const char *const LONG_TYPE =
	"map[github.com/acme/platform/internal/cache.Key]*github.com/acme/"
	"platform/internal/cache.Entry";
static const char *const LONG_PATH =
	"github.com/acme/platform/internal/cache.defaultStore.shards[12]."
	"entriesByKey.withAVeryLongFieldName";

static void test_text(const struct report *r)
{
	struct format_opts o = { .top = 0, .sort = SORT_RECLAIMABLE, .width = 80 };
	int rc;
	char *t = render(format_text, r, &o, &rc);

	CHECK(rc == 0 && t);
	if (getenv("SHOW"))
		fputs(t, stdout);

	CHECK(all_lines_fit(t));
	CHECK(terminal_safe(t, 0));
	CHECK(strchr(t, '\x1b') == NULL);
	CHECK_CONTAINS(t, "\\x1b[31mevil");
	CHECK_CONTAINS(t, "main.\\x1b]0;pwned\\atitle");
	CHECK_CONTAINS(t, "warning: count 3 but 2 live\n"
			"                                                "
			"slots\\r\\n\\xff\n");

	CHECK(strncmp(t, "mapscan ", 8) == 0);
	CHECK_CONTAINS(t, " — core.1234 (executable: /srv/app)\n");
	CHECK_CONTAINS(t, "\nGo go1.26.8, swiss maps\n");
	/* Totals saturate at 16.0 EiB because of the corrupt map. */
	CHECK_CONTAINS(t, "\n7 maps found, 16.0 EiB retained, 16.0 EiB "
			"reclaimable (100%)\n");

	/* The table: header and every map's figures line put the type at
	 * column 46, path lines are indented to it, nothing is ragged. */
	const char *h = strstr(t, "\n RECLAIM");
	if (h)
		h++;
	CHECK(h != NULL);
	if (!h)
		goto out;
	CHECK(strncmp(h, " RECLAIM  RETAINED    COUNT  CAPACITY   FILL  "
			 "TYPE / PATH\n", 58) == 0);
	int maps = 0, paths = 0, aligned = 1;
	const char *p = strchr(h, '\n') + 1;
	for (; *p && strncmp(p, "shown: ", 7); p = strchr(p, '\n') + 1) {
		if (strspn(p, " ") < 46) {
			/* figures: five right-aligned columns, then type */
			static const int gaps[] = { 8, 9, 18, 19, 27, 28,
						    37, 38, 44, 45 };
			static const int ends[] = { 7, 17, 26, 36, 43, 46 };

			maps++;
			for (size_t i = 0; i < sizeof(gaps) / sizeof(*gaps); i++)
				if (p[gaps[i]] != ' ')
					aligned = 0;
			for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++)
				if (p[ends[i]] == ' ')
					aligned = 0;
		} else {
			/* 46, or 48 for a continuation or a wrapped note */
			if (strspn(p, " ") != 46 && strspn(p, " ") != 48)
				aligned = 0;
			paths++;
		}
	}
	CHECK(maps == 7);
	CHECK(paths >= 7 + 1 + 1);   /* + growing note + one warning */
	CHECK(aligned);

	const char *l = figures_line(t, "map[string]*main.Session");
	CHECK(l && strncmp(l, "40.0 MiB  40.0 MiB       10   1048576   0.0%  "
			   "map[string]*main.Session\n", 71) == 0);
	CHECK(l && strncmp(strchr(l, '\n') + 1,
			   "                                              "
			   "main.sessions\n", 60) == 0);
	/* figures a corrupt core claims stay inside their columns */
	l = figures_line(t, "map[uint64]uint64");
	CHECK(l && strncmp(l, "16.0 EiB  16.0 EiB    18.4E     18.4E   "
			   "100%  map[uint64]uint64\n", 58) == 0);
	/* roots: the first, then how many more, explained once */
	CHECK_CONTAINS(t, "main.caches[0].byID +9 more\n");
	CHECK_CONTAINS(t, "main.caches[0].byID +9 more\n"
			"                                              "
			"growing (512 old buckets held)\n");
	CHECK(count_substr(t, "+N more: further paths to the same map") == 1);
	CHECK_CONTAINS(t, "\n\nA growing map holds its old buckets until "
			"further writes finish moving the\nentries out of "
			"them.\n");
	CHECK_CONTAINS(t, "(path not recorded)");
	CHECK_CONTAINS(t, "map[string]main.café\n");
	/* Long names are never cut: they go on over continuation lines,
	 * broken after a separator, and join back whole. */
	CHECK(strstr(t, "…") == NULL);
	CHECK_CONTAINS(t, "  map[github.com/acme/platform/\n"
			"                                                internal/cache.Key]*");
	char *u = unwrap(t, 46);
	CHECK_CONTAINS(u, LONG_TYPE);
	CHECK_CONTAINS(u, LONG_PATH);
	free(u);
	/* the wrapped report-wide warning keeps every word */
	CHECK_CONTAINS(t, "\nwarning: 2 maps could not be read: the core has no"
			" memory at 0xdead and 0xbeef;\n         the figures "
			"of the maps involved are lower bounds\n");
	CHECK_CONTAINS(t, "shown: 100% of 16.0 EiB reclaimable (7 of 7 maps)\n");

	/* Advice names the biggest map and what rebuilding it frees, in
	 * the words of the layout. */
	CHECK_CONTAINS(t, "Rebuilding main.huge (map[uint64]uint64) would free 16.0 EiB.");
	CHECK_CONTAINS(t, "leave the groups and tables allocated");
	CHECK(strstr(t, "buckets and overflow") == NULL);
	CHECK_CONTAINS(t, "    m2 := make(map[uint64]uint64, len(m))\n");
	CHECK_CONTAINS(t, "rebuilding it only churns the allocator");
	CHECK(t[strlen(t) - 1] == '\n');
	free(t);

	/* Without a width (a pipe, a file): every name on one line. */
	o.width = 0;
	t = render(format_text, r, &o, &rc);
	CHECK(rc == 0);
	CHECK(figures_line(t, LONG_TYPE) != NULL);
	CHECK(strstr(t, "                                              ") != NULL);
	char line[512];
	snprintf(line, sizeof(line), "\n%*s%s\n", 46, "", LONG_PATH);
	CHECK_CONTAINS(t, line);
	free(t);

	/* A narrow terminal: names below the figures, lines still fit. */
	o.width = 50;
	t = render(format_text, r, &o, &rc);
	int fit = 1;
	for (const char *q = t; *q;) {
		const char *e = strchr(q, '\n');
		size_t n = e ? (size_t)(e - q) : strlen(q);
		if (columns(q, n) > 50)
			fit = 0;
		q += n + (e != NULL);
	}
	CHECK(fit);
	CHECK_CONTAINS(t, "\n    map[uint64]uint64\n    main.huge\n");
	u = unwrap(t, 4);
	CHECK_CONTAINS(u, LONG_TYPE);
	CHECK_CONTAINS(u, LONG_PATH);
	free(u);
	free(t);

	/* --quiet: no advice. */
	o = (struct format_opts){ .sort = SORT_RECLAIMABLE, .quiet = true };
	t = render(format_text, r, &o, &rc);
	CHECK(strstr(t, "Rebuilding") == NULL && strstr(t, "m2 := make") == NULL);
	free(t);
out:
	;
}

static void test_text_filtered(const struct report *r)
{
	struct format_opts o = { .top = 2, .sort = SORT_RECLAIMABLE, .width = 80 };
	int rc;
	char *t = render(format_text, r, &o, &rc);

	CHECK(rc == 0);
	CHECK_CONTAINS(t, "\n7 maps found,");   /* totals: all maps */
	/* 16 EiB and more saturate: the top two are all of it. */
	CHECK_CONTAINS(t, "shown: 100% of 16.0 EiB reclaimable (2 of 7 maps; --top 0 shows "
			"all)\n");
	CHECK(count_substr(t, "  map[") == 2);
	CHECK(figures_line(t, "map[uint64]uint64") != NULL);
	CHECK(figures_line(t, "map[string]*main.Session") != NULL);
	CHECK(all_lines_fit(t));
	free(t);

	o = (struct format_opts){ .min_reclaimable = 1 * MiB,
				  .sort = SORT_RECLAIMABLE };
	t = render(format_text, r, &o, &rc);
	CHECK_CONTAINS(t, "(4 of 7 maps; those with 1.0 MiB or more)\n");
	free(t);

	o.min_reclaimable = UINT64_MAX;
	o.top = 3;
	t = render(format_text, r, &o, &rc);
	/* the corrupt map has exactly UINT64_MAX reclaimable */
	CHECK_CONTAINS(t, "(1 of 7 maps; those with 16.0 EiB or more)");
	free(t);
}

static void test_text_small_reports(void)
{
	struct report r = { 0 };
	int rc;
	char *t = render(format_text, &r, NULL, &rc);

	CHECK(rc == 0);
	CHECK(strstr(t, "mapscan ") == t);
	CHECK_CONTAINS(t, "Go version unknown, unknown maps\n");
	CHECK_CONTAINS(t, "no maps found");
	CHECK(strstr(t, "RECLAIM") == NULL);
	CHECK(strstr(t, "never shrink") == NULL && strstr(t, "Rebuilding") == NULL);
	free(t);

	/* one tidy map: nothing to reclaim, nothing to advise */
	struct map_entry *m = add(&r, 0x10, "map[int]int", LAYOUT_CLASSIC,
				  6, 8, 336, 336);
	map_add_root(m, "main.m", false);
	r.source = xstrdup("/var/crash/a-very-long-directory-name/for-cores/"
			   "of-services/core.server.1234567");
	r.executable = xstrdup("/opt/services/bin/a-very-long-executable-name");
	report_finish(&r);
	struct format_opts o = { .width = 80 };
	t = render(format_text, &r, &o, &rc);
	CHECK(rc == 0 && all_lines_fit(t));
	CHECK_CONTAINS(t, "\nexecutable: /opt/services/bin/a-very-long-"
			"executable-name\n");
	CHECK_CONTAINS(t, "1 map found, 336 B retained, 0 B reclaimable (0%)\n");
	CHECK_CONTAINS(t, "shown: 1 of 1 map (nothing is reclaimable)\n");
	CHECK(strstr(t, "never shrink") == NULL && strstr(t, "Rebuilding") == NULL);
	free(t);

	/* all filtered out: no table, no advice */
	o.min_reclaimable = 1024;
	t = render(format_text, &r, &o, &rc);
	CHECK_CONTAINS(t, "no map has 1.0 KiB or more reclaimable\n");
	CHECK(strstr(t, "RECLAIM") == NULL && strstr(t, "Rebuilding") == NULL);
	free(t);

	/* Advice about a map whose type is longer than a line: the prose
	 * breaks the type where a name may break, the example falls back to
	 * map[K]V. */
	struct map_entry *big = add(&r, 0x20, LONG_TYPE, LAYOUT_SWISS, 1, 1024, 1 << 20, 48);
	map_add_root(big, LONG_PATH, false);
	report_finish(&r);
	o = (struct format_opts){ .width = 80 };
	t = render(format_text, &r, &o, &rc);
	CHECK(all_lines_fit(t));
	CHECK_CONTAINS(t, "    m2 := make(map[K]V, len(m))\n");
	CHECK_CONTAINS(t, "Rebuilding github.com/acme/platform/internal/cache.defaultStore.shards[12].\n"
			"entriesByKey.withAVeryLongFieldName (map[github.com/acme/platform/internal/\n"
			"cache.Key]*github.com/acme/platform/internal/cache.Entry) would free 1.0 MiB.");
	free(t);

	/* A source path longer than the line goes on, whole, below. */
	free(r.source);
	r.source = xstrdup("/var/crash/a-very-long-directory-name/for-cores/of-services/"
			   "and-then-some-more/core.server.1234567.with.a.long.suffix");
	o = (struct format_opts){ .width = 80 };
	t = render(format_text, &r, &o, &rc);
	CHECK(all_lines_fit(t));
	char *u = unwrap(t, 16);
	CHECK_CONTAINS(u, r.source);
	free(u);
	free(t);
	report_free(&r);
}

/* A service: 300 small churned tenant maps whose total dwarfs any single
 * map, a dozen medium maps each bigger than one tenant map, and one big
 * map; nothing reaches two more. */
static void build_service(struct report *r)
{
	char path[64];

	memset(r, 0, sizeof(*r));
	r->source = xstrdup("core.svc");
	r->go_version = xstrdup("go1.23.12");
	r->layout = LAYOUT_CLASSIC;
	for (int i = 0; i < 300; i++) {
		struct map_entry *m = add(r, 0xc000000000 + 0x1000 * (uint64_t)i,
					  "map[string]*main.Session", LAYOUT_CLASSIC, 2, 512,
					  20 * 1024, 1024);
		snprintf(path, sizeof(path), "main.Tenants[%d].sessions", i);
		map_add_root(m, path, false);
		snprintf(path, sizeof(path), "goroutine %d (main.serve) → local t.sessions", 10 + i);
		map_add_root(m, path, false);
		char keys[64];
		int n = snprintf(keys, sizeof(keys), "\"t%d-s1\"", i) + 1;
		n += snprintf(keys + n, sizeof(keys) - (size_t)n, "\"t%d-\\x1b\x1b\"", i) + 1;
		m->sample_keys = report_keep(r, keys, (size_t)n);
		m->nsample_keys = 2;
	}
	for (int i = 0; i < 12; i++) {
		struct map_entry *m = add(r, 0xc100000000 + 0x1000 * (uint64_t)i, "map[int]string",
					  LAYOUT_CLASSIC, 100, 4096, 64 * 1024, 4096);
		snprintf(path, sizeof(path), "main.store.shards[%d].hashmap", i);
		map_add_root(m, path, false);
	}
	struct map_entry *m = add(r, 0xc200000000, "map[string][]uint8", LAYOUT_CLASSIC, 40,
				  65536, 2 * MiB, 4096);
	map_add_root(m, "main.svc.cache", false);
	for (int i = 0; i < 2; i++) {
		m = add(r, 0xc300000000 + (uint64_t)i * 64, "map[int]int", LAYOUT_CLASSIC, 0, 8,
			1024, 48);
		m->unreachable = true;
	}
	report_finish(r);
}

static void test_text_groups(void)
{
	struct report r;
	int rc;

	build_service(&r);
	CHECK(report_group(&r, GROUP_OWNER) == 0);
	struct format_opts o = { .top = 20, .top_maps = 10, .sort = SORT_RECLAIMABLE, .width = 80 };
	char *t = render(format_text, &r, &o, &rc);
	CHECK(rc == 0 && all_lines_fit(t));
	if (getenv("SHOW"))
		fputs(t, stdout);
	CHECK_CONTAINS(t, "313 maps found, 8.6 MiB retained, 8.3 MiB reclaimable (96%)\n");
	CHECK_CONTAINS(t, "2 more maps nothing reaches (listed apart), 2.0 KiB retained\n");
	/* The groups lead, the tenants first although each of their maps is
	 * the smallest. */
	const char *g = strstr(t, "\nOwners ");
	const char *mp = strstr(t, "\nBiggest maps:\n");
	CHECK(g && mp && g < mp);
	CHECK_CONTAINS(t, " RECLAIM  RETAINED   SHARE    MAPS     COUNT  TYPE / OWNER\n"
			" 5.6 MiB   5.9 MiB   67.3%     300       600  map[string]*main.Session\n"
			"                                              main.Tenants[*].sessions\n"
			" 2.0 MiB   2.0 MiB   24.1%       1        40  map[string][]uint8\n"
			"                                              main.svc.cache\n"
			" 720 KiB   768 KiB    8.5%      12      1200  map[int]string\n"
			"                                              main.store.shards[*].hashmap\n"
			"shown: 100% of 8.3 MiB reclaimable (3 of 3 groups)\n");
	CHECK_CONTAINS(t, "Nothing reaches these, by type");
	CHECK_CONTAINS(t, " 1.9 KiB   2.0 KiB       -       2         0  map[int]int\n");
	/* Then the biggest single maps, cut at top_maps. */
	CHECK_CONTAINS(mp, "main.svc.cache\n");
	CHECK_CONTAINS(mp, "(10 of 313 maps; --top 0 shows all)");
	/* The advice names the biggest group and what it frees, in the
	 * words of classic maps, with the map's own type. */
	CHECK_CONTAINS(t, "Rebuilding the 300 maps of main.Tenants[*].sessions "
			"(map[string]*main.Session)\nwould free 5.6 MiB.");
	CHECK_CONTAINS(t, "leave the buckets\nand overflow buckets allocated");
	CHECK_CONTAINS(t, "    m2 := make(map[string]*main.Session, len(m))\n");
	free(t);

	/* --keys: the biggest members of a group, with their keys, escaped
	 * (a raw ESC becomes \x1b; the key's own backslash stays one). */
	o.keys = true;
	o.top = 1;
	t = render(format_text, &r, &o, &rc);
	CHECK(all_lines_fit(t) && terminal_safe(t, 0));
	CHECK_CONTAINS(t, "                                              main.Tenants[*].sessions\n"
			"                                              - main.Tenants[0].sessions  keys: \n"
			"                                                  \"t0-s1\", \"t0-\\x1b\\x1b\"\n"
			"                                              - main.Tenants[1].sessions  keys: ");
	CHECK_CONTAINS(t, "                                              - and 297 more maps\n");
	/* and every map shown has its keys */
	CHECK_CONTAINS(t, "main.store.shards[0].hashmap\n"
			"                                              keys: (not readable)\n");
	free(t);
	o.keys = false;
	o.top = 20;

	/* By type: the tenants and the sessions of no one else. */
	CHECK(report_group(&r, GROUP_TYPE) == 0);
	t = render(format_text, &r, &o, &rc);
	CHECK_CONTAINS(t, "Types (every map of a type, summed: --group type):");
	CHECK_CONTAINS(t, "map[string]*main.Session\n"
			"                                              biggest: main.Tenants[0].sessions\n");
	free(t);

	/* none: the maps alone, as before groups. */
	CHECK(report_group(&r, GROUP_NONE) == 0 && r.ngroups == 0);
	o.top = 5;
	t = render(format_text, &r, &o, &rc);
	CHECK(strstr(t, "Owners") == NULL && strstr(t, "Biggest maps") == NULL);
	CHECK_CONTAINS(t, "(5 of 313 maps; --top 0 shows all)");
	CHECK_CONTAINS(t, "Rebuilding main.svc.cache (map[string][]uint8) would free");
	free(t);
	report_free(&r);
}

/* ---- selection --------------------------------------------------------- */

static void test_select(const struct report *r)
{
	struct format_opts o = { 0 };
	const struct map_entry **sel;
	size_t n;

	o.sort = SORT_COUNT;
	CHECK(format_select(r, &o, &sel, &n) == 0 && n == 7);
	CHECK(sel[0]->address == 0xc000400000);    /* UINT64_MAX entries */
	CHECK(sel[1]->address == 0xc000200000);    /* 5000 */
	CHECK(sel[6]->address == 0xc000700000);    /* 0 */
	free(sel);

	o.sort = SORT_TYPE;
	format_select(r, &o, &sel, &n);
	CHECK(strcmp(sel[0]->type, EVIL) == 0);    /* ESC sorts first */
	CHECK(strcmp(sel[1]->type, "map[github.com/acme/platform/internal/"
		     "cache.Key]*github.com/acme/platform/internal/cache.Entry")
	      == 0);
	CHECK(strcmp(sel[6]->type, "map[uint64]uint64") == 0);
	free(sel);

	o.sort = SORT_PATH;
	format_select(r, &o, &sel, &n);
	CHECK(strcmp(sel[0]->roots[0], "github.com/acme/platform/internal/"
		     "cache.defaultStore.shards[12].entriesByKey."
		     "withAVeryLongFieldName") == 0);
	CHECK(sel[6]->nroots == 0);                /* no path sorts last */
	free(sel);

	o.sort = SORT_RETAINED;
	o.top = 3;
	format_select(r, &o, &sel, &n);
	CHECK(n == 3 && sel[0]->address == 0xc000400000 &&
	      sel[1]->address == 0xc000123456 &&
	      sel[2]->address == 0xc000200000);
	free(sel);

	/* equal reclaimable (0): ties broken by retained, then address */
	o = (struct format_opts){ .sort = SORT_RECLAIMABLE };
	format_select(r, &o, &sel, &n);
	CHECK(sel[5]->address == 0xc000600000 && sel[6]->address == 0xc000700000);
	free(sel);

	o.min_reclaimable = 1;
	format_select(r, &o, &sel, &n);
	CHECK(n == 5);
	free(sel);
}

/* --top k keeps the first k of the whole sort, ties included: 3000 maps
 * with few distinct figures, types and paths, some at the same address
 * (ties nothing breaks), for every key and several k. */
static void test_select_top(void)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	static const char *const types[] = { "map[int]int", "map[string]int", "map[a]b" };
	uint64_t x = 12345;
	for (int i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t ret = (x >> 33) % 5 * 4096, ideal = (x >> 40) % 3 * 2048;
		struct map_entry *m = add(&r, 0xc000000000ull + (x >> 50) % 900 * 0x30,
					  types[(x >> 20) % 3], LAYOUT_SWISS, (x >> 10) % 4, 8, ret, ideal);
		if ((x >> 7) % 2)
			CHECK(map_add_root(m, (x >> 8) % 2 ? "main.a" : "main.b", false) == 0);
	}
	static const enum sort_key keys[] = { SORT_RECLAIMABLE, SORT_RETAINED, SORT_COUNT,
					      SORT_TYPE, SORT_PATH };
	static const size_t tops[] = { 1, 2, 20, 999, 2999 };
	for (size_t a = 0; a < sizeof(keys) / sizeof(keys[0]); a++) {
		struct format_opts all = { .sort = keys[a] };
		const struct map_entry **full, **sel;
		size_t nfull, n;
		CHECK(format_select(&r, &all, &full, &nfull) == 0 && nfull == 3000);
		for (size_t b = 0; b < sizeof(tops) / sizeof(tops[0]); b++) {
			struct format_opts o = { .sort = keys[a], .top = tops[b] };
			CHECK(format_select(&r, &o, &sel, &n) == 0 && n == tops[b]);
			size_t same = 0;
			while (same < n && sel[same] == full[same])
				same++;
			CHECK_MSG(same == n, "sort %d top %zu: differs from the full sort at %zu",
				  (int)keys[a], tops[b], same);
			free(sel);
		}
		free(full);
	}
	report_free(&r);
}

/* ---- JSON -------------------------------------------------------------- */

static const char *const map_keys[] = {
	"address", "type", "key_type", "elem_type", "layout", "roots",
	"more_roots", "count", "live_slots", "buckets", "old_buckets",
	"overflow_buckets", "spare_overflow_buckets", "empty_buckets",
	"tombstones", "tables", "capacity_slots", "growing", "retained_bytes",
	"ideal_bytes", "reclaimable_bytes", "warnings", "type_guessed",
	"type_candidates", "references", "reachable", "garbage", "conservative",
	"on_stack", "precise_roots", "group", "sample_keys",
};

static cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int is_str(const cJSON *o, const char *k, const char *want)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

static int is_num(const cJSON *o, const char *k, double want)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) && v->valuedouble == want;
}

static void test_json(const struct report *r)
{
	const struct map_entry *maps_before = r->maps;
	size_t nmaps_before = r->nmaps;
	struct map_entry copy[16];
	struct format_opts o = { .sort = SORT_RECLAIMABLE };
	int rc;

	memcpy(copy, r->maps, r->nmaps * sizeof(*copy));
	char *j = render(format_json, r, &o, &rc);
	CHECK(rc == 0 && j);
	if (getenv("SHOW"))
		fputs(j, stdout);
	/* formatting sorted a copy, not the report */
	CHECK(r->maps == maps_before && r->nmaps == nmaps_before);
	CHECK(memcmp(copy, r->maps, r->nmaps * sizeof(*copy)) == 0);

	size_t len = strlen(j);
	CHECK(len > 0 && j[len - 1] == '\n' && j[len - 2] == '}');
	const char *end;
	cJSON *doc = cJSON_ParseWithOpts(j, &end, 0);
	CHECK(doc != NULL);
	if (!doc)
		goto out;
	CHECK(strspn(end, " \t\n") == strlen(end));   /* one document */

	/* Exact big integers: raw decimal text, never a rounded double. */
	CHECK_CONTAINS(j, "\"reclaimable_bytes\":18446744073709551615");
	CHECK_CONTAINS(j, "\"count\":18446744073709551615");
	CHECK(strstr(j, "e+19") == NULL && strstr(j, "e+") == NULL);

	CHECK(is_num(doc, "schema", 2));
	const cJSON *tool = get(doc, "tool");
	CHECK(is_str(tool, "name", "mapscan"));
	CHECK(is_str(tool, "version", MAPSCAN_VERSION));
	const cJSON *src = get(doc, "source");
	CHECK(is_str(src, "kind", "core") && is_str(src, "path", "core.1234") &&
	      is_str(src, "executable", "/srv/app"));
	const cJSON *go = get(doc, "go");
	CHECK(is_str(go, "version", "go1.26.8") &&
	      is_str(go, "map_layout", "swiss"));
	const cJSON *sum = get(doc, "summary");
	CHECK(is_num(sum, "maps", 7) && is_num(sum, "shown", 7));
	CHECK(cJSON_IsNumber(get(sum, "count")) &&
	      cJSON_IsNumber(get(sum, "retained_bytes")) &&
	      cJSON_IsNumber(get(sum, "ideal_bytes")) &&
	      cJSON_IsNumber(get(sum, "reclaimable_bytes")));
	CHECK(cJSON_GetArraySize(get(doc, "warnings")) == 1);
	CHECK(cJSON_GetArraySize(doc) == 8);   /* no key beyond the contract */
	CHECK(cJSON_IsArray(get(doc, "groups")) && cJSON_GetArraySize(get(doc, "groups")) == 0);
	CHECK(is_str(sum, "grouped_by", "none") && is_num(sum, "groups", 0));

	const cJSON *maps = get(doc, "maps");
	CHECK(cJSON_IsArray(maps) && cJSON_GetArraySize(maps) == 7);
	int keys_ok = 1;
	const cJSON *m;
	cJSON_ArrayForEach(m, maps) {
		for (size_t i = 0; i < sizeof(map_keys) / sizeof(*map_keys); i++)
			if (!get(m, map_keys[i])) {
				fprintf(stderr, "  map lacks \"%s\"\n",
					map_keys[i]);
				keys_ok = 0;
			}
		if (cJSON_GetArraySize(m) != (int)(sizeof(map_keys) /
						   sizeof(*map_keys)))
			keys_ok = 0;
	}
	CHECK(keys_ok);

	m = cJSON_GetArrayItem(maps, 1);             /* 40 MiB sessions */
	CHECK(is_str(m, "address", "0xc000123456"));
	CHECK(is_str(m, "type", "map[string]*main.Session"));
	CHECK(is_str(m, "key_type", "string") && is_str(m, "elem_type", "int"));
	CHECK(is_str(m, "layout", "swiss"));
	CHECK(cJSON_IsFalse(get(m, "growing")));
	CHECK(is_num(m, "count", 10) && is_num(m, "capacity_slots", 1048576));
	CHECK(is_num(m, "reclaimable_bytes", 40.0 * MiB));
	CHECK(cJSON_GetArraySize(get(m, "roots")) == 1 &&
	      strcmp(cJSON_GetArrayItem(get(m, "roots"), 0)->valuestring,
		     "main.sessions") == 0);

	m = cJSON_GetArrayItem(maps, 2);             /* the growing one */
	CHECK(is_str(m, "layout", "classic"));
	CHECK(cJSON_IsTrue(get(m, "growing")) && is_num(m, "old_buckets", 512));
	CHECK(cJSON_GetArraySize(get(m, "roots")) == 8 &&
	      is_num(m, "more_roots", 2));

	m = cJSON_GetArrayItem(maps, 3);             /* the hostile names */
	CHECK(is_str(m, "type", EVIL));              /* exact, via \u001b */
	CHECK_CONTAINS(j, "\\u001b[31mevil");
	const cJSON *w = cJSON_GetArrayItem(get(m, "warnings"), 0);
	CHECK(cJSON_IsString(w) &&
	      strcmp(w->valuestring, "count 3 but 2 live slots\r\n\\xff") == 0);

	m = cJSON_GetArrayItem(maps, 6);             /* no root, no waste */
	CHECK(cJSON_IsArray(get(m, "roots")) &&
	      cJSON_GetArraySize(get(m, "roots")) == 0);
	CHECK(cJSON_IsArray(get(m, "warnings")));

	/* valid UTF-8 throughout: no raw byte ≥ 0xf5 or stray 0xff */
	CHECK(terminal_safe(j, 1));
	cJSON_Delete(doc);
out:
	free(j);

	/* top and the threshold cut "maps" but not "summary" */
	o = (struct format_opts){ .top = 2, .min_reclaimable = MiB,
				  .sort = SORT_COUNT };
	j = render(format_json, r, &o, &rc);
	doc = cJSON_Parse(j);
	CHECK(doc != NULL);
	sum = get(doc, "summary");
	CHECK(is_num(sum, "maps", 7) && is_num(sum, "shown", 2));
	CHECK(cJSON_GetArraySize(get(doc, "maps")) == 2);
	CHECK(is_str(cJSON_GetArrayItem(get(doc, "maps"), 0), "address",
		     "0xc000400000"));
	CHECK(is_str(cJSON_GetArrayItem(get(doc, "maps"), 1), "address",
		     "0xc000200000"));
	CHECK_CONTAINS(j, "\"retained_bytes\":18446744073709551615");
	cJSON_Delete(doc);
	free(j);
}

static void test_json_groups(void)
{
	struct report r;
	int rc;

	build_service(&r);
	CHECK(report_group(&r, GROUP_OWNER) == 0);
	/* A path list longer than JSON shows: 8 listed, the rest counted. */
	for (int i = 0; i < 12; i++) {
		char path[32];
		snprintf(path, sizeof(path), "main.alias%d", i);
		map_add_root(&r.maps[0], path, i % 2);
	}
	struct format_opts o = { .sort = SORT_RECLAIMABLE };
	char *j = render(format_json, &r, &o, &rc);
	cJSON *doc = cJSON_Parse(j);
	CHECK(rc == 0 && doc);
	if (!doc)
		goto out;
	const cJSON *sum = get(doc, "summary");
	/* One set of counts: maps = reachable maps, the others apart. */
	CHECK(is_num(sum, "maps", 313) && is_num(sum, "unreachable_maps", 2));
	CHECK(is_num(sum, "shown", 315) && is_str(sum, "grouped_by", "owner"));
	CHECK(is_num(sum, "groups", 4) && is_num(sum, "groups_shown", 4));
	const cJSON *groups = get(doc, "groups"), *g;
	CHECK(cJSON_GetArraySize(groups) == 4);
	g = cJSON_GetArrayItem(groups, 0);
	CHECK(is_num(g, "id", 0) && is_str(g, "pattern", "main.Tenants[*].sessions"));
	CHECK(is_str(g, "type", "map[string]*main.Session") && cJSON_IsTrue(get(g, "reachable")));
	CHECK(is_num(g, "maps", 300) && is_num(g, "count", 600));
	CHECK(is_num(g, "retained_bytes", 300 * 20 * 1024.0) &&
	      is_num(g, "reclaimable_bytes", 300 * 19 * 1024.0) &&
	      is_num(g, "ideal_bytes", 300 * 1024.0));
	CHECK(cJSON_IsNumber(get(g, "share_of_reclaimable")) &&
	      get(g, "share_of_reclaimable")->valuedouble > 0.67 &&
	      get(g, "share_of_reclaimable")->valuedouble < 0.68);
	CHECK(is_str(g, "biggest_map", "0xc000000000"));
	CHECK(cJSON_GetArraySize(g) == 11);
	g = cJSON_GetArrayItem(groups, 3);
	CHECK(cJSON_IsFalse(get(g, "reachable")) && cJSON_IsNull(get(g, "pattern")) &&
	      is_num(g, "maps", 2) && cJSON_IsNull(get(g, "share_of_reclaimable")));
	/* Each map names its group by id. */
	const cJSON *maps = get(doc, "maps"), *m;
	int named = 1;
	cJSON_ArrayForEach(m, maps) {
		const cJSON *id = get(m, "group");
		const cJSON *gg = NULL, *c;
		cJSON_ArrayForEach(c, groups)
			if (cJSON_IsNumber(id) && is_num(c, "id", id->valuedouble))
				gg = c;
		if (!gg ||
		    strcmp(get(gg, "type")->valuestring, get(m, "type")->valuestring))
			named = 0;
	}
	CHECK(named);
	/* Sample keys, as the model has them (escaped for JSON). */
	const cJSON *first = cJSON_GetArrayItem(maps, 0);
	CHECK(first && cJSON_GetArraySize(get(first, "sample_keys")) == 0);
	m = NULL;
	cJSON_ArrayForEach(m, maps)
		if (is_str(m, "address", "0xc000001000"))
			break;
	const cJSON *keys = m ? get(m, "sample_keys") : NULL;
	CHECK(cJSON_GetArraySize(keys) == 2 &&
	      !strcmp(cJSON_GetArrayItem(keys, 0)->valuestring, "\"t1-s1\"") &&
	      !strcmp(cJSON_GetArrayItem(keys, 1)->valuestring, "\"t1-\\x1b\x1b\""));
	/* Up to 8 roots, precise ones first, the rest in more_roots. */
	m = NULL;
	cJSON_ArrayForEach(m, maps)
		if (is_str(m, "address", "0xc000000000"))
			break;
	CHECK(m && cJSON_GetArraySize(get(m, "roots")) == 8);
	CHECK(m && is_num(m, "precise_roots", 8) && is_num(m, "references", 14) &&
	      is_num(m, "more_roots", 6));
	cJSON_Delete(doc);
	free(j);

	/* --top and the threshold cut groups as they cut maps. */
	o = (struct format_opts){ .top = 2, .top_maps = 5, .sort = SORT_RETAINED };
	j = render(format_json, &r, &o, &rc);
	doc = cJSON_Parse(j);
	CHECK(doc && cJSON_GetArraySize(get(doc, "groups")) == 2 &&
	      cJSON_GetArraySize(get(doc, "maps")) == 5);
	CHECK(doc && is_num(get(doc, "summary"), "groups_shown", 2));
	cJSON_Delete(doc);
out:
	free(j);
	report_free(&r);
}

/* A report of 30,000 maps (pieces of a few thousand, written by threads
 * side by side) is the same document with one, two or three writers, and
 * its maps come out complete and in order. */
static void test_json_writers(void)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	uint64_t x = 99;
	enum { N = 30000 };
	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		struct map_entry *m = add(&r, 0xc000000000ull + (uint64_t)i * 0x30,
					  (x >> 33) % 2 ? "map[string]int" : "map[int]\"q\"",
					  LAYOUT_SWISS, (x >> 10) % 100, 128, (x >> 40) % 9999 + 1, 100);
		if ((x >> 7) % 3)
			CHECK(map_add_root(m, (x >> 8) % 2 ? "main.a" : "main.b\xff", false) == 0);
	}
	struct format_opts o = { .sort = SORT_RECLAIMABLE };
	int rc;
	format_json_set_writers(1);
	char *one = render(format_json, &r, &o, &rc);
	CHECK(rc == 0 && one);
	for (unsigned w = 2; w <= 3; w++) {
		format_json_set_writers(w);
		char *j = render(format_json, &r, &o, &rc);
		CHECK_MSG(rc == 0 && j && one && !strcmp(j, one), "%u writers: a different document", w);
		free(j);
	}
	format_json_set_writers(0);
	cJSON *doc = one ? cJSON_Parse(one) : NULL;
	const cJSON *maps = doc ? get(doc, "maps") : NULL;
	CHECK(cJSON_IsArray(maps) && cJSON_GetArraySize(maps) == N);
	const struct map_entry **sel;
	size_t n;
	CHECK(format_select(&r, &o, &sel, &n) == 0 && n == N);
	int i = 0, bad = 0;
	for (const cJSON *m = maps ? maps->child : NULL; m && i < N; m = m->next, i++) {
		char a[24];
		snprintf(a, sizeof(a), "0x%llx", (unsigned long long)sel[i]->address);
		bad += !is_str(m, "address", a);
	}
	CHECK_MSG(!bad && i == N, "%d of %d maps out of place", bad, i);
	free(sel);
	cJSON_Delete(doc);
	free(one);
	report_free(&r);
}

static void test_json_empty(void)
{
	struct report r = { 0 };
	int rc;
	char *j = render(format_json, &r, NULL, &rc);
	cJSON *doc = cJSON_Parse(j);

	CHECK(rc == 0 && doc);
	CHECK(cJSON_IsNull(get(get(doc, "source"), "path")));
	CHECK(cJSON_IsNull(get(get(doc, "go"), "version")));
	CHECK(is_str(get(doc, "go"), "map_layout", "unknown"));
	CHECK(is_num(get(doc, "summary"), "maps", 0));
	CHECK(cJSON_IsArray(get(doc, "maps")) &&
	      cJSON_GetArraySize(get(doc, "maps")) == 0);
	cJSON_Delete(doc);
	free(j);
}

static void test_json_error(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(format_json_error(f, 7, "mismatch",
				"core.1 was not dumped by /srv/app\x1b") == 0);
	fclose(f);
	CHECK(len > 0 && buf[len - 1] == '\n');
	cJSON *doc = cJSON_Parse(buf);
	CHECK(doc && is_num(doc, "schema", 2));
	const cJSON *e = get(doc, "error");
	CHECK(is_num(e, "code", 7) && is_str(e, "kind", "mismatch"));
	CHECK(is_str(e, "message", "core.1 was not dumped by /srv/app\x1b"));
	CHECK(cJSON_GetArraySize(doc) == 2 && cJSON_GetArraySize(e) == 3);
	cJSON_Delete(doc);
	free(buf);
}

/* A full disk is reported, not ignored. */
static void test_write_errors(const struct report *r)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	CHECK(format_text(f, r, NULL) == -1);
	clearerr(f);
	CHECK(format_json(f, r, NULL) == -1);
	clearerr(f);
	CHECK(format_json_error(f, 1, "internal", "x") == -1);
	fclose(f);
}

int main(void)
{
	struct report r;

	test_report_model();
	test_parse_size();
	test_human_size();
	test_escape();

	build(&r);
	test_text(&r);
	test_text_filtered(&r);
	test_text_small_reports();
	test_text_groups();
	test_select(&r);
	test_select_top();
	test_json(&r);
	test_json_groups();
	test_json_writers();
	test_json_empty();
	test_json_error();
	test_write_errors(&r);
	report_free(&r);

	return unit_done();
}
