/* A tiny unit-test helper, header only.
 *
 *   CHECK(cond);                  counts a pass, or prints file:line and
 *                                 the failed condition
 *   CHECK_MSG(cond, fmt, ...);    the same, with a printf-style detail
 *   CHECK_EQ_U64(a, b);           compares two integers, prints both
 *   CHECK_STR(a, b);              compares two strings (NULL-safe)
 *   CHECK_CONTAINS(hay, needle);  strstr, prints the haystack on failure
 *   UNIT_SKIP(fmt, ...);          prints "skip: ..." (not a failure)
 *   return unit_done();           prints "N passed, M failed" on a line
 *                                 of its own; 0 when nothing failed
 *
 * Include it from exactly one translation unit per test program. */
#ifndef MAPSCAN_UNIT_H
#define MAPSCAN_UNIT_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned unit_passed, unit_failed;

static inline int unit_check(int ok, const char *file, int line,
			     const char *expr)
{
	if (ok) {
		unit_passed++;
	} else {
		unit_failed++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

#define CHECK(cond) unit_check(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_MSG(cond, ...)                                             \
	do {                                                             \
		if (!unit_check(!!(cond), __FILE__, __LINE__, #cond)) {  \
			fprintf(stderr, "    ");                         \
			fprintf(stderr, __VA_ARGS__);                    \
			fprintf(stderr, "\n");                           \
		}                                                        \
	} while (0)

#define CHECK_EQ_U64(a, b)                                               \
	do {                                                             \
		uint64_t unit_a_ = (uint64_t)(a), unit_b_ = (uint64_t)(b); \
		CHECK_MSG(unit_a_ == unit_b_, "%s = %" PRIu64 " (0x%" PRIx64 \
			  "), %s = %" PRIu64 " (0x%" PRIx64 ")", #a,     \
			  unit_a_, unit_a_, #b, unit_b_, unit_b_);       \
	} while (0)

#define CHECK_STR(a, b)                                                  \
	do {                                                             \
		const char *unit_a_ = (a), *unit_b_ = (b);               \
		CHECK_MSG(unit_a_ && unit_b_ && strcmp(unit_a_, unit_b_) == 0, \
			  "%s = \"%s\", %s = \"%s\"", #a,                \
			  unit_a_ ? unit_a_ : "(null)", #b,              \
			  unit_b_ ? unit_b_ : "(null)");                 \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                      \
	do {                                                             \
		const char *unit_h_ = (hay), *unit_n_ = (needle);        \
		CHECK_MSG(unit_h_ && strstr(unit_h_, unit_n_),           \
			  "\"%s\" does not contain \"%s\"",              \
			  unit_h_ ? unit_h_ : "(null)", unit_n_);        \
	} while (0)

#define UNIT_SKIP(...)                                                   \
	do {                                                             \
		fprintf(stderr, "skip: ");                               \
		fprintf(stderr, __VA_ARGS__);                            \
		fprintf(stderr, "\n");                                   \
	} while (0)

static inline int unit_done(void)
{
	printf("%u passed, %u failed\n", unit_passed, unit_failed);
	fflush(stdout);
	return unit_failed ? 1 : 0;
}

#endif
