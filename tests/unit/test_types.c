/* Unit tests for the type model and its builder (types.h, types_build.h):
 * what a loader hands over comes out as the model says, forward references
 * and cycles resolve, every inconsistency a hostile input could smuggle
 * through a loader is refused by gtb_finish, and the flat form the DWARF
 * sandbox sends round-trips and is refused when damaged. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <unistd.h>

#include "dwarf_load.h"
#include "types.h"
#include "types_build.h"
#include "unit.h"

/* Keys as a loader would choose them (DIE offsets). */
enum { K_INT = 0x100, K_NODE = 0x200, K_PNODE = 0x300, K_MAP = 0x400, K_ARR = 0x500,
       K_ALIAS = 0x600, K_BYTES = 0x700, K_UINT8 = 0x800 };

/* type Node struct { next *Node; m map[int]int; a [4]int }, built with the
 * pointer added before what it points to.  Its groups of records go to
 * into[0] before group `cut`, to into[1] from it on, as two parts of a
 * DWARF load split at a compile unit would: a type always with its
 * members, a function with its locals. */
enum { NGROUPS = 6 };
static void sample_parts(struct gtb *into[2], int cut)
{
	struct gtb *b = into[0 >= cut];
	gtb_add_type(b, K_PNODE, &(struct gtb_type){ .kind = GK_PTR, .name = "*main.Node",
						    .target = K_NODE });
	b = into[1 >= cut];
	type_id node = gtb_add_type(b, K_NODE, &(struct gtb_type){ .kind = GK_STRUCT,
								  .name = "main.Node", .size = 48 });
	gtb_add_type(b, K_INT, &(struct gtb_type){ .kind = GK_BASE, .name = "int", .size = 8 });
	gtb_add_type(b, K_MAP, &(struct gtb_type){ .kind = GK_MAP, .name = "map[int]int",
						  .key = K_INT, .elem = K_INT, .runtime_type = 0x40 });
	gtb_add_type(b, K_ARR, &(struct gtb_type){ .kind = GK_ARRAY, .name = "[4]int", .size = 32,
						  .count = 4, .elem = K_INT });
	gtb_add_type(b, K_ALIAS, &(struct gtb_type){ .kind = GK_TYPEDEF, .name = "main.Alias",
						    .target = K_NODE });
	gtb_add_member(b, node, "next", K_PNODE, 0, false);
	gtb_add_member(b, node, "m", K_MAP, 8, false);
	gtb_add_member(b, node, "a", K_ARR, 16, false);
	b = into[2 >= cut];
	gtb_add_var(b, "main.root", 0x5a0000, K_PNODE);
	gtb_add_var(b, "main.lost", 0x5a0008, 0x9999);   /* a type nobody added */
	b = into[3 >= cut];
	gtb_func f1, f2, dup;
	struct gpiece whole = { GPIECE_CFA, -16, 0 };
	struct gpiece two[2] = { { GPIECE_REG, 0, 8 }, { GPIECE_NONE, 0, 8 } };
	struct gtb_range r1[2] = { { 0x401000, 0x401040, &whole, 1 }, { 0x401040, 0x401100, two, 2 } };
	gtb_add_func(b, "main.main", 0x400800, 0x401080, &f2);   /* overlaps main.walk */
	gtb_add_local(b, f2, "x", K_INT, false, r1, 1);
	gtb_func_locals_unknown(b, f2);
	b = into[4 >= cut];
	gtb_add_func(b, "main.walk", 0x401000, 0x401100, &f1);
	gtb_add_local(b, f1, "n", K_PNODE, true, r1, 2);
	gtb_add_closure_var(b, f1, "&m", K_PNODE, 8);
	gtb_add_func(b, "main.dup", 0x401000, 0x401010, &dup);   /* same entry: dropped */
	gtb_add_local(b, dup, "gone", K_INT, false, r1, 1);
	b = into[5 >= cut];
	struct gcfa_row rows[2] = { { 0, 8 }, { 4, 40 } };
	gtb_add_cfa(b, 0x401000, 0x401100, rows, 2);
	gtb_add_cfa(b, 0x401050, 0x401060, rows, 1);           /* overlaps: dropped */
	gtb_set_dwarf_version(into[0], 5);
	gtb_set_dwarf_version(into[1], 5);
}

