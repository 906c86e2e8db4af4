/* Unit tests for lib/target.c (and lib/error.c).
 *
 * Synthetic executables and cores are built in memory and written to a
 * temporary directory.  Optionally, MAPSCAN_TEST_CORE (and MAPSCAN_TEST_EXE)
 * name a real Go core to check against: threads' stacks must be readable
 * and runtime.buildVersion (a string whose bytes live in rodata, so only
 * via the executable) must read as "go...". */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfbuild.h"
#include "error.h"
#include "file.h"
#include "target.h"
#include "unit.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

static char dir[256];

/* ---- buffers ---------------------------------------------------------- */

static void put32(struct ebuf *b, size_t off, uint32_t v)
{
	eb_put(b, off, &v, 4); /* the tests run on little-endian x86-64 */
}

static void write_buf(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* dir/name; the same name always gives the same (stable) pointer. */
static const char *path_in(const char *name)
{
	static char paths[64][512];
	static const char *names[64];
	static unsigned n;
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return paths[i];
	if (n == 64) {
		fprintf(stderr, "path_in: too many names\n");
		exit(2);
	}
	snprintf(paths[n], sizeof paths[n], "%s/%s", dir, name);
	names[n] = name;
	return paths[n++];
}

/* ---- the synthetic program -------------------------------------------- */

/* Executable layout (relative to its link base):
 *   +0x0000 R-X  offset 0x0000 filesz 0x2000           headers + text
 *   +0x2000 R--  offset 0x2000 filesz 0x1000           rodata
 *   +0x3000 RW-  offset 0x3000 filesz 0x100 memsz 0x2000 data + bss  */
#define ENTRY_OFF   0x1010u
#define RODATA_STR  "hello, rodata"
#define RODATA_OFF  0x2100u
#define BUILDID_OFF 0x200u

static uint8_t text_byte(uint64_t off) { return (uint8_t)(off * 7 + 3); }
static uint8_t heap_byte(uint64_t a) { return (uint8_t)((a * 2654435761u) >> 13); }
static uint8_t cdata_byte(uint64_t a) { return (uint8_t)((a & 0xff) ^ 0x44); }

struct exe_opt {
	uint16_t type;       /* ET_EXEC or ET_DYN */
	uint64_t link_base;  /* 0x400000, or 0 for PIE */
	uint64_t entry_adj;  /* added to the entry point */
	char build_id;       /* a byte of the "build ID" in the first page */
};

static struct ebuf make_exe(const struct exe_opt *o)
{
	struct ebuf b = { 0 };
	uint64_t base = o->link_base, i;
	char id[32];

	eb_ehdr(&b, o->type, base + ENTRY_OFF + o->entry_adj, 3);
	eb_phdr(&b, 0, PT_LOAD, PF_R | PF_X, 0, base, 0x2000, 0x2000);
	eb_phdr(&b, 1, PT_LOAD, PF_R, 0x2000, base + 0x2000, 0x1000, 0x1000);
	eb_phdr(&b, 2, PT_LOAD, PF_R | PF_W, 0x3000, base + 0x3000, 0x100, 0x2000);
	snprintf(id, sizeof id, "BUILDID-%c%c%c%c", o->build_id, o->build_id,
		 o->build_id, o->build_id);
	eb_put(&b, BUILDID_OFF, id, strlen(id));
	for (i = 0x1000; i < 0x2000; i++) {
		uint8_t c = text_byte(i);
		eb_put(&b, i, &c, 1);
	}
	for (i = 0x2000; i < 0x3000; i++) {
		uint8_t c = (uint8_t)(i * 13 + 1);
		eb_put(&b, i, &c, 1);
	}
	eb_put(&b, RODATA_OFF, RODATA_STR, sizeof RODATA_STR);
	for (i = 0x3000; i < 0x3100; i++) {
		uint8_t c = (uint8_t)(i * 3 + 0x40);
		eb_put(&b, i, &c, 1);
	}
	return b;
}

/* Notes. */
static void note(struct ebuf *b, size_t *off, const char *name, uint32_t type,
		 const void *desc, size_t descsz)
{
	size_t namesz = strlen(name) + 1;

	put32(b, *off, (uint32_t)namesz);
	put32(b, *off + 4, (uint32_t)descsz);
	put32(b, *off + 8, type);
	eb_put(b, *off + 12, name, namesz);
	*off += 12 + ((namesz + 3) & ~(size_t)3);
	eb_put(b, *off, desc, descsz);
	*off += (descsz + 3) & ~(size_t)3;
	eb_put(b, *off, "", 0);
}

static void prstatus(struct ebuf *b, size_t *off, int32_t tid, uint64_t rip,
		     uint64_t rsp)
{
	unsigned char d[336];

	memset(d, 0, sizeof d);
	memcpy(d + 32, &tid, 4);
	memcpy(d + 112 + 16 * 8, &rip, 8);
	memcpy(d + 112 + 19 * 8, &rsp, 8);
	memset(d + 112, 0, 8); /* r15 */
	note(b, off, "CORE", NT_PRSTATUS, d, sizeof d);
}

/* An NT_FILE descriptor. */
struct ntfile {
	unsigned char d[4096];
	size_t n;
};

static void ntfile_begin(struct ntfile *f, uint64_t count, uint64_t pagesz)
{
	memset(f, 0, sizeof *f);
	memcpy(f->d, &count, 8);
	memcpy(f->d + 8, &pagesz, 8);
	f->n = 16;
}

static void ntfile_entry(struct ntfile *f, uint64_t start, uint64_t end,
			 uint64_t pgoff)
{
	memcpy(f->d + f->n, &start, 8);
	memcpy(f->d + f->n + 8, &end, 8);
	memcpy(f->d + f->n + 16, &pgoff, 8);
	f->n += 24;
}

static void ntfile_name(struct ntfile *f, const char *name)
{
	size_t l = strlen(name) + 1;

	memcpy(f->d + f->n, name, l);
	f->n += l;
}

struct core_opt {
	const struct ebuf *exe;       /* for the dumped first page */
	uint64_t rt_base;            /* runtime address of the exe */
	const char *exe_name;        /* name in NT_FILE; NULL: no NT_FILE */
	bool no_auxv, no_prpsinfo;
	bool no_data_seg;            /* do not dump the exe's data segment */
	int flip_first_page;         /* >= 0: corrupt this byte of page 1 */
	uint64_t rodata_pgoff;       /* NT_FILE page offset of rodata (2) */
	bool overlap;                /* make two segments overlap */
	uint64_t big;                /* > 0: a heap segment of this size at BIG, its
				      * bytes a hole at the file's end (zeros) */
	const struct ntfile *raw_ntfile; /* replaces the generated one */
};

#define HEAP 0xc000000000ull
#define BIG 0xc100000000ull
#define BIG_OFF 0x100000ull

/* Core layout: headers, notes at 0x400, segment data from 0x2000:
 *   A rt+0x0000 filesz 0x1000 memsz 0x2000 (first exe page)   @0x2000
 *   B rt+0x2000 filesz 0      memsz 0x1000 (rodata)
 *   C rt+0x3000 filesz 0x2000 memsz 0x2000 (data + bss)       @0x3000
 *   D HEAP      filesz 0x3000 memsz 0x4000                    @0x5000
 *   E HEAP+0x4000 filesz 0x1000                               @0x8000
 *   F HEAP+0x10000 filesz 0x1000                              @0x9000
 *   G HEAP+0x11000 filesz 0x1000 (adjacent to F)              @0xa000
 * Program headers are written out of address order on purpose. */
static struct ebuf make_core(const struct core_opt *o)
{
	struct ebuf b = { 0 };
	uint64_t rt = o->rt_base, a;
	size_t noff = 0x400, nph = 0, i;
	struct ntfile f;

	/* notes */
	prstatus(&b, &noff, 1234, rt + ENTRY_OFF, HEAP + 0x100);
	if (!o->no_prpsinfo) {
		unsigned char d[136];

		memset(d, 0, sizeof d);
		memcpy(d + 40, "prog", 4);
		note(&b, &noff, "CORE", NT_PRPSINFO, d, sizeof d);
	}
	note(&b, &noff, "LINUX", 0x202, "xstate", 6); /* ignored */
	if (!o->no_auxv) {
		uint64_t av[6] = { AT_PAGESZ, 4096, AT_ENTRY, rt + ENTRY_OFF,
				   AT_NULL, 0 };
		note(&b, &noff, "CORE", NT_AUXV, av, sizeof av);
	}
	if (o->raw_ntfile) {
		note(&b, &noff, "CORE", NT_FILE, o->raw_ntfile->d,
		     o->raw_ntfile->n);
	} else if (o->exe_name) {
		ntfile_begin(&f, 3, 4096);
		ntfile_entry(&f, rt, rt + 0x2000, 0);
		ntfile_entry(&f, rt + 0x2000, rt + 0x3000,
			     o->rodata_pgoff ? o->rodata_pgoff : 2);
		ntfile_entry(&f, rt + 0x3000, rt + 0x4000, 3);
		for (i = 0; i < 3; i++)
			ntfile_name(&f, o->exe_name);
		note(&b, &noff, "CORE", NT_FILE, f.d, f.n);
	}
	prstatus(&b, &noff, 1235, rt + ENTRY_OFF + 4, HEAP + 0x2000);

	/* segments */
	eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, 0x5000, HEAP, 0x3000,
	     o->overlap ? 0x4800 : 0x4000);
	eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, 0x9000, HEAP + 0x10000, 0x1000, 0x1000);
	eb_phdr(&b, nph++, PT_NOTE, 0, 0x400, 0, noff - 0x400, 0);
	eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_X, 0x2000, rt, 0x1000, 0x2000);
	eb_phdr(&b, nph++, PT_LOAD, PF_R, 0x3000, rt + 0x2000, 0, 0x1000);
	if (!o->no_data_seg)
		eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, 0x3000, rt + 0x3000, 0x2000, 0x2000);
	eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, 0xa000, HEAP + 0x11000, 0x1000, 0x1000);
	eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, 0x8000, HEAP + 0x4000, 0x1000, 0x1000);
	if (o->big)
		eb_phdr(&b, nph++, PT_LOAD, PF_R | PF_W, BIG_OFF, BIG, o->big, o->big);
	eb_ehdr(&b, ET_CORE, 0, nph);

	eb_put(&b, 0x2000, o->exe->p, 0x1000);
	if (o->flip_first_page >= 0)
		b.p[0x2000 + o->flip_first_page] ^= 0x20;
	for (a = 0; a < 0x2000; a++) {
		uint8_t c = cdata_byte(rt + 0x3000 + a);
		eb_put(&b, 0x3000 + a, &c, 1);
	}
	for (a = 0; a < 0x4000; a++) {
		uint8_t c = heap_byte(HEAP + a);
		eb_put(&b, 0x5000 + a, &c, 1);
	}
	for (a = 0; a < 0x2000; a++) {
		uint8_t c = heap_byte(HEAP + 0x10000 + a);
		eb_put(&b, 0x9000 + a, &c, 1);
	}
	return b;
}

