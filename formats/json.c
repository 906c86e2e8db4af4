/* The JSON formatter: one document per run, shape described in docs/json.md
 * (schema 2).  cJSON is included here and nowhere else.
 *
 * cJSON keeps numbers as doubles, which cannot hold every uint64; integers
 * are written as raw decimal text instead so that no figure is rounded. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cpus.h"
#include "bits.h"
#include "file.h"
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

/* The maps and groups are written through a buffer of our own: a report
 * of a million maps is hundreds of MB of JSON, and stdio's per-call
 * locking and printf's format parsing were a third of writing it. */
struct jout {
	FILE *f;                 /* NULL: into mem (a piece written by a thread) */
	size_t n;
	int failed;              /* out of memory */
	int werr;                /* the stream refused a write */
	char *mem;
	size_t nmem, capmem;
	char buf[1 << 16];
};

/* Bytes to where o goes: its stream, or the end of its memory. */
static void jo_out(struct jout *o, const char *s, size_t len)
{
	if (o->f) {
		if (len && !o->werr && fwrite(s, 1, len, o->f) != len)
			o->werr = 1;
		return;
	}
	if (o->failed || !len)
		return;
	if (len > o->capmem - o->nmem) {
		size_t cap = o->capmem ? o->capmem : sizeof(o->buf);
		while (cap - o->nmem < len)
			cap *= 2;
		char *m = realloc(o->mem, cap);
		if (!m) {
			o->failed = 1;
			return;
		}
		o->mem = m;
		o->capmem = cap;
	}
	memcpy(o->mem + o->nmem, s, len);
	o->nmem += len;
}

static void jo_flush(struct jout *o)
{
	jo_out(o, o->buf, o->n);
	o->n = 0;
}

