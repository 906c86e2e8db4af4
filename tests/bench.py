#!/usr/bin/env python3
"""mapscan benchmark (make bench; not part of make test).

    python3 tests/bench.py [--mapscan build/mapscan] [--mb 2100] [--maps 1000000]
                           [--go go --go /usr/lib/go-1.19/bin/go] [--dir build/bench]

Builds testdata/fixtures/bigheap with each Go toolchain given (default: the
installed go, and Debian's Go 1.19 if present: Swiss and classic maps), lets
it build a heap of at least --mb MiB (MemStats.HeapInuse after a GC) holding
at least --maps live maps and dump a kernel core, then prints, on the same
run and machine:

  * what the fixture built: live maps, HeapInuse, build time;
  * the core's size (apparent, and the bytes actually stored: a Go core is
    sparse) and the time to read it once from the page cache;
  * mapscan's wall time and peak RSS, text (--top 20) and JSON (all maps),
    as multiples of the read-once time and as a share of the core size;
  * how many maps mapscan reported against how many the fixture holds.

The cores stay in --dir/<go>/core for a closer look.  The issue's acceptance aim: wall time at most 3x the read-once time, peak
RSS under a quarter of the core size.  Exits non-zero only when something
could not be measured (a build, a core, a mapscan failure), never because
an aim was missed: the numbers are for people to read.
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "testdata", "fixtures", "bigheap")
MAPSCAN_TIMEOUT = 3600


def run_child(cmd, stdout, stderr):
    """Run cmd with stdout and stderr to files; return (seconds, peak RSS in
    KiB of this child alone, status as from subprocess: -signal or exit code,
    None on timeout)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, path in ((1, stdout), (2, stderr)):
                f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(f, fd)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() - t0 > MAPSCAN_TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return time.monotonic() - t0, 0, None
        time.sleep(0.01)
    secs = time.monotonic() - t0
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return secs, ru.ru_maxrss, rc


def read_once(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 22):
            pass


def json_summary(path):
    """The "summary" object of a mapscan --json document, read from its head
    (the whole document lists every map and can be hundreds of MiB)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16).decode(errors="replace")
    m = re.search(r'"summary"\s*:\s*(\{[^{}]*\})', head)
    return json.loads(m.group(1)) if m else None


def mib(n):
    return "%.0f MiB" % (n / 2**20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("--mb", type=int, default=2100, help="HeapInuse to build, MiB (default 2100)")
    ap.add_argument("--maps", type=int, default=1000000, help="live maps to build, at least")
    ap.add_argument("--go", action="append", help="go command (default: go, and Go 1.19 if installed)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench"))
    a = ap.parse_args()
    mapscan = os.path.abspath(a.mapscan)
    gos = a.go or ["go"] + (["/usr/lib/go-1.19/bin/go"] if os.path.exists("/usr/lib/go-1.19/bin/go") else [])
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        sys.exit(f"bench: core_pattern is {pattern!r}; set it to 'core' to let the kernel write ./core")
    os.makedirs(a.dir, exist_ok=True)
    problems = 0
    for go in gos:
        name = "go1.19" if "1.19" in go else "go"
        d = os.path.join(a.dir, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        exe = os.path.join(d, "bigheap")
        env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOWORK="off")
        subprocess.run([go, "build", "-o", exe, "."], cwd=FIXTURE, env=env, check=True)
        ver = subprocess.run([go, "version"], capture_output=True, text=True, env=env).stdout.split()[2]
        # The fixture aborts itself; its traceback goes nowhere (a big one
        # written to an inherited descriptor has been seen to stall the crash).
        stats_path = os.path.join(d, "bigheap.json")
        t0 = time.monotonic()
        subprocess.run(["sh", "-c", 'ulimit -c unlimited; exec "$0" -mb "$1" -maps "$2" -stats "$3"',
                        exe, str(a.mb), str(a.maps), stats_path],
                       cwd=d, env=dict(os.environ, GOTRACEBACK="crash"),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=900)
        t_fixture = time.monotonic() - t0
        core = os.path.join(d, "core")
        if not os.path.exists(core) or not os.path.exists(stats_path):
            print(f"{ver}: no core or no {stats_path} written in {d}")
            problems += 1
            continue
        with open(stats_path) as f:
            fx = json.load(f)
        stt = os.stat(core)
        size, stored = stt.st_size, stt.st_blocks * 512
        read_once(core)                      # warm the page cache
        t0 = time.monotonic()
        read_once(core)
        t_read = time.monotonic() - t0
        print(f"{ver}:")
        print(f"  fixture  {fx['maps']:,} live maps, HeapInuse {mib(fx['heap_inuse'])} "
              f"(HeapAlloc {mib(fx['heap_alloc'])}), built in {fx['build_seconds']:.1f} s "
              f"(core written after {t_fixture:.1f} s)")
        print("           held by: " + ", ".join(f"{k} {v:,}" for k, v in sorted(fx["by_holder"].items(),
                                                                             key=lambda kv: -kv[1])))
        print(f"  core     {mib(size)} ({mib(stored)} stored); read once from page cache: {t_read:.2f} s")
        summary = None
        for mode in (["--top", "20"], ["--json"]):
            out = os.path.join(d, "out" + mode[0].replace("-", "_"))
            err = out + ".err"
            secs, rss, rc = run_child([mapscan] + mode + [core], out, err)
            label = f"mapscan {' '.join(mode):<9}"
            if rc != 0:
                with open(err, errors="replace") as f:
                    tail = f.read()[-300:].strip()
                why = "timed out" if rc is None else f"status {rc}"
                print(f"  {label} FAILED ({why}) after {secs:.2f} s: {tail}")
                problems += 1
                continue
            with open(err, errors="replace") as f:
                nwarn = sum(1 for line in f if line.strip())
            print(f"  {label} {secs:7.2f} s = {secs / t_read:5.1f}x read-once   "
                  f"peak RSS {rss / 1024:6.0f} MiB = {rss * 1024 / size * 100:5.1f}% of core "
                  f"({rss * 1024 / stored * 100:5.1f}% of stored)" + (f"  [{nwarn} stderr lines]" if nwarn else ""))
            if mode[0] == "--json":
                summary = json_summary(out)
        if summary:
            print(f"  maps     mapscan reports {summary['maps']:,} of the fixture's {fx['maps']:,} "
                  f"({summary['maps'] / fx['maps'] * 100:.1f}%); retained {mib(summary['retained_bytes'])}, "
                  f"reclaimable {mib(summary['reclaimable_bytes'])}, heap in use "
                  f"{mib(summary.get('heap_in_use_bytes') or 0)}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
