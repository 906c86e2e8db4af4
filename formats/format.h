/* Formatters: turn a finished report (lib/report.h) into text or JSON.
 *
 * Formatters only read the report: they never change it and never compute a
 * figure of their own.  Every string in a report comes from a core file and
 * is untrusted; formatters pass it through format_escape before printing. */
#ifndef MAPSCAN_FORMAT_H
#define MAPSCAN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"
#include "error.h"
#include "report.h"

#ifndef MAPSCAN_VERSION
#define MAPSCAN_VERSION "0.0.0"
#endif

enum sort_key {
	SORT_RECLAIMABLE,        /* largest reclaimable_bytes first */
	SORT_RETAINED,           /* largest retained_bytes first */
	SORT_COUNT,              /* most entries first */
	SORT_TYPE,               /* Go type, byte order */
	SORT_PATH,               /* first root path, byte order */
};

/* Which maps and groups to show and how.  Maps and groups below
 * min_reclaimable are dropped, the rest sorted, then the first `top` kept
 * (top_maps for the maps of a grouped report); summary totals always cover
 * every map of the report. */
struct format_opts {
	size_t top;              /* groups (maps when not grouped) to show; 0 = all */
	size_t top_maps;         /* maps to show when the report is grouped; 0 = all */
	uint64_t min_reclaimable; /* bytes; 0 = no threshold */
	enum sort_key sort;
	size_t width;            /* text: columns to fit in (the terminal's); 0 = no limit */
	bool keys;               /* text: sample keys of the maps and groups shown */
	bool quiet;              /* text: no advice */
	bool color;              /* unused for now */
};

/* Write the report to out.  o may be NULL (all maps, by reclaimable).
 * Return 0, or -1 with errno set when memory ran out or out has its error
 * flag set after writing. */
int format_text(FILE *out, const struct report *r, const struct format_opts *o);
int format_json(FILE *out, const struct report *r, const struct format_opts *o);

/* How many threads format_json writes a big report's maps with (pieces of
 * a few thousand, written out in order: the document is the same): 0, the
 * default, for one per CPU up to 4.  For tests. */
void format_json_set_writers(unsigned n);

/* The report as a gzipped pprof profile (profile.proto, read by `go tool
 * pprof`): one sample per map something reaches, with the values
 * reclaimable_bytes, retained_bytes, maps and entries, whose stack is the
 * map's first path from its root down to its type (formats/pprof.c).  All
 * maps, whatever the options.  Return 0, or -1 with errno set. */
int format_pprof(FILE *out, const struct report *r);

/* The report's totals and its biggest owner groups as OpenMetrics text
 * ending in "# EOF" (formats/metrics.c).  Return 0, or -1 with errno set. */
int format_metrics(FILE *out, const struct report *r);

/* A whole JSON document for a failure, so a pipeline reading --json output
 * never gets half a document: {"schema":1,"error":{code,kind,message}}. */
int format_json_error(FILE *out, int code, const char *kind, const char *message);

/* Read back the groups of a `mapscan --json` report (of this schema,
 * grouped, every group listed) into r, for mapscan diff: its source, Go
 * version, grouping and groups; no maps, no totals.  Returns 0 (r freed
 * by report_free), or -1 with err filled: MS_EOPEN when the file cannot
 * be read, MS_EFORMAT when it is not such a report (the message says what
 * it is and what to do). */
int report_read_json(const char *path, struct report *r, struct ms_error *err);

/* One side of a diff: the file named on the command line, how it was read
 * ("core" or "json") and the report it gave. */
struct diff_input {
	const char *file;
	const char *read_as;
	const struct report *r;
};

/* The groups that changed between in[0] and in[1] (lib/diff.h), the first
 * o->top of them (0: all), as text (an aligned table, names whole) or as
 * one JSON document (docs/json.md, "mapscan diff").  Return 0, or -1 with
 * errno set. */
int format_diff_text(FILE *out, const struct diff *d, const struct diff_input in[2],
		     const struct format_opts *o);
int format_diff_json(FILE *out, const struct diff *d, const struct diff_input in[2],
		     const struct format_opts *o);

/* "4096", "64K", "64KiB", "64kb", "1.5M", "2G", "1MB": units are powers of
 * 1024 (K M G T P E, optionally followed by B or iB), fractions need a unit
 * and are rounded down to a byte.  Return 0, or -1 on junk, a negative
 * number or a value that does not fit in 64 bits. */
int parse_size(const char *s, uint64_t *out);

/* "reclaimable", "retained", "count", "type", "path"; -1 otherwise. */
int parse_sort_key(const char *s, enum sort_key *out);

/* "0 B", "512 B", "1.5 KiB", "40.0 MiB", "512 KiB", "2.1 GiB": at most 8
 * characters (3 significant digits, one decimal below 100), so it fits a
 * fixed-width column.  Always NUL-terminates a non-empty buf. */
void human_size(uint64_t bytes, char *buf, size_t n);

enum escape_mode {
	/* For a terminal: C-style escapes (\n, \x1b, \\) for control and
	 * invalid bytes, \uXXXX for invisible or bidirectional code points;
	 * other valid UTF-8 passes through. */
	ESCAPE_TEXT,
	/* For JSON (which escapes control characters itself): only bytes that
	 * are not valid UTF-8 become the text \xNN, so the document stays
	 * valid UTF-8. */
	ESCAPE_JSON,
	/* For a terminal, text that is escaped already (a sample key, which
	 * lib/keys.c writes in Go's quoted syntax): as ESCAPE_TEXT, but a
	 * backslash stays one. */
	ESCAPE_KEY,
};

/* A newly allocated escaped copy of s (NULL reads as ""), owned by the
 * caller; NULL when memory ran out. */
char *format_escape(const char *s, enum escape_mode mode);

/* Length of the valid UTF-8 sequence at s (1-4) and its code point, or 0
 * if s starts with a byte that is not one (overlong, surrogate, cut). */
int format_utf8_decode(const unsigned char *s, uint32_t *cp);

/* Terminal columns taken by s, a string returned by format_escape. */
size_t format_width(const char *s);

/* The code point at s: its length in bytes (1-4; a stray byte counts as
 * one) and, in *cols, the terminal columns it takes. */
int format_cp(const char *s, size_t *cols);

/* Where to cut the middle out of s (escaped, wider than w >= 1 columns) so
 * that head + "…" + tail fits in w: the head is s up to *head_end, the tail
 * starts at *tail; both ends of a type or path carry meaning (the key type,
 * the field holding the map), so the middle goes.  Returns the columns of
 * head and tail together. */
size_t format_elide(const char *s, size_t w, const char **head_end, const char **tail);

/* The maps to show under o (filtered, sorted, cut to top), as a newly
 * allocated array of pointers into r->maps that the caller frees; r is not
 * touched.  Return 0, or -1 when memory ran out. */
int format_select(const struct report *r, const struct format_opts *o,
		  const struct map_entry ***sel, size_t *nsel);

/* The same for the report's groups (lib/group.h): filtered by their
 * reclaimable bytes, sorted by o->sort (path: the pattern), cut to top. */
int format_select_groups(const struct report *r, const struct format_opts *o,
			 const struct map_group ***sel, size_t *nsel);

/* o for the maps of r: top_maps in place of top when r is grouped. */
struct format_opts format_map_opts(const struct report *r, const struct format_opts *o);

/* A share as a whole percentage that never rounds some to "0%" or not all
 * to "100%": "<1%", "99%", "100%"; "-" when total is 0. */
void format_pct(uint64_t part, uint64_t total, char *buf, size_t n);

#endif
