/* ELF sections for libdwarf, decompressed (dwarf_sections.h).
 *
 * Only the section headers and the bytes of the sections libdwarf asks for
 * are read, with pread (what the DWARF sandbox lets its child do).  Every
 * offset and size comes from the file and is checked against it; a
 * compressed section must decompress to exactly the size its header
 * (Elf64_Chdr) says, and no section to more than MAX_SECTION bytes. */
#include <elf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "dwarf_sections.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

#define MAX_SECTIONS 4096u
#define MAX_SECTION (1ull << 31)  /* bytes of one section, decompressed */
#define MAX_NAMES (1u << 20)      /* bytes of the section-name table */

struct sec {
	Elf64_Shdr sh;
	const char *name;
	uint64_t size;            /* as libdwarf sees it: decompressed */
	uint32_t ctype;           /* ELFCOMPRESS_*, 0 if not compressed */
	unsigned char *data;      /* loaded, or NULL */
};

struct dwsec {
	int fd;
	uint64_t file_size;
	struct sec *sec;
	size_t nsec;
	char *names;
	Dwarf_Obj_Access_Interface iface;
	char why[200];            /* why the last load failed */
};

static int read_at(int fd, void *buf, uint64_t n, uint64_t off)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t k = pread(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
		if (k <= 0)
			return -1;
		p += k;
		off += (uint64_t)k;
		n -= (uint64_t)k;
	}
	return 0;
}

/* The file's section headers and names into s; -1 when they are not there
 * or not sane. */
static int read_headers(struct dwsec *s, int fd)
{
	struct stat st;
	Elf64_Ehdr eh;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(eh) || read_at(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr))
		return -1;
	s->fd = fd;
	s->file_size = (uint64_t)st.st_size;
	uint64_t n = eh.e_shnum, strndx = eh.e_shstrndx;
	if (!n || n > MAX_SECTIONS || eh.e_shoff > s->file_size ||
	    n * sizeof(Elf64_Shdr) > s->file_size - eh.e_shoff || strndx >= n)
		return -1;
	s->sec = calloc(n, sizeof(*s->sec));
	if (!s->sec)
		return -1;
	s->nsec = n;
	for (uint64_t i = 0; i < n; i++)
		if (read_at(fd, &s->sec[i].sh, sizeof(Elf64_Shdr), eh.e_shoff + i * sizeof(Elf64_Shdr)))
			return -1;
	const Elf64_Shdr *ns = &s->sec[strndx].sh;
	if (ns->sh_type == SHT_NOBITS || ns->sh_size > MAX_NAMES || ns->sh_offset > s->file_size ||
	    ns->sh_size > s->file_size - ns->sh_offset)
		return -1;
	s->names = calloc(1, ns->sh_size + 1);
	if (!s->names || read_at(fd, s->names, ns->sh_size, ns->sh_offset))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sec *c = &s->sec[i];
		c->name = c->sh.sh_name < ns->sh_size ? s->names + c->sh.sh_name : "";
		c->size = c->sh.sh_type == SHT_NOBITS ? 0 : c->sh.sh_size;
		if (c->sh.sh_type != SHT_NOBITS &&
		    (c->sh.sh_offset > s->file_size || c->sh.sh_size > s->file_size - c->sh.sh_offset))
			c->size = 0;          /* outside the file: an empty section */
		if ((c->sh.sh_flags & SHF_COMPRESSED) && c->size >= sizeof(Elf64_Chdr)) {
			Elf64_Chdr ch;
			if (read_at(fd, &ch, sizeof(ch), c->sh.sh_offset))
				return -1;
			c->ctype = ch.ch_type;
			c->size = ch.ch_size <= MAX_SECTION ? ch.ch_size : 0;
		}
	}
	return 0;
}

bool dwsec_has_zstd(int fd)
{
	struct dwsec s = { 0 };
	bool zstd = false;
	if (read_headers(&s, fd) == 0)
		for (size_t i = 0; i < s.nsec && !zstd; i++)
			zstd = s.sec[i].ctype == ELFCOMPRESS_ZSTD && !strncmp(s.sec[i].name, ".debug_", 7);
	free(s.sec);
	free(s.names);
	return zstd;
}

/* ---- libdwarf's object-access methods ----------------------------------- */

