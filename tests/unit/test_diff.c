/* lib/diff.c: the groups of two reports matched by pattern and type,
 * names compared by content (two processes share no interned strings),
 * unchanged groups counted apart, the biggest change of reclaimable bytes
 * first, unreachable groups left out, figures that cannot be told apart
 * by int64_t clamped. */
#include <stdint.h>
#include <string.h>

#include "diff.h"
#include "unit.h"

static struct map_group grp(const char *pattern, const char *type, uint64_t maps,
			    uint64_t count, uint64_t retained, uint64_t reclaimable)
{
	return (struct map_group){ .pattern = pattern, .type = type, .maps = maps, .count = count,
				   .retained_bytes = retained, .reclaimable_bytes = reclaimable };
}

static const struct diff_group *find(const struct diff *d, const char *pattern)
{
	for (size_t i = 0; i < d->ngroups; i++)
		if (d->groups[i].pattern && !strcmp(d->groups[i].pattern, pattern))
			return &d->groups[i];
	return NULL;
}

static void test_match(void)
{
	/* Copies, not the same pointers: a core and a JSON report. */
	char tenants_old[] = "main.tenants[*].sessions", tenants_new[] = "main.tenants[*].sessions";
	char shards_old[] = "main.shards[*]", shards_new[] = "main.shards[*]";
	struct map_group og[] = {
		grp(tenants_old, "map[string]int", 100, 1000, 1 << 20, 1 << 19),
		grp(shards_old, "map[uint64]string", 4, 40, 4096, 0),
		grp("main.gone", "map[int]int", 1, 1, 512, 256),
		grp("main.same", "map[int]int", 2, 2, 1024, 0),
	};
	struct map_group ng[] = {
		grp("main.same", "map[int]int", 2, 2, 1024, 0),
		grp(shards_new, "map[uint64]string", 4, 48, 8192, 100),
		grp(tenants_new, "map[string]int", 400, 4000, 4 << 20, 3 << 20),
		grp("main.new", "map[int]int", 1, 10, 2048, 0),
		/* Garbage is never compared. */
		{ .pattern = NULL, .type = "map[int]int", .unreachable = true, .maps = 9,
		  .retained_bytes = 1 << 30, .reclaimable_bytes = 1 << 30 },
	};
	struct report o = { .group_by = GROUP_OWNER, .groups = og, .ngroups = 4 };
	struct report n = { .group_by = GROUP_OWNER, .groups = ng, .ngroups = 5 };
	struct diff d;
	struct ms_error err = { 0, "" };

	CHECK(diff_reports(&d, &o, &n, &err) == 0);
	CHECK_EQ_U64(d.ngroups, 4);
	CHECK_EQ_U64(d.nunchanged, 1);
	CHECK(!find(&d, "main.same"));
	/* The biggest change of reclaimable bytes first. */
	CHECK(d.ngroups && d.groups[0].pattern && !strcmp(d.groups[0].pattern, tenants_old));
	const struct diff_group *t = find(&d, "main.tenants[*].sessions");
	CHECK(t && t->in[0] && t->in[1]);
	if (t) {
		CHECK_EQ_U64(t->maps[0], 100);
		CHECK_EQ_U64(t->maps[1], 400);
		CHECK(diff_delta(t->reclaimable_bytes[0], t->reclaimable_bytes[1]) ==
		      (int64_t)(3 << 20) - (1 << 19));
	}
	const struct diff_group *g = find(&d, "main.gone"), *w = find(&d, "main.new");
	CHECK(g && g->in[0] && !g->in[1] && g->reclaimable_bytes[1] == 0);
	CHECK(w && !w->in[0] && w->in[1]);
	/* Totals over the reachable groups only. */
	CHECK_EQ_U64(d.maps[0], 107);
	CHECK_EQ_U64(d.maps[1], 407);
	CHECK_EQ_U64(d.reclaimable_bytes[1], (3 << 20) + 100);
	/* The order does not depend on the input's: sorted the same when the
	 * reports swap sides. */
	struct diff e;
	CHECK(diff_reports(&e, &n, &o, &err) == 0);
	CHECK_EQ_U64(e.ngroups, d.ngroups);
	for (size_t i = 0; i < d.ngroups && i < e.ngroups; i++)
		CHECK(!strcmp(d.groups[i].pattern, e.groups[i].pattern));
	diff_free(&e);
	diff_free(&d);
	diff_free(NULL);
}

static void test_refusals(void)
{
	struct map_group g = grp("main.m", "map[int]int", 1, 1, 1, 1);
	struct report o = { .group_by = GROUP_OWNER, .groups = &g, .ngroups = 1 };
	struct report t = { .group_by = GROUP_TYPE, .groups = &g, .ngroups = 1 };
	struct report none = { .group_by = GROUP_NONE };
	struct diff d;
	struct ms_error err = { 0, "" };

	CHECK(diff_reports(&d, &o, &t, &err) < 0 && err.code == MS_EUSAGE);
	CHECK(diff_reports(&d, &none, &none, &err) < 0 && err.code == MS_EUSAGE);
	/* No groups at all: nothing changed. */
	struct report e1 = { .group_by = GROUP_OWNER }, e2 = { .group_by = GROUP_OWNER };
	CHECK(diff_reports(&d, &e1, &e2, &err) == 0 && d.ngroups == 0 && d.nunchanged == 0);
	diff_free(&d);
}

static void test_delta(void)
{
	CHECK(diff_delta(5, 7) == 2);
	CHECK(diff_delta(7, 5) == -2);
	CHECK(diff_delta(0, UINT64_MAX) == INT64_MAX);
	CHECK(diff_delta(UINT64_MAX, 0) == -INT64_MAX);
	CHECK(diff_delta(UINT64_MAX, UINT64_MAX) == 0);
}

int main(void)
{
	test_match();
	test_refusals();
	test_delta();
	return unit_done();
}
