/* Goroutine stacks: unwinding and precise locals (see stacks.h).
 *
 * Per goroutine: find where its innermost frame starts, unwind to the
 * outermost frame (runtime.goexit) with .debug_frame's CFA rules, report
 * the locals DWARF places wholly in stack memory at each frame's pc, and
 * hand every other non-zero word of [sp, stack.hi) to the conservative
 * callback.  A stack that cannot be unwound from some frame on is passed on
 * conservatively from there. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "stacks.h"
#include "wordset.h"

#define G_DEAD 6
#define G_RUNNING 2
#define G_SYSCALL 3
#define G_IDLE 0
#define G_DEADEXTRA 11          /* Go 1.26+ */
#define G_SCAN 0x1000

#define MAX_GOROUTINES (1u << 24)
#define MAX_MS (1u << 16)
#define MAX_FRAMES_PER_G 100000u
#define MAX_FRAMES_TOTAL (1u << 24)
#define MAX_STACK (1ull << 30)  /* Go's maximum stack on 64-bit */
#define MAX_G_SIZE 4096
#define MAX_WORDS_TOTAL (1ull << 28) /* 2 GiB of stacks read */
#define MAX_HOLES 16              /* unreadable pages in one stack before giving up on it */
#define CHUNK 65536

/* Field offsets, all from DWARF. */
struct layout {
	uint64_t g_size;
	uint64_t stack_lo, stack_hi;          /* g.stack.lo / hi */
	uint64_t sched_sp, sched_pc, sched_bp;
	uint64_t sched_lr;                    /* 0 if absent (no link register) */
	uint64_t sys_sp, sys_pc, sys_bp;      /* sys_bp: 0 if absent (< 1.23) */
	bool has_sys_bp;
	uint64_t status, goid;
	uint64_t m_procid, m_curg, m_alllink;
	uint64_t m_gsignal;                   /* 0 if absent */
	uint64_t allgs, allglen, allm;        /* link-time addresses */
	bool has_allm;
};

/* A running goroutine's registers, matched through its m. */
struct gregs {
	uint64_t g;
	const struct target_thread *th;
	uint64_t gsignal;         /* the m's signal-handling g, 0 if unknown */
};

#define MAX_SIGSTACK (1u << 20)

struct frame {
	struct gframe pub;
	uint64_t lpc;             /* link-time pc to look up locals (pc or pc-1) */
	uint64_t ra_at;           /* the stack word holding its return address, 0 if none */
	bool precise;             /* unwound (not a conservative span) */
};

struct scan {
	const struct target *t;
	const struct arch *arch;
	const struct gtypes *g;
	uint64_t bias;
	stack_var_fn var_fn;
	stack_word_fn word_fn;
	void *arg;
	struct stacks_stats st;
	struct frame *frames;
	size_t nframes, capframes;
	uint64_t total_frames;
	uint64_t total_words;     /* words read, against MAX_WORDS_TOTAL */
	struct wordset seen;      /* stack.hi of goroutines scanned: a corrupt allgs
				   * cannot make one stack be read twice */
	uint64_t *covered;        /* bitmap over the words of [lo, hi) */
	size_t capcovered;        /* in uint64_t */
	uint64_t lo, hi;          /* live stack being scanned: [sp0, stack.hi) */
	const struct frame *cur;  /* frame whose locals are being reported */
	const struct gfunc *f_goexit, *f_async, *f_sigpanic, *f_sysswitch;
	const struct gfunc *f_mstart, *f_rt0;
	unsigned char buf[CHUNK];
};

static int member_off(const struct gtypes *g, type_id st, const char *path, uint64_t *out)
{
	/* path is "a" or "a.b": nested members */
	char name[64];
	uint64_t off = 0;
	type_id cur = st;
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(name))
			return -1;
		memcpy(name, path, n);
		name[n] = 0;
		const struct gmember *m = gtypes_member(g, cur, name);
		if (!m)
			return -1;
		off += m->offset;
		cur = m->type;
		path += n + (dot ? 1 : 0);
	}
	/* An atomic.Uint32 and the like: the value is a field of a struct. */
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, cur));
	if (t && t->kind == GK_STRUCT) {
		const struct gmember *v = gtypes_member(g, cur, "value");
		if (v)
			off += v->offset;
	}
	*out = off;
	return 0;
}

