/* Helpers shared by the fuzzing harnesses (tests/fuzz/fuzz_*.c, libFuzzer):
 * ELF files (tests/unit/elfbuild.h) written to memory files, a synthetic
 * executable that any core without NT_FILE matches, cores whose PT_LOAD
 * segments hold chosen bytes at chosen addresses (the "synthetic memory"
 * the walkers and the span table are fuzzed over), and the runtime facts
 * and type layouts those readers take from DWARF in real use.
 *
 * Header only; each harness includes it once. */
#ifndef MAPSCAN_FUZZ_H
#define MAPSCAN_FUZZ_H

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../unit/elfbuild.h"
#include "error.h"
#include "goruntime.h"
#include "mapwalk.h"
#include "target.h"
#include "types.h"
#include "types_build.h"

/* A memory file holding the bytes given; its path (/proc/self/fd/N) is
 * what mapscan opens.  One per slot, reused across inputs. */
static inline const char *fuzz_file(int slot, const void *p, size_t n)
{
	static int fds[4] = { -1, -1, -1, -1 };
	static char paths[4][64];
	if (fds[slot] < 0) {
		fds[slot] = memfd_create("mapscan-fuzz", 0);
		if (fds[slot] < 0)
			abort();
		snprintf(paths[slot], sizeof(paths[slot]), "/proc/self/fd/%d", fds[slot]);
	}
	if (ftruncate(fds[slot], 0) < 0 || (n && pwrite(fds[slot], p, n, 0) != (ssize_t)n))
		abort();
	return paths[slot];
}

/* The synthetic executable: a text segment at 0x400000 and a data
 * segment at 0x500000 (RW, file-backed 0x100, bss to 0x10000). */
#define FZ_TEXT 0x400000ull
#define FZ_DATA 0x500000ull
#define FZ_DATA_SIZE 0x10000ull
#define FZ_HEAP 0xc000000000ull

static inline struct ebuf fuzz_exe_image(void)
{
	struct ebuf b = { 0 };
	eb_ehdr(&b, ET_EXEC, FZ_TEXT + 0x1000, 2);
	eb_phdr(&b, 0, PT_LOAD, PF_R | PF_X, 0, FZ_TEXT, 0x2000, 0x2000);
	eb_phdr(&b, 1, PT_LOAD, PF_R | PF_W, 0x2000, FZ_DATA, 0x100, FZ_DATA_SIZE);
	for (size_t i = 0x1000; i < 0x2100; i++) {
		unsigned char c = (unsigned char)(i * 7 + 3);
		eb_put(&b, i, &c, 1);
	}
	return b;
}

/* A core of the synthetic executable whose memory is the given regions
 * (one PT_LOAD each, in the file as given), with one thread. */
struct fz_region {
	uint64_t addr;
	const void *p;
	size_t n;
};

static inline struct ebuf fuzz_core_image(const struct fz_region *r, size_t nr)
{
	struct ebuf b = { 0 };
	size_t nph = nr + 1, off = 0x1000;
	eb_ehdr(&b, ET_CORE, 0, nph);
	/* NT_PRSTATUS of one thread, registers pointing into the heap. */
	unsigned char note[12 + 8 + 336] = { 0 };
	uint32_t namesz = 5, descsz = 336, type = NT_PRSTATUS;
	memcpy(note, &namesz, 4);
	memcpy(note + 4, &descsz, 4);
	memcpy(note + 8, &type, 4);
	memcpy(note + 12, "CORE", 5);
	uint64_t sp = FZ_HEAP + 0x100, pc = FZ_TEXT + 0x1010;
	int32_t tid = 100;
	memcpy(note + 20 + 32, &tid, 4);
	memcpy(note + 20 + 112 + 16 * 8, &pc, 8);
	memcpy(note + 20 + 112 + 19 * 8, &sp, 8);
	eb_put(&b, 0x400, note, sizeof(note));
	eb_phdr(&b, 0, PT_NOTE, 0, 0x400, 0, sizeof(note), 0);
	for (size_t i = 0; i < nr; i++) {
		size_t mem = (r[i].n + 0xfff) & ~(size_t)0xfff;
		eb_phdr(&b, i + 1, PT_LOAD, PF_R | PF_W, off, r[i].addr, r[i].n, mem ? mem : 0x1000);
		eb_put(&b, off, r[i].p, r[i].n);
		off += mem;
	}
	return b;
}

/* Open a core of the synthetic executable over the regions; NULL if
 * mapscan refuses it (which a fuzzed one may be). */
static inline struct target *fuzz_target(const struct fz_region *r, size_t nr)
{
	static const char *exe;
	if (!exe) {
		struct ebuf e = fuzz_exe_image();
		exe = fuzz_file(0, e.p, e.n);
		free(e.p);
	}
	struct ebuf c = fuzz_core_image(r, nr);
	const char *core = fuzz_file(1, c.p, c.n);
	free(c.p);
	struct ms_error err;
	return target_open_core(core, exe, &err);
}

/* Runtime facts as goruntime_init finds them in a Go 1.26 (Swiss) or
 * 1.19 (classic) binary; size classes of Go 1.19-1.23. */
