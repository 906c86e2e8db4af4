/* Diffs: what changed between two reports of the same program.
 *
 * Addresses mean nothing from one process to the next, and neither do the
 * indices of a tenant or the id of a goroutine; what stays is where the
 * maps hang: their owner groups (lib/group.h).  A diff matches the groups
 * of two reports by pattern and type and keeps those whose maps, entries,
 * retained or reclaimable bytes changed, the largest change of
 * reclaimable bytes first.  "What grew since yesterday's core."
 *
 * Either report may come from a core or from a JSON report read back
 * (formats/format.h report_read_json): a diff reads only their groups.
 * Maps nothing reaches are left out, as they are of the reports' totals. */
#ifndef MAPSCAN_DIFF_H
#define MAPSCAN_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "report.h"

enum diff_side { DIFF_OLD = 0, DIFF_NEW = 1 };

/* One owner group in either report or both; [DIFF_OLD] and [DIFF_NEW]
 * its figures there (0 where it is not). */
struct diff_group {
	const char *pattern;     /* NULL when grouped by type; borrowed from a report */
	const char *type;        /* NULL if unknown; borrowed from a report */
	bool in[2];              /* the group is in that report */
	uint64_t maps[2], count[2], retained_bytes[2], reclaimable_bytes[2];
};

struct diff {
	enum group_by by;        /* how both reports were grouped */
	struct diff_group *groups; /* the groups that changed, sorted; owned */
	size_t ngroups;
	size_t nunchanged;       /* groups in both with the same figures */
	/* Over the reachable groups of each report: its totals. */
	uint64_t maps[2], count[2], retained_bytes[2], reclaimable_bytes[2];
};

/* Compare the groups of two grouped reports, which must outlive d (the
 * names are theirs).  Returns 0, or -1 with err filled: MS_EUSAGE when
 * they are grouped differently or not at all, MS_EINTERNAL when memory
 * ran out. */
int diff_reports(struct diff *d, const struct report *old, const struct report *new,
		 struct ms_error *err);

/* new - old, clamped to the range of int64_t. */
int64_t diff_delta(uint64_t old, uint64_t new);

void diff_free(struct diff *d);  /* frees contents, not d; NULL is fine */

#endif
