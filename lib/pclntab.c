/* Go's function table (see pclntab.h).
 *
 * Layout (runtime/symtab.go, Go 1.18+): a header {magic u32, pad, pad,
 * minLC u8, ptrSize u8, nfunc, nfiles, textStart, funcnameOffset, cuOffset,
 * filetabOffset, pctabOffset, pclnOffset} (words after the first), the
 * regions those offsets name, in that order, and at pclnOffset the
 * function table: nfunc+1 pairs {entryOff u32, funcOff u32} (the last
 * entry's entryOff is the end of the code) followed by the _func records
 * funcOff points to: {entryOff u32, nameOff i32, args i32, deferreturn u32,
 * pcsp u32, ...}. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "grow.h"
#include "pclntab.h"

#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define HDR_SIZE 72
#define MAX_FUNCS (1u << 24)
#define MAX_REGION (1ull << 28)
#define FUNC_NAMEOFF 4
#define FUNC_PCSP 16

struct pclntab {
	uint64_t hdr, text;
	unsigned quantum;
	unsigned call_pushes;      /* the target's (arch.h) */
	struct pcfunc *funcs;
	size_t nfuncs;
	char *names;               /* funcnametab, copied; NUL-terminated at its end */
	uint64_t names_len;
	uint8_t *pctab;            /* copied */
	uint64_t pctab_len;
};

static bool header_ok(const unsigned char *h, uint64_t w[8])
{
	uint32_t magic = le32(h);

	if ((magic != MAGIC_118 && magic != MAGIC_120) || h[4] || h[5] || (h[6] != 1 && h[6] != 4) ||
	    h[7] != 8)
		return false;
	for (int i = 0; i < 8; i++)
		w[i] = le64(h + 8 + 8 * i);
	/* nfunc nfiles text funcname cu filetab pctab pcln: regions in order */
	return w[0] && w[0] < MAX_FUNCS && w[3] >= HDR_SIZE && w[3] <= w[4] && w[4] <= w[5] &&
	       w[5] <= w[6] && w[6] <= w[7] && w[7] < MAX_REGION;
}

uint64_t pclntab_find(const struct target *t)
{
	const struct elffile *f = target_exe_file(t);
	const struct elf_section *s = f ? elffile_section(f, ".gopclntab") : NULL;
	unsigned char h[HDR_SIZE];
	uint64_t w[8], bias = target_exe_bias(t);

	if (s && s->addr && !target_read(t, s->addr + bias, h, sizeof h) && header_ok(h, w))
		return s->addr + bias;
	/* No section headers: look for the magic, 8-aligned, in the
	 * read-only segments that are not code. */
	struct elf_load ld[16];
	size_t n = f ? elffile_loads(f, ld, 16) : 0;
	for (size_t i = 0; i < n; i++) {
		if ((ld[i].flags & (PF_W | PF_X)) || ld[i].filesz > (1ull << 32))
			continue;
		uint64_t lo = ld[i].vaddr + bias, hi = lo + ld[i].filesz;
		for (uint64_t a = (lo + 7) & ~7ull; a + HDR_SIZE <= hi; a += 8) {
			const unsigned char *p = target_view(t, a, HDR_SIZE);
			if (!p && target_read(t, a, h, sizeof h))
				continue;
			if (!p)
				p = h;
			if (le32(p) >> 4 == 0x0fffffff && header_ok(p, w))
				return a;
		}
	}
	return 0;
}

void pclntab_free(struct pclntab *p)
{
	if (!p)
		return;
	free(p->funcs);
	free(p->names);
	free(p->pctab);
	free(p);
}

/* Copy n bytes of the image at a into a new buffer (one extra NUL). */
static void *copy(const struct target *t, uint64_t a, uint64_t n)
{
	unsigned char *b = malloc(n + 1);

	if (!b)
		return NULL;
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done > (1u << 20) ? 1u << 20 : n - done;
		if (target_read(t, a + done, b + done, k)) {
			free(b);
			return NULL;
		}
		done += k;
	}
	b[n] = 0;
	return b;
}

