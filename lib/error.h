/* Errors returned by the mapscan library.
 *
 * lib/ never prints and never exits: a failing function fills a struct
 * ms_error with a one-line message (lowercase, naming the file or address
 * and saying what to do) and returns -1 (or NULL).  cmd/ decides how to show
 * it and which exit status to use: the code is the exit status documented in
 * man/mapscan.1. */
#ifndef MAPSCAN_ERROR_H
#define MAPSCAN_ERROR_H

enum ms_code {
	MS_OK = 0,
	MS_EINTERNAL = 1,  /* a bug or an unexpected failure (out of memory) */
	MS_EUSAGE = 2,     /* bad command line */
	MS_EOPEN = 3,      /* a file cannot be opened or read */
	MS_EFORMAT = 4,    /* not an ELF core / executable, or truncated */
	MS_ENOTGO = 5,     /* not a Go program, or an unsupported Go layout */
	MS_ENODWARF = 6,   /* the executable has no usable DWARF */
	MS_EMISMATCH = 7,  /* the executable does not belong to the core */
	MS_EPROCESS = 8,   /* --pid: no such process, a zombie, exited mid-scan, cannot be stopped */
	MS_EPERM = 9,      /* --pid: not allowed to read or stop the process */
	MS_EGATE = 10,     /* not an error of lib/: cmd/'s --fail-over threshold was reached
			    * (the report was written); the number is documented, keep it */
	MS_EEMPTY = 11,    /* the core holds none of the program's memory (coredump_filter) */
	MS_EPARTIAL = 12,  /* --strict: the report was written, but the core lacks memory it needs */
};

struct ms_error {
	int code;
	char msg[1024];
};

/* Fill err (which may be NULL) and return -1.  printf-style. */
int ms_err(struct ms_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short stable name of a code ("mismatch"), used in JSON errors. */
const char *ms_code_name(int code);

#endif
