/* A core file (plus the executable that produced it), or a live process,
 * as a memory image; see target.h.
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
 * goes to live_read (bottom of this file), which serves bytes from a small
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
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "live.h"
#include "target.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* x86-64 struct elf_prstatus / elf_prpsinfo layout. */
#define PRSTATUS_PID_OFF   32
#define PRSTATUS_REGS_OFF  112
#define PRSTATUS_NREGS     27
#define PRSTATUS_MIN_SIZE  (PRSTATUS_REGS_OFF + PRSTATUS_NREGS * 8)
#define REG_RBP            4
#define REG_RIP            16
#define REG_RSP            19
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
};

/* Which 64 KiB granules of the core reads have touched since the last
 * trim, one bit each.  Kept behind a pointer so const readers can count. */
struct touch {
	uint64_t *bits;
	size_t nwords;
	uint64_t granules;
};

/* Once reads have touched 1024 different 64 KiB granules (the kernel maps
 * file pages in 64 KiB batches: 64 MiB) the core mapping's pages
 * are dropped from the process (madvise): they stay in the page cache and
 * fault back in cheaply, and mapscan's resident set stays a small fraction
 * of a many-GiB core instead of growing to its size. */
#define TRIM_GRANULE_SHIFT 16
#define TRIM_GRANULES 1024u

struct target {
	char *core_path, *exe_path;
	struct mapping core, exe;
	bool exe_from_core;        /* exe_path came from NT_FILE, not --exe */

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

