/* --save-core: write an ELF core file of a live process, so that a
 * snapshot taken now can be studied later, elsewhere, with mapscan, gdb or
 * Delve. */
#ifndef MAPSCAN_SNAPSHOT_H
#define MAPSCAN_SNAPSHOT_H

#include "error.h"

/* Write a core of process pid, which must be held stopped (live_stop), to
 * path (created with mode 0600: it holds the process's memory).
 *
 * Notes, in the order the kernel writes them: for the main thread
 * NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET and
 * NT_X86_XSTATE, then NT_PRSTATUS, NT_FPREGSET and NT_X86_XSTATE for each
 * other thread.  One PT_LOAD per mapping of /proc/PID/maps; the bytes of
 * readable private and anonymous mappings are in the file, except
 * [vvar] and shared file mappings (the file holds those), whose PT_LOAD
 * has no file bytes.  Pages that are all zero or cannot be read are
 * holes (the file is sparse).  On error the file is removed. */
int snapshot_write(int pid, const char *path, struct ms_error *err);

#endif