static int by_entry(const void *a, const void *b)
{
	const struct pcfunc *x = a, *y = b;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

struct pclntab *pclntab_open(const struct target *t, uint64_t hdr, uint64_t text,
			     struct ms_error *err)
{
	unsigned char h[HDR_SIZE];
	uint64_t w[8];
	struct pclntab *p = calloc(1, sizeof *p);
	unsigned char *ftab = NULL;

	if (!p) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		return NULL;
	}
	if (!hdr || target_read(t, hdr, h, sizeof h) || !header_ok(h, w)) {
		ms_err(err, MS_ENOTGO, "%s: no Go function table (.gopclntab) mapscan can read at "
		       "0x%llx", target_exe_path(t), (unsigned long long)hdr);
		goto fail;
	}
	p->hdr = hdr;
	p->quantum = h[6];
	p->call_pushes = target_arch(t)->call_pushes;
	p->text = text ? text : w[2];
	p->names_len = w[4] - w[3];
	p->pctab_len = w[7] - w[6];
	uint64_t nfunc = w[0], ftab_len = (nfunc + 1) * 8;
	if (!(p->names = copy(t, hdr + w[3], p->names_len)) ||
	    !(p->pctab = copy(t, hdr + w[6], p->pctab_len)) ||
	    !(ftab = copy(t, hdr + w[7], ftab_len)) ||
	    !(p->funcs = calloc(nfunc, sizeof *p->funcs))) {
		ms_err(err, MS_ENOTGO, "%s: the Go function table at 0x%llx is not all in the image",
		       target_exe_path(t), (unsigned long long)hdr);
		goto fail;
	}
	uint64_t end = p->text + le32(ftab + nfunc * 8);
	for (uint64_t i = 0; i < nfunc; i++) {
		unsigned char f[20];
		uint64_t entry = p->text + le32(ftab + i * 8), foff = le32(ftab + i * 8 + 4);
		uint64_t next = i + 1 < nfunc ? p->text + le32(ftab + (i + 1) * 8) : end;
		if (target_read(t, hdr + w[7] + foff, f, sizeof f) || next < entry)
			continue;
		uint32_t noff = le32(f + FUNC_NAMEOFF);
		if (noff >= p->names_len)
			continue;
		struct pcfunc *pf = &p->funcs[p->nfuncs++];
		pf->name = p->names + noff;   /* NUL-terminated: the region ends in one */
		pf->entry = entry;
		pf->end = next;
		pf->pcsp = le32(f + FUNC_PCSP);
		if (pf->pcsp >= p->pctab_len)
			pf->pcsp = 0;
	}
	free(ftab);
	if (p->nfuncs)
		qsort(p->funcs, p->nfuncs, sizeof *p->funcs, by_entry);
	return p;
fail:
	free(ftab);
	pclntab_free(p);
	return NULL;
}

const struct pcfunc *pclntab_funcs(const struct pclntab *p, size_t *n)
{
	*n = p ? p->nfuncs : 0;
	return p ? p->funcs : NULL;
}

const struct pcfunc *pclntab_func_at(const struct pclntab *p, uint64_t pc)
{
	size_t lo = 0, hi = p ? p->nfuncs : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pc < p->funcs[mid].entry)
			hi = mid;
		else if (pc >= p->funcs[mid].end)
			lo = mid + 1;
		else
			return &p->funcs[mid];
	}
	return NULL;
}

static int uvarint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned sh = 0; *i < n && sh < 64; sh += 7) {
		uint8_t c = b[(*i)++];
		*v |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

int pclntab_pcvalue(const uint8_t *tab, size_t n, uint64_t len, unsigned q, struct gcfa_row *rows,
		    size_t max)
{
	size_t i = 0, nrows = 0;
	int64_t val = -1;
	uint64_t pc = 0;

	for (bool first = true;; first = false) {
		uint64_t uv, pcd;
		if (i >= n)
			return -1;
		if (tab[i] == 0 && !first)
			break;
		if (uvarint(tab, n, &i, &uv) || uvarint(tab, n, &i, &pcd))
			return -1;
		/* zig-zag: the low bit is the sign */
		val += (uv & 1) ? -(int64_t)(uv >> 1) - 1 : (int64_t)(uv >> 1);
		if (pcd > len || pcd * q > len - pc)
			return -1;
		if (nrows >= max)
			return -1;
		if (nrows && rows[nrows - 1].off == val)
			; /* the same value goes on */
		else
			rows[nrows++] = (struct gcfa_row){ pc, val };
		pc += pcd * q;
		if (pc >= len)
			break;
	}
	return (int)nrows;
}

int pclntab_cfa_rows(const struct pclntab *p, const struct pcfunc *f, struct gcfa_row *rows,
		     size_t max)
{
	/* No table: the runtime takes the delta as 0 (assembly leaves). */
	if (!f->pcsp) {
		if (!max)
			return -1;
		rows[0] = (struct gcfa_row){ 0, p->call_pushes };
		return 1;
	}
	int n = pclntab_pcvalue(p->pctab + f->pcsp, (size_t)(p->pctab_len - f->pcsp),
				f->end - f->entry, p->quantum, rows, max);
	/* The CFA is above the return address the call pushed (none with a
	 * link register). */
	for (int i = 0; i < n; i++) {
		if (rows[i].off < 0)
			return -1;
		rows[i].off += p->call_pushes;
	}
	return n;
}
