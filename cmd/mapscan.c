/* mapscan: report Go maps that keep empty storage alive.
 *
 * The only place that prints errors and decides exit statuses (documented in
 * man/mapscan.1, EXIT STATUS). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "diff.h"
#include "file.h"
#include "format.h"
#include "group.h"
#include "tui.h"
#include "version.h"          /* MAPSCAN_COMMIT: written by make */

static const char usage_text[] =
	"usage: mapscan [options] CORE\n"
	"       mapscan [options] --pid PID\n"
	"       mapscan diff [--json] [--exe EXE] [--old-exe EXE] [--top N] OLD NEW\n"
	"\n"
	"       coredumpctl dump PID | mapscan [options] -\n"
	"\n"
	"Report the Go maps in a core dump or a running process whose storage is\n"
	"retained but empty.  Go maps never shrink: after delete() or clear() the\n"
	"buckets stay allocated.  mapscan finds every map in the program's heap and\n"
	"stacks and shows, per map, who holds it (a variable, a goroutine's local,\n"
	"a path through interfaces, closures or untyped memory), how much memory it\n"
	"holds and how much a fresh map with the same entries would need.  Maps\n"
	"nothing reaches (garbage not yet freed) are listed apart.  CORE may be\n"
	"compressed (zstd, gzip, xz, lz4) or - to read it from a pipe.\n"
	"\n"
	"mapscan diff lists the owner groups whose maps, entries, retained or\n"
	"reclaimable bytes changed between OLD and NEW, each a core or a\n"
	"mapscan --json report of the same program, largest change first.\n"
	"\n"
	"options:\n"
	"  --exe PATH              the executable that produced the core (default:\n"
	"                          the one the core names, checked to match), or\n"
	"                          an unstripped copy or rebuild of it\n"
	"  --old-exe PATH          with diff: the executable of OLD (default: --exe)\n"
	"  --debug-file PATH       read DWARF from PATH (a debug file or unstripped\n"
	"                          build of the same program; default: the\n"
	"                          executable, its .gnu_debuglink, or\n"
	"                          /usr/lib/debug/.build-id/; with none anywhere the\n"
	"                          binary's own runtime tables give the types, and\n"
	"                          names are limited)\n"
	"  --pid PID               analyse the running process PID instead of a core;\n"
	"                          it is stopped only while mapscan reads it\n"
	"  --no-stop               with --pid: never stop the process; maps that change\n"
	"                          while it is read are flagged\n"
	"  --max-pause SECONDS     with --pid: resume the process after this long even\n"
	"                          if mapscan has not finished (default 10, none with\n"
	"                          --save-core; 0 = none)\n"
	"  --save-core FILE        with --pid: also write a core file of the process,\n"
	"                          as it was while stopped, to FILE\n"
	"  --json                  print one JSON document (schema: man mapscan, OUTPUT)\n"
	"  --top N                 show the N groups and the N maps with most\n"
	"                          reclaimable bytes (text: 20 groups and 10 maps,\n"
	"                          JSON: all; 0 = all)\n"
	"  --min-reclaimable SIZE  hide maps and groups with less reclaimable (64K, 1M)\n"
	"  --sort KEY              reclaimable (default), retained, count, type, path\n"
	"  --strict                exit 12 when the report is partial: the core lacks\n"
	"                          memory mapscan reads (coredump_filter, or a core\n"
	"                          cut short by a size limit)\n"
	"  --group BY              owner (default): sum the maps held the same way\n"
	"                          (main.shards[*].m, goroutine * (main.worker) →\n"
	"                          local seen) and list those groups first; type:\n"
	"                          by type only; none: list the maps only\n"
	"  --keys                  show up to 3 keys of each map and of the biggest\n"
	"                          maps of each group, to tell them apart (JSON\n"
	"                          always has them: sample_keys)\n"
	"  -q, --quiet             no advice after the report, and no progress line\n"
	"  --fail-over SIZE        exit with status 10 (and say so on stderr) when the\n"
	"                          maps something reaches hold SIZE or more\n"
	"                          reclaimable, e.g. 64M; the report is printed too\n"
	"  --fail-over-group SIZE  the same when one owner group (with --group type:\n"
	"                          one type) holds SIZE or more reclaimable\n"
	"  --pprof FILE            also write the maps as a gzipped pprof profile, by\n"
	"                          owner path (go tool pprof -top FILE)\n"
	"  --metrics FILE          also write the totals and the biggest owner groups\n"
	"                          as OpenMetrics text (node_exporter's textfile\n"
	"                          collector, Prometheus)\n"
	"  --tui                   browse the owners, their maps and the maps' storage\n"
	"                          interactively (press ? in it for the keys)\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Every option may also be written with one dash, as Go's flag package and\n"
	"pprof take them, and a value may follow an '=': -json, -top 5, -top=5,\n"
	"--top=5.  A boolean option takes =true or =false (-json=false).\n"
	"\n"
	"exit status: 0 ok, 1 internal error, 2 usage, 3 cannot read a file,\n"
	"4 not an ELF core, or cut in its headers (diff: nor a mapscan JSON report),\n"
	"5 not a Go program, 6 no usable DWARF, 7 executable does not match the\n"
	"core, 8 the process is gone or cannot be stopped, 9 not allowed to read\n"
	"the process, 10 --fail-over(-group) reached, 11 the core holds none of the\n"
	"program's memory, 12 (--strict) the report is partial.  See mapscan(1).\n";

