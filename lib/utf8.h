/* Decoding UTF-8 from untrusted bytes: the one decoder for key rendering
 * (lib/keys.c) and for escaping names (formats/). */
#ifndef MAPSCAN_UTF8_H
#define MAPSCAN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1-4, within n > 0 bytes) and
 * its code point, or 0 if s starts with a byte that is not one (overlong,
 * surrogate, beyond U+10FFFF, cut).  A NUL ends a sequence, so a
 * NUL-terminated string may be given n = SIZE_MAX. */
static inline int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return (int)len;
}

#endif
