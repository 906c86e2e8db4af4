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
#include "tui.h"

static const char usage_text[] =
	"usage: mapscan [options] CORE\n"
	"       mapscan [options] --pid PID\n"
	"\n"
	"Report the Go maps in a core dump or a running process whose storage is\n"
	"retained but empty.  Go maps never shrink: after delete() or clear() the\n"
	"buckets stay allocated.  mapscan finds every map in the program's heap and\n"
	"stacks and shows, per map, who holds it (a variable, a goroutine's local,\n"
	"a path through interfaces, closures or untyped memory), how much memory it\n"
	"holds and how much a fresh map with the same entries would need.  Maps\n"
	"nothing reaches (garbage not yet freed) are listed apart.\n"
	"\n"
	"options:\n"
	"  --exe PATH              the executable that produced the core (default:\n"
	"                          the one the core names, checked to match), or\n"
	"                          an unstripped copy or rebuild of it\n"
	"  --debug-file PATH       read DWARF from PATH (a debug file or unstripped\n"
	"                          build of the same program; default: the\n"
	"                          executable, its .gnu_debuglink, or\n"
	"                          /usr/lib/debug/.build-id/)\n"
	"  --pid PID               analyse the running process PID instead of a core;\n"
	"                          it is stopped only while mapscan reads it\n"
	"  --no-stop               with --pid: never stop the process; maps that change\n"
	"                          while it is read are flagged\n"
	"  --max-pause SECONDS     with --pid: resume the process after this long even\n"
	"                          if mapscan has not finished (default 10, none with\n"
	"                          --save-core; 0 = none)\n"
	"  --save-core FILE        with --pid: also write a core file of the process,\n"
	"                          as it was while stopped, to FILE\n"
	"  --json                  print one JSON document (schema: docs/json.md)\n"
	"  --top N                 show the N maps with most reclaimable bytes\n"
	"                          (text default 20, JSON default all; 0 = all)\n"
	"  --min-reclaimable SIZE  hide maps with less reclaimable (e.g. 64K, 1M)\n"
	"  --sort KEY              reclaimable (default), retained, count, type, path\n"
	"  --tui                   browse the maps and their storage interactively\n"
	"                          (press ? in it for the keys)\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"exit status: 0 ok, 1 internal error, 2 usage, 3 cannot read a file,\n"
	"4 not an ELF core or truncated, 5 not a Go program, 6 no DWARF,\n"
	"7 executable does not match the core, 8 the process is gone or cannot be\n"
	"stopped, 9 not allowed to read the process.  See mapscan(1).\n";

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
	enum { OPT_EXE = 256, OPT_JSON, OPT_TOP, OPT_MIN, OPT_SORT, OPT_TUI };
	enum { OPT_PID = 300, OPT_NOSTOP, OPT_SAVE, OPT_MAXPAUSE };
	enum { OPT_DEBUG = 400 };
	static const struct option longopts[] = {
		{ "exe", required_argument, NULL, OPT_EXE },
		{ "debug-file", required_argument, NULL, OPT_DEBUG },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "no-stop", no_argument, NULL, OPT_NOSTOP },
		{ "save-core", required_argument, NULL, OPT_SAVE },
		{ "max-pause", required_argument, NULL, OPT_MAXPAUSE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "min-reclaimable", required_argument, NULL, OPT_MIN },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "tui", no_argument, NULL, OPT_TUI },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 },
	};
	const char *exe = NULL, *debug_file = NULL;
	struct format_opts fo = { .top = 20, .sort = SORT_RECLAIMABLE };
	bool top_given = false, tui = false;
	const char *bad = NULL, *badfmt = NULL;
	long pid = 0;
	bool live_opt = false;  /* an option that needs --pid */
	bool pause_given = false;
	struct analyze_opts po = { .max_pause_ns = 10000000000ull };

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
		case OPT_DEBUG:
			debug_file = optarg;
			break;
		case OPT_PID: {
			char *end;
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || pid <= 0 || pid > 0x3fffffff) {
				bad = optarg;
				badfmt = "--pid needs a process id, not '%s'";
			}
			break;
		}
		case OPT_NOSTOP:
			po.no_stop = live_opt = true;
			break;
		case OPT_SAVE:
			po.save_core = optarg;
			live_opt = true;
			break;
		case OPT_MAXPAUSE: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(v >= 0 && v <= 86400)) {
				bad = optarg;
				badfmt = "--max-pause needs a number of seconds (0: no limit), not '%s'";
			}
			po.max_pause_ns = (uint64_t)(v * 1e9);
			if (v > 0 && !po.max_pause_ns)
				po.max_pause_ns = 1;
			live_opt = pause_given = true;
			break;
		}
		case OPT_JSON:
			break;
		case OPT_TUI:
			tui = true;
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
	if (pid && optind < argc)
		return usage_error("--pid and a core file (%s) exclude each other: give one",
				   argv[optind]);
	if (!pid && live_opt)
		return usage_error("%s", "--no-stop, --max-pause and --save-core need --pid PID");
	if (po.no_stop && po.save_core)
		return usage_error("%s", "--save-core needs a stopped process: leave out --no-stop");
	/* A core written partly from a running process would be worse than a
	 * longer pause: by default the pause lasts until the core is written. */
	if (po.save_core && !pause_given)
		po.max_pause_ns = 0;
	if (!pid && optind != argc - 1)
		return usage_error("%s", optind >= argc ? "no core file given: mapscan [options] CORE"
				   " or --pid PID" : "give exactly one core file");
	if (json_mode && !top_given)
		fo.top = 0;

	struct report r;
	struct ms_error err = { 0, "" };
	if (tui && json_mode)
		return usage_error("%s", "--tui and --json do not go together: choose one");
	/* Before the analysis, which can take a while on a big core. */
	if (tui && tui_check_terminal(&err))
		return fail(err.code, err.msg);
	struct analyze_opts ao = { .storage = tui, .debug_file = debug_file };
	po.storage = ao.storage;
	po.debug_file = debug_file;
	if (pid ? analyze_pid((int)pid, exe, &po, &r, &err)
		: analyze_core(argv[optind], exe, &ao, &r, &err))
		return fail(err.code ? err.code : MS_EINTERNAL, err.msg[0] ? err.msg : "analysis failed");
	if (tui) {
		struct tui_opts to = { .sort = fo.sort, .min_reclaimable = fo.min_reclaimable };
		int trc = tui_run(&r, &to, &err);
		report_free(&r);
		return trc ? fail(err.code ? err.code : MS_EINTERNAL, err.msg) : 0;
	}
	int rc = json_mode ? format_json(stdout, &r, &fo) : format_text(stdout, &r, &fo);
	report_free(&r);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mapscan: cannot write the report: %s\n", strerror(errno));
		return MS_EINTERNAL;
	}
	return 0;
}
