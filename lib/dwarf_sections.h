/* ELF sections for libdwarf when it cannot read them itself: DWARF
 * compressed with zstd (SHF_COMPRESSED, ELFCOMPRESS_ZSTD), which
 * `objcopy --compress-debug-sections=zstd` and some packaging tools write
 * and the libdwarf of Debian 12 does not decompress.  The file's sections
 * are handed to libdwarf through its object-access interface, each
 * compressed one decompressed first (zstd with libzstd, zlib with zlib).
 * For lib/dwarf.c only; the input is untrusted like any executable. */
#ifndef MAPSCAN_DWARF_SECTIONS_H
#define MAPSCAN_DWARF_SECTIONS_H

#include <stdbool.h>

#include <libdwarf.h>

#include "error.h"

struct dwsec;

/* Has the ELF file on fd a .debug_ section compressed with zstd? */
bool dwsec_has_zstd(int fd);

/* Open libdwarf on the ELF file on fd (path names it in messages) through
 * *out, which must outlive *dbg: dwarf_object_finish(*dbg), then
 * dwsec_free(*out).  Returns 0, or -1 with err filled (MS_ENODWARF for a
 * section that does not decompress, MS_EINTERNAL when memory runs out). */
int dwsec_init(int fd, const char *path, Dwarf_Debug *dbg, struct dwsec **out,
	       struct ms_error *err);

/* Why a section could not be handed over ("" if none failed): libdwarf
 * only says that one did not. */
const char *dwsec_why(const struct dwsec *s);

void dwsec_free(struct dwsec *s);   /* NULL is fine */

#endif