static int layout_init(struct layout *L, const struct gtypes *g, struct ms_error *err)
{
	memset(L, 0, sizeof(*L));
	type_id gt = gtypes_find(g, "runtime.g");
	type_id mt = gtypes_find(g, "runtime.m");
	const struct gvar *allgs = gtypes_var(g, "runtime.allgs");
	const struct gvar *allglen = gtypes_var(g, "runtime.allglen");
	const struct gvar *allm = gtypes_var(g, "runtime.allm");
	const struct gtype *gtype = gtypes_get(g, gt);
	if (!gt || !gtype || !allgs)
		return ms_err(err, MS_ENOTGO, "the executable's DWARF has no runtime.g or "
			      "runtime.allgs; goroutine stacks cannot be found");
	L->g_size = gtype->size;
	L->allgs = allgs->addr;
	L->allglen = allglen ? allglen->addr : 0;
	if (L->g_size == 0 || L->g_size > MAX_G_SIZE ||
	    member_off(g, gt, "stack.lo", &L->stack_lo) ||
	    member_off(g, gt, "stack.hi", &L->stack_hi) ||
	    member_off(g, gt, "sched.sp", &L->sched_sp) ||
	    member_off(g, gt, "sched.pc", &L->sched_pc) ||
	    member_off(g, gt, "sched.bp", &L->sched_bp) ||
	    member_off(g, gt, "syscallsp", &L->sys_sp) ||
	    member_off(g, gt, "syscallpc", &L->sys_pc) ||
	    member_off(g, gt, "atomicstatus", &L->status) ||
	    member_off(g, gt, "goid", &L->goid))
		return ms_err(err, MS_ENOTGO, "runtime.g in the executable's DWARF lacks a "
			      "field mapscan needs (stack, sched, syscallsp, atomicstatus, goid)");
	L->has_sys_bp = member_off(g, gt, "syscallbp", &L->sys_bp) == 0;
	if (member_off(g, gt, "sched.lr", &L->sched_lr) || L->sched_lr + 8 > L->g_size)
		L->sched_lr = 0;
	/* Registers of running goroutines are optional. */
	if (mt && allm && !member_off(g, mt, "procid", &L->m_procid) &&
	    !member_off(g, mt, "curg", &L->m_curg) && !member_off(g, mt, "alllink", &L->m_alllink)) {
		L->allm = allm->addr;
		L->has_allm = true;
		const struct gmember *gs = gtypes_member(g, mt, "gsignal");
		L->m_gsignal = gs ? gs->offset : 0;
	}
	uint64_t ends[] = { L->stack_lo, L->stack_hi, L->sched_sp, L->sched_pc, L->sched_bp,
			    L->sys_sp, L->sys_pc, L->sys_bp, L->goid };
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (ends[i] + 8 > L->g_size)
			return ms_err(err, MS_ENOTGO, "runtime.g in the executable's DWARF has a "
				      "field past its end");
	if (L->status + 4 > L->g_size)
		return ms_err(err, MS_ENOTGO, "runtime.g in the executable's DWARF has a "
			      "field past its end");
	return 0;
}

/* Running goroutines and the threads they run on: allm -> m.alllink, m.curg,
 * m.procid (the thread id). */
