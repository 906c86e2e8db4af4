/* Growing an array in place: the one idiom every table in lib/ uses. */
#ifndef MAPSCAN_GROW_H
#define MAPSCAN_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Make room for at least `need` elements of elsize bytes in *arr, whose
 * capacity is *cap, doubling from `first`.  Returns 0, or -1 when memory
 * runs out or the size would overflow (then *arr and *cap are untouched). */
static inline int grow_array(void **arr, size_t *cap, size_t need, size_t elsize, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : first;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -1;
		nc *= 2;
	}
	if (nc > SIZE_MAX / elsize)
		return -1;
	void *p = realloc(*arr, nc * elsize);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

#endif
