/* Go's sizing rules as mapscan applies them: allocator rounding, the
 * classic bucket-array size (makeBucketArray), and the "ideal" size of a
 * fresh map.  Expected values are worked out by hand from the Go runtime
 * sources and cross-checked against figures measured in real cores. */
#include <string.h>

#include "mapwalk.h"
#include "unit.h"

/* Go 1.19-1.23 runtime.class_to_size (the table is read from the target at
 * run time; this is a test vector). */
static const uint16_t classes[] = { 0,8,16,24,32,48,64,80,96,112,128,144,160,176,192,208,224,240,256,288,320,352,384,416,448,480,512,576,640,704,768,896,1024,1152,1280,1408,1536,1792,2048,2304,2688,3072,3200,3456,4096,4864,5376,6144,6528,6784,6912,8192,9472,9728,10240,10880,12288,13568,14336,16384,18432,19072,20480,21760,24576,27264,28672,32768 };

static struct goruntime rt_version(bool headers, const char *version)
{
	struct goruntime rt;
	memset(&rt, 0, sizeof(rt));
	goversion_parse(version, &rt.go);
	rt.facts = goversion_facts(&rt.go);
	memcpy(rt.class_to_size, classes, sizeof(classes));
	rt.nclasses = sizeof(classes) / sizeof(classes[0]);
	rt.alloc_headers = headers;
	return rt;
}

static struct goruntime rt_with(bool headers)
{
	return rt_version(headers, headers ? "go1.23.12" : "go1.19.8");
}

static void test_versions(void)
{
	struct go_version v;
	CHECK(goversion_parse("go1.26.8", &v) == 0 && v.known && v.minor == 26 && v.patch == 8);
	CHECK(goversion_parse("go1.27.3-X:mapsplitgroup", &v) == 0 && v.minor == 27 && v.patch == 3);
	CHECK(goversion_parse("go1.24.11 X:noswissmap", &v) == 0 && v.minor == 24 && v.patch == 11);
	CHECK(goversion_parse("devel go1.28-4a5b6c7 Tue Dec 1 2026", &v) == 0 && v.minor == 28);
	CHECK(goversion_parse("go1.21rc2", &v) == 0 && v.minor == 21 && v.patch == 0);
	CHECK(goversion_parse("unknown", &v) == -1 && !v.known);
	CHECK(goversion_parse(NULL, &v) == -1);
	/* Go 1.21 fills classic buckets to 6, every other version to 6.5. */
	goversion_parse("go1.21.13", &v);
	CHECK(goversion_facts(&v)->classic_load_num == 12 && goversion_facts(&v)->classic_load_den == 2);
	goversion_parse("go1.20.14", &v);
	CHECK(goversion_facts(&v)->classic_load_num == 13);
	goversion_parse("go1.22.12", &v);
	CHECK(goversion_facts(&v)->classic_load_num == 13);
	/* A version mapscan does not know yet takes the newest facts. */
	goversion_parse("go1.99.1", &v);
	CHECK(goversion_facts(&v) != NULL && goversion_facts(&v)->size_classes[0] != NULL);
	v.known = false;
	CHECK(goversion_facts(&v) != NULL);
}

static void test_roundup(void)
{
	struct goruntime old = rt_with(false), hdr = rt_with(true);
	CHECK_EQ_U64(goruntime_roundup(&old, 1, false), 8);
	CHECK_EQ_U64(goruntime_roundup(&old, 208, false), 208);
	CHECK_EQ_U64(goruntime_roundup(&old, 3536, false), 4096);
	CHECK_EQ_U64(goruntime_roundup(&old, 32768, false), 32768);
	CHECK_EQ_U64(goruntime_roundup(&old, 32769, true), 40960);     /* large: pages */
	/* Go 1.22+: a pointerful object over 512 bytes carries an 8-byte header. */
	CHECK_EQ_U64(goruntime_roundup(&hdr, 3536, false), 4088);
	CHECK_EQ_U64(goruntime_roundup(&hdr, 3536, true), 4096);       /* noscan: none */
	CHECK_EQ_U64(goruntime_roundup(&hdr, 512, false), 512);        /* not over 512 */
	CHECK_EQ_U64(goruntime_roundup(&hdr, 4096, false), 4856);      /* 4104 -> 4864 */
	CHECK_EQ_U64(goruntime_roundup(&hdr, 40000, false), 40960);    /* large: none */
	/* Unknown size classes: no rounding rather than a guess. */
	struct goruntime none;
	memset(&none, 0, sizeof(none));
	CHECK_EQ_U64(goruntime_roundup(&none, 3536, false), 3536);
}