static struct gtb *sample(void)
{
	struct gtb *b = gtb_new();
	sample_parts((struct gtb *[2]){ b, b }, NGROUPS);
	return b;
}

static int count_locals(const struct gtypes *g, const struct gfunc *f, uint64_t pc,
			const struct glocal **last);

static void collect(void *arg, const struct glocal *v)
{
	*(const struct glocal **)arg = v;
}

static int count_locals(const struct gtypes *g, const struct gfunc *f, uint64_t pc,
			const struct glocal **last)
{
	return gtypes_locals_at(g, f, pc, collect, last);
}

static void check_sample(const struct gtypes *g)
{
	CHECK_EQ_U64(gtypes_count(g), 6);
	CHECK_EQ_U64(gtypes_dwarf_version(g), 5);
	type_id node = gtypes_find(g, "main.Node"), p = gtypes_find(g, "*main.Node");
	CHECK_EQ_U64(node, 2);
	CHECK_EQ_U64(p, 1);
	CHECK_EQ_U64(gtypes_get(g, p)->target, node);       /* a forward reference */
	CHECK_EQ_U64(gtypes_get(g, p)->size, 8);
	CHECK_EQ_U64(gtypes_resolve(g, gtypes_find(g, "main.Alias")), node);
	const struct gmember *m = gtypes_member(g, gtypes_find(g, "main.Alias"), "m");
	CHECK(m && m->offset == 8 && m->type == gtypes_find(g, "map[int]int"));
	size_t n;
	gtypes_members(g, node, &n);
	CHECK_EQ_U64(n, 3);
	CHECK(gtypes_may_hold_map(g, node));                  /* through a cycle */
	CHECK(gtypes_may_hold_map(g, p));
	CHECK(!gtypes_may_hold_map(g, gtypes_find(g, "int")));
	CHECK(gtypes_has_pointers(g, node));
	CHECK(!gtypes_has_pointers(g, gtypes_find(g, "[4]int")));
	CHECK_EQ_U64(gtypes_by_runtime_type(g, 0x40), gtypes_find(g, "map[int]int"));
	CHECK(gtypes_direct_iface(g, p));
	const struct gvar *v = gtypes_var(g, "main.root");
	CHECK(v && v->addr == 0x5a0000 && v->type == p);
	v = gtypes_var(g, "main.lost");
	CHECK(v && v->type == 0);                             /* unknown key: no type */
	CHECK(!gtypes_var(g, "main.none"));

	const struct gfunc *fs = gtypes_funcs(g, &n);
	CHECK_EQ_U64(n, 2);
	CHECK_STR(fs[0].name, "main.main");
	CHECK_EQ_U64(fs[0].highpc, 0x401000);                 /* cut at the next entry */
	CHECK_STR(fs[1].name, "main.walk");                   /* the first added wins */
	const struct gfunc *walk = gtypes_func_at(g, 0x4010ff);
	CHECK(walk == &fs[1]);
	CHECK(!gtypes_func_at(g, 0x401100));
	const struct glocal *l = NULL;
	CHECK_EQ_U64(count_locals(g, walk, 0x401000, &l), 1);
	CHECK(l && !strcmp(l->name, "n") && l->param && l->npieces == 1 &&
	      l->pieces[0].kind == GPIECE_CFA && l->pieces[0].off == -16);
	CHECK_EQ_U64(count_locals(g, walk, 0x401050, &l), 1);
	CHECK(l && l->npieces == 2 && l->pieces[0].kind == GPIECE_REG && l->pieces[1].size == 8);
	CHECK_EQ_U64(count_locals(g, walk, 0x401100, &l), 0);
	CHECK_EQ_U64(count_locals(g, &fs[0], 0x400900, &l), -1); /* unknown, not none */
	const struct gclosure_var *cv = gtypes_closure_vars(g, walk, &n);
	CHECK(n == 1 && cv && !strcmp(cv[0].name, "&m") && cv[0].offset == 8 && cv[0].type == p);
	CHECK(!gtypes_closure_vars(g, &fs[0], &n) && n == 0);
	int64_t off = 0;
	CHECK(gtypes_cfa_offset(g, walk, 0x401003, &off) == 0 && off == 8);
	CHECK(gtypes_cfa_offset(g, walk, 0x401055, &off) == 0 && off == 40);
	CHECK(gtypes_cfa_offset(g, walk, 0x401100, &off) < 0);
	CHECK(gtypes_cfa_offset(g, &fs[0], 0x400900, &off) < 0);
}