static const struct exe_opt EXE = { ET_EXEC, 0x400000, 0, 'a' };

static struct core_opt core_opt(const struct ebuf *exe, const char *name)
{
	struct core_opt o;

	memset(&o, 0, sizeof o);
	o.exe = exe;
	o.rt_base = 0x400000;
	o.exe_name = name;
	o.flip_first_page = -1;
	return o;
}

/* Write exe and core into dir; returns the core's path. */
static const char *write_pair(const struct ebuf *exe, const struct ebuf *core,
			      const char *exe_file, const char *core_file)
{
	if (exe)
		write_buf(path_in(exe_file), exe->p, exe->n);
	write_buf(path_in(core_file), core->p, core->n);
	return path_in(core_file);
}

static struct target *open_expect(const char *core, const char *exe, int code,
				  struct ms_error *err, int line)
{
	struct target *t;

	memset(err, 0, sizeof *err);
	t = target_open_core(core, exe, err);
	if (code == MS_OK) {
		CHECK_MSG(t != NULL, "line %d: open failed: %s (%s)", line,
			  err->msg, ms_code_name(err->code));
	} else {
		CHECK_MSG(t == NULL && err->code == code,
			  "line %d: expected %s, got %s: %s", line,
			  ms_code_name(code), t ? "success" : ms_code_name(err->code),
			  err->msg);
		CHECK_MSG(strchr(err->msg, '\n') == NULL && err->msg[0],
			  "line %d: message not one line: %s", line, err->msg);
		target_close(t);
		t = NULL;
	}
	return t;
}
#define OPEN(core, exe, code, err) open_expect(core, exe, code, err, __LINE__)

/* ---- tests ------------------------------------------------------------ */