static void jo_put(struct jout *o, const char *s, size_t len)
{
	if (len > sizeof(o->buf) - o->n) {
		jo_flush(o);
		if (len > sizeof(o->buf)) {
			jo_out(o, s, len);
			return;
		}
	}
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

#define JO_LIT(o, lit) jo_put((o), (lit), sizeof(lit) - 1)

static void jo_str(struct jout *o, const char *s)
{
	jo_put(o, s, strlen(s));
}

static void jo_c(struct jout *o, char c)
{
	if (o->n == sizeof(o->buf))
		jo_flush(o);
	o->buf[o->n++] = c;
}

static void jo_u64(struct jout *o, uint64_t v)
{
	char b[20];
	jo_put(o, b, u64_dec(b, v));
}

static void jo_hex(struct jout *o, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char b[18];
	size_t i = sizeof(b);
	do
		b[--i] = hex[v & 15];
	while ((v >>= 4));
	b[--i] = 'x';
	b[--i] = '0';
	jo_put(o, b + i, sizeof(b) - i);
}

static void jo_bool(struct jout *o, bool v)
{
	if (v)
		JO_LIT(o, "true");
	else
		JO_LIT(o, "false");
}

/* A JSON string as cJSON would print it: quotes, backslashes and control
 * characters escaped, everything else as is (format_escape has already
 * turned bytes that are not UTF-8 into \xNN text). */
static void put_jstr(struct jout *o, const char *s)
{
	if (!s) {
		JO_LIT(o, "null");
		return;
	}
	const unsigned char *q = (const unsigned char *)s;
	while (*q >= 0x20 && *q < 0x7f)
		q++;
	if (!*q) {                /* printable ASCII: only " and \ to escape */
		jo_c(o, '"');
		const char *run = s;
		for (const char *p = s; *p; p++)
			if (*p == '"' || *p == '\\') {
				jo_put(o, run, (size_t)(p - run));
				jo_c(o, '\\');
				jo_c(o, *p);
				run = p + 1;
			}
		jo_str(o, run);
		jo_c(o, '"');
		return;
	}
	char *esc = format_escape(s, ESCAPE_JSON);
	if (!esc) {
		o->failed = 1;
		return;
	}
	jo_c(o, '"');
	for (const unsigned char *p = (const unsigned char *)esc; *p; p++) {
		switch (*p) {
		case '"': JO_LIT(o, "\\\""); break;
		case '\\': JO_LIT(o, "\\\\"); break;
		case '\b': JO_LIT(o, "\\b"); break;
		case '\f': JO_LIT(o, "\\f"); break;
		case '\n': JO_LIT(o, "\\n"); break;
		case '\r': JO_LIT(o, "\\r"); break;
		case '\t': JO_LIT(o, "\\t"); break;
		default:
			if (*p < 0x20) {
				char u[8];
				snprintf(u, sizeof(u), "\\u%04x", *p);
				jo_str(o, u);
			} else {
				jo_c(o, (char)*p);
			}
		}
	}
	jo_c(o, '"');
	free(esc);
}

static void put_jstrs(struct jout *o, char *const *v, size_t n)
{
	jo_c(o, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			jo_c(o, ',');
		put_jstr(o, v[i]);
	}
	jo_c(o, ']');
}

/* ,"name":N, name a string literal: the key is one copy of known length
 * (fifteen keys a map, a million maps). */
#define jo_field(o, name, v)                                                \
	do {                                                                \
		JO_LIT((o), ",\"" name "\":");                              \
		jo_u64((o), (v));                                           \
	} while (0)

/* One map object, written directly: a report can hold millions of maps,
 * and building a cJSON tree for each cost more than finding them. */
static void put_map_json(struct jout *o, const struct map_entry *m)
{
	const struct map_figures *f = &m->fig;
	size_t nroots = m->nroots < JSON_ROOTS ? m->nroots : JSON_ROOTS;
	uint64_t more = m->more_roots + (m->nroots - nroots);

	JO_LIT(o, "{\"address\":\"");
	jo_hex(o, m->address);
	JO_LIT(o, "\",\"type\":");
	put_jstr(o, m->type);
	JO_LIT(o, ",\"key_type\":");
	put_jstr(o, m->key_type);
	JO_LIT(o, ",\"elem_type\":");
	put_jstr(o, m->elem_type);
	JO_LIT(o, ",\"layout\":\"");
	jo_str(o, layout_name(m->layout));
	JO_LIT(o, "\",\"type_guessed\":");
	jo_bool(o, m->type_guessed);
	jo_field(o, "type_candidates", m->type_guessed ? m->type_candidates : 1u);
	JO_LIT(o, ",\"roots\":");
	put_jstrs(o, m->roots, nroots);
	jo_field(o, "precise_roots", m->nprecise < nroots ? m->nprecise : nroots);
	jo_field(o, "more_roots", more);
	jo_field(o, "references", (uint64_t)m->nroots + m->more_roots);
	JO_LIT(o, ",\"reachable\":");
	jo_bool(o, !m->unreachable);
	JO_LIT(o, ",\"garbage\":");
	if (m->garbage < 0)
		JO_LIT(o, "null");
	else
		jo_bool(o, m->garbage);
	JO_LIT(o, ",\"conservative\":");
	jo_bool(o, m->conservative);
	JO_LIT(o, ",\"on_stack\":");
	jo_bool(o, m->on_stack);
	if (m->group)
		jo_field(o, "group", m->group - 1);
	else
		JO_LIT(o, ",\"group\":null");
	JO_LIT(o, ",\"sample_keys\":[");
	for (unsigned i = 0; i < m->nsample_keys; i++) {
		if (i)
			jo_c(o, ',');
		put_jstr(o, map_sample_key(m, i));
	}
	jo_c(o, ']');
	jo_field(o, "count", f->count);
	jo_field(o, "live_slots", f->live_slots);
	jo_field(o, "buckets", f->buckets);
	jo_field(o, "old_buckets", f->old_buckets);
	jo_field(o, "overflow_buckets", f->overflow_buckets);
	jo_field(o, "spare_overflow_buckets", f->spare_overflow_buckets);
	jo_field(o, "empty_buckets", f->empty_buckets);
	jo_field(o, "tombstones", f->tombstones);
	jo_field(o, "tables", f->tables);
	jo_field(o, "capacity_slots", f->capacity_slots);
	JO_LIT(o, ",\"growing\":");
	jo_bool(o, f->growing);
	jo_field(o, "retained_bytes", f->retained_bytes);
	jo_field(o, "ideal_bytes", f->ideal_bytes);
	jo_field(o, "reclaimable_bytes", f->reclaimable_bytes);
	JO_LIT(o, ",\"warnings\":");
	put_jstrs(o, m->warnings, m->nwarnings);
	jo_c(o, '}');
}

/* ---- the maps, written by threads side by side ---------------------------
 *
 * A million maps are 650 MB of JSON and a second and a half of one CPU.
 * Each map's object depends on its entry alone, so threads write pieces of
 * CHUNK maps each into memory, and the calling thread writes the pieces out
 * in order: the same bytes as one thread would write.  At most NPIECE
 * pieces are in memory at once. */

enum { CHUNK = 2048, NPIECE = 4, PAR_MIN = 4 * CHUNK, MAX_WRITERS = 4 };

struct piece {
	size_t chunk;
	int state;               /* P_FREE, P_BUSY (being written), P_READY */
	struct jout *o;
};
enum { P_FREE, P_BUSY, P_READY };

struct jpar {
	const struct map_entry *const *sel;
	size_t nsel, nchunks, next;
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct piece piece[NPIECE];
};

/* The maps of chunk c, each after a comma but the very first. */
static void put_chunk(struct jout *o, const struct map_entry *const *sel, size_t nsel, size_t c)
{
	size_t end = (c + 1) * CHUNK < nsel ? (c + 1) * CHUNK : nsel;
	for (size_t i = c * CHUNK; i < end && !o->failed && !o->werr; i++) {
		if (i)
			jo_c(o, ',');
		put_map_json(o, sel[i]);
	}
	jo_flush(o);
}

static void *chunk_writer(void *arg)
{
	struct jpar *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next < p->nchunks &&
		       p->piece[p->next % NPIECE].state != P_FREE)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->next >= p->nchunks)
			break;
		size_t c = p->next++;
		struct piece *pc = &p->piece[c % NPIECE];
		pc->state = P_BUSY;
		pc->chunk = c;
		pthread_mutex_unlock(&p->mu);
		pc->o->nmem = 0;
		put_chunk(pc->o, p->sel, p->nsel, c);
		pthread_mutex_lock(&p->mu);
		pc->state = P_READY;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static unsigned writers_wanted;

