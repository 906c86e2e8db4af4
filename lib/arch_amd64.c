/* linux/amd64 (arch.h): the System V x86-64 psABI, the kernel's
 * struct elf_prstatus and rt_sigframe, and Go's frames on it.
 *
 * A CALL pushes the return address, so a frame's CFA is just above it:
 * the return address is always at CFA - 8.  Go's prologue then pushes the
 * caller's frame pointer (RBP) at CFA - 16 and points RBP there. */
#include <elf.h>

#include "arch.h"

/* struct user_regs_struct, which is pr_reg: r15 r14 r13 r12 rbp rbx r11
 * r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base
 * gs_base ds es fs gs. */
enum { REG_RBP = 4, REG_RIP = 16, REG_RSP = 19, NREGS = 27 };

static uint64_t amd64_fp_cfa(const struct arch_regs *r, uint64_t hi, arch_read_fn rd,
			     const void *ctx)
{
	(void)rd;
	(void)ctx;
	if (r->fp > r->sp && r->fp < hi && hi - r->fp >= 16 && !(r->fp & 7))
		return r->fp + 16;
	return 0;
}

static int amd64_caller(const struct arch_regs *r, uint64_t cfa, bool injected, arch_read_fn rd,
			const void *ctx, struct arch_regs *up, uint64_t *ra_at)
{
	/* A signal handler fakes a call by pushing the interrupted pc the way
	 * CALL would: the frame above is an ordinary one. */
	(void)injected;
	uint64_t ret;
	if (cfa < 16 || rd(ctx, cfa - 8, &ret))
		return -1;
	*up = (struct arch_regs){ ret, cfa, r->fp, 0, false };
	/* The caller's frame pointer was saved at CFA-16 if this frame set up
	 * its own; otherwise (prologue, frameless leaf) RBP is still the
	 * caller's. */
	if (r->fp == cfa - 16 && rd(ctx, cfa - 16, &up->fp))
		up->fp = 0;
	*ra_at = cfa - 8;
	return 0;
}

const struct arch arch_amd64 = {
	.name = "amd64",
	.elf_machine = EM_X86_64,
	.dwarf_sp = 7,            /* rsp */
	.call_pushes = 8,
	/* 48-bit addresses, sign-extended: the arena index starts at the
	 * lowest, 0xffff800000000000 (runtime/malloc.go). */
	.arena_base_offset = 0xffff800000000000ull,
	.prstatus_pid_off = 32,
	.prstatus_reg_off = 112,
	.prstatus_min_size = 112 + NREGS * 8,
	.reg_pc = REG_RIP,
	.reg_sp = REG_RSP,
	.reg_fp = REG_RBP,
	.reg_lr = ARCH_NO_REG,
	/* struct ucontext: uc_flags, uc_link, uc_stack {ss_sp, ss_flags,
	 * ss_size}, then uc_mcontext (struct sigcontext: r8..r15, rdi, rsi,
	 * rbp, rbx, rdx, rax, rcx, rsp, rip). */
	.uc_ss_size = 16,
	.uc_mcontext = 24,
	.sc_pc = 16 * 8,
	.sc_sp = 15 * 8,
	.sc_fp = 10 * 8,
	.sc_lr = ARCH_NO_REG,
	.sc_size = 17 * 8,
	.fp_cfa = amd64_fp_cfa,
	.caller = amd64_caller,
};