static bool json_mode;

/* ---- progress --------------------------------------------------------------
 *
 * On a terminal, a long analysis says what it is doing on stderr, on one
 * line it rewrites and erases when done: a big core takes seconds, and a
 * silent terminal looks hung.  Nothing when stderr is not a terminal, with
 * --quiet, or for an analysis shorter than a quarter of a second.
 *
 * The library reports its phase and counts (cheap stores); a thread draws
 * them ten times a second, so that a phase with no counts of its own
 * (loading DWARF) still shows it is alive.  The thread has every signal
 * blocked: signals stay the main thread's (--pid resumes the process on
 * them). */

static struct {
	bool on;                  /* stderr is a terminal that can erase a line */
	bool running;             /* the thread was started */
	bool sync;                /* MAPSCAN_TEST_PROGRESS: no thread, every call drawn */
	pthread_t thread;
	uint64_t start;           /* ns */
	atomic_int phase;         /* -1: none yet */
	atomic_uint_fast64_t done, total;
	atomic_bool stop, shown;
} progress;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void progress_draw(void);

/* Held while a line is drawn, and by fork() (pthread_atfork): the DWARF
 * sandbox's child is forked while the thread runs, and a child that
 * inherits a lock the thread held inside malloc or stdio waits for it
 * forever (seen under ASan: the child hung in its first malloc). */
static pthread_mutex_t draw_lock = PTHREAD_MUTEX_INITIALIZER;

static void fork_prepare(void)
{
	pthread_mutex_lock(&draw_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&draw_lock);
}

static void on_progress(void *arg, enum analyze_phase phase, uint64_t done, uint64_t total)
{
	(void)arg;
	atomic_store(&progress.done, done);
	atomic_store(&progress.total, total);
	atomic_store(&progress.phase, (int)phase);
	/* tests/e2e/flags.py: every call drawn, by this thread. */
	if (progress.on && progress.sync)
		progress_draw();
}

static void progress_draw(void)
{
	static const char *const names[] = {
		[ANALYZE_DWARF] = "reading DWARF",
		[ANALYZE_HEAP] = "reading heap spans",
		[ANALYZE_ROOTS] = "following roots",
		[ANALYZE_MAPS] = "checking maps nothing reaches",
		[ANALYZE_STORAGE] = "checking map storage",
	};
	int phase = atomic_load(&progress.phase);
	uint64_t done = atomic_load(&progress.done), total = atomic_load(&progress.total);
	char line[160];
	int n;

	if (phase < 0 || (size_t)phase >= sizeof(names) / sizeof(names[0]))
		return;
	pthread_mutex_lock(&draw_lock);
	n = snprintf(line, sizeof(line), "\r\x1b[Kmapscan: %s", names[phase]);
	if (total)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %3u%%",
			      (unsigned)(done >= total ? 100 : done * 100 / total));
	else if (phase == ANALYZE_ROOTS)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ", %" PRIu64 " maps so far", done);
	snprintf(line + n, sizeof(line) - (size_t)n, "  (%.1f s)",
		 (double)(now_ns() - progress.start) / 1e9);
	fputs(line, stderr);
	fflush(stderr);
	atomic_store(&progress.shown, true);
	pthread_mutex_unlock(&draw_lock);
}

