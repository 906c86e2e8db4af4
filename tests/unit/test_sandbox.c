/* Unit tests for the DWARF sandbox (lib/sandbox.c): what the child may do
 * (read its input, write its output, allocate), what ends it (a crash, a
 * forbidden system call, its CPU or output limit), what it cannot see (the
 * parent's other descriptors, mappings marked MADV_DONTFORK), and that
 * gtypes_load, which runs the DWARF loader there, turns each way the child
 * can end into one line with the DWARF exit status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dwarf_load.h"
#include "sandbox.h"
#include "types.h"
#include "types_build.h"
#include "unit.h"

static const struct sandbox_limits LIM = { 1 << 20, 1ull << 32, 5, 30 };

static int fn_echo(void *arg, int in, int out)
{
	char buf[64];
	(void)arg;
	ssize_t n = pread(in, buf, sizeof(buf), 0);
	if (n <= 0)
		return 9;
	char *copy = malloc((size_t)n);      /* the allocator works */
	memcpy(copy, buf, (size_t)n);
	ssize_t w = write(out, copy, (size_t)n);
	free(copy);
	return w == n ? 0 : 8;
}

static int fn_fail(void *arg, int in, int out)
{
	(void)arg;
	(void)in;
	const char msg[] = "/bin/app: no DWARF";
	if (write(out, msg, sizeof(msg)) < 0)
		return 1;
	return 6;
}

static int fn_segv(void *arg, int in, int out)
{
	(void)in;
	(void)out;
	return *(volatile int *)arg;        /* arg is unmapped here */
}

static int fn_abort(void *arg, int in, int out)
{
	(void)arg;
	(void)in;
	(void)out;
	abort();
}

static int fn_socket(void *arg, int in, int out)
{
	(void)arg;
	(void)in;
	(void)out;
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int fn_ptrace(void *arg, int in, int out)
{
	(void)in;
	(void)out;
	return ptrace(PTRACE_ATTACH, *(pid_t *)arg, NULL, NULL) == 0 ? 0 : 1;
}

/* open is refused (EACCES), not fatal; other descriptors are closed. */
static int fn_files(void *arg, int in, int out)
{
	(void)in;
	(void)out;
	int fd = open("/etc/passwd", O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 1;
	struct stat st;
	if (fstat(*(int *)arg, &st) == 0 || errno != EBADF)
		return 2;
	return 0;
}

static int fn_spin(void *arg, int in, int out)
{
	(void)arg;
	(void)in;
	(void)out;
	for (volatile unsigned long i = 0;; i++)
		;
	return 0;
}

static int fn_big(void *arg, int in, int out)
{
	(void)arg;
	(void)in;
	static char chunk[65536];
	for (int i = 0; i < 64; i++)        /* 4 MiB, over the 1 MiB limit */
		if (write(out, chunk, sizeof(chunk)) < 0)
			return 3;
	return 0;
}

static void expect_killed(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, int sig,
			  const char *what)
{
	struct sandbox_result res;
	int rc = sandbox_run(fn, arg, 0, lim, &res);
	CHECK_MSG(rc < 0 && res.end == SANDBOX_KILLED && res.signal == sig,
		  "%s: end %d signal %d status %d, want killed by %d", what, res.end, res.signal,
		  res.status, sig);
	sandbox_result_free(&res);
}

static void test_sandbox(void)
{
	char path[] = "/tmp/mapscan-test-sandbox.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, "hello sandbox", 13) == 13);
	struct sandbox_result res;

	CHECK(sandbox_run(fn_echo, NULL, fd, &LIM, &res) == 0);
	CHECK(res.end == SANDBOX_OK && res.len == 13 && res.data && !memcmp(res.data, "hello sandbox", 13));
	sandbox_result_free(&res);

	CHECK(sandbox_run(fn_fail, NULL, fd, &LIM, &res) < 0);
	CHECK(res.end == SANDBOX_FAILED && res.status == 6 && res.data &&
	      !strcmp((const char *)res.data, "/bin/app: no DWARF"));
	sandbox_result_free(&res);

	expect_killed(fn_segv, (void *)4096, &LIM, SIGSEGV, "a bad pointer");
	expect_killed(fn_abort, NULL, &LIM, SIGABRT, "abort");
	expect_killed(fn_socket, NULL, &LIM, SIGSYS, "socket");
	pid_t me = getpid();
	expect_killed(fn_ptrace, &me, &LIM, SIGSYS, "ptrace of the parent");
	struct sandbox_limits cpu = LIM;
	cpu.cpu_seconds = 1;
	expect_killed(fn_spin, NULL, &cpu, SIGXCPU, "a loop");
	expect_killed(fn_big, NULL, &LIM, SIGXFSZ, "too much output");

	/* The wall-clock limit: a child that is stopped does not use CPU. */
	struct sandbox_limits wall = LIM;
	wall.wall_seconds = 1;
	wall.cpu_seconds = 0;
	CHECK(sandbox_run(fn_spin, NULL, fd, &wall, &res) < 0 &&
	      (res.end == SANDBOX_TIMEOUT || (res.end == SANDBOX_KILLED && res.signal == SIGXCPU)));
	sandbox_result_free(&res);

	/* A descriptor the parent holds is not the child's. */
	int pipefd[2];
	CHECK(pipe(pipefd) == 0);
	int high = fcntl(pipefd[0], F_DUPFD, 100);
	CHECK(high >= 100);
	CHECK(sandbox_run(fn_files, &high, fd, &LIM, &res) == 0);
	sandbox_result_free(&res);
	close(high);
	close(pipefd[0]);
	close(pipefd[1]);

	/* Nor is a mapping marked MADV_DONTFORK (the core, the executable). */
	int *secret = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(secret != MAP_FAILED && madvise(secret, 4096, MADV_DONTFORK) == 0);
	*secret = 42;
	expect_killed(fn_segv, secret, &LIM, SIGSEGV, "a mapping the child does not inherit");
	munmap(secret, 4096);

	close(fd);
	unlink(path);
}

/* gtypes_load on files its child cannot load: one line naming the file,
 * the DWARF status (or the one for a file that is no ELF). */
static void test_load_errors(void)
{
	struct ms_error err = { 0 };
	char path[] = "/tmp/mapscan-test-sandbox.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, "\177ELF garbage, not an executable", 32) == 32);
	close(fd);
	CHECK(!gtypes_load(path, &err));
	CHECK_MSG(err.code == MS_ENODWARF && strstr(err.msg, path) && !strchr(err.msg, '\n'),
		  "code %d: %s", err.code, err.msg);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "#!/bin/sh\n", 10) == 10);
	close(fd);
	CHECK(!gtypes_load(path, &err) && err.code == MS_EFORMAT);
	CHECK(!gtypes_load("/dev/null", &err) && err.code == MS_EOPEN);
	unlink(path);
	/* Found by fuzzing (tests/fuzz, fuzz_dwarf_local): the seed C
	 * program with its .debug_rnglists damaged so that libdwarf frees twice
	 * in dwarf_load_rnglists.  In the sandbox that is one line, exit 6. */
	const char *hostile = "tests/fuzz/corpus/dwarf/libdwarf-rnglists-double-free";
	CHECK(!gtypes_load(hostile, &err));
	CHECK_MSG(err.code == MS_ENODWARF && strstr(err.msg, hostile) && strstr(err.msg, "DWARF reader"),
		  "code %d: %s", err.code, err.msg);
	/* A real executable: this test itself (C, so DWARF but no Go types
	 * mapscan wants; it loads all the same). */
	struct gtypes *g = gtypes_load("/proc/self/exe", &err);
	CHECK_MSG(g || err.code == MS_ENODWARF, "%d: %s", err.code, err.msg);
	gtypes_free(g);
}

