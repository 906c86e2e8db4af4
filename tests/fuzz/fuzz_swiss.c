/* libFuzzer: the swiss map walker over synthetic memory.  Input: byte 0
 * picks the key and value sizes; the rest is memory at FZ_HEAP, where the
 * map header is, with whatever its pointers reach (buckets, overflow
 * chains, mapextra; directory, tables, groups). */
#include "mapwalk.h"
#include "fuzz.h"

static void on_slot(void *arg, uint64_t k, uint64_t v)
{
	*(uint64_t *)arg += k ^ v;
}

static void on_alloc(void *arg, uint64_t a)
{
	*(uint64_t *)arg += a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[][2] = { { 8, 8 }, { 16, 8 }, { 8, 0 }, { 4, 24 }, { 1, 1 },
					     { 24, 256 }, { 256, 8 }, { 0, 8 } };
	if (size < 2)
		return 0;
	const uint64_t *kv = sizes[data[0] % 8];
	struct goruntime rt = fuzz_runtime(true);
	struct maptype mt = fuzz_swiss_type(kv[0] > 128 ? 8 : kv[0], kv[1] > 128 ? 8 : kv[1]);
	mt.key_indirect = kv[0] > 128;
	mt.elem_indirect = kv[1] > 128;
	struct fz_region r = { FZ_HEAP, data + 1, size - 1 };
	struct target *t = fuzz_target(&r, 1);
	if (!t)
		return 0;
	uint64_t acc = 0;
	struct walk_cb cb = { on_slot, on_alloc, &acc };
	struct map_entry m;
	memset(&m, 0, sizeof(m));
	m.address = FZ_HEAP;
	map_walk(t, &rt, &mt, FZ_HEAP, &m, data[0] & 8 ? &cb : NULL);
	map_entry_clear(&m);
	swiss_ideal(&rt, &mt, acc);
	target_close(t);
	return 0;
}