static void *progress_thread(void *arg)
{
	/* Running: whatever the thread's start took inside the C library and
	 * the sanitizers' runtime is over (see progress_start). */
	sem_post(arg);
	while (!atomic_load(&progress.stop)) {
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
		if (!atomic_load(&progress.stop) && now_ns() - progress.start >= 250000000u)
			progress_draw();
	}
	return NULL;
}

static void progress_start(bool quiet)
{
	const char *term = getenv("TERM");
	sigset_t all, old;

	atomic_store(&progress.phase, -1);
	progress.on = !quiet && isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb");
	if (!progress.on)
		return;
	progress.start = now_ns();
	progress.sync = getenv("MAPSCAN_TEST_PROGRESS") != NULL;
	if (!progress.on || progress.sync)
		return;
	static bool registered;
	if (!registered && pthread_atfork(fork_prepare, fork_done, fork_done) != 0)
		return;       /* no thread rather than a child that may hang */
	registered = true;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* The analysis forks the DWARF sandbox's child at once: a fork while
	 * the new thread is still starting (ASan allocates for it) leaves the
	 * child an allocator lock nobody will release, and it hangs in its
	 * first free.  The pthread_atfork lock covers the draws; the start
	 * is waited for here. */
	static sem_t started;
	sem_init(&started, 0, 0);
	progress.running = pthread_create(&progress.thread, NULL, progress_thread, &started) == 0;
	if (progress.running)
		while (sem_wait(&started) && errno == EINTR)
			;
	sem_destroy(&started);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Stop drawing and erase the line. */
static void progress_clear(void)
{
	if (progress.running) {
		atomic_store(&progress.stop, true);
		pthread_join(progress.thread, NULL);
		progress.running = false;
	}
	if (atomic_load(&progress.shown)) {
		fputs("\r\x1b[K", stderr);
		fflush(stderr);
		atomic_store(&progress.shown, false);
	}
}

/* One line on stderr (or one JSON document on stdout) and the exit status. */
static int fail(int code, const char *msg)
{
	progress_clear();
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

/* A failed analysis: its error, or a generic one when it left none. */
static int fail_analysis(const struct ms_error *err)
{
	return fail(err->code ? err->code : MS_EINTERNAL, err->msg[0] ? err->msg : "analysis failed");
}

/* ---- files written besides the report (--pprof, --metrics) -----------------
 *
 * Written to a temporary file beside FILE that is renamed over it when
 * complete, so that a reader (the node_exporter textfile collector, a
 * pprof UI reloading) never sees half a file.  The temporary file is made
 * before the analysis, which can take a while, so that a directory that
 * cannot be written fails at once. */

struct outfile {
	const char *path, *what;
	int (*write)(FILE *out, const struct report *r);
	FILE *f;
	char tmp[4096];
};

static int outfile_open(struct outfile *o, struct ms_error *err)
{
	if (!o->path)
		return 0;
	if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-XXXXXX", o->path) >= (int)sizeof(o->tmp))
		return ms_err(err, MS_EUSAGE, "%s: name too long for the %s", o->path, o->what);
	int fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0)
		return ms_err(err, MS_EOPEN, "%s: cannot write the %s: %s", o->path, o->what,
			      strerror(errno));
	/* mkstemp makes it 0600; a collector running as another user reads it. */
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	if (!(o->f = fdopen(fd, "w"))) {
		close(fd);
		unlink(o->tmp);
		return ms_err(err, MS_EINTERNAL, "%s: out of memory", o->path);
	}
	return 0;
}

static void outfile_drop(struct outfile *o)
{
	if (o->f) {
		fclose(o->f);
		unlink(o->tmp);
		o->f = NULL;
	}
}

static int outfile_write(struct outfile *o, const struct report *r, struct ms_error *err)
{
	if (!o->f)
		return 0;
	int rc = o->write(o->f, r);
	int e = errno;
	if (fclose(o->f) && !rc) {
		rc = -1;
		e = errno;
	}
	o->f = NULL;
	if (!rc && rename(o->tmp, o->path)) {
		rc = -1;
		e = errno;
	}
	if (rc) {
		unlink(o->tmp);
		return ms_err(err, MS_EINTERNAL, "%s: cannot write the %s: %s", o->path, o->what,
			      strerror(e));
	}
	return 0;
}

static int usage_error(const char *msg)
{
	char full[700];
	snprintf(full, sizeof(full), "%s (see mapscan --help)", msg);
	return fail(MS_EUSAGE, full);
}

/* ---- the command line ------------------------------------------------------
 *
 * Options are spelled the way Go's flag package (and so pprof) takes them as
 * well as the GNU way: -json and --json, -top 5, -top=5, --top=5.  A boolean
 * option may be given a value (-json=false), as in Go.  Options and the core
 * file may come in any order; "--" ends the options.  There are no
 * abbreviations: a Go user's -t means no particular option. */

enum opt_id {
	OPT_EXE, OPT_DEBUG, OPT_PID, OPT_NOSTOP, OPT_SAVE, OPT_MAXPAUSE, OPT_JSON, OPT_TOP, OPT_MIN,
	OPT_SORT, OPT_TUI, OPT_HELP, OPT_VERSION, OPT_GROUP, OPT_QUIET, OPT_KEYS,
	OPT_PPROF, OPT_FAILOVER, OPT_FAILGROUP, OPT_METRICS, OPT_STRICT, OPT_OLDEXE,
};

struct optdef {
	const char *name;
	bool value;               /* takes a value */
	enum opt_id id;
};

static const struct optdef optdefs[] = {
	{ "exe", true, OPT_EXE },
	{ "old-exe", true, OPT_OLDEXE },
	{ "debug-file", true, OPT_DEBUG },
	{ "pid", true, OPT_PID },
	{ "no-stop", false, OPT_NOSTOP },
	{ "save-core", true, OPT_SAVE },
	{ "max-pause", true, OPT_MAXPAUSE },
	{ "json", false, OPT_JSON },
	{ "top", true, OPT_TOP },
	{ "min-reclaimable", true, OPT_MIN },
	{ "sort", true, OPT_SORT },
	{ "tui", false, OPT_TUI },
	{ "group", true, OPT_GROUP },
	{ "quiet", false, OPT_QUIET },
	{ "keys", false, OPT_KEYS },
	{ "q", false, OPT_QUIET },
	{ "pprof", true, OPT_PPROF },
	{ "fail-over", true, OPT_FAILOVER },
	{ "fail-over-group", true, OPT_FAILGROUP },
	{ "metrics", true, OPT_METRICS },
	{ "strict", false, OPT_STRICT },
	{ "help", false, OPT_HELP },
	{ "h", false, OPT_HELP },
	{ "version", false, OPT_VERSION },
	{ "V", false, OPT_VERSION },
};

/* What the command line asks for. */
struct cmdline {
	const char *exe, *core;
	const char *core2;        /* mapscan diff: NEW (core is OLD) */
	const char *old_exe;      /* mapscan diff --old-exe */
	unsigned long long given; /* 1 << opt_id of every option given */
	long pid;
	bool json, tui, help, version, quiet, keys, strict;
	enum group_by group;
	bool top_given, live_opt, pause_given, extra_core;
	const char *pprof;        /* --pprof FILE, or NULL */
	const char *metrics;      /* --metrics FILE, or NULL */
	bool fail_over_given;     /* --fail-over SIZE: the gate's threshold in fail_over */
	uint64_t fail_over;
	bool fail_group_given;    /* --fail-over-group SIZE: the same for one owner group */
	uint64_t fail_group;
	struct format_opts fo;
	struct analyze_opts po;
	char err[600];            /* the first problem found, "" if none */
};

static void cl_error(struct cmdline *cl, const char *fmt, const char *a, const char *b)
{
	if (!cl->err[0])
		snprintf(cl->err, sizeof(cl->err), fmt, a, b);
}

/* Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

/* One option, spelled `as` ("-top", "--top") on the command line, with its
 * value (NULL for a boolean given none). */
static void apply(struct cmdline *cl, const struct optdef *d, const char *as, const char *v)
{
	bool on = true;
	char *end;

	if (!d->value && v && parse_bool(v, &on)) {
		cl_error(cl, "option %s takes no value, or true or false, not '%s'", as, v);
		return;
	}
	cl->given |= 1ull << d->id;
	switch (d->id) {
	case OPT_EXE:
		cl->exe = v;
		break;
	case OPT_OLDEXE:
		cl->old_exe = v;
		break;
	case OPT_DEBUG:
		cl->po.debug_file = v;
		break;
	case OPT_PID:
		errno = 0;
		cl->pid = strtol(v, &end, 10);
		if (!*v || *end || errno || cl->pid <= 0 || cl->pid > 0x3fffffff)
			cl_error(cl, "%s needs a process id, not '%s'", as, v);
		break;
	case OPT_NOSTOP:
		cl->po.no_stop = on;
		cl->live_opt |= on;
		break;
	case OPT_SAVE:
		cl->po.save_core = v;
		cl->live_opt = true;
		break;
	case OPT_MAXPAUSE: {
		errno = 0;
		double s = strtod(v, &end);
		if (!*v || *end || errno || !(s >= 0 && s <= 86400)) {
			cl_error(cl, "%s needs a number of seconds (0: no limit), not '%s'", as, v);
			break;
		}
		cl->po.max_pause_ns = (uint64_t)(s * 1e9);
		if (s > 0 && !cl->po.max_pause_ns)
			cl->po.max_pause_ns = 1;
		cl->live_opt = cl->pause_given = true;
		break;
	}
	case OPT_JSON:
		cl->json = on;
		break;
	case OPT_TUI:
		cl->tui = on;
		break;
	case OPT_TOP: {
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || n > SIZE_MAX)
			cl_error(cl, "%s needs a number of maps, not '%s'", as, v);
		cl->fo.top = (size_t)n;
		cl->top_given = true;
		break;
	}
	case OPT_MIN:
		if (parse_size(v, &cl->fo.min_reclaimable))
			cl_error(cl, "%s needs a size like 4096, 64K or 1.5M, not '%s'", as, v);
		break;
	case OPT_SORT:
		if (parse_sort_key(v, &cl->fo.sort))
			cl_error(cl, "%s takes reclaimable, retained, count, type or path, not '%s'", as, v);
		break;
	case OPT_GROUP:
		if (parse_group_by(v, &cl->group))
			cl_error(cl, "%s takes owner, type or none, not '%s'", as, v);
		break;
	case OPT_QUIET:
		cl->quiet = on;
		break;
	case OPT_KEYS:
		cl->keys = on;
		break;
	case OPT_PPROF:
		cl->pprof = v;
		break;
	case OPT_METRICS:
		cl->metrics = v;
		break;
	case OPT_FAILOVER:
		if (parse_size(v, &cl->fail_over))
			cl_error(cl, "%s needs a size like 64M or 1.5G, not '%s'", as, v);
		cl->fail_over_given = true;
		break;
	case OPT_FAILGROUP:
		if (parse_size(v, &cl->fail_group))
			cl_error(cl, "%s needs a size like 16M or 1.5G, not '%s'", as, v);
		cl->fail_group_given = true;
		break;
	case OPT_HELP:
		cl->help = on;
		break;
	case OPT_VERSION:
		cl->version = on;
		break;
	case OPT_STRICT:
		cl->strict = on;
		break;
	}
}