static void test_error(void)
{
	struct ms_error e;

	CHECK(ms_err(NULL, MS_EFORMAT, "x %d", 1) == -1);
	CHECK(ms_err(&e, MS_EFORMAT, "file %s: %d", "a", 42) == -1);
	CHECK(e.code == MS_EFORMAT);
	CHECK_STR(e.msg, "file a: 42");
	ms_err(&e, MS_EOPEN, "%s", "two\nlines\tand\033esc");
	CHECK_STR(e.msg, "two?lines?and?esc");
	CHECK_STR(ms_code_name(MS_EINTERNAL), "internal");
	CHECK_STR(ms_code_name(MS_EUSAGE), "usage");
	CHECK_STR(ms_code_name(MS_EOPEN), "open");
	CHECK_STR(ms_code_name(MS_EFORMAT), "format");
	CHECK_STR(ms_code_name(MS_ENOTGO), "not-go");
	CHECK_STR(ms_code_name(MS_ENODWARF), "no-dwarf");
	CHECK_STR(ms_code_name(MS_EMISMATCH), "mismatch");
	{
		char big[3000];

		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = 0;
		ms_err(&e, MS_EOPEN, "%s", big);
		CHECK(strlen(e.msg) == sizeof e.msg - 1);
	}
}

static void test_null_safe(void)
{
	size_t n = 99;
	uint64_t v;
	char c;

	target_close(NULL);
	CHECK(target_read(NULL, 0, &c, 1) == -1);
	CHECK(target_view(NULL, 0, 1) == NULL);
	CHECK(target_read_u64(NULL, 0, &v) == -1);
	CHECK(target_exe_path(NULL) == NULL);
	CHECK(target_source_path(NULL) == NULL);
	CHECK(target_exe_bias(NULL) == 0);
	CHECK(target_threads(NULL, &n) == NULL && n == 0);
}

