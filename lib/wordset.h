/* A set of nonzero 64-bit words: open addressing, kept at most half full,
 * doubled as it grows.  What is visited once (a goroutine's stack by its
 * top, an (address, type) pair packed in a word) is recorded here. */
#ifndef MAPSCAN_WORDSET_H
#define MAPSCAN_WORDSET_H

#include <stdint.h>
#include <stdlib.h>

#include "bits.h"

struct wordset {
	uint64_t *w;              /* 0: a free slot */
	size_t cap, n;
};

/* 1 if w (nonzero) was added, 0 if it was there, -1 when memory ran out. */
static inline int wordset_add(struct wordset *s, uint64_t w)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		uint64_t *nw = calloc(nc, sizeof(*nw));
		if (!nw)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->w[i])
				continue;
			size_t h = mix64(s->w[i]) & (nc - 1);
			while (nw[h])
				h = (h + 1) & (nc - 1);
			nw[h] = s->w[i];
		}
		free(s->w);
		s->w = nw;
		s->cap = nc;
	}
	size_t h = mix64(w) & (s->cap - 1);
	while (s->w[h]) {
		if (s->w[h] == w)
			return 0;
		h = (h + 1) & (s->cap - 1);
	}
	s->w[h] = w;
	s->n++;
	return 1;
}

static inline void wordset_free(struct wordset *s)
{
	free(s->w);
	s->w = NULL;
	s->cap = s->n = 0;
}

#endif
