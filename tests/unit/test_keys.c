/* Sample keys (lib/keys.c): strings quoted and floats printed exactly as
 * Go's strconv does (every expected string below is what Go 1.26 prints),
 * and the bounds a key from an untrusted core is held to.  Keys read
 * through DWARF are checked end to end on real cores (tests/e2e/run.py,
 * the service fixture). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "report.h"

#include "unit.h"

static void check_quote(const char *in, size_t n, const char *want)
{
	char out[512];

	key_quote((const unsigned char *)in, n, out, sizeof(out));
	CHECK_MSG(strcmp(out, want) == 0, "key_quote -> %s, Go says %s", out, want);
}

#define Q(s, want) check_quote(s, sizeof(s) - 1, want)

static void test_quote(void)
{
	Q("", "\"\"");
	Q("tenant-17", "\"tenant-17\"");
	Q("a\"b\\c", "\"a\\\"b\\\\c\"");
	Q("tab\there\nnl\r\x00\x07\x7f", "\"tab\\there\\nnl\\r\\x00\\a\\x7f\"");
	Q("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\"");
	Q("\xff\xfeok", "\"\\xff\\xfeok\"");
	Q("zw\xe2\x80\x8bsp\xc2\xa0nb\xe2\x80\xaeRLO", "\"zw\\u200bsp\\u00a0nb\\u202eRLO\"");
	Q("\xc2\x85" "c1", "\"\\u0085c1\"");
	Q("\xf3\xa0\x81\x81tag", "\"\\U000e0041tag\"");
	Q("emoji \xf0\x9f\x98\x80", "\"emoji \xf0\x9f\x98\x80\"");
	Q("\xe2\x82", "\"\\xe2\\x82\"");
	Q("private \xee\x80\x80", "\"private \\ue000\"");

	/* Cut to fit on a whole escape, the closing quote kept. */
	char out[8];
	CHECK(key_quote((const unsigned char *)"abcdefgh", 8, out, sizeof(out)) == 7);
	CHECK(strcmp(out, "\"abcde\"") == 0);
	CHECK(key_quote((const unsigned char *)"\n\n\n", 3, out, sizeof(out)) == 6);
	CHECK(strcmp(out, "\"\\n\\n\"") == 0);
	char tiny[2];
	CHECK(key_quote((const unsigned char *)"x", 1, tiny, sizeof(tiny)) == 0 && !tiny[0]);
}

static void check_float(double v, int bits, const char *want)
{
	char out[64];

	key_float(v, bits, out, sizeof(out));
	CHECK_MSG(strcmp(out, want) == 0, "key_float(%.17g, %d) = %s, Go says %s", v, bits, out,
		  want);
}

static void test_float(void)
{
	check_float(0, 64, "0");
	check_float(1, 64, "1");
	check_float(-1, 64, "-1");
	check_float(0.5, 64, "0.5");
	check_float(3.14, 64, "3.14");
	check_float(1e6, 64, "1e+06");
	check_float(123456, 64, "123456");
	check_float(1234567, 64, "1.234567e+06");
	check_float(1e21, 64, "1e+21");
	check_float(1e-4, 64, "0.0001");
	check_float(1e-5, 64, "1e-05");
	check_float(0.000123, 64, "0.000123");
	check_float(100, 64, "100");
	check_float(2.5e-10, 64, "2.5e-10");
	check_float(1.7976931348623157e308, 64, "1.7976931348623157e+308");
	check_float(5e-324, 64, "5e-324");
	check_float(INFINITY, 64, "+Inf");
	check_float(-INFINITY, 64, "-Inf");
	check_float(NAN, 64, "NaN");
	check_float(-0.0, 64, "-0");
	check_float(1.0 / 3, 64, "0.3333333333333333");
	check_float(0.1f, 32, "0.1");
	check_float(1.0f / 3, 32, "0.33333334");
	check_float(16777216.0f, 32, "1.6777216e+07");
	check_float(3.4e38f, 32, "3.4e+38");
	check_float(1e-7f, 32, "1e-07");
}

static void test_sample_and_model(void)
{
	struct key_sample s = { { 0 }, 0 };

	key_sample_add(&s, 0);          /* unreadable: not a key */
	for (uint64_t a = 1; a <= 5; a++)
		key_sample_add(&s, 0x1000 * a);
	CHECK(s.n == KEYS_MAX && s.addr[0] == 0x1000 && s.addr[2] == 0x3000);

	/* Keys live in the report's arena, NUL-separated. */
	struct report r = { 0 };
	struct map_entry *m = report_add_map(&r, 0x10);
	const char *k = report_keep(&r, "\"a\"\0" "42\0" "{\"b\", 3}", 16);
	CHECK(k != NULL);
	m->sample_keys = k;
	m->nsample_keys = 3;
	CHECK(strcmp(map_sample_key(m, 0), "\"a\"") == 0);
	CHECK(strcmp(map_sample_key(m, 1), "42") == 0);
	CHECK(strcmp(map_sample_key(m, 2), "{\"b\", 3}") == 0);
	/* Many small pieces, more than one arena chunk. */
	char big[1000];
	memset(big, 'x', sizeof(big));
	const char *last = NULL;
	for (int i = 0; i < 200; i++)
		last = report_keep(&r, big, sizeof(big));
	CHECK(last && last[999] == 'x' && strcmp(map_sample_key(m, 1), "42") == 0);
	report_free(&r);
}

int main(void)
{
	test_quote();
	test_float();
	test_sample_and_model();
	return unit_done();
}
