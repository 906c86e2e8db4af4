/* Owner groups: the maps of a report held the same way, summed.
 *
 * A service rarely wastes memory in one map: it wastes it in ten thousand
 * small maps that all hang off the same place (one per tenant, per shard,
 * per connection).  A group is every map whose first path has the same
 * pattern -- the path with array and slice indices, map values, channel
 * buffer positions, goroutine ids and stack addresses collapsed -- and the
 * same type:
 *
 *   main.Tenants[3].sessions                     main.Tenants[*].sessions
 *   goroutine 17 (main.worker) → local seen      goroutine * (main.worker) → local seen
 *
 * Groups are computed once, here in the report layer, and every formatter
 * reads them.  Maps nothing reaches are grouped apart (by type), never
 * with reachable ones. */
#ifndef MAPSCAN_GROUP_H
#define MAPSCAN_GROUP_H

#include <stddef.h>

#include "report.h"

/* Write the owner pattern of path into out (size n > 0; cut to fit, always
 * terminated).  Indices inside a type name ("(*[4]main.T)") are part of
 * the type and stay.  Returns the length written. */
size_t group_pattern(const char *path, char *out, size_t n);

/* Past the bracket, brace or parenthesis that opens at s[0], within
 * s[0..n) or up to its end: nested ones and quoted strings (a map key's)
 * skipped whole.  0 when it does not close.  Paths' keys ["a]\"b"] and
 * tree descents {.left} are read with it here and in the pprof frames. */
size_t group_close(const char *s, size_t n);

/* Group the maps of r by `by` (GROUP_NONE drops any grouping).  Fills
 * r->groups, in the order the maps of r first meet them (formatters sort
 * them as they show them), and every map's group.  Patterns and types are
 * interned in the report's pool.  One pass over the maps.  Returns 0, or
 * -1 with errno ENOMEM (r then has no groups). */
int report_group(struct report *r, enum group_by by);

/* "owner", "type", "none"; parse returns -1 for anything else. */
const char *group_by_name(enum group_by by);
int parse_group_by(const char *s, enum group_by *out);

#endif
