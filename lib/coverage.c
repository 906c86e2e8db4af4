/* See coverage.h.
 *
 * What mapscan reads lies in two places: the executable's writable
 * segments (the package-level variables, the runtime's among them) and
 * the heap arenas, which hold every heap object and every goroutine stack.
 * The arenas are listed by runtime.mheap_.heapArenas (allArenas before Go
 * 1.25): the core
 * lacks part of them when a segment there is shorter in the file than in
 * memory. */
#include <inttypes.h>
#include <stdio.h>

#include "coverage.h"

/* Arenas are 64 MiB on linux/amd64 and arm64 in every Go release mapscan
 * reads (runtime/malloc.go), numbered from the architecture's
 * arenaBaseOffset (lib/arch.h). */
#define HEAP_ARENA_BYTES (64ull << 20)
#define MAX_ARENAS (1u << 22)      /* 256 TiB of heap: beyond is damage */

#define FILTER_FIX "take the core again with coredump_filter 0x33 (the default: " \
	"echo 0x33 > /proc/PID/coredump_filter before it is written) or with gcore"

static const char *size_text(uint64_t v, char buf[32])
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, 32, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, 32, d >= 10 ? "%.0f %s" : "%.1f %s", d, unit[u]);
	return buf;
}

/* A core cut short: what was cut, and what to do (the writer hit a size
 * limit or the disk filled). */
#define CUT_FIX "raise the limit that cut it (ulimit -c; systemd-coredump's " \
	"ProcessSizeMax= and ExternalSizeMax= in coredump.conf; the disk's free space) " \
	"and take the core again"

static const char *cut_text(const struct target *t, char buf[96], uint64_t *missing)
{
	uint64_t present, need = target_core_cut(t, &present);
	char a[32], b[32];
	if (missing)
		*missing = need - present;
	if (!need)
		return NULL;
	snprintf(buf, 96, "the core file is cut short (%s of the %s its headers call for)",
		 size_text(present, a), size_text(need, b));
	return buf;
}

int coverage_check(const struct target *t, const struct gtypes *g, struct ms_error *err)
{
	uint64_t total, missing = target_exe_data_missing(t, &total);
	const struct gvar *mh = gtypes_var(g, "runtime.mheap_");
	const struct gtype *mt = mh ? gtypes_get(g, gtypes_resolve(g, mh->type)) : NULL;
	char a[32], c[96];
	const char *cut = cut_text(t, c, NULL);

	if (total && missing == total)
		return ms_err(err, MS_EEMPTY, "%s: the core holds none of the program's memory (not "
			      "one byte of its %s of variables, so no heap and no goroutine either: "
			      "%s); %s", target_source_path(t), size_text(total, a),
			      cut ? cut : "coredump_filter left them out, or the segments were "
			      "written empty", cut ? CUT_FIX : FILTER_FIX);
	/* The runtime's heap record is in .bss: without it nothing is found. */
	if (mt && mt->size && !target_dumped(t, mh->addr + target_exe_bias(t), mt->size))
		return ms_err(err, MS_EEMPTY, "%s: the core holds none of the memory mapscan reads "
			      "(not the runtime's heap record runtime.mheap_, so no heap and no "
			      "goroutine either; %s); %s", target_source_path(t),
			      cut ? cut : "coredump_filter left anonymous memory out",
			      cut ? CUT_FIX : FILTER_FIX);
	return 0;
}

/* Bytes of the heap arenas the core lacks, out of *total; -1 if the arena
 * list cannot be read. */
static int64_t arenas_missing(const struct target *t, const struct gtypes *g, uint64_t *total)
{
	const struct gvar *mh = gtypes_var(g, "runtime.mheap_");
	/* Go 1.25 renamed allArenas heapArenas. */
	const struct gmember *m = mh ? gtypes_member(g, mh->type, "heapArenas") : NULL;
	if (mh && !m)
		m = gtypes_member(g, mh->type, "allArenas");
	const struct gtype *st = m ? gtypes_get(g, gtypes_resolve(g, m->type)) : NULL;
	const struct gtype *et = st && st->kind == GK_SLICE ? gtypes_get(g, gtypes_resolve(g, st->elem))
							    : NULL;
	unsigned char hdr[16];
	uint64_t lost = 0;

	*total = 0;
	if (!et || et->size == 0 || et->size > 8 ||
	    target_read(t, mh->addr + target_exe_bias(t) + m->offset, hdr, sizeof(hdr)))
		return -1;
	uint64_t base = le64(hdr), n = le64(hdr + 8);
	if (n > MAX_ARENAS)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		unsigned char b[8];
		if (target_read(t, base + i * et->size, b, et->size))
			return -1;
		uint64_t lo = le_u(b, et->size) * HEAP_ARENA_BYTES + target_arch(t)->arena_base_offset;
		*total += HEAP_ARENA_BYTES;
		lost += target_missing(t, lo, HEAP_ARENA_BYTES);
	}
	return (int64_t)lost;
}

int coverage_report(const struct target *t, const struct gtypes *g, struct report *r)
{
	uint64_t total, data = target_exe_data_missing(t, &total), heap_total;
	int64_t heap = target_pid(t) ? 0 : arenas_missing(t, g, &heap_total);
	char a[32], b[32], c[32], d[32], e[96];
	uint64_t cut_bytes;
	const char *cut = cut_text(t, e, &cut_bytes);

	/* Cut short, the core may lack the runtime's own records (spans,
	 * goroutines) outside what is counted here: partial in any case. */
	if (!data && heap <= 0 && !cut)
		return 0;
	r->partial = true;
	r->missing_bytes = data + (heap > 0 ? (uint64_t)heap : 0);
	r->cut_bytes = cut_bytes;
	if (!data && heap <= 0)
		return report_add_warning(r, "%s: the program's variables and heap arenas are all "
					  "there, but the runtime's records past the cut (spans, "
					  "goroutines) may not be, so maps may be missing; " CUT_FIX,
					  cut);
	if (heap >= 0)
		return report_add_warning(r, "the core lacks %s of the memory mapscan reads: %s of "
					  "the program's %s of variables, %s of its heap arenas "
					  "(heap objects and goroutine stacks)%s%s; maps held there are "
					  "not reported and totals are low; %s",
					  size_text(r->missing_bytes, a), size_text(data, b),
					  size_text(total, c), size_text((uint64_t)heap, d),
					  cut ? ": " : "", cut ? cut : "", cut ? CUT_FIX : FILTER_FIX);
	return report_add_warning(r, "the core lacks %s of the program's %s of variables (so "
				  "its heap arenas cannot be listed)%s%s; maps held there are not "
				  "reported and totals are low; %s", size_text(data, a),
				  size_text(total, b), cut ? ": " : "", cut ? cut : "",
				  cut ? CUT_FIX : FILTER_FIX);
}
