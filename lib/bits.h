/* Arithmetic every layer shares: sums of figures read from untrusted
 * memory, which saturate rather than wrap, and the 64-bit mixer the hash
 * tables use (MurmurHash3's finalizer: every input bit reaches every
 * output bit, so a table may index by the low bits). */
#ifndef MAPSCAN_BITS_H
#define MAPSCAN_BITS_H

#include <stdint.h>

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif
