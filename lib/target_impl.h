/* Internals shared by the target backends (see target.h): the core file
 * (target_core.c), matching the executable against the image
 * (target_exe.c) and live processes (target_live.c), around the one read
 * interface in target.c.  Not for use outside lib/target*.c. */
#ifndef MAPSCAN_TARGET_IMPL_H
#define MAPSCAN_TARGET_IMPL_H

#include <elf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "elffile.h"
#include "target.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* struct elf_prpsinfo (the same on every 64-bit Linux port mapscan reads;
 * NT_PRSTATUS's layout is the architecture's, arch.h). */
#define PRPSINFO_FNAME_OFF 40
#define PRPSINFO_FNAME_LEN 16

#define DELETED_SUFFIX " (deleted)"
#define DEFAULT_PAGE_SIZE 4096u

struct seg {
	uint64_t vaddr, memsz, filesz, offset;
	const unsigned char *data; /* file bytes of [vaddr, vaddr+filesz) */
	uint32_t flags;            /* PF_* */
	size_t index;              /* program header index, for messages */
};

/* One NT_FILE entry; name points into the core mapping (NUL-terminated
 * inside the note, checked). */
struct file_map {
	uint64_t start, end, offset;
	const char *name;
};

struct mapping {
	const unsigned char *base;
	size_t size;
	uint64_t stored;           /* bytes the file has on disk (a core is sparse), 0: size */
	bool anon;                 /* anonymous memory (a decompressed core): never
				    * madvise(MADV_DONTNEED) it, that would zero it */
};

/* What of the core mapscan keeps mapped.  A read's first touch of a 64
 * KiB block maps it (a fault maps the fault-around window, 64 KiB, or the
 * page-cache folio around the address, up to 2 MiB); granules of 2 MiB
 * are dropped again (madvise(MADV_DONTNEED): the pages stay in the page
 * cache and fault back in cheaply) by CLOCK, the oldest no read has used
 * since the hand last passed them, whenever the process's resident set
 * (file pages and anonymous memory, from /proc/self/statm) goes over its
 * goal, 21% of the bytes the core file stores (a core is sparse: its
 * apparent size can be much more).  So the bound is the memory's own:
 * the core's mapped part is what the goal leaves beside mapscan's
 * anonymous memory (which grows with the heap it describes), at most half
 * the goal, at least 2 MiB (where mapscan's own memory alone is over the
 * goal, a wider floor only added to the peak: 1/64 of the core made the
 * million-map bench's peak 23-25% of the core instead of 21.5-22%).
 * Counting granules instead (at most 1/16 of the core) left a
 * gopls's walk faulting the same pages back in 450,000 times with about
 * half of its window unmapped, since a granule a few reads touched holds
 * a few blocks.  The granules every walk needs (map
 * headers, allocation bitmaps) stay, by their reference bits.  Kept
 * behind a pointer so const readers can count; new blocks take a lock
 * (reads run in threads). */
#define TRIM_BLOCK_SHIFT 16
#define TRIM_GRANULE_SHIFT 21
#define TRIM_BLOCKS_PER_GRANULE (1u << (TRIM_GRANULE_SHIFT - TRIM_BLOCK_SHIFT))
#define TRIM_MIN_WINDOW (2ull << 20)
#define TRIM_GOAL_PERCENT 21u
/* The resident set is read again after this many new blocks. */
#define TRIM_CHECK_BLOCKS 32u
/* ... and after this many reads (a power of two) of any kind. */
#define TRIM_CHECK_READS 65536u
/* Granules dropped together: one madvise, so one TLB shootdown across
 * the threads' CPUs (an IPI, costly in a VM), per run of adjacent ones. */
#define TRIM_BATCH 16u

struct touch {
	uint64_t *bits;            /* per block: touched since its granule was dropped
				    * (read without the lock) */
	uint64_t *ref;             /* per granule: used since the hand passed it */
	uint8_t *nblk;             /* per granule: its touched blocks */
	size_t nblocks, ngranules;
	uint32_t *ring;            /* the granules with touched blocks; the hand goes round */
	uint64_t nring, hand;
	uint64_t blocks;           /* touched blocks, all granules */
	uint64_t goal;             /* resident set to stay under, bytes */
	unsigned since_check;      /* new blocks since the resident set was read */
	bool wide;                 /* the last check found file pages mapped well beyond
				    * the touched blocks: whole folios are mapped */
	int statm;                 /* /proc/self/statm, or -1 (then blocks are the measure) */
	uint64_t trims, checks;    /* madvise calls and resident-set reads, for tests */
	pthread_mutex_t lock;
};

