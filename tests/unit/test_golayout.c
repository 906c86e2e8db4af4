/* Unit tests for lib/golayout.c and the generated table: every variant
 * loads, and offsets that docs and the runtime's sources agree on (the
 * Go runtime reference, shared/reference/go-runtime.md) are what it says. */
#include <string.h>

#include "golayout.h"
#include "unit.h"

static uint64_t off(const struct golayout *L, const char *t, const char *path)
{
	uint64_t o = ~0ull;
	if (golayout_offset(L, t, path, &o, NULL))
		return ~0ull;
	return o;
}

int main(void)
{
	struct ms_error err;
	bool newer;

	CHECK(golayout_nvariants >= 12);
	for (unsigned i = 0; i < golayout_nvariants; i++) {
		const struct golayout_variant *v = &golayout_variants[i];
		struct golayout *L = golayout_load(v, &err);
		CHECK_MSG(L != NULL, "%s: %s", v->id, err.msg);
		if (!L)
			continue;
		const struct gl_type *g = golayout_type(L, "runtime.g"),
			*span = golayout_type(L, "runtime.mspan");
		CHECK_MSG(g && span && !g->opaque && !span->opaque, "%s", v->id);
		CHECK_EQ_U64(off(L, "runtime.g", "stack.hi"), 8);
		CHECK_EQ_U64(off(L, "runtime.g", "sched.sp"), 56);
		CHECK_EQ_U64(off(L, "runtime.mspan", "startAddr"), 24);
		uint64_t status = off(L, "runtime.g", "atomicstatus");
		if (v->minor <= 20)
			CHECK(status != ~0ull);
		else if (v->minor <= 22 || v->minor >= 25)
			CHECK_MSG(status == 144, "%s: atomicstatus at %llu", v->id, (unsigned long long)status);
		else
			CHECK_MSG(status == 152, "%s: atomicstatus at %llu", v->id, (unsigned long long)status);
		bool classic = v->minor <= 23 || !strcmp(v->experiment, "noswissmap");
		const struct gl_type *hmap = golayout_type(L, "runtime.hmap"),
			*map = golayout_type(L, "internal/runtime/maps.Map");
		if (classic) {
			CHECK_MSG(hmap && hmap->size == (v->minor >= 24 ? 56u : 48u), "%s", v->id);
			CHECK_EQ_U64(off(L, "runtime.hmap", "buckets"), 16);
		} else {
			CHECK_MSG(map && map->size == 48, "%s", v->id);
			CHECK_EQ_U64(off(L, "internal/runtime/maps.Map", "dirPtr"), 16);
			CHECK_EQ_U64(off(L, "internal/runtime/maps.table", "groups.data"), 16);
			CHECK(golayout_type(L, "*internal/runtime/maps.table") != NULL);
		}
		if (v->minor >= 22)
			CHECK_EQ_U64(off(L, "runtime.mspan", "largeType"), 152);
		const struct gl_type *md = golayout_var_type(L, "runtime.firstmoduledata");
		CHECK_MSG(md && !strcmp(md->name, "runtime.moduledata"), "%s", v->id);
		CHECK_EQ_U64(off(L, "runtime.moduledata", "pcHeader"), 0);
		CHECK(golayout_var_type(L, "runtime.allgs") != NULL);
		CHECK(golayout_var_type(L, "runtime.mheap_") != NULL);
		golayout_free(L);
	}
	CHECK(golayout_variant(24, "go1.24.11 X:noswissmap", &newer) &&
	      !strcmp(golayout_variant(24, "go1.24.11 X:noswissmap", &newer)->id, "go1.24-noswissmap"));
	CHECK(!strcmp(golayout_variant(24, "go1.24.11", &newer)->id, "go1.24") && !newer);
	CHECK(golayout_variant(40, "go1.40", &newer) && newer);
	CHECK(golayout_variant(12, "go1.12", &newer) == NULL);
	return unit_done();
}
