/* The core file backend: its program headers and notes (threads, the
 * auxiliary vector, NT_FILE mappings), finding the executable it names,
 * and target_open_core.  See target_impl.h. */
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

#include "target_impl.h"

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
	const struct arch *a = t->arch;
	struct target_thread *th;

	if (n < a->prstatus_min_size)
		return corrupt_note(t, err,
				    "NT_PRSTATUS note of %" PRIu64
				    " bytes, expected at least %u for %s",
				    n, (unsigned)a->prstatus_min_size, a->name);
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
	th->tid = (int32_t)le32(d + a->prstatus_pid_off);
	th->pc = le64(d + a->prstatus_reg_off + 8 * a->reg_pc);
	th->sp = le64(d + a->prstatus_reg_off + 8 * a->reg_sp);
	th->fp = le64(d + a->prstatus_reg_off + 8 * a->reg_fp);
	th->has_lr = a->reg_lr != ARCH_NO_REG;
	th->lr = th->has_lr ? le64(d + a->prstatus_reg_off + 8 * a->reg_lr) : 0;
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


/* ---- opening ---------------------------------------------------------- */

static int load_core(struct target *t, struct ms_error *err)
{
	const char *path = t->core_path;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	size_t n = 0, i;
	int r = -1;

	if (tg_check_ehdr(&t->core, path, "core file", CORE_FIX, &eh, err) < 0)
		return -1;
	t->arch = arch_by_machine(eh.e_machine);
	if (eh.e_type != ET_CORE) {
		if (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)
			return ms_err(err, MS_EFORMAT,
				      "%s: not a core file but an executable; pass the core file first and the executable with --exe",
				      path);
		return ms_err(err, MS_EFORMAT,
			      "%s: not a core file (ELF type %u)", path,
			      eh.e_type);
	}
	if (tg_read_phdrs(&t->core, path, "core file", CORE_FIX, &eh, &ph, &n,
		       err) < 0)
		return -1;
	if (n == 0)
		return ms_err(err, MS_EFORMAT,
			      "%s: core file has no program headers; " CORE_FIX,
			      path);
	for (i = 0; i < n; i++) {
		if ((ph[i].p_type == PT_LOAD || ph[i].p_type == PT_NOTE) &&
		    tg_check_phdr_numbers(&ph[i], i, path, CORE_FIX, err) < 0)
			goto out;
	}
	/* Headers and notes (registers, the files mapped) must be whole; a
	 * memory segment past the end of the file is a core cut short: what
	 * is there is read, the rest counts as not dumped. */
	for (i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t end = p->p_offset + p->p_filesz; /* checked not to wrap */
		if (p->p_type == PT_NOTE &&
		    tg_check_truncation(p, 1, &t->core, path, "core file", CORE_FIX, err) < 0)
			goto out;
		if (p->p_type == PT_LOAD && p->p_filesz && end > t->cut_need)
			t->cut_need = end;
	}
	if (t->cut_need <= t->core.size)
		t->cut_need = 0;

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
		if (p->p_filesz && p->p_offset + p->p_filesz > t->core.size)
			s->filesz = p->p_offset < t->core.size ? t->core.size - p->p_offset : 0;
		s->offset = p->p_offset;
		s->data = s->filesz ? t->core.base + p->p_offset : NULL;
		s->flags = p->p_flags;
		s->index = i;
	}
	if (tg_sort_segs(t->cseg, t->ncseg, path, "core file", CORE_FIX, err) < 0)
		goto out;
	r = 0;
out:
	free(ph);
	return r;
}

/* The NT_FILE entry of the main program: the one mapping AT_ENTRY, else
 * the lowest-addressed mapping of a file from offset 0. */
const struct file_map *tg_core_exe_entry(const struct target *t)
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
	const struct file_map *f = tg_core_exe_entry(t);
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
	if (tg_map_file(t->exe_path, "executable", &t->exe, &e, err) == 0)
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


/* Load the executable mapped in t->exe (at t->exe_path) and check it
 * against the core. */
