/* mapscan: report Go maps that keep empty storage alive.
 *
 * The only place that prints errors and decides exit statuses (documented in
 * man/mapscan.1, EXIT STATUS). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "format.h"

static const char usage_text[] =
	"usage: mapscan [options] CORE\n"
	"\n"
	"Report the Go maps in a core dump whose storage is retained but empty.\n"
	"Go maps never shrink: after delete() or clear() the buckets stay allocated.\n"
	"mapscan finds every map reachable from the program's global variables and\n"
	"shows, per map, how much memory it holds and how much a fresh map with the\n"
	"same entries would need.\n"
	"\n"
	"options:\n"
	"  --exe PATH              the executable that produced the core (default:\n"
	"                          the one the core names, checked to match)\n"
	"  --json                  print one JSON document (schema: docs/json.md)\n"
	"  --top N                 show the N maps with most reclaimable bytes\n"
	"                          (text default 20, JSON default all; 0 = all)\n"
	"  --min-reclaimable SIZE  hide maps with less reclaimable (e.g. 64K, 1M)\n"
	"  --sort KEY              reclaimable (default), retained, count, type, path\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"exit status: 0 ok, 1 internal error, 2 usage, 3 cannot read a file,\n"
	"4 not an ELF core or truncated, 5 not a Go program, 6 no DWARF,\n"
	"7 executable does not match the core.  See mapscan(1).\n";

static bool json_mode;

/* One line on stderr (or one JSON document on stdout) and the exit status. */
static int fail(int code, const char *msg)
{
	if (json_mode) {
		format_json_error(stdout, code, ms_code_name(code), msg);
		fflush(stdout);
	} else {
		char *safe = format_escape(msg, ESCAPE_TEXT);
		fprintf(stderr, "mapscan: %s\n", safe ? safe : msg);
		free(safe);
	}
	return code;
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, arg);
	strncat(msg, " (see mapscan --help)", sizeof(msg) - strlen(msg) - 1);
	return fail(MS_EUSAGE, msg);
}

int main(int argc, char **argv)
{
	enum { OPT_EXE = 256, OPT_JSON, OPT_TOP, OPT_MIN, OPT_SORT };
	static const struct option longopts[] = {
		{ "exe", required_argument, NULL, OPT_EXE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "min-reclaimable", required_argument, NULL, OPT_MIN },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 },
	};
	const char *exe = NULL;
	struct format_opts fo = { .top = 20, .sort = SORT_RECLAIMABLE };
	bool top_given = false;
	const char *bad = NULL, *badfmt = NULL;

	/* --json changes how errors are shown, so find it before anything can fail. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			json_mode = true;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_EXE:
			exe = optarg;
			break;
		case OPT_JSON:
			break;
		case OPT_TOP: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || optarg[0] == '-') {
				bad = optarg;
				badfmt = "--top needs a number of maps, not '%s'";
			}
			fo.top = (size_t)v;
			top_given = true;
			break;
		}
		case OPT_MIN:
			if (parse_size(optarg, &fo.min_reclaimable)) {
				bad = optarg;
				badfmt = "--min-reclaimable needs a size like 4096, 64K or 1.5M, not '%s'";
			}
			break;
		case OPT_SORT:
			if (parse_sort_key(optarg, &fo.sort)) {
				bad = optarg;
				badfmt = "--sort takes reclaimable, retained, count, type or path, not '%s'";
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) || ferror(stdout) ? MS_EINTERNAL : 0;
		case 'V':
			printf("mapscan %s\n", MAPSCAN_VERSION);
			return fflush(stdout) || ferror(stdout) ? MS_EINTERNAL : 0;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (bad)
			return usage_error(badfmt, bad);
	}
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "no core file given: mapscan [options] CORE"
							: "give exactly one core file");
	if (json_mode && !top_given)
		fo.top = 0;

	struct report r;
	struct ms_error err = { 0, "" };
	if (analyze_core(argv[optind], exe, NULL, &r, &err))
		return fail(err.code ? err.code : MS_EINTERNAL, err.msg[0] ? err.msg : "analysis failed");
	int rc = json_mode ? format_json(stdout, &r, &fo) : format_text(stdout, &r, &fo);
	report_free(&r);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mapscan: cannot write the report: %s\n", strerror(errno));
		return MS_EINTERNAL;
	}
	return 0;
}
