/* The one read interface over every backend (see target.h), and the ELF
 * file handling the core and the executable share.  The backends are
 * target_core.c (the core file and its notes), target_exe.c (matching the
 * executable) and target_live.c (a running process).
 *
 * Both files are mmap'd read-only and parsed in place with <elf.h>.  Every
 * offset, size and count taken from either file is untrusted and is checked
 * against the file size before use; structures are copied out with memcpy,
 * so nothing depends on the alignment of the data in the files.
 *
 * Memory lookup: the core's PT_LOAD segments, sorted by address, serve the
 * bytes they dumped ([vaddr, vaddr+filesz)); anything else (undumped tails,
 * addresses in no core segment) is served from the file part of the
 * executable's PT_LOAD segments, relocated by the load bias.  The
 * executable's bss is never readable from the file.
 *
 * A live process is the second backend behind the same struct: target_read
 * goes to tg_live_read (target_live.c), which serves bytes from a small
 * cache of chunks read with process_vm_readv.  The executable is still
 * mapped and parsed the same way, for the load bias and (with --exe) to
 * check it against the process. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "target_impl.h"

/* ---- small helpers ---------------------------------------------------- */

/* Human-readable size for messages ("512 bytes", "1.5 MiB", "40 GiB"). */
const char *tg_human_size(uint64_t v, char buf[32])
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, 32, "%" PRIu64 " bytes", v);
		return buf;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (d >= 10 || d == (double)(uint64_t)d)
		snprintf(buf, 32, "%.0f %s", d, unit[u]);
	else
		snprintf(buf, 32, "%.1f %s", d, unit[u]);
	return buf;
}


/* ---- files ------------------------------------------------------------ */

/* Map n bytes of fd read-only at an address aligned like the file's
 * offsets are to 2 MiB, asking for huge pages: where the page cache holds
 * the file in 2 MiB folios (a core read in through such a mapping, cold,
 * or through large-folio readahead), one fault maps 2 MiB instead of 64
 * KiB and one trim unmaps it in one entry.  A walk of gopls's core faults
 * its heap back in some 330,000 times under the resident-set goal: each
 * fault was a 64 KiB window of page table entries to fill and, at the
 * next trim, to tear down.  Where the cache holds small pages the mapping
 * works as before.  Falls back to a plain mapping. */
#define MAP_ALIGN (2ull << 20)
static void *map_aligned(int fd, size_t n)
{
	if (n >= MAP_ALIGN && n <= SIZE_MAX - MAP_ALIGN) {
		unsigned char *r = mmap(NULL, n + MAP_ALIGN, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r != MAP_FAILED) {
			uintptr_t a = ((uintptr_t)r + MAP_ALIGN - 1) & ~(uintptr_t)(MAP_ALIGN - 1);
			unsigned char *b = (unsigned char *)a;
			void *p = mmap(b, n, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
			if (p == MAP_FAILED) {
				munmap(r, n + MAP_ALIGN);
			} else {
				size_t tail = (size_t)(r + n + MAP_ALIGN - (b + n));
				if (b > r)
					munmap(r, (size_t)(b - r));
				if (tail)
					munmap(b + n, tail);
				madvise(p, n, MADV_HUGEPAGE);
				return p;
			}
		}
	}
	return mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
}

/* mmap path read-only (a regular file, opened without blocking: see
 * file.h).  The mapping is not inherited by children: the DWARF sandbox's
 * child (sandbox.h) must hold nothing but its input.  On failure returns
 * -1 with *errno_out set (0 when the failure is not an errno one) and err
 * filled with a generic message. */
int tg_map_file(const char *path, const char *role, struct mapping *m,
		    int *errno_out, struct ms_error *err)
{
	struct stat st;
	void *p;
	int fd, e;

	fd = file_open_regular(path, role, errno_out, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		*errno_out = e = errno;
		close(fd);
		return ms_err(err, MS_EOPEN, "%s: cannot read %s: %s", path,
			      role, strerror(e));
	}
	if (st.st_size <= 0) {
		close(fd);
		return ms_err(err, MS_EFORMAT,
			      "%s: empty file, not an ELF %s", path, role);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return ms_err(err, MS_EOPEN, "%s: %s too large to map", path,
			      role);
	}
	p = map_aligned(fd, (size_t)st.st_size);
	e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		*errno_out = e;
		return ms_err(err, MS_EOPEN, "%s: cannot map %s: %s", path,
			      role, strerror(e));
	}
	madvise(p, (size_t)st.st_size, MADV_DONTFORK);
	m->base = p;
	m->size = (size_t)st.st_size;
	m->stored = (uint64_t)st.st_blocks * 512;
	return 0;
}