/* Read every argument, keeping the first problem in cl->err but going on,
 * so that a --json anywhere still decides how that problem is shown. */
static void parse_args(int argc, char **argv, struct cmdline *cl)
{
	bool opts = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!opts || a[0] != '-' || !a[1]) {
			if (!cl->core)
				cl->core = a;
			else if (!cl->core2)
				cl->core2 = a;
			else
				cl->extra_core = true;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts = false;
			continue;
		}
		/* "-name", "--name", either with "=value". */
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		char as[64];
		snprintf(as, sizeof(as), "%.*s", (int)((size_t)(name - a) + len < sizeof(as) - 1
					 ? (size_t)(name - a) + len : sizeof(as) - 4), a);
		if ((size_t)(name - a) + len >= sizeof(as) - 1)
			strcat(as, "...");
		const struct optdef *d = NULL;
		for (size_t k = 0; k < sizeof(optdefs) / sizeof(optdefs[0]); k++)
			if (strlen(optdefs[k].name) == len && !strncmp(optdefs[k].name, name, len))
				d = &optdefs[k];
		if (!d) {
			cl_error(cl, "unknown option '%s'%s", as, "");
			continue;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (d->value && !v) {
			if (i + 1 >= argc) {
				cl_error(cl, "option %s needs a value%s", as, "");
				continue;
			}
			v = argv[++i];
		}
		apply(cl, d, as, v);
	}
}