static void test_build(void)
{
	struct ms_error err = { 0 };
	struct gtypes *g = gtb_finish(sample(), "/bin/app", &err);
	CHECK_MSG(g, "%s", err.msg);
	if (g)
		check_sample(g);
	gtypes_free(g);
	gtypes_free(NULL);
	gtb_free(NULL);
	CHECK(!gtb_finish(NULL, "x", &err) && err.code == MS_EINTERNAL);
}

static int to_buf(void *arg, const void *p, size_t n)
{
	struct { unsigned char *p; size_t n; } *o = arg;
	unsigned char *q = realloc(o->p, o->n + n);
	if (!q)
		return -1;
	memcpy(q + o->n, p, n);
	o->p = q;
	o->n += n;
	return 0;
}

/* Everything a reader of a model that passed gtb_finish may ask (ASan
 * and UBSan watch). */
static void exercise(const struct gtypes *h)
{
	size_t nf;
	const struct gfunc *fs = gtypes_funcs(h, &nf);
	for (size_t k = 0; k < nf; k++) {
		const struct glocal *l;
		int64_t off;
		size_t ncv;
		count_locals(h, &fs[k], fs[k].lowpc, &l);
		gtypes_cfa_offset(h, &fs[k], fs[k].lowpc, &off);
		gtypes_closure_vars(h, &fs[k], &ncv);
	}
	for (type_id id = 1; id <= gtypes_count(h); id++) {
		const struct gtype *t = gtypes_get(h, id);
		CHECK(t->name && t->target <= gtypes_count(h) &&
		      t->elem <= gtypes_count(h) && t->key <= gtypes_count(h));
		gtypes_may_hold_map(h, id);
		gtypes_direct_iface(h, id);
	}
}

static void test_flat_form(void)
{
	struct { unsigned char *p; size_t n; } o = { NULL, 0 };
	struct gtb *b = sample();
	struct ms_error err = { 0 };
	CHECK(gtb_serialize(b, to_buf, &o) == 0);
	gtb_free(b);
	b = gtb_deserialize(o.p, o.n, "/bin/app", &err);
	CHECK_MSG(b, "%s", err.msg);
	struct gtypes *g = b ? gtb_finish(b, "/bin/app", &err) : NULL;
	CHECK_MSG(g, "%s", err.msg);
	if (g)
		check_sample(g);
	gtypes_free(g);

	/* The buffer's own structure: every cut, and bytes added. */
	for (size_t cut = 0; cut < o.n; cut += cut < 128 ? 1 : 97) {
		err.code = 0;
		CHECK_MSG(!gtb_deserialize(o.p, cut, "/bin/app", &err) && err.code == MS_ENODWARF,
			  "cut at %zu", cut);
	}
	unsigned char *big = calloc(o.n + 8, 1);
	memcpy(big, o.p, o.n);
	CHECK(!gtb_deserialize(big, o.n + 8, "/bin/app", &err));
	CHECK_CONTAINS(err.msg, "/bin/app");
	free(big);

	/* Every byte flipped: refused or a model that passed every check --
	 * never a crash (ASan and UBSan watch). */
	size_t ok = 0;
	for (size_t i = 0; i < o.n; i++) {
		unsigned char *c = malloc(o.n);
		memcpy(c, o.p, o.n);
		c[i] ^= (unsigned char)(0x81 + i);
		struct gtb *d = gtb_deserialize(c, o.n, "/bin/app", &err);
		struct gtypes *h = d ? gtb_finish(d, "/bin/app", &err) : NULL;
		if (h) {
			exercise(h);
			ok++;
		}
		gtypes_free(h);
		free(c);
	}
	CHECK(ok > 0 && ok < o.n);
	free(o.p);
}

