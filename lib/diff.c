/* Diffs (diff.h): the reachable groups of both reports in one array,
 * sorted by (pattern, type), then merged; the groups of two processes
 * share no interned strings, so names compare by content. */
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "diff.h"
#include "group.h"

struct side_group {
	const struct map_group *g;
	int side;
};

static int cmp_name(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;  /* NULL (no pattern, no type) first */
	return strcmp(a, b);
}

static int cmp_key(const struct map_group *a, const struct map_group *b)
{
	int c = cmp_name(a->pattern, b->pattern);
	return c ? c : cmp_name(a->type, b->type);
}

static int by_key(const void *x, const void *y)
{
	const struct side_group *a = x, *b = y;
	int c = cmp_key(a->g, b->g);
	return c ? c : a->side - b->side;
}

int64_t diff_delta(uint64_t old, uint64_t new)
{
	if (new >= old)
		return new - old > INT64_MAX ? INT64_MAX : (int64_t)(new - old);
	return old - new > INT64_MAX ? -INT64_MAX : -(int64_t)(old - new);
}

static uint64_t mag(int64_t v)
{
	return v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;
}

/* Largest change of reclaimable bytes first, then of retained bytes, of
 * maps, of entries; then by name, so that the order is the same every
 * run. */
static int by_change(const void *x, const void *y)
{
	const struct diff_group *a = x, *b = y;
	uint64_t ka[4] = {
		mag(diff_delta(a->reclaimable_bytes[0], a->reclaimable_bytes[1])),
		mag(diff_delta(a->retained_bytes[0], a->retained_bytes[1])),
		mag(diff_delta(a->maps[0], a->maps[1])),
		mag(diff_delta(a->count[0], a->count[1])),
	};
	uint64_t kb[4] = {
		mag(diff_delta(b->reclaimable_bytes[0], b->reclaimable_bytes[1])),
		mag(diff_delta(b->retained_bytes[0], b->retained_bytes[1])),
		mag(diff_delta(b->maps[0], b->maps[1])),
		mag(diff_delta(b->count[0], b->count[1])),
	};
	for (int i = 0; i < 4; i++)
		if (ka[i] != kb[i])
			return ka[i] > kb[i] ? -1 : 1;
	int c = cmp_name(a->pattern, b->pattern);
	return c ? c : cmp_name(a->type, b->type);
}

int diff_reports(struct diff *d, const struct report *old, const struct report *new,
		 struct ms_error *err)
{
	const struct report *r[2] = { old, new };
	struct side_group *all = NULL;
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	if (old->group_by != new->group_by || old->group_by == GROUP_NONE)
		return ms_err(err, MS_EUSAGE, "the reports are grouped %s and %s: a diff needs"
			      " both by owner or both by type", group_by_name(old->group_by),
			      group_by_name(new->group_by));
	d->by = old->group_by;
	if (old->ngroups >= SIZE_MAX / 2 / sizeof(*all) || new->ngroups >= SIZE_MAX / 2 / sizeof(*all) ||
	    !(all = malloc((old->ngroups + new->ngroups + 1) * sizeof(*all))))
		return ms_err(err, MS_EINTERNAL, "out of memory comparing the groups");
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < r[s]->ngroups; i++) {
			const struct map_group *g = &r[s]->groups[i];
			if (g->unreachable)
				continue;
			all[n++] = (struct side_group){ g, s };
			d->maps[s] = sat_add(d->maps[s], g->maps);
			d->count[s] = sat_add(d->count[s], g->count);
			d->retained_bytes[s] = sat_add(d->retained_bytes[s], g->retained_bytes);
			d->reclaimable_bytes[s] = sat_add(d->reclaimable_bytes[s], g->reclaimable_bytes);
		}
	qsort(all, n, sizeof(*all), by_key);
	if (n && !(d->groups = calloc(n, sizeof(*d->groups)))) {
		free(all);
		return ms_err(err, MS_EINTERNAL, "out of memory comparing the groups");
	}
	for (size_t i = 0; i < n;) {
		struct diff_group *dg = &d->groups[d->ngroups];
		dg->pattern = all[i].g->pattern;
		dg->type = all[i].g->type;
		/* A report holds one group per key; a JSON report read back
		 * might hold two: they are summed. */
		for (; i < n && !cmp_name(all[i].g->pattern, dg->pattern) &&
		       !cmp_name(all[i].g->type, dg->type); i++) {
			const struct map_group *g = all[i].g;
			int s = all[i].side;
			dg->in[s] = true;
			dg->maps[s] = sat_add(dg->maps[s], g->maps);
			dg->count[s] = sat_add(dg->count[s], g->count);
			dg->retained_bytes[s] = sat_add(dg->retained_bytes[s], g->retained_bytes);
			dg->reclaimable_bytes[s] = sat_add(dg->reclaimable_bytes[s], g->reclaimable_bytes);
		}
		if (dg->in[0] && dg->in[1] && dg->maps[0] == dg->maps[1] && dg->count[0] == dg->count[1] &&
		    dg->retained_bytes[0] == dg->retained_bytes[1] &&
		    dg->reclaimable_bytes[0] == dg->reclaimable_bytes[1]) {
			d->nunchanged++;
			memset(dg, 0, sizeof(*dg));
			continue;
		}
		d->ngroups++;
	}
	free(all);
	if (d->ngroups)
		qsort(d->groups, d->ngroups, sizeof(*d->groups), by_change);
	return 0;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	free(d->groups);
	d->groups = NULL;
	d->ngroups = 0;
}
