/* Owner groups (lib/group.c): patterns, the sums, the order, and the
 * speed on a million maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group.h"
#include "report.h"

#include "unit.h"

static void check_pattern(const char *path, const char *want)
{
	char buf[256];

	group_pattern(path, buf, sizeof(buf));
	CHECK_MSG(strcmp(buf, want) == 0, "group_pattern(\"%s\") = \"%s\", want \"%s\"", path,
		  buf, want);
}

static void test_patterns(void)
{
	check_pattern("main.sessions", "main.sessions");
	check_pattern("main.Tenants[17].sessions", "main.Tenants[*].sessions");
	check_pattern("main.store.shards[3].hashmap", "main.store.shards[*].hashmap");
	check_pattern("main.byTenant[*]", "main.byTenant[*]");
	check_pattern("main.grid[2][14]", "main.grid[*][*]");
	check_pattern("main.jobs<-[2]", "main.jobs<-[*]");
	/* A run of one step: its count goes. */
	check_pattern("main.head.next×120.m", "main.head.next×*.m");
	check_pattern("main.grid[0]×12.m", "main.grid[*]×*.m");
	/* A chain through untyped memory, whatever its length, is one run. */
	check_pattern("main.x+24×363+40", "main.x+*…");
	check_pattern("goroutine 7 (main.f) → stack word 0xc000051f28+32+144+8[\"k\"].deps",
		      "goroutine * (main.f) → stack word *+*…[*].deps");
	check_pattern("main.x+8.(*main.T).y+16", "main.x+*.(*main.T).y+*");
	check_pattern("main.x+8+0×12.m", "main.x+*….m");
	/* A map value's key, as Go prints it. */
	check_pattern("main.store.sessions[\"alice\"].cache", "main.store.sessions[*].cache");
	check_pattern("main.m[\"a]\\\"b\"][-3][{\"acme\", 3}][0xc000123].x",
		      "main.m[*][*][*][*].x");
	check_pattern("main.m[[1, 2]].x[true]", "main.m[*].x[*]");
	check_pattern("main.m[\"open", "main.m[\"open");
	/* A descent through a tree, of any depth and direction; a run in it
	 * and the steps after it. */
	check_pattern("main.t.root{.left.right}.m", "main.t.root{*}.m");
	check_pattern("main.t.root{.right}.m[3]", "main.t.root{*}.m[*]");
	check_pattern("main.t.root{.left×12.right}.v{.next.prev}.m", "main.t.root{*}.v{*}.m");
	check_pattern("main.t.(*struct { a int }).m", "main.t.(*struct { a int }).m");
	check_pattern("main.t.root{.left", "main.t.root{.left");
	check_pattern("goroutine 17 (main.worker) → local seen",
		      "goroutine * (main.worker) → local seen");
	check_pattern("goroutine 3 (main.main) → stack word 0xc000051f28",
		      "goroutine * (main.main) → stack word *");
	check_pattern("goroutine 1 (main.main) → stack word 0x7a4971fff00.(*main.held)[0].m",
		      "goroutine * (main.main) → stack word *.(*main.held)[*].m");
	/* Inside parentheses it is a type or a function: left alone. */
	check_pattern("main.x.(*[4]main.T)[2].m", "main.x.(*[4]main.T)[*].m");
	check_pattern("main.h.(closure main.f.func12).seen", "main.h.(closure main.f.func12).seen");
	/* A word of untyped memory: sync.Pool's per-P locals are one owner. */
	check_pattern("main.pool.local+128.(*main.buf).m", "main.pool.local+*.(*main.buf).m");
	check_pattern("main.pool.local+0.(*main.buf).m", "main.pool.local+*.(*main.buf).m");
	check_pattern("goroutine 4 (main.f) → frame word at sp+0x28", "goroutine * (main.f) → frame word at sp+0x28");
	/* A key with a quote and a bracket in it. */
	check_pattern("main.m[\"a\\\"]b\"].x", "main.m[*].x");
	/* Whatever the brackets hold is a key; unclosed, left as is. */
	check_pattern("main.a[x]", "main.a[*]");
	check_pattern("main.a[12", "main.a[12");
	check_pattern("goroutine x", "goroutine x");
	check_pattern("", "");

	/* Cut to fit, always terminated. */
	char small[8];
	CHECK(group_pattern("main.Tenants[17].sessions", small, sizeof(small)) == 7);
	CHECK(strcmp(small, "main.Te") == 0);

	enum group_by by;
	CHECK(parse_group_by("owner", &by) == 0 && by == GROUP_OWNER);
	CHECK(parse_group_by("type", &by) == 0 && by == GROUP_TYPE);
	CHECK(parse_group_by("none", &by) == 0 && by == GROUP_NONE);
	CHECK(parse_group_by("path", &by) == -1 && parse_group_by(NULL, &by) == -1);
	CHECK(strcmp(group_by_name(GROUP_TYPE), "type") == 0);
}

