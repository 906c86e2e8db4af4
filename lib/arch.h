/* The CPU architectures whose cores mapscan reads, and what differs between
 * them: the ELF machine, the registers a core's NT_PRSTATUS notes hold, the
 * Linux signal frame, DWARF register numbers and how Go's frames keep their
 * return address.  Each architecture's facts are in its own file
 * (arch_amd64.c, arch_arm64.c); nothing else in mapscan names a register or
 * an instruction set.  Go's map, heap and type layouts are the same on
 * every 64-bit little-endian Linux port (or come from DWARF), so the layers
 * above the target and the stacks need no more than this.
 *
 * The target layer picks the architecture from the core's e_machine
 * (target_arch); the DWARF loader from the executable's. */
#ifndef MAPSCAN_ARCH_H
#define MAPSCAN_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#define ARCH_NO_REG 0xffffu

/* A frame's registers, as far as the unwinder needs them. */
struct arch_regs {
	uint64_t pc, sp, fp;
	uint64_t lr;              /* the link register, when has_lr */
	bool has_lr;              /* lr is this frame's own: the innermost frame of a
				   * thread or signal context, or a frame a signal
				   * interrupted (arm64: a leaf or a prologue keeps its
				   * return address there) */
};

/* Read the 8-byte little-endian word at addr: 0, or -1 when unreadable. */
typedef int (*arch_read_fn)(const void *ctx, uint64_t addr, uint64_t *out);

struct arch {
	const char *name;         /* GOARCH: "amd64", "arm64" */
	uint16_t elf_machine;     /* e_machine of its cores and executables */
	unsigned dwarf_sp;        /* DWARF register number of the stack pointer, which
				   * Go's .debug_frame bases every CFA on */
	unsigned call_pushes;     /* bytes a call pushes (the return address): the CFA
				   * is this far above the frame's pcsp-table top */
	uint64_t arena_base_offset; /* the runtime's arenaBaseOffset: arena index i of
				   * mheap_.arenas covers (i << 26) - this */

	/* NT_PRSTATUS (struct elf_prstatus): where pr_pid and pr_reg are, the
	 * note's size up to the end of pr_reg, and each register's index in
	 * pr_reg (64-bit words); reg_lr is ARCH_NO_REG without one. */
	uint32_t prstatus_pid_off, prstatus_reg_off, prstatus_min_size;
	uint16_t reg_pc, reg_sp, reg_fp, reg_lr;

	/* The ucontext the kernel pushes on the signal stack, from its
	 * uc_stack.ss_sp member: where uc_stack.ss_size and uc_mcontext are,
	 * and in uc_mcontext the interrupted registers (sc_lr ARCH_NO_REG
	 * without one) and the bytes up to the last of them. */
	uint32_t uc_ss_size, uc_mcontext;
	uint32_t sc_pc, sc_sp, sc_fp, sc_lr, sc_size;

	/* The CFA of frame r found from its frame pointer alone, for code
	 * .debug_frame does not describe; 0 when the frame pointer cannot say
	 * (it must lie in [r->sp, hi), the frame's goroutine stack). */
	uint64_t (*fp_cfa)(const struct arch_regs *r, uint64_t hi, arch_read_fn rd, const void *ctx);

	/* One frame up: r is a frame whose CFA is cfa (> r->sp, or == r->sp
	 * for a frame without its own stack).  injected: r is a call a signal
	 * handler made the interrupted code look as if it had made
	 * (runtime.asyncPreempt, runtime.sigpanic).  Fills *up with the
	 * caller's registers: pc is r's return address (the interrupted pc
	 * after an injected call), sp the caller's stack pointer.  *ra_at is
	 * the stack word the return address was read from, 0 if it came from
	 * a register.  Returns 0, or -1 when the return address is nowhere. */
	int (*caller)(const struct arch_regs *r, uint64_t cfa, bool injected, arch_read_fn rd,
		      const void *ctx, struct arch_regs *up, uint64_t *ra_at);
};

extern const struct arch arch_amd64, arch_arm64;

/* The architecture of ELF machine m, or NULL when mapscan does not read it. */
const struct arch *arch_by_machine(unsigned m);

/* A short name of ELF machine m for messages: "arm64", "ppc64", "unknown". */
const char *arch_machine_name(unsigned m);

/* The architectures mapscan reads, for messages: "x86-64 or arm64". */
#define ARCH_SUPPORTED "64-bit little-endian x86-64 or arm64"

#endif