void tg_unmap_file(struct mapping *m)
{
	if (m->base)
		munmap((void *)m->base, m->size);
	m->base = NULL;
	m->size = 0;
}

/* Identification and header checks common to core and executable.  what is
 * "core file" or "executable"; fix is the advice for a truncated file. */
int tg_check_ehdr(const struct mapping *m, const char *path,
		      const char *what, const char *fix, Elf64_Ehdr *eh,
		      struct ms_error *err)
{
	const unsigned char *id = m->base;

	if (m->size < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return ms_err(err, MS_EFORMAT,
			      "%s: not an ELF file (expected an ELF %s)", path,
			      what);
	if (m->size < EI_NIDENT)
		return ms_err(err, MS_EFORMAT,
			      "%s: truncated ELF header (%zu bytes); %s", path,
			      m->size, fix);
	if (id[EI_CLASS] != ELFCLASS64)
		return ms_err(err, MS_EFORMAT,
			      "%s: %s ELF %s is not supported (only " ARCH_SUPPORTED " is)",
			      path, id[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid-class",
			      what);
	if (id[EI_DATA] != ELFDATA2LSB)
		return ms_err(err, MS_EFORMAT,
			      "%s: %s ELF %s is not supported (only " ARCH_SUPPORTED " is)",
			      path, id[EI_DATA] == ELFDATA2MSB ? "big-endian" : "invalid-byte-order",
			      what);
	if (m->size < sizeof *eh)
		return ms_err(err, MS_EFORMAT,
			      "%s: truncated ELF header (%zu of %zu bytes present); %s",
			      path, m->size, sizeof *eh, fix);
	memcpy(eh, m->base, sizeof *eh);
	if (!arch_by_machine(eh->e_machine))
		return ms_err(err, MS_EFORMAT,
			      "%s: %s for machine %u (%s) is not supported (only " ARCH_SUPPORTED " is)",
			      path, what, eh->e_machine,
			      arch_machine_name(eh->e_machine));
	return 0;
}

/* Copy the program header table out of the file, checking it fits.  Handles
 * extended numbering (e_phnum == PN_XNUM, real count in section 0). */
int tg_read_phdrs(const struct mapping *m, const char *path,
		      const char *what, const char *fix, const Elf64_Ehdr *eh,
		      Elf64_Phdr **out, size_t *nout, struct ms_error *err)
{
	uint64_t phnum = eh->e_phnum, i;
	Elf64_Phdr *ph;

	*out = NULL;
	*nout = 0;
	if (phnum == PN_XNUM) {
		Elf64_Shdr sh;

		if (eh->e_shoff == 0 || eh->e_shentsize < sizeof sh ||
		    eh->e_shoff > m->size || m->size - eh->e_shoff < sizeof sh)
			return ms_err(err, MS_EFORMAT,
				      "%s: corrupt ELF header (extended program header count, but no valid section header 0); %s",
				      path, fix);
		memcpy(&sh, m->base + eh->e_shoff, sizeof sh);
		phnum = sh.sh_info;
	}
	if (phnum == 0)
		return 0;
	if (eh->e_phentsize < sizeof(Elf64_Phdr))
		return ms_err(err, MS_EFORMAT,
			      "%s: corrupt ELF header (program header size %u, expected %zu); %s",
			      path, eh->e_phentsize, sizeof(Elf64_Phdr), fix);
	if (eh->e_phoff > m->size ||
	    phnum > (m->size - eh->e_phoff) / eh->e_phentsize) {
		char a[32], b[32];
		uint64_t need = eh->e_phoff + phnum * eh->e_phentsize;

		return ms_err(err, MS_EFORMAT,
			      "%s: truncated %s (%" PRIu64 " program headers at offset 0x%" PRIx64
			      " extend past end of file, %s of %s present); %s",
			      path, what, phnum, (uint64_t)eh->e_phoff,
			      tg_human_size(m->size, a), tg_human_size(need, b), fix);
	}
	ph = malloc(phnum * sizeof *ph);
	if (!ph)
		return ms_err(err, MS_EINTERNAL,
			      "%s: out of memory for %" PRIu64 " program headers",
			      path, phnum);
	for (i = 0; i < phnum; i++)
		memcpy(&ph[i], m->base + eh->e_phoff + i * eh->e_phentsize,
		       sizeof *ph);
	*out = ph;
	*nout = phnum;
	return 0;
}

/* Check a PT_LOAD/PT_NOTE program header's numbers.  Returns 0, or -1 with
 * err filled.  Truncation (the bytes run past the end of the file) is
 * reported separately by the caller, which knows the total expected size. */
int tg_check_phdr_numbers(const Elf64_Phdr *p, size_t idx,
			      const char *path, const char *fix,
			      struct ms_error *err)
{
	if (p->p_type == PT_LOAD && p->p_filesz > p->p_memsz)
		return ms_err(err, MS_EFORMAT,
			      "%s: corrupt program header %zu (file size 0x%" PRIx64
			      " exceeds memory size 0x%" PRIx64 "); %s",
			      path, idx, (uint64_t)p->p_filesz,
			      (uint64_t)p->p_memsz, fix);
	if (p->p_type == PT_LOAD && p->p_memsz > UINT64_MAX - p->p_vaddr)
		return ms_err(err, MS_EFORMAT,
			      "%s: corrupt program header %zu (segment at 0x%" PRIx64
			      " of size 0x%" PRIx64 " wraps around the address space); %s",
			      path, idx, (uint64_t)p->p_vaddr,
			      (uint64_t)p->p_memsz, fix);
	if (p->p_filesz > UINT64_MAX - p->p_offset)
		return ms_err(err, MS_EFORMAT,
			      "%s: corrupt program header %zu (file offset 0x%" PRIx64
			      " + size 0x%" PRIx64 " overflows); %s",
			      path, idx, (uint64_t)p->p_offset,
			      (uint64_t)p->p_filesz, fix);
	return 0;
}

/* All PT_LOAD/PT_NOTE bytes must be inside the file. */
int tg_check_truncation(const Elf64_Phdr *ph, size_t n,
			    const struct mapping *m, const char *path,
			    const char *what, const char *fix,
			    struct ms_error *err)
{
	uint64_t need = 0;
	const Elf64_Phdr *bad = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t end;

		if ((p->p_type != PT_LOAD && p->p_type != PT_NOTE) ||
		    p->p_filesz == 0)
			continue;
		end = p->p_offset + p->p_filesz; /* checked not to wrap */
		if (end > need)
			need = end;
		if (end > m->size && (!bad || p->p_offset < bad->p_offset))
			bad = p;
	}
	if (bad) {
		char a[32], b[32];

		if (bad->p_type == PT_NOTE)
			return ms_err(err, MS_EFORMAT,
				      "%s: truncated %s (notes at offset 0x%" PRIx64
				      " extend past end of file, %s of %s present); %s",
				      path, what, (uint64_t)bad->p_offset,
				      tg_human_size(m->size, a),
				      tg_human_size(need, b), fix);
		return ms_err(err, MS_EFORMAT,
			      "%s: truncated %s (segment at 0x%" PRIx64
			      " extends past end of file, %s of %s present); %s",
			      path, what, (uint64_t)bad->p_vaddr,
			      tg_human_size(m->size, a), tg_human_size(need, b), fix);
	}
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->vaddr != y->vaddr)
		return x->vaddr < y->vaddr ? -1 : 1;
	/* Equal starts: keep a stable order so the overlap check reports
	 * the same pair every time. */
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort and reject overlapping segments (lookups assume disjoint ones). */
int tg_sort_segs(struct seg *s, size_t n, const char *path,
		     const char *what, const char *fix, struct ms_error *err)
{
	size_t i;

	qsort(s, n, sizeof *s, cmp_seg);
	for (i = 1; i < n; i++) {
		if (s[i].vaddr - s[i - 1].vaddr < s[i - 1].memsz)
			return ms_err(err, MS_EFORMAT,
				      "%s: corrupt %s (segments 0x%" PRIx64 "-0x%" PRIx64
				      " and 0x%" PRIx64 "-0x%" PRIx64 " overlap); %s",
				      path, what, s[i - 1].vaddr,
				      s[i - 1].vaddr + s[i - 1].memsz,
				      s[i].vaddr, s[i].vaddr + s[i].memsz, fix);
	}
	return 0;
}


/* ---- lookup ----------------------------------------------------------- */

/* Number of segments with vaddr <= addr (index of the first one above). */
size_t tg_upper(const struct seg *s, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Bytes at addr from the core's dumped part only. */
/* The core segment of this thread's last read: a hint, checked before
 * use.  Reads are safe from several threads (the map walks run side by
 * side): everything else they touch is read-only or atomic. */
static _Thread_local size_t last_seg;

static const unsigned char *locate_core(const struct target *t, uint64_t addr,
					uint64_t *avail, size_t *above)
{
	/* Reads come in runs in one segment: try this thread's last one. */
	size_t h = last_seg;
	if (h < t->ncseg && addr - t->cseg[h].vaddr < t->cseg[h].filesz) {
		const struct seg *s = &t->cseg[h];
		if (above)
			*above = h + 1;
		*avail = s->filesz - (addr - s->vaddr);
		return s->data + (addr - s->vaddr);
	}
	size_t i = tg_upper(t->cseg, t->ncseg, addr);
	if (i > 0)
		last_seg = i - 1;

	if (above)
		*above = i;
	if (i > 0) {
		const struct seg *s = &t->cseg[i - 1];
		uint64_t off = addr - s->vaddr;

		if (off < s->filesz) {
			*avail = s->filesz - off;
			return s->data + off;
		}
	}
	return NULL;
}

int tg_image_read(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	unsigned char *out = buf;

	if (t->live)
		return tg_live_read(t, addr, buf, n);
	if (n && n - 1 > UINT64_MAX - addr)
		return -1;
	while (n) {
		uint64_t avail;
		const unsigned char *p = locate_core(t, addr, &avail, NULL);
		size_t k;

		if (!p)
			return -1;
		k = avail < n ? (size_t)avail : n;
		memcpy(out, p, k);
		out += k;
		addr += k;
		n -= k;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The process's resident set: file pages (the core's and the program's)
 * and anonymous memory, in bytes.  False when /proc cannot say. */
static bool rss_read(struct touch *tc, uint64_t *file, uint64_t *anon)
{
	char buf[160];
	ssize_t n;
	unsigned long long f[3];
	if (tc->statm < 0 || (n = pread(tc->statm, buf, sizeof(buf) - 1, 0)) <= 0)
		return false;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu %llu", &f[0], &f[1], &f[2]) != 3 || f[2] > f[1])
		return false;
	long pg = sysconf(_SC_PAGESIZE);
	*file = (uint64_t)f[2] * (uint64_t)(pg > 0 ? pg : 4096);
	*anon = (uint64_t)(f[1] - f[2]) * (uint64_t)(pg > 0 ? pg : 4096);
	tc->checks++;
	return true;
}

/* Drop granule v: its blocks count as untouched again. */
_Static_assert(64 % TRIM_BLOCKS_PER_GRANULE == 0, "a granule's blocks share one bitmap word");
static void drop_granule(struct touch *tc, uint64_t v)
{
	uint64_t b0 = v * TRIM_BLOCKS_PER_GRANULE;
	uint64_t m = (TRIM_BLOCKS_PER_GRANULE == 64 ? ~0ull : (1ull << TRIM_BLOCKS_PER_GRANULE) - 1)
		     << (b0 % 64);
	__atomic_fetch_and(&tc->bits[b0 / 64], ~m, __ATOMIC_RELAXED);
	tc->blocks -= tc->nblk[v];
	tc->nblk[v] = 0;
}

/* This thread's last two blocks of the core read, counted as touched and
 * their granules as referenced: reads inside them (most reads follow one
 * another inside a value, an object, a group, between an object and its
 * span's allocation bits) skip the lookup and the counting.  Valid while
 * fast_gen has not moved: every trim (which drops blocks and clears
 * granules' reference bits) and every target closed moves it. */
static uint64_t fast_gen;
struct fast_block {
	const struct target *t;
	uint64_t lo, hi, gen;     /* [lo, hi): addresses of one block in one segment */
	const unsigned char *p;   /* the bytes at lo */
};
static _Thread_local struct fast_block fast[2];

/* The bytes [addr, addr+n) from one of this thread's last blocks, or NULL. */
static inline const unsigned char *fast_find(const struct target *t, uint64_t addr, uint64_t n)
{
	uint64_t gen = __atomic_load_n(&fast_gen, __ATOMIC_ACQUIRE);
	for (int k = 0; k < 2; k++) {
		const struct fast_block *f = &fast[k];
		if (t == f->t && f->gen == gen && addr - f->lo < f->hi - f->lo && n <= f->hi - addr)
			return f->p + (addr - f->lo);
	}
	return NULL;
}

/* Drop granules the hand finds unused since it last passed (CLOCK) until
 * about `bytes` of them are gone, a batch at a time, adjacent ones in one
 * madvise: the walks go through memory in address order, so a batch is
 * mostly one run.  Granules leave the ring (the last takes their slot). */
static void touch_evict(const struct target *t, struct touch *tc, uint64_t bytes, uint64_t file)
{
	__atomic_fetch_add(&fast_gen, 1, __ATOMIC_RELEASE);
	uint64_t keep = TRIM_MIN_WINDOW >> TRIM_BLOCK_SHIFT, want = (bytes >> TRIM_BLOCK_SHIFT) + 1;
	/* What a granule holds mapped is not its touched blocks where the
	 * page cache maps it whole (a 2 MiB folio): then the resident set,
	 * read again after each batch, says when enough is gone. */
	uint64_t until = file > bytes ? file - bytes : 0, f, a;
	bool measured = tc->statm >= 0;
	if (measured)
		want = UINT64_MAX;
	while (want && tc->blocks > keep && tc->nring) {
		uint32_t victim[TRIM_BATCH];
		unsigned nv = 0;
		for (uint64_t steps = 0; nv < TRIM_BATCH && want && tc->blocks > keep && tc->nring &&
					 steps < 2 * tc->nring + 1; steps++) {
			if (tc->hand >= tc->nring)
				tc->hand = 0;
			uint64_t v = tc->ring[tc->hand], vb = 1ull << (v & 63);
			if ((__atomic_load_n(&tc->ref[v / 64], __ATOMIC_RELAXED) & vb) && steps < 2 * tc->nring) {
				__atomic_fetch_and(&tc->ref[v / 64], ~vb, __ATOMIC_RELAXED);
				tc->hand++;
				continue;
			}
			/* Unused for a whole round (or every granule was in use
			 * for two: the one under the hand goes all the same). */
			want = want > tc->nblk[v] ? want - tc->nblk[v] : 0;
			drop_granule(tc, v);
			victim[nv++] = (uint32_t)v;
			tc->ring[tc->hand] = tc->ring[--tc->nring];
		}
		if (!nv)
			break;
		qsort(victim, nv, sizeof(*victim), cmp_u32);
		for (unsigned i = 0; i < nv;) {
			unsigned j = i + 1;
			while (j < nv && victim[j] == victim[j - 1] + 1)
				j++;
			uint64_t off = (uint64_t)victim[i] << TRIM_GRANULE_SHIFT;
			uint64_t len = (uint64_t)(j - i) << TRIM_GRANULE_SHIFT;
			if (len > t->core.size - off)
				len = t->core.size - off;
			madvise((void *)(t->core.base + off), len, MADV_DONTNEED);
			tc->trims++;
			i = j;
		}
		if (measured && (!rss_read(tc, &f, &a) || f <= until))
			break;
	}
}

/* Is the resident set over its goal, or the core's part over half of it?
 * Drop granules for what it is over, and an eighth of the goal more, so
 * that the next check is not at once over again. */
static void touch_check(const struct target *t, struct touch *tc)
{
	uint64_t file, anon, have = tc->blocks << TRIM_BLOCK_SHIFT;
	tc->since_check = 0;
	if (!rss_read(tc, &file, &anon)) {
		anon = 0;
		file = have;
	}
	/* The file pages mapped are the core's (and a few of the
	 * executable's): more than its touched blocks where whole folios
	 * are mapped. */
	tc->wide = file / 2 > have + (TRIM_MIN_WINDOW << 2);
	have = file > have ? file : have;
	/* The core's pages take at most half the goal: mapscan's own memory
	 * can grow by tens of MiB between two checks (a table rehashed, a
	 * level of the walk sorted), and the peak is of the two together. */
	uint64_t over = file + anon > tc->goal ? file + anon - tc->goal : 0;
	if (have > tc->goal / 2 && have - tc->goal / 2 > over)
		over = have - tc->goal / 2;
	if (over)
		touch_evict(t, tc, over + tc->goal / 8, file);
}

/* A read reached block b, untouched: count it (its granule joins the ring
 * with its first), and read the resident set every few new blocks. */
static void touch_new(const struct target *t, struct touch *tc, uint64_t b)
{
	uint64_t bit = 1ull << (b & 63), g = b / TRIM_BLOCKS_PER_GRANULE;
	pthread_mutex_lock(&tc->lock);
	if (!(tc->bits[b / 64] & bit)) {
		/* A granule joins used: the hand passes it once before it
		 * can go (the slot it takes may be the hand's).  Its first
		 * block may have mapped all of it (a 2 MiB folio): where the
		 * last check found that so, it counts for a check at once. */
		if (!tc->nblk[g]++) {
			tc->ring[tc->nring++] = (uint32_t)g;
			__atomic_fetch_or(&tc->ref[g / 64], 1ull << (g & 63), __ATOMIC_RELAXED);
			if (tc->wide)
				tc->since_check += TRIM_CHECK_BLOCKS - 1;
		}
		tc->blocks++;
		__atomic_fetch_or(&tc->bits[b / 64], bit, __ATOMIC_RELAXED);
		if (++tc->since_check >= TRIM_CHECK_BLOCKS || (tc->blocks << TRIM_BLOCK_SHIFT) > tc->goal)
			touch_check(t, tc);
	}
	pthread_mutex_unlock(&tc->lock);
}

/* This thread's reads, for the resident-set check every so many. */
static _Thread_local uint32_t reads;

/* A read from one of this thread's last blocks counts as a read; but the
 * one that would bring the count to a check goes the long way, through
 * touch, which makes it. */
static inline bool fast_count(void)
{
	if (!((reads + 1) & (TRIM_CHECK_READS - 1)))
		return false;
	reads++;
	return true;
}

/* Count the blocks of the core's bytes [p, p+n) as touched. */
static void touch(const struct target *t, const unsigned char *p, uint64_t n)
{
	struct touch *tc = t->touch;
	if (!tc->bits)
		return;
	uint64_t off = (uint64_t)(p - t->core.base), b = off >> TRIM_BLOCK_SHIFT;
	uint64_t last = (off + (n ? n - 1 : 0)) >> TRIM_BLOCK_SHIFT;
	/* mapscan's own memory grows while the reads stay in what is
	 * mapped: look at the resident set every so many reads too. */
	if (!(++reads & (TRIM_CHECK_READS - 1))) {
		pthread_mutex_lock(&tc->lock);
		touch_check(t, tc);
		pthread_mutex_unlock(&tc->lock);
	}
	for (; b <= last && b < tc->nblocks; b++) {
		uint64_t g = b / TRIM_BLOCKS_PER_GRANULE, gb = 1ull << (g & 63);
		if (!(__atomic_load_n(&tc->bits[b / 64], __ATOMIC_RELAXED) & (1ull << (b & 63))))
			touch_new(t, tc, b);
		else if (!(__atomic_load_n(&tc->ref[g / 64], __ATOMIC_RELAXED) & gb))
			__atomic_fetch_or(&tc->ref[g / 64], gb, __ATOMIC_RELAXED);
	}
}

/* Where the image's byte at addr lives, and how many bytes from there on
 * come from the same place.  NULL when addr is unreadable. */
static const unsigned char *locate(const struct target *t, uint64_t addr, uint64_t n,
				   uint64_t *avail)
{
	const unsigned char *p;
	uint64_t limit;
	size_t i, j;

	p = locate_core(t, addr, avail, &i);
	if (p) {
		uint64_t gen = __atomic_load_n(&fast_gen, __ATOMIC_ACQUIRE);
		touch(t, p, n < *avail ? n : *avail);
		/* The block addr is in, within its segment, for the next reads. */
		const struct seg *s = &t->cseg[i - 1];
		uint64_t off = (uint64_t)(p - t->core.base), blo = off & ~((1ull << TRIM_BLOCK_SHIFT) - 1);
		uint64_t bhi = blo + (1ull << TRIM_BLOCK_SHIFT);
		uint64_t slo = (uint64_t)(s->data - t->core.base), shi = slo + s->filesz;
		blo = blo > slo ? blo : slo;
		bhi = bhi < shi ? bhi : shi;
		fast[1] = fast[0];
		fast[0] = (struct fast_block){ t, addr - (off - blo), addr + (bhi - off), gen,
					       p - (off - blo) };
		return p;
	}
	/* The executable serves addr, up to the next core segment (whose
	 * dumped bytes, if any, take precedence). */
	limit = i < t->ncseg ? t->cseg[i].vaddr - addr : UINT64_MAX;
	j = tg_upper(t->eseg, t->neseg, addr);
	if (j > 0) {
		const struct seg *s = &t->eseg[j - 1];
		uint64_t off = addr - s->vaddr;

		if (off < s->filesz) {
			*avail = s->filesz - off;
			if (*avail > limit)
				*avail = limit;
			return s->data + off;
		}
	}
	return NULL;
}

/* Bytes at addr available from one place, as locate, without touching
 * them (no page is faulted in). */
static bool lookup(const struct target *t, uint64_t addr, uint64_t *avail)
{
	size_t i;
	if (locate_core(t, addr, avail, &i))
		return true;
	uint64_t limit = i < t->ncseg ? t->cseg[i].vaddr - addr : UINT64_MAX;
	size_t j = tg_upper(t->eseg, t->neseg, addr);
	if (j > 0) {
		const struct seg *s = &t->eseg[j - 1];
		uint64_t off = addr - s->vaddr;
		if (off < s->filesz) {
			*avail = s->filesz - off;
			if (*avail > limit)
				*avail = limit;
			return true;
		}
	}
	return false;
}

bool target_has(const struct target *t, uint64_t addr, uint64_t n)
{
	unsigned char b;
	if (n == 0)
		return true;
	if (!t || n - 1 > UINT64_MAX - addr)
		return false;
	if (t->live) {
		/* One byte per page, through the read cache. */
		uint64_t last = addr + n - 1;
		for (uint64_t a = addr; ; a = (a | 4095) + 1) {
			if (tg_live_read(t, a, &b, 1))
				return false;
			if ((a | 4095) >= last)
				break;
		}
		return tg_live_read(t, last, &b, 1) == 0;
	}
	for (uint64_t left = n, avail; left;) {
		if (!lookup(t, addr, &avail))
			return false;
		if (avail >= left)
			return true;
		addr += avail;
		left -= avail;
	}
	return true;
}

static bool in_segs(const struct seg *s, size_t n, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	size_t i = tg_upper(s, n, addr);
	if (i == 0 || addr - s[i - 1].vaddr >= s[i - 1].memsz)
		return false;
	*lo = s[i - 1].vaddr;
	*hi = s[i - 1].vaddr + s[i - 1].memsz;
	return true;
}

bool target_region(const struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi, bool *exe)
{
	if (!t)
		return false;
	*exe = in_segs(t->eseg, t->neseg, addr, lo, hi);
	if (*exe)
		return true;
	if (t->live)
		return tg_live_region(t, addr, lo, hi);
	return in_segs(t->cseg, t->ncseg, addr, lo, hi);
}

/* Bytes of [addr, addr+n) the core's segments hold in the file (dumped),
 * or that a segment maps but the file lacks (!dumped: memsz past filesz,
 * in segments that were memory at all). */
static uint64_t seg_bytes(const struct target *t, uint64_t addr, uint64_t n, bool dumped)
{
	uint64_t sum = 0, end = n > UINT64_MAX - addr ? UINT64_MAX : addr + n;
	size_t i = tg_upper(t->cseg, t->ncseg, addr);
	if (i > 0)
		i--;
	for (; i < t->ncseg && t->cseg[i].vaddr < end; i++) {
		const struct seg *s = &t->cseg[i];
		/* Reserved address space (no access) was never memory. */
		if (!dumped && !(s->flags & (PF_R | PF_W)))
			continue;
		uint64_t lo = dumped ? s->vaddr : s->vaddr + s->filesz;
		uint64_t hi = dumped ? s->vaddr + s->filesz : s->vaddr + s->memsz;
		if (lo < addr)
			lo = addr;
		if (hi > end)
			hi = end;
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}

uint64_t target_dumped(const struct target *t, uint64_t addr, uint64_t n)
{
	if (!t || !n)
		return 0;
	return t->live ? n : seg_bytes(t, addr, n, true);
}

uint64_t target_missing(const struct target *t, uint64_t addr, uint64_t n)
{
	return !t || !n || t->live ? 0 : seg_bytes(t, addr, n, false);
}

bool target_threads_may_read(const struct target *t)
{
	return t && !t->live;
}

uint64_t target_core_cut(const struct target *t, uint64_t *present)
{
	*present = t && t->cut_need ? t->core.size : 0;
	return t ? t->cut_need : 0;
}

uint64_t target_exe_data_missing(const struct target *t, uint64_t *total)
{
	uint64_t missing = 0;

	*total = 0;
	if (!t || t->live)
		return 0;
	for (size_t i = 0; i < t->neseg; i++) {
		const struct seg *s = &t->eseg[i];

		if (!(s->flags & PF_W))
			continue;
		*total += s->memsz;
		missing += s->memsz - target_dumped(t, s->vaddr, s->memsz);
	}
	return missing;
}

int target_read(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	unsigned char *out = buf;
	const unsigned char *p;
	uint64_t avail, cur, left;

	if (!t)
		return -1;
	if (n == 0)
		return 0;
	if (n - 1 > UINT64_MAX - addr)
		return -1;
	if (t->live)
		return tg_live_read(t, addr, buf, n);
	if ((p = fast_find(t, addr, n)) && fast_count()) {
		memcpy(out, p, n);
		return 0;
	}
	p = locate(t, addr, n, &avail);
	if (!p)
		return -1;
	if (avail >= n) { /* the common case: one piece */
		memcpy(out, p, n);
		return 0;
	}
	/* Check the whole range before copying anything. */
	for (cur = addr + avail, left = n - avail; left;) {
		if (!locate(t, cur, left, &avail))
			return -1;
		if (avail >= left)
			break;
		cur += avail;
		left -= avail;
	}
	for (cur = addr, left = n; left;) {
		uint64_t k;

		p = locate(t, cur, left, &avail);
		k = avail < left ? avail : left;
		memcpy(out, p, k);
		out += k;
		cur += k;
		left -= k;
	}
	return 0;
}

const void *target_view(const struct target *t, uint64_t addr, size_t n)
{
	const unsigned char *p;
	uint64_t avail;

	/* A live target has no stable bytes to point at: readers copy. */
	if (!t || t->live || (n && n - 1 > UINT64_MAX - addr))
		return NULL;
	if ((p = fast_find(t, addr, n)) && fast_count())
		return p;
	p = locate(t, addr, n, &avail);
	if (!p || avail < n)
		return NULL;
	return p;
}

int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out)
{
	unsigned char b[8];
	const void *v = t && !t->live && addr <= UINT64_MAX - 7 ? target_view(t, addr, 8) : NULL;

	if (v) {                  /* the common case: no copy, no call */
		*out = le64(v);
		return 0;
	}
	if (target_read(t, addr, b, sizeof b) < 0)
		return -1;
	*out = le64(b);
	return 0;
}

void target_trim_counts(const struct target *t, uint64_t *trims, uint64_t *checks)
{
	*trims = t && t->touch ? t->touch->trims : 0;
	*checks = t && t->touch ? t->touch->checks : 0;
}

const char *target_exe_path(const struct target *t)
{
	return t ? t->exe_path : NULL;
}

const struct elffile *target_exe_file(const struct target *t)
{
	return t ? t->ef : NULL;
}

const struct build_ids *target_build_ids(const struct target *t)
{
	return t && t->have_image_ids ? &t->image_ids : NULL;
}

const char *target_exe_candidate(const struct target *t)
{
	return t ? t->exe_candidate : NULL;
}

bool target_exe_other_build(const struct target *t)
{
	return t && t->exe_other_build;
}

const char *target_core_compression(const struct target *t)
{
	return t ? t->compression : NULL;
}

const char *target_source_path(const struct target *t)
{
	return t ? t->core_path : NULL;
}

uint64_t target_exe_bias(const struct target *t)
{
	return t ? t->bias : 0;
}

const struct arch *target_arch(const struct target *t)
{
	return t && t->arch ? t->arch : &arch_amd64;
}

const struct target_thread *target_threads(const struct target *t, size_t *n)
{
	if (n)
		*n = t ? t->nthreads : 0;
	return t ? t->threads : NULL;
}

void target_close(struct target *t)
{
	if (!t)
		return;
	/* A target opened later may sit at t's address: no thread's last
	 * block may be taken for one of its. */
	__atomic_fetch_add(&fast_gen, 1, __ATOMIC_RELEASE);
	if (t->stopped)
		target_resume(t);
	tg_live_free(t->live);
	free(t->exe_name);
	tg_unmap_file(&t->core);
	tg_unmap_file(&t->exe);
	elffile_close(t->ef);
	free(t->exe_candidate);
	free(t->cseg);
	free(t->eseg);
	free(t->files);
	free(t->threads);
	free(t->core_path);
	free(t->exe_path);
	if (t->touch) {
		free(t->touch->bits);
		free(t->touch->ref);
		free(t->touch->ring);
		free(t->touch->nblk);
		if (t->touch->statm >= 0)
			close(t->touch->statm);
		pthread_mutex_destroy(&t->touch->lock);
	}
	free(t->touch);
	free(t);
}

