/* Unit tests for the architecture facts (lib/arch*.c): the kernel layouts
 * they name, checked against the host's own headers for the host's
 * architecture, and one unwind step on each architecture over a small
 * synthetic stack (a frame with its own stack, a leaf that keeps its
 * return address in LR, a call a signal handler injected, the
 * frame-pointer fallback).  It needs lib/arch*.c and libc only, so that
 * `make cross-arm64` can build it for arm64 and run it under qemu-user:
 * there the host is arm64 and its headers check arm64's facts.
 * (test_stacks.c has Go's arm64 .debug_frame.) */
#include <elf.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/procfs.h>
#include <ucontext.h>

#include "arch.h"
#include "unit.h"

/* A synthetic stack: words at [BASE, BASE + 8 * NW). */
#define BASE 0x4000100000ull
#define NW 64

struct mem {
	uint64_t w[NW];
};

static int rd(const void *ctx, uint64_t addr, uint64_t *out)
{
	const struct mem *m = ctx;
	if (addr < BASE || (addr & 7) || (addr - BASE) / 8 >= NW)
		return -1;
	*out = m->w[(addr - BASE) / 8];
	return 0;
}

static void put(struct mem *m, uint64_t addr, uint64_t v)
{
	m->w[(addr - BASE) / 8] = v;
}

static void test_lookup(void)
{
	CHECK(arch_by_machine(EM_X86_64) == &arch_amd64);
	CHECK(arch_by_machine(183) == &arch_arm64);
	CHECK(arch_by_machine(EM_PPC64) == NULL);
	CHECK(arch_by_machine(EM_386) == NULL);
	CHECK_STR(arch_machine_name(183), "arm64");
	CHECK_STR(arch_machine_name(EM_S390), "s390x");
	CHECK_STR(arch_amd64.name, "amd64");
	CHECK_STR(arch_arm64.name, "arm64");
	CHECK_EQ_U64(arch_arm64.dwarf_sp, 31);
	CHECK_EQ_U64(arch_amd64.dwarf_sp, 7);
}

/* The host's own struct elf_prstatus and ucontext_t say where the kernel
 * puts what mapscan reads, for the host's architecture. */
static void test_host_layouts(void)
{
#if defined(__x86_64__)
	const struct arch *a = &arch_amd64;
	struct elf_prstatus st;
	CHECK_EQ_U64(offsetof(struct elf_prstatus, pr_pid), a->prstatus_pid_off);
	CHECK_EQ_U64(offsetof(struct elf_prstatus, pr_reg), a->prstatus_reg_off);
	CHECK_EQ_U64(a->prstatus_reg_off + sizeof(st.pr_reg), a->prstatus_min_size);
	CHECK_EQ_U64(a->reg_pc, 16);   /* user_regs_struct.rip */
	ucontext_t uc;
	uint64_t ss = offsetof(ucontext_t, uc_stack.ss_sp);
	CHECK_EQ_U64(offsetof(ucontext_t, uc_stack.ss_size) - ss, a->uc_ss_size);
	CHECK_EQ_U64(offsetof(ucontext_t, uc_mcontext) - ss, a->uc_mcontext);
	CHECK_EQ_U64(REG_RIP * 8, a->sc_pc);
	CHECK_EQ_U64(REG_RSP * 8, a->sc_sp);
	CHECK_EQ_U64(REG_RBP * 8, a->sc_fp);
	CHECK(a->sc_size <= sizeof(uc.uc_mcontext.gregs));
#elif defined(__aarch64__)
	const struct arch *a = &arch_arm64;
	struct elf_prstatus st;
	CHECK_EQ_U64(offsetof(struct elf_prstatus, pr_pid), a->prstatus_pid_off);
	CHECK_EQ_U64(offsetof(struct elf_prstatus, pr_reg), a->prstatus_reg_off);
	CHECK_EQ_U64(a->prstatus_reg_off + sizeof(st.pr_reg), a->prstatus_min_size);
	uint64_t ss = offsetof(ucontext_t, uc_stack.ss_sp);
	CHECK_EQ_U64(offsetof(ucontext_t, uc_stack.ss_size) - ss, a->uc_ss_size);
	CHECK_EQ_U64(offsetof(ucontext_t, uc_mcontext) - ss, a->uc_mcontext);
	CHECK_EQ_U64(offsetof(mcontext_t, pc), a->sc_pc);
	CHECK_EQ_U64(offsetof(mcontext_t, sp), a->sc_sp);
	CHECK_EQ_U64(offsetof(mcontext_t, regs) + 29 * 8, a->sc_fp);
	CHECK_EQ_U64(offsetof(mcontext_t, regs) + 30 * 8, a->sc_lr);
#else
	UNIT_SKIP("host layouts: mapscan has no architecture facts for this host");
#endif
	/* The other architecture's, from its kernel headers (not on this
	 * host): pr_reg is user_pt_regs {x0..x30, sp, pc, pstate}; the
	 * sigcontext starts at 176 in the ucontext. */
	CHECK_EQ_U64(arch_arm64.prstatus_min_size, 112 + 34 * 8);
	CHECK_EQ_U64(arch_arm64.reg_sp, 31);
	CHECK_EQ_U64(arch_arm64.reg_pc, 32);
	CHECK_EQ_U64(arch_arm64.reg_fp, 29);
	CHECK_EQ_U64(arch_arm64.reg_lr, 30);
	CHECK_EQ_U64(arch_arm64.uc_mcontext + 16, 176);
	CHECK_EQ_U64(arch_amd64.prstatus_min_size, 112 + 27 * 8);
	CHECK_EQ_U64(arch_amd64.reg_lr, ARCH_NO_REG);
}