static size_t collect_regs(const struct target *t, const struct layout *L, uint64_t bias,
			   struct gregs **out)
{
	size_t nth = 0;
	const struct target_thread *th = target_threads(t, &nth);
	*out = NULL;
	if (!L->has_allm || !nth)
		return 0;
	struct gregs *r = calloc(nth, sizeof(*r));
	if (!r)
		return 0;
	size_t n = 0;
	uint64_t m = 0;
	if (target_read_u64(t, L->allm + bias, &m))
		m = 0;
	for (unsigned i = 0; m && i < MAX_MS && n < nth; i++) {
		uint64_t procid = 0, curg = 0, next = 0;
		if (target_read_u64(t, m + L->m_procid, &procid) ||
		    target_read_u64(t, m + L->m_curg, &curg) ||
		    target_read_u64(t, m + L->m_alllink, &next))
			break;
		for (size_t k = 0; curg && k < nth; k++)
			if ((uint64_t)(uint32_t)th[k].tid == procid) {
				r[n].g = curg;
				r[n].th = &th[k];
				if (!L->m_gsignal ||
				    target_read_u64(t, m + L->m_gsignal, &r[n].gsignal))
					r[n].gsignal = 0;
				n++;
				break;
			}
		m = next;
	}
	*out = r;
	return n;
}

/* A thread stopped inside a signal handler (a crash: the runtime prints
 * its traceback and re-raises the signal from there) has its registers on
 * the signal stack; the goroutine it interrupted is described by the
 * kernel's signal frame on that stack.  Recognise it by uc_stack, which
 * names the signal stack itself, and take the outermost (highest) one,
 * which is the signal that interrupted Go code.  Returns true with the
 * interrupted registers if they point into [lo, hi). */
static bool signal_context(struct scan *S, const struct layout *L, const struct gregs *r,
			   uint64_t lo, uint64_t hi, struct arch_regs *out)
{
	const struct arch *A = S->arch;
	unsigned char sg[MAX_G_SIZE];
	if (!r->gsignal || !r->th || target_read(S->t, r->gsignal, sg, L->g_size))
		return false;
	uint64_t slo = le64(sg + L->stack_lo), shi = le64(sg + L->stack_hi);
	uint64_t sp = r->th->sp & ~7ull;
	if (!slo || shi <= slo || shi - slo > MAX_SIGSTACK || sp < slo || sp >= shi)
		return false;
	/* Signal stacks are small (32 KiB): the top CHUNK bytes hold it. */
	uint64_t from = shi - sp > CHUNK ? shi - CHUNK : sp, n = shi - from;
	uint64_t need = (uint64_t)A->uc_mcontext + A->sc_size;
	if (n < need || target_read(S->t, from, S->buf, n))
		return false;
	for (uint64_t k = (n - need) & ~7ull;; k -= 8) {
		const unsigned char *p = S->buf + k, *mc = p + A->uc_mcontext;
		uint64_t isp = le64(mc + A->sc_sp);
		if (le64(p) == slo && le64(p + A->uc_ss_size) == shi - slo && isp >= lo && isp < hi) {
			out->sp = isp;
			out->pc = le64(mc + A->sc_pc);
			out->fp = le64(mc + A->sc_fp);
			out->has_lr = A->sc_lr != ARCH_NO_REG;
			out->lr = out->has_lr ? le64(mc + A->sc_lr) : 0;
			return true;
		}
		if (k < 8)
			break;
	}
	return false;
}

static struct frame *frame_push(struct scan *S)
{
	if (grow_array((void **)&S->frames, &S->capframes, S->nframes + 1, sizeof(*S->frames), 256))
		return NULL;
	struct frame *f = &S->frames[S->nframes++];
	memset(f, 0, sizeof(*f));
	return f;
}

static int read_word(const void *ctx, uint64_t addr, uint64_t *out)
{
	return target_read_u64(ctx, addr, out);
}

/* Unwind from the registers r within [r.sp, hi).  Fills S->frames with the
 * frames found and, if unwinding stops early, a last conservative span
 * up to hi.  Returns true if the whole stack was unwound. */