static int get_section_info(void *obj, Dwarf_Half i, Dwarf_Obj_Access_Section *out, int *error)
{
	struct dwsec *s = obj;
	(void)error;
	if (i >= s->nsec)
		return DW_DLV_NO_ENTRY;
	const struct sec *c = &s->sec[i];
	out->addr = c->sh.sh_addr;
	out->type = c->sh.sh_type;
	out->size = c->size;
	out->name = c->name;
	out->link = c->sh.sh_link;
	out->info = c->sh.sh_info;
	out->entrysize = c->sh.sh_entsize;
	return DW_DLV_OK;
}

static Dwarf_Endianness get_byte_order(void *obj)
{
	(void)obj;
	return DW_OBJECT_LSB;
}

static Dwarf_Small get_size8(void *obj)
{
	(void)obj;
	return 8;
}

static Dwarf_Unsigned get_section_count(void *obj)
{
	return ((struct dwsec *)obj)->nsec;
}

static int fail(struct dwsec *s, int *error, int code, const char *fmt, const char *name)
{
	snprintf(s->why, sizeof(s->why), fmt, name);
	*error = code;
	return DW_DLV_ERROR;
}

static int load_section(void *obj, Dwarf_Half i, Dwarf_Small **out, int *error)
{
	struct dwsec *s = obj;
	if (i >= s->nsec)
		return DW_DLV_NO_ENTRY;
	struct sec *c = &s->sec[i];
	if (c->data) {
		*out = c->data;
		return DW_DLV_OK;
	}
	if (!c->size)
		return DW_DLV_NO_ENTRY;
	/* One byte more than the data: libdwarf may look at an empty
	 * section's first byte. */
	unsigned char *dst = calloc(1, c->size + 1);
	if (!dst)
		return fail(s, error, DW_DLE_ALLOC_FAIL, "out of memory for %s", c->name);
	if (!(c->sh.sh_flags & SHF_COMPRESSED)) {
		if (read_at(s->fd, dst, c->size, c->sh.sh_offset)) {
			free(dst);
			return fail(s, error, DW_DLE_READ_ERROR, "cannot read %s", c->name);
		}
		c->data = dst;
		*out = dst;
		return DW_DLV_OK;
	}
	uint64_t n = c->sh.sh_size - sizeof(Elf64_Chdr);
	unsigned char *src = malloc(n ? n : 1);
	if (!src) {
		free(dst);
		return fail(s, error, DW_DLE_ALLOC_FAIL, "out of memory for %s", c->name);
	}
	bool ok = false;
	if (read_at(s->fd, src, n, c->sh.sh_offset + sizeof(Elf64_Chdr)) == 0) {
		if (c->ctype == ELFCOMPRESS_ZSTD) {
			size_t got = ZSTD_decompress(dst, c->size, src, n);
			ok = !ZSTD_isError(got) && got == c->size;
		} else if (c->ctype == ELFCOMPRESS_ZLIB && n <= ULONG_MAX) {
			uLongf got = (uLongf)c->size;
			ok = uncompress(dst, &got, src, (uLong)n) == Z_OK && got == c->size;
		}
	}
	free(src);
	if (!ok) {
		free(dst);
		return fail(s, error, DW_DLE_ZLIB_UNCOMPRESS_ERROR,
			    "its compressed section %s does not decompress to the size its header "
			    "says", c->name);
	}
	c->data = dst;
	*out = dst;
	return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods methods = {
	get_section_info, get_byte_order, get_size8, get_size8, get_section_count, load_section,
	NULL,                     /* executables are not relocated */
};

int dwsec_init(int fd, const char *path, Dwarf_Debug *dbg, struct dwsec **out,
	       struct ms_error *err)
{
	struct dwsec *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return ms_err(err, MS_EINTERNAL, "out of memory loading DWARF of %s", path);
	if (read_headers(s, fd)) {
		dwsec_free(s);
		return ms_err(err, MS_ENODWARF, "%s: cannot read its section headers; pass an "
			      "intact copy of the binary", path);
	}
	s->iface.object = s;
	s->iface.methods = &methods;
	Dwarf_Error e = 0;
	int rc = dwarf_object_init_b(&s->iface, NULL, NULL, DW_GROUPNUMBER_ANY, dbg, &e);
	if (rc != DW_DLV_OK) {
		ms_err(err, MS_ENODWARF, "%s: cannot read its DWARF: %s", path,
		       s->why[0] ? s->why : e ? dwarf_errmsg(e) : "no DWARF sections");
		if (e)
			dwarf_dealloc_error(NULL, e);
		dwsec_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

const char *dwsec_why(const struct dwsec *s)
{
	return s ? s->why : "";
}

void dwsec_free(struct dwsec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsec; i++)
		free(s->sec[i].data);
	free(s->sec);
	free(s->names);
	free(s);
}