static void test_open_errors(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co);
	const char *missing = path_in("no-such-core");

	OPEN(missing, NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, missing);
	CHECK_CONTAINS(e.msg, strerror(ENOENT));

	OPEN(dir, NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "directory");

	write_buf(path_in("empty"), "", 0);
	OPEN(path_in("empty"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "empty");

	write_buf(path_in("text"), "hello world, not ELF\n", 21);
	OPEN(path_in("text"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, path_in("text"));
	CHECK_CONTAINS(e.msg, "not an ELF file");

	write_buf(path_in("tiny"), "\177ELF\2", 5);
	OPEN(path_in("tiny"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "truncated");

	/* wrong class, byte order, machine */
	{
		struct ebuf c = { 0 };

		eb_put(&c, 0, core.p, core.n);
		c.p[EI_CLASS] = ELFCLASS32;
		write_buf(path_in("c32"), c.p, c.n);
		OPEN(path_in("c32"), NULL, MS_EFORMAT, &e);
		CHECK_CONTAINS(e.msg, "32-bit");
		CHECK_CONTAINS(e.msg, "64-bit little-endian x86-64");

		c.p[EI_CLASS] = ELFCLASS64;
		c.p[EI_DATA] = ELFDATA2MSB;
		write_buf(path_in("cbe"), c.p, c.n);
		OPEN(path_in("cbe"), NULL, MS_EFORMAT, &e);
		CHECK_CONTAINS(e.msg, "big-endian");

		c.p[EI_DATA] = ELFDATA2LSB;
		c.p[18] = EM_AARCH64;
		c.p[19] = 0;
		write_buf(path_in("carm"), c.p, c.n);
		OPEN(path_in("carm"), NULL, MS_EFORMAT, &e);
		CHECK_CONTAINS(e.msg, "arm64");
		free(c.p);
	}

	/* swapped arguments */
	write_pair(&exe, &core, "prog", "core");
	OPEN(path_in("prog"), path_in("core"), MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "not a core file");
	OPEN(path_in("core"), path_in("core"), MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "core file, not an executable");
	OPEN(path_in("core"), path_in("no-such-exe"), MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, path_in("no-such-exe"));
	CHECK_CONTAINS(e.msg, strerror(ENOENT));

	free(exe.p);
	free(core.p);
}

static void check_bytes(const struct target *t, uint64_t addr, size_t n,
			const unsigned char *want, int line)
{
	unsigned char *got = malloc(n);

	CHECK_MSG(target_read(t, addr, got, n) == 0,
		  "line %d: read 0x%" PRIx64 "+%zu failed", line, addr, n);
	CHECK_MSG(memcmp(got, want, n) == 0,
		  "line %d: wrong bytes at 0x%" PRIx64, line, addr);
	free(got);
}

static void test_good(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co);
	const char *cp = write_pair(&exe, &core, "prog", "core");
	const struct target_thread *th;
	struct target *t;
	unsigned char buf[0x3000], want[0x3000];
	uint64_t v, a;
	size_t n, i;
	const unsigned char *p;

	t = OPEN(cp, NULL, MS_OK, &e);
	if (!t)
		goto out;
	CHECK_STR(target_exe_path(t), path_in("prog"));
	CHECK_STR(target_source_path(t), cp);
	CHECK_EQ_U64(target_exe_bias(t), 0);

	th = target_threads(t, &n);
	CHECK_EQ_U64(n, 2);
	if (n == 2) {
		CHECK_EQ_U64(th[0].tid, 1234);
		CHECK_EQ_U64(th[0].pc, 0x400000 + ENTRY_OFF);
		CHECK_EQ_U64(th[0].sp, HEAP + 0x100);
		CHECK_EQ_U64(th[1].tid, 1235);
		CHECK_EQ_U64(th[1].sp, HEAP + 0x2000);
	}

	/* heap, from the core */
	for (i = 0; i < 0x3000; i++)
		want[i] = heap_byte(HEAP + i);
	check_bytes(t, HEAP, 0x3000, want, __LINE__);
	check_bytes(t, HEAP + 0x123, 77, want + 0x123, __LINE__);
	CHECK(target_read_u64(t, HEAP + 8, &v) == 0);
	CHECK_EQ_U64(v, (uint64_t)want[8] | (uint64_t)want[9] << 8 |
			(uint64_t)want[10] << 16 | (uint64_t)want[11] << 24 |
			(uint64_t)want[12] << 32 | (uint64_t)want[13] << 40 |
			(uint64_t)want[14] << 48 | (uint64_t)want[15] << 56);

	/* the undumped tail of D and the gap before F */
	CHECK(target_read(t, HEAP + 0x3000, buf, 1) == -1);
	CHECK(target_read(t, HEAP + 0x3fff, buf, 1) == -1);
	CHECK(target_read(t, HEAP + 0x8000, buf, 1) == -1);
	CHECK(target_read_u64(t, HEAP + 0x3000, &v) == -1);
	/* a read running into the hole fails and copies nothing */
	memset(buf, 0xee, 32);
	CHECK(target_read(t, HEAP + 0x2ff0, buf, 32) == -1);
	for (i = 0; i < 32 && buf[i] == 0xee; i++)
		;
	CHECK_EQ_U64(i, 32);
	/* E is readable; F and G are adjacent: a read may span them */
	CHECK(target_read(t, HEAP + 0x4000, buf, 0x1000) == 0);
	for (i = 0; i < 0x2000; i++)
		want[i] = heap_byte(HEAP + 0x10000 + i);
	check_bytes(t, HEAP + 0x10000, 0x2000, want, __LINE__);
	check_bytes(t, HEAP + 0x10ff9, 20, want + 0xff9, __LINE__);
	CHECK(target_view(t, HEAP + 0x10ff9, 20) == NULL);
	CHECK(target_view(t, HEAP + 0x10ff9, 7) != NULL);
	CHECK(target_read(t, HEAP + 0x11ff9, buf, 8) == -1);

	/* views into the core */
	p = target_view(t, HEAP + 0x10, 16);
	CHECK(p && p[0] == heap_byte(HEAP + 0x10) && p[15] == heap_byte(HEAP + 0x1f));
	CHECK(target_view(t, HEAP + 0x2ff0, 32) == NULL);
	CHECK(target_view(t, HEAP + 0x3000, 1) == NULL);

	/* the exe's first page, dumped, and text behind it, only in the exe */
	check_bytes(t, 0x400000, 0x2000, exe.p, __LINE__);
	check_bytes(t, 0x400ff8, 16, exe.p + 0xff8, __LINE__);
	CHECK(target_view(t, 0x400ff8, 16) == NULL); /* spans core and exe */
	p = target_view(t, 0x401000, 0x1000);
	CHECK(p && p[5] == text_byte(0x1005));

	/* rodata: not dumped, served by the exe */
	CHECK(target_read(t, 0x400000 + RODATA_OFF, buf, sizeof RODATA_STR) == 0);
	CHECK_STR((char *)buf, RODATA_STR);
	p = target_view(t, 0x400000 + RODATA_OFF, sizeof RODATA_STR);
	CHECK(p && memcmp(p, RODATA_STR, sizeof RODATA_STR) == 0);
	/* text and rodata are contiguous in the exe */
	check_bytes(t, 0x401ff0, 32, exe.p + 0x1ff0, __LINE__);

	/* data: the core's (modified) copy wins over the file */
	for (a = 0; a < 0x2000; a++)
		want[a] = cdata_byte(0x403000 + a);
	check_bytes(t, 0x403000, 0x2000, want, __LINE__);
	/* a read spanning exe rodata, then core data */
	CHECK(target_read(t, 0x402ff8, buf, 16) == 0);
	CHECK(memcmp(buf, exe.p + 0x2ff8, 8) == 0 && memcmp(buf + 8, want, 8) == 0);

	/* nothing mapped */
	CHECK(target_read(t, 0, buf, 1) == -1);
	CHECK(target_read(t, 0x405000, buf, 1) == -1);
	CHECK(target_read(t, 0x404ff8, buf, 16) == -1);
	CHECK(target_read(t, UINT64_MAX - 3, buf, 8) == -1);
	CHECK(target_view(t, UINT64_MAX - 3, 8) == NULL);
	CHECK(target_read(t, 0, buf, 0) == 0);
	target_close(t);

	/* the same with --exe naming a copy elsewhere */
	write_buf(path_in("copy-of-prog"), exe.p, exe.n);
	t = OPEN(cp, path_in("copy-of-prog"), MS_OK, &e);
	CHECK_STR(target_exe_path(t), path_in("copy-of-prog"));
	CHECK(target_read(t, 0x400000 + RODATA_OFF, buf, sizeof RODATA_STR) == 0);
	target_close(t);
out:
	free(exe.p);
	free(core.p);
}

/* The resident set (file pages and anonymous memory), from statm. */
static void rss(uint64_t *file, uint64_t *anon)
{
	unsigned long long size, res = 0, shared = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	*file = *anon = 0;
	if (!f)
		return;
	if (fscanf(f, "%llu %llu %llu", &size, &res, &shared) == 3 && shared <= res) {
		*file = shared * (uint64_t)sysconf(_SC_PAGESIZE);
		*anon = (res - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	fclose(f);
}

/* Reading a core much bigger than its goal (a fifth of the bytes it
 * stores) keeps the mapped part under it: a 512 MiB core read through
 * twice, page by page, never has much more than its goal of file pages
 * mapped, and every byte reads right after its granule was dropped.  With
 * its 512 MiB stored (allocated), the goal is 21% of them; as a hole (a
 * sparse core, as the kernel writes them), what it stores is a few KiB
 * and the mapping stays at its floor, 2 MiB.  Half the goal goes to the
 * core's pages at most. */
static void trim_case(bool sparse)
{
	struct ebuf exe = make_exe(&EXE);
	struct core_opt o = core_opt(&exe, "/nonexistent/prog");
	o.big = 512ull << 20;
	struct ebuf core = make_core(&o);
	const char *path = path_in("big.core");
	struct ms_error err;
	write_buf(path, core.p, core.n);
	CHECK(truncate(path, (off_t)(BIG_OFF + o.big)) == 0);
	if (!sparse) {
		int fd = open(path, O_RDWR);
		int rc = fd < 0 ? -1 : posix_fallocate(fd, (off_t)BIG_OFF, (off_t)o.big);
		if (fd >= 0)
			close(fd);
		if (rc != 0) {
			/* a file system without fallocate: the sparse case only */
			unlink(path);
			free(exe.p);
			free(core.p);
			return;
		}
	}
	write_buf(path_in("big.exe"), exe.p, exe.n);
	struct target *t = OPEN(path, path_in("big.exe"), MS_OK, &err);
	if (!t)
		goto out;
	uint64_t file0, anon0, file, anon, most = 0, bad = 0, v;
	rss(&file0, &anon0);
	for (int round = 0; round < 2; round++) {
		for (uint64_t off = 0; off < o.big; off += 4096) {
			if (target_read_u64(t, BIG + off + (off >> 12) % 512 * 8, &v) || v)
				bad++;
			if (!(off & ((4ull << 20) - 1))) {
				rss(&file, &anon);
				if (file > most)
					most = file;
			}
		}
	}
	uint64_t trims, checks;
	target_trim_counts(t, &trims, &checks);
	CHECK_MSG(bad == 0, "%" PRIu64 " reads failed or read other than zeros", bad);
	/* The goal is for file and anonymous memory together; the program's
	 * own file pages (file0) come on top, and one check's worth (2 MiB,
	 * or a granule's folio each). */
	uint64_t goal = (BIG_OFF + o.big) / 100 * 21;
	/* Under a sanitizer, the test's own memory is over the goal: the
	 * core's pages are then held at the 2 MiB floor, as in a sparse
	 * core. */
	bool floor = sparse || anon0 + file0 >= goal / 2;
	uint64_t allowed = floor ? 2ull << 20 : goal / 2;
	CHECK_MSG(most <= file0 + allowed + (floor ? 8ull << 20 : 24ull << 20),
		  "sparse %d: %" PRIu64 " MiB of file pages mapped, %" PRIu64
		  " MiB allowed (+%" PRIu64 " at the start, anon %" PRIu64 ")", sparse, most >> 20,
		  allowed >> 20, file0 >> 20, anon0 >> 20);
	if (!floor)
		CHECK_MSG(most >= file0 + (32ull << 20),
			  "only %" PRIu64 " MiB mapped: the window was not used", (most - file0) >> 20);
	CHECK_MSG(trims > 0 && checks > 0, "trims %" PRIu64 ", checks %" PRIu64, trims, checks);
	target_close(t);
out:
	unlink(path);
	free(exe.p);
	free(core.p);
}

static void test_trim(void)
{
	trim_case(false);
	trim_case(true);
}

static void test_exe_bss(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core;
	struct target *t;
	unsigned char buf[0x200];

	co.no_data_seg = true;
	core = make_core(&co);
	t = OPEN(write_pair(&exe, &core, "prog", "core-nodata"), NULL, MS_OK, &e);
	if (t) {
		/* the data segment comes from the file; bss is unreadable */
		check_bytes(t, 0x403000, 0x100, exe.p + 0x3000, __LINE__);
		CHECK(target_read(t, 0x4030f8, buf, 16) == -1);
		CHECK(target_read(t, 0x403100, buf, 1) == -1);
		CHECK(target_view(t, 0x403000, 0x100) != NULL);
		CHECK(target_view(t, 0x403000, 0x101) == NULL);
	}
	target_close(t);
	free(exe.p);
	free(core.p);
}

static void test_pie(void)
{
	const struct exe_opt pie = { ET_DYN, 0, 0, 'p' };
	const uint64_t rt = 0x555555554000ull;
	struct ms_error e;
	struct ebuf exe = make_exe(&pie);
	struct core_opt co = core_opt(&exe, path_in("pie"));
	struct ebuf core;
	struct target *t;
	unsigned char buf[32];

	co.rt_base = rt;
	core = make_core(&co);
	t = OPEN(write_pair(&exe, &core, "pie", "core-pie"), NULL, MS_OK, &e);
	if (t) {
		CHECK_EQ_U64(target_exe_bias(t), rt);
		CHECK(target_read(t, rt + RODATA_OFF, buf, sizeof RODATA_STR) == 0);
		CHECK_STR((char *)buf, RODATA_STR);
		CHECK(target_read(t, RODATA_OFF, buf, 1) == -1);
	}
	target_close(t);

	/* no auxv: the bias comes from NT_FILE */
	free(core.p);
	co.no_auxv = true;
	core = make_core(&co);
	t = OPEN(write_pair(NULL, &core, NULL, "core-pie-noauxv"), NULL, MS_OK, &e);
	if (t) {
		CHECK_EQ_U64(target_exe_bias(t), rt);
		CHECK(target_read(t, rt + RODATA_OFF, buf, sizeof RODATA_STR) == 0);
	}
	target_close(t);
	free(exe.p);
	free(core.p);
}

static void test_mismatch(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE), other;
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co);
	const char *cp = write_pair(&exe, &core, "prog", "core");
	struct exe_opt eo;

	/* different entry point */
	eo = EXE;
	eo.entry_adj = 0x10;
	other = make_exe(&eo);
	write_buf(path_in("other-entry"), other.p, other.n);
	free(other.p);
	OPEN(cp, path_in("other-entry"), MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, path_in("other-entry"));
	CHECK_CONTAINS(e.msg, cp);
	CHECK_CONTAINS(e.msg, "entry point");
	CHECK_CONTAINS(e.msg, "--exe");

	/* same layout, different build ID in the first page */
	eo = EXE;
	eo.build_id = 'b';
	other = make_exe(&eo);
	write_buf(path_in("other-id"), other.p, other.n);
	free(other.p);
	OPEN(cp, path_in("other-id"), MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, "first page");

	/* the exe found through the core was rebuilt */
	write_buf(path_in("rebuilt"), exe.p, exe.n);
	free(core.p);
	co.exe_name = path_in("rebuilt");
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-rebuilt");
	eo = EXE;
	eo.build_id = 'c';
	other = make_exe(&eo);
	write_buf(path_in("rebuilt"), other.p, other.n);
	free(other.p);
	OPEN(cp, NULL, MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, "rebuilt");
	CHECK_CONTAINS(e.msg, "--exe");

	/* NT_FILE disagrees with the program headers */
	free(core.p);
	co.exe_name = path_in("prog");
	co.rodata_pgoff = 5;
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-ntfile");
	OPEN(cp, NULL, MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, "file offset 0x5000");

	/* without auxv and NT_FILE, the dumped page is still compared */
	free(core.p);
	co = core_opt(&exe, NULL);
	co.no_auxv = true;
	co.flip_first_page = BUILDID_OFF + 9;
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-bare");
	OPEN(cp, path_in("prog"), MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, "first page");
	CHECK_CONTAINS(e.msg, "0x209");

	free(exe.p);
	free(core.p);
}

/* An executable with a Go build ID note in its first page. */
static struct ebuf make_exe_id(const char *id)
{
	struct ebuf b = make_exe(&EXE);
	size_t off = 0x300;

	eb_ehdr(&b, ET_EXEC, 0x400000 + ENTRY_OFF, 4);
	note(&b, &off, "Go\0", 4, id, strlen(id));
	eb_phdr(&b, 3, PT_NOTE, PF_R, 0x300, 0x400300, off - 0x300, off - 0x300);
	return b;
}

/* Matching by build ID: what strip rewrites (the headers) does not
 * matter, the build ID does; another build given with --exe is only a
 * candidate for the types. */
static void test_build_ids(void)
{
	struct ms_error e;
	struct ebuf a = make_exe_id("go-build-A"), b = make_exe_id("go-build-B");
	struct core_opt co = core_opt(&a, path_in("prog-a"));
	struct ebuf core;
	struct target *t;
	const char *cp;

	write_buf(path_in("prog-b"), b.p, b.n);
	/* strip rewrote e_shoff and e_shnum in the image's header page */
	co.flip_first_page = 0x28;
	core = make_core(&co);
	cp = write_pair(&a, &core, "prog-a", "core-ids");
	t = OPEN(cp, NULL, MS_OK, &e);
	if (t) {
		CHECK(target_build_ids(t) != NULL);
		if (target_build_ids(t))
			CHECK_STR(target_build_ids(t)->go, "go-build-A");
		CHECK(target_exe_candidate(t) == NULL);
		CHECK(!target_exe_other_build(t));
	}
	target_close(t);

	/* --exe another build: the core's executable serves the memory */
	t = OPEN(cp, path_in("prog-b"), MS_OK, &e);
	if (t) {
		CHECK_STR(target_exe_path(t), path_in("prog-a"));
		CHECK_STR(target_exe_candidate(t), path_in("prog-b"));
		CHECK(!target_exe_other_build(t));
	}
	target_close(t);

	/* ... and when it is gone, the other build does, flagged */
	free(core.p);
	co.exe_name = path_in("prog-gone");
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-ids-gone");
	t = OPEN(cp, path_in("prog-b"), MS_OK, &e);
	if (t) {
		CHECK_STR(target_exe_path(t), path_in("prog-b"));
		CHECK(target_exe_other_build(t));
	}
	target_close(t);

	/* the executable the core names was rebuilt: refused, saying why */
	free(core.p);
	co.exe_name = path_in("prog-b");
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-ids-rebuilt");
	OPEN(cp, NULL, MS_EMISMATCH, &e);
	CHECK_CONTAINS(e.msg, "Go build ID go-build-A in the core");
	CHECK_CONTAINS(e.msg, "go-build-B in the executable");

	free(a.p);
	free(b.p);
	free(core.p);
}

static void test_find_exe(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co;
	struct ebuf core;
	struct target *t;
	char name[600];

	write_buf(path_in("prog"), exe.p, exe.n);

	/* missing */
	co = core_opt(&exe, path_in("gone"));
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-gone"), NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, path_in("gone"));
	CHECK_CONTAINS(e.msg, "--exe PATH");
	free(core.p);

	/* " (deleted)" but present at the original path */
	snprintf(name, sizeof name, "%s (deleted)", path_in("prog"));
	co = core_opt(&exe, name);
	core = make_core(&co);
	t = OPEN(write_pair(NULL, &core, NULL, "core-del"), NULL, MS_OK, &e);
	CHECK_STR(target_exe_path(t), path_in("prog"));
	target_close(t);
	free(core.p);

	/* " (deleted)" and gone */
	snprintf(name, sizeof name, "%s (deleted)", path_in("gone"));
	co = core_opt(&exe, name);
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-del2"), NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "deleted");
	CHECK_CONTAINS(e.msg, "--exe PATH");
	free(core.p);

	/* no NT_FILE: say what the process was and ask for --exe */
	co = core_opt(&exe, NULL);
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nofile"), NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "\"prog\"");
	CHECK_CONTAINS(e.msg, "--exe PATH");
	t = OPEN(path_in("core-nofile"), path_in("prog"), MS_OK, &e);
	target_close(t);
	free(core.p);

	/* no auxv: the lowest offset-0 mapping is the program */
	co = core_opt(&exe, path_in("prog"));
	co.no_auxv = true;
	co.no_prpsinfo = true;
	core = make_core(&co);
	t = OPEN(write_pair(NULL, &core, NULL, "core-noauxv"), NULL, MS_OK, &e);
	CHECK_STR(target_exe_path(t), path_in("prog"));
	target_close(t);
	free(core.p);

	free(exe.p);
}

