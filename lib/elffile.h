/* An ELF executable, or a debug file split from one, as a file on disk:
 * what identifies its build (the Go and GNU build IDs), its sections and
 * symbols, and the file bytes of its loadable segments at link-time
 * addresses.  It is the target layer's view of files (the image itself is
 * target.h); lib/debugfile.c uses it to find and check the file that gives
 * the types.
 *
 * The file is mapped read-only and parsed in place with <elf.h>.  Every
 * offset, size and count in it is untrusted and checked against the file
 * before use; a section or note that does not fit is ignored, not fatal. */
#ifndef MAPSCAN_ELFFILE_H
#define MAPSCAN_ELFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What identifies one link of a program.  The Go build ID (note "Go", type
 * 4) names the link's inputs and output; the GNU build ID (note "GNU",
 * type 3) is written by external linkers and, since Go 1.24, by Go's own. */
struct build_ids {
	char go[256];              /* "" if none */
	unsigned char gnu[64];
	size_t gnu_len;            /* 0 if none */
};

/* The same build: equal Go build IDs, or (when either lacks one) equal GNU
 * build IDs.  1 same, 0 different, -1 when the two share no kind of ID. */
int build_ids_same(const struct build_ids *a, const struct build_ids *b);

/* Parse the notes in buf (4-byte aligned ELF notes) into ids; IDs already
 * set are kept. */
void build_ids_parse_notes(struct build_ids *ids, const unsigned char *buf, size_t n);

/* "8ce54b9e0c1c..." for the GNU ID, into out (at least 2*64+1 bytes). */
void build_ids_gnu_hex(const struct build_ids *ids, char *out);

struct elffile;

struct elf_section {
	const char *name;
	uint64_t addr, size;       /* sh_addr (link-time), sh_size */
	uint32_t type, flags;      /* SHT_*, SHF_* */
	const unsigned char *data; /* the file bytes, or NULL (SHT_NOBITS, outside the file) */
};

/* Open path: an ELF64 x86-64 executable or debug file.  MS_EOPEN,
 * MS_EFORMAT; NULL on error. */
struct elffile *elffile_open(const char *path, struct ms_error *err);
void elffile_close(struct elffile *f); /* NULL is fine */

const char *elffile_path(const struct elffile *f);
const struct build_ids *elffile_build_ids(const struct elffile *f);
uint16_t elffile_type(const struct elffile *f);      /* ET_EXEC, ET_DYN */
uint64_t elffile_entry(const struct elffile *f);

/* Section by name, or NULL. */
const struct elf_section *elffile_section(const struct elffile *f, const char *name);

/* Its loadable segments (PT_LOAD), link-time addresses. */
struct elf_load {
	uint64_t vaddr, memsz, filesz;
	uint32_t flags;            /* PF_R, PF_W, PF_X */
};
size_t elffile_loads(const struct elffile *f, struct elf_load *out, size_t max);

/* Does it have DWARF (.debug_info or the .zdebug_info of old toolchains)? */
bool elffile_has_dwarf(const struct elffile *f);

/* False for a debug file (objcopy --only-keep-debug): its loadable
 * segments keep their addresses but not their bytes. */
bool elffile_has_code(const struct elffile *f);

/* Copy n bytes at link-time address vaddr from the file part of its
 * loadable segments.  0, or -1 if any byte is not in the file. */
int elffile_read(const struct elffile *f, uint64_t vaddr, void *buf, size_t n);

/* Address and size of a symbol of .symtab; -1 if there is none. */
int elffile_symbol(const struct elffile *f, const char *name, uint64_t *addr, uint64_t *size);

/* .gnu_debuglink: the debug file's base name and the CRC-32 of its
 * contents.  -1 if there is none. */
int elffile_debuglink(const struct elffile *f, const char **name, uint32_t *crc);

/* CRC-32 (zlib's, as .gnu_debuglink uses) of the whole file. */
uint32_t elffile_crc32(const struct elffile *f);

/* The link-time address ranges [lo, hi) of its allocated notes (PT_NOTE
 * segments, SHT_NOTE sections), where the build IDs are; up to max into
 * out.  Returns how many. */
size_t elffile_notes(const struct elffile *f, uint64_t out[][2], size_t max);

/* The link-time address ranges [lo, hi) of loaded bytes that no allocated
 * section holds, where a gap between two of them is 64 bytes or more
 * (less is alignment): Go 1.19 puts .shstrtab between .rodata and
 * .typelink, inside the read-only segment, and strip moves it out and
 * leaves other bytes there.  Nothing when the file has no section
 * headers.  Up to max into out; returns how many. */
size_t elffile_unloaded_sections(const struct elffile *f, uint64_t out[][2], size_t max);

/* Bytes at the start of the file that strip and objcopy rewrite: the ELF
 * header, program and section headers, up to the first note or allocated
 * section.  The loaded image starts with the same bytes, so they say
 * nothing about whether two files are the same build. */
uint64_t elffile_header_size(const struct elffile *f);

#endif
