/* Writes the committed seed corpora of tests/fuzz/corpus/ (run by hand:
 * `make fuzz-seeds`; the files are small and stay in the tree): valid
 * inputs of each harness, so that the fuzzer starts from inputs that go
 * all the way through the parser or walker instead of stopping at the
 * first check.
 *
 *   mkseeds DIR [DWARF_SEED]
 *
 * DWARF_SEED is an ELF file with DWARF (the dwarf corpus, and the flat
 * corpus gets its model). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "dwarf_load.h"
#include "fuzz.h"

static const char *dir;

static void save(const char *corpus, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, corpus);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, corpus, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void put64(unsigned char *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

/* ---- cores and executables ---------------------------------------------- */

static void note(struct ebuf *b, size_t *off, const char *name, uint32_t type, const void *d,
		 size_t n)
{
	uint32_t hdr[3] = { (uint32_t)strlen(name) + 1, (uint32_t)n, type };
	eb_put(b, *off, hdr, 12);
	eb_put(b, *off + 12, name, hdr[0]);
	*off += 12 + ((hdr[0] + 3) & ~3u);
	eb_put(b, *off, d, n);
	*off += (n + 3) & ~(size_t)3;
}

/* A core with every note mapscan reads and NT_FILE naming exe_name. */
static struct ebuf rich_core(const struct ebuf *exe, const char *exe_name)
{
	struct ebuf b = { 0 };
	size_t off = 0x400;
	unsigned char pr[336] = { 0 };
	int32_t tid = 7;
	uint64_t pc = FZ_TEXT + 0x1010, sp = FZ_HEAP + 0x800;
	memcpy(pr + 32, &tid, 4);
	memcpy(pr + 112 + 16 * 8, &pc, 8);
	memcpy(pr + 112 + 19 * 8, &sp, 8);
	note(&b, &off, "CORE", NT_PRSTATUS, pr, sizeof(pr));
	unsigned char ps[136] = { 0 };
	memcpy(ps + 40, "app", 3);
	note(&b, &off, "CORE", NT_PRPSINFO, ps, sizeof(ps));
	uint64_t av[6] = { AT_PAGESZ, 4096, AT_ENTRY, FZ_TEXT + 0x1000, AT_NULL, 0 };
	note(&b, &off, "CORE", NT_AUXV, av, sizeof(av));
	unsigned char nf[256] = { 0 };
	size_t nn = 16;
	put64(nf, 0, 2);
	put64(nf, 8, 4096);
	put64(nf, nn, FZ_TEXT), put64(nf, nn + 8, FZ_TEXT + 0x2000), put64(nf, nn + 16, 0), nn += 24;
	put64(nf, nn, FZ_DATA), put64(nf, nn + 8, FZ_DATA + 0x1000), put64(nf, nn + 16, 2), nn += 24;
	for (int i = 0; i < 2; i++) {
		memcpy(nf + nn, exe_name, strlen(exe_name) + 1);
		nn += strlen(exe_name) + 1;
	}
	note(&b, &off, "CORE", 0x46494c45, nf, nn);
	note(&b, &off, "CORE", NT_PRSTATUS, pr, sizeof(pr));
	eb_ehdr(&b, ET_CORE, 0, 4);
	eb_phdr(&b, 0, PT_NOTE, 0, 0x400, 0, off - 0x400, 0);
	eb_phdr(&b, 1, PT_LOAD, PF_R | PF_X, 0x1000, FZ_TEXT, 0x1000, 0x2000);
	eb_phdr(&b, 2, PT_LOAD, PF_R | PF_W, 0x2000, FZ_DATA, 0x1000, FZ_DATA_SIZE);
	eb_phdr(&b, 3, PT_LOAD, PF_R | PF_W, 0x3000, FZ_HEAP, 0x1000, 0x2000);
	eb_put(&b, 0x1000, exe->p, 0x1000);
	eb_put(&b, 0x2000, exe->p + 0x2000, 0x100);
	unsigned char z[0x1000] = { 0 };
	eb_put(&b, 0x3000, z, sizeof(z));
	return b;
}

