/* Cores that are not a plain file to mmap: compressed ones (zstd, what
 * systemd-coredump writes; gzip; xz; lz4), told apart by their magic, not
 * their name, and cores read from a pipe (`mapscan -`, /dev/stdin, or the
 * /dev/fd/N a shell's process substitution passes).
 *
 * The core is decompressed as a stream into memory the rest of the target
 * reads exactly like the mmap'd core (a struct mapping): anonymous memory
 * up to a share of the machine's RAM, beyond that an unlinked temporary
 * file that is then mapped read-only, so that a core of many GiB costs disk
 * and page cache, not resident memory (the target's trimming works on it as
 * on any core file).  The compressed input is untrusted like the core: a
 * corrupt or cut stream is a one-line MS_EFORMAT error naming where it
 * broke, and what it expands to is bounded by what the core's own ELF
 * headers say it holds (sink_bound), by memory and then by the disk the
 * temporary file is on. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "target_impl.h"

#define IN_CHUNK   (1u << 20)   /* bytes read from a pipe at a time */
#define OUT_CHUNK  (4u << 20)   /* bytes decompressed at a time */
#define DROP_INPUT (64u << 20)  /* drop consumed input pages this often */
#define SPILL_PAGE 4096u        /* all-zero pages of this size become holes */
#define SPILL_WRITE (1u << TRIM_GRANULE_SHIFT) /* most bytes written at a time */

/* ---- the memory limit -------------------------------------------------- */

/* The machine's memory, or the cgroup's limit when it is lower (a debug
 * container with a memory limit is where a core is often read). */
static uint64_t memory_size(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && ps > 0 ? (uint64_t)pages * (uint64_t)ps : 1ull << 30;
	static const char *const files[] = {
		"/sys/fs/cgroup/memory.max",                    /* cgroup v2 */
		"/sys/fs/cgroup/memory/memory.limit_in_bytes",  /* v1 */
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "re");
		unsigned long long v;

		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1 && v > 0 && v < mem)
			mem = v;
		fclose(f);
	}
	return mem;
}

int tg_core_memory_limit(uint64_t *limit, struct ms_error *err)
{
	const char *s = getenv("MAPSCAN_CORE_MEMORY");
	uint64_t mem = memory_size();
	char *end;

	*limit = mem / 4;
	if (!s || !*s)
		return 0;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))
		goto bad;
	if (!strcmp(end, "%")) {
		if (v > 100)
			goto bad;
		*limit = (uint64_t)((double)mem * v / 100);
		return 0;
	}
	static const char units[] = "KMGT";
	double mult = 1;
	if (*end) {
		const char *u = strchr(units, *end >= 'a' ? *end - 32 : *end);
		if (!u)
			goto bad;
		for (const char *k = units; k <= u; k++)
			mult *= 1024;
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end || v * mult >= 18446744073709551615.0)
		goto bad;
	*limit = (uint64_t)(v * mult);
	return 0;
bad:
	return ms_err(err, MS_EUSAGE,
		      "MAPSCAN_CORE_MEMORY=%s: give a size (512M, 4G) or a share of memory (25%%)", s);
}

/* ---- what the bytes are ------------------------------------------------ */

enum codec { CODEC_NONE, CODEC_ZSTD, CODEC_GZIP, CODEC_XZ, CODEC_LZ4 };

static const char *const codec_names[] = { NULL, "zstd", "gzip", "xz", "lz4" };

/* The codec whose magic p starts with; for formats recognised but not
 * read, *other names them. */
static enum codec sniff(const unsigned char *p, size_t n, const char **other)
{
	*other = NULL;
	if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return CODEC_ZSTD;
	/* A zstd skippable frame may come first (0x184D2A5?, little-endian);
	 * lz4 uses the same range, and both decoders skip them. */
	if (n >= 4 && (p[0] & 0xf0) == 0x50 && !memcmp(p + 1, "\x2a\x4d\x18", 3))
		return CODEC_ZSTD;
	if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8)
		return CODEC_GZIP;
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return CODEC_XZ;
	if (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4))
		return CODEC_LZ4;
	if (n >= 4 && !memcmp(p, "\x02\x21\x4c\x18", 4))
		*other = "lz4 in the legacy format (lz4 -l); decompress it with `lz4 -d`";
	else if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
		*other = "bzip2-compressed; decompress it with `bunzip2`";
	else if (n >= 4 && !memcmp(p, "PK\3\4", 4))
		*other = "a zip archive; unpack it first";
	else if (n >= 6 && !memcmp(p, "7z\xbc\xaf\x27\x1c", 6))
		*other = "a 7z archive; unpack it first";
	return CODEC_NONE;
}

