/* The DWARF model of a big executable, kept between runs (dwcache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bits.h"
#include "dwcache.h"

static const char MAGIC[16] = "mapscan dwarf 1\n";

/* The directory, opened, or -1: $MAPSCAN_CACHE_DIR (empty: none), else
 * $XDG_CACHE_HOME/mapscan, else $HOME/.cache/mapscan; made when missing,
 * used only when it is the user's and only the user may write it. */
static int cache_dir(void)
{
	char path[4096];
	const char *env = getenv("MAPSCAN_CACHE_DIR");
	if (env) {
		if (!*env || strlen(env) >= sizeof(path))
			return -1;
		snprintf(path, sizeof(path), "%s", env);
	} else {
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
		char parent[4000];
		if (xdg && *xdg)
			snprintf(parent, sizeof(parent), "%s", xdg);
		else if (home && *home)
			snprintf(parent, sizeof(parent), "%s/.cache", home);
		else
			return -1;
		mkdir(parent, 0700);
		if ((size_t)snprintf(path, sizeof(path), "%s/mapscan", parent) >= sizeof(path))
			return -1;
	}
	mkdir(path, 0700);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void put64(unsigned char **p, uint64_t v)
{
	memcpy(*p, &v, 8);
	*p += 8;
}

/* A checksum of what a file holds after its key (a disk's or a truncated
 * write's damage in a name would pass gtb_deserialize's checks). */
static uint64_t sum(const unsigned char *p, size_t n, uint64_t h)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return mix64(h + n);
}

static uint64_t min_bytes(void)
{
	const char *s = getenv("MAPSCAN_TEST_CACHE_MIN");
	return s && *s ? strtoull(s, NULL, 10) : DWCACHE_MIN_BYTES;
}