static bool unwind(struct scan *S, uint64_t goid, struct arch_regs r, bool exact, uint64_t hi)
{
	const struct arch *A = S->arch;
	S->nframes = 0;
	bool ok = false;
	for (unsigned depth = 0;; depth++) {
		if (depth >= MAX_FRAMES_PER_G || S->total_frames >= MAX_FRAMES_TOTAL ||
		    r.sp >= hi || (r.sp & 7))
			break;
		uint64_t lpc = (exact ? r.pc : r.pc - 1) - S->bias;
		const struct gfunc *fn = gtypes_func_at(S->g, lpc);
		/* The outermost frame of a goroutine (on a link-register
		 * machine one of no size whose return address is nowhere). */
		bool top = fn && (fn == S->f_goexit || fn == S->f_mstart || fn == S->f_rt0);
		int64_t off = 0;
		uint64_t cfa;
		/* A frame without its own stack (off 0) is one that keeps its
		 * return address in a register: only the innermost, or one a
		 * signal interrupted. */
		if (fn && gtypes_cfa_offset(S->g, fn, lpc, &off) == 0 && off >= 0 &&
		    (uint64_t)off <= hi - r.sp && (off > 0 || r.has_lr || top))
			cfa = r.sp + (uint64_t)off;
		else if (!(cfa = A->fp_cfa(&r, hi, read_word, S->t)))
			break;    /* no CFA rule, and the frame pointer cannot say */
		if (cfa < r.sp || cfa > hi || (cfa & 7) || (cfa == r.sp && !r.has_lr && !top))
			break;
		struct frame *f = frame_push(S);
		if (!f)
			break;
		f->pub = (struct gframe){ goid, fn ? fn->name : "?", fn, r.pc, r.sp, cfa, depth };
		f->lpc = lpc;
		f->precise = true;
		S->total_frames++;
		if (top) {
			ok = true;
			break;
		}
		if (cfa == hi) {
			ok = true;    /* nothing above: the whole stack is covered */
			break;
		}
		/* After an injected call the "return address" is the interrupted
		 * instruction itself, not the one after a call. */
		bool injected = fn && (fn == S->f_async || fn == S->f_sigpanic);
		struct arch_regs up;
		if (A->caller(&r, cfa, injected, read_word, S->t, &up, &f->ra_at))
			break;
		if (!up.pc) {
			ok = true;    /* nothing called this frame */
			break;
		}
		/* Frames increase: a frame of no size needs its return address
		 * in a register, which only the first and an interrupted one have. */
		if (up.sp < cfa)
			break;
		exact = injected;
		r = up;
	}
	uint64_t end = S->nframes ? S->frames[S->nframes - 1].pub.cfa : r.sp;
	if (!ok && end < hi) {
		struct frame *f = frame_push(S);
		if (f) {
			f->pub = (struct gframe){ goid, "?", NULL, 0, end, hi,
						  (unsigned)(S->nframes - 1) };
			f->precise = false;
		}
	}
	return ok;
}

static uint64_t type_size(const struct gtypes *g, type_id id)
{
	const struct gtype *t = gtypes_get(g, gtypes_resolve(g, id));
	return t ? t->size : 0;
}

static void cover(struct scan *S, uint64_t addr, uint64_t size)
{
	/* Only whole words: a word shared with something else stays
	 * conservative. */
	uint64_t a = (addr + 7) & ~7ull, e = (addr + size) & ~7ull;
	for (; a < e; a += 8) {
		uint64_t w = (a - S->lo) / 8;
		S->covered[w / 64] |= 1ull << (w % 64);
	}
}

static void on_local(void *arg, const struct glocal *v)
{
	struct scan *S = arg;
	const struct frame *f = S->cur;
	uint64_t size = type_size(S->g, v->type);
	if (!v->type || !size || !v->npieces)
		return;
	uint64_t addr = 0;
	bool whole = false;
	const struct gpiece *p = v->pieces;
	if (v->npieces == 1 && p[0].kind == GPIECE_CFA && (p[0].size == 0 || p[0].size == size)) {
		addr = f->pub.cfa + (uint64_t)p[0].off;
		whole = true;
	} else if (p[0].kind == GPIECE_CFA) {
		/* Pieces that are all in memory, one after the other, make up the
		 * variable at the first one's address. */
		uint64_t at = f->pub.cfa + (uint64_t)p[0].off, sum = 0;
		whole = true;
		for (unsigned i = 0; i < v->npieces && whole; i++) {
			if (p[i].kind != GPIECE_CFA || !p[i].size ||
			    f->pub.cfa + (uint64_t)p[i].off != at + sum)
				whole = false;
			sum += p[i].size;
		}
		whole = whole && sum == size;
		addr = at;
	}
	if (!whole || addr < S->lo || addr > S->hi || size > S->hi - addr)
		return;
	S->st.precise_vars++;
	cover(S, addr, size);
	if (S->var_fn)
		S->var_fn(S->arg, &f->pub, v->name, v->type, addr);
}

