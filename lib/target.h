/* A target is the memory image mapscan analyses: a core file (plus the
 * executable that produced it) today, a live process later.
 *
 * Memory comes from the core's PT_LOAD segments; address ranges the kernel
 * did not dump (read-only file-backed text and rodata) are served from the
 * executable's own PT_LOAD segments.  The core is mmap'd read-only; nothing
 * is copied up front.  A read of memory that is in neither is a normal,
 * reported failure (cores have holes), never a crash. */
#ifndef MAPSCAN_TARGET_H
#define MAPSCAN_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct target;

/* One thread's registers, from NT_PRSTATUS (x86-64 user_regs_struct order
 * is kept in regs[]; rsp and rip copied out for convenience). */
struct target_thread {
	int32_t tid;
	uint64_t rsp, rip;
};

/* Open core_path.  exe_path may be NULL: the executable is then the one the
 * core's NT_FILE note names as mapped at the lowest address with file
 * offset 0 (the main program), falling back to NT_PRPSINFO's fname only for
 * the error message.  The executable is checked against the core (its first
 * page, entry point and PT_LOAD layout must agree with what the core holds);
 * a mismatch is MS_EMISMATCH.  On error returns NULL and fills err. */
struct target *target_open_core(const char *core_path, const char *exe_path,
				struct ms_error *err);

void target_close(struct target *t); /* NULL is fine */

/* Copy n bytes at addr into buf.  Returns 0, or -1 if any byte of the range
 * is not in the image (no partial copies). */
int target_read(const struct target *t, uint64_t addr, void *buf, size_t n);

/* Zero-copy view of n bytes at addr when the whole range is in one segment;
 * NULL otherwise.  Valid until target_close. */
const void *target_view(const struct target *t, uint64_t addr, size_t n);

/* Convenience: little-endian 8-byte read; returns -1 when unreadable. */
int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out);

/* Path of the executable in use (the override or the one found in the
 * core).  Owned by the target. */
const char *target_exe_path(const struct target *t);

/* Path the core was opened from.  Owned by the target. */
const char *target_source_path(const struct target *t);

/* Load bias of the executable (0 for Go's default non-PIE builds). */
uint64_t target_exe_bias(const struct target *t);

/* Threads from NT_PRSTATUS notes; count in *n.  Owned by the target. */
const struct target_thread *target_threads(const struct target *t, size_t *n);

#endif