/* ---- input: a mapped file or a stream ---------------------------------- */

struct input {
	const unsigned char *map; /* the file, mapped; or NULL for a stream */
	size_t size;
	size_t dropped;           /* map bytes before this were given back */
	int fd;                   /* the stream */
	unsigned char *buf;
	size_t len;
	bool eof;
	size_t pos;               /* next byte to decode (map or buf) */
	uint64_t consumed;        /* bytes of input decoded so far */
	const char *path;
};

/* Bytes available at *p (*n); 0 at the end of the input. */
static int in_peek(struct input *in, const unsigned char **p, size_t *n, struct ms_error *err)
{
	if (in->map) {
		size_t k = in->size - in->pos;
		*p = in->map + in->pos;
		*n = k < IN_CHUNK ? k : IN_CHUNK;
		in->eof = true;
		return 0;
	}
	if (in->pos == in->len && !in->eof) {
		in->pos = in->len = 0;
		while (in->len < IN_CHUNK) {
			ssize_t r = read(in->fd, in->buf + in->len, IN_CHUNK - in->len);
			if (r > 0) {
				in->len += (size_t)r;
				continue;
			}
			if (r == 0) {
				in->eof = true;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (in->len)
					break;
				struct pollfd pf = { .fd = in->fd, .events = POLLIN };
				poll(&pf, 1, -1);
				continue;
			}
			return ms_err(err, MS_EOPEN, "%s: cannot read the core: %s", in->path,
				      strerror(errno));
		}
	}
	*p = in->buf + in->pos;
	*n = in->len - in->pos;
	return 0;
}

static void in_consume(struct input *in, size_t k)
{
	in->pos += k;
	in->consumed += k;
	/* The compressed file is read once, front to back: give its pages
	 * back as we go so they do not add to the resident set. */
	if (in->map && in->pos - in->dropped >= DROP_INPUT) {
		size_t ps = (size_t)sysconf(_SC_PAGESIZE), end = in->pos & ~(ps - 1);
		madvise((void *)(in->map + in->dropped), end - in->dropped, MADV_DONTNEED);
		in->dropped = end;
	}
}

static bool in_done(const struct input *in)
{
	return in->map ? in->pos == in->size : in->eof && in->pos == in->len;
}

/* ---- output: memory, then a temporary file ----------------------------- */

struct sink {
	unsigned char *mem;       /* anonymous reservation of `reserved` bytes */
	size_t len, reserved;
	int fd;                   /* the temporary file once spilled, else -1 */
	unsigned char *stage;     /* bytes not yet written to it */
	size_t slen;
	uint64_t total;           /* bytes decompressed */
	uint64_t written;         /* of which in the file (holes included) */
	uint64_t limit;           /* most bytes kept in memory */
	/* What the core's own headers say it holds (sink_bound): once they
	 * are in, decompressing further is refused, so a few KB of zstd
	 * cannot expand into TBs of holes. */
	uint64_t cap;             /* 0: not known yet */
	uint64_t need;            /* bytes before the program headers are all in */
	const char *path;
	char dir[PATH_MAX];
};

/* A core of a 64-bit process cannot hold more than the address space. */
#define CORE_MAX (1ull << 47)
/* After the last segment a core may carry section headers and their
 * names (gdb's gcore writes them): room for those. */
#define CORE_TAIL (64ull << 20)

static const char *spill_dir(char *buf, size_t n)
{
	const char *d = getenv("TMPDIR");
	/* /tmp is often a tmpfs, which is memory again. */
	snprintf(buf, n, "%s", d && *d ? d : "/var/tmp");
	if (!(d && *d) && access(buf, W_OK) != 0)
		snprintf(buf, n, "/tmp");
	return buf;
}

static int spill_error(struct sink *s, const char *what, int e, struct ms_error *err)
{
	char a[32];
	return ms_err(err, MS_EOPEN,
		      "%s: cannot %s the decompressed core in %s (%s so far, more than "
		      "MAPSCAN_CORE_MEMORY keeps in memory): %s; free space there or set TMPDIR "
		      "to a larger disk", s->path, what, s->dir, tg_human_size(s->total, a),
		      strerror(e));
}

