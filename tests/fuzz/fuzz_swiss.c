/* libFuzzer: the swiss map walker over synthetic memory.  Input: byte 0
 * picks the key and value sizes; the rest is memory at FZ_HEAP, where the
 * map header is, with whatever its pointers reach (buckets, overflow
 * chains, mapextra; directory, tables, groups). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_map_walk(data, size, true);
}
