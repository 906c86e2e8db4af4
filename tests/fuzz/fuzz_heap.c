/* libFuzzer: the heap's span table (heap_load and its lookups) over
 * synthetic memory.  The model is Go 1.26's runtime.mspan layout and a
 * runtime.mheap_ with sweepgen and allspans; the input is the memory:
 * its first 256 bytes are mheap_'s (in the executable's data, at
 * FZ_DATA), the rest the heap at FZ_HEAP, where allspans, the mspan
 * records, their bitmaps and the spans themselves are. */
#include "heap.h"
#include "fuzz.h"

enum { K_U8 = 1, K_U16, K_U32, K_UPTR, K_PTR, K_STATE, K_SPAN, K_PSPAN, K_SLICE, K_HEAP,
       K_CLASS, K_U64 };

static struct gtypes *heap_model(void)
{
	struct gtb *b = gtb_new();
	gtb_add_type(b, K_U8, &(struct gtb_type){ .kind = GK_BASE, .name = "uint8", .size = 1 });
	gtb_add_type(b, K_U16, &(struct gtb_type){ .kind = GK_BASE, .name = "uint16", .size = 2 });
	gtb_add_type(b, K_U32, &(struct gtb_type){ .kind = GK_BASE, .name = "uint32", .size = 4 });
	gtb_add_type(b, K_U64, &(struct gtb_type){ .kind = GK_BASE, .name = "uint64", .size = 8 });
	gtb_add_type(b, K_UPTR, &(struct gtb_type){ .kind = GK_BASE, .name = "uintptr", .size = 8 });
	gtb_add_type(b, K_PTR, &(struct gtb_type){ .kind = GK_PTR, .name = "*runtime.gcBits",
						  .target = K_U8 });
	gtb_add_type(b, K_CLASS, &(struct gtb_type){ .kind = GK_TYPEDEF, .name = "runtime.spanClass",
						    .target = K_U8 });
	type_id state = gtb_add_type(b, K_STATE, &(struct gtb_type){ .kind = GK_STRUCT,
		.name = "runtime.mSpanStateBox", .size = 1 });
	gtb_add_member(b, state, "s", K_U8, 0, false);
	type_id span = gtb_add_type(b, K_SPAN, &(struct gtb_type){ .kind = GK_STRUCT,
		.name = "runtime.mspan", .size = 160 });
	static const struct { const char *name; uint64_t key, off; } f[] = {
		{ "startAddr", K_UPTR, 24 }, { "npages", K_UPTR, 32 }, { "freeindex", K_U16, 48 },
		{ "nelems", K_U16, 50 }, { "allocCache", K_U64, 56 }, { "allocBits", K_PTR, 64 },
		{ "gcmarkBits", K_PTR, 72 }, { "sweepgen", K_U32, 88 }, { "allocCount", K_U16, 96 },
		{ "spanclass", K_CLASS, 98 }, { "state", K_STATE, 99 }, { "elemsize", K_UPTR, 104 },
		{ "limit", K_UPTR, 112 }, { "largeType", K_PTR, 152 },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		gtb_add_member(b, span, f[i].name, f[i].key, f[i].off, false);
	gtb_add_type(b, K_PSPAN, &(struct gtb_type){ .kind = GK_PTR, .name = "*runtime.mspan",
						    .target = K_SPAN });
	type_id sl = gtb_add_type(b, K_SLICE, &(struct gtb_type){ .kind = GK_SLICE, .go_kind = 23,
		.name = "[]*runtime.mspan", .size = 24, .elem = K_PSPAN });
	gtb_add_member(b, sl, "array", K_PSPAN, 0, false);
	gtb_add_member(b, sl, "len", K_UPTR, 8, false);
	gtb_add_member(b, sl, "cap", K_UPTR, 16, false);
	type_id mh = gtb_add_type(b, K_HEAP, &(struct gtb_type){ .kind = GK_STRUCT,
		.name = "runtime.mheap", .size = 64 });
	gtb_add_member(b, mh, "sweepgen", K_U32, 0, false);
	gtb_add_member(b, mh, "allspans", K_SLICE, 8, false);
	gtb_add_var(b, "runtime.mheap_", FZ_DATA, K_HEAP);
	struct ms_error err;
	struct gtypes *g = gtb_finish(b, "fuzz", &err);
	if (!g) {
		fprintf(stderr, "fuzz_heap: %s\n", err.msg);
		abort();
	}
	return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gtypes *g;
	static struct goruntime rt;
	if (!g) {
		g = heap_model();
		rt = fuzz_runtime(true);
	}
	if (size < 256)
		return 0;
	struct fz_region r[2] = { { FZ_DATA, data, 256 }, { FZ_HEAP, data + 256, size - 256 } };
	struct target *t = fuzz_target(r, 2);
	if (!t)
		return 0;
	struct heap h;
	int rc = heap_load(&h, t, g, &rt);
	if (rc == 0) {
		/* Every lookup over the heap region, slot by slot. */
		for (uint64_t a = FZ_HEAP; a < FZ_HEAP + size; a += 8) {
			const struct hspan *s;
			uint32_t slot;
			uint64_t base, sz;
			if (heap_object(&h, t, a, &s, &slot, &base, &sz)) {
				heap_garbage(&h, t, s, slot);
				heap_object_type(t, &rt, s, base);
			}
		}
		for (size_t i = 0; i < h.nspans && i < 64; i++)
			heap_allocated(t, &h.spans[i], h.spans[i].nelems ? h.spans[i].nelems - 1 : 0);
		heap_assume_allocated(&h);
	}
	struct report rep;
	memset(&rep, 0, sizeof(rep));
	heap_summary(&rep, &h, rc);
	report_free(&rep);
	heap_free(&h);
	target_close(t);
	return 0;
}