static void test_truncated(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co);
	const char *cp = path_in("core-trunc");

	write_buf(path_in("prog"), exe.p, exe.n);

	/* Cut inside D (a size limit stopped the writer): what is there is
	 * read, D's rest and E, F, G count as not dumped. */
	{
		struct target *t;
		uint64_t present = 1, v = 0;
		unsigned char byte;

		write_buf(cp, core.p, 0x6000);
		t = OPEN(cp, NULL, MS_OK, &e);
		CHECK_EQ_U64(target_core_cut(t, &present), 0xb000);
		CHECK_EQ_U64(present, 0x6000);
		CHECK(target_read_u64(t, HEAP + 0xff8, &v) == 0);
		CHECK(target_read(t, HEAP + 0x1000, &byte, 1) != 0);
		CHECK(target_read(t, HEAP + 0x10000, &byte, 1) != 0);
		CHECK_EQ_U64(target_dumped(t, HEAP, 0x4000), 0x1000);
		CHECK_EQ_U64(target_missing(t, HEAP, 0x5000), 0x4000);
		target_close(t);

		/* whole: not cut */
		write_buf(cp, core.p, core.n);
		t = OPEN(cp, NULL, MS_OK, &e);
		CHECK_EQ_U64(target_core_cut(t, &present), 0);
		CHECK_EQ_U64(present, 0);
		target_close(t);
	}

	write_buf(cp, core.p, 0x500); /* inside the notes */
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "truncated core file (notes");

	write_buf(cp, core.p, 100); /* inside the program headers */
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "program headers");

	write_buf(cp, core.p, 40); /* inside the ELF header */
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "truncated ELF header");

	/* Every prefix: a clean error while the headers and notes are cut,
	 * past them a core that says it is cut and holds what is there. */
	{
		size_t len;
		int bad = 0, opened = 0;

		for (len = 1; len < core.n; len += len < 0x2100 ? 13 : 0x3ff) {
			struct target *t;
			uint64_t present = 0;

			write_buf(cp, core.p, len);
			memset(&e, 0, sizeof e);
			t = target_open_core(cp, path_in("prog"), &e);
			if (!t && (e.code != MS_EFORMAT || !strstr(e.msg, cp)))
				bad++;
			if (t && (target_core_cut(t, &present) != 0xb000 || present != len))
				bad++;
			/* G's last byte is the file's last: never there */
			if (t && target_has(t, HEAP + 0x11fff, 1))
				bad++;
			if (t)
				opened++;
			target_close(t);
		}
		CHECK_EQ_U64(bad, 0);
		CHECK(opened > 0);
	}

	/* a truncated executable */
	write_buf(path_in("prog-trunc"), exe.p, 0x2800);
	write_buf(path_in("core"), core.p, core.n);
	OPEN(path_in("core"), path_in("prog-trunc"), MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, path_in("prog-trunc"));
	CHECK_CONTAINS(e.msg, "truncated executable");

	free(exe.p);
	free(core.p);
}