static inline struct goruntime fuzz_runtime(bool swiss)
{
	static const uint16_t classes[] = { 0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160,
		176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704,
		768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
		4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288,
		13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768 };
	struct goruntime rt;
	memset(&rt, 0, sizeof(rt));
	snprintf(rt.version, sizeof(rt.version), "%s", swiss ? "go1.26.8" : "go1.19.8");
	goversion_parse(rt.version, &rt.go);
	rt.facts = goversion_facts(&rt.go);
	rt.layout = swiss ? LAYOUT_SWISS : LAYOUT_CLASSIC;
	rt.alloc_headers = swiss;
	memcpy(rt.class_to_size, classes, sizeof(classes));
	rt.nclasses = sizeof(classes) / sizeof(classes[0]);
	return rt;
}

/* Map type layouts as maptype_describe derives them from DWARF: classic
 * map[K]V with 8-slot buckets (tophash[8], keys, values, overflow), Swiss
 * groups (ctrl word, 8 slots). */
static inline struct maptype fuzz_classic_type(uint64_t ksize, uint64_t vsize)
{
	struct maptype mt;
	memset(&mt, 0, sizeof(mt));
	mt.name = "map[K]V";
	mt.key_name = "K";
	mt.elem_name = "V";
	mt.layout = LAYOUT_CLASSIC;
	mt.hdr_size = 48;
	mt.off_count = 0;
	mt.off_flags = 8;
	mt.off_B = 9;
	mt.off_buckets = 16;
	mt.off_oldbuckets = 24;
	mt.off_extra = 40;
	mt.keys_off = 8;
	mt.key_stride = ksize;
	mt.vals_off = 8 + 8 * ksize;
	mt.val_stride = vsize;
	mt.ovf_off = 8 + 8 * ksize + 8 * vsize;
	mt.bucket_size = mt.ovf_off + 8;
	mt.extra_size = 24;
	mt.off_x_overflow = 0;
	mt.off_x_oldoverflow = 8;
	mt.off_x_next = 16;
	return mt;
}

static inline struct maptype fuzz_swiss_type(uint64_t ksize, uint64_t vsize)
{
	struct maptype mt;
	memset(&mt, 0, sizeof(mt));
	mt.name = "map[K]V";
	mt.key_name = "K";
	mt.elem_name = "V";
	mt.layout = LAYOUT_SWISS;
	mt.hdr_size = 48;
	mt.off_count = 0;
	mt.off_dirptr = 16;
	mt.off_dirlen = 24;
	mt.table_size = 32;
	mt.t_used = 0;
	mt.t_capacity = 2;
	mt.t_index = 8;
	mt.t_groups = 16;
	mt.t_mask = 24;
	mt.ctrl_off = 0;
	mt.key_off = 8;
	mt.key_stride = ksize + vsize;
	mt.elem_off = 8 + ksize;
	mt.val_stride = ksize + vsize;
	mt.group_size = 8 + 8 * (ksize + vsize);
	return mt;
}

/* The classic and Swiss harnesses: byte 0 picks the key and value sizes
 * (and whether slots are visited); the rest is memory at FZ_HEAP, where
 * the map header is, with whatever its pointers reach. */
static inline void fz_on_slot(void *arg, uint64_t k, uint64_t v)
{
	*(uint64_t *)arg += k ^ v;
}

static inline void fz_on_alloc(void *arg, uint64_t a)
{
	*(uint64_t *)arg += a;
}

static inline int fuzz_map_walk(const uint8_t *data, size_t size, bool swiss)
{
	static const uint64_t sizes[][2] = { { 8, 8 }, { 16, 8 }, { 8, 0 }, { 4, 24 }, { 1, 1 },
					     { 24, 256 }, { 256, 8 }, { 0, 8 } };
	if (size < 2)
		return 0;
	const uint64_t *kv = sizes[data[0] % 8];
	uint64_t ks = kv[0] > 128 ? 8 : kv[0], vs = kv[1] > 128 ? 8 : kv[1];
	struct goruntime rt = fuzz_runtime(swiss);
	struct maptype mt = swiss ? fuzz_swiss_type(ks, vs) : fuzz_classic_type(ks, vs);
	mt.key_indirect = kv[0] > 128;
	mt.elem_indirect = kv[1] > 128;
	struct fz_region r = { FZ_HEAP, data + 1, size - 1 };
	struct target *t = fuzz_target(&r, 1);
	if (!t)
		return 0;
	uint64_t acc = 0;
	struct walk_cb cb = { fz_on_slot, fz_on_alloc, &acc };
	struct map_entry m;
	memset(&m, 0, sizeof(m));
	m.address = FZ_HEAP;
	map_walk(t, &rt, &mt, FZ_HEAP, &m, data[0] & 8 ? &cb : NULL);
	map_entry_clear(&m);
	if (swiss)
		swiss_ideal(&rt, &mt, acc);
	else
		classic_ideal(&rt, &mt, acc);
	target_close(t);
	return 0;
}

#endif