void format_json_set_writers(unsigned n)
{
	writers_wanted = n;
}

static void put_maps(struct jout *o, const struct map_entry *const *sel, size_t nsel)
{
	long ncpu = writers_wanted ? (long)writers_wanted : ms_cpus();
	size_t nw = ncpu > MAX_WRITERS ? MAX_WRITERS : ncpu > 1 ? (size_t)ncpu : 1;
	struct jpar p = { .sel = sel, .nsel = nsel, .nchunks = (nsel + CHUNK - 1) / CHUNK };
	pthread_t th[MAX_WRITERS];
	size_t started = 0;
	bool sync = nw > 1 && nsel >= PAR_MIN && !pthread_mutex_init(&p.mu, NULL);
	if (sync && pthread_cond_init(&p.cv, NULL)) {
		pthread_mutex_destroy(&p.mu);
		sync = false;
	}
	bool ok = sync;
	for (int k = 0; ok && k < NPIECE; k++)
		if (!(p.piece[k].o = calloc(1, sizeof(*p.piece[k].o))))
			ok = false;
	for (size_t k = 0; ok && k < nw; k++)
		if (!pthread_create(&th[started], NULL, chunk_writer, &p))
			started++;
	if (!started) {
		/* One thread (one CPU, few maps, or no thread to be had). */
		for (size_t c = 0; c < p.nchunks && !o->failed && !o->werr; c++)
			put_chunk(o, sel, nsel, c);
	} else {
		jo_flush(o);
		for (size_t c = 0; c < p.nchunks; c++) {
			struct piece *pc = &p.piece[c % NPIECE];
			pthread_mutex_lock(&p.mu);
			while (pc->state != P_READY || pc->chunk != c)
				pthread_cond_wait(&p.cv, &p.mu);
			pthread_mutex_unlock(&p.mu);
			if (pc->o->failed)
				o->failed = 1;
			jo_out(o, pc->o->mem, pc->o->nmem);
			pthread_mutex_lock(&p.mu);
			pc->state = P_FREE;
			if (o->failed || o->werr)
				p.stop = true;
			pthread_cond_broadcast(&p.cv);
			pthread_mutex_unlock(&p.mu);
			if (p.stop)
				break;
		}
		for (size_t k = 0; k < started; k++)
			pthread_join(th[k], NULL);
	}
	if (sync) {
		pthread_cond_destroy(&p.cv);
		pthread_mutex_destroy(&p.mu);
	}
	for (int k = 0; k < NPIECE; k++) {
		if (p.piece[k].o)
			free(p.piece[k].o->mem);
		free(p.piece[k].o);
	}
}