/* A load in two parts (dwarf.c's, in two sandboxes): the second part's
 * flat form appended to the first's makes the model one builder makes,
 * wherever the cut falls between groups of records; a damaged second part
 * is refused or makes a model that passed every check. */
static void test_parts(void)
{
	struct ms_error err = { 0 };
	for (int cut = 0; cut <= NGROUPS; cut++) {
		struct gtb *b[2] = { gtb_new(), gtb_new() };
		struct { unsigned char *p; size_t n; } o[2] = { { NULL, 0 }, { NULL, 0 } };
		sample_parts(b, cut);
		for (int k = 0; k < 2; k++) {
			CHECK(gtb_serialize(b[k], to_buf, &o[k]) == 0);
			gtb_free(b[k]);
		}
		struct gtb *d0 = gtb_deserialize(o[0].p, o[0].n, "/bin/app", &err);
		struct gtb *d1 = gtb_deserialize(o[1].p, o[1].n, "/bin/app", &err);
		CHECK_MSG(d0 && d1, "cut %d: %s", cut, err.msg);
		CHECK_MSG(gtb_append(d0, d1) == 0, "cut %d", cut);
		struct gtypes *g = gtb_finish(d0, "/bin/app", &err);
		CHECK_MSG(g, "cut %d: %s", cut, err.msg);
		if (g)
			check_sample(g);
		gtypes_free(g);
		if (cut == 4) {
			size_t ok = 0;
			for (size_t i = 0; i < o[1].n; i++) {
				unsigned char *c = malloc(o[1].n);
				memcpy(c, o[1].p, o[1].n);
				c[i] ^= (unsigned char)(0x81 + i);
				struct gtb *a = gtb_deserialize(o[0].p, o[0].n, "/bin/app", &err);
				struct gtb *z = gtb_deserialize(c, o[1].n, "/bin/app", &err);
				struct gtypes *h = NULL;
				if (a && z && gtb_append(a, z) == 0)
					h = gtb_finish(a, "/bin/app", &err);
				else
					gtb_free(a);
				if (h) {
					exercise(h);
					ok++;
				}
				gtypes_free(h);
				free(c);
			}
			CHECK(ok > 0 && ok < o[1].n);
		}
		free(o[0].p);
		free(o[1].p);
	}
	/* Two builders with nothing of most kinds (the second with nothing at
	 * all): still one builder. */
	struct gtb *e = gtb_new();
	CHECK(gtb_append(e, gtb_new()) == 0);
	CHECK(gtb_append(e, gtb_new()) == 0);
	struct gtypes *eg = gtb_finish(e, "/bin/app", &err);
	CHECK_MSG(eg && gtypes_count(eg) == 0, "%s", err.msg);
	gtypes_free(eg);
	/* Appending to or from nothing fails and frees what it was given. */
	CHECK(gtb_append(NULL, gtb_new()) < 0);
	struct gtb *b = gtb_new();
	CHECK(gtb_append(b, NULL) < 0);
	CHECK(!gtb_finish(b, "/bin/app", &err));
}

/* A local DWARF gives no location (an optimized build's) is kept: never
 * at a pc, but among its function's locals with its type. */
struct seen_local { int n; type_id type; const char *name; };
static void on_local(void *arg, const struct glocal *l)
{
	struct seen_local *s = arg;
	s->n++;
	s->type = l->type;
	s->name = l->name;
}

