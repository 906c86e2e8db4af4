#!/usr/bin/env python3
"""mapscan benchmark (make bench; not part of make test).

    python3 tests/bench.py [--mapscan build/mapscan] [--scales 0.1,1,4]
                           [--mb 2100] [--maps 1000000]
                           [--go go --go /usr/lib/go-1.19/bin/go] [--dir build/bench]
                           [--reuse]

Builds testdata/fixtures/bigheap with each Go toolchain given (default: the
installed go, and Debian's Go 1.19 if present: Swiss and classic maps) and,
for each scale, lets it build a heap of scale x --mb MiB (MemStats.HeapInuse
after a GC) holding scale x --maps live maps and dump a kernel core.  Then,
in one run on the same machine, so that the ratios are comparable on a
noisy one, it prints per core:

  * what the fixture built: live maps, HeapInuse, build time;
  * the core's size (apparent, and the bytes actually stored: a Go core is
    sparse), and reading it once from the page cache (cat): wall and CPU;
  * mapscan --top 20 and mapscan --json (to a file): wall and CPU
    (user + system), each as a multiple of reading the core once, and peak
    RSS -- the kernel's peak of the resident set, file-backed pages included,
    beside the peaks of its anonymous and file-backed parts sampled from
    /proc -- as a share
    of the core's stored bytes; wall and CPU per million maps and per GiB
    stored, so that scales can be compared;
  * how many maps mapscan reported against how many the fixture holds.

The 4x scale needs about 2.5x its heap in memory and its core on disk
(about 9 GiB each).  With --reuse, cores already in --dir are measured
again (a new mapscan, the same heaps).  The cores stay in
--dir/<go>-x<scale>/core.

Issue 13's aims: CPU at most 3x reading the core once for text and 4x for
JSON, wall at most 2x, peak RSS at most 25% of the stored bytes.  Exits
non-zero only when something could not be measured (a build, a core, a
mapscan failure), never because an aim was missed: the numbers are for
people to read.
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "testdata", "fixtures", "bigheap")
MAPSCAN_TIMEOUT = 3600


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_child(cmd, stdout, stderr):
    """Run cmd with stdout and stderr to files.  Returns a dict: wall and
    cpu seconds, peak RSS (KiB) as the kernel counts it and the peaks of
    its anonymous and file-backed parts (sampled every 10 ms), and the
    status (-signal or exit code; None on timeout)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, path in ((1, stdout), (2, stderr)):
                # The last run's output (676 MB of JSON at scale 1) is
                # removed first: truncating it inside the measured child
                # put up to 1.5 s of the kernel's time on this run.
                if path != "/dev/null":
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass
                f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(f, fd)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    anon = filep = 0
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() - t0 > MAPSCAN_TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return dict(wall=time.monotonic() - t0, cpu=0, rss=0, anon=anon, file=filep, rc=None)
        anon = max(anon, status_kib(pid, "RssAnon:"))
        filep = max(filep, status_kib(pid, "RssFile:"))
        time.sleep(0.01)
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return dict(wall=time.monotonic() - t0, cpu=ru.ru_utime + ru.ru_stime, rss=ru.ru_maxrss,
                anon=anon, file=filep, rc=rc)