static struct map_entry *add(struct report *r, uint64_t addr, const char *type, const char *root,
			     uint64_t count, uint64_t retained, uint64_t ideal)
{
	struct map_entry *m = report_add_map(r, addr);

	if (!m)
		abort();
	m->type = strdup(type);
	m->fig.count = count;
	m->fig.retained_bytes = retained;
	m->fig.ideal_bytes = ideal;
	m->fig.reclaimable_bytes = retained > ideal ? retained - ideal : 0;
	if (root)
		map_add_root(m, root, false);
	else
		m->unreachable = true;
	return m;
}

static void test_groups(void)
{
	struct report r = { 0 };
	char path[64];

	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "main.shards[%d].m", i);
		add(&r, 0x1000 + (uint64_t)i, "map[string]int", path, 10, 1000 + (uint64_t)i, 100);
	}
	/* The same pattern, another type: another group. */
	add(&r, 0x2000, "map[int]int", "main.shards[9].m", 1, 5000, 50);
	/* Another pattern. */
	add(&r, 0x3000, "map[string]int", "main.big", 3, 4000, 100);
	/* Goroutines collapse. */
	add(&r, 0x4000, "map[int]bool", "goroutine 17 (main.worker) → local seen", 2, 300, 100);
	add(&r, 0x4100, "map[int]bool", "goroutine 18 (main.worker) → local seen", 2, 300, 100);
	/* Nothing reaches two maps of the shards' type: apart. */
	add(&r, 0x5000, "map[string]int", NULL, 0, 900000, 48);
	add(&r, 0x5100, "map[string]int", NULL, 0, 900, 48);
	report_finish(&r);

	CHECK(report_group(&r, GROUP_OWNER) == 0);
	CHECK_EQ_U64(r.ngroups, 5);
	CHECK(r.group_by == GROUP_OWNER);
	/* In the order the maps meet them. */
	const struct map_group *g = r.groups;
	CHECK(!strcmp(g[0].pattern, "main.shards[*].m") && !strcmp(g[0].type, "map[string]int"));
	CHECK_EQ_U64(g[0].maps, 5);
	CHECK_EQ_U64(g[0].count, 50);
	CHECK_EQ_U64(g[0].retained_bytes, 5010);
	CHECK_EQ_U64(g[0].ideal_bytes, 500);
	CHECK_EQ_U64(g[0].reclaimable_bytes, 4510);
	CHECK(r.maps[g[0].biggest].address == 0x1004);
	/* The same pattern, another type: another group. */
	CHECK(!strcmp(g[1].type, "map[int]int") && !strcmp(g[1].pattern, "main.shards[*].m"));
	CHECK_EQ_U64(g[1].reclaimable_bytes, 5000 - 50);
	/* Patterns are interned: one copy per pattern. */
	CHECK(g[0].pattern == g[1].pattern);
	CHECK(!strcmp(g[2].pattern, "main.big"));
	CHECK(!strcmp(g[3].pattern, "goroutine * (main.worker) → local seen") && g[3].maps == 2);
	/* The unreachable maps: one group of their own, never mixed with
	 * the reachable shards of their type. */
	CHECK(g[4].unreachable && g[4].pattern == NULL && g[4].maps == 2);
	CHECK(!strcmp(g[4].type, "map[string]int"));
	CHECK(r.maps[g[4].biggest].address == 0x5000);
	/* Each map names its group. */
	CHECK(r.maps[0].group == 1 && r.maps[4].group == 1 && r.maps[5].group == 2);
	CHECK(r.maps[7].group == 4 && r.maps[8].group == 4 && r.maps[10].group == 5);

	/* By type: the pattern is gone, the unreachable still apart. */
	CHECK(report_group(&r, GROUP_TYPE) == 0);
	CHECK_EQ_U64(r.ngroups, 4);
	CHECK(r.groups[0].pattern == NULL && !strcmp(r.groups[0].type, "map[string]int") &&
	      r.groups[0].maps == 6);
	CHECK(r.groups[3].unreachable && r.groups[3].maps == 2);

	/* none: no groups at all. */
	CHECK(report_group(&r, GROUP_NONE) == 0);
	CHECK(r.ngroups == 0 && r.groups == NULL && r.maps[0].group == 0);
	report_free(&r);

	/* An empty report. */
	struct report e = { 0 };
	CHECK(report_group(&e, GROUP_OWNER) == 0 && e.ngroups == 0);
	report_free(&e);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million maps, the way a big service holds them: most in a few big
 * groups, ten thousand groups of a few.  Grouping must stay linear: this
 * fails if it takes minutes, and says how long it took. */
