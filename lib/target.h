/* A target is the memory image mapscan analyses: a core file (plus the
 * executable that produced it), or a live process (target_open_pid).
 *
 * Memory comes from the core's PT_LOAD segments; address ranges the kernel
 * did not dump (read-only file-backed text and rodata) are served from the
 * executable's own PT_LOAD segments.  The core is mmap'd read-only; nothing
 * is copied up front.  A read of memory that is in neither is a normal,
 * reported failure (cores have holes), never a crash. */
#ifndef MAPSCAN_TARGET_H
#define MAPSCAN_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch.h"
#include "elffile.h"
#include "error.h"

struct target;

/* One thread's registers, from NT_PRSTATUS (or PTRACE_GETREGS for a
 * stopped live process): the ones an unwind starts from. */
struct target_thread {
	int32_t tid;
	uint64_t pc, sp, fp;
	uint64_t lr;              /* the link register, if the architecture has one */
	bool has_lr;
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

/* Is every byte of [addr, addr+n) in the image (true for n = 0)?  For a
 * core this looks at the segment table only and touches no memory; for a
 * live process it reads a byte per page.  Used to refuse arrays whose
 * length came from damaged memory before walking them. */
bool target_has(const struct target *t, uint64_t addr, uint64_t n);

/* The mapping that holds addr, as [*lo, *hi): one of the executable's
 * loaded segments (*exe true), else a segment of the core (dumped or not),
 * else, for a live process, a mapping /proc/PID/maps lists.  False when no
 * mapping holds addr.  Touches no memory.  Used to bound what a typed
 * pointer into memory outside the Go heap and stacks may cover. */
bool target_region(const struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi, bool *exe);

/* How many bytes of [addr, addr+n) the core itself holds (its PT_LOAD
 * data; what only the executable's file serves does not count).  Memory
 * the process had but the core lacks (coredump_filter, segments written
 * empty) is what is missing.  n for a live process. */
uint64_t target_dumped(const struct target *t, uint64_t addr, uint64_t n);

/* How many bytes of [addr, addr+n) the process had as accessible memory
 * (a core segment that may be read or written) but the core did not
 * dump.  0 for a live process. */
uint64_t target_missing(const struct target *t, uint64_t addr, uint64_t n);

/* A core cut short (a size limit or a full disk stopped its writer):
 * the bytes its program headers call for, with *present set to what the
 * file holds; 0 when the core is whole (or for a process).  The segments
 * past the cut read as not dumped. */
uint64_t target_core_cut(const struct target *t, uint64_t *present);

/* May several threads read t at once?  A core, yes; a live process is read
 * through one cache, which is not safe for threads. */
bool target_threads_may_read(const struct target *t);

/* Bytes of the executable's writable segments (its data and bss: the
 * package-level variables) that the core lacks, out of *total.  0 for a
 * live process. */
uint64_t target_exe_data_missing(const struct target *t, uint64_t *total);

/* Little-endian integers in a buffer copied from the target: le_u takes
 * the first n (at most 8) bytes. */
static inline uint64_t le_u(const void *p, size_t n)
{
	uint64_t v = 0;
	if (n > 8)
		n = 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p, n);         /* one load on the hot paths (walkers) */
#else
	for (const unsigned char *b = p; n-- > 0;)
		v = v << 8 | b[n];
#endif
	return v;
}

static inline uint64_t le64(const void *p)
{
	return le_u(p, 8);
}

static inline uint32_t le32(const void *p)
{
	return (uint32_t)le_u(p, 4);
}

/* Convenience: little-endian 8-byte read; returns -1 when unreadable. */
int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out);

/* How often reads of a core dropped part of its mapping again (madvise
 * calls), and read the process's resident set to decide: for tests.  0
 * for a live process or a core in memory. */
void target_trim_counts(const struct target *t, uint64_t *trims, uint64_t *checks);

/* Path of the executable in use (the override or the one found in the
 * core).  Owned by the target. */
const char *target_exe_path(const struct target *t);

/* The executable's file: its sections, symbols and build IDs.  Owned by
 * the target. */
struct elffile;
const struct elffile *target_exe_file(const struct target *t);

/* The image's build IDs, read from its own memory (the notes in the ELF
 * header page a core holds, or the live process's mapping); NULL when the
 * image does not hold them. */
