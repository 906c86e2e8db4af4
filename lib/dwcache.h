/* The DWARF model of a big executable, kept between runs.
 *
 * Reading a big binary's DWARF is a second of a run (gopls, 42 MB: 0.8-0.9
 * s of two sandboxed children's time), and a binary is analysed again and
 * again: the text report, then --json, then --tui, then the next core of
 * the same service.  The children's flat forms (types_build.h
 * gtb_serialize) are kept in a file per executable, in $MAPSCAN_CACHE_DIR
 * (empty: no cache), else $XDG_CACHE_HOME/mapscan, else ~/.cache/mapscan,
 * for executables of DWCACHE_MIN_BYTES or more.
 *
 * A file is used only for the same executable (device, inode, size and
 * modification and change times) read by the same mapscan (the same of its
 * own executable): a binary rebuilt in place, or a mapscan built again,
 * misses.  What a file holds is untrusted as the children's output is:
 * a checksum and gtb_deserialize check it, and a file that fails is thrown
 * away and the DWARF read again.  The directory is mapscan's (mode 0700, owned by the
 * user), a file is written whole under another name and renamed, and the
 * directory keeps the DWCACHE_FILES most recent files.  (Tests lower the
 * size with MAPSCAN_TEST_CACHE_MIN, and are then told on stderr where a
 * model came from.) */
#ifndef MAPSCAN_DWCACHE_H
#define MAPSCAN_DWCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define DWCACHE_MIN_BYTES (16ull << 20)
#define DWCACHE_FILES 16
#define DWCACHE_MAX_PARTS 4

struct dwcache {
	int dirfd;                 /* -1: no cache */
	char name[64];             /* the file's name in the directory */
	unsigned char key[128];    /* what a file must begin with */
	size_t keylen;
	/* a hit: the parts, in a mapping of the file */
	const unsigned char *map;
	size_t maplen;
	const unsigned char *part[DWCACHE_MAX_PARTS];
	size_t len[DWCACHE_MAX_PARTS];
	unsigned nparts;
};

/* Look the executable open on fd (described by st) up.  Returns true with
 * c's parts set on a hit; false on a miss (c then says where to store, or
 * that there is no cache).  Call dwcache_close in either case. */
bool dwcache_open(struct dwcache *c, const struct stat *st);

/* The hit's parts did not make a model: forget the file. */
void dwcache_drop(struct dwcache *c);

/* Keep n parts for next time; false when they were not kept (no cache, or
 * an error: a cache is optional). */
bool dwcache_store(struct dwcache *c, const unsigned char *const *part, const size_t *len,
		   unsigned n);

void dwcache_close(struct dwcache *c);

#endif
