/* Go's function table, .gopclntab: every function's name and code range,
 * and its pcsp table (how far SP is below the frame's top at each pc),
 * which is what the runtime itself unwinds with.  It is in every Go binary,
 * stripped or built with -s -w, so it names goroutine frames and unwinds
 * them where there is no DWARF.
 *
 * Read from the image (target_read: rodata comes from the executable's
 * file), in the formats of Go 1.18/1.19 (magic 0xfffffff0) and 1.20+
 * (0xfffffff1).  Everything read is untrusted and checked: counts against
 * the table's own size, offsets against its regions, varints against their
 * table's end. */
#ifndef MAPSCAN_PCLNTAB_H
#define MAPSCAN_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "target.h"
#include "types.h"

struct pclntab;

struct pcfunc {
	const char *name;          /* "main.worker"; owned by the table */
	uint64_t entry, end;       /* [entry, end), image addresses */
	uint32_t pcsp;             /* offset of its pcsp table in pctab, 0 if none */
};

/* Where a pclntab header is: the .gopclntab section's address (biased), or
 * found by its magic and shape in the executable's read-only segments.
 * 0 when there is none. */
uint64_t pclntab_find(const struct target *t);

/* Read the table whose header is at hdr.  text is moduledata.text (the
 * header of Go 1.26+ no longer holds it); 0 takes the header's.  MS_ENOTGO
 * when hdr holds no table this reader knows. */
struct pclntab *pclntab_open(const struct target *t, uint64_t hdr, uint64_t text,
			     struct ms_error *err);
void pclntab_free(struct pclntab *p);   /* NULL is fine */

/* The functions, sorted by entry. */
const struct pcfunc *pclntab_funcs(const struct pclntab *p, size_t *n);

/* The function holding pc, or NULL. */
const struct pcfunc *pclntab_func_at(const struct pclntab *p, uint64_t pc);

/* f's frame as CFA rows: from f->entry + rows[i].pc on, the CFA is SP +
 * rows[i].off (the pcsp value plus the return address; a function without
 * a table has a frame of none).  Returns the number of rows (at most
 * max), -1 when the table is malformed. */
int pclntab_cfa_rows(const struct pclntab *p, const struct pcfunc *f, struct gcfa_row *rows,
		     size_t max);

/* Decode a pcvalue table (exposed for unit tests): n bytes at tab, for
 * code [0, len) with instruction quantum q; each row says from which pc
 * offset on the value holds.  Returns the number of rows, -1 if
 * malformed or more than max. */
int pclntab_pcvalue(const uint8_t *tab, size_t n, uint64_t len, unsigned q, struct gcfa_row *rows,
		    size_t max);

#endif
