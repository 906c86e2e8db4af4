/* The JSON formatter: one document per run, shape described in docs/json.md
 * (schema 2).  cJSON is included here and nowhere else.
 *
 * cJSON keeps numbers as doubles, which cannot hold every uint64; integers
 * are written as raw decimal text instead so that no figure is rounded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "format.h"
#include "group.h"

#define SCHEMA_VERSION 2

/* Paths listed per map; the report may keep more (the TUI lists them). */
#define JSON_ROOTS 8

/* Builders that take ownership of item and remember the first failure, so
 * the document can be assembled without a check after every call. */
struct builder {
	int failed;
};

static cJSON *add(struct builder *b, cJSON *obj, const char *key, cJSON *item)
{
	if (!item) {
		b->failed = 1;
		return NULL;
	}
	if (!obj || !(key ? cJSON_AddItemToObject(obj, key, item)
			  : cJSON_AddItemToArray(obj, item))) {
		cJSON_Delete(item);
		b->failed = 1;
		return NULL;
	}
	return item;
}

static cJSON *u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_CreateRaw(buf);
}

/* A string from the core, or null.  Bytes that are not UTF-8 become \xNN
 * text; cJSON escapes control characters. */
static cJSON *str(const char *s)
{
	char *esc;
	cJSON *item;

	if (!s)
		return cJSON_CreateNull();
	esc = format_escape(s, ESCAPE_JSON);
	if (!esc)
		return NULL;
	item = cJSON_CreateString(esc);
	free(esc);
	return item;
}

static cJSON *strings(struct builder *b, char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		add(b, a, NULL, str(v[i]));
	return a;
}

/* A JSON string as cJSON would print it: quotes, backslashes and control
 * characters escaped, everything else as is (format_escape has already
 * turned bytes that are not UTF-8 into \xNN text). */
static void put_jstr(FILE *out, const char *s, int *failed)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	const unsigned char *q = (const unsigned char *)s;
	while (*q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
		q++;
	if (!*q) {                /* the usual case: nothing to escape */
		putc('"', out);
		fputs(s, out);
		putc('"', out);
		return;
	}
	char *esc = format_escape(s, ESCAPE_JSON);
	if (!esc) {
		*failed = 1;
		return;
	}
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)esc; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				putc(*p, out);
		}
	}
	putc('"', out);
	free(esc);
}

static void put_jstrs(FILE *out, char *const *v, size_t n, int *failed)
{
	putc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc(',', out);
		put_jstr(out, v[i], failed);
	}
	putc(']', out);
}

/* One map object, written directly: a report can hold millions of maps,
 * and building a cJSON tree for each cost more than finding them. */
static int put_map_json(FILE *out, const struct map_entry *m)
{
	const struct map_figures *f = &m->fig;
	int failed = 0;
	size_t nroots = m->nroots < JSON_ROOTS ? m->nroots : JSON_ROOTS;
	uint64_t more = m->more_roots + (m->nroots - nroots);

	fprintf(out, "{\"address\":\"0x%" PRIx64 "\",\"type\":", m->address);
	put_jstr(out, m->type, &failed);
	fputs(",\"key_type\":", out);
	put_jstr(out, m->key_type, &failed);
	fputs(",\"elem_type\":", out);
	put_jstr(out, m->elem_type, &failed);
	fprintf(out, ",\"layout\":\"%s\",\"type_guessed\":%s,\"type_candidates\":%u,\"roots\":",
		layout_name(m->layout), m->type_guessed ? "true" : "false",
		m->type_guessed ? m->type_candidates : 1u);
	put_jstrs(out, m->roots, nroots, &failed);
	fprintf(out, ",\"precise_roots\":%zu,\"more_roots\":%" PRIu64 ",\"references\":%" PRIu64
		",\"reachable\":%s,\"garbage\":%s,\"conservative\":%s,\"on_stack\":%s",
		m->nprecise < nroots ? m->nprecise : nroots, more, (uint64_t)m->nroots + m->more_roots,
		m->unreachable ? "false" : "true",
		m->garbage < 0 ? "null" : m->garbage ? "true" : "false",
		m->conservative ? "true" : "false", m->on_stack ? "true" : "false");
	if (m->group)
		fprintf(out, ",\"group\":%" PRIu32, m->group - 1);
	else
		fputs(",\"group\":null", out);
	fputs(",\"sample_keys\":[", out);
	for (unsigned i = 0; i < m->nsample_keys; i++) {
		if (i)
			putc(',', out);
		put_jstr(out, map_sample_key(m, i), &failed);
	}
	putc(']', out);
	fprintf(out, ",\"count\":%" PRIu64 ",\"live_slots\":%" PRIu64 ",\"buckets\":%" PRIu64
		",\"old_buckets\":%" PRIu64 ",\"overflow_buckets\":%" PRIu64
		",\"spare_overflow_buckets\":%" PRIu64 ",\"empty_buckets\":%" PRIu64
		",\"tombstones\":%" PRIu64 ",\"tables\":%" PRIu64 ",\"capacity_slots\":%" PRIu64
		",\"growing\":%s,\"retained_bytes\":%" PRIu64 ",\"ideal_bytes\":%" PRIu64
		",\"reclaimable_bytes\":%" PRIu64 ",\"warnings\":",
		f->count, f->live_slots, f->buckets, f->old_buckets, f->overflow_buckets,
		f->spare_overflow_buckets, f->empty_buckets, f->tombstones, f->tables,
		f->capacity_slots, f->growing ? "true" : "false", f->retained_bytes,
		f->ideal_bytes, f->reclaimable_bytes);
	put_jstrs(out, m->warnings, m->nwarnings, &failed);
	putc('}', out);
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}