static void test_ntfile_corrupt(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core;
	struct ntfile f;
	const char *cp;

	write_buf(path_in("prog"), exe.p, exe.n);
	co.raw_ntfile = &f;

	/* an absurd count */
	ntfile_begin(&f, UINT64_C(1) << 60, 4096);
	ntfile_entry(&f, 0x400000, 0x402000, 0);
	ntfile_name(&f, path_in("prog"));
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-nt1");
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "NT_FILE");
	CHECK_CONTAINS(e.msg, cp);
	free(core.p);

	/* a count that overflows count * 24 */
	ntfile_begin(&f, UINT64_MAX / 24 + 2, 4096);
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt2"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "NT_FILE");
	free(core.p);

	/* names missing */
	ntfile_begin(&f, 2, 4096);
	ntfile_entry(&f, 0x400000, 0x402000, 0);
	ntfile_entry(&f, 0x402000, 0x403000, 2);
	ntfile_name(&f, path_in("prog"));
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt3"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "file names");
	free(core.p);

	/* unterminated name */
	f.n--;
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt4"), NULL, MS_EFORMAT, &e);
	free(core.p);

	/* start > end */
	ntfile_begin(&f, 1, 4096);
	ntfile_entry(&f, 0x402000, 0x400000, 0);
	ntfile_name(&f, path_in("prog"));
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt5"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "before it starts");
	free(core.p);

	/* page size 0 and a page offset that overflows */
	ntfile_begin(&f, 0, 0);
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt6"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "page size");
	free(core.p);
	ntfile_begin(&f, 1, 4096);
	ntfile_entry(&f, 0x400000, 0x402000, UINT64_MAX / 16);
	ntfile_name(&f, path_in("prog"));
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt7"), NULL, MS_EFORMAT, &e);
	free(core.p);

	/* too short to hold its header */
	f.n = 8;
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-nt8"), NULL, MS_EFORMAT, &e);
	free(core.p);

	/* an empty but valid NT_FILE: no main program to find */
	ntfile_begin(&f, 0, 4096);
	core = make_core(&co);
	cp = write_pair(NULL, &core, NULL, "core-nt9");
	OPEN(cp, NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "--exe");
	target_close(OPEN(cp, path_in("prog"), MS_OK, &e));
	free(core.p);

	free(exe.p);
}

