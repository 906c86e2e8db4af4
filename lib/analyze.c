/* analyze_core: the pipeline target -> types -> runtime -> roots -> report. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"

int exe_is_go(const char *path, struct ms_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ms_err(err, MS_EOPEN, "%s: cannot open executable", path);
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t shstrndx;
	int go = -1;
	if (e && elf_kind(e) == ELF_K_ELF && elf_getshdrstrndx(e, &shstrndx) == 0) {
		go = 0;
		for (Elf_Scn *s = elf_nextscn(e, NULL); s && !go; s = elf_nextscn(e, s)) {
			GElf_Shdr sh;
			if (!gelf_getshdr(s, &sh))
				continue;
			const char *n = elf_strptr(e, shstrndx, sh.sh_name);
			go = n && (!strcmp(n, ".gopclntab") || !strcmp(n, ".go.buildinfo") ||
				   !strcmp(n, ".note.go.buildid"));
		}
	} else {
		ms_err(err, MS_EFORMAT, "%s: not an ELF executable", path);
	}
	if (e)
		elf_end(e);
	close(fd);
	return go;
}

int analyze_core(const char *core_path, const char *exe_path, const struct analyze_opts *opts,
		 struct report *r, struct ms_error *err)
{
	memset(r, 0, sizeof(*r));
	struct target *t = target_open_core(core_path, exe_path, err);
	if (!t)
		return -1;
	const char *exe = target_exe_path(t);
	int go = exe_is_go(exe, err);
	if (go <= 0) {
		if (go == 0)
			ms_err(err, MS_ENOTGO, "%s: core of %s, which is not a Go program; mapscan "
			       "analyses Go programs only", core_path, exe);
		target_close(t);
		return -1;
	}
	struct gtypes *g = gtypes_load(exe, err);
	if (!g) {
		target_close(t);
		return -1;
	}
	struct goruntime rt;
	int rc = goruntime_init(&rt, g, t, err);
	if (rc == 0) {
		r->source = strdup(core_path);
		r->source_kind = strdup("core");
		r->executable = strdup(exe);
		r->go_version = strdup(rt.version);
		r->layout = rt.layout;
		if (!r->source || !r->source_kind || !r->executable || !r->go_version)
			rc = ms_err(err, MS_EINTERNAL, "out of memory");
	}
	if (rc == 0 && !rt.nclasses && rt.layout == LAYOUT_CLASSIC)
		report_add_warning(r, "the allocator's size classes could not be read; classic "
				   "bucket arrays of 16 buckets or more may be under-counted");
	if (rc == 0)
		rc = roots_scan(t, g, &rt, r, opts, err);
	if (rc == 0)
		report_finish(r);
	else
		report_free(r);
	gtypes_free(g);
	target_close(t);
	return rc;
}
