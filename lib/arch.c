/* Choosing an architecture (arch.h).  The facts are in arch_amd64.c and
 * arch_arm64.c. */
#include <elf.h>
#include <stddef.h>

#include "arch.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif
#ifndef EM_RISCV
#define EM_RISCV 243
#endif

const struct arch *arch_by_machine(unsigned m)
{
	if (m == arch_amd64.elf_machine)
		return &arch_amd64;
	if (m == arch_arm64.elf_machine)
		return &arch_arm64;
	return NULL;
}

const char *arch_machine_name(unsigned m)
{
	switch (m) {
	case EM_X86_64:  return "x86-64";
	case EM_AARCH64: return "arm64";
	case EM_386:     return "i386";
	case EM_ARM:     return "32-bit arm";
	case EM_PPC64:   return "ppc64";
	case EM_S390:    return "s390x";
	case EM_RISCV:   return "riscv";
	case EM_MIPS:    return "mips";
	}
	return "unknown";
}