/* Columns the text may take: COLUMNS when set, else the terminal's width,
 * else (a pipe, a file) no limit, so that nothing is wrapped for a script. */
static size_t text_width(void)
{
	const char *c = getenv("COLUMNS");
	struct winsize ws;

	if (c && *c) {
		char *end;
		long v = strtol(c, &end, 10);
		if (!*end && v > 0 && v <= 100000)
			return (size_t)v;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* --fail-over: a CI gate or a cron check.  Fills msg with the one line to
 * print when the report is over the threshold, leaves it "" otherwise. */
static void gate_check(const struct cmdline *cl, const struct report *r, char *msg, size_t n)
{
	char got[16], lim[16];

	if (!cl->fail_over_given || r->total_reclaimable < cl->fail_over)
		return;
	human_size(r->total_reclaimable, got, sizeof(got));
	human_size(cl->fail_over, lim, sizeof(lim));
	snprintf(msg, n, "%s reclaimable in %" PRIu64 " maps, at or over --fail-over %s",
		 got, r->nmaps - r->unreachable_maps, lim);
}

/* --fail-over-group: the same for the biggest owner group something
 * reaches (a leak is often one group growing while the total hides it).
 * r must be grouped (by owner or type).  The line names the group as the
 * text report does, escaped: its pattern and type come from the core. */
static void gate_group_check(const struct cmdline *cl, const struct report *r, char *msg, size_t n)
{
	const struct map_group *big = NULL;
	size_t over = 0;
	char got[16], lim[16];

	if (!cl->fail_group_given)
		return;
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct map_group *g = &r->groups[i];
		if (g->unreachable || g->reclaimable_bytes < cl->fail_group)
			continue;
		over++;
		if (!big || g->reclaimable_bytes > big->reclaimable_bytes)
			big = g;
	}
	if (!big)
		return;
	char *pat = format_escape(big->pattern ? big->pattern : "", ESCAPE_TEXT);
	char *type = format_escape(big->type ? big->type : "unknown type", ESCAPE_TEXT);
	human_size(big->reclaimable_bytes, got, sizeof(got));
	human_size(cl->fail_group, lim, sizeof(lim));
	char more[48] = "";
	if (over > 1)
		snprintf(more, sizeof(more), " (and %zu more group%s)", over - 1, over > 2 ? "s" : "");
	if (big->pattern)
		snprintf(msg, n, "%s reclaimable in %" PRIu64 " maps of group %s (%s), at or over"
			 " --fail-over-group %s%s", got, big->maps, pat ? pat : "?", type ? type : "?",
			 lim, more);
	else
		snprintf(msg, n, "%s reclaimable in %" PRIu64 " maps of type %s, at or over"
			 " --fail-over-group %s%s", got, big->maps, type ? type : "?", lim, more);
	free(pat);
	free(type);
}

/* ---- mapscan diff OLD NEW ---------------------------------------------------
 *
 * Each side is a core (analysed as usual) or a `mapscan --json` report,
 * told apart by content: a report starts with "{" (after any white
 * space), a core with ELF magic or a compressor's.  "-" is a core from a
 * pipe. */

static bool looks_like_json(const char *path)
{
	struct ms_error ignored;
	char buf[512];
	int e;

	if (!strcmp(path, "-"))
		return false;
	int fd = file_open_regular(path, "file", &e, &ignored);
	if (fd < 0)
		return false;          /* analyze_core says why */
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')
			continue;
		return buf[i] == '{' || buf[i] == '[';
	}
	return false;
}

