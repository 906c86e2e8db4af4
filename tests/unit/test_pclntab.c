/* Unit tests for lib/pclntab.c's pcvalue decoder (the tables themselves
 * are read from real binaries by tests/e2e/stripped.py). */
#include "pclntab.h"
#include "unit.h"

int main(void)
{
	struct gcfa_row rows[8];

	/* value 0 for 4 bytes, 8 for 10, 0 for 2: deltas +1 (from the
	 * initial -1), +8, -8 in zig-zag (2, 16, 15), pc deltas 4, 10, 2. */
	const uint8_t t[] = { 2, 4, 16, 10, 15, 2, 0 };
	int n = pclntab_pcvalue(t, sizeof t, 16, 1, rows, 8);
	CHECK_EQ_U64(n, 3);
	if (n == 3) {
		CHECK_EQ_U64(rows[0].pc, 0);
		CHECK_EQ_U64(rows[0].off, 0);
		CHECK_EQ_U64(rows[1].pc, 4);
		CHECK_EQ_U64(rows[1].off, 8);
		CHECK_EQ_U64(rows[2].pc, 14);
		CHECK_EQ_U64(rows[2].off, 0);
	}
	/* Multi-byte varints: a frame of 200 bytes from pc 300 on. */
	const uint8_t big[] = { 2, 0xac, 0x02, 0x90, 0x03, 10, 0 };
	n = pclntab_pcvalue(big, sizeof big, 310, 1, rows, 8);
	CHECK_EQ_U64(n, 2);
	if (n == 2) {
		CHECK_EQ_U64(rows[1].pc, 300);
		CHECK_EQ_U64(rows[1].off, 200);
	}
	/* Malformed: runs past the code, no end, too many rows, a varint
	 * cut short. */
	const uint8_t past[] = { 2, 40, 0 };
	CHECK(pclntab_pcvalue(past, sizeof past, 16, 1, rows, 8) == -1);
	const uint8_t noend[] = { 2, 4, 16, 2 };
	CHECK(pclntab_pcvalue(noend, sizeof noend, 16, 1, rows, 8) == -1);
	CHECK(pclntab_pcvalue(t, sizeof t, 16, 1, rows, 2) == -1);
	const uint8_t cut[] = { 2, 0x84 };
	CHECK(pclntab_pcvalue(cut, sizeof cut, 16, 1, rows, 8) == -1);
	return unit_done();
}
