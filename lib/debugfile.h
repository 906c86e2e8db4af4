/* Which file's DWARF describes the image: the executable itself, a file
 * named on the command line, or a debug file found the way gdb finds one
 * (.gnu_debuglink next to the executable, in its .debug/ directory and
 * under the debug directories; /usr/lib/debug/.build-id/xx/yyyy.debug).
 *
 * A file is accepted when it is the image's build: its Go build ID (or,
 * lacking one, its GNU build ID) equals the one in the image's memory.
 * Another build of the program (a rebuild without -s -w) is accepted only
 * once debugfile_verify has shown, from its own DWARF, that it has the
 * image's layout: the same module bounds in runtime.firstmoduledata, the
 * same pointer layout of data and bss, the same type descriptors where its
 * map types say they are. */
#ifndef MAPSCAN_DEBUGFILE_H
#define MAPSCAN_DEBUGFILE_H

#include <stdbool.h>

#include "error.h"
#include "target.h"
#include "types.h"

enum debug_found_by {
	DEBUG_EXECUTABLE,          /* the executable has DWARF */
	DEBUG_EXE_OPTION,          /* --exe named it, the image ran another file */
	DEBUG_FILE_OPTION,         /* --debug-file */
	DEBUG_LINK,                /* .gnu_debuglink */
	DEBUG_BUILD_ID_DIR,        /* .build-id/xx/yyyy.debug */
};

enum debug_match {
	DEBUG_SAME_BUILD,          /* the image's own build (build ID, or the same file) */
	DEBUG_OTHER_BUILD,         /* another link: usable after debugfile_verify */
};

struct debug_choice {
	char *path;                /* the file to load DWARF from; NULL when none was found */
	enum debug_found_by found_by;
	enum debug_match match;
	bool verified;             /* DEBUG_OTHER_BUILD whose layout debugfile_verify showed */
	/* Another build whose build settings in .go.buildinfo have another
	 * length: its variables in [data_lo, data_hi) (link-time, the file's)
	 * are data_shift bytes further on in the image. */
	int64_t data_shift;
	uint64_t data_lo, data_hi;
	char looked[768];          /* without a path: where mapscan looked, for messages */
};

/* Find the file.  debug_file is --debug-file (NULL if not given).  Returns
 * 0 with c->path set, or with c->path NULL when no file with DWARF was
 * found (c->looked says where it looked); -1 with err filled when a file
 * named on the command line cannot be used (MS_EOPEN, MS_ENODWARF,
 * MS_EMISMATCH). */
int debugfile_find(const struct target *t, const char *debug_file, struct debug_choice *c,
		   struct ms_error *err);

/* For DEBUG_OTHER_BUILD: show from g, the types loaded from c->path, that
 * the image has that file's layout; sets c->verified.  -1 with
 * MS_EMISMATCH and one line saying what differs otherwise. */
int debugfile_verify(const struct target *t, const struct gtypes *g, struct debug_choice *c,
		     struct ms_error *err);

void debugfile_choice_free(struct debug_choice *c); /* NULL is fine */

/* "executable", "--exe", "--debug-file", ".gnu_debuglink", "build-id". */
const char *debugfile_found_by_name(enum debug_found_by f);

/* Decode a Go GC program (runtime's format for the data and bss pointer
 * masks) into at most nbits bits at out (LSB first, zeroed first).
 * Returns the number of bits it produced, or -1 if the program is
 * malformed or would run past n bytes of program or nbits of output.
 * Exposed for unit tests. */
long debugfile_gcprog(const unsigned char *prog, size_t n, unsigned char *out, size_t nbits);

#endif
