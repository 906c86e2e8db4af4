/* Arithmetic every layer shares: sums of figures read from untrusted
 * memory, which saturate rather than wrap, and the 64-bit mixer the hash
 * tables use (MurmurHash3's finalizer: every input bit reaches every
 * output bit, so a table may index by the low bits), and decimal digits
 * written without printf (a million maps' numbers). */
#ifndef MAPSCAN_BITS_H
#define MAPSCAN_BITS_H

#include <stddef.h>
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

/* v in decimal at out (room for 20 digits), not terminated; returns the
 * number of digits. */
static inline size_t u64_dec(char *out, uint64_t v)
{
	char b[20];
	size_t n = 0;
	do
		b[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		out[i] = b[n - 1 - i];
	return n;
}

#endif