/* Write buf to the file at s->written, leaving all-zero pages as holes
 * (cores are full of them). */
static int spill_write(struct sink *s, const unsigned char *buf, size_t n, struct ms_error *err)
{
	static const unsigned char zero[SPILL_PAGE];
	size_t i = 0;

	while (i < n) {
		size_t k = n - i < SPILL_PAGE ? n - i : SPILL_PAGE;
		if (k == SPILL_PAGE && !memcmp(buf + i, zero, SPILL_PAGE)) {
			i += k;
			s->written += k;
			continue;
		}
		/* Coalesce the following non-zero pages into one write. */
		size_t j = i + k;
		while (j < n) {
			size_t m = n - j < SPILL_PAGE ? n - j : SPILL_PAGE;
			if (m == SPILL_PAGE && !memcmp(buf + j, zero, SPILL_PAGE))
				break;
			j += m;
		}
		while (i < j) {
			/* The page cache makes folios as large as the write
			 * (up to 2 MiB); a fault maps a whole folio, and the
			 * target trims the mapping in granules of 64 KiB:
			 * larger writes would make each granule cost up to
			 * 32 times its size in resident memory. */
			size_t len = j - i > SPILL_WRITE ? SPILL_WRITE : j - i;
			ssize_t w = pwrite(s->fd, buf + i, len, (off_t)s->written);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return spill_error(s, "store", w < 0 ? errno : ENOSPC, err);
			i += (size_t)w;
			s->written += (uint64_t)w;
		}
	}
	return 0;
}