bool dwcache_open(struct dwcache *c, const struct stat *st)
{
	struct stat self;
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	if ((uint64_t)st->st_size < min_bytes() || stat("/proc/self/exe", &self) < 0)
		return false;
	/* The key: this executable, read by this mapscan. */
	unsigned char *p = c->key;
	memcpy(p, MAGIC, sizeof(MAGIC));
	p += sizeof(MAGIC);
	const struct stat *who[2] = { st, &self };
	for (int k = 0; k < 2; k++) {
		put64(&p, (uint64_t)who[k]->st_dev);
		put64(&p, (uint64_t)who[k]->st_ino);
		put64(&p, (uint64_t)who[k]->st_size);
		put64(&p, (uint64_t)who[k]->st_mtim.tv_sec);
		put64(&p, (uint64_t)who[k]->st_mtim.tv_nsec);
		put64(&p, (uint64_t)who[k]->st_ctim.tv_sec);
		put64(&p, (uint64_t)who[k]->st_ctim.tv_nsec);
	}
	c->keylen = (size_t)(p - c->key);
	uint64_t h = 0;
	for (size_t i = 0; i < c->keylen; i += 8) {
		uint64_t w;
		memcpy(&w, c->key + i, 8);
		h = mix64(h ^ w);
	}
	snprintf(c->name, sizeof(c->name), "dw-%016llx.model", (unsigned long long)h);
	if ((c->dirfd = cache_dir()) < 0)
		return false;

	int fd = openat(c->dirfd, c->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat fs;
	if (fd < 0)
		return false;
	if (fstat(fd, &fs) < 0 || !S_ISREG(fs.st_mode) || fs.st_uid != geteuid() ||
	    (uint64_t)fs.st_size < c->keylen + 8 || (uint64_t)fs.st_size > SIZE_MAX) {
		close(fd);
		return false;
	}
	void *m = mmap(NULL, (size_t)fs.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	c->map = m;
	c->maplen = (size_t)fs.st_size;
	/* key, the checksum of the rest (u64), nparts (u32) and a u32 0, the
	 * parts' lengths, the parts */
	const unsigned char *q = c->map + c->keylen, *end = c->map + c->maplen;
	uint32_t n, zero;
	uint64_t want;
	if (memcmp(c->map, c->key, c->keylen) || (size_t)(end - q) < 16)
		goto bad;
	memcpy(&want, q, 8);
	q += 8;
	const unsigned char *head = q;
	memcpy(&n, q, 4);
	memcpy(&zero, q + 4, 4);
	q += 8;
	if (n < 1 || n > DWCACHE_MAX_PARTS || zero || (size_t)(end - q) < 8u * n)
		goto bad;
	const unsigned char *data = q + 8u * n;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t len;
		memcpy(&len, q + 8u * k, 8);
		if (len > (uint64_t)(end - data))
			goto bad;
		c->part[k] = data;
		c->len[k] = (size_t)len;
		data += len;
	}
	if (data != end)
		goto bad;
	uint64_t got = sum(head, 8 + 8u * n, 0);
	for (uint32_t k = 0; k < n; k++)
		got = sum(c->part[k], c->len[k], got);
	if (got != want)
		goto bad;
	c->nparts = n;
	return true;
bad:
	dwcache_drop(c);
	return false;
}

void dwcache_drop(struct dwcache *c)
{
	if (c->map)
		munmap((void *)c->map, c->maplen);
	c->map = NULL;
	c->nparts = 0;
	if (c->dirfd >= 0)
		unlinkat(c->dirfd, c->name, 0);
}

static bool write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n > (1u << 30) ? 1u << 30 : n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Keep the DWCACHE_FILES most recent models: the others go. */
struct ent {
	char name[64];
	struct timespec t;
};

static int newer_first(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec > y->t.tv_sec ? -1 : 1;
	return x->t.tv_nsec > y->t.tv_nsec ? -1 : x->t.tv_nsec < y->t.tv_nsec;
}

static void prune(int dirfd)
{
	enum { SEEN_MAX = 256 };
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct ent *e = calloc(SEEN_MAX, sizeof(*e));
	size_t n = 0;
	if (!d || !e) {
		if (d)
			closedir(d);
		else if (fd >= 0)
			close(fd);
		free(e);
		return;
	}
	for (struct dirent *de; (de = readdir(d)) && n < SEEN_MAX;) {
		struct stat st;
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "dw-", 3) || len < 10 || len >= sizeof(e[0].name) ||
		    strcmp(de->d_name + len - 6, ".model") ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		memcpy(e[n].name, de->d_name, len + 1);
		e[n++].t = st.st_mtim;
	}
	closedir(d);
	qsort(e, n, sizeof(*e), newer_first);
	for (size_t i = DWCACHE_FILES; i < n; i++)
		unlinkat(dirfd, e[i].name, 0);
	free(e);
}

bool dwcache_store(struct dwcache *c, const unsigned char *const *part, const size_t *len,
		   unsigned n)
{
	char tmp[96];
	if (c->dirfd < 0 || n < 1 || n > DWCACHE_MAX_PARTS)
		return false;
	unsigned char head[8 + 8 * DWCACHE_MAX_PARTS];
	uint32_t nn = n, zero = 0;
	memcpy(head, &nn, 4);
	memcpy(head + 4, &zero, 4);
	for (unsigned k = 0; k < n; k++) {
		uint64_t l = len[k];
		memcpy(head + 8 + 8 * k, &l, 8);
	}
	/* The checksum of the header, then of each part in turn. */
	size_t hn = 8 + 8 * (size_t)n;
	uint64_t h = sum(head, hn, 0);
	for (unsigned k = 0; k < n; k++)
		h = sum(part[k], len[k], h);
	snprintf(tmp, sizeof(tmp), "tmp-%ld-%s", (long)getpid(), c->name);
	int fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	bool ok = write_all(fd, c->key, c->keylen) && write_all(fd, &h, 8) && write_all(fd, head, hn);
	for (unsigned k = 0; k < n && ok; k++)
		ok = write_all(fd, part[k], len[k]);
	ok = close(fd) == 0 && ok;
	if (!ok || renameat(c->dirfd, tmp, c->dirfd, c->name) < 0) {
		unlinkat(c->dirfd, tmp, 0);
		return false;
	}
	prune(c->dirfd);
	return true;
}

void dwcache_close(struct dwcache *c)
{
	if (c->map)
		munmap((void *)c->map, c->maplen);
	c->map = NULL;
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
}