/* A Go binary's DWARF, as gtypes_load hands it over (in two processes on
 * a machine with two CPUs, each with half of the compile units), is the
 * model a load in one piece in this process makes: the same types,
 * variables and functions, with the same locals, closure variables and
 * frame sizes.  Again and again: the children read the same file at once. */
static void same_model(const struct gtypes *a, const struct gtypes *b, int round)
{
	CHECK_MSG(gtypes_count(a) == gtypes_count(b), "round %d: %zu types, not %zu", round,
		  gtypes_count(b), gtypes_count(a));
	for (type_id id = 1; id <= gtypes_count(a) && id <= gtypes_count(b); id++) {
		const struct gtype *x = gtypes_get(a, id), *y = gtypes_get(b, id);
		if (strcmp(x->name, y->name) || x->kind != y->kind || x->size != y->size ||
		    x->target != y->target || x->elem != y->elem) {
			CHECK_MSG(0, "round %d: type %u: %s, not %s", round, id, y->name, x->name);
			break;
		}
	}
	size_t na, nb;
	const struct gvar *va = gtypes_vars(a, &na), *vb = gtypes_vars(b, &nb);
	CHECK_MSG(na == nb, "round %d: %zu variables, not %zu", round, nb, na);
	for (size_t i = 0; i < na && i < nb; i++)
		if (strcmp(va[i].name, vb[i].name) || va[i].addr != vb[i].addr || va[i].type != vb[i].type) {
			CHECK_MSG(0, "round %d: variable %zu: %s, not %s", round, i, vb[i].name, va[i].name);
			break;
		}
	const struct gfunc *fa = gtypes_funcs(a, &na), *fb = gtypes_funcs(b, &nb);
	CHECK_MSG(na == nb && na > 1000, "round %d: %zu functions, not %zu", round, nb, na);
	for (size_t i = 0; i < na && i < nb; i++) {
		size_t ca, cb;
		int64_t oa = 0, ob = 0;
		gtypes_closure_vars(a, &fa[i], &ca);
		gtypes_closure_vars(b, &fb[i], &cb);
		int ra = gtypes_cfa_offset(a, &fa[i], fa[i].lowpc, &oa);
		int rb = gtypes_cfa_offset(b, &fb[i], fb[i].lowpc, &ob);
		if (strcmp(fa[i].name, fb[i].name) || fa[i].lowpc != fb[i].lowpc ||
		    fa[i].highpc != fb[i].highpc || ca != cb || ra != rb || oa != ob) {
			CHECK_MSG(0, "round %d: function %zu: %s, not %s", round, i, fb[i].name,
				  fa[i].name);
			break;
		}
	}
}

static void test_go_binary(void)
{
	char path[] = "/tmp/mapscan-unit-go-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "xz -dc testdata/samples/swiss-go1.26/exe.xz > %s", path);
	CHECK_MSG(system(cmd) == 0, "%s", cmd);
	struct ms_error err = { 0 };
	struct gtb *b = gtb_new();
	fd = open(path, O_RDONLY);
	CHECK(b && fd >= 0 && dwarf_load_fd(fd, path, b, &err) == 0);
	close(fd);
	struct gtypes *one = gtb_finish(b, path, &err);
	CHECK_MSG(one, "%s", err.msg);
	for (int round = 0; one && round < 30; round++) {
		struct gtypes *g = gtypes_load(path, &err);
		CHECK_MSG(g, "round %d: %s", round, err.msg);
		if (g)
			same_model(one, g, round);
		gtypes_free(g);
	}
	gtypes_free(one);
	unlink(path);
}

int main(void)
{
	test_sandbox();
	test_load_errors();
	test_go_binary();
	return unit_done();
}