def json_summary(path):
    """The "summary" object of a mapscan --json document, read from its head
    (the whole document lists every map and can be hundreds of MiB)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16).decode(errors="replace")
    m = re.search(r'"summary"\s*:\s*(\{[^{}]*\})', head)
    return json.loads(m.group(1)) if m else None


def mib(n):
    return "%.0f MiB" % (n / 2**20)


def make_core(go, d, mb, maps):
    """Build the fixture with go in d and let it dump a core; returns
    (version, fixture stats, seconds) or raises RuntimeError."""
    exe = os.path.join(d, "bigheap")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOWORK="off")
    subprocess.run([go, "build", "-o", exe, "."], cwd=FIXTURE, env=env, check=True)
    stats_path = os.path.join(d, "bigheap.json")
    t0 = time.monotonic()
    # The fixture aborts itself; its traceback goes nowhere (a big one
    # written to an inherited descriptor has been seen to stall the crash).
    subprocess.run(["sh", "-c", 'ulimit -c unlimited; exec "$0" -mb "$1" -maps "$2" -stats "$3"',
                    exe, str(mb), str(maps), stats_path],
                   cwd=d, env=dict(os.environ, GOTRACEBACK="crash"),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=3600)
    if not os.path.exists(os.path.join(d, "core")) or not os.path.exists(stats_path):
        raise RuntimeError("no core or no %s written in %s" % (stats_path, d))
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("--scales", default="0.1,1,4",
                    help="heap and map counts, as multiples of --mb and --maps (default 0.1,1,4)")
    ap.add_argument("--mb", type=int, default=2100, help="HeapInuse to build at scale 1, MiB")
    ap.add_argument("--maps", type=int, default=1000000, help="live maps to build at scale 1")
    ap.add_argument("--go", action="append", help="go command (default: go, and Go 1.19 if installed)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--reuse", action="store_true", help="measure the cores already in --dir again")
    a = ap.parse_args()
    mapscan = os.path.abspath(a.mapscan)
    gos = a.go or ["go"] + (["/usr/lib/go-1.19/bin/go"] if os.path.exists("/usr/lib/go-1.19/bin/go") else [])
    scales = [float(x) for x in a.scales.split(",") if x]
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if not a.reuse and (pattern.startswith("|") or "/" in pattern):
        sys.exit(f"bench: core_pattern is {pattern!r}; set it to 'core' to let the kernel write ./core")
    os.makedirs(a.dir, exist_ok=True)
    problems = 0
    for go in gos:
        env = dict(os.environ, GOTOOLCHAIN="local")
        ver = subprocess.run([go, "version"], capture_output=True, text=True, env=env).stdout.split()[2]
        for scale in scales:
            name = "%s-x%g" % ("go1.19" if "1.19" in go else "go", scale)
            d = os.path.join(a.dir, name)
            mb, maps = int(a.mb * scale), int(a.maps * scale)
            t_fixture = None
            if not (a.reuse and os.path.exists(os.path.join(d, "core"))):
                shutil.rmtree(d, ignore_errors=True)
                os.makedirs(d)
                try:
                    t_fixture = make_core(go, d, mb, maps)
                except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                    print(f"{ver} x{scale:g}: {e}")
                    problems += 1
                    continue
            with open(os.path.join(d, "bigheap.json")) as f:
                fx = json.load(f)
            core = os.path.join(d, "core")
            stt = os.stat(core)
            size, stored = stt.st_size, stt.st_blocks * 512
            gib = stored / 2**30
            subprocess.run(["cat", core], stdout=subprocess.DEVNULL)      # warm the page cache
            ro = run_child(["cat", core], "/dev/null", "/dev/null")
            print(f"{ver} x{scale:g}:")
            built = f" (core written after {t_fixture:.1f} s)" if t_fixture else " (core reused)"
            print(f"  fixture  {fx['maps']:,} live maps, HeapInuse {mib(fx['heap_inuse'])} "
                  f"(HeapAlloc {mib(fx['heap_alloc'])}), built in {fx['build_seconds']:.1f} s{built}")
            print("           held by: " + ", ".join(f"{k} {v:,}" for k, v in sorted(fx["by_holder"].items(),
                                                                                 key=lambda kv: -kv[1])))
            print(f"  core     {mib(size)} ({mib(stored)} stored); read once from the page cache: "
                  f"wall {ro['wall']:.2f} s, CPU {ro['cpu']:.2f} s")
            summary = None
            for mode in (["--top", "20"], ["--json"]):
                out = os.path.join(d, "out" + mode[0].replace("-", "_"))
                err = out + ".err"
                m = run_child([mapscan] + mode + [core], out, err)
                label = f"mapscan {' '.join(mode):<9}"
                if m["rc"] != 0:
                    with open(err, errors="replace") as f:
                        tail = f.read()[-300:].strip()
                    why = "timed out" if m["rc"] is None else f"status {m['rc']}"
                    print(f"  {label} FAILED ({why}) after {m['wall']:.2f} s: {tail}")
                    problems += 1
                    continue
                # The kernel's peak of the whole resident set (file pages
                # included: VmHWM).  The sampled peaks of its two parts
                # come at different times (mapscan gives the core's pages
                # back as its own memory grows), so their sum is not a
                # peak; it is shown beside it.
                rss = m["rss"] or m["anon"] + m["file"]
                n = fx["maps"] / 1e6
                print(f"  {label} wall {m['wall']:6.2f} s = {m['wall'] / ro['wall']:5.1f}x, "
                      f"CPU {m['cpu']:6.2f} s = {m['cpu'] / max(ro['cpu'], 0.01):5.1f}x read-once; "
                      f"peak RSS {rss / 1024:5.0f} MiB = {rss * 1024 / stored * 100:4.1f}% of stored "
                      f"(sampled peaks: anon {m['anon'] / 1024:.0f}, file {m['file'] / 1024:.0f} MiB)")
                print(f"  {'':17} per million maps: wall {m['wall'] / n:5.2f} s, CPU {m['cpu'] / n:5.2f} s, "
                      f"RSS {rss / 1024 / n:5.0f} MiB; per GiB stored: wall {m['wall'] / gib:5.2f} s, "
                      f"CPU {m['cpu'] / gib:5.2f} s")
                if mode[0] == "--json":
                    summary = json_summary(out)
            if summary:
                print(f"  maps     mapscan reports {summary['maps']:,} of the fixture's {fx['maps']:,} "
                      f"({summary['maps'] / fx['maps'] * 100:.1f}%); retained {mib(summary['retained_bytes'])}, "
                      f"reclaimable {mib(summary['reclaimable_bytes'])}, heap in use "
                      f"{mib(summary.get('heap_in_use_bytes') or 0)}")
            sys.stdout.flush()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
