/* libFuzzer: the executable's ELF parser (segments, sections, build IDs,
 * notes) and matching it against a fixed core whose NT_FILE note names it
 * and whose memory holds its first page and data.  Input: a whole
 * executable. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *core;
	static struct ebuf good;
	if (!core) {
		good = fuzz_exe_image();
		/* The core dumps the good executable's first page and data: a
		 * fuzzed file matches only as far as it agrees with them. */
		struct fz_region r[2] = { { FZ_TEXT, good.p, 0x1000 },
					  { FZ_DATA, good.p + 0x2000, 0x100 } };
		struct ebuf c = fuzz_core_image(r, 2);
		core = fuzz_file(1, c.p, c.n);
		free(c.p);
	}
	const char *exe = fuzz_file(0, data, size);
	struct ms_error err;
	struct target *t = target_open_core(core, exe, &err);
	if (t) {
		unsigned char buf[32];
		target_read(t, FZ_TEXT + 0x1800, buf, sizeof(buf));
		target_read(t, FZ_DATA + 0x80, buf, sizeof(buf));
		target_close(t);
	}
	return 0;
}
