/* Unit tests for lib/elffile.c and lib/debugfile.c: build ID notes, the
 * GC program decoder, and what an ELF file says about itself before and
 * after strip and objcopy --only-keep-debug (run on the test binary
 * itself, which has a GNU build ID and DWARF). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debugfile.h"
#include "elffile.h"
#include "unit.h"

static size_t put_note(unsigned char *b, size_t off, const char *name, size_t namesz,
		       uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t h[3] = { (uint32_t)namesz, descsz, type };

	memcpy(b + off, h, 12);
	memcpy(b + off + 12, name, namesz);
	off += 12 + ((namesz + 3) & ~(size_t)3);
	memcpy(b + off, desc, descsz);
	return off + ((descsz + 3) & ~(size_t)3);
}

static void test_notes(void)
{
	unsigned char buf[512];
	struct build_ids a, b;
	const unsigned char gnu[4] = { 0xde, 0xad, 0xbe, 0xef };
	size_t n;

	memset(buf, 0, sizeof buf);
	memset(&a, 0, sizeof a);
	/* Go's linker writes "Go\0\0" with namesz 4. */
	n = put_note(buf, 0, "Go\0\0", 4, 4, "abc/def", 7);
	n = put_note(buf, n, "GNU", 4, 3, gnu, 4);
	build_ids_parse_notes(&a, buf, n);
	CHECK_STR(a.go, "abc/def");
	CHECK_EQ_U64(a.gnu_len, 4);
	char hex[129];
	build_ids_gnu_hex(&a, hex);
	CHECK_STR(hex, "deadbeef");

	/* Truncated or lying notes are ignored, not read past. */
	memset(&b, 0, sizeof b);
	build_ids_parse_notes(&b, buf, 20);
	CHECK_STR(b.go, "");
	uint32_t big = 0xfffffff0;
	memcpy(buf + 4, &big, 4);
	build_ids_parse_notes(&b, buf, n);
	CHECK_STR(b.go, "");
	/* A Go ID with control characters is not one. */
	memset(&b, 0, sizeof b);
	n = put_note(buf, 0, "Go\0\0", 4, 4, "ab\ncd", 5);
	build_ids_parse_notes(&b, buf, n);
	CHECK_STR(b.go, "");

	/* Same build: Go IDs decide; GNU IDs when one lacks a Go ID. */
	memset(&b, 0, sizeof b);
	CHECK(build_ids_same(&a, &b) == -1);
	b.gnu_len = 4;
	memcpy(b.gnu, gnu, 4);
	CHECK(build_ids_same(&a, &b) == 1);
	b.gnu[0] ^= 1;
	CHECK(build_ids_same(&a, &b) == 0);
	snprintf(b.go, sizeof b.go, "abc/def");
	CHECK(build_ids_same(&a, &b) == 1);
	snprintf(b.go, sizeof b.go, "abc/xyz");
	CHECK(build_ids_same(&a, &b) == 0);
}

static void test_gcprog(void)
{
	unsigned char out[16];

	/* 10 literal bits 1011000001, then stop. */
	const unsigned char lit[] = { 10, 0x0d, 0x02, 0 };
	CHECK(debugfile_gcprog(lit, sizeof lit, out, 64) == 10);
	CHECK_EQ_U64(out[0], 0x0d);
	CHECK_EQ_U64(out[1], 0x02);
	/* 2 bits "01", repeated 3 times (count in a varint): 01 01 01 01. */
	const unsigned char rep[] = { 2, 0x02, 0x82, 3, 0 };
	CHECK(debugfile_gcprog(rep, sizeof rep, out, 64) == 8);
	CHECK_EQ_U64(out[0], 0xaa);
	/* The repeated length as a varint too (0x80 n c). */
	const unsigned char rep2[] = { 1, 0x01, 0x80, 1, 9, 0 };
	CHECK(debugfile_gcprog(rep2, sizeof rep2, out, 64) == 10);
	CHECK_EQ_U64(out[0], 0xff);
	CHECK_EQ_U64(out[1], 0x03);
	/* Malformed: no stop, literal past the end, repeat before any bit,
	 * output past nbits. */
	const unsigned char nostop[] = { 1, 0x01 };
	CHECK(debugfile_gcprog(nostop, sizeof nostop, out, 64) == -1);
	const unsigned char past[] = { 64, 0xff };
	CHECK(debugfile_gcprog(past, sizeof past, out, 64) == -1);
	const unsigned char early[] = { 0x81, 4, 0 };
	CHECK(debugfile_gcprog(early, sizeof early, out, 64) == -1);
	const unsigned char huge[] = { 1, 1, 0x81, 0xff, 0xff, 0xff, 0xff, 0x0f, 0 };
	CHECK(debugfile_gcprog(huge, sizeof huge, out, 64) == -1);
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static void test_files(const char *self)
{
	char dir[] = "/tmp/mapscan-test-debugfile.XXXXXX", cmd[2048], dbg[256], str[256];
	struct ms_error err;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(dbg, sizeof dbg, "%s/self.debug", dir);
	snprintf(str, sizeof str, "%s/self", dir);
	snprintf(cmd, sizeof cmd,
		 "objcopy --only-keep-debug '%s' '%s' && strip -o '%s.nolink' '%s' && "
		 "objcopy --add-gnu-debuglink='%s' '%s.nolink' '%s'",
		 self, dbg, str, self, dbg, str, str);
	if (sh(cmd)) {
		CHECK_MSG(0, "objcopy/strip failed: %s", cmd);
		return;
	}
	struct elffile *f = elffile_open(self, &err), *d = elffile_open(dbg, &err),
		       *s = elffile_open(str, &err);
	CHECK(f && d && s);
	if (f && d && s) {
		CHECK(elffile_has_dwarf(f) && elffile_has_code(f));
		CHECK(elffile_has_dwarf(d) && !elffile_has_code(d));
		CHECK(!elffile_has_dwarf(s) && elffile_has_code(s));
		CHECK(elffile_build_ids(f)->gnu_len > 0);
		CHECK(build_ids_same(elffile_build_ids(f), elffile_build_ids(d)) == 1);
		CHECK(build_ids_same(elffile_build_ids(f), elffile_build_ids(s)) == 1);
		const char *name;
		uint32_t crc;
		CHECK(elffile_debuglink(s, &name, &crc) == 0 && !strcmp(name, "self.debug") &&
		      crc == elffile_crc32(d));
		CHECK(elffile_debuglink(f, &name, &crc) == -1);
		uint64_t addr, size;
		CHECK(elffile_symbol(f, "main", &addr, &size) == 0 && addr && size);
		CHECK(elffile_symbol(s, "main", &addr, &size) == -1);
		/* The loaded bytes are the same, and read the same at an address. */
		unsigned char a[64], b[64];
		const struct elf_section *text = elffile_section(f, ".text");
		CHECK(text && elffile_read(f, text->addr, a, 64) == 0 &&
		      elffile_read(s, text->addr, b, 64) == 0 && !memcmp(a, b, 64));
		CHECK(text && elffile_read(d, text->addr, a, 64) == -1);
		/* strip rewrites the headers, which elffile_header_size covers. */
		CHECK(elffile_header_size(f) >= 64 && elffile_header_size(s) >= 64);
		uint64_t notes[4][2];
		CHECK(elffile_notes(f, notes, 4) >= 1);
	}
	elffile_close(f);
	elffile_close(d);
	elffile_close(s);
	CHECK(elffile_open(dir, &err) == NULL && err.code == MS_EOPEN);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (sh(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_notes();
	test_gcprog();
	test_files(argv[0]);
	return unit_done();
}