static void test_segments_corrupt(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core;
	Elf64_Phdr ph;
	const char *cp;

	write_buf(path_in("prog"), exe.p, exe.n);

	co.overlap = true;
	core = make_core(&co);
	OPEN(write_pair(NULL, &core, NULL, "core-overlap"), NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "overlap");
	free(core.p);

	co.overlap = false;
	core = make_core(&co);
	cp = path_in("core-bad");

	/* filesz > memsz in the first program header (segment D) */
	memcpy(&ph, core.p + 64, sizeof ph);
	ph.p_filesz = ph.p_memsz + 1;
	memcpy(core.p + 64, &ph, sizeof ph);
	write_buf(cp, core.p, core.n);
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "exceeds memory size");

	/* a segment wrapping around the address space */
	ph.p_filesz = 0;
	ph.p_vaddr = UINT64_MAX - 0xfff;
	ph.p_memsz = 0x2000;
	memcpy(core.p + 64, &ph, sizeof ph);
	write_buf(cp, core.p, core.n);
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "wraps");

	/* an offset that overflows */
	ph.p_vaddr = HEAP;
	ph.p_memsz = 0x4000;
	ph.p_filesz = 0x3000;
	ph.p_offset = UINT64_MAX - 0x10;
	memcpy(core.p + 64, &ph, sizeof ph);
	write_buf(cp, core.p, core.n);
	OPEN(cp, NULL, MS_EFORMAT, &e);

	/* absurd program header count */
	ph.p_offset = 0x5000;
	memcpy(core.p + 64, &ph, sizeof ph);
	core.p[56] = 0xfe;
	core.p[57] = 0xff;
	write_buf(cp, core.p, core.n);
	OPEN(cp, NULL, MS_EFORMAT, &e);
	CHECK_CONTAINS(e.msg, "program headers");

	/* extended numbering (PN_XNUM): real count in section 0 */
	{
		Elf64_Ehdr eh;
		Elf64_Shdr sh;
		size_t nph;
		struct target *t;

		memcpy(&eh, core.p, sizeof eh);
		nph = 8; /* make_core wrote 8 headers */
		eh.e_phnum = PN_XNUM;
		eh.e_shoff = 0x1f00;
		eh.e_shentsize = sizeof sh;
		eh.e_shnum = 0;
		memset(&sh, 0, sizeof sh);
		sh.sh_info = (uint32_t)nph;
		memcpy(core.p, &eh, sizeof eh);
		memcpy(core.p + 0x1f00, &sh, sizeof sh);
		write_buf(cp, core.p, core.n);
		t = OPEN(cp, NULL, MS_OK, &e);
		CHECK(t && target_read(t, 0x400000 + RODATA_OFF, &eh, 4) == 0);
		target_close(t);

		sh.sh_info = 0x7fffffff;
		memcpy(core.p + 0x1f00, &sh, sizeof sh);
		write_buf(cp, core.p, core.n);
		OPEN(cp, NULL, MS_EFORMAT, &e);

		eh.e_shoff = core.n - 8;
		memcpy(core.p, &eh, sizeof eh);
		write_buf(cp, core.p, core.n);
		OPEN(cp, NULL, MS_EFORMAT, &e);
	}

	free(core.p);
	free(exe.p);
}

/* Random corruption of the headers and notes must never crash and must
 * either open (reads then work or fail cleanly) or fail with a message. */
static void test_fuzz(void)
{
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co), m = { 0 };
	char cp[512], exe_path[512];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int iter, bad = 0, opened = 0;

	snprintf(cp, sizeof cp, "%s", path_in("core-fuzz"));
	snprintf(exe_path, sizeof exe_path, "%s", path_in("prog"));
	write_buf(exe_path, exe.p, exe.n);
	eb_put(&m, 0, core.p, core.n);
	for (iter = 0; iter < 2000; iter++) {
		struct ms_error e;
		struct target *t;
		int k, flips = 1 + iter % 4;

		memcpy(m.p, core.p, core.n);
		for (k = 0; k < flips; k++) {
			size_t pos;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly headers and notes, sometimes anywhere */
			pos = (size_t)(seed >> 33) % (iter % 5 ? 0x1000 : core.n);
			m.p[pos] = (uint8_t)(seed >> 20);
		}
		write_buf(cp, m.p, m.n);
		memset(&e, 0, sizeof e);
		t = target_open_core(cp, iter % 2 ? exe_path : NULL, &e);
		if (t) {
			unsigned char b[64];
			size_t n, i;
			const struct target_thread *th = target_threads(t, &n);

			opened++;
			for (i = 0; i < n; i++)
				(void)target_read(t, th[i].sp, b, sizeof b);
			for (i = 0; i < 64; i++) {
				seed = seed * 6364136223846793005ull + 1;
				(void)target_read(t, HEAP + (seed >> 44), b, 1 + i % 64);
				(void)target_view(t, 0x400000 + (seed >> 46), 1 + i % 64);
			}
		} else if (!e.msg[0] || e.code == MS_OK || e.code == MS_EINTERNAL ||
			   strchr(e.msg, '\n')) {
			bad++;
			fprintf(stderr, "fuzz %d: code %d: %s\n", iter, e.code, e.msg);
		}
		target_close(t);
	}
	CHECK_EQ_U64(bad, 0);
	CHECK(opened > 0);
	free(m.p);
	free(core.p);
	free(exe.p);
}

