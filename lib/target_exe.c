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
	if (t->arch && eh.e_machine != t->arch->elf_machine)
		return ms_err(err, MS_EMISMATCH,
			      "%s: executable for %s, but the %s is %s; pass the executable that "
			      "produced it with --exe", path, arch_machine_name(eh.e_machine),
			      t->pid ? "process" : "core", t->arch->name);
	t->exe_type = eh.e_type;
	t->exe_entry = eh.e_entry;
	elffile_close(t->ef);
	if (!(t->ef = elffile_open(path, err)))
		return -1;
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
	t->entry_why[0] = 0;
	if (t->have_entry) {
		t->bias = t->at_entry - eh.e_entry;
		/* Said by tg_check_match, after the build IDs: for another
		 * build, a moved entry point is only a symptom. */
		if ((eh.e_type == ET_EXEC && t->bias != 0) ||
		    page_down(t->bias, t->page_size) != t->bias) {
			snprintf(t->entry_why, sizeof t->entry_why,
				 "entry point 0x%" PRIx64 " vs 0x%" PRIx64 " in the %s",
				 (uint64_t)eh.e_entry, t->at_entry, t->pid ? "process" : "core");
			t->bias = 0;
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

void tg_drop_exe(struct target *t)
{
	tg_unmap_file(&t->exe);
	elffile_close(t->ef);
	t->ef = NULL;
	free(t->eseg);
	t->eseg = NULL;
	t->neseg = 0;
	t->bias = 0;
	t->exe_type = 0;
	t->exe_entry = 0;
}

/* ---- the image's build IDs ---------------------------------------------- */

/* Where the image maps the executable's first page: the core's NT_FILE
 * says so; without it, the executable's own first segment does. */
static bool header_page(const struct target *t, uint64_t *at)
{
	const char *cname = core_exe_name(t);
	size_t i;

	for (i = 0; cname && i < t->nfiles; i++) {
		const struct file_map *f = &t->files[i];
		if (f->offset == 0 && same_file_name(f->name, cname)) {
			*at = f->start;
			return true;
		}
	}
	for (i = 0; i < t->neseg; i++)
		if (t->eseg[i].offset == 0) {
			*at = page_down(t->eseg[i].vaddr, t->page_size);
			return true;
		}
	return false;
}

void tg_read_image_ids(struct target *t)
{
	enum { MAX_PH = 64, MAX_NOTES = 65536 };
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PH];
	uint64_t base, low = UINT64_MAX;
	size_t i, n;

	memset(&t->image_ids, 0, sizeof t->image_ids);
	t->have_image_ids = false;
	/* Only what the image holds: a file cannot vouch for itself. */
	if (!header_page(t, &base) || tg_image_read(t, base, &eh, sizeof eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phoff > t->page_size)
		return;
	n = eh.e_phnum < MAX_PH ? eh.e_phnum : MAX_PH;
	if (tg_image_read(t, base + eh.e_phoff, ph, n * sizeof ph[0]))
		return;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && ph[i].p_vaddr < low)
			low = page_down(ph[i].p_vaddr, t->page_size);
	if (low == UINT64_MAX)
		return;
	for (i = 0; i < n; i++) {
		unsigned char buf[4096];
		uint64_t at = base + (ph[i].p_vaddr - low);

		if (ph[i].p_type != PT_NOTE || !ph[i].p_filesz || ph[i].p_filesz > MAX_NOTES ||
		    ph[i].p_vaddr < low)
			continue;
		size_t k = ph[i].p_filesz < sizeof buf ? (size_t)ph[i].p_filesz : sizeof buf;
		if (!tg_image_read(t, at, buf, k))
			build_ids_parse_notes(&t->image_ids, buf, k);
	}
	/* Go's linker puts the GNU build ID in a note section no PT_NOTE
	 * covers: the executable says where, the image says what. */
	for (i = 0; t->ef && (i < 2); i++) {
		static const char *const names[] = { ".note.go.buildid", ".note.gnu.build-id" };
		const struct elf_section *sec = elffile_section(t->ef, names[i]);
		unsigned char buf[512];

		if (sec && sec->type == SHT_NOTE && sec->size && sec->size <= sizeof buf &&
		    !tg_image_read(t, sec->addr + t->bias, buf, sec->size))
			build_ids_parse_notes(&t->image_ids, buf, sec->size);
	}
	t->have_image_ids = t->image_ids.go[0] || t->image_ids.gnu_len;
}

/* "Go build ID x" or "GNU build ID y", for messages. */
static const char *id_text(const struct build_ids *a, const struct build_ids *b, char *buf,
			   size_t n)
{
	char hex[2 * sizeof a->gnu + 1];

	if (a->go[0] && b->go[0]) {
		snprintf(buf, n, "Go build ID %.120s", a->go);
	} else {
		build_ids_gnu_hex(a, hex);
		snprintf(buf, n, "GNU build ID %s", hex);
	}
	return buf;
}

/* ---- matching ------------------------------------------------------------ */

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

/* The part of segment s the image's bytes must agree with: all of it but
 * the headers strip rewrites (and, for another build, its notes, which
 * hold the build IDs), as [lo, hi) pieces in out; returns how many. */
size_t tg_compared_ranges(const struct target *t, const struct seg *s, bool skip_notes,
			  uint64_t out[][2], size_t max)
{
	uint64_t lo = s->vaddr, hi = s->vaddr + s->filesz;
	uint64_t cut[12][2];
	size_t ncut = 0, n = 0;

	if (s->offset == 0)
		cut[ncut][0] = lo, cut[ncut][1] = lo + elffile_header_size(t->ef), ncut++;
	{
		uint64_t ur[4][2];
		size_t k = elffile_unloaded_sections(t->ef, ur, 4);
		for (size_t i = 0; i < k; i++, ncut++)
			cut[ncut][0] = ur[i][0] + t->bias, cut[ncut][1] = ur[i][1] + t->bias;
	}
	if (skip_notes) {
		uint64_t nr[7][2];
		size_t k = elffile_notes(t->ef, nr, 7);
		for (size_t i = 0; i < k; i++, ncut++)
			cut[ncut][0] = nr[i][0] + t->bias, cut[ncut][1] = nr[i][1] + t->bias;
	}
	/* Walk [lo, hi) skipping the cuts (few, so a scan per step is fine). */
	while (lo < hi && n < max) {
		uint64_t next = hi;
		bool inside = false;
		for (size_t i = 0; i < ncut; i++) {
			if (cut[i][0] <= lo && lo < cut[i][1]) {
				lo = cut[i][1];
				inside = true;
			} else if (cut[i][0] > lo && cut[i][0] < next) {
				next = cut[i][0];
			}
		}
		if (inside)
			continue;
		out[n][0] = lo;
		out[n][1] = next;
		n++;
		lo = next;
	}
	return n;
}

enum exe_match tg_check_match(struct target *t, bool other_ok, struct ms_error *err)
{
	const char *cname = core_exe_name(t);
	uint64_t ps = t->page_size, where;
	size_t i, k;

	if (!elffile_has_code(t->ef)) {
		ms_err(err, MS_EMISMATCH,
		       "%s: a debug file without code (objcopy --only-keep-debug); pass it with --debug-file, and the executable with --exe",
		       t->exe_path);
		return EXE_DEBUG_ONLY;
	}
	/* What identifies a build is its build ID, not the headers around
	 * it: strip and objcopy rewrite those, and leave the rest alone. */
	if (t->have_image_ids && !other_ok) {
		const struct build_ids *f = elffile_build_ids(t->ef);
		char a[160], b[160];

		if (build_ids_same(&t->image_ids, f) == 0) {
			tg_mismatch(t, err, "%s in the %s, %s in the executable",
				    id_text(&t->image_ids, f, a, sizeof a), t->pid ? "process" : "core",
				    id_text(f, &t->image_ids, b, sizeof b));
			return EXE_OTHER_BUILD;
		}
	}
	if (t->entry_why[0]) {
		if (other_ok)
			ms_err(err, MS_EMISMATCH, "%s: another build of the program, and its layout differs from the %s's (%s); pass the exact build the %s ran with --exe, or its debug file with --debug-file",
			       t->exe_path, t->pid ? "process" : "core", t->entry_why,
			       t->pid ? "process" : "core");
		else
			tg_mismatch(t, err, "%s", t->entry_why);
		return EXE_BAD;
	}
	for (i = 0; i < t->neseg && !t->live; i++) {
		const struct seg *s = &t->eseg[i];
		uint64_t r[8][2];
		size_t nr;

		if ((s->flags & PF_W) || !s->filesz)
			continue;
		nr = tg_compared_ranges(t, s, other_ok, r, 8);
		for (k = 0; k < nr; k++) {
			if (!dumped_differs(t, r[k][0], r[k][1] - r[k][0], s->data + (r[k][0] - s->vaddr),
					    &where))
				continue;
			if (where - s->vaddr < ps)
				tg_mismatch(t, err, "first page at 0x%" PRIx64
					    " differs from the file at byte 0x%" PRIx64
					    ": build ID, notes or code", page_down(where, ps),
					    s->offset + (where - s->vaddr));
			else
				tg_mismatch(t, err, "read-only memory at 0x%" PRIx64
					    " differs from file offset 0x%" PRIx64,
					    where, s->offset + (where - s->vaddr));
			return EXE_BAD;
		}
	}

	/* NT_FILE mappings of the executable must agree with its program
	 * headers: same address <-> file offset correspondence, inside the
	 * file. */
	if (!cname)
		return EXE_SAME;
	for (k = 0; k < t->nfiles; k++) {
		const struct file_map *f = &t->files[k];
		bool hit = false;

		if (!same_file_name(f->name, cname) || f->start == f->end)
			continue;
		if (f->offset >= page_up(t->exe.size, ps)) {
			tg_mismatch(t, err, "the core maps file offset 0x%" PRIx64
				    " at 0x%" PRIx64 ", past the end of the %zu-byte file",
				    f->offset, f->start, t->exe.size);
			return EXE_BAD;
		}
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
			if (want != f->start) {
				tg_mismatch(t, err, "the core maps file offset 0x%" PRIx64
					    " at 0x%" PRIx64 ", the program headers put it at 0x%" PRIx64,
					    f->offset, f->start, want);
				return EXE_BAD;
			}
		}
		if (!hit) {
			tg_mismatch(t, err, "the core maps the executable at 0x%" PRIx64 "-0x%" PRIx64
				    ", where it has no segment", f->start, f->end);
			return EXE_BAD;
		}
	}
	return EXE_SAME;
}