struct live;

struct target {
	const struct arch *arch;   /* the image's (target_arch) */
	char *core_path, *exe_path;
	struct mapping core, exe;
	bool exe_from_core;        /* exe_path came from NT_FILE, not --exe */

	uint64_t cut_need;         /* the core is cut short: the bytes its headers call
				    * for (0: it is whole); core.size are there */
	struct seg *cseg;          /* core PT_LOAD, sorted by vaddr */
	size_t ncseg;
	struct seg *eseg;          /* executable PT_LOAD (biased), sorted */
	size_t neseg;

	struct file_map *files;    /* NT_FILE */
	size_t nfiles;
	bool have_files;
	uint64_t page_size;        /* NT_FILE's, else 4096 */

	struct target_thread *threads;
	size_t nthreads, cap_threads;

	bool have_entry;           /* NT_AUXV had AT_ENTRY */
	uint64_t at_entry;
	char fname[PRPSINFO_FNAME_LEN + 1]; /* NT_PRPSINFO, sanitised */

	uint16_t exe_type;
	uint64_t exe_entry;
	uint64_t bias;
	struct elffile *ef;        /* the executable's sections and build IDs */
	char entry_why[160];       /* "" or why its entry point cannot be the image's */

	struct build_ids image_ids; /* read from the image's own memory */
	bool have_image_ids;
	char *exe_candidate;       /* --exe when it is not the image's build (target_exe_candidate) */
	bool exe_other_build;      /* memory comes from another build (target_exe_other_build) */

	struct touch *touch;
	const char *compression;   /* "zstd", "gzip", "xz", "lz4": the core was; NULL: plain */

	/* live processes: pid != 0, live != NULL */
	int pid;
	struct target_pid_opts popts;
	char *exe_name;            /* /proc/PID/exe's link text, or the override */
	struct live *live;
	bool stopped;              /* target_stop holds the process */
	bool cut_short;
	uint64_t paused_ns;
	size_t held_threads;
};

/* ---- small helpers ---------------------------------------------------- */

static inline uint64_t page_down(uint64_t x, uint64_t ps)
{
	return x & ~(ps - 1);
}

/* Round up; saturates at the last page instead of wrapping. */
static inline uint64_t page_up(uint64_t x, uint64_t ps)
{
	if (x > UINT64_MAX - (ps - 1))
		return page_down(UINT64_MAX, ps);
	return page_down(x + ps - 1, ps);
}

/* Length of name without a trailing " (deleted)". */
static inline size_t stripped_len(const char *name)
{
	size_t n = strlen(name), s = sizeof DELETED_SUFFIX - 1;

	if (n > s && strcmp(name + n - s, DELETED_SUFFIX) == 0)
		return n - s;
	return n;
}

static inline bool has_deleted_suffix(const char *name)
{
	return stripped_len(name) != strlen(name);
}

static inline bool same_file_name(const char *a, const char *b)
{
	size_t la = stripped_len(a), lb = stripped_len(b);

	return la == lb && memcmp(a, b, la) == 0;
}

/* ---- target.c: files, ELF headers, lookup ----------------------------- */

/* Human-readable size for messages ("512 bytes", "1.5 MiB", "40 GiB"). */
const char *tg_human_size(uint64_t v, char buf[32]);

/* mmap path read-only (regular files only).  On failure returns -1 with
 * *errno_out set (0 when the failure is not an errno one) and err filled
 * with a generic message. */
int tg_map_file(const char *path, const char *role, struct mapping *m,
		int *errno_out, struct ms_error *err);
void tg_unmap_file(struct mapping *m);

/* Identification and header checks common to core and executable.  what is
 * "core file" or "executable"; fix is the advice for a truncated file. */
int tg_check_ehdr(const struct mapping *m, const char *path, const char *what,
		  const char *fix, Elf64_Ehdr *eh, struct ms_error *err);

/* Copy the program header table out of the file (caller frees *out). */
int tg_read_phdrs(const struct mapping *m, const char *path, const char *what,
		  const char *fix, const Elf64_Ehdr *eh, Elf64_Phdr **out,
		  size_t *nout, struct ms_error *err);