/* Words of [S->lo, S->hi) not covered, to word_fn with their frame. */
static void scan_words(struct scan *S)
{
	size_t fi = 0;
	unsigned holes = 0;
	for (uint64_t base = S->lo; base < S->hi;) {
		uint64_t n = S->hi - base < CHUNK ? S->hi - base : CHUNK;
		if (S->total_words + n / 8 > MAX_WORDS_TOTAL)
			return;
		S->total_words += n / 8;
		if (target_read(S->t, base, S->buf, n)) {
			/* A hole: go page by page to keep what is there, but
			 * not through a stack that is mostly not in the image. */
			uint64_t pg = ((base >> 12) + 1) << 12;
			n = pg - base < n ? pg - base : n;
			if (target_read(S->t, base, S->buf, n)) {
				if (++holes > MAX_HOLES)
					return;
				base += n;
				continue;
			}
		}
		for (uint64_t k = 0; k + 8 <= n; k += 8) {
			uint64_t a = base + k, w = (a - S->lo) / 8;
			if (S->covered[w / 64] & (1ull << (w % 64)))
				continue;
			uint64_t v = le64(S->buf + k);
			if (!v)
				continue;
			while (fi + 1 < S->nframes && a >= S->frames[fi].pub.cfa)
				fi++;
			const struct frame *f = &S->frames[fi];
			/* The return address slot of an unwound frame is code. */
			if (f->precise && a == f->ra_at)
				continue;
			S->st.conservative_words++;
			if (S->word_fn)
				S->word_fn(S->arg, &f->pub, a, v);
		}
		base += n;
	}
}

static void scan_goroutine(struct scan *S, uint64_t goid, uint64_t stack_lo, uint64_t stack_hi,
			   bool have_start, struct arch_regs r, bool exact)
{
	bool ok;
	if (have_start && r.sp >= stack_lo && r.sp < stack_hi) {
		ok = unwind(S, goid, r, exact, stack_hi);
	} else {
		S->nframes = 0;
		struct frame *f = frame_push(S);
		if (!f)
			return;
		f->pub = (struct gframe){ goid, "?", NULL, 0, stack_lo, stack_hi, 0 };
		ok = false;
	}
	if (!S->nframes)
		return;
	S->st.goroutines++;
	if (!ok)
		S->st.unwind_failures++;
	S->lo = S->frames[0].pub.sp;
	S->hi = stack_hi;
	size_t words = (size_t)((S->hi - S->lo) / 8), need = (words + 63) / 64;
	if (need > S->capcovered) {
		free(S->covered);
		S->covered = malloc(need * sizeof(*S->covered));
		S->capcovered = S->covered ? need : 0;
		if (!S->covered)
			return;
	}
	memset(S->covered, 0, need * sizeof(*S->covered));
	for (size_t i = 0; i < S->nframes; i++) {
		const struct frame *f = &S->frames[i];
		if (!f->precise)
			continue;
		S->st.frames++;
		if (f->pub.fn) {
			S->cur = f;
			gtypes_locals_at(S->g, f->pub.fn, f->lpc, on_local, S);
		}
	}
	scan_words(S);
}

/* Record stack.hi; false if it was seen before (or memory ran out). */
static bool seen_add(struct scan *S, uint64_t hi)
{
	return wordset_add(&S->seen, hi) > 0;
}