static void cores_and_exes(void)
{
	struct ebuf exe = fuzz_exe_image();
	save("exe", "synthetic", exe.p, exe.n);
	/* With a GNU build ID note in a PT_NOTE segment. */
	struct ebuf e2 = { 0 };
	eb_put(&e2, 0, exe.p, exe.n);
	eb_ehdr(&e2, ET_EXEC, FZ_TEXT + 0x1000, 3);
	eb_phdr(&e2, 0, PT_LOAD, PF_R | PF_X, 0, FZ_TEXT, 0x2000, 0x2000);
	eb_phdr(&e2, 1, PT_LOAD, PF_R | PF_W, 0x2000, FZ_DATA, 0x100, FZ_DATA_SIZE);
	eb_phdr(&e2, 2, PT_NOTE, PF_R, 0x200, FZ_TEXT + 0x200, 36, 36);
	unsigned char id[36] = { 4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0 };
	for (int i = 16; i < 36; i++)
		id[i] = (unsigned char)i;
	eb_put(&e2, 0x200, id, sizeof(id));
	save("exe", "build-id", e2.p, e2.n);

	struct ebuf c = rich_core(&exe, "/srv/app");
	save("core", "notes", c.p, c.n);
	unsigned char heap[256];
	for (int i = 0; i < 256; i++)
		heap[i] = (unsigned char)i;
	struct fz_region r[2] = { { FZ_DATA, exe.p + 0x2000, 0x100 }, { FZ_HEAP, heap, sizeof(heap) } };
	struct ebuf c2 = fuzz_core_image(r, 2);
	save("core", "plain", c2.p, c2.n);
	free(exe.p);
	free(e2.p);
	free(c.p);
	free(c2.p);
}

/* ---- the span table ------------------------------------------------------ */

static void heap_seed(void)
{
	/* 256 bytes of mheap_ at FZ_DATA, then the heap at FZ_HEAP: allspans
	 * (two pointers) at +0, two mspan records at +0x100 and +0x200, the
	 * first span's allocBits at +0x400, its pages at +0x2000 (one 8 KiB
	 * page of 16-byte slots), the second span (one large object) at
	 * +0x4000. */
	static unsigned char b[256 + 0x6000];
	unsigned char *mh = b, *h = b + 256;
	uint32_t sweepgen = 4;
	memcpy(mh, &sweepgen, 4);
	put64(mh, 8, FZ_HEAP);
	put64(mh, 16, 2);
	put64(mh, 24, 2);
	put64(h, 0, FZ_HEAP + 0x100);
	put64(h, 8, FZ_HEAP + 0x200);
	for (int s = 0; s < 2; s++) {
		unsigned char *sp = h + 0x100 * (s + 1);
		uint64_t base = FZ_HEAP + (s ? 0x4000 : 0x2000), elem = s ? 8192 : 16;
		uint16_t nelems = s ? 1 : 512, alloc = s ? 1 : 3, fi = s ? 1 : 3;
		put64(sp, 24, base);
		put64(sp, 32, 1);
		memcpy(sp + 48, &fi, 2);
		memcpy(sp + 50, &nelems, 2);
		put64(sp, 64, FZ_HEAP + 0x400 + 0x80 * s);
		put64(sp, 72, FZ_HEAP + 0x500 + 0x80 * s);
		memcpy(sp + 88, &sweepgen, 4);
		memcpy(sp + 96, &alloc, 2);
		sp[98] = s ? 0 : (unsigned char)(2 << 1);  /* size class 2 (16 bytes), scan */
		sp[99] = 1;                               /* mSpanInUse */
		put64(sp, 104, elem);
		put64(sp, 112, base + 8192);
	}
	h[0x400] = 0x07;                /* slots 0-2 allocated */
	h[0x480] = 0x01;
	h[0x500] = 0x05;
	save("heap", "two-spans", b, sizeof(b));
}

/* ---- maps ---------------------------------------------------------------- */

static void classic_seed(void)
{
	/* byte 0: sizes 8/8; then hmap at FZ_HEAP (count 3, B 1), two buckets
	 * at +0x40 (144 bytes each), an overflow bucket at +0x200. */
	static unsigned char b[1 + 0x300];
	unsigned char *m = b + 1;
	b[0] = 8;                        /* sizes[0], with callbacks */
	put64(m, 0, 4);
	m[9] = 1;
	put64(m, 16, FZ_HEAP + 0x40);
	unsigned char *b0 = m + 0x40, *b1 = b0 + 144, *ov = m + 0x200;
	b0[0] = 0x21, b0[1] = 0x35;      /* tophash >= 5: full */
	b1[0] = 0x44;
	put64(b1, 136, FZ_HEAP + 0x200);
	ov[0] = 0x66, ov[3] = 1;         /* one full, one emptyOne (tombstone) */
	for (int i = 0; i < 8; i++)
		put64(b0, 8 + 8 * i, (uint64_t)i), put64(b0, 72 + 8 * i, 100u + (uint64_t)i);
	save("classic", "small", b, sizeof(b));
	/* Growing: oldbuckets set, nevacuate 0. */
	m[8] = 0;
	put64(m, 24, FZ_HEAP + 0x200);
	save("classic", "growing", b, sizeof(b));
}