static void test_classic(void)
{
	struct goruntime old = rt_with(false), hdr = rt_with(true);
	struct maptype mt;
	memset(&mt, 0, sizeof(mt));
	mt.hdr_size = 48;
	mt.extra_size = 24;
	mt.bucket_size = 208;      /* map[string]int */
	CHECK_EQ_U64(classic_nalloc(&old, &mt, 0), 1);
	CHECK_EQ_U64(classic_nalloc(&old, &mt, 3), 8);
	/* 2^4 + 2^0 = 17 buckets = 3536 bytes -> 4096 -> 19 buckets */
	CHECK_EQ_U64(classic_nalloc(&old, &mt, 4), 19);
	CHECK_EQ_U64(classic_nalloc(&hdr, &mt, 4), 19);   /* 4088 / 208 */
	/* 1088 buckets = 226304 bytes -> 28 pages = 229376 -> 1102 buckets */
	CHECK_EQ_U64(classic_nalloc(&old, &mt, 10), 1102);

	CHECK_EQ_U64(classic_ideal(&old, &mt, 0), 48);
	CHECK_EQ_U64(classic_ideal(&old, &mt, 8), 48 + 208);
	CHECK_EQ_U64(classic_ideal(&old, &mt, 9), 48 + 2 * 208);      /* B=1 */
	CHECK_EQ_U64(classic_ideal(&old, &mt, 52), 48 + 8 * 208);     /* 6.5 * 8 */
	CHECK_EQ_U64(classic_ideal(&old, &mt, 53), 48 + 19 * 208 + 24); /* B=4 + mapextra */
	/* Measured in a Go 1.23 core: map[string]int with 1000 entries. */
	CHECK_EQ_U64(classic_ideal(&hdr, &mt, 1000), 57272);

	/* Go 1.21: make(map[int]int, 100) takes B = 5 (100 > 6 * 16),
	 * elsewhere B = 4 (100 <= 6.5 * 16). */
	struct goruntime g121 = rt_version(false, "go1.21.13"), g120 = rt_version(false, "go1.20.14");
	mt.bucket_size = 144;      /* map[int]int */
	CHECK_EQ_U64(classic_ideal(&g120, &mt, 100), 48 + 24 + 144 * classic_nalloc(&g120, &mt, 4));
	CHECK_EQ_U64(classic_ideal(&g121, &mt, 100), 48 + 24 + 144 * classic_nalloc(&g121, &mt, 5));
	CHECK_EQ_U64(classic_ideal(&g121, &mt, 48), 48 + 8 * 144);     /* 6 * 8 */
	CHECK_EQ_U64(classic_ideal(&g121, &mt, 49), 48 + 24 + 144 * classic_nalloc(&g121, &mt, 4));
}

static void test_swiss(void)
{
	struct goruntime rt = rt_version(true, "go1.26.8"), *r = &rt;
	struct maptype mt;
	memset(&mt, 0, sizeof(mt));
	mt.hdr_size = 48;
	mt.table_size = 32;
	mt.group_size = 200;       /* map[string]*T: 8 + 8 * 24 */
	CHECK_EQ_U64(swiss_ideal(r, &mt, 0), 48);
	CHECK_EQ_U64(swiss_ideal(r, &mt, 1), 48 + 200);
	CHECK_EQ_U64(swiss_ideal(r, &mt, 8), 48 + 200);
	/* 9 entries: target 10 -> one table of 16 slots (2 groups) */
	CHECK_EQ_U64(swiss_ideal(r, &mt, 9), 48 + 8 + 32 + 2 * 200);
	/* 1000 entries: target 1142 -> 2 tables of 1024 slots; measured in a
	 * Go 1.26 core. */
	CHECK_EQ_U64(swiss_ideal(r, &mt, 1000), 51328);
	/* 896 entries: target 1024 -> 1 table of 1024 slots */
	CHECK_EQ_U64(swiss_ideal(r, &mt, 896), 48 + 8 + 32 + 128 * 200);
}

int main(void)
{
	test_versions();
	test_roundup();
	test_classic();
	test_swiss();
	return unit_done();
}
