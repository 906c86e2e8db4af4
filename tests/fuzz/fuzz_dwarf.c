/* libFuzzer: the DWARF loader on hostile executables.
 *
 * Built twice.  fuzz_dwarf runs it the way mapscan does, in the sandbox
 * (gtypes_load): whatever libdwarf does in the child, the parent must end
 * with a model or one error, never a crash (only the parent's code is
 * coverage-guided).  fuzz_dwarf_local (-DFUZZ_IN_PROCESS) runs
 * dwarf_load_fd in the fuzzer's own process, so that coverage guides the
 * mutations through libdwarf and dwarf.c; there a crash inside libdwarf is
 * expected (the sandbox exists for them) and is triaged by hand, with
 * -fork and -ignore_crashes.  Input: an ELF file with DWARF. */
#include "dwarf_load.h"
#include <fcntl.h>

#include "fuzz.h"

static int sink(void *arg, const void *p, size_t n)
{
	(void)p;
	*(size_t *)arg += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_error err;
	const char *path = fuzz_file(2, data, size);
#ifdef FUZZ_IN_PROCESS
	int fd = open(path, O_RDONLY);
	struct gtb *b = gtb_new();
	if (fd >= 0 && b && dwarf_load_fd(fd, path, b, &err) == 0) {
		size_t n = 0;
		gtb_serialize(b, sink, &n);
		gtypes_free(gtb_finish(b, path, &err));
		b = NULL;
	}
	gtb_free(b);
	if (fd >= 0)
		close(fd);
#else
	(void)sink;
	struct gtypes *g = gtypes_load(path, &err);
	if (!g && (!err.msg[0] || strchr(err.msg, '\n')))
		abort();              /* an error must be one line */
	gtypes_free(g);
#endif
	return 0;
}
