/* linux/arm64 (arch.h): the AArch64 psABI, the kernel's struct
 * elf_prstatus and rt_sigframe, and Go's frames on it.
 *
 * A call (BL) leaves the return address in the link register x30; the
 * CFA is the caller's SP.  Go's prologue, once it allocates a frame, saves
 * LR at the new SP (the frame's lowest word) and the caller's frame
 * pointer x29 just below it, at SP - 8, and points x29 there.  A frame
 * that allocates nothing (a leaf, or a function still in its prologue)
 * keeps its return address in LR: Go's .debug_frame says the same
 * (DW_CFA_offset_extended_sf of x30 at CFA - frame size while the frame
 * exists, DW_CFA_same_value x30 while it does not; cmd/link's
 * writeframes), and so does the runtime's own traceback. */
#include <elf.h>

#include "arch.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

/* struct user_pt_regs, which is pr_reg: x0..x30, sp, pc, pstate. */
enum { REG_FP = 29, REG_LR = 30, REG_SP = 31, REG_PC = 32, NREGS = 34 };

/* What a signal handler's faked call (runtime's pushCall and
 * preparePanic) moves SP down by, keeping it 16-byte aligned, to save the
 * interrupted LR at the new SP. */
#define INJECTED_FRAME 16

static uint64_t arm64_fp_cfa(const struct arch_regs *r, uint64_t hi, arch_read_fn rd,
			     const void *ctx)
{
	/* With the frame set up, FP = SP - 8 holds the caller's FP, which is
	 * the caller's SP - 8: the caller's SP, this frame's CFA, is 8 above
	 * it. */
	uint64_t cfp;
	if (r->sp < 8 || r->fp != r->sp - 8 || rd(ctx, r->fp, &cfp) || cfp > UINT64_MAX - 8)
		return 0;
	uint64_t cfa = cfp + 8;
	if (cfa <= r->sp || cfa > hi || (cfa & 7))
		return 0;
	return cfa;
}

static int arm64_caller(const struct arch_regs *r, uint64_t cfa, bool injected, arch_read_fn rd,
			const void *ctx, struct arch_regs *up, uint64_t *ra_at)
{
	uint64_t ret;
	bool framed = cfa > r->sp;
	if (framed) {
		if (rd(ctx, r->sp, &ret))
			return -1;
		*ra_at = r->sp;
	} else if (r->has_lr) {
		ret = r->lr;
		*ra_at = 0;
	} else {
		return -1;    /* an outer frame cannot have kept it in a register */
	}
	*up = (struct arch_regs){ ret, cfa, r->fp, 0, false };
	if (framed && r->sp >= 8 && r->fp == r->sp - 8 && rd(ctx, r->fp, &up->fp))
		up->fp = 0;
	if (injected) {
		/* The interrupted code did not call: below its SP the handler
		 * saved its LR, which is its return address if it had not
		 * saved it itself. */
		if (up->sp > UINT64_MAX - INJECTED_FRAME || rd(ctx, up->sp, &up->lr))
			return -1;
		up->sp += INJECTED_FRAME;
		up->has_lr = true;
	}
	return 0;
}

const struct arch arch_arm64 = {
	.name = "arm64",
	.elf_machine = EM_AARCH64,
	.dwarf_sp = 31,           /* sp; x29 is 29, x30 (LR) 30 */
	.call_pushes = 0,         /* BL leaves it in LR */
	.arena_base_offset = 0,   /* 48-bit user addresses from 0 on linux/arm64 */
	.prstatus_pid_off = 32,
	.prstatus_reg_off = 112,
	.prstatus_min_size = 112 + NREGS * 8,
	.reg_pc = REG_PC,
	.reg_sp = REG_SP,
	.reg_fp = REG_FP,
	.reg_lr = REG_LR,
	/* struct ucontext: uc_flags, uc_link, uc_stack {ss_sp, ss_flags,
	 * ss_size}, uc_sigmask padded to 1024 bits, then uc_mcontext aligned
	 * to 16 (struct sigcontext: fault_address, regs[31], sp, pc, pstate). */
	.uc_ss_size = 16,
	.uc_mcontext = 176 - 16,
	.sc_pc = 8 + 32 * 8,
	.sc_sp = 8 + 31 * 8,
	.sc_fp = 8 + REG_FP * 8,
	.sc_lr = 8 + REG_LR * 8,
	.sc_size = 8 + 33 * 8,
	.fp_cfa = arm64_fp_cfa,
	.caller = arm64_caller,
};
