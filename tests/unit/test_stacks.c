/* Unit tests for what stack scanning is built on: the decoders of DWARF
 * location expressions and call-frame instructions (synthetic input, as Go
 * writes it), and -- when MAPSCAN_TEST_CORE and MAPSCAN_TEST_EXE name a Go
 * core and its executable -- a sanity pass of stacks_scan over it. */
#include <stdlib.h>

#include <dwarf.h>

#include "goruntime.h"
#include "stacks.h"
#include "target.h"
#include "types.h"
#include "unit.h"

#define OP(a) { (a), 0, 0 }
#define OP1(a, x) { (a), (uint64_t)(x), 0 }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_piece(const struct gpiece *p, int kind, int64_t off, uint64_t size)
{
	CHECK_EQ_U64(p->kind, kind);
	CHECK_EQ_U64(p->off, off);
	CHECK_EQ_U64(p->size, size);
}

static void test_loc_whole(void)
{
	struct gpiece p[4];

	/* A parameter spilled to its slot in the caller's frame. */
	const struct gloc_op cfa[] = { OP(DW_OP_call_frame_cfa) };
	CHECK_EQ_U64(gloc_decode(cfa, N(cfa), true, p, 4), 1);
	check_piece(&p[0], GPIECE_CFA, 0, 0);

	/* A local below the CFA; DW_OP_fbreg only means something when the
	 * frame base is the CFA. */
	const struct gloc_op fb[] = { OP1(DW_OP_fbreg, -24) };
	CHECK_EQ_U64(gloc_decode(fb, N(fb), true, p, 4), 1);
	check_piece(&p[0], GPIECE_CFA, -24, 0);
	CHECK_EQ_U64(gloc_decode(fb, N(fb), false, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* Arithmetic on the CFA. */
	const struct gloc_op plus[] = { OP(DW_OP_call_frame_cfa), OP1(DW_OP_consts, 16), OP(DW_OP_plus) };
	CHECK_EQ_U64(gloc_decode(plus, N(plus), true, p, 4), 1);
	check_piece(&p[0], GPIECE_CFA, 16, 0);
	const struct gloc_op uconst[] = { OP(DW_OP_call_frame_cfa), OP1(DW_OP_plus_uconst, 8) };
	CHECK_EQ_U64(gloc_decode(uconst, N(uconst), true, p, 4), 1);
	check_piece(&p[0], GPIECE_CFA, 8, 0);
	const struct gloc_op minus[] = { OP(DW_OP_call_frame_cfa), OP(DW_OP_lit4), OP(DW_OP_minus) };
	CHECK_EQ_U64(gloc_decode(minus, N(minus), true, p, 4), 1);
	check_piece(&p[0], GPIECE_CFA, -4, 0);

	/* In a register. */
	const struct gloc_op reg[] = { OP(DW_OP_reg0 + 3) };
	CHECK_EQ_U64(gloc_decode(reg, N(reg), true, p, 4), 1);
	check_piece(&p[0], GPIECE_REG, 3, 0);
	const struct gloc_op regx[] = { OP1(DW_OP_regx, 17) };
	CHECK_EQ_U64(gloc_decode(regx, N(regx), true, p, 4), 1);
	check_piece(&p[0], GPIECE_REG, 17, 0);
}

static void test_loc_not_in_memory(void)
{
	struct gpiece p[4];

	/* Optimized out. */
	CHECK_EQ_U64(gloc_decode(NULL, 0, true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* A computed value is not a place. */
	const struct gloc_op sv[] = { OP(DW_OP_lit1), OP(DW_OP_stack_value) };
	CHECK_EQ_U64(gloc_decode(sv, N(sv), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* A static address is not in a frame. */
	const struct gloc_op addr[] = { OP1(DW_OP_addr, 0x4a0000) };
	CHECK_EQ_U64(gloc_decode(addr, N(addr), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* Memory the frame points to, not the frame. */
	const struct gloc_op deref[] = { OP1(DW_OP_fbreg, 8), OP(DW_OP_deref) };
	CHECK_EQ_U64(gloc_decode(deref, N(deref), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* Nonsense: two registers, an operator without operands, an
	 * operation libdwarf could not decode. */
	const struct gloc_op two[] = { OP(DW_OP_reg0), OP(DW_OP_reg0 + 1) };
	CHECK_EQ_U64(gloc_decode(two, N(two), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);
	const struct gloc_op lone[] = { OP(DW_OP_plus) };
	CHECK_EQ_U64(gloc_decode(lone, N(lone), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);
	const struct gloc_op junk[] = { OP(0xff) };
	CHECK_EQ_U64(gloc_decode(junk, N(junk), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);

	/* A deep stack does not overflow the evaluator. */
	struct gloc_op deep[40];
	for (size_t i = 0; i < N(deep); i++)
		deep[i] = (struct gloc_op)OP(DW_OP_lit1);
	CHECK_EQ_U64(gloc_decode(deep, N(deep), true, p, 4), 1);
	CHECK_EQ_U64(p[0].kind, GPIECE_NONE);
}

static void test_loc_pieces(void)
{
	struct gpiece p[4];

	/* A string: pointer in a register, length on the stack. */
	const struct gloc_op str[] = { OP(DW_OP_reg0), OP1(DW_OP_piece, 8),
				       OP1(DW_OP_fbreg, -16), OP1(DW_OP_piece, 8) };
	CHECK_EQ_U64(gloc_decode(str, N(str), true, p, 4), 2);
	check_piece(&p[0], GPIECE_REG, 0, 8);
	check_piece(&p[1], GPIECE_CFA, -16, 8);

	/* An optimized-out piece. */
	const struct gloc_op gap[] = { OP1(DW_OP_piece, 8), OP1(DW_OP_fbreg, 8), OP1(DW_OP_piece, 8) };
	CHECK_EQ_U64(gloc_decode(gap, N(gap), true, p, 4), 2);
	check_piece(&p[0], GPIECE_NONE, 0, 8);
	check_piece(&p[1], GPIECE_CFA, 8, 8);

	/* Bytes after the last piece are not described. */
	const struct gloc_op tail[] = { OP(DW_OP_reg0 + 3), OP1(DW_OP_piece, 8), OP(DW_OP_reg0 + 2) };
	CHECK_EQ_U64(gloc_decode(tail, N(tail), true, p, 4), 2);
	check_piece(&p[0], GPIECE_REG, 3, 8);
	CHECK_EQ_U64(p[1].kind, GPIECE_NONE);

	/* More pieces than room. */
	const struct gloc_op many[] = { OP(DW_OP_reg0), OP1(DW_OP_piece, 8), OP(DW_OP_reg0),
					OP1(DW_OP_piece, 8), OP(DW_OP_reg0), OP1(DW_OP_piece, 8) };
	CHECK(gloc_decode(many, N(many), true, p, 2) < 0);
	CHECK_EQ_U64(gloc_decode(many, N(many), true, p, 3), 3);
}

/* Go's CIE: CFA = rsp+8, return address at CFA-8; data alignment -4. */
static const uint8_t go_cie[] = { 0x0c, 7, 8, 0x05, 16, 2, 0x00 };

static int64_t cfa_at(const struct gcfa_row *rows, size_t n, uint64_t pc)
{
	int64_t off = -1;
	for (size_t i = 0; i < n && rows[i].pc <= pc; i++)
		off = rows[i].off;
	return off;
}

static void test_cfa(void)
{
	struct gcfa_row rows[16];
	size_t n = 0;
	uint64_t loc = 0;
	int64_t off = INT64_MIN;

	CHECK_EQ_U64(gcfa_decode(go_cie, sizeof(go_cie), 7, 1, -4, &loc, &off, rows, &n, 16), 0);
	CHECK_EQ_U64(off, 8);
	CHECK_EQ_U64(n, 1);

	/* A function as the Go linker writes it: push BP, allocate the
	 * frame, tear it down, and a morestack call at the end. */
	const uint8_t fde[] = {
		0x13, 0x7e,             /* def_cfa_offset_sf -2 * -4 = 8 */
		0x40 | 11,              /* advance 11 */
		0x13, 0x7c,             /* 16 */
		0x40 | 7,
		0x13, 0xd8, 0x7e,       /* -168 * -4 = 672 */
		0x02, 200,              /* advance_loc1 200 */
		0x13, 0x7c,             /* 16 */
		0x03, 0x01, 0x01,       /* advance_loc2 257 */
		0x13, 0x7e,             /* 8 */
		0x04, 0x10, 0, 0, 0,    /* advance_loc4 16 */
		0x00, 0x00,             /* padding */
	};
	loc = 0;
	CHECK_EQ_U64(gcfa_decode(fde, sizeof(fde), 7, 1, -4, &loc, &off, rows, &n, 16), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 0), 8);
	CHECK_EQ_U64(cfa_at(rows, n, 10), 8);
	CHECK_EQ_U64(cfa_at(rows, n, 11), 16);
	CHECK_EQ_U64(cfa_at(rows, n, 17), 16);
	CHECK_EQ_U64(cfa_at(rows, n, 18), 672);
	CHECK_EQ_U64(cfa_at(rows, n, 217), 672);
	CHECK_EQ_U64(cfa_at(rows, n, 218), 16);
	CHECK_EQ_U64(cfa_at(rows, n, 474), 16);
	CHECK_EQ_U64(cfa_at(rows, n, 475), 8);
	CHECK_EQ_U64(loc, 491);

	/* An unsigned def_cfa_offset and a def_cfa_sf. */
	const uint8_t other[] = { 0x0e, 0x20, 0x41, 0x12, 7, 0x78 };
	n = 0;
	loc = 0;
	CHECK_EQ_U64(gcfa_decode(other, sizeof(other), 7, 1, -4, &loc, &off, rows, &n, 16), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 0), 32);
	CHECK_EQ_U64(cfa_at(rows, n, 1), 32);

	/* What is not modelled is refused, not guessed. */
	const uint8_t rbp[] = { 0x0c, 6, 16 };          /* CFA = rbp + 16 */
	const uint8_t state[] = { 0x0a };               /* remember_state */
	const uint8_t expr[] = { 0x0f, 1, 0x9c };       /* def_cfa_expression */
	const uint8_t cut[] = { 0x13, 0x80 };           /* truncated sleb */
	const uint8_t cut4[] = { 0x04, 1, 0 };          /* truncated advance_loc4 */
	const uint8_t *bad[] = { rbp, state, expr, cut, cut4 };
	const size_t badlen[] = { sizeof(rbp), sizeof(state), sizeof(expr), sizeof(cut), sizeof(cut4) };
	for (size_t i = 0; i < N(bad); i++) {
		n = 0;
		loc = 0;
		CHECK_MSG(gcfa_decode(bad[i], badlen[i], 7, 1, -4, &loc, &off, rows, &n, 16) < 0,
			  "bad program %zu accepted", i);
	}

	/* No more rows than room. */
	const uint8_t rowsy[] = { 0x13, 0x7e, 0x41, 0x13, 0x7c, 0x41, 0x13, 0x7a };
	n = 0;
	loc = 0;
	CHECK(gcfa_decode(rowsy, sizeof(rowsy), 7, 1, -4, &loc, &off, rows, &n, 2) < 0);
	CHECK(n <= 2);
}

/* Go's arm64 .debug_frame (cmd/link writeframes, readelf of a Go 1.26
 * binary): the CFA is SP + frame size; x30 is "same value" while there is
 * no frame and saved at CFA - frame size while there is. */
static void test_arm64_cfa(void)
{
	const uint8_t cie[] = {
		0x0c, 31, 0,            /* def_cfa sp+0 */
		0x08, 30,               /* same_value x30 */
		0x14, 31, 0,            /* val_offset sp = cfa+0 */
		0, 0, 0, 0,
	};
	const uint8_t fde[] = {
		0x08, 30,               /* same_value x30 */
		0x13, 0,                /* def_cfa_offset_sf 0 */
		0x40 | 16,              /* advance 16 */
		0x11, 30, 8,            /* offset_extended_sf x30 at cfa-32 */
		0x13, 0x78,             /* def_cfa_offset_sf -8 * -4 = 32 */
		0x02, 160,              /* advance_loc1 160 */
		0x08, 30,
		0x13, 0,                /* 0: the epilogue's RET */
		0x40 | 4,
		0x11, 30, 8,
		0x13, 0x78,             /* 32 again: code after the RET */
		0, 0, 0,
	};
	struct gcfa_row rows[16];
	size_t n = 0;
	uint64_t loc = 0;
	int64_t off = INT64_MIN;
	CHECK_EQ_U64(gcfa_decode(cie, sizeof(cie), 31, 1, -4, &loc, &off, rows, &n, 16), 0);
	CHECK_EQ_U64(off, 0);
	loc = 0;
	CHECK_EQ_U64(gcfa_decode(fde, sizeof(fde), 31, 1, -4, &loc, &off, rows, &n, 16), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 0), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 15), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 16), 32);
	CHECK_EQ_U64(cfa_at(rows, n, 175), 32);
	CHECK_EQ_U64(cfa_at(rows, n, 176), 0);
	CHECK_EQ_U64(cfa_at(rows, n, 180), 32);
	/* The same program read as amd64's: its CFA is not rsp-based. */
	n = 0;
	loc = 0;
	off = INT64_MIN;
	CHECK(gcfa_decode(cie, sizeof(cie), 7, 1, -4, &loc, &off, rows, &n, 16) < 0);
	/* And amd64's CIE (def_cfa rsp+8) is not arm64's. */
	const uint8_t amd64_cie[] = { 0x0c, 7, 8, 0x05, 16, 2 };
	n = 0;
	loc = 0;
	CHECK(gcfa_decode(amd64_cie, sizeof(amd64_cie), 31, 1, -4, &loc, &off, rows, &n, 16) < 0);
}

struct real {
	const struct target *t;
	uint64_t vars, words, bad;
	uint64_t last_goid, last_sp;
};

static void real_var(void *arg, const struct gframe *f, const char *name, type_id type,
		     uint64_t addr)
{
	struct real *r = arg;
	(void)type;
	r->vars++;
	/* A precise variable lies in its frame, or (a spilled parameter)
	 * in its caller's, and is readable. */
	uint64_t v;
	if (!name || !*name || addr < f->sp || target_read_u64(r->t, addr, &v))
		r->bad++;
}

static void real_word(void *arg, const struct gframe *f, uint64_t addr, uint64_t value)
{
	struct real *r = arg;
	r->words++;
	if (addr < f->sp || addr >= f->cfa || (addr & 7) || !value)
		r->bad++;
	/* Words come in increasing order within a goroutine. */
	if (f->goid == r->last_goid && addr <= r->last_sp)
		r->bad++;
	r->last_goid = f->goid;
	r->last_sp = addr;
}

static void test_real_core(void)
{
	const char *core = getenv("MAPSCAN_TEST_CORE"), *exe = getenv("MAPSCAN_TEST_EXE");
	if (!core) {
		UNIT_SKIP("real-core stack test: set MAPSCAN_TEST_CORE (and MAPSCAN_TEST_EXE) "
			  "to a Go core and its binary");
		return;
	}
	struct ms_error err = { 0 };
	struct target *t = target_open_core(core, exe, &err);
	CHECK_MSG(t, "%s", err.msg);
	if (!t)
		return;
	struct gtypes *g = gtypes_load(target_exe_path(t), &err);
	struct goruntime rt;
	CHECK_MSG(g && goruntime_init(&rt, g, t, &err) == 0, "%s", err.msg);
	if (g) {
		struct real r = { t, 0, 0, 0, ~0ull, 0 };
		struct stacks_stats st;
		CHECK_MSG(stacks_scan(t, g, &rt, real_var, real_word, &r, &st, &err) == 0, "%s",
			  err.msg);
		CHECK(st.goroutines > 0);
		CHECK(st.frames >= st.goroutines - st.unwind_failures);
		CHECK_EQ_U64(st.precise_vars, r.vars);
		CHECK_EQ_U64(st.conservative_words, r.words);
		CHECK_EQ_U64(r.bad, 0);
		/* The function table finds a function by any pc inside it. */
		size_t n;
		const struct gfunc *fs = gtypes_funcs(g, &n), *exit = NULL;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(fs[i].name, "runtime.goexit"))
				exit = &fs[i];
		CHECK(exit && gtypes_func_at(g, exit->lowpc) == exit &&
		      gtypes_func_at(g, exit->highpc - 1) == exit);
		CHECK(gtypes_func_at(g, 0) == NULL);
	}
	gtypes_free(g);
	target_close(t);
}

int main(void)
{
	test_loc_whole();
	test_loc_not_in_memory();
	test_loc_pieces();
	test_cfa();
	test_arm64_cfa();
	test_real_core();
	return unit_done();
}
