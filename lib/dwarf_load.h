/* The DWARF loader, for whoever runs it: the sandbox's child (through
 * gtypes_load), unit tests and the fuzzing harness.  Everything else loads
 * types with gtypes_load (types.h). */
#ifndef MAPSCAN_DWARF_LOAD_H
#define MAPSCAN_DWARF_LOAD_H

#include "error.h"
#include "types_build.h"

/* Add the DWARF of the ELF file open on fd (path names it in messages) to
 * b: types, variables, functions with their bodies, call-frame tables.
 * Runs libdwarf on the file in this process.  Returns 0, or -1 with err
 * filled: MS_ENODWARF when the file has no usable DWARF, MS_EINTERNAL when
 * memory runs out.  b is then to be finished or freed by the caller. */
int dwarf_load_fd(int fd, const char *path, struct gtb *b, struct ms_error *err);

/* The same for part `part` (0 ... nparts-1) of the file: the compile units
 * that start in that share of .debug_info, and with the last part the
 * call-frame tables.  The parts' builders appended in order (gtb_append)
 * make the model dwarf_load_fd makes. */
int dwarf_load_part(int fd, const char *path, unsigned part, unsigned nparts, struct gtb *b,
		    struct ms_error *err);

/* libdwarf's version ("0.5.0"), for --version. */
const char *dwarf_library_version(void);

#endif