static int spill(struct sink *s, struct ms_error *err)
{
	spill_dir(s->dir, sizeof(s->dir));
	s->fd = open(s->dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		/* A file system without O_TMPFILE: a named file, gone at once. */
		char name[PATH_MAX + 32];
		snprintf(name, sizeof(name), "%s/mapscan-core-XXXXXX", s->dir);
		s->fd = mkostemp(name, O_CLOEXEC);
		if (s->fd < 0)
			return spill_error(s, "create a file for", errno, err);
		unlink(name);
	}
	if (!(s->stage = malloc(OUT_CHUNK)))
		return ms_err(err, MS_EINTERNAL, "%s: out of memory", s->path);
	if (s->mem) {
		int rc = spill_write(s, s->mem, s->len, err);
		munmap(s->mem, s->reserved);
		s->mem = NULL;
		s->len = s->reserved = 0;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int sink_init(struct sink *s, const char *path, uint64_t limit, uint64_t hint,
		     struct ms_error *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->path = path;
	s->limit = limit;
	if (hint > limit || limit < OUT_CHUNK)
		return spill(s, err);
	/* Address space only: pages are committed as they are written, so
	 * reserving the whole limit costs nothing. */
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t want = limit > SIZE_MAX / 2 ? SIZE_MAX / 2 : limit;
	s->reserved = (size_t)(want & ~(uint64_t)(ps - 1));
	s->mem = mmap(NULL, s->reserved, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		s->reserved = 0;
		return spill(s, err);
	}
	return 0;
}

/* Where the next decompressed bytes go, and how many fit. */
static int sink_space(struct sink *s, unsigned char **p, size_t *n, struct ms_error *err)
{
	if (s->fd < 0 && s->len == s->reserved && spill(s, err) < 0)
		return -1;
	if (s->fd < 0) {
		size_t k = s->reserved - s->len;
		*p = s->mem + s->len;
		*n = k < OUT_CHUNK ? k : OUT_CHUNK;
		return 0;
	}
	*p = s->stage + s->slen;
	*n = OUT_CHUNK - s->slen;
	return 0;
}

/* n decompressed bytes at off (< s->total), wherever they are now. */
static int sink_peek(const struct sink *s, uint64_t off, void *buf, size_t n)
{
	if (off > s->total || n > s->total - off)
		return -1;
	if (s->fd < 0) {
		memcpy(buf, s->mem + off, n);
		return 0;
	}
	unsigned char *b = buf;
	while (n && off < s->written) {
		size_t k = s->written - off < n ? (size_t)(s->written - off) : n;
		ssize_t r = pread(s->fd, b, k, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)   /* a hole at the end, not yet extended */
			memset(b, 0, k), r = (ssize_t)k;
		b += r, off += (uint64_t)r, n -= (size_t)r;
	}
	if (n)
		memcpy(b, s->stage + (off - s->written), n);
	return 0;
}

static uint64_t rd(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* What the ELF header and program headers say the core's size is: the
 * end of its last segment (and section headers), plus CORE_TAIL; CORE_MAX
 * when they cannot say (not a little-endian ELF64; the reader then
 * refuses it anyway). */
static void sink_bound(struct sink *s)
{
	unsigned char e[64];
	if (!s->need) {
		if (s->total < sizeof(e) || sink_peek(s, 0, e, sizeof(e)))
			return;
		uint64_t phoff = rd(e + 32, 8), phent = rd(e + 54, 2), phnum = rd(e + 56, 2);
		if (memcmp(e, "\177ELF", 4) || e[4] != 2 || e[5] != 1 || phnum == 0xffff ||
		    phent < 56 || phoff > CORE_MAX) {
			s->cap = CORE_MAX;
			return;
		}
		s->need = phoff + phent * phnum;
		if (s->need < sizeof(e))
			s->need = sizeof(e);
	}
	if (s->total < s->need)
		return;
	if (sink_peek(s, 0, e, sizeof(e)))
		return;
	uint64_t phoff = rd(e + 32, 8), phent = rd(e + 54, 2), phnum = rd(e + 56, 2);
	uint64_t end = s->need, sh = rd(e + 40, 8) + rd(e + 58, 2) * rd(e + 60, 2);
	if (sh > end && rd(e + 40, 8) < CORE_MAX)
		end = sh;
	unsigned char ph[56];
	for (uint64_t i = 0; i < phnum; i++) {
		if (sink_peek(s, phoff + i * phent, ph, sizeof(ph)))
			break;
		uint64_t o = rd(ph + 8, 8), fsz = rd(ph + 32, 8);
		if (o < CORE_MAX && fsz < CORE_MAX && o + fsz > end)
			end = o + fsz;
	}
	s->cap = end + CORE_TAIL < CORE_MAX ? end + CORE_TAIL : CORE_MAX;
}

static int sink_commit(struct sink *s, size_t k, struct ms_error *err)
{
	s->total += k;
	if (s->fd < 0)
		s->len += k;
	else
		s->slen += k;
	if (!s->cap)
		sink_bound(s);
	if (s->cap && s->total > s->cap) {
		char a[32];
		return ms_err(err, MS_EFORMAT, "%s: decompresses to more than its ELF headers say "
			      "the core holds (over %s): damaged, or not a core", s->path,
			      tg_human_size(s->cap, a));
	}
	if (s->fd >= 0 && s->slen == OUT_CHUNK) {
		s->slen = 0;
		return spill_write(s, s->stage, OUT_CHUNK, err);
	}
	return 0;
}

/* Hand the bytes over as a read-only mapping. */
static int sink_finish(struct sink *s, struct mapping *m, struct ms_error *err)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);

	if (s->total == 0)
		return ms_err(err, MS_EFORMAT, "%s: decompresses to nothing, not an ELF core file",
			      s->path);
	if (s->fd < 0) {
		size_t used = (s->len + ps - 1) & ~(ps - 1);
		if (used < s->reserved)
			munmap(s->mem + used, s->reserved - used);
		mprotect(s->mem, used, PROT_READ);
		madvise(s->mem, used, MADV_DONTFORK);
		m->base = s->mem;
		m->size = s->len;
		m->anon = true;
		s->mem = NULL;
		return 0;
	}
	if (s->slen && spill_write(s, s->stage, s->slen, err) < 0)
		return -1;
	s->slen = 0;
	if (s->total > SIZE_MAX || ftruncate(s->fd, (off_t)s->total) < 0)
		return spill_error(s, "store", errno ? errno : EFBIG, err);
	void *p = mmap(NULL, (size_t)s->total, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (p == MAP_FAILED)
		return spill_error(s, "map", errno, err);
	madvise(p, (size_t)s->total, MADV_DONTFORK);
	m->base = p;
	m->size = (size_t)s->total;
	m->anon = false;
	return 0;
}

static void sink_free(struct sink *s)
{
	if (s->mem)
		munmap(s->mem, s->reserved);
	if (s->fd >= 0)
		close(s->fd);
	free(s->stage);
}

/* ---- the decoders ------------------------------------------------------ */

struct decoder {
	enum codec codec;
	bool done;                /* the last frame or member ended here */
	ZSTD_DStream *zs;
	z_stream z;
	bool z_init;
	lzma_stream x;
	LZ4F_dctx *lz;
};

static int dec_init(struct decoder *d, enum codec c, const char *path, struct ms_error *err)
{
	memset(d, 0, sizeof(*d));
	d->codec = c;
	d->done = true;
	switch (c) {
	case CODEC_NONE:
		return 0;
	case CODEC_ZSTD:
		if (!(d->zs = ZSTD_createDStream()))
			break;
		/* `zstd --long` windows up to 1 GiB; more is refused (memory). */
		ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 30);
		return 0;
	case CODEC_GZIP:
		if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
			break;
		d->z_init = true;
		return 0;
	case CODEC_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;
		d->x = init;
		if (lzma_stream_decoder(&d->x, 1ull << 30, LZMA_CONCATENATED) != LZMA_OK)
			break;
		return 0;
	}
	case CODEC_LZ4:
		if (LZ4F_isError(LZ4F_createDecompressionContext(&d->lz, LZ4F_VERSION)))
			break;
		return 0;
	}
	return ms_err(err, MS_EINTERNAL, "%s: cannot start the %s decoder: out of memory", path,
		      codec_names[c]);
}

