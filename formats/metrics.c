/* The metrics formatter: the report's totals (and its biggest owner
 * groups) as OpenMetrics text, for Prometheus and the node_exporter
 * textfile collector.
 *
 * Every family is a gauge: each file describes one snapshot.  No sample
 * carries a timestamp (the collector stamps them).  Cardinality is
 * bounded: the totals have no labels, one info series names the source,
 * and only the METRICS_GROUPS groups with most reclaimable bytes get a
 * series.  Label values come from the core and are escaped as OpenMetrics
 * requires (\\, \" and \n; bytes that are not UTF-8 as the text \xNN).
 * Prometheus's own text parser (node_exporter's) reads the same file: it
 * takes "# UNIT" and "# EOF" for comments. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* Owner groups that get series of their own: the dashboards' "where" at a
 * bounded cost (4 series each), whatever the number of groups. */
#define METRICS_GROUPS 20

/* A label value: escaped, quoted. */
static void put_label(FILE *out, const char *name, const char *value, int *failed)
{
	char *esc = format_escape(value ? value : "", ESCAPE_JSON);

	if (!esc) {
		*failed = 1;
		return;
	}
	fprintf(out, "%s=\"", name);
	for (const char *p = esc; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out), fputc(*p, out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
	free(esc);
}

static void family(FILE *out, const char *name, const char *unit, const char *help)
{
	fprintf(out, "# TYPE %s gauge\n", name);
	if (unit)
		fprintf(out, "# UNIT %s %s\n", name, unit);
	fprintf(out, "# HELP %s %s\n", name, help);
}

/* Most reclaimable first, then most retained; then by name, so that
 * equal groups come in the same order every run. */
static int group_cmp(const void *a, const void *b)
{
	const struct map_group *x = *(const struct map_group *const *)a;
	const struct map_group *y = *(const struct map_group *const *)b;
	int c;

	if (x->reclaimable_bytes != y->reclaimable_bytes)
		return x->reclaimable_bytes > y->reclaimable_bytes ? -1 : 1;
	if (x->retained_bytes != y->retained_bytes)
		return x->retained_bytes > y->retained_bytes ? -1 : 1;
	if ((c = strcmp(x->pattern ? x->pattern : "", y->pattern ? y->pattern : "")))
		return c;
	return strcmp(x->type ? x->type : "", y->type ? y->type : "");
}

/* One family over the chosen groups; which figure of a group by offset. */
static void group_family(FILE *out, const char *name, const char *unit, const char *help,
			 const struct map_group *const *sel, size_t n, size_t field, int *failed)
{
	family(out, name, unit, help);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, (const char *)sel[i] + field, sizeof(v));
		fprintf(out, "%s{", name);
		put_label(out, "pattern", sel[i]->pattern, failed);
		fputc(',', out);
		put_label(out, "type", sel[i]->type, failed);
		fprintf(out, "} %" PRIu64 "\n", v);
	}
}

static void total(FILE *out, const char *name, const char *unit, const char *help, uint64_t v)
{
	family(out, name, unit, help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

int format_metrics(FILE *out, const struct report *r)
{
	int failed = 0;

	family(out, "mapscan_info", NULL,
	       "What was analysed: always 1, the labels say it.");
	fputs("mapscan_info{", out);
	put_label(out, "version", MAPSCAN_VERSION, &failed);
	fputc(',', out);
	put_label(out, "source", r->source, &failed);
	fputc(',', out);
	put_label(out, "kind", r->source_kind, &failed);
	fputc(',', out);
	put_label(out, "executable", r->executable, &failed);
	fputc(',', out);
	put_label(out, "go_version", r->go_version ? r->go_version : "unknown", &failed);
	fputc(',', out);
	put_label(out, "map_layout", layout_name(r->layout), &failed);
	fputs("} 1\n", out);

	total(out, "mapscan_reclaimable_bytes", "bytes",
	      "Map storage that rebuilding the maps something reaches would give back.",
	      r->total_reclaimable);
	total(out, "mapscan_retained_bytes", "bytes",
	      "Map storage the maps something reaches keep alive.", r->total_retained);
	total(out, "mapscan_maps", NULL, "Maps something reaches.", r->nmaps - r->unreachable_maps);
	total(out, "mapscan_entries", NULL, "Entries in the maps something reaches.", r->total_count);
	total(out, "mapscan_unreachable_maps", NULL,
	      "Maps nothing reaches (garbage not yet freed), not in the totals.", r->unreachable_maps);
	total(out, "mapscan_unreachable_retained_bytes", "bytes",
	      "Map storage the maps nothing reaches hold.", r->unreachable_retained);
	if (r->heap_known)
		total(out, "mapscan_heap_inuse_bytes", "bytes",
		      "Bytes of in-use heap spans (runtime.MemStats.HeapInuse).", r->heap_in_use);

	/* The groups something reaches (lib/group.h), the biggest first. */
	const struct map_group **sel = NULL;
	size_t nreach = 0;
	if (r->ngroups && !(sel = malloc(r->ngroups * sizeof(*sel))))
		failed = 1;
	for (size_t i = 0; sel && i < r->ngroups; i++)
		if (!r->groups[i].unreachable)
			sel[nreach++] = &r->groups[i];
	if (nreach)
		qsort(sel, nreach, sizeof(*sel), group_cmp);
	size_t n = nreach < METRICS_GROUPS ? nreach : METRICS_GROUPS;
	total(out, "mapscan_groups", NULL,
	      "Owner groups (types with --group type) of maps something reaches.", nreach);
	group_family(out, "mapscan_group_reclaimable_bytes", "bytes",
		     "Reclaimable bytes of the biggest owner groups (20 at most).", sel, n,
		     offsetof(struct map_group, reclaimable_bytes), &failed);
	group_family(out, "mapscan_group_retained_bytes", "bytes",
		     "Retained bytes of the same groups.", sel, n,
		     offsetof(struct map_group, retained_bytes), &failed);
	group_family(out, "mapscan_group_maps", NULL, "Maps in the same groups.", sel, n,
		     offsetof(struct map_group, maps), &failed);
	group_family(out, "mapscan_group_entries", NULL, "Entries in the same groups.", sel, n,
		     offsetof(struct map_group, count), &failed);
	free(sel);
	fputs("# EOF\n", out);
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