static enum exe_match load_and_match(struct target *t, bool other_ok, struct ms_error *err)
{
	if (tg_load_exe(t, err) < 0)
		return EXE_BAD;
	tg_read_image_ids(t);
	return tg_check_match(t, other_ok, err);
}

/* --exe names a file that is not the image's build (a debug file, or
 * another link of the program): the executable the core names serves the
 * memory when it is there and is the image's; otherwise a rebuild serves
 * it, as another build whose layout the types must verify. */
static int divert_exe(struct target *t, enum exe_match why, struct ms_error *err)
{
	struct ms_error again;
	int e;

	t->exe_candidate = t->exe_path;
	t->exe_path = NULL;
	tg_drop_exe(t);
	if (find_exe(t, &again) == 0 && load_and_match(t, false, &again) == EXE_SAME)
		return 0;
	tg_drop_exe(t);
	free(t->exe_path);
	t->exe_path = NULL;
	if (why == EXE_DEBUG_ONLY)
		return ms_err(err, MS_EMISMATCH,
			      "%s is a debug file without code (objcopy --only-keep-debug), and the executable the core ran is not usable (%s); pass the executable with --exe and the debug file with --debug-file",
			      t->exe_candidate, again.msg);
	t->exe_from_core = false;
	if (!(t->exe_path = strdup(t->exe_candidate)))
		return ms_err(err, MS_EINTERNAL, "out of memory");
	if (tg_map_file(t->exe_path, "executable", &t->exe, &e, err) < 0)
		return -1;
	/* Even its code disagrees with the core: not worth a layout check. */
	if (load_and_match(t, true, err) != EXE_SAME)
		return -1;
	t->exe_other_build = true;
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
	if (!t || !(t->core_path = strdup(strcmp(core_path, "-") ? core_path : "stdin")) ||
	    !(t->touch = calloc(1, sizeof(*t->touch))) ||
	    (exe_path && !(t->exe_path = strdup(exe_path)))) {
		ms_err(err, MS_EINTERNAL, "%s: out of memory", core_path);
		target_close(t);
		return NULL;
	}
	t->page_size = DEFAULT_PAGE_SIZE;
	pthread_mutex_init(&t->touch->lock, NULL);
	if (tg_open_core_image(core_path, t->core_path, &t->core, &t->compression, err) < 0 ||
	    load_core(t, err) < 0)
		goto fail;
	/* Without the bitmaps (no memory) reads work, just without trimming.
	 * A decompressed core in anonymous memory is never trimmed:
	 * MADV_DONTNEED would zero it. */
	struct touch *tc = t->touch;
	tc->statm = -1;
	tc->nblocks = (t->core.size >> TRIM_BLOCK_SHIFT) + 1;
	tc->ngranules = (t->core.size >> TRIM_GRANULE_SHIFT) + 1;
	uint64_t stored = t->core.stored && t->core.stored < t->core.size ? t->core.stored : t->core.size;
	tc->goal = stored / 100 * TRIM_GOAL_PERCENT;
	if (!t->core.anon && tc->ngranules <= UINT32_MAX) {
		tc->bits = calloc((tc->nblocks + 63) / 64, sizeof(*tc->bits));
		tc->ref = calloc((tc->ngranules + 63) / 64, sizeof(*tc->ref));
		tc->nblk = calloc(tc->ngranules, sizeof(*tc->nblk));
		tc->ring = malloc(tc->ngranules * sizeof(*tc->ring));
		tc->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	}
	if (!tc->ref || !tc->nblk || !tc->ring) {
		free(tc->bits);
		tc->bits = NULL;   /* reads still work, untrimmed */
	}
	if (exe_path) {
		enum exe_match m;

		if (tg_map_file(exe_path, "executable", &t->exe, &e, err) < 0)
			goto fail;
		m = load_and_match(t, false, err);
		if ((m == EXE_DEBUG_ONLY || m == EXE_OTHER_BUILD) && divert_exe(t, m, err) < 0)
			goto fail;
		if (m == EXE_BAD)
			goto fail;
	} else if (find_exe(t, err) < 0 || load_and_match(t, false, err) != EXE_SAME) {
		goto fail;
	}
	return t;
fail:
	target_close(t);
	return NULL;
}
