/* Opening a file named by untrusted input (a core's NT_FILE note, --exe,
 * a path the user typed): never blocks, never reads a device.
 *
 * The name may be a FIFO (open would wait for a writer forever), a
 * terminal, a tape, /dev/zero (endless), a directory: the file is opened
 * with O_NONBLOCK and O_NOCTTY, then fstat must say it is a regular file
 * before anything reads it. */
#ifndef MAPSCAN_FILE_H
#define MAPSCAN_FILE_H

#include "error.h"

/* Open path read-only if it is a regular file.  role ("executable",
 * "core file") names it in messages.  Returns the descriptor (O_CLOEXEC),
 * or -1 with err filled (MS_EOPEN, saying what the file is instead) and
 * *errno_out set to the errno of the failure: EISDIR for a directory, 0
 * for any other file that is not regular. */
int file_open_regular(const char *path, const char *role, int *errno_out,
		      struct ms_error *err);

#endif