static const struct gfunc *func_named(const struct gtypes *g, const char *name)
{
	size_t n;
	const struct gfunc *f = gtypes_funcs(g, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* Every goroutine that is not dead and has sane stack bounds, from
 * runtime.allgs: fn gets its record (L->g_size bytes) and bounds.
 * Unreadable records and impossible bounds are counted in *st. */
typedef void (*g_fn)(void *arg, uint64_t gp, const unsigned char *gbuf, uint32_t status,
		     uint64_t lo, uint64_t hi);

static int each_g(const struct target *t, const struct layout *L, uint64_t bias,
		  struct stacks_stats *st, g_fn fn, void *arg, struct ms_error *err)
{
	uint64_t arr = 0, len = 0, glen = 0, at = L->allgs + bias;
	if (target_read_u64(t, at, &arr) || target_read_u64(t, at + 8, &len))
		return ms_err(err, MS_ENOTGO, "cannot read runtime.allgs at %#llx; the core "
			      "may be truncated", (unsigned long long)at);
	/* allglen is what the runtime itself trusts; the slice may be longer
	 * for a moment while it grows. */
	if (L->allglen && !target_read_u64(t, L->allglen + bias, &glen) && glen < len)
		len = glen;
	if (len > MAX_GOROUTINES)
		len = MAX_GOROUTINES;
	unsigned char gbuf[MAX_G_SIZE];
	uint64_t ptrs[512];
	for (uint64_t i = 0; i < len; i += 512) {
		uint64_t n = len - i < 512 ? len - i : 512;
		if (target_read(t, arr + i * 8, ptrs, n * 8)) {
			st->unreadable += len - i;
			break;
		}
		for (uint64_t k = 0; k < n; k++) {
			uint64_t gp = ptrs[k];
			if (!gp)
				continue;
			if (target_read(t, gp, gbuf, L->g_size)) {
				st->unreadable++;
				continue;
			}
			uint32_t status = le32(gbuf + L->status) & ~(uint32_t)G_SCAN;
			if (status == G_DEAD || status == G_IDLE || status == G_DEADEXTRA)
				continue;
			uint64_t lo = le64(gbuf + L->stack_lo), hi = le64(gbuf + L->stack_hi);
			if (!lo || hi <= lo || hi - lo > MAX_STACK || (lo & 7) || (hi & 7)) {
				st->bad_stacks++;
				continue;
			}
			fn(arg, gp, gbuf, status, lo, hi);
		}
	}
	return 0;
}

struct scan_g {
	struct scan *S;
	const struct layout *L;
	struct gregs *regs;
	size_t nregs;
};

static void scan_one_g(void *arg, uint64_t gp, const unsigned char *gbuf, uint32_t status,
		       uint64_t lo, uint64_t hi)
{
	struct scan_g *sg = arg;
	struct scan *S = sg->S;
	const struct layout *L = sg->L;
	if (!seen_add(S, hi))
		return;
	uint64_t goid = le64(gbuf + L->goid);
	struct arch_regs r = { le64(gbuf + L->sched_pc), le64(gbuf + L->sched_sp),
			       le64(gbuf + L->sched_bp), 0, false };
	/* A link register in g.sched is the goroutine's return address
	 * when it has not run yet (its entry "returns" to goexit); a parked
	 * one saved it in its frame and has 0 there. */
	if (L->sched_lr && (r.lr = le64(gbuf + L->sched_lr)) != 0)
		r.has_lr = true;
	bool have = true, exact = false;
	if (status == G_SYSCALL) {
		r = (struct arch_regs){ le64(gbuf + L->sys_pc), le64(gbuf + L->sys_sp),
					L->has_sys_bp ? le64(gbuf + L->sys_bp) : 0, 0, false };
	} else if (status == G_RUNNING) {
		/* g.sched is stale unless the goroutine switched to the
		 * system stack (which saves it); the thread's registers
		 * are right if they point into this stack. */
		const struct gfunc *sf = gtypes_func_at(S->g, r.pc - S->bias);
		have = sf && sf == S->f_sysswitch;
		for (size_t k = 0; k < sg->nregs; k++) {
			const struct target_thread *th = sg->regs[k].th;
			if (sg->regs[k].g != gp)
				continue;
			if (th->sp >= lo && th->sp < hi) {
				r = (struct arch_regs){ th->pc, th->sp, th->fp, th->lr, th->has_lr };
				have = exact = true;
			} else if (signal_context(S, L, &sg->regs[k], lo, hi, &r)) {
				have = exact = true;
			}
			break;
		}
	}
	if (have && !exact) {
		/* A goroutine that has not run yet starts at its
		 * function's entry, which is not a return address. */
		const struct gfunc *sf = gtypes_func_at(S->g, r.pc - S->bias);
		exact = sf && sf->lowpc == r.pc - S->bias;
	}
	scan_goroutine(S, goid, lo, hi, have, r, exact);
}

int stacks_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
		stack_var_fn var_fn, stack_word_fn word_fn, void *arg, struct stacks_stats *st,
		struct ms_error *err)
{
	(void)rt;
	struct layout L;
	if (st)
		memset(st, 0, sizeof(*st));
	if (layout_init(&L, g, err))
		return -1;
	struct scan *S = calloc(1, sizeof(*S));
	if (!S)
		return ms_err(err, MS_EINTERNAL, "out of memory scanning goroutine stacks");
	S->t = t;
	S->arch = target_arch(t);
	S->g = g;
	S->bias = target_exe_bias(t);
	S->var_fn = var_fn;
	S->word_fn = word_fn;
	S->arg = arg;
	S->f_goexit = func_named(g, "runtime.goexit");
	S->f_async = func_named(g, "runtime.asyncPreempt");
	S->f_sigpanic = func_named(g, "runtime.sigpanic");
	S->f_sysswitch = func_named(g, "runtime.systemstack_switch");
	S->f_mstart = func_named(g, "runtime.mstart");
	S->f_rt0 = func_named(g, "runtime.rt0_go");

	struct scan_g sg = { S, &L, NULL, 0 };
	sg.nregs = collect_regs(t, &L, S->bias, &sg.regs);
	int rc = each_g(t, &L, S->bias, &S->st, scan_one_g, &sg, err);
	if (st)
		*st = S->st;
	free(sg.regs);
	free(S->frames);
	free(S->covered);
	wordset_free(&S->seen);
	free(S);
	return rc;
}

struct list_g {
	const struct layout *L;
	struct gstack *v;
	size_t n, cap;
	bool oom;
};

static void list_one_g(void *arg, uint64_t gp, const unsigned char *gbuf, uint32_t status,
		       uint64_t lo, uint64_t hi)
{
	struct list_g *lg = arg;
	(void)status;
	if (lg->oom || grow_array((void **)&lg->v, &lg->cap, lg->n + 1, sizeof(*lg->v), 256)) {
		lg->oom = true;
		return;
	}
	lg->v[lg->n++] = (struct gstack){ lo, hi, le64(gbuf + lg->L->goid), gp };
}

static int by_lo(const void *a, const void *b)
{
	const struct gstack *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int stacks_list(const struct target *t, const struct gtypes *g, struct gstack **out, size_t *n,
		struct ms_error *err)
{
	struct layout L;
	struct stacks_stats st;
	*out = NULL;
	*n = 0;
	memset(&st, 0, sizeof(st));
	if (layout_init(&L, g, err))
		return -1;
	struct list_g lg = { &L, NULL, 0, 0, false };
	if (each_g(t, &L, target_exe_bias(t), &st, list_one_g, &lg, err) < 0 || lg.oom) {
		free(lg.v);
		return lg.oom ? ms_err(err, MS_EINTERNAL, "out of memory listing goroutine stacks") : -1;
	}
	if (lg.n)
		qsort(lg.v, lg.n, sizeof(*lg.v), by_lo);
	/* Stacks of a damaged allgs may overlap or repeat: keep the first of
	 * each overlapping run, so lookups see disjoint ranges. */
	size_t k = 0;
	for (size_t i = 0; i < lg.n; i++)
		if (!k || lg.v[i].lo >= lg.v[k - 1].hi)
			lg.v[k++] = lg.v[i];
	*out = lg.v;
	*n = k;
	return 0;
}
