/* The report model: storage and bookkeeping only.  Nothing here prints or
 * computes a map's figures; walkers fill them and formatters read them. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "report.h"

/* Beyond this many paths a user learns nothing new from the list; the rest
 * are only counted (more_roots).  JSON lists 8 of them, the TUI all. */
#define MAX_ROOTS 32

const char *layout_name(enum map_layout l)
{
	switch (l) {
	case LAYOUT_CLASSIC: return "classic";
	case LAYOUT_SWISS:   return "swiss";
	default:             return "unknown";
	}
}

struct strpool {                  /* open addressing, load <= 1/2 */
	char **s;
	size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

const char *report_intern(struct report *r, const char *s)
{
	struct strpool *p = r->pool;
	if (!p && !(p = r->pool = calloc(1, sizeof(*p))))
		return NULL;
	if ((p->n + 1) * 2 > p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		char **ns = calloc(nc, sizeof(*ns));
		if (!ns)
			return NULL;
		for (size_t i = 0; i < p->cap; i++) {
			if (!p->s[i])
				continue;
			size_t h = str_hash(p->s[i]) & (nc - 1);
			while (ns[h])
				h = (h + 1) & (nc - 1);
			ns[h] = p->s[i];
		}
		free(p->s);
		p->s = ns;
		p->cap = nc;
	}
	size_t h = str_hash(s) & (p->cap - 1);
	while (p->s[h]) {
		if (!strcmp(p->s[h], s))
			return p->s[h];
		h = (h + 1) & (p->cap - 1);
	}
	if (!(p->s[h] = strdup(s)))
		return NULL;
	p->n++;
	return p->s[h];
}

struct arena {
	struct arena *next;
	size_t used, cap;
	char data[];
};

const char *arena_keep(struct arena **head, const void *p, size_t n)
{
	struct arena *a = *head;

	if (!a || a->cap - a->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		if (!(a = malloc(sizeof(*a) + cap)))
			return NULL;
		a->next = *head;
		a->used = 0;
		a->cap = cap;
		*head = a;
	}
	char *d = a->data + a->used;
	memcpy(d, p, n);
	a->used += n;
	return d;
}

const char *report_keep(struct report *r, const void *p, size_t n)
{
	return arena_keep(&r->arena, p, n);
}

/* Walker threads hand their chunks over as they finish. */
static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;

void report_adopt(struct report *r, struct arena *a)
{
	if (!a)
		return;
	struct arena *last = a;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&adopt_lock);
	last->next = r->arena;
	r->arena = a;
	pthread_mutex_unlock(&adopt_lock);
}

int report_reserve(struct report *r, size_t n)
{
	if (n <= r->capmaps)
		return 0;
	if (n > SIZE_MAX / sizeof(*r->maps)) {
		errno = ENOMEM;
		return -1;
	}
	struct map_entry *m = realloc(r->maps, n * sizeof(*m));
	if (!m)
		return -1;
	r->maps = m;
	r->capmaps = n;
	return 0;
}

/* The returned entry lives in r->maps, which moves when it grows: a pointer
 * from an earlier call is invalid after the next report_add_map. */
struct map_entry *report_add_map(struct report *r, uint64_t address)
{
	if (r->nmaps == r->capmaps) {
		size_t cap = r->capmaps ? r->capmaps + r->capmaps / 2 : 16;
		struct map_entry *m;

		if (cap < r->capmaps || cap > SIZE_MAX / sizeof(*m)) {
			errno = ENOMEM;
			return NULL;
		}
		m = realloc(r->maps, cap * sizeof(*m));
		if (!m)
			return NULL;
		r->maps = m;
		r->capmaps = cap;
	}

	struct map_entry *m = &r->maps[r->nmaps++];
	memset(m, 0, sizeof(*m));
	m->address = address;
	m->garbage = -1;
	return m;
}

