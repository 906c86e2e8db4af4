/* libFuzzer: the core file parser (ELF headers, program headers, notes:
 * NT_PRSTATUS, NT_AUXV, NT_PRPSINFO, NT_FILE) and the match against the
 * synthetic executable, then reads of the image it describes.  Input: a
 * whole core file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *exe;
	if (!exe) {
		struct ebuf e = fuzz_exe_image();
		exe = fuzz_file(0, e.p, e.n);
		free(e.p);
	}
	const char *core = fuzz_file(1, data, size);
	struct ms_error err;
	struct target *t = target_open_core(core, exe, &err);
	if (!t)
		return 0;
	size_t n;
	const struct target_thread *th = target_threads(t, &n);
	unsigned char buf[64];
	for (size_t i = 0; i < n && i < 8; i++) {
		target_read(t, th[i].sp, buf, sizeof(buf));
		target_has(t, th[i].pc, 16);
		target_view(t, th[i].fp, 8);
	}
	uint64_t total, v;
	target_exe_data_missing(t, &total);
	target_missing(t, FZ_HEAP, 1ull << 30);
	target_dumped(t, 0, UINT64_MAX);
	target_read(t, FZ_TEXT + 0x1000, buf, sizeof(buf));
	target_read_u64(t, FZ_DATA, &v);
	target_close(t);
	return 0;
}