static void put_group_json(struct jout *o, const struct report *r, const struct map_group *g)
{
	JO_LIT(o, "{\"id\":");
	jo_u64(o, (uint64_t)(g - r->groups));
	JO_LIT(o, ",\"pattern\":");
	put_jstr(o, g->pattern);
	JO_LIT(o, ",\"type\":");
	put_jstr(o, g->type);
	JO_LIT(o, ",\"reachable\":");
	jo_bool(o, !g->unreachable);
	jo_field(o, "maps", g->maps);
	jo_field(o, "count", g->count);
	jo_field(o, "retained_bytes", g->retained_bytes);
	jo_field(o, "ideal_bytes", g->ideal_bytes);
	jo_field(o, "reclaimable_bytes", g->reclaimable_bytes);
	JO_LIT(o, ",\"share_of_reclaimable\":");
	if (g->unreachable || !r->total_reclaimable) {
		JO_LIT(o, "null");
	} else {
		char b[32];
		snprintf(b, sizeof(b), "%.6g", (double)g->reclaimable_bytes / (double)r->total_reclaimable);
		jo_str(o, b);
	}
	JO_LIT(o, ",\"biggest_map\":");
	if (g->maps) {
		jo_c(o, '"');
		jo_hex(o, r->maps[g->biggest].address);
		jo_c(o, '"');
	} else {
		JO_LIT(o, "null");
	}
	jo_c(o, '}');
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
	add(&b, t, "cut_bytes", u64(r->cut_bytes));
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
	struct jout *jo = rc ? NULL : malloc(sizeof(*jo));
	if (!rc && !jo) {
		errno = ENOMEM;
		rc = -1;
	}
	if (!rc) {
		memset(jo, 0, offsetof(struct jout, buf));
		jo->f = out;
		JO_LIT(jo, ",\"groups\":[");
		for (size_t i = 0; i < ngsel; i++) {
			if (i)
				jo_c(jo, ',');
			put_group_json(jo, r, gsel[i]);
		}
		JO_LIT(jo, "],\"maps\":[");
		put_maps(jo, sel, nsel);
		jo_flush(jo);
		if (jo->failed)
			errno = ENOMEM;
		rc = jo->failed || jo->werr || ferror(out) ? -1 : 0;
	}
	free(jo);
	free(gsel);
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

/* ---- Reading a report back (mapscan diff) ----------------------------------
 *
 * A JSON report can be hundreds of megabytes (a million maps) and a diff
 * needs only its groups: the file is mapped, its top-level members are
 * found by a scanner that only matches quotes and brackets (no recursion,
 * no allocation), and only the small members are given to cJSON; "maps"
 * is skipped unparsed.  The file is untrusted like a core: every member is
 * checked before it is used.  Figures are read as cJSON's doubles, exact
 * below 2^53 bytes. */

/* The end of the JSON value at p (< end), or NULL if it is cut or not one
 * value.  Only strings and brackets are matched; cJSON checks the rest of
 * the members that are read. */
static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
			p++;
		} else if (*p == '{' || *p == '[') {
			depth++, p++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return NULL;
			depth--, p++;
		} else if (depth) {
			p++;
		} else {
			while (p < end && !strchr(",}] \t\r\n", *p))
				p++;
		}
	} while (depth);
	return p;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

