/* ELF executables and debug files on disk (see elffile.h). */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "elffile.h"
#include "target_impl.h"

#define NOTE_GO_BUILDID 4     /* ELF_NOTE_GOBUILDID_TAG in Go's linker */
#define MAX_SECTIONS 65536u

struct elffile {
	char *path;
	struct mapping m;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	size_t nph;
	struct elf_section *sec;
	size_t nsec;
	struct build_ids ids;
	uint64_t header_size;
};

/* ---- build IDs ---------------------------------------------------------- */

int build_ids_same(const struct build_ids *a, const struct build_ids *b)
{
	if (a->go[0] && b->go[0])
		return strcmp(a->go, b->go) == 0;
	if (a->gnu_len && b->gnu_len)
		return a->gnu_len == b->gnu_len && memcmp(a->gnu, b->gnu, a->gnu_len) == 0;
	return -1;
}

void build_ids_parse_notes(struct build_ids *ids, const unsigned char *d, size_t len)
{
	size_t off = 0;

	while (len - off >= 12) {
		uint64_t namesz = le32(d + off), descsz = le32(d + off + 4);
		uint32_t type = le32(d + off + 8);
		uint64_t name_off = off + 12, desc_off, next;

		if (namesz > len - name_off || ((namesz + 3) & ~3ull) > len - name_off)
			return;
		desc_off = name_off + ((namesz + 3) & ~3ull);
		if (descsz > len - desc_off)
			return;
		next = desc_off + ((descsz + 3) & ~3ull);
		/* Go's linker writes the name "Go\0\0" with namesz 4. */
		if ((namesz == 3 || namesz == 4) && !memcmp(d + name_off, "Go", 3) &&
		    type == NOTE_GO_BUILDID &&
		    !ids->go[0] && descsz && descsz < sizeof ids->go) {
			/* A build ID is printable ASCII; anything else is not one. */
			bool ok = true;
			for (uint64_t i = 0; i < descsz && ok; i++)
				ok = d[desc_off + i] > 0x20 && d[desc_off + i] < 0x7f;
			if (ok) {
				memcpy(ids->go, d + desc_off, descsz);
				ids->go[descsz] = 0;
			}
		} else if (namesz == 4 && !memcmp(d + name_off, "GNU", 4) &&
			   type == NT_GNU_BUILD_ID && !ids->gnu_len && descsz &&
			   descsz <= sizeof ids->gnu) {
			memcpy(ids->gnu, d + desc_off, descsz);
			ids->gnu_len = descsz;
		}
		if (next >= len)
			return;
		off = next;
	}
}

void build_ids_gnu_hex(const struct build_ids *ids, char *out)
{
	for (size_t i = 0; i < ids->gnu_len; i++)
		sprintf(out + 2 * i, "%02x", ids->gnu[i]);
	out[2 * ids->gnu_len] = 0;
}

/* ---- opening -------------------------------------------------------- */

static int load_sections(struct elffile *f)
{
	const Elf64_Ehdr *eh = &f->eh;
	uint64_t shnum = eh->e_shnum, strndx = eh->e_shstrndx, i;
	Elf64_Shdr sh, strsh;

	if (!eh->e_shoff || eh->e_shentsize < sizeof sh || eh->e_shoff > f->m.size ||
	    f->m.size - eh->e_shoff < sizeof sh)
		return 0; /* no section headers: notes come from PT_NOTE */
	memcpy(&sh, f->m.base + eh->e_shoff, sizeof sh);
	if (shnum == 0)
		shnum = sh.sh_size;       /* extended numbering */
	if (strndx == SHN_XINDEX)
		strndx = sh.sh_link;
	if (shnum > MAX_SECTIONS || shnum > (f->m.size - eh->e_shoff) / eh->e_shentsize ||
	    strndx >= shnum)
		return 0;
	memcpy(&strsh, f->m.base + eh->e_shoff + strndx * eh->e_shentsize, sizeof strsh);
	if (strsh.sh_type == SHT_NOBITS || strsh.sh_offset > f->m.size ||
	    strsh.sh_size > f->m.size - strsh.sh_offset)
		return 0;
	const char *names = (const char *)f->m.base + strsh.sh_offset;
	f->sec = calloc(shnum, sizeof *f->sec);
	if (!f->sec)
		return -1;
	for (i = 0; i < shnum; i++) {
		struct elf_section *s = &f->sec[f->nsec];

		memcpy(&sh, f->m.base + eh->e_shoff + i * eh->e_shentsize, sizeof sh);
		if (sh.sh_name >= strsh.sh_size ||
		    !memchr(names + sh.sh_name, 0, strsh.sh_size - sh.sh_name))
			continue;
		s->name = names + sh.sh_name;
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->type = sh.sh_type;
		s->flags = (uint32_t)sh.sh_flags;
		if (sh.sh_type != SHT_NOBITS && sh.sh_offset <= f->m.size &&
		    sh.sh_size <= f->m.size - sh.sh_offset)
			s->data = f->m.base + sh.sh_offset;
		f->nsec++;
	}
	return 0;
}