static int put_group_json(FILE *out, const struct report *r, const struct map_group *g)
{
	int failed = 0;

	fprintf(out, "{\"id\":%zu,\"pattern\":", (size_t)(g - r->groups));
	put_jstr(out, g->pattern, &failed);
	fputs(",\"type\":", out);
	put_jstr(out, g->type, &failed);
	fprintf(out, ",\"reachable\":%s,\"maps\":%" PRIu64 ",\"count\":%" PRIu64
		",\"retained_bytes\":%" PRIu64 ",\"ideal_bytes\":%" PRIu64
		",\"reclaimable_bytes\":%" PRIu64 ",\"share_of_reclaimable\":",
		g->unreachable ? "false" : "true", g->maps, g->count, g->retained_bytes,
		g->ideal_bytes, g->reclaimable_bytes);
	if (g->unreachable || !r->total_reclaimable)
		fputs("null", out);
	else
		fprintf(out, "%.6g", (double)g->reclaimable_bytes / (double)r->total_reclaimable);
	fputs(",\"biggest_map\":", out);
	if (g->maps)
		fprintf(out, "\"0x%" PRIx64 "\"", r->maps[g->biggest].address);
	else
		fputs("null", out);
	putc('}', out);
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}

/* Print doc followed by a newline, free it, and say whether out took it. */
static int emit(FILE *out, cJSON *doc, int failed)
{
	char *text = failed ? NULL : cJSON_Print(doc);
	int rc = 0;

	cJSON_Delete(doc);
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	if (fputs(text, out) == EOF || putc('\n', out) == EOF)
		rc = -1;
	free(text);
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	return rc;
}

/* Print item without a trailing newline and free it. */
static int emit_part(FILE *out, cJSON *item, int failed)
{
	char *text = failed || !item ? NULL : cJSON_PrintUnformatted(item);
	int rc = 0;

	cJSON_Delete(item);
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	if (fputs(text, out) == EOF)
		rc = -1;
	free(text);
	return rc;
}

/* The document is streamed, one map at a time, so that a report of a
 * million maps never becomes one cJSON tree (time and memory). */