static void test_local_without_location(void)
{
	struct gtb *b = gtb_new();
	struct ms_error err = { 0 };
	gtb_add_type(b, 3, &(struct gtb_type){ .kind = GK_BASE, .name = "int", .size = 8 });
	gtb_func f;
	gtb_add_func(b, "f", 0x1000, 0x1100, &f);
	CHECK(gtb_add_local(b, f, "m", 3, false, NULL, 0) == 0);
	struct gtypes *g = gtb_finish(b, "/bin/app", &err);
	CHECK_MSG(g != NULL, "%s", err.msg);
	if (!g)
		return;
	const struct gfunc *fn = gtypes_func_at(g, 0x1000);
	struct seen_local at = { 0 }, all = { 0 };
	CHECK(fn && gtypes_locals_at(g, fn, 0x1000, on_local, &at) == 0 && at.n == 0);
	CHECK(fn && gtypes_locals_all(g, fn, on_local, &all) == 1 && all.n == 1);
	CHECK(all.name && strcmp(all.name, "m") == 0);
	CHECK(all.type && strcmp(gtypes_get(g, all.type)->name, "int") == 0);
	gtypes_free(g);
}

/* Each of these is one inconsistency gtb_finish must refuse. */
static void test_refusals(void)
{
	static const char *const cases[] = {
		"duplicate key", "zero key", "bad kind", "member owner", "member of a pointer",
		"member outside", "array size", "empty function", "local of no function",
		"empty range", "bad piece", "cfa rows out of order",
		"cfa not at start", "closure var of no function",
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct gtb *b = gtb_new();
		struct ms_error err = { 0 };
		type_id s = gtb_add_type(b, 1, &(struct gtb_type){ .kind = GK_STRUCT, .name = "S",
								   .size = 16 });
		type_id p = gtb_add_type(b, 2, &(struct gtb_type){ .kind = GK_PTR, .target = 1 });
		gtb_add_type(b, 3, &(struct gtb_type){ .kind = GK_BASE, .name = "int", .size = 8 });
		gtb_func f;
		gtb_add_func(b, "f", 0x1000, 0x1100, &f);
		struct gpiece piece = { GPIECE_CFA, 0, 0 };
		struct gtb_range r = { 0x1000, 0x1010, &piece, 1 };
		struct gcfa_row rows[2] = { { 0, 8 }, { 4, 16 } };
		switch (c) {
		case 0: gtb_add_type(b, 1, &(struct gtb_type){ .kind = GK_BASE }); break;
		case 1: gtb_add_type(b, 0, &(struct gtb_type){ .kind = GK_BASE }); break;
		case 2: gtb_add_type(b, 9, &(struct gtb_type){ .kind = (enum gkind)99 }); break;
		case 3: gtb_add_member(b, 77, "x", 3, 0, false); break;
		case 4: gtb_add_member(b, p, "x", 3, 0, false); break;
		case 5: gtb_add_member(b, s, "x", 3, 12, false); break;
		case 6: gtb_add_type(b, 9, &(struct gtb_type){ .kind = GK_ARRAY, .count = 3,
							       .size = 16, .elem = 3 }); break;
		case 7: gtb_add_func(b, "g", 0x2000, 0x2000, &f); break;
		case 8: gtb_add_local(b, 5, "x", 3, false, &r, 1); break;
		case 9: r.hi = r.lo; gtb_add_local(b, f, "x", 3, false, &r, 1); break;
		case 10: piece.kind = 7; gtb_add_local(b, f, "x", 3, false, &r, 1); break;
		case 11: rows[1].pc = 0; gtb_add_cfa(b, 0x1000, 0x1100, rows, 2); break;
		case 12: rows[0].pc = 2; gtb_add_cfa(b, 0x1000, 0x1100, rows, 2); break;
		case 13: gtb_add_closure_var(b, 9, "x", 3, 0); break;
		}
		struct gtypes *g = gtb_finish(b, "/bin/app", &err);
		CHECK_MSG(!g && err.code == MS_ENODWARF && strstr(err.msg, "/bin/app"),
			  "%s: %s", cases[c], g ? "accepted" : err.msg);
		gtypes_free(g);
	}
	/* Sizes the builder fixes, a member that ends exactly at the end. */
	struct gtb *b = gtb_new();
	struct ms_error err = { 0 };
	type_id s = gtb_add_type(b, 1, &(struct gtb_type){ .kind = GK_STRUCT, .size = 16 });
	gtb_add_type(b, 2, &(struct gtb_type){ .kind = GK_IFACE, .size = 3 });
	gtb_add_member(b, s, "i", 2, 0, false);
	struct gtypes *g = gtb_finish(b, "/bin/app", &err);
	CHECK_MSG(g && gtypes_get(g, 2)->size == 16, "%s", err.msg);
	gtypes_free(g);
}