/* Where the rewritable headers end (elffile_header_size). */
static uint64_t header_size(const struct elffile *f)
{
	uint64_t end = UINT64_MAX, min = sizeof(Elf64_Ehdr);

	if (f->eh.e_phoff + f->nph * f->eh.e_phentsize > min)
		min = f->eh.e_phoff + f->nph * f->eh.e_phentsize;
	for (size_t i = 0; i < f->nph; i++)
		if (f->ph[i].p_type == PT_NOTE && f->ph[i].p_filesz && f->ph[i].p_offset < end)
			end = f->ph[i].p_offset;
	for (size_t i = 0; i < f->nsec; i++) {
		const struct elf_section *s = &f->sec[i];

		if ((s->flags & SHF_ALLOC) && s->data && s->size &&
		    (uint64_t)(s->data - f->m.base) < end)
			end = (uint64_t)(s->data - f->m.base);
	}
	/* Nothing marks where the headers end: only they are skipped. */
	return end != UINT64_MAX && end > min ? end : min;
}

struct elffile *elffile_open(const char *path, struct ms_error *err)
{
	const char *fix = "pass an intact copy of the file";
	struct elffile *f = calloc(1, sizeof *f);
	int e;

	if (!f || !(f->path = strdup(path))) {
		free(f);
		ms_err(err, MS_EINTERNAL, "%s: out of memory", path);
		return NULL;
	}
	if (tg_map_file(path, "executable", &f->m, &e, err) < 0 ||
	    tg_check_ehdr(&f->m, path, "executable", fix, &f->eh, err) < 0)
		goto fail;
	if (f->eh.e_type != ET_EXEC && f->eh.e_type != ET_DYN) {
		ms_err(err, MS_EFORMAT, "%s: not an executable (ELF type %u)", path,
		       f->eh.e_type);
		goto fail;
	}
	if (tg_read_phdrs(&f->m, path, "executable", fix, &f->eh, &f->ph, &f->nph, err) < 0)
		goto fail;
	for (size_t i = 0; i < f->nph; i++)
		if ((f->ph[i].p_type == PT_LOAD || f->ph[i].p_type == PT_NOTE) &&
		    tg_check_phdr_numbers(&f->ph[i], i, path, fix, err) < 0)
			goto fail;
	if (load_sections(f) < 0) {
		ms_err(err, MS_EINTERNAL, "%s: out of memory", path);
		goto fail;
	}
	for (size_t i = 0; i < f->nph; i++) {
		const Elf64_Phdr *p = &f->ph[i];
		if (p->p_type == PT_NOTE && p->p_offset <= f->m.size &&
		    p->p_filesz <= f->m.size - p->p_offset)
			build_ids_parse_notes(&f->ids, f->m.base + p->p_offset, p->p_filesz);
	}
	for (size_t i = 0; i < f->nsec; i++)
		if (f->sec[i].type == SHT_NOTE && f->sec[i].data)
			build_ids_parse_notes(&f->ids, f->sec[i].data, f->sec[i].size);
	f->header_size = header_size(f);
	return f;
fail:
	elffile_close(f);
	return NULL;
}

void elffile_close(struct elffile *f)
{
	if (!f)
		return;
	tg_unmap_file(&f->m);
	free(f->ph);
	free(f->sec);
	free(f->path);
	free(f);
}

/* ---- queries -------------------------------------------------------- */

const char *elffile_path(const struct elffile *f)
{
	return f->path;
}

const struct build_ids *elffile_build_ids(const struct elffile *f)
{
	return &f->ids;
}

uint16_t elffile_type(const struct elffile *f)
{
	return f->eh.e_type;
}

uint64_t elffile_entry(const struct elffile *f)
{
	return f->eh.e_entry;
}

uint64_t elffile_header_size(const struct elffile *f)
{
	return f->header_size;
}

size_t elffile_notes(const struct elffile *f, uint64_t out[][2], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nph && n < max; i++)
		if (f->ph[i].p_type == PT_NOTE && f->ph[i].p_memsz &&
		    f->ph[i].p_memsz <= UINT64_MAX - f->ph[i].p_vaddr)
			out[n][0] = f->ph[i].p_vaddr, out[n][1] = f->ph[i].p_vaddr + f->ph[i].p_memsz, n++;
	for (size_t i = 0; i < f->nsec && n < max; i++) {
		const struct elf_section *s = &f->sec[i];
		if (s->type == SHT_NOTE && (s->flags & SHF_ALLOC) && s->size &&
		    s->size <= UINT64_MAX - s->addr)
			out[n][0] = s->addr, out[n][1] = s->addr + s->size, n++;
	}
	return n;
}

