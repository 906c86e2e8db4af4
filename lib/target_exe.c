/* Matching the executable to the image: parsing its segments and load
 * bias, and refusing an executable whose bytes or layout differ from what
 * the core (or the process) holds.  See target_impl.h. */
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

int tg_mismatch(const struct target *t, struct ms_error *err,
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
	f = tg_core_exe_entry(t);
	return f ? f->name : NULL;
}

int tg_load_exe(struct target *t, struct ms_error *err)
{
	const char *path = t->exe_path;
	const char *fix = "pass an intact copy of the binary with --exe";
	const char *cname = core_exe_name(t);
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	size_t n = 0, i;
	int r = -1;

	if (tg_check_ehdr(&t->exe, path, "executable", fix, &eh, err) < 0)
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
	if (tg_read_phdrs(&t->exe, path, "executable", fix, &eh, &ph, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((ph[i].p_type == PT_LOAD || ph[i].p_type == PT_NOTE) &&
		    tg_check_phdr_numbers(&ph[i], i, path, fix, err) < 0)
			goto out;
	}
	if (tg_check_truncation(ph, n, &t->exe, path, "executable", fix, err) < 0)
		goto out;

	/* Load bias. */
	if (t->have_entry) {
		t->bias = t->at_entry - eh.e_entry;
		if ((eh.e_type == ET_EXEC && t->bias != 0) ||
		    page_down(t->bias, t->page_size) != t->bias) {
			r = tg_mismatch(t, err,
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
			r = tg_mismatch(t, err,
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
	if (tg_sort_segs(t->eseg, t->neseg, path, "executable", fix, err) < 0)
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
	size_t i = tg_upper(t->cseg, t->ncseg, a);

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

int tg_check_match(struct target *t, struct ms_error *err)
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
				return tg_mismatch(t, err,
						"first page at 0x%" PRIx64
						" differs from the file at byte 0x%" PRIx64
						": ELF header, program headers or build ID",
						s->vaddr, where - s->vaddr);
		}
		if (!(s->flags & PF_W) && s->filesz &&
		    dumped_differs(t, s->vaddr, s->filesz, s->data, &where))
			return tg_mismatch(t, err,
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
			return tg_mismatch(t, err,
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
				return tg_mismatch(t, err,
						"the core maps file offset 0x%" PRIx64
						" at 0x%" PRIx64 ", the program headers put it at 0x%" PRIx64,
						f->offset, f->start, want);
		}
		if (!hit)
			return tg_mismatch(t, err,
					"the core maps the executable at 0x%" PRIx64 "-0x%" PRIx64
					", where it has no segment",
					f->start, f->end);
	}
	return 0;
}