int tg_check_phdr_numbers(const Elf64_Phdr *p, size_t idx, const char *path,
			  const char *fix, struct ms_error *err);
int tg_check_truncation(const Elf64_Phdr *ph, size_t n, const struct mapping *m,
			const char *path, const char *what, const char *fix,
			struct ms_error *err);

/* Sort and reject overlapping segments (lookups assume disjoint ones). */
int tg_sort_segs(struct seg *s, size_t n, const char *path, const char *what,
		 const char *fix, struct ms_error *err);

/* Number of segments with vaddr <= addr (index of the first one above). */
size_t tg_upper(const struct seg *s, size_t n, uint64_t addr);

/* ---- target_core.c ---------------------------------------------------- */

/* The NT_FILE entry of the main program, or NULL. */
const struct file_map *tg_core_exe_entry(const struct target *t);

/* ---- target_exe.c ----------------------------------------------------- */

/* Fill err with MS_EMISMATCH: the executable is not the image's (why). */
int tg_mismatch(const struct target *t, struct ms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse the mapped executable t->exe: its segments (biased) and the load
 * bias from AT_ENTRY or the core's mappings. */
int tg_load_exe(struct target *t, struct ms_error *err);

/* Forget the executable (mapping, segments, bias) so that another can be
 * loaded in its place; exe_path is left alone. */
void tg_drop_exe(struct target *t);

/* Read the build IDs of the image from its own memory (the notes of its
 * ELF header page) into t->image_ids.  Nothing is set when the image does
 * not hold them (a core written without the header page). */
void tg_read_image_ids(struct target *t);

/* How an executable relates to the image (tg_check_match). */
enum exe_match {
	EXE_SAME,                  /* the image's build: it may serve the image's memory */
	EXE_DEBUG_ONLY,            /* a debug file of it, without code (objcopy --only-keep-debug) */
	EXE_OTHER_BUILD,           /* its build ID differs: another link of the program, or another program */
	EXE_BAD,                   /* the image's memory contradicts it */
};

/* Is the executable the one the core's memory came from?  Returns
 * EXE_SAME, else fills err with why not.  With other_ok, an executable
 * whose build ID differs is still checked against the bytes the image
 * holds apart from its notes (a rebuild whose layout the types will
 * verify). */
enum exe_match tg_check_match(struct target *t, bool other_ok, struct ms_error *err);

/* The parts of executable segment s that the image's bytes must agree
 * with: all of it but the headers strip rewrites and, with skip_notes, the
 * notes holding the build IDs.  Fills out with up to max [lo, hi) ranges
 * (biased addresses); returns how many. */
size_t tg_compared_ranges(const struct target *t, const struct seg *s, bool skip_notes,
			  uint64_t out[][2], size_t max);

/* Read from the image only: the core's dumped bytes, or the process; the
 * executable's file is not consulted. */
int tg_image_read(const struct target *t, uint64_t addr, void *buf, size_t n);

/* ---- target_decompress.c -------------------------------------------- */

/* The core's bytes in m, ready to parse: a plain core file is mmap'd
 * (tg_map_file); a compressed one (zstd, gzip, xz, lz4, by magic) or one
 * read from a pipe ("-", /dev/stdin, /dev/fd/N) is decompressed into
 * memory, or into an unlinked temporary file in $TMPDIR (default
 * /var/tmp) once it outgrows tg_core_memory_limit.  *compression is set
 * to the codec's name or NULL.  shown names the core in messages.
 * Release m with tg_unmap_file. */
int tg_open_core_image(const char *path, const char *shown, struct mapping *m,
		       const char **compression, struct ms_error *err);

/* Bytes of a decompressed core kept in memory: MAPSCAN_CORE_MEMORY (a
 * size, or a share of memory like "25%"), by default a quarter of the
 * machine's memory or of the cgroup's limit when that is lower.
 * MS_EUSAGE when the variable cannot be read. */
int tg_core_memory_limit(uint64_t *limit, struct ms_error *err);

/* ---- target_live.c ---------------------------------------------------- */

int tg_live_read(const struct target *t, uint64_t addr, void *buf, size_t n);
void tg_live_free(struct live *L);
/* The readable mapping of the process holding addr (target_region). */
bool tg_live_region(const struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi);

#endif