/* Parse the command line into cl; a bad option or --help ends the run
 * there: returns its exit status, or -1 to go on. */
static int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	parse_args(argc, argv, cl);
	json_mode = cl->json;
	if (cl->err[0])
		return usage_error(cl->err);
	if (cl->help) {
		fputs(usage_text, stdout);
		return fflush(stdout) || ferror(stdout) ? MS_EINTERNAL : 0;
	}
	return -1;
}

static int diff_main(int argc, char **argv)
{
	struct cmdline cl = { .fo = { .top = 20 }, .group = GROUP_OWNER };
	const unsigned long long allowed = 1ull << OPT_EXE | 1ull << OPT_OLDEXE | 1ull << OPT_DEBUG |
		1ull << OPT_JSON | 1ull << OPT_TOP | 1ull << OPT_GROUP | 1ull << OPT_QUIET |
		1ull << OPT_HELP;

	int early = parse_cmdline(argc, argv, &cl);
	if (early >= 0)
		return early;
	if (cl.given & ~allowed)
		return usage_error("mapscan diff takes --exe, --old-exe, --debug-file, --json, --top,"
				   " --group and --quiet only");
	if (!cl.core2 || cl.extra_core)
		return usage_error("mapscan diff needs two files: mapscan diff [options] OLD NEW");
	if (cl.group == GROUP_NONE)
		return usage_error("mapscan diff compares groups: --group owner (the default) or type");
	if (!cl.top_given && json_mode)
		cl.fo.top = 0;
	cl.fo.quiet = cl.quiet;
	cl.fo.width = text_width();

	const char *files[2] = { cl.core, cl.core2 };
	const char *exes[2] = { cl.old_exe ? cl.old_exe : cl.exe, cl.exe };
	struct report r[2];
	struct diff_input in[2];
	struct ms_error err = { 0, "" };
	int got = 0, rc = 0;

	memset(r, 0, sizeof(r));
	progress_start(cl.quiet);
	for (; got < 2; got++) {
		const char *f = files[got];
		bool json = looks_like_json(f);
		in[got] = (struct diff_input){ .file = f, .read_as = json ? "json" : "core", .r = &r[got] };
		if (json) {
			if (report_read_json(f, &r[got], &err))
				break;
			if (r[got].group_by != cl.group) {
				ms_err(&err, MS_EFORMAT, "%s: its groups are by %s: give --group %s, or write"
				       " it again with --group %s", f, group_by_name(r[got].group_by),
				       group_by_name(r[got].group_by), group_by_name(cl.group));
				report_free(&r[got]);
				break;
			}
			continue;
		}
		struct analyze_opts ao = { .debug_file = cl.po.debug_file, .progress = on_progress };
		if (analyze_core(f, exes[got], &ao, &r[got], &err))
			break;
		progress_clear();
		if (report_group(&r[got], cl.group)) {
			ms_err(&err, MS_EINTERNAL, "out of memory grouping the maps by owner");
			report_free(&r[got]);
			break;
		}
	}
	if (got < 2) {
		while (got-- > 0)
			report_free(&r[got]);
		return fail_analysis(&err);
	}
	struct diff d;
	if (diff_reports(&d, &r[0], &r[1], &err))
		rc = fail(err.code, err.msg);
	else if ((json_mode ? format_diff_json(stdout, &d, in, &cl.fo)
			    : format_diff_text(stdout, &d, in, &cl.fo)) || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mapscan: cannot write the diff: %s\n", strerror(errno));
		rc = MS_EINTERNAL;
	}
	diff_free(&d);
	report_free(&r[0]);
	report_free(&r[1]);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1);

	struct cmdline cl = {
		.fo = { .top = 20, .top_maps = 10, .sort = SORT_RECLAIMABLE },
		.group = GROUP_OWNER,
		.po = { .max_pause_ns = 10000000000ull },
	};

	int early = parse_cmdline(argc, argv, &cl);
	if (early >= 0)
		return early;
	if (cl.version) {
		char libs[300];
		analyze_library_versions(libs, sizeof(libs));
		printf("mapscan %s (commit %s)\n%s\n", MAPSCAN_VERSION, MAPSCAN_COMMIT, libs);
		return fflush(stdout) || ferror(stdout) ? MS_EINTERNAL : 0;
	}
	struct format_opts fo = cl.fo;
	struct analyze_opts po = cl.po;
	const char *exe = cl.exe;
	long pid = cl.pid;
	bool tui = cl.tui;
	char msg[600];
	if (pid && cl.core) {
		snprintf(msg, sizeof(msg), "--pid and a core file (%s) exclude each other: give one",
			 cl.core);
		return usage_error(msg);
	}
	if (!pid && cl.live_opt)
		return usage_error("--no-stop, --max-pause and --save-core need --pid PID");
	if (po.no_stop && po.save_core)
		return usage_error("--save-core needs a stopped process: leave out --no-stop");
	/* A core written partly from a running process would be worse than a
	 * longer pause: by default the pause lasts until the core is written. */
	if (po.save_core && !cl.pause_given)
		po.max_pause_ns = 0;
	if (cl.old_exe)
		return usage_error("--old-exe is for mapscan diff OLD NEW");
	if (!pid && (!cl.core || cl.core2 || cl.extra_core))
		return usage_error(!cl.core ? "no core file given: mapscan [options] CORE"
				   " or --pid PID" : "give exactly one core file");
	if (cl.top_given)
		fo.top_maps = fo.top;
	else if (json_mode)
		fo.top = fo.top_maps = 0;
	else if (cl.group == GROUP_NONE)
		fo.top_maps = fo.top;
	fo.quiet = cl.quiet;
	fo.keys = cl.keys;
	fo.width = text_width();

	struct report r;
	struct ms_error err = { 0, "" };
	if (tui && json_mode)
		return usage_error("--tui and --json do not go together: choose one");
	/* Before the analysis, which can take a while on a big core. */
	if (tui && tui_check_terminal(&err))
		return fail(err.code, err.msg);
	struct outfile outs[] = {
		{ .path = cl.pprof, .what = "pprof profile", .write = format_pprof },
		{ .path = cl.metrics, .what = "metrics", .write = format_metrics },
	};
	const size_t nouts = sizeof(outs) / sizeof(outs[0]);
	for (size_t i = 0; i < nouts; i++)
		if (outfile_open(&outs[i], &err)) {
			while (i-- > 0)
				outfile_drop(&outs[i]);
			return fail(err.code, err.msg);
		}
	/* Keys cost a read per map: only when something shows them. */
	struct analyze_opts ao = { .storage = tui, .debug_file = po.debug_file,
				   .keys = tui || json_mode || cl.keys };
	po.storage = ao.storage;
	po.keys = ao.keys;
	progress_start(cl.quiet);
	ao.progress = po.progress = on_progress;
	ao.progress_arg = po.progress_arg = NULL;
	if (pid ? analyze_pid((int)pid, exe, &po, &r, &err)
		: analyze_core(cl.core, exe, &ao, &r, &err)) {
		for (size_t i = 0; i < nouts; i++)
			outfile_drop(&outs[i]);
		return fail_analysis(&err);
	}
	progress_clear();
	/* --metrics has owner groups' series even when the report lists none. */
	enum group_by files_by = cl.metrics && cl.group == GROUP_NONE ? GROUP_OWNER : cl.group;
	if (report_group(&r, files_by)) {
		for (size_t i = 0; i < nouts; i++)
			outfile_drop(&outs[i]);
		report_free(&r);
		return fail(MS_EINTERNAL, "out of memory grouping the maps by owner");
	}
	/* --strict: a report of a core that lacks memory is written, but a
	 * script must not take it for the whole picture. */
	int done = cl.strict && r.partial ? MS_EPARTIAL : 0;
	int orc = 0;
	struct ms_error oerr = { 0, "" };
	for (size_t i = 0; i < nouts; i++)
		if (outfile_write(&outs[i], &r, &oerr) && !orc)
			orc = oerr.code, err = oerr;
	if (files_by != cl.group)
		report_group(&r, cl.group);   /* GROUP_NONE: cannot fail */
	if (tui) {
		struct tui_opts to = { .sort = fo.sort, .min_reclaimable = fo.min_reclaimable };
		if (orc) {
			report_free(&r);
			return fail(orc, err.msg);
		}
		int trc = tui_run(&r, &to, &err);
		report_free(&r);
		return trc ? fail(err.code ? err.code : MS_EINTERNAL, err.msg) : done;
	}
	int rc = json_mode ? format_json(stdout, &r, &fo) : format_text(stdout, &r, &fo);
	char gate[300] = "", ggate[1200] = "";
	gate_check(&cl, &r, gate, sizeof(gate));
	/* --group none shows no groups; the gate still weighs owner groups. */
	if (cl.fail_group_given && r.group_by == GROUP_NONE && report_group(&r, GROUP_OWNER)) {
		report_free(&r);
		return fail(MS_EINTERNAL, "out of memory grouping the maps by owner");
	}
	gate_group_check(&cl, &r, ggate, sizeof(ggate));
	report_free(&r);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mapscan: cannot write the report: %s\n", strerror(errno));
		return MS_EINTERNAL;
	}
	if (orc)
		return fail(orc, err.msg);
	if (gate[0])
		fprintf(stderr, "mapscan: %s\n", gate);
	if (ggate[0])
		fprintf(stderr, "mapscan: %s\n", ggate);
	return gate[0] || ggate[0] ? MS_EGATE : done;
}