/* ---- a real Go core (optional) ---------------------------------------- */

static int find_symbol(const char *exe, const char *name, uint64_t *addr)
{
	int fd = open(exe, O_RDONLY), found = -1;
	Elf *elf;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && found < 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s))
				break;
			n = elf_strptr(elf, sh.sh_link, s.st_name);
			if (n && strcmp(n, name) == 0) {
				*addr = s.st_value;
				found = 0;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

static void test_real_core(void)
{
	const char *core = getenv("MAPSCAN_TEST_CORE");
	const char *exe = getenv("MAPSCAN_TEST_EXE");
	const struct target_thread *th;
	struct ms_error e;
	struct target *t;
	uint64_t sym, ptr, len;
	size_t n, i, readable = 0;
	char s[64];

	if (!core || !*core) {
		UNIT_SKIP("real-core test: set MAPSCAN_TEST_CORE (and MAPSCAN_TEST_EXE) to a Go core and its binary");
		return;
	}
	t = OPEN(core, exe && *exe ? exe : NULL, MS_OK, &e);
	if (!t)
		return;
	printf("real core %s: exe %s, bias 0x%" PRIx64 "\n", core,
	       target_exe_path(t), target_exe_bias(t));
	th = target_threads(t, &n);
	CHECK(n > 0);
	for (i = 0; i < n; i++) {
		unsigned char b[16];

		if (target_read(t, th[i].sp, b, sizeof b) == 0 &&
		    target_read(t, th[i].pc, b, 1) == 0)
			readable++;
	}
	CHECK_EQ_U64(readable, n);

	if (find_symbol(target_exe_path(t), "runtime.buildVersion", &sym) < 0) {
		UNIT_SKIP("no runtime.buildVersion symbol in %s", target_exe_path(t));
	} else {
		sym += target_exe_bias(t);
		CHECK(target_read_u64(t, sym, &ptr) == 0);
		CHECK(target_read_u64(t, sym + 8, &len) == 0);
		CHECK(len > 2 && len < sizeof s);
		if (len > 2 && len < sizeof s) {
			memset(s, 0, sizeof s);
			CHECK(target_read(t, ptr, s, len) == 0);
			CHECK(strncmp(s, "go", 2) == 0);
			printf("runtime.buildVersion at 0x%" PRIx64 " -> 0x%" PRIx64
			       " = \"%s\"\n", sym, ptr, s);
			CHECK(target_view(t, ptr, len) != NULL);
		}
	}
	target_close(t);
}

/* Names that are not regular files are refused at once: a FIFO without a
 * writer would block a plain open() forever. */
static void test_special_files(void)
{
	struct ms_error e;
	int er = -1;
	const char *fifo = path_in("fifo");

	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(file_open_regular(fifo, "executable", &er, &e) < 0);
	CHECK_EQ_U64(e.code, MS_EOPEN);
	CHECK_CONTAINS(e.msg, "FIFO");
	CHECK_EQ_U64(er, 0);
	CHECK(file_open_regular("/dev/null", "executable", &er, &e) < 0);
	CHECK_CONTAINS(e.msg, "device");
	CHECK(file_open_regular(dir, "executable", &er, &e) < 0);
	CHECK_EQ_U64(er, EISDIR);
	CHECK(file_open_regular(path_in("no-such-file"), "executable", &er, &e) < 0);
	CHECK_EQ_U64(er, ENOENT);
	write_buf(path_in("plain"), "x", 1);
	int fd = file_open_regular(path_in("plain"), "executable", &er, &e);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	/* The core and the executable, by either name. */
	OPEN(fifo, NULL, MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "FIFO");
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, fifo);
	struct ebuf core = make_core(&co);
	const char *cp = write_pair(NULL, &core, NULL, "core-fifo-exe");
	OPEN(cp, NULL, MS_EOPEN, &e);      /* NT_FILE names the FIFO */
	CHECK_CONTAINS(e.msg, fifo);
	CHECK_CONTAINS(e.msg, "--exe");
	OPEN(cp, "/dev/zero", MS_EOPEN, &e);
	CHECK_CONTAINS(e.msg, "device");
	free(exe.p);
	free(core.p);
}

/* What the core holds of the process's memory (make_core's layout). */
static void test_coverage(void)
{
	struct ms_error e;
	struct ebuf exe = make_exe(&EXE);
	struct core_opt co = core_opt(&exe, path_in("prog"));
	struct ebuf core = make_core(&co);
	struct target *t = OPEN(write_pair(&exe, &core, "prog", "core"), NULL, MS_OK, &e);
	uint64_t total = 0;

	if (t) {
		/* D dumps 0x3000 of 0x4000, E all of its 0x1000. */
		CHECK_EQ_U64(target_dumped(t, HEAP, 0x5000), 0x4000);
		CHECK_EQ_U64(target_dumped(t, HEAP + 0x2800, 0x1000), 0x800);
		CHECK_EQ_U64(target_missing(t, HEAP, 0x20000), 0x1000);
		CHECK_EQ_U64(target_missing(t, HEAP + 0x3800, 0x100), 0x100);
		/* rodata (B) is read from the file: dumped 0, missing all. */
		CHECK_EQ_U64(target_dumped(t, 0x402000, 0x1000), 0);
		CHECK_EQ_U64(target_missing(t, 0x402000, 0x1000), 0x1000);
		CHECK_EQ_U64(target_exe_data_missing(t, &total), 0);
		CHECK_EQ_U64(total, 0x2000);
		CHECK_EQ_U64(target_dumped(t, UINT64_MAX - 8, 100), 0);
	}
	target_close(t);
	co.no_data_seg = true;
	free(core.p);
	core = make_core(&co);
	t = OPEN(write_pair(&exe, &core, "prog", "core-nodata"), NULL, MS_OK, &e);
	if (t)
		CHECK_EQ_U64(target_exe_data_missing(t, &total), 0x2000);
	target_close(t);
	free(exe.p);
	free(core.p);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[600];

	snprintf(dir, sizeof dir, "%s/mapscan-test-target.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_error();
	test_null_safe();
	test_open_errors();
	test_special_files();
	test_coverage();
	test_good();
	test_trim();
	test_exe_bss();
	test_pie();
	test_mismatch();
	test_build_ids();
	test_find_exe();
	test_truncated();
	test_ntfile_corrupt();
	test_segments_corrupt();
	test_fuzz();
	test_real_core();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_done();
}