enum { M_SCHEMA, M_TOOL, M_SOURCE, M_GO, M_SUMMARY, M_GROUPS, M_ERROR, M_N };
static const char *const member_names[M_N] = {
	"schema", "tool", "source", "go", "summary", "groups", "error",
};

/* The top-level members of the document in [p, end) that a diff reads,
 * parsed; -1 when it is not one JSON object. */
static int read_members(const char *p, const char *end, cJSON *m[M_N])
{
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		p = skip_ws(p, end);
		const char *k = p, *ke = skip_value(p, end);
		if (!ke || *k != '"')
			return -1;
		p = skip_ws(ke, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		const char *v = p, *ve = skip_value(p, end);
		if (!ve || ve == v)
			return -1;
		for (int i = 0; i < M_N; i++)
			if ((size_t)(ke - k) == strlen(member_names[i]) + 2 &&
			    !memcmp(k + 1, member_names[i], (size_t)(ke - k) - 2) && !m[i]) {
				if (!(m[i] = cJSON_ParseWithLength(v, (size_t)(ve - v))))
					return -1;
			}
		p = skip_ws(ve, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			return 0;
		return -1;
	}
}

/* A figure: a whole number from 0 to 2^64 - 1, else -1. */
static int get_u64(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0) ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* A string member, or NULL when it is null or missing; -1 when it is
 * something else. */
static int get_str(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	*out = v->valuestring;
	return 0;
}

static int dup_str(const cJSON *obj, const char *key, char **out)
{
	const char *s;
	if (get_str(obj, key, &s))
		return -1;
	return s && !(*out = strdup(s)) ? -1 : 0;
}

static int read_groups(const char *path, cJSON *m[M_N], struct report *r, struct ms_error *err)
{
	const cJSON *sum = m[M_SUMMARY], *groups = m[M_GROUPS];
	const char *by = NULL;
	uint64_t ngroups, nshown;

	if (get_str(sum, "grouped_by", &by) || !by || parse_group_by(by, &r->group_by) ||
	    get_u64(sum, "groups", &ngroups) || get_u64(sum, "groups_shown", &nshown) ||
	    !cJSON_IsArray(groups))
		return ms_err(err, MS_EFORMAT, "%s: not a mapscan --json report (its summary or"
			      " groups are not as mapscan writes them)", path);
	if (r->group_by == GROUP_NONE)
		return ms_err(err, MS_EFORMAT, "%s: written with --group none, so it has no groups"
			      " to compare: write it again without --group", path);
	if (nshown < ngroups)
		return ms_err(err, MS_EFORMAT, "%s: lists %" PRIu64 " of its %" PRIu64 " groups"
			      " (written with --top or --min-reclaimable): write it again without them",
			      path, nshown, ngroups);
	size_t n = (size_t)cJSON_GetArraySize(groups);
	if (n && !(r->groups = calloc(n, sizeof(*r->groups))))
		return ms_err(err, MS_EINTERNAL, "%s: out of memory reading its groups", path);
	const cJSON *g;
	cJSON_ArrayForEach(g, groups) {
		struct map_group *mg = &r->groups[r->ngroups];
		const char *pattern, *type;
		const cJSON *reach = cJSON_GetObjectItemCaseSensitive(g, "reachable");
		if (r->ngroups >= n || !cJSON_IsObject(g) || get_str(g, "pattern", &pattern) ||
		    get_str(g, "type", &type) || !cJSON_IsBool(reach) || get_u64(g, "maps", &mg->maps) ||
		    get_u64(g, "count", &mg->count) ||
		    get_u64(g, "retained_bytes", &mg->retained_bytes) ||
		    get_u64(g, "reclaimable_bytes", &mg->reclaimable_bytes))
			return ms_err(err, MS_EFORMAT, "%s: group %zu is not as mapscan writes"
				      " groups (pattern, type, reachable, maps, count, retained_bytes,"
				      " reclaimable_bytes)", path, r->ngroups);
		mg->unreachable = !cJSON_IsTrue(reach);
		if ((pattern && !(mg->pattern = report_intern(r, pattern))) ||
		    (type && !(mg->type = report_intern(r, type))))
			return ms_err(err, MS_EINTERNAL, "%s: out of memory reading its groups", path);
		r->ngroups++;
	}
	return 0;
}

int report_read_json(const char *path, struct report *r, struct ms_error *err)
{
	cJSON *m[M_N] = { 0 };
	struct stat st;
	void *map = NULL;
	int e, rc = -1;

	memset(r, 0, sizeof(*r));
	int fd = file_open_regular(path, "JSON report", &e, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		st.st_size = 0;
		rc = ms_err(err, MS_EOPEN, "%s: cannot read it: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size <= 0 ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		map = NULL;
		rc = ms_err(err, st.st_size <= 0 ? MS_EFORMAT : MS_EOPEN, "%s: cannot read it: %s",
			    path, st.st_size <= 0 ? "empty" : strerror(errno));
		goto out;
	}
	const char *p = map, *end = p + st.st_size;
	const cJSON *tool_name;
	if (read_members(p, end, m)) {
		rc = ms_err(err, MS_EFORMAT, "%s: not a core, and not JSON that can be read"
			    " (cut short?)", path);
		goto out;
	}
	if (m[M_ERROR]) {
		const char *msg = NULL;
		get_str(m[M_ERROR], "message", &msg);
		rc = ms_err(err, MS_EFORMAT, "%s: the JSON of a mapscan run that failed (%.300s),"
			    " not a report", path, msg ? msg : "no message");
		goto out;
	}
	tool_name = cJSON_GetObjectItemCaseSensitive(m[M_TOOL], "name");
	if (!cJSON_IsString(tool_name) || strcmp(tool_name->valuestring, "mapscan") ||
	    !cJSON_IsNumber(m[M_SCHEMA])) {
		rc = ms_err(err, MS_EFORMAT, "%s: JSON, but not a mapscan --json report", path);
		goto out;
	}
	if (m[M_SCHEMA]->valuedouble != SCHEMA_VERSION) {
		rc = ms_err(err, MS_EFORMAT, "%s: a mapscan report of schema %g; this mapscan"
			    " reads schema %d: write it again with this mapscan, or diff the core",
			    path, m[M_SCHEMA]->valuedouble, SCHEMA_VERSION);
		goto out;
	}
	if (!m[M_SUMMARY] || dup_str(m[M_SOURCE], "path", &r->source) ||
	    dup_str(m[M_SOURCE], "kind", &r->source_kind) ||
	    dup_str(m[M_SOURCE], "executable", &r->executable) ||
	    dup_str(m[M_GO], "version", &r->go_version)) {
		rc = ms_err(err, MS_EFORMAT, "%s: not a mapscan --json report (its source or"
			    " summary is not as mapscan writes them)", path);
		goto out;
	}
	rc = read_groups(path, m, r, err);
out:
	for (int i = 0; i < M_N; i++)
		cJSON_Delete(m[i]);
	if (map)
		munmap(map, (size_t)st.st_size);
	close(fd);
	if (rc)
		report_free(r);
	return rc;
}

/* ---- A diff (mapscan diff --json) ---------------------------------------- */

static cJSON *i64(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_CreateRaw(buf);
}

static cJSON *figures(struct builder *b, uint64_t maps, uint64_t count, uint64_t retained,
		      uint64_t reclaimable)
{
	cJSON *o = cJSON_CreateObject();
	add(b, o, "maps", u64(maps));
	add(b, o, "count", u64(count));
	add(b, o, "retained_bytes", u64(retained));
	add(b, o, "reclaimable_bytes", u64(reclaimable));
	return o;
}

static void deltas(struct builder *b, cJSON *o, const uint64_t maps[2], const uint64_t count[2],
		   const uint64_t retained[2], const uint64_t reclaimable[2])
{
	add(b, o, "maps_delta", i64(diff_delta(maps[0], maps[1])));
	add(b, o, "count_delta", i64(diff_delta(count[0], count[1])));
	add(b, o, "retained_bytes_delta", i64(diff_delta(retained[0], retained[1])));
	add(b, o, "reclaimable_bytes_delta", i64(diff_delta(reclaimable[0], reclaimable[1])));
}

int format_diff_json(FILE *out, const struct diff *d, const struct diff_input in[2],
		     const struct format_opts *o)
{
	struct builder b = { 0 };
	cJSON *doc = cJSON_CreateObject(), *t;
	size_t shown = o && o->top && o->top < d->ngroups ? o->top : d->ngroups;

	add(&b, doc, "schema", u64(SCHEMA_VERSION));
	add(&b, doc, "kind", cJSON_CreateString("diff"));
	t = add(&b, doc, "tool", cJSON_CreateObject());
	add(&b, t, "name", cJSON_CreateString("mapscan"));
	add(&b, t, "version", cJSON_CreateString(MAPSCAN_VERSION));
	add(&b, doc, "grouped_by", cJSON_CreateString(group_by_name(d->by)));
	for (int s = 0; s < 2; s++) {
		const struct report *r = in[s].r;
		t = add(&b, doc, s ? "new" : "old", cJSON_CreateObject());
		add(&b, t, "file", str(in[s].file));
		add(&b, t, "read_as", cJSON_CreateString(in[s].read_as));
		add(&b, t, "kind", str(r->source_kind));
		add(&b, t, "path", str(r->source));
		add(&b, t, "executable", str(r->executable));
		add(&b, t, "go_version", str(r->go_version));
		add(&b, t, "totals", figures(&b, d->maps[s], d->count[s], d->retained_bytes[s],
					     d->reclaimable_bytes[s]));
	}
	t = add(&b, doc, "summary", cJSON_CreateObject());
	deltas(&b, t, d->maps, d->count, d->retained_bytes, d->reclaimable_bytes);
	add(&b, t, "groups_changed", u64(d->ngroups));
	add(&b, t, "groups_unchanged", u64(d->nunchanged));
	add(&b, t, "groups_shown", u64(shown));
	cJSON *a = add(&b, doc, "groups", cJSON_CreateArray());
	for (size_t i = 0; i < shown; i++) {
		const struct diff_group *g = &d->groups[i];
		cJSON *j = add(&b, a, NULL, cJSON_CreateObject());
		add(&b, j, "pattern", str(g->pattern));
		add(&b, j, "type", str(g->type));
		add(&b, j, "status", cJSON_CreateString(!g->in[0] ? "new" : !g->in[1] ? "gone" : "changed"));
		deltas(&b, j, g->maps, g->count, g->retained_bytes, g->reclaimable_bytes);
		for (int s = 0; s < 2; s++)
			add(&b, j, s ? "new" : "old", figures(&b, g->maps[s], g->count[s],
							      g->retained_bytes[s], g->reclaimable_bytes[s]));
	}
	return emit(out, doc, b.failed || !doc);
}