/* The DWARF loader on files libdwarf refuses: an error, never a crash,
 * and nothing left allocated (LeakSanitizer watches: libdwarf hands the
 * caller an error record to free when it fails before it has a handle). */
static void test_loader_refusals(void)
{
	static const unsigned char elf_hdr[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, [16] = 2, 0,
						   0x3e, 0, 1, [40] = 0xff, 0xff, 0xff, 0xff,
						   [52] = 64, 0, [58] = 64, 0, 9, 0, 3, 0 };
	const unsigned char *inputs[] = { (const unsigned char *)"not an ELF file at all....",
					  elf_hdr };
	size_t lens[] = { 26, sizeof(elf_hdr) };
	char path[] = "/tmp/mapscan-test-types.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (size_t i = 0; i < 2; i++) {
		struct ms_error err = { 0 };
		CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, inputs[i], lens[i], 0) == (ssize_t)lens[i]);
		struct gtb *b = gtb_new();
		lseek(fd, 0, SEEK_SET);
		CHECK_MSG(dwarf_load_fd(fd, path, b, &err) < 0 && err.code == MS_ENODWARF,
			  "input %zu: code %d %s", i, err.code, err.msg);
		CHECK_CONTAINS(err.msg, path);
		gtb_free(b);
	}
	close(fd);
	unlink(path);
}

/* A chain of pointer types, each to the one added after it, the map at
 * the far end: a fixed-point pass per link was quadratic (a hostile DWARF
 * of a million such DIEs kept the parent busy for hours). */
static void test_long_chain(void)
{
	enum { N = 60000 };
	struct gtb *b = gtb_new();
	CHECK(b != NULL);
	if (!b)
		return;
	for (uint64_t i = 0; i < N; i++)
		gtb_add_type(b, 1000 + i, &(struct gtb_type){ .kind = GK_PTR, .name = "*p",
							     .target = i + 1 < N ? 1000 + i + 1 : 2 });
	type_id intid = gtb_add_type(b, 1, &(struct gtb_type){ .kind = GK_BASE, .name = "int",
							      .size = 8 });
	gtb_add_type(b, 2, &(struct gtb_type){ .kind = GK_MAP, .name = "map[int]int", .key = 1,
					      .elem = 1, .runtime_type = 0x40 });
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct ms_error err = { 0, "" };
	struct gtypes *g = gtb_finish(b, "chain", &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK_MSG(g != NULL, "gtb_finish: %s", err.msg);
	CHECK_MSG(secs < 2, "a chain of %d pointer types took %.1f s", N, secs);
	if (g) {
		/* The far end of the chain reaches the map; the int holds none. */
		CHECK(gtypes_may_hold_map(g, 1));
		CHECK(gtypes_has_pointers(g, 1));
		CHECK(!gtypes_may_hold_map(g, intid));
		CHECK(!gtypes_has_pointers(g, intid));
		gtypes_free(g);
	}
}

int main(void)
{
	test_loader_refusals();
	test_build();
	test_flat_form();
	test_parts();
	test_refusals();
	test_local_without_location();
	test_long_chain();
	return unit_done();
}