static void dec_free(struct decoder *d)
{
	ZSTD_freeDStream(d->zs);
	if (d->z_init)
		inflateEnd(&d->z);
	if (d->codec == CODEC_XZ)
		lzma_end(&d->x);
	if (d->lz)
		LZ4F_freeDecompressionContext(d->lz);
}

/* extra: input bytes the decoder took in the call that failed. */
static int corrupt(const struct input *in, size_t extra, const char *codec, const char *why,
		   struct ms_error *err)
{
	return ms_err(err, MS_EFORMAT,
		      "%s: corrupt %s data near byte %" PRIu64 " of the compressed core (%s); "
		      "the file is damaged: take the core again",
		      in->path, codec, in->consumed + extra, why);
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:     return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 1 GiB of memory to decompress";
	case LZMA_FORMAT_ERROR:  return "not xz data";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR:    return "data error";
	case LZMA_BUF_ERROR:     return "cut short";
	default:                 return "decoder error";
	}
}

/* Decode from in[0..n) into out[0..m); *used and *made say how much.
 * at_end: no input follows in.  Sets d->done when the data ended at a
 * frame (member, stream) boundary. */
static int dec_step(struct decoder *d, struct input *ip, const unsigned char *in, size_t n,
		    bool at_end, unsigned char *out, size_t m, size_t *used, size_t *made,
		    struct ms_error *err)
{
	*used = *made = 0;
	switch (d->codec) {
	case CODEC_NONE: {
		size_t k = n < m ? n : m;
		memcpy(out, in, k);
		*used = *made = k;
		return 0;
	}
	case CODEC_ZSTD: {
		ZSTD_inBuffer ib = { in, n, 0 };
		ZSTD_outBuffer ob = { out, m, 0 };
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		*used = ib.pos;
		*made = ob.pos;
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
				return ms_err(err, MS_EFORMAT,
					      "%s: zstd data with a window over 1 GiB (zstd --long=31); "
					      "decompress it first with `zstd -d --long=31`", ip->path);
			return corrupt(ip, *used, "zstd", ZSTD_getErrorName(r), err);
		}
		if (ib.pos || ob.pos)
			d->done = r == 0;
		return 0;
	}
	case CODEC_GZIP: {
		if (d->done && n) {
			/* Members may follow one another (`cat a.gz b.gz`). */
			if (n >= 2 && (in[0] != 0x1f || in[1] != 0x8b))
				return corrupt(ip, 0, "gzip", "trailing bytes after the last member", err);
			inflateReset(&d->z);
		}
		d->z.next_in = (unsigned char *)in;
		d->z.avail_in = (uInt)(n > UINT_MAX ? UINT_MAX : n);
		d->z.next_out = out;
		d->z.avail_out = (uInt)(m > UINT_MAX ? UINT_MAX : m);
		int r = inflate(&d->z, Z_NO_FLUSH);
		*used = (size_t)(d->z.next_in - in);
		*made = (size_t)(d->z.next_out - out);
		if (r == Z_STREAM_END) {
			d->done = true;
			return 0;
		}
		if (r == Z_OK || r == Z_BUF_ERROR) {
			if (*used || *made)
				d->done = false;
			return 0;
		}
		return corrupt(ip, *used, "gzip", d->z.msg ? d->z.msg : "inflate failed", err);
	}
	case CODEC_XZ: {
		d->x.next_in = in;
		d->x.avail_in = n;
		d->x.next_out = out;
		d->x.avail_out = m;
		lzma_ret r = lzma_code(&d->x, at_end ? LZMA_FINISH : LZMA_RUN);
		*used = n - d->x.avail_in;
		*made = m - d->x.avail_out;
		d->done = r == LZMA_STREAM_END;
		if (r == LZMA_OK || r == LZMA_STREAM_END || (r == LZMA_BUF_ERROR && !at_end))
			return 0;
		if (r == LZMA_BUF_ERROR)
			return 0;        /* cut short: the caller sees !done at the end */
		return corrupt(ip, *used, "xz", lzma_why(r), err);
	}
	case CODEC_LZ4: {
		size_t dst = m, src = n;
		size_t r = LZ4F_decompress(d->lz, out, &dst, in, &src, NULL);
		*used = src;
		*made = dst;
		if (LZ4F_isError(r))
			return corrupt(ip, *used, "lz4", LZ4F_getErrorName(r), err);
		if (src || dst)
			d->done = r == 0;
		return 0;
	}
	}
	return ms_err(err, MS_EINTERNAL, "%s: unknown codec", ip->path);
}