static void test_amd64_unwind(void)
{
	const struct arch *a = &arch_amd64;
	struct mem m = { { 0 } };
	/* A frame [BASE+0x40, BASE+0x80): its return address at CFA-8, the
	 * caller's RBP saved at CFA-16, RBP pointing there. */
	uint64_t sp = BASE + 0x40, cfa = BASE + 0x80;
	put(&m, cfa - 8, 0x401234);
	put(&m, cfa - 16, BASE + 0xf0);
	struct arch_regs r = { 0x401000, sp, cfa - 16, 0, false }, up;
	uint64_t ra_at = 0;
	CHECK_EQ_U64(a->caller(&r, cfa, false, rd, &m, &up, &ra_at), 0);
	CHECK_EQ_U64(up.pc, 0x401234);
	CHECK_EQ_U64(up.sp, cfa);
	CHECK_EQ_U64(up.fp, BASE + 0xf0);
	CHECK_EQ_U64(ra_at, cfa - 8);
	CHECK(!up.has_lr);
	/* A frameless leaf: RBP is still the caller's. */
	r.fp = BASE + 0x1f0;
	CHECK_EQ_U64(a->caller(&r, cfa, false, rd, &m, &up, &ra_at), 0);
	CHECK_EQ_U64(up.fp, BASE + 0x1f0);
	/* No CFA rule: the frame pointer gives it. */
	r.fp = cfa - 16;
	CHECK_EQ_U64(a->fp_cfa(&r, BASE + 8 * NW, rd, &m), cfa);
	r.fp = sp - 8;            /* below the frame: no */
	CHECK_EQ_U64(a->fp_cfa(&r, BASE + 8 * NW, rd, &m), 0);
	/* An unreadable return address is the end. */
	CHECK(a->caller(&r, BASE + 8 * NW + 64, false, rd, &m, &up, &ra_at) < 0);
}

static void test_arm64_unwind(void)
{
	const struct arch *a = &arch_arm64;
	struct mem m = { { 0 } };
	/* A frame of 0x40 bytes at sp: LR saved at sp, the caller's x29 at
	 * sp-8, x29 = sp-8. */
	uint64_t sp = BASE + 0x40, cfa = sp + 0x40;
	put(&m, sp, 0x12344);
	put(&m, sp - 8, cfa - 8 + 0x20);
	struct arch_regs r = { 0x11000, sp, sp - 8, 0x99990, true }, up;
	uint64_t ra_at = 1;
	CHECK_EQ_U64(a->caller(&r, cfa, false, rd, &m, &up, &ra_at), 0);
	CHECK_EQ_U64(up.pc, 0x12344);          /* from the stack, not from LR */
	CHECK_EQ_U64(up.sp, cfa);
	CHECK_EQ_U64(up.fp, cfa - 8 + 0x20);
	CHECK_EQ_U64(ra_at, sp);
	CHECK(!up.has_lr);
	/* A leaf (no frame of its own): the return address is in LR, and x29
	 * is the caller's. */
	struct arch_regs leaf = { 0x11500, sp, BASE + 0x100, 0x12388, true };
	CHECK_EQ_U64(a->caller(&leaf, sp, false, rd, &m, &up, &ra_at), 0);
	CHECK_EQ_U64(up.pc, 0x12388);
	CHECK_EQ_U64(up.sp, sp);
	CHECK_EQ_U64(up.fp, BASE + 0x100);
	CHECK_EQ_U64(ra_at, 0);
	/* ... but an outer frame cannot have one. */
	leaf.has_lr = false;
	CHECK(a->caller(&leaf, sp, false, rd, &m, &up, &ra_at) < 0);
	/* An injected call (asyncPreempt): the handler moved SP 16 down and
	 * saved the interrupted LR there; the interrupted frame is above. */
	struct mem q = { { 0 } };
	uint64_t isp = BASE + 0x100, psp = isp - 16 - 0x40;
	put(&q, psp, 0x13000);                  /* asyncPreempt's LR: the resume pc */
	put(&q, isp - 16, 0x14444);             /* the interrupted LR */
	struct arch_regs ap = { 0x7f000, psp, psp - 8, 0, false };
	CHECK_EQ_U64(a->caller(&ap, isp - 16, true, rd, &q, &up, &ra_at), 0);
	CHECK_EQ_U64(up.pc, 0x13000);
	CHECK_EQ_U64(up.sp, isp);
	CHECK(up.has_lr);
	CHECK_EQ_U64(up.lr, 0x14444);
	/* The frame-pointer fallback: CFA = the caller's saved x29 + 8. */
	CHECK_EQ_U64(a->fp_cfa(&r, BASE + 8 * NW, rd, &m), cfa + 0x20);
	r.fp = sp;                /* not set up by this frame: no */
	CHECK_EQ_U64(a->fp_cfa(&r, BASE + 8 * NW, rd, &m), 0);
	r.fp = sp - 8;
	CHECK_EQ_U64(a->fp_cfa(&r, cfa, rd, &m), 0);   /* beyond the stack */
}

int main(void)
{
	test_lookup();
	test_host_layouts();
	test_amd64_unwind();
	test_arm64_unwind();
	return unit_done();
}