size_t elffile_unloaded_sections(const struct elffile *f, uint64_t out[][2], size_t max)
{
	size_t n = 0;

	for (size_t k = 0; f->nsec && k < f->nph && n < max; k++) {
		const Elf64_Phdr *p = &f->ph[k];
		if (p->p_type != PT_LOAD || !p->p_filesz || p->p_filesz > UINT64_MAX - p->p_vaddr)
			continue;
		uint64_t at = p->p_vaddr, end = p->p_vaddr + p->p_filesz;
		while (at < end && n < max) {
			/* The lowest allocated section still ahead (or under at). */
			const struct elf_section *best = NULL;
			for (size_t i = 0; i < f->nsec; i++) {
				const struct elf_section *s = &f->sec[i];
				if ((s->flags & SHF_ALLOC) && s->type != SHT_NOBITS && s->size &&
				    s->size <= UINT64_MAX - s->addr && s->addr + s->size > at &&
				    s->addr < end && (!best || s->addr < best->addr))
					best = s;
			}
			uint64_t next = !best ? end : best->addr > at ? best->addr : at;
			if (next - at >= 64)
				out[n][0] = at, out[n][1] = next, n++;
			if (!best)
				break;
			at = best->addr + best->size;
		}
	}
	return n;
}

const struct elf_section *elffile_section(const struct elffile *f, const char *name)
{
	for (size_t i = 0; i < f->nsec; i++)
		if (!strcmp(f->sec[i].name, name))
			return &f->sec[i];
	return NULL;
}

size_t elffile_loads(const struct elffile *f, struct elf_load *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nph && n < max; i++)
		if (f->ph[i].p_type == PT_LOAD)
			out[n++] = (struct elf_load){ f->ph[i].p_vaddr, f->ph[i].p_memsz,
						      f->ph[i].p_filesz, f->ph[i].p_flags };
	return n;
}

bool elffile_has_dwarf(const struct elffile *f)
{
	const struct elf_section *s = elffile_section(f, ".debug_info");

	if (!s)
		s = elffile_section(f, ".zdebug_info");
	return s && s->data && s->size;
}

bool elffile_has_code(const struct elffile *f)
{
	const struct elf_section *text = elffile_section(f, ".text");

	if (text && text->type == SHT_NOBITS)
		return false;
	/* Without section headers: a read-only segment is all file bytes. */
	for (size_t i = 0; i < f->nph; i++) {
		const Elf64_Phdr *p = &f->ph[i];
		if (p->p_type == PT_LOAD && !(p->p_flags & PF_W) && p->p_filesz < p->p_memsz)
			return false;
	}
	return true;
}

int elffile_read(const struct elffile *f, uint64_t vaddr, void *buf, size_t n)
{
	unsigned char *out = buf;

	while (n) {
		const Elf64_Phdr *hit = NULL;
		for (size_t i = 0; i < f->nph && !hit; i++) {
			const Elf64_Phdr *p = &f->ph[i];
			if (p->p_type == PT_LOAD && vaddr >= p->p_vaddr &&
			    vaddr - p->p_vaddr < p->p_filesz)
				hit = p;
		}
		if (!hit)
			return -1;
		uint64_t off = vaddr - hit->p_vaddr, k = hit->p_filesz - off;
		if (hit->p_offset > f->m.size || off > f->m.size - hit->p_offset)
			return -1;
		uint64_t room = f->m.size - hit->p_offset - off;
		if (k > room)
			k = room;
		if (k > n)
			k = n;
		if (!k)
			return -1;
		memcpy(out, f->m.base + hit->p_offset + off, k);
		out += k;
		vaddr += k;
		n -= k;
	}
	return 0;
}

int elffile_symbol(const struct elffile *f, const char *name, uint64_t *addr, uint64_t *size)
{
	const struct elf_section *sym = elffile_section(f, ".symtab"),
		*str = elffile_section(f, ".strtab");
	size_t len = strlen(name);

	if (!sym || !str || !sym->data || !str->data)
		return -1;
	for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sym->size; off += sizeof(Elf64_Sym)) {
		Elf64_Sym s;
		memcpy(&s, sym->data + off, sizeof s);
		if (s.st_name >= str->size || str->size - s.st_name <= len ||
		    memcmp(str->data + s.st_name, name, len + 1))
			continue;
		*addr = s.st_value;
		if (size)
			*size = s.st_size;
		return 0;
	}
	return -1;
}

int elffile_debuglink(const struct elffile *f, const char **name, uint32_t *crc)
{
	const struct elf_section *s = elffile_section(f, ".gnu_debuglink");

	if (!s || !s->data || s->size < 6)
		return -1;
	const unsigned char *nul = memchr(s->data, 0, s->size - 4);
	if (!nul || nul == s->data)
		return -1;
	size_t at = ((size_t)(nul - s->data) + 4) & ~(size_t)3;
	if (at + 4 > s->size || memchr(s->data, '/', (size_t)(nul - s->data)))
		return -1;
	*name = (const char *)s->data;
	*crc = le32(s->data + at);
	return 0;
}

uint32_t elffile_crc32(const struct elffile *f)
{
	uLong c = crc32(0L, Z_NULL, 0);
	const unsigned char *p = f->m.base;

	for (size_t left = f->m.size; left;) {
		uInt k = left > (1u << 30) ? 1u << 30 : (uInt)left;
		c = crc32(c, p, k);
		p += k;
		left -= k;
	}
	return (uint32_t)c;
}