static void swiss_seed(void)
{
	/* byte 0: sizes 8/8.  A small map (no directory: dirPtr is one
	 * group), then a map with a directory of one table of 2 groups. */
	static unsigned char b[1 + 0x400];
	unsigned char *m = b + 1;
	b[0] = 8;
	put64(m, 0, 2);
	put64(m, 16, FZ_HEAP + 0x40);
	put64(m, 24, 0);
	uint64_t ctrl = 0x8080808080801211ull;   /* slots 0, 1 full */
	put64(m, 0x40, ctrl);
	save("swiss", "small", b, sizeof(b));
	memset(b, 0, sizeof(b));
	b[0] = 8;
	put64(m, 0, 3);
	put64(m, 16, FZ_HEAP + 0x40);            /* directory */
	put64(m, 24, 1);
	put64(m, 0x40, FZ_HEAP + 0x80);          /* table */
	unsigned char *t = m + 0x80;
	uint16_t used = 3, cap = 16;
	memcpy(t, &used, 2);
	memcpy(t + 2, &cap, 2);
	put64(t, 16, FZ_HEAP + 0x100);           /* groups */
	put64(t, 24, 1);                          /* lengthMask: 2 groups */
	put64(m, 0x100, 0x80808080fe801211ull);  /* two full, one deleted */
	put64(m, 0x100 + 136, 0x8080808080808033ull);
	save("swiss", "table", b, sizeof(b));
}

/* ---- DWARF and its flat form -------------------------------------------- */

static int to_ebuf(void *arg, const void *p, size_t n)
{
	struct ebuf *o = arg;
	eb_put(o, o->n, p, n);
	return 0;
}

static void dwarf_seeds(const char *elf)
{
	int fd = open(elf, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(elf);
		exit(1);
	}
	unsigned char *p = malloc((size_t)st.st_size);
	if (!p || pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		exit(1);
	save("dwarf", "c-program", p, (size_t)st.st_size);
	free(p);
	struct gtb *b = gtb_new();
	struct ms_error err;
	if (dwarf_load_fd(fd, elf, b, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
	close(fd);
	struct ebuf o = { 0 };
	gtb_serialize(b, to_ebuf, &o);
	gtb_free(b);
	save("flat", "c-program", o.p, o.n);
	free(o.p);
}

static void flat_seed(void)
{
	/* A small model with every kind of record. */
	struct gtb *b = gtb_new();
	type_id s = gtb_add_type(b, 1, &(struct gtb_type){ .kind = GK_STRUCT, .name = "main.T", .size = 24 });
	gtb_add_type(b, 2, &(struct gtb_type){ .kind = GK_PTR, .name = "*main.T", .target = 1 });
	gtb_add_type(b, 3, &(struct gtb_type){ .kind = GK_MAP, .name = "map[int]int", .key = 4, .elem = 4,
					       .runtime_type = 0x40 });
	gtb_add_type(b, 4, &(struct gtb_type){ .kind = GK_BASE, .name = "int", .size = 8 });
	gtb_add_type(b, 5, &(struct gtb_type){ .kind = GK_ARRAY, .name = "[2]int", .size = 16, .count = 2,
					       .elem = 4 });
	gtb_add_member(b, s, "next", 2, 0, false);
	gtb_add_member(b, s, "m", 3, 8, false);
	gtb_add_member(b, s, "n", 4, 16, true);
	gtb_add_var(b, "main.root", 0x500000, 2);
	gtb_func f;
	gtb_add_func(b, "main.f", 0x401000, 0x401100, &f);
	struct gpiece pc[2] = { { GPIECE_CFA, -16, 8 }, { GPIECE_REG, 3, 8 } };
	struct gtb_range r[2] = { { 0x401000, 0x401040, pc, 1 }, { 0x401040, 0x401100, pc, 2 } };
	gtb_add_local(b, f, "x", 2, true, r, 2);
	gtb_add_closure_var(b, f, "&y", 2, 8);
	struct gcfa_row rows[2] = { { 0, 8 }, { 4, 40 } };
	gtb_add_cfa(b, 0x401000, 0x401100, rows, 2);
	gtb_set_dwarf_version(b, 5);
	struct ebuf o = { 0 };
	gtb_serialize(b, to_ebuf, &o);
	gtb_free(b);
	save("flat", "sample", o.p, o.n);
	free(o.p);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkseeds DIR [DWARF_SEED]\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	cores_and_exes();
	heap_seed();
	classic_seed();
	swiss_seed();
	flat_seed();
	if (argc > 2)
		dwarf_seeds(argv[2]);
	return 0;
}