struct build_ids;
const struct build_ids *target_build_ids(const struct target *t);

/* The file --exe named when it is not the image's build: a debug file
 * without code, or another link of the program.  Memory then comes from
 * the executable the core (or process) names; this file is left for the
 * types (lib/debugfile.c decides whether it describes the image).  NULL
 * otherwise.  Owned by the target. */
const char *target_exe_candidate(const struct target *t);

/* The executable serving memory is another build than the image's (--exe
 * gave a rebuild and the core's own executable is not there): its code
 * and data must be shown to have the image's layout before its types are
 * used. */
bool target_exe_other_build(const struct target *t);

/* How the core file was compressed: "zstd", "gzip", "xz", "lz4", or NULL
 * for a plain core (or a process).  A compressed core, or one read from a
 * pipe (core_path "-", /dev/stdin), is decompressed into memory first,
 * then into an unlinked file in $TMPDIR past MAPSCAN_CORE_MEMORY (see
 * mapscan(1), ENVIRONMENT); it reads like any other core. */
const char *target_core_compression(const struct target *t);

/* "zstd 1.5.4, zlib 1.2.13, liblzma 5.4.1, lz4 1.9.4": the decompressors
 * linked in, for --version. */
void target_codec_versions(char *buf, size_t n);

/* Path the core was opened from.  Owned by the target. */
const char *target_source_path(const struct target *t);

/* Load bias of the executable (0 for Go's default non-PIE builds). */
uint64_t target_exe_bias(const struct target *t);

/* The image's architecture: the core's ELF machine (the executable's must
 * be the same), or the host's for a live process.  Never NULL once open. */
const struct arch *target_arch(const struct target *t);

/* Threads from NT_PRSTATUS notes; count in *n.  Owned by the target. */
const struct target_thread *target_threads(const struct target *t, size_t *n);

/* ---- live processes ----------------------------------------------------
 *
 * The same reads from a running process: its memory comes from
 * process_vm_readv (or /proc/PID/mem) through a cache of 64 KiB chunks,
 * limited to the ranges /proc/PID/maps marks readable; its executable is
 * /proc/PID/exe, which works even when the file was deleted or replaced
 * since the process started.  Nothing is ever written to the process.
 *
 * target_view always returns NULL for a live target (readers fall back to
 * target_read), and target_threads is empty until target_stop. */

struct target_pid_opts {
	bool no_stop;            /* never stop the process (--no-stop) */
	uint64_t max_pause_ns;   /* resume the process after this long stopped; 0: no limit */
};

/* Open process pid.  exe_override (may be NULL) names a copy of its
 * executable, checked against the process's read-only memory.  Nothing is
 * stopped yet.  Errors: MS_EPROCESS (no such process, zombie, kernel
 * thread, exited), MS_EPERM (not allowed; the message says how to fix
 * it), MS_EMISMATCH, and those of reading the executable. */
struct target *target_open_pid(int pid, const char *exe_override,
			       const struct target_pid_opts *o, struct ms_error *err);

/* Process id of a live target; 0 for a core. */
int target_pid(const struct target *t);

/* The executable as /proc/PID/exe names it ("/srv/app (deleted)"), or the
 * override; for a core, target_exe_path.  Owned by the target. */
const char *target_exe_name(const struct target *t);

/* Stop every thread of a live target and start reading it afresh; it
 * stays stopped until target_resume or target_close.  Does nothing for a
 * core or with no_stop.  Errors: MS_EPERM, MS_EPROCESS. */
int target_stop(struct target *t, struct ms_error *err);

/* Resume a stopped live target (nothing otherwise). */
void target_resume(struct target *t);

/* Drop cached memory of a live target, so that later reads see the
 * process as it is now (a second pass over a running process). */
void target_forget(struct target *t);

struct target_live_state {
	bool stopped;            /* target_stop succeeded (and still holds it, unless resumed) */
	bool cut_short;          /* resumed by the watchdog or SIGTSTP before target_resume */
	bool gone;               /* a read found the process gone */
	bool denied;             /* a read was refused (permission) */
	uint64_t paused_ns;      /* how long it was stopped (after target_resume) */
	size_t threads;          /* threads stopped */
};

/* State of a live target (all zero for a core). */
void target_live_state(const struct target *t, struct target_live_state *s);

#endif