/* What a zstd or lz4 frame header says the data decompresses to; 0 when it
 * does not say.  A hint only (untrusted): it picks memory or the file. */
static uint64_t size_hint(enum codec c, const unsigned char *p, size_t n)
{
	if (c == CODEC_ZSTD) {
		unsigned long long v = ZSTD_getFrameContentSize(p, n);
		return v == ZSTD_CONTENTSIZE_UNKNOWN || v == ZSTD_CONTENTSIZE_ERROR ? 0 : v;
	}
	if (c == CODEC_LZ4) {
		LZ4F_dctx *d;
		LZ4F_frameInfo_t fi;
		size_t k = n;
		uint64_t v = 0;
		if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
			return 0;
		if (!LZ4F_isError(LZ4F_getFrameInfo(d, &fi, p, &k)))
			v = fi.contentSize;
		LZ4F_freeDecompressionContext(d);
		return v;
	}
	return 0;
}

/* Decompress (or, CODEC_NONE, copy) the whole input into m. */
static int inflate_all(struct input *in, enum codec c, uint64_t hint, struct mapping *m,
		       struct ms_error *err)
{
	struct decoder d;
	struct sink s;
	uint64_t limit;
	int rc = -1;

	if (tg_core_memory_limit(&limit, err) < 0)
		return -1;
	if (dec_init(&d, c, in->path, err) < 0)
		return -1;
	if (sink_init(&s, in->path, limit, hint, err) < 0)
		goto out;
	for (;;) {
		const unsigned char *ip;
		unsigned char *op;
		size_t n, on, used, made;

		if (in_peek(in, &ip, &n, err) < 0 || sink_space(&s, &op, &on, err) < 0)
			goto out;
		bool at_end = in->eof && (in->map ? in->pos + n == in->size : true);
		if (dec_step(&d, in, ip, n, at_end, op, on, &used, &made, err) < 0)
			goto out;
		in_consume(in, used);
		if (sink_commit(&s, made, err) < 0)
			goto out;
		/* No progress with room to write: the end of the input, or a
		 * decoder that wants input that is not there (checked below). */
		if (!used && !made)
			break;
	}
	if (!d.done) {
		char a[32];
		rc = ms_err(err, MS_EFORMAT,
			    "%s: the %s data ends early (after %" PRIu64 " compressed bytes, %s "
			    "decompressed): the core is cut short; was it still being written?",
			    in->path, codec_names[c] ? codec_names[c] : "core", in->consumed,
			    tg_human_size(s.total, a));
		goto out;
	}
	if (!in_done(in)) {
		rc = corrupt(in, 0, codec_names[c] ? codec_names[c] : "core", "the decoder stopped before the end", err);
		goto out;
	}
	rc = sink_finish(&s, m, err);
out:
	sink_free(&s);
	dec_free(&d);
	return rc;
}