	struct touch *touch;

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

static int live_read(const struct target *t, uint64_t addr, void *buf, size_t n);
static void live_free(struct live *L);

/* ---- small helpers ---------------------------------------------------- */

/* Human-readable size for messages ("512 bytes", "1.5 MiB", "40 GiB"). */
static const char *human_size(uint64_t v, char buf[32])
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

static uint64_t page_down(uint64_t x, uint64_t ps)
{
	return x & ~(ps - 1);
}

/* Round up; saturates at the last page instead of wrapping. */
static uint64_t page_up(uint64_t x, uint64_t ps)
{
	if (x > UINT64_MAX - (ps - 1))
		return page_down(UINT64_MAX, ps);
	return page_down(x + ps - 1, ps);
}

/* Length of name without a trailing " (deleted)". */
static size_t stripped_len(const char *name)
{
	size_t n = strlen(name), s = sizeof DELETED_SUFFIX - 1;

	if (n > s && strcmp(name + n - s, DELETED_SUFFIX) == 0)
		return n - s;
	return n;
}

static bool has_deleted_suffix(const char *name)
{
	return stripped_len(name) != strlen(name);
}

static bool same_file_name(const char *a, const char *b)
{
	size_t la = stripped_len(a), lb = stripped_len(b);

	return la == lb && memcmp(a, b, la) == 0;
}

/* ---- files ------------------------------------------------------------ */

/* mmap path read-only.  On failure returns -1 with *errno_out set (0 when
 * the failure is not an errno one) and err filled with a generic message. */
static int map_file(const char *path, const char *role, struct mapping *m,
		    int *errno_out, struct ms_error *err)
{
	struct stat st;
	void *p;
	int fd, e;

	*errno_out = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errno_out = e = errno;
		return ms_err(err, MS_EOPEN, "%s: cannot open %s: %s", path,
			      role, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		*errno_out = e = errno;
		close(fd);
		return ms_err(err, MS_EOPEN, "%s: cannot read %s: %s", path,
			      role, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*errno_out = S_ISDIR(st.st_mode) ? EISDIR : 0;
		return ms_err(err, MS_EOPEN, "%s: cannot read %s: %s", path,
			      role, S_ISDIR(st.st_mode) ? "is a directory"
						       : "not a regular file");
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
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		*errno_out = e;
		return ms_err(err, MS_EOPEN, "%s: cannot map %s: %s", path,
			      role, strerror(e));
	}
	m->base = p;
	m->size = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapping *m)
{
	if (m->base)
		munmap((void *)m->base, m->size);
	m->base = NULL;
	m->size = 0;
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386:     return "i386";
	case EM_ARM:     return "32-bit arm";
	case EM_AARCH64: return "arm64";
	case EM_PPC64:   return "ppc64";
	case EM_S390:    return "s390x";
	case EM_RISCV:   return "riscv";
	case EM_MIPS:    return "mips";
	}
	return "unknown";
}

/* Identification and header checks common to core and executable.  what is
 * "core file" or "executable"; fix is the advice for a truncated file. */
static int check_ehdr(const struct mapping *m, const char *path,
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
			      "%s: %s ELF %s is not supported (only 64-bit little-endian x86-64 is)",
			      path, id[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid-class",
			      what);
	if (id[EI_DATA] != ELFDATA2LSB)
		return ms_err(err, MS_EFORMAT,
			      "%s: %s ELF %s is not supported (only 64-bit little-endian x86-64 is)",
			      path, id[EI_DATA] == ELFDATA2MSB ? "big-endian" : "invalid-byte-order",
			      what);
	if (m->size < sizeof *eh)
		return ms_err(err, MS_EFORMAT,
			      "%s: truncated ELF header (%zu of %zu bytes present); %s",
			      path, m->size, sizeof *eh, fix);
	memcpy(eh, m->base, sizeof *eh);
	if (eh->e_machine != EM_X86_64)
		return ms_err(err, MS_EFORMAT,
			      "%s: %s for machine %u (%s) is not supported (only 64-bit little-endian x86-64 is)",
			      path, what, eh->e_machine,
			      machine_name(eh->e_machine));
	return 0;
}

/* Copy the program header table out of the file, checking it fits.  Handles
 * extended numbering (e_phnum == PN_XNUM, real count in section 0). */
static int read_phdrs(const struct mapping *m, const char *path,
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
			      human_size(m->size, a), human_size(need, b), fix);
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
static int check_phdr_numbers(const Elf64_Phdr *p, size_t idx,
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
static int check_truncation(const Elf64_Phdr *ph, size_t n,
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
				      human_size(m->size, a),
				      human_size(need, b), fix);
		return ms_err(err, MS_EFORMAT,
			      "%s: truncated %s (segment at 0x%" PRIx64
			      " extends past end of file, %s of %s present); %s",
			      path, what, (uint64_t)bad->p_vaddr,
			      human_size(m->size, a), human_size(need, b), fix);
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
static int sort_segs(struct seg *s, size_t n, const char *path,
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

/* ---- notes ------------------------------------------------------------ */

#define CORE_FIX "re-capture the core"

static int corrupt_note(struct target *t, struct ms_error *err,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int corrupt_note(struct target *t, struct ms_error *err,
			const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return ms_err(err, MS_EFORMAT, "%s: corrupt core file (%s); " CORE_FIX,
		      t->core_path, why);
}

static int note_prstatus(struct target *t, const unsigned char *d,
			 uint64_t n, struct ms_error *err)
{
	struct target_thread *th;

	if (n < PRSTATUS_MIN_SIZE)
		return corrupt_note(t, err,
				    "NT_PRSTATUS note of %" PRIu64
				    " bytes, expected at least %d",
				    n, PRSTATUS_MIN_SIZE);
	if (t->nthreads == t->cap_threads) {
		size_t cap = t->cap_threads ? 2 * t->cap_threads : 8;

		th = realloc(t->threads, cap * sizeof *th);
		if (!th)
			return ms_err(err, MS_EINTERNAL,
				      "%s: out of memory for threads",
				      t->core_path);
		t->threads = th;
		t->cap_threads = cap;
	}
	th = &t->threads[t->nthreads++];
	th->tid = (int32_t)le32(d + PRSTATUS_PID_OFF);
	th->rip = le64(d + PRSTATUS_REGS_OFF + 8 * REG_RIP);
	th->rsp = le64(d + PRSTATUS_REGS_OFF + 8 * REG_RSP);
	th->rbp = le64(d + PRSTATUS_REGS_OFF + 8 * REG_RBP);
	return 0;
}

static void note_auxv(struct target *t, const unsigned char *d, uint64_t n)
{
	uint64_t i;

	if (t->have_entry)
		return;
	for (i = 0; i + 16 <= n; i += 16) {
		uint64_t type = le64(d + i), val = le64(d + i + 8);

		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY) {
			t->have_entry = true;
			t->at_entry = val;
			break;
		}
	}
}

static void note_prpsinfo(struct target *t, const unsigned char *d,
			  uint64_t n)
{
	size_t i;

	if (t->fname[0] || n < PRPSINFO_FNAME_OFF + PRPSINFO_FNAME_LEN)
		return;
	for (i = 0; i < PRPSINFO_FNAME_LEN; i++) {
		unsigned char c = d[PRPSINFO_FNAME_OFF + i];

		if (c == 0)
			break;
		t->fname[i] = (c < 0x20 || c >= 0x7f || c == '"') ? '?' : (char)c;
	}
	t->fname[i] = '\0';
}

static int note_file(struct target *t, const unsigned char *d, uint64_t n,
		     struct ms_error *err)
{
	uint64_t count, ps, i, pos, room;
	const char *names;

	if (t->have_files)
		return 0; /* only the first NT_FILE counts */
	if (n < 16)
		return corrupt_note(t, err, "NT_FILE note of %" PRIu64
				    " bytes is too short", n);
	count = le64(d);
	ps = le64(d + 8);
	if (ps == 0 || (ps & (ps - 1)) != 0 || ps > (1u << 30))
		return corrupt_note(t, err, "NT_FILE note gives page size %" PRIu64, ps);
	room = (n - 16) / 24;
	if (count > room)
		return corrupt_note(t, err,
				    "NT_FILE note claims %" PRIu64
				    " mappings but has room for at most %" PRIu64,
				    count, room);
	if (count) {
		t->files = calloc(count, sizeof *t->files);
		if (!t->files)
			return ms_err(err, MS_EINTERNAL,
				      "%s: out of memory for %" PRIu64 " file mappings",
				      t->core_path, count);
	}
	names = (const char *)d + 16 + count * 24;
	room = n - 16 - count * 24; /* bytes of names */
	pos = 0;
	for (i = 0; i < count; i++) {
		const unsigned char *e = d + 16 + i * 24;
		struct file_map *f = &t->files[i];
		const char *nul;

		f->start = le64(e);
		f->end = le64(e + 8);
		f->offset = le64(e + 16);
		if (f->start > f->end)
			return corrupt_note(t, err,
					    "NT_FILE mapping %" PRIu64 " ends (0x%" PRIx64
					    ") before it starts (0x%" PRIx64 ")",
					    i, f->end, f->start);
		if (f->offset > UINT64_MAX / ps)
			return corrupt_note(t, err,
					    "NT_FILE mapping %" PRIu64
					    " has file page offset 0x%" PRIx64 " out of range",
					    i, f->offset);
		f->offset *= ps;
		nul = pos < room ? memchr(names + pos, 0, room - pos) : NULL;
		if (!nul)
			return corrupt_note(t, err,
					    "NT_FILE note lists %" PRIu64
					    " mappings but only %" PRIu64 " file names",
					    count, i);
		f->name = names + pos;
		pos = (uint64_t)(nul - names) + 1;
	}
	t->nfiles = count;
	t->have_files = true;
	t->page_size = ps;
	return 0;
}

static int parse_notes(struct target *t, const unsigned char *d, uint64_t len,
		       uint64_t align, struct ms_error *err)
{
	uint64_t off = 0;

	while (len - off >= 12) {
		uint64_t namesz = le32(d + off), descsz = le32(d + off + 4);
		uint32_t type = le32(d + off + 8);
		uint64_t at = off, name_off = off + 12, desc_off, next;
		const unsigned char *name, *desc;
		bool core;

		/* Name and descriptor are each padded to align bytes; the
		 * padding after the last descriptor may be missing. */
		if (namesz > len - name_off ||
		    (namesz + align - 1) / align * align > len - name_off)
			return corrupt_note(t, err,
					    "note at offset 0x%" PRIx64
					    " has a name running past its segment", at);
		desc_off = name_off + (namesz + align - 1) / align * align;
		if (descsz > len - desc_off)
			return corrupt_note(t, err,
					    "note at offset 0x%" PRIx64
					    " has %" PRIu64 " bytes of data but its segment has %" PRIu64 " left",
					    at, descsz, len - desc_off);
		next = desc_off + (descsz + align - 1) / align * align;
		name = d + name_off;
		desc = d + desc_off;
		core = (namesz == 5 && memcmp(name, "CORE", 5) == 0) ||
		       (namesz == 4 && memcmp(name, "CORE", 4) == 0);
		if (core) {
			int r = 0;

			switch (type) {
			case NT_PRSTATUS:
				r = note_prstatus(t, desc, descsz, err);
				break;
			case NT_AUXV:
				note_auxv(t, desc, descsz);
				break;
			case NT_PRPSINFO:
				note_prpsinfo(t, desc, descsz);
				break;
			case NT_FILE:
				r = note_file(t, desc, descsz, err);
				break;
			}
			if (r < 0)
				return r;
		}
		if (next >= len)
			break;
		off = next;
	}
	return 0;
}

/* ---- lookup ----------------------------------------------------------- */

/* Number of segments with vaddr <= addr (index of the first one above). */
static size_t upper(const struct seg *s, size_t n, uint64_t addr)
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
static const unsigned char *locate_core(const struct target *t, uint64_t addr,
					uint64_t *avail, size_t *above)
{
	size_t i = upper(t->cseg, t->ncseg, addr);

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

/* Where the image's byte at addr lives, and how many bytes from there on
 * come from the same place.  NULL when addr is unreadable. */
static const unsigned char *locate(const struct target *t, uint64_t addr,
				   uint64_t *avail)
{
	const unsigned char *p;
	uint64_t limit;
	size_t i, j;

	p = locate_core(t, addr, avail, &i);
	if (p) {
		struct touch *tc = t->touch;
		size_t g = (size_t)(p - t->core.base) >> TRIM_GRANULE_SHIFT;
		uint64_t bit = 1ull << (g & 63);
		if (tc->bits && g / 64 < tc->nwords && !(tc->bits[g / 64] & bit)) {
			tc->bits[g / 64] |= bit;
			if (++tc->granules >= TRIM_GRANULES) {
				tc->granules = 0;
				memset(tc->bits, 0, tc->nwords * sizeof(*tc->bits));
				madvise((void *)t->core.base, t->core.size, MADV_DONTNEED);
			}
		}
		return p;
	}
	/* The executable serves addr, up to the next core segment (whose
	 * dumped bytes, if any, take precedence). */
	limit = i < t->ncseg ? t->cseg[i].vaddr - addr : UINT64_MAX;
	j = upper(t->eseg, t->neseg, addr);
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
	size_t j = upper(t->eseg, t->neseg, addr);
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
			if (live_read(t, a, &b, 1))
				return false;
			if ((a | 4095) >= last)
				break;
		}
		return live_read(t, last, &b, 1) == 0;
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
		return live_read(t, addr, buf, n);
	p = locate(t, addr, &avail);
	if (!p)
		return -1;
	if (avail >= n) { /* the common case: one piece */
		memcpy(out, p, n);
		return 0;
	}
	/* Check the whole range before copying anything. */
	for (cur = addr + avail, left = n - avail; left;) {
		if (!locate(t, cur, &avail))
			return -1;
		if (avail >= left)
			break;
		cur += avail;
		left -= avail;
	}
	for (cur = addr, left = n; left;) {
		uint64_t k;

		p = locate(t, cur, &avail);
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
	p = locate(t, addr, &avail);
	if (!p || avail < n)
		return NULL;
	return p;
}

int target_read_u64(const struct target *t, uint64_t addr, uint64_t *out)
{
	unsigned char b[8];

	if (target_read(t, addr, b, sizeof b) < 0)
		return -1;
	*out = le64(b);
	return 0;
}

const char *target_exe_path(const struct target *t)
{
	return t ? t->exe_path : NULL;
}

const char *target_source_path(const struct target *t)
{
	return t ? t->core_path : NULL;
}

uint64_t target_exe_bias(const struct target *t)
{
	return t ? t->bias : 0;
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
	if (t->stopped)
		target_resume(t);
	live_free(t->live);
	free(t->exe_name);
	unmap_file(&t->core);
	unmap_file(&t->exe);
	free(t->cseg);
	free(t->eseg);
	free(t->files);
	free(t->threads);
	free(t->core_path);
	free(t->exe_path);
	if (t->touch)
		free(t->touch->bits);
	free(t->touch);
	free(t);
}

/* ---- opening ---------------------------------------------------------- */

static int load_core(struct target *t, struct ms_error *err)
{
	const char *path = t->core_path;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	size_t n = 0, i;
	int r = -1;

	if (check_ehdr(&t->core, path, "core file", CORE_FIX, &eh, err) < 0)
		return -1;
	if (eh.e_type != ET_CORE) {
		if (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)
			return ms_err(err, MS_EFORMAT,
				      "%s: not a core file but an executable; pass the core file first and the executable with --exe",
				      path);
		return ms_err(err, MS_EFORMAT,
			      "%s: not a core file (ELF type %u)", path,
			      eh.e_type);
	}
	if (read_phdrs(&t->core, path, "core file", CORE_FIX, &eh, &ph, &n,
		       err) < 0)
		return -1;
	if (n == 0)
		return ms_err(err, MS_EFORMAT,
			      "%s: core file has no program headers; " CORE_FIX,
			      path);
	for (i = 0; i < n; i++) {
		if ((ph[i].p_type == PT_LOAD || ph[i].p_type == PT_NOTE) &&
		    check_phdr_numbers(&ph[i], i, path, CORE_FIX, err) < 0)
			goto out;
	}
	if (check_truncation(ph, n, &t->core, path, "core file", CORE_FIX,
			     err) < 0)
		goto out;

	t->cseg = calloc(n, sizeof *t->cseg);
	if (!t->cseg) {
		ms_err(err, MS_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];
		struct seg *s;

		if (p->p_type == PT_NOTE && p->p_filesz) {
			uint64_t align = p->p_align == 8 ? 8 : 4;

			if (parse_notes(t, t->core.base + p->p_offset,
					p->p_filesz, align, err) < 0)
				goto out;
		}
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		s = &t->cseg[t->ncseg++];
		s->vaddr = p->p_vaddr;
		s->memsz = p->p_memsz;
		s->filesz = p->p_filesz;
		s->offset = p->p_offset;
		s->data = p->p_filesz ? t->core.base + p->p_offset : NULL;
		s->flags = p->p_flags;
		s->index = i;
	}
	if (sort_segs(t->cseg, t->ncseg, path, "core file", CORE_FIX, err) < 0)
		goto out;
	r = 0;
out:
	free(ph);
	return r;
}

/* The NT_FILE entry of the main program: the one mapping AT_ENTRY, else
 * the lowest-addressed mapping of a file from offset 0. */
static const struct file_map *core_exe_entry(const struct target *t)
{
	const struct file_map *best = NULL;
	size_t i;

	if (t->have_entry) {
		for (i = 0; i < t->nfiles; i++) {
			const struct file_map *f = &t->files[i];

			if (f->start <= t->at_entry && t->at_entry < f->end)
				return f;
		}
	}
	for (i = 0; i < t->nfiles; i++) {
		const struct file_map *f = &t->files[i];

		if (f->offset == 0 && (!best || f->start < best->start))
			best = f;
	}
	return best;
}

/* Open the executable the core names. */
static int find_exe(struct target *t, struct ms_error *err)
{
	const struct file_map *f = core_exe_entry(t);
	char proc[64] = "";
	size_t len;
	int e;

	if (t->fname[0])
		snprintf(proc, sizeof proc, "; the process was \"%s\"", t->fname);
	if (!f)
		return ms_err(err, MS_EOPEN,
			      "%s: the core does not name its executable (%s%s); pass it with --exe PATH",
			      t->core_path,
			      t->have_files ? "no main program in its NT_FILE note"
					    : "it has no NT_FILE note",
			      proc);
	len = stripped_len(f->name);
	t->exe_path = malloc(len + 1);
	if (!t->exe_path)
		return ms_err(err, MS_EINTERNAL, "%s: out of memory", t->core_path);
	memcpy(t->exe_path, f->name, len);
	t->exe_path[len] = '\0';
	t->exe_from_core = true;
	if (map_file(t->exe_path, "executable", &t->exe, &e, err) == 0)
		return 0;
	if (err && err->code != MS_EOPEN)
		return -1;
	if (has_deleted_suffix(f->name))
		return ms_err(err, MS_EOPEN,
			      "%s: the core names executable %s, which was deleted after the process started (%s: %s); pass a copy of that exact binary with --exe PATH",
			      t->core_path, t->exe_path, t->exe_path,
			      e ? strerror(e) : "not a regular file");
	return ms_err(err, MS_EOPEN,
		      "%s: cannot open executable %s named by the core (%s); pass the executable with --exe PATH",
		      t->core_path, t->exe_path,
		      e ? strerror(e) : "not a regular file");
}

static int mismatch(const struct target *t, struct ms_error *err,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int mismatch(const struct target *t, struct ms_error *err,
		    const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (t->pid)
		return ms_err(err, MS_EMISMATCH,
			      "%s: executable does not match process %d (%s); pass a copy of the binary the process runs, or leave out --exe",
			      t->exe_path, t->pid, why);
	if (t->exe_from_core)
		return ms_err(err, MS_EMISMATCH,
			      "%s: executable does not match core %s (%s); it was probably rebuilt since the core was written: pass the exact binary that produced the core with --exe",
			      t->exe_path, t->core_path, why);
	return ms_err(err, MS_EMISMATCH,
		      "%s: executable does not match core %s (%s); pass the exact binary that produced the core with --exe",
		      t->exe_path, t->core_path, why);
}

/* Name under which the core maps the executable, if known. */
static const char *core_exe_name(const struct target *t)
{
	const struct file_map *f;

	if (!t->have_files)
		return NULL;
	f = core_exe_entry(t);
	return f ? f->name : NULL;
}

static int load_exe(struct target *t, struct ms_error *err)
{
	const char *path = t->exe_path;
	const char *fix = "pass an intact copy of the binary with --exe";
	const char *cname = core_exe_name(t);
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	size_t n = 0, i;
	int r = -1;

	if (check_ehdr(&t->exe, path, "executable", fix, &eh, err) < 0)
		return -1;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		if (eh.e_type == ET_CORE)
			return ms_err(err, MS_EFORMAT,
				      "%s: a core file, not an executable; pass the program binary with --exe",
				      path);
		return ms_err(err, MS_EFORMAT,
			      "%s: not an executable (ELF type %u); pass the program binary with --exe",
			      path, eh.e_type);
	}
	t->exe_type = eh.e_type;
	t->exe_entry = eh.e_entry;
	if (read_phdrs(&t->exe, path, "executable", fix, &eh, &ph, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((ph[i].p_type == PT_LOAD || ph[i].p_type == PT_NOTE) &&
		    check_phdr_numbers(&ph[i], i, path, fix, err) < 0)
			goto out;
	}
	if (check_truncation(ph, n, &t->exe, path, "executable", fix, err) < 0)
		goto out;

	/* Load bias. */
	if (t->have_entry) {
		t->bias = t->at_entry - eh.e_entry;
		if ((eh.e_type == ET_EXEC && t->bias != 0) ||
		    page_down(t->bias, t->page_size) != t->bias) {
			r = mismatch(t, err,
				     "entry point 0x%" PRIx64 " vs 0x%" PRIx64 " in the core",
				     (uint64_t)eh.e_entry, t->at_entry);
			goto out;
		}
	} else if (eh.e_type == ET_DYN && cname) {
		/* No auxv: take the bias from where the core maps the
		 * file's first page. */
		for (i = 0; i < n; i++) {
			size_t k;

			if (ph[i].p_type != PT_LOAD || ph[i].p_offset >= t->page_size)
				continue;
			for (k = 0; k < t->nfiles; k++) {
				const struct file_map *f = &t->files[k];

				if (f->offset == 0 && same_file_name(f->name, cname)) {
					t->bias = f->start - page_down(ph[i].p_vaddr, t->page_size);
					break;
				}
			}
			break;
		}
	}

	t->eseg = calloc(n ? n : 1, sizeof *t->eseg);
	if (!t->eseg) {
		ms_err(err, MS_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];
		struct seg *s;

		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		s = &t->eseg[t->neseg++];
		s->vaddr = p->p_vaddr + t->bias;
		if (p->p_memsz > UINT64_MAX - s->vaddr) {
			r = mismatch(t, err,
				     "segment %zu does not fit in the address space at load bias 0x%" PRIx64,
				     i, t->bias);
			goto out;
		}
		s->memsz = p->p_memsz;
		s->filesz = p->p_filesz;
		s->offset = p->p_offset;
		s->data = p->p_filesz ? t->exe.base + p->p_offset : NULL;
		s->flags = p->p_flags;
		s->index = i;
	}
	if (t->neseg == 0) {
		ms_err(err, MS_EFORMAT,
		       "%s: executable has no loadable segments; %s", path, fix);
		goto out;
	}
	if (sort_segs(t->eseg, t->neseg, path, "executable", fix, err) < 0)
		goto out;
	r = 0;
out:
	free(ph);
	return r;
}

/* Compare the core's dumped bytes in [a, a+len) with the executable's bytes
 * at data.  Returns true, with the first differing address in *where, when
 * any dumped byte differs; bytes the core did not dump are not compared. */
static bool dumped_differs(const struct target *t, uint64_t a, uint64_t len,
			   const unsigned char *data, uint64_t *where)
{
	uint64_t end = a + len; /* callers pass ranges that do not wrap */
	size_t i = upper(t->cseg, t->ncseg, a);

	if (i > 0)
		i--;
	for (; i < t->ncseg && t->cseg[i].vaddr < end; i++) {
		const struct seg *s = &t->cseg[i];
		uint64_t lo = s->vaddr > a ? s->vaddr : a;
		uint64_t hi = s->vaddr + s->filesz < end ? s->vaddr + s->filesz : end;
		const unsigned char *x, *y;
		uint64_t k;

		if (lo >= hi)
			continue;
		x = s->data + (lo - s->vaddr);
		y = data + (lo - a);
		if (memcmp(x, y, hi - lo) == 0)
			continue;
		for (k = 0; x[k] == y[k]; k++)
			;
		*where = lo + k;
		return true;
	}
	return false;
}

static int check_match(struct target *t, struct ms_error *err)
{
	const char *cname = core_exe_name(t);
	uint64_t ps = t->page_size, where;
	size_t i, k;

	/* The first page of offset-0 segments: ELF header, program headers
	 * and (for Go) the build ID note.  Then everything dumped that
	 * overlaps a read-only segment. */
	for (i = 0; i < t->neseg; i++) {
		const struct seg *s = &t->eseg[i];

		if (s->offset == 0 && s->filesz) {
			uint64_t len = s->filesz < ps ? s->filesz : ps;

			if (dumped_differs(t, s->vaddr, len, s->data, &where))
				return mismatch(t, err,
						"first page at 0x%" PRIx64
						" differs from the file at byte 0x%" PRIx64
						": ELF header, program headers or build ID",
						s->vaddr, where - s->vaddr);
		}
		if (!(s->flags & PF_W) && s->filesz &&
		    dumped_differs(t, s->vaddr, s->filesz, s->data, &where))
			return mismatch(t, err,
					"read-only memory at 0x%" PRIx64
					" differs from file offset 0x%" PRIx64,
					where, s->offset + (where - s->vaddr));
	}

	/* NT_FILE mappings of the executable must agree with its program
	 * headers: same address <-> file offset correspondence, inside the
	 * file. */
	if (!cname)
		return 0;
	for (k = 0; k < t->nfiles; k++) {
		const struct file_map *f = &t->files[k];
		bool hit = false;

		if (!same_file_name(f->name, cname) || f->start == f->end)
			continue;
		if (f->offset >= page_up(t->exe.size, ps))
			return mismatch(t, err,
					"the core maps file offset 0x%" PRIx64
					" at 0x%" PRIx64 ", past the end of the %zu-byte file",
					f->offset, f->start, t->exe.size);
		for (i = 0; i < t->neseg; i++) {
			const struct seg *s = &t->eseg[i];
			uint64_t lo = page_down(s->vaddr, ps);
			uint64_t hi = page_up(s->vaddr + s->memsz, ps);
			uint64_t want;

			if (f->end <= lo || f->start >= hi)
				continue;
			hit = true;
			/* Where the segment's program headers put file
			 * offset f->offset. */
			want = f->offset + (lo - page_down(s->offset, ps));
			if (want != f->start)
				return mismatch(t, err,
						"the core maps file offset 0x%" PRIx64
						" at 0x%" PRIx64 ", the program headers put it at 0x%" PRIx64,
						f->offset, f->start, want);
		}
		if (!hit)
			return mismatch(t, err,
					"the core maps the executable at 0x%" PRIx64 "-0x%" PRIx64
					", where it has no segment",
					f->start, f->end);
	}
	return 0;
}

struct target *target_open_core(const char *core_path, const char *exe_path,
				struct ms_error *err)
{
	struct target *t;
	int e;

	if (!core_path) {
		ms_err(err, MS_EUSAGE, "no core file given");
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (!t || !(t->core_path = strdup(core_path)) ||
	    !(t->touch = calloc(1, sizeof(*t->touch))) ||
	    (exe_path && !(t->exe_path = strdup(exe_path)))) {
		ms_err(err, MS_EINTERNAL, "%s: out of memory", core_path);
		target_close(t);
		return NULL;
	}
	t->page_size = DEFAULT_PAGE_SIZE;
	if (map_file(core_path, "core file", &t->core, &e, err) < 0 ||
	    load_core(t, err) < 0)
		goto fail;
	/* Without the bitmap (no memory) reads work, just without trimming. */
	t->touch->nwords = ((t->core.size >> TRIM_GRANULE_SHIFT) + 64) / 64;
	t->touch->bits = calloc(t->touch->nwords, sizeof(*t->touch->bits));
	if (exe_path) {
		if (map_file(exe_path, "executable", &t->exe, &e, err) < 0)
			goto fail;
	} else if (find_exe(t, err) < 0) {
		goto fail;
	}
	if (load_exe(t, err) < 0 || check_match(t, err) < 0)
		goto fail;
	return t;
fail:
	target_close(t);
	return NULL;
}

/* ---- live processes --------------------------------------------------- */

/* Reads from a live process go through a small cache: 64 KiB chunks read
 * with one process_vm_readv each (map walkers make millions of small
 * reads; one system call each would dominate the pause), 2-way set
 * associative, at most 16 MiB.  A chunk remembers which of its pages could
 * be read, so a hole costs one failed read, not one per access.
 *
 * Measured on a 1.4 GiB process with 70,000 maps: 64 KiB pieces copy
 * fastest (5.7 GB/s, against about 2 GB/s for 256 KiB or 1 MiB, which no
 * longer fit in the CPU's cache), and a walk touches nearly every chunk
 * once, so a cache of 16 or 64 MiB makes the same number of reads. */
#define CHUNK_SHIFT 16
#define CHUNK_SIZE ((uint64_t)1 << CHUNK_SHIFT)
#define LPAGE 4096u
#define CACHE_SETS 128
#define CACHE_WAYS 2
#define DIRECT_MIN (4 * CHUNK_SIZE)   /* larger reads bypass the cache */
#define USER_TOP ((uint64_t)1 << 62)  /* no user address is above this */
#define REFRESH_NS 100000000u         /* --no-stop: re-read maps at most every 100 ms */

struct chunk {
	uint64_t base;             /* address; meaningless while data is NULL */
	uint64_t used;             /* tick of the last use, for LRU */
	uint32_t valid;            /* bit i: page i of the chunk was read */
	bool filled;
	unsigned char *data;
};

struct span {
	uint64_t start, end;       /* readable per /proc/PID/maps */
};

/* Everything a const reader may change lives here, behind a pointer. */
struct live {
	struct live_mem mem;
	struct span *readable;
	size_t nreadable;
	uint64_t readable_ns;      /* when /proc/PID/maps was read */
	struct chunk cache[CACHE_SETS][CACHE_WAYS];
	uint64_t tick;
	bool gone;                 /* a read said ESRCH */
	bool denied;               /* a read said EPERM */
	int deny_errno;
};

static void live_free(struct live *L)
{
	if (!L)
		return;
	live_mem_close(&L->mem);
	free(L->readable);
	for (size_t s = 0; s < CACHE_SETS; s++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			free(L->cache[s][w].data);
	free(L);
}

static void live_forget(struct live *L)
{
	for (size_t s = 0; s < CACHE_SETS; s++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			L->cache[s][w].filled = false;
}

/* Re-read the readable ranges.  Adjacent ranges are merged. */
static int refresh_readable(struct live *L, int pid, struct ms_error *err)
{
	struct live_range *r;
	size_t n, k = 0;
	struct span *s;

	if (live_ranges_read(pid, &r, &n, err) < 0)
		return -1;
	s = malloc(n * sizeof(*s));
	if (!s) {
		live_ranges_free(r, n);
		return ms_err(err, MS_EINTERNAL, "out of memory for the maps of process %d", pid);
	}
	for (size_t i = 0; i < n; i++) {
		if (r[i].perms[0] != 'r' || r[i].end <= r[i].start)
			continue;
		if (k && s[k - 1].end == r[i].start)
			s[k - 1].end = r[i].end;
		else
			s[k++] = (struct span){ r[i].start, r[i].end };
	}
	live_ranges_free(r, n);
	free(L->readable);
	L->readable = s;
	L->nreadable = k;
	L->readable_ns = live_now_ns();
	return 0;
}

/* Index of the first readable span ending above addr. */
static size_t span_above(const struct live *L, uint64_t addr)
{
	size_t lo = 0, hi = L->nreadable;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (L->readable[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void note_errno(struct live *L, int e)
{
	if (e == ESRCH)
		L->gone = true;
	else if (e == EPERM || e == EACCES) {
		L->denied = true;
		L->deny_errno = e;
	}
}

static void mark_valid(struct chunk *c, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p + LPAGE <= hi; p += LPAGE)
		c->valid |= 1u << ((p - c->base) / LPAGE);
}

/* Read [lo, hi) of chunk c (page aligned, inside one readable span): in
 * one piece, then page by page past the first page that fails. */
static void read_span(struct live *L, struct chunk *c, uint64_t lo, uint64_t hi)
{
	ssize_t k = live_mem_read(&L->mem, lo, c->data + (lo - c->base), hi - lo);

	if (k < 0) {
		note_errno(L, errno);
		if (L->gone || L->denied)
			return;
		k = 0;
	}
	mark_valid(c, lo, lo + (uint64_t)k);
	if ((uint64_t)k == hi - lo)
		return;
	for (uint64_t p = lo + ((uint64_t)k & ~(uint64_t)(LPAGE - 1)); p < hi; p += LPAGE) {
		if (live_mem_read(&L->mem, p, c->data + (p - c->base), LPAGE) == LPAGE)
			c->valid |= 1u << ((p - c->base) / LPAGE);
		else if (errno == ESRCH || errno == EPERM || errno == EACCES) {
			note_errno(L, errno);
			return;
		}
	}
}

static void fill_chunk(const struct target *t, struct chunk *c, uint64_t base)
{
	struct live *L = t->live;
	uint64_t end = base + CHUNK_SIZE;
	size_t i = span_above(L, base);

	/* --no-stop: the process may have mapped memory since we looked. */
	if ((i == L->nreadable || L->readable[i].start >= end) && t->popts.no_stop &&
	    live_now_ns() - L->readable_ns > REFRESH_NS && refresh_readable(L, t->pid, NULL) == 0)
		i = span_above(L, base);
	c->base = base;
	c->valid = 0;
	c->filled = true;
	for (; i < L->nreadable && L->readable[i].start < end && !L->gone && !L->denied; i++) {
		uint64_t lo = L->readable[i].start > base ? L->readable[i].start : base;
		uint64_t hi = L->readable[i].end < end ? L->readable[i].end : end;

		read_span(L, c, lo, hi);
	}
}

static const struct chunk *get_chunk(const struct target *t, uint64_t base)
{
	struct live *L = t->live;
	struct chunk *way = L->cache[(base >> CHUNK_SHIFT) % CACHE_SETS], *victim = &way[0];

	L->tick++;
	for (size_t w = 0; w < CACHE_WAYS; w++) {
		if (way[w].filled && way[w].base == base) {
			way[w].used = L->tick;
			return &way[w];
		}
		if (!way[w].filled || way[w].used < victim->used)
			victim = &way[w];
	}
	if (!victim->data && !(victim->data = malloc(CHUNK_SIZE)))
		return NULL;
	fill_chunk(t, victim, base);
	victim->used = L->tick;
	return victim;
}

static bool pages_valid(const struct chunk *c, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo / LPAGE; p <= (hi - 1) / LPAGE; p++)
		if (!(c->valid & (1u << p)))
			return false;
	return true;
}

/* A large read (a Swiss map's directory): straight from the process, if
 * every byte lies in readable ranges. */
static int read_direct(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	struct live *L = t->live;
	uint64_t cur = addr, end = addr + n;
	unsigned char *out = buf;

	for (size_t i = span_above(L, addr); cur < end; i++) {
		if (i >= L->nreadable || L->readable[i].start > cur)
			return -1;
		cur = L->readable[i].end;
	}
	for (cur = addr; cur < end;) {
		ssize_t k = live_mem_read(&L->mem, cur, out + (cur - addr), end - cur);

		if (k <= 0) {
			if (k < 0)
				note_errno(L, errno);
			return -1;
		}
		cur += (uint64_t)k;
	}
	return 0;
}

static int live_read(const struct target *t, uint64_t addr, void *buf, size_t n)
{
	struct live *L = t->live;
	unsigned char *out = buf;

	if (L->gone || L->denied || addr >= USER_TOP || n >= USER_TOP - addr)
		return -1;
	if (n >= DIRECT_MIN)
		return read_direct(t, addr, buf, n);
	/* Check every chunk first (no partial copies), then copy: the few
	 * chunks of one read sit in consecutive sets, so they stay cached. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t a = addr, left = n;

		while (left) {
			uint64_t base = a & ~(CHUNK_SIZE - 1), off = a - base;
			uint64_t k = CHUNK_SIZE - off < left ? CHUNK_SIZE - off : left;
			const struct chunk *c = get_chunk(t, base);

			if (!c || !pages_valid(c, off, off + k))
				return -1;
			if (pass)
				memcpy(out + (a - addr), c->data + off, k);
			a += k;
			left -= k;
		}
	}
	return 0;
}

/* Read a whole small /proc file; returns its length or -1 with errno. */
static ssize_t slurp(const char *path, unsigned char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len < size) {
		ssize_t k = read(fd, buf + len, size - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = errno;
			close(fd);
			if (k < 0) {
				errno = e;
				return -1;
			}
			return (ssize_t)len;
		}
		len += (size_t)k;
	}
	close(fd);
	return (ssize_t)len;
}

/* An error opening something of process pid: permission is explained,
 * a vanished process said so. */
static int pid_open_error(int pid, const char *what, const char *path, int e,
			  struct ms_error *err)
{
	if (e == EACCES || e == EPERM)
		return live_perm_error(pid, what, e, err);
	if (!live_proc_alive(pid))
		return ms_err(err, MS_EPROCESS, "process %d exited", pid);
	return ms_err(err, MS_EPROCESS, "%s: cannot read: %s", path, strerror(e));
}

/* With --exe: every read-only byte the file has must be what the process
 * has mapped, or the DWARF describes some other build. */
static int check_live_match(struct target *t, struct ms_error *err)
{
	unsigned char buf[16384];

	for (size_t i = 0; i < t->neseg; i++) {
		const struct seg *s = &t->eseg[i];

		if (s->flags & PF_W)
			continue;
		for (uint64_t off = 0; off < s->filesz; off += sizeof(buf)) {
			uint64_t k = s->filesz - off < sizeof(buf) ? s->filesz - off : sizeof(buf);

			if (target_read(t, s->vaddr + off, buf, k) < 0) {
				if (t->live->denied)
					return live_perm_error(t->pid, "read the memory of",
							       t->live->deny_errno, err);
				if (t->live->gone)
					return ms_err(err, MS_EPROCESS, "process %d exited", t->pid);
				continue; /* not mapped: nothing to compare */
			}
			if (memcmp(buf, s->data + off, k) != 0) {
				uint64_t j = 0;

				while (buf[j] == s->data[off + j])
					j++;
				return mismatch(t, err, "read-only memory at 0x%" PRIx64
						" differs from file offset 0x%" PRIx64,
						s->vaddr + off + j, s->offset + off + j);
			}
		}
	}
	return 0;
}

struct target *target_open_pid(int pid, const char *exe_override,
			       const struct target_pid_opts *o, struct ms_error *err)
{
	static const struct target_pid_opts defaults;
	struct live_proc proc;
	struct target *t;
	char path[64], link[4096];
	unsigned char auxv[8192];
	ssize_t k;
	int e;

	if (pid <= 0) {
		ms_err(err, MS_EUSAGE, "--pid needs a positive process id, not %d", pid);
		return NULL;
	}
	if (pid == getpid()) {
		ms_err(err, MS_EUSAGE, "process %d is mapscan itself", pid);
		return NULL;
	}
	if (live_proc_read(pid, &proc, err) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (!t || !(t->core_path = strdup(path)) || !(t->live = calloc(1, sizeof(*t->live)))) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		target_close(t);
		return NULL;
	}
	t->pid = pid;
	t->popts = o ? *o : defaults;
	t->page_size = DEFAULT_PAGE_SIZE;
	live_mem_init(&t->live->mem, pid);

	/* The link text names the file for people; the link itself opens
	 * the very file the process runs, deleted or replaced on disk. */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	k = readlink(path, link, sizeof(link) - 1);
	if (k < 0) {
		e = errno;
		if (e == ENOENT && live_proc_alive(pid))
			ms_err(err, MS_EPROCESS, "process %d (%s) has no executable file (it is "
			       "exiting?)", pid, proc.comm);
		else
			pid_open_error(pid, "read the executable of", path, e, err);
		goto fail;
	}
	link[k] = '\0';
	if (!(t->exe_name = strdup(exe_override ? exe_override : link)) ||
	    !(t->exe_path = strdup(exe_override ? exe_override : path))) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		goto fail;
	}
	if (map_file(t->exe_path, "executable", &t->exe, &e, err) < 0) {
		if (!exe_override && e)
			pid_open_error(pid, "read the executable of", path, e, err);
		goto fail;
	}

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	k = slurp(path, auxv, sizeof(auxv));
	if (k < 0) {
		pid_open_error(pid, "read the auxiliary vector of", path, errno, err);
		goto fail;
	}
	for (ssize_t i = 0; i + 16 <= k; i += 16) {
		uint64_t type = le64(auxv + i), val = le64(auxv + i + 8);

		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY) {
			t->have_entry = true;
			t->at_entry = val;
		} else if (type == AT_PAGESZ && val && !(val & (val - 1))) {
			t->page_size = val;
		}
	}
	if (load_exe(t, err) < 0)
		goto fail;
	if (refresh_readable(t->live, pid, err) < 0)
		goto fail;

	/* One read tells whether we may read at all, before anything else. */
	{
		uint64_t probe;
		uint64_t at = t->have_entry ? t->at_entry : t->eseg[0].vaddr;

		if (live_mem_read(&t->live->mem, at, &probe, sizeof(probe)) < 0) {
			e = errno;
			if (e == EPERM || e == EACCES)
				live_perm_error(pid, "read the memory of", e, err);
			else if (e == ESRCH || !live_proc_alive(pid))
				ms_err(err, MS_EPROCESS, "process %d exited", pid);
			else
				ms_err(err, MS_EPROCESS, "cannot read the memory of process %d at "
				       "0x%" PRIx64 ": %s", pid, at, strerror(e));
			goto fail;
		}
	}
	if (exe_override && check_live_match(t, err) < 0)
		goto fail;
	return t;
fail:
	target_close(t);
	return NULL;
}

int target_pid(const struct target *t)
{
	return t ? t->pid : 0;
}

const char *target_exe_name(const struct target *t)
{
	if (!t)
		return NULL;
	return t->exe_name ? t->exe_name : t->exe_path;
}

int target_stop(struct target *t, struct ms_error *err)
{
	const pid_t *tids;
	size_t n;

	if (!t || !t->live || t->popts.no_stop || t->stopped)
		return 0;
	if (live_stop(t->pid, t->popts.max_pause_ns, &t->held_threads, err) < 0)
		return -1;
	t->stopped = true;
	/* Whatever was read before the stop is stale. */
	live_forget(t->live);
	if (refresh_readable(t->live, t->pid, err) < 0) {
		target_resume(t);
		return -1;
	}
	/* Empty if a signal or the watchdog has already let go. */
	tids = live_held(&n);
	free(t->threads);
	t->nthreads = t->cap_threads = 0;
	t->threads = calloc(n ? n : 1, sizeof(*t->threads));
	for (size_t i = 0; t->threads && i < n; i++) {
		struct user_regs_struct regs;
		struct target_thread *th = &t->threads[t->nthreads++];

		th->tid = tids[i];
		if (ptrace(PTRACE_GETREGS, tids[i], NULL, &regs) == 0) {
			th->rip = regs.rip;
			th->rsp = regs.rsp;
			th->rbp = regs.rbp;
		}
	}
	t->cap_threads = t->nthreads;
	return 0;
}

void target_resume(struct target *t)
{
	if (!t || !t->stopped)
		return;
	t->paused_ns = live_resume();
	t->cut_short = live_cut_short();
	t->stopped = false;
}

void target_forget(struct target *t)
{
	if (t && t->live)
		live_forget(t->live);
}

void target_live_state(const struct target *t, struct target_live_state *s)
{
	memset(s, 0, sizeof(*s));
	if (!t || !t->live)
		return;
	s->stopped = t->held_threads > 0;
	s->cut_short = t->cut_short || (t->stopped && live_cut_short());
	s->gone = t->live->gone;
	s->denied = t->live->denied;
	s->paused_ns = t->paused_ns;
	s->threads = t->held_threads;
}