int format_json(FILE *out, const struct report *r, const struct format_opts *o)
{
	const struct map_entry **sel;
	const struct map_group **gsel = NULL;
	struct builder b = { 0 };
	size_t nsel, ngsel = 0;
	cJSON *t;
	int rc = 0;
	struct format_opts mo = format_map_opts(r, o);

	if (format_select(r, &mo, &sel, &nsel) < 0)
		return -1;
	if (format_select_groups(r, o, &gsel, &ngsel) < 0) {
		free(sel);
		return -1;
	}
	const char *keys[] = { "tool", "source", "go", "summary" };
	cJSON *parts[4];
	for (int i = 0; i < 4; i++)
		parts[i] = cJSON_CreateObject();
	t = parts[0];
	add(&b, t, "name", cJSON_CreateString("mapscan"));
	add(&b, t, "version", cJSON_CreateString(MAPSCAN_VERSION));
	t = parts[1];
	add(&b, t, "kind", str(r->source_kind));
	add(&b, t, "path", str(r->source));
	add(&b, t, "compression", str(r->source_compression));
	add(&b, t, "executable", str(r->executable));
	/* A live process (--pid): its id and how it was read. */
	add(&b, t, "pid", r->pid ? u64((uint64_t)r->pid) : cJSON_CreateNull());
	add(&b, t, "stopped", r->pid ? cJSON_CreateBool(r->stopped) : cJSON_CreateNull());
	add(&b, t, "paused_ns", r->pid ? u64(r->paused_ns) : cJSON_CreateNull());
	add(&b, t, "threads_stopped", r->pid ? u64(r->threads_stopped) : cJSON_CreateNull());
	add(&b, t, "consistent", cJSON_CreateBool(!r->inconsistent));
	add(&b, t, "saved_core", str(r->saved_core));
	/* The core lacks memory mapscan reads (coredump_filter). */
	add(&b, t, "partial", cJSON_CreateBool(r->partial));
	add(&b, t, "missing_bytes", u64(r->missing_bytes));
	if (r->debug_info) {
		cJSON *d = cJSON_CreateObject();
		add(&b, d, "path", str(r->debug_info));
		add(&b, d, "found_by", str(r->debug_found_by));
		add(&b, d, "match", cJSON_CreateString(r->debug_other_build ? "layout" : "build-id"));
		add(&b, t, "debug_info", d);
	} else {
		add(&b, t, "debug_info", cJSON_CreateNull());
	}
	add(&b, t, "names_limited", cJSON_CreateBool(r->names_limited));
	t = parts[2];
	add(&b, t, "version", str(r->go_version));
	add(&b, t, "map_layout", cJSON_CreateString(layout_name(r->layout)));
	t = parts[3];
	add(&b, t, "maps", u64(r->nmaps - r->unreachable_maps));
	add(&b, t, "shown", u64(nsel));
	add(&b, t, "grouped_by", cJSON_CreateString(group_by_name(r->group_by)));
	add(&b, t, "groups", u64(r->ngroups));
	add(&b, t, "groups_shown", u64(ngsel));
	add(&b, t, "count", u64(r->total_count));
	add(&b, t, "retained_bytes", u64(r->total_retained));
	add(&b, t, "ideal_bytes", u64(r->total_ideal));
	add(&b, t, "reclaimable_bytes", u64(r->total_reclaimable));
	add(&b, t, "heap_in_use_bytes", r->heap_known ? u64(r->heap_in_use) : cJSON_CreateNull());
	add(&b, t, "heap_object_bytes", r->heap_known ? u64(r->heap_objects) : cJSON_CreateNull());
	add(&b, t, "reclaimable_share_of_heap",
	    r->heap_known && r->heap_in_use
		    ? cJSON_CreateNumber((double)r->total_reclaimable / (double)r->heap_in_use)
		    : cJSON_CreateNull());
	add(&b, t, "unreachable_maps", u64(r->unreachable_maps));
	add(&b, t, "unreachable_retained_bytes", u64(r->unreachable_retained));
	add(&b, t, "unreachable_reclaimable_bytes", u64(r->unreachable_reclaimable));
	add(&b, t, "goroutines", u64(r->goroutines));
	add(&b, t, "heap_scanned", cJSON_CreateBool(r->heap_scanned));
	add(&b, t, "gc_running", r->heap_known ? cJSON_CreateBool(r->gc_running) : cJSON_CreateNull());
	add(&b, t, "unclaimed_map_storage_bytes",
	    r->unclaimed_known ? u64(r->unclaimed_storage) : cJSON_CreateNull());
	add(&b, t, "unclaimed_map_storage_objects",
	    r->unclaimed_known ? u64(r->unclaimed_objects) : cJSON_CreateNull());

	if (fprintf(out, "{\"schema\":%d", SCHEMA_VERSION) < 0)
		rc = -1;
	for (int i = 0; i < 4; i++) {
		if (!rc && fprintf(out, ",\"%s\":", keys[i]) < 0)
			rc = -1;
		if (rc)
			cJSON_Delete(parts[i]);
		else
			rc = emit_part(out, parts[i], b.failed);
	}
	if (!rc && fputs(",\"groups\":[", out) == EOF)
		rc = -1;
	for (size_t i = 0; i < ngsel && !rc; i++) {
		if (i && putc(',', out) == EOF)
			rc = -1;
		else
			rc = put_group_json(out, r, gsel[i]);
	}
	free(gsel);
	if (!rc && fputs("],\"maps\":[", out) == EOF)
		rc = -1;
	for (size_t i = 0; i < nsel && !rc; i++) {
		if (i && putc(',', out) == EOF)
			rc = -1;
		else
			rc = put_map_json(out, sel[i]);
	}
	free(sel);
	if (!rc && fputs("],\"warnings\":", out) == EOF)
		rc = -1;
	if (!rc)
		rc = emit_part(out, strings(&b, r->warnings, r->nwarnings), b.failed);
	if (!rc && fputs("}\n", out) == EOF)
		rc = -1;
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	return rc;
}

int format_json_error(FILE *out, int code, const char *kind, const char *message)
{
	struct builder b = { 0 };
	cJSON *doc = cJSON_CreateObject(), *e;

	add(&b, doc, "schema", u64(SCHEMA_VERSION));
	e = add(&b, doc, "error", cJSON_CreateObject());
	add(&b, e, "code", cJSON_CreateNumber(code));
	add(&b, e, "kind", str(kind));
	add(&b, e, "message", str(message));
	return emit(out, doc, b.failed || !doc);
}
