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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

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
	fputs("# EOF\n", out);
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