/* ---- opening ----------------------------------------------------------- */

/* The descriptor a path names when it is one of ours: "-", /dev/stdin,
 * /dev/fd/N, /proc/self/fd/N (what `<(coredumpctl dump ...)` passes);
 * -1 for any other path. */
static int own_descriptor(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };

	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdin"))
		return 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t k = strlen(prefixes[i]);
		char *end;
		if (strncmp(path, prefixes[i], k) || !path[k])
			continue;
		errno = 0;
		long fd = strtol(path + k, &end, 10);
		if (!*end && !errno && fd >= 0 && fd < INT_MAX)
			return (int)fd;
	}
	return -1;
}

/* A mapped file: decompress it in place of the mapping when it is
 * compressed. */
static int maybe_inflate_mapped(const char *path, struct mapping *m, const char **compression,
				struct ms_error *err)
{
	const char *other;
	enum codec c = sniff(m->base, m->size, &other);

	if (other) {
		tg_unmap_file(m);
		return ms_err(err, MS_EFORMAT, "%s: not an ELF core file but %s", path, other);
	}
	if (c == CODEC_NONE)
		return 0;
	struct input in = { .map = m->base, .size = m->size, .fd = -1, .path = path };
	struct mapping out = { 0 };
	madvise((void *)m->base, m->size, MADV_SEQUENTIAL);
	int rc = inflate_all(&in, c, size_hint(c, m->base, m->size), &out, err);
	tg_unmap_file(m);
	if (rc < 0)
		return -1;
	*m = out;
	*compression = codec_names[c];
	return 0;
}

int tg_open_core_image(const char *path, const char *shown, struct mapping *m,
		       const char **compression, struct ms_error *err)
{
	int fd = own_descriptor(path), e;
	struct stat st;

	*compression = NULL;
	memset(m, 0, sizeof(*m));
	if (fd < 0) {
		if (tg_map_file(path, "core file", m, &e, err) < 0)
			return -1;
		return maybe_inflate_mapped(shown, m, compression, err);
	}
	if (fstat(fd, &st) < 0)
		return ms_err(err, MS_EOPEN, "%s: cannot read the core: %s", shown,
			      strerror(errno));
	if (S_ISREG(st.st_mode)) {
		/* `mapscan - < core`: the file itself, mapped as usual. */
		if (st.st_size <= 0)
			return ms_err(err, MS_EFORMAT, "%s: empty file, not an ELF core file", shown);
		if ((uint64_t)st.st_size > SIZE_MAX)
			return ms_err(err, MS_EOPEN, "%s: core file too large to map", shown);
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return ms_err(err, MS_EOPEN, "%s: cannot map the core: %s", shown,
				      strerror(errno));
		madvise(p, (size_t)st.st_size, MADV_DONTFORK);
		m->base = p;
		m->size = (size_t)st.st_size;
		m->stored = (uint64_t)st.st_blocks * 512;
		return maybe_inflate_mapped(shown, m, compression, err);
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return ms_err(err, MS_EOPEN,
			      "%s: %s, not a core; pipe one in (coredumpctl dump PID | mapscan -)",
			      shown, isatty(fd) ? "a terminal" : "a device");

	struct input in = { .fd = fd, .path = shown };
	const unsigned char *p;
	size_t n;
	const char *other;
	int rc = -1;

	if (!(in.buf = malloc(IN_CHUNK)))
		return ms_err(err, MS_EINTERNAL, "%s: out of memory", shown);
	if (in_peek(&in, &p, &n, err) < 0)
		goto out;
	if (n == 0) {
		rc = ms_err(err, MS_EFORMAT, "%s: nothing came through the pipe, not an ELF core file",
			    shown);
		goto out;
	}
	enum codec c = sniff(p, n, &other);
	if (other) {
		rc = ms_err(err, MS_EFORMAT, "%s: not an ELF core file but %s", shown, other);
		goto out;
	}
	rc = inflate_all(&in, c, size_hint(c, p, n), m, err);
	if (rc == 0)
		*compression = codec_names[c];
out:
	free(in.buf);
	return rc;
}

void target_codec_versions(char *buf, size_t n)
{
	snprintf(buf, n, "zstd %s, zlib %s, liblzma %s, lz4 %s", ZSTD_versionString(),
		 zlibVersion(), lzma_version_string(), LZ4_versionString());
}
