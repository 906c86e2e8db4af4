/* ELF files built in memory, for the unit tests and the fuzzing harnesses
 * (tests/fuzz/fuzz.h): a growing byte buffer, and an x86-64 ELF header
 * and program headers written into it.  Header only. */
#ifndef MAPSCAN_ELFBUILD_H
#define MAPSCAN_ELFBUILD_H

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ebuf {
	unsigned char *p;
	size_t n, cap;
};

/* len bytes of src at off; the bytes in between are zero. */
static inline void eb_put(struct ebuf *b, size_t off, const void *src, size_t len)
{
	if (off + len > b->cap) {
		size_t cap = (off + len) * 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q) {
			perror("realloc");
			abort();
		}
		memset(q + b->cap, 0, cap - b->cap);
		b->p = q;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + off, src, len);
	if (off + len > b->n)
		b->n = off + len;
}

static inline void eb_ehdr(struct ebuf *b, uint16_t type, uint64_t entry, size_t nph)
{
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = type;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = nph ? sizeof eh : 0;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)nph;
	eb_put(b, 0, &eh, sizeof eh);
}

/* Program header i (they follow the ELF header). */
static inline void eb_phdr(struct ebuf *b, size_t i, uint32_t type, uint32_t flags, uint64_t off,
			   uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	Elf64_Phdr p;
	memset(&p, 0, sizeof p);
	p.p_type = type;
	p.p_flags = flags;
	p.p_offset = off;
	p.p_vaddr = vaddr;
	p.p_filesz = filesz;
	p.p_memsz = memsz;
	p.p_align = type == PT_NOTE ? 4 : 0x1000;
	eb_put(b, sizeof(Elf64_Ehdr) + i * sizeof p, &p, sizeof p);
}

#endif