static void test_million(void)
{
#if defined(__SANITIZE_ADDRESS__)
	const size_t n = 100000;   /* ASan: the same code, less memory */
#else
	const size_t n = 1000000;
#endif
	const size_t npaths = 10000 + 4;
	struct report r = { 0 };
	char **paths = calloc(npaths, sizeof(*paths)), path[96];

	if (!paths)
		abort();
	for (size_t i = 0; i < npaths; i++) {
		if (i < 4)
			snprintf(path, sizeof(path), "main.tenants[%zu].sessions", i * 977);
		else
			snprintf(path, sizeof(path), "main.svc%zu.byKey[%zu]", i % 2500, i);
		paths[i] = strdup(path);
	}
	const char *types[] = { "map[string]*main.Session", "map[int]string", "map[uint64]bool" };
	const char *itypes[3];
	for (int k = 0; k < 3; k++)
		itypes[k] = report_intern(&r, types[k]);
	if (!(r.maps = calloc(n, sizeof(*r.maps))))
		abort();
	r.capmaps = n;
	for (size_t i = 0; i < n; i++) {
		struct map_entry *m = &r.maps[r.nmaps++];
		/* 70% tenants (4 paths, one pattern), the rest spread. */
		size_t p = i % 10 < 7 ? i % 4 : 4 + (i * 7919) % (npaths - 4);
		m->address = 0xc000000000 + 64 * (uint64_t)i;
		m->type = (char *)itypes[i % 3 == 0 ? 0 : p % 3];
		m->types_interned = true;
		m->roots = &paths[p];
		m->nroots = m->nprecise = 1;
		m->unreachable = i % 1000 == 999;
		if (m->unreachable)
			m->nroots = 0;
		m->fig.count = i % 50;
		m->fig.retained_bytes = 48 + 8 * (i % 1000);
		m->fig.ideal_bytes = 48;
		m->fig.reclaimable_bytes = m->fig.retained_bytes - 48;
	}
	report_finish(&r);
	double t0 = now();
	int rc = report_group(&r, GROUP_OWNER);
	double dt = now() - t0;
	CHECK(rc == 0);
	printf("# report_group: %zu maps into %zu groups in %.3f s\n", n, r.ngroups, dt);
	CHECK_MSG(dt < 20, "grouping %zu maps took %.1f s", n, dt);
	uint64_t maps = 0, rec = 0;
	for (size_t k = 0; k < r.ngroups; k++) {
		maps += r.groups[k].maps;
		if (!r.groups[k].unreachable)
			rec += r.groups[k].reclaimable_bytes;
	}
	CHECK_EQ_U64(maps, n);
	CHECK_EQ_U64(rec, r.total_reclaimable);
	/* The tenants: 3 types × one pattern, 70% of the maps. */
	uint64_t tenants = 0;
	for (size_t k = 0; k < r.ngroups; k++)
		if (r.groups[k].pattern && !strcmp(r.groups[k].pattern, "main.tenants[*].sessions"))
			tenants += r.groups[k].maps;
	CHECK(tenants > n * 6 / 10 && tenants < n * 8 / 10);
	for (size_t i = 0; i < n; i++) {
		r.maps[i].roots = NULL;      /* shared, freed below */
		r.maps[i].nroots = 0;
	}
	report_free(&r);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
}

int main(void)
{
	test_patterns();
	test_groups();
	test_million();
	return unit_done();
}