/* Append a copy of s to a string array grown one at a time; the arrays are
 * small (roots ≤ 8, a handful of warnings). */
static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int map_add_root(struct map_entry *m, const char *path, bool conservative)
{
	for (size_t i = 0; i < m->nroots; i++)
		if (strcmp(m->roots[i], path) == 0)
			return 0;
	/* Precise paths come first: when the list is full, a precise path
	 * takes the place of the last conservative one, which is then only
	 * counted. */
	if (m->nroots >= MAX_ROOTS && (conservative || m->nprecise == m->nroots)) {
		if (m->more_roots < UINT64_MAX)
			m->more_roots++;
		return 0;
	}
	char *s = strdup(path);
	if (!s)
		return -1;
	if (m->nroots >= MAX_ROOTS) {
		free(m->roots[--m->nroots]);
		if (m->more_roots < UINT64_MAX)
			m->more_roots++;
	}
	if (strv_push(&m->roots, &m->nroots, s) < 0) {
		free(s);
		return -1;
	}
	if (!conservative) {
		memmove(m->roots + m->nprecise + 1, m->roots + m->nprecise,
			(m->nroots - 1 - m->nprecise) * sizeof(*m->roots));
		m->roots[m->nprecise++] = s;
	}
	return 0;
}

static int strv_pushv(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return -1;
	if (strv_push(v, n, s) < 0) {
		free(s);
		return -1;
	}
	return 0;
}

int map_add_warning(struct map_entry *m, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strv_pushv(&m->warnings, &m->nwarnings, fmt, ap);
	va_end(ap);
	return rc;
}

int report_add_warning(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strv_pushv(&r->warnings, &r->nwarnings, fmt, ap);
	va_end(ap);
	return rc;
}

/* Figures come from a core and may be garbage: a total that would wrap
 * sticks at UINT64_MAX instead of showing a small, believable number. */
void report_finish(struct report *r)
{
	r->total_retained = r->total_ideal = 0;
	r->total_reclaimable = r->total_count = 0;
	r->unreachable_maps = r->unreachable_retained = r->unreachable_reclaimable = 0;
	for (size_t i = 0; i < r->nmaps; i++) {
		const struct map_figures *f = &r->maps[i].fig;

		if (r->maps[i].unreachable) {
			r->unreachable_maps++;
			r->unreachable_retained = sat_add(r->unreachable_retained, f->retained_bytes);
			r->unreachable_reclaimable = sat_add(r->unreachable_reclaimable,
							     f->reclaimable_bytes);
			continue;
		}

		r->total_retained = sat_add(r->total_retained, f->retained_bytes);
		r->total_ideal = sat_add(r->total_ideal, f->ideal_bytes);
		r->total_reclaimable = sat_add(r->total_reclaimable,
					       f->reclaimable_bytes);
		r->total_count = sat_add(r->total_count, f->count);
	}
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void map_entry_clear(struct map_entry *m)
{
	if (!m->types_interned) {
		free(m->type);
		free(m->key_type);
		free(m->elem_type);
	}
	strv_free(m->roots, m->nroots);
	strv_free(m->warnings, m->nwarnings);
	if (m->storage) {
		free(m->storage->cells);
		free(m->storage->table_start);
		free(m->storage);
	}
	memset(m, 0, sizeof(*m));
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmaps; i++)
		map_entry_clear(&r->maps[i]);
	free(r->maps);
	if (r->pool) {
		for (size_t i = 0; i < r->pool->cap; i++)
			free(r->pool->s[i]);
		free(r->pool->s);
		free(r->pool);
	}
	strv_free(r->warnings, r->nwarnings);
	free(r->groups);
	for (struct arena *a = r->arena, *next; a; a = next) {
		next = a->next;
		free(a);
	}
	free(r->source);
	free(r->source_kind);
	free(r->executable);
	free(r->go_version);
	free(r->debug_info);
	memset(r, 0, sizeof(*r));
}
