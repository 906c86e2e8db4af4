#!/usr/bin/env python3
"""mapscan benchmark (make bench; not part of make test).

Builds testdata/fixtures/bigheap with each Go toolchain given, lets it build
a heap of --mb MiB full of maps and dump a kernel core, then prints, on the
same run: the time to read the core once from the page cache, and mapscan's
wall time and peak RSS (text and JSON output).
"""
import argparse, os, resource, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(cmd, **kw):
    """Run cmd; return (seconds, peak RSS in KiB of this child, returncode)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            if kw.get("stdout"):
                fd = os.open(kw["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
            os.execvpe(cmd[0], cmd, kw.get("env", os.environ))
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    return time.monotonic() - t0, ru.ru_maxrss, status


def read_once(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 22):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--go", action="append", help="go command (default: go, and Go 1.19 if installed)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench"))
    a = ap.parse_args()
    gos = a.go or ["go"] + (["/usr/lib/go-1.19/bin/go"] if os.path.exists("/usr/lib/go-1.19/bin/go") else [])
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        sys.exit(f"bench: core_pattern is {pattern!r}; set it to 'core' to let the kernel write ./core")
    os.makedirs(a.dir, exist_ok=True)
    for go in gos:
        name = "go1.19" if "1.19" in go else "go"
        d = os.path.join(a.dir, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        exe = os.path.join(d, "bigheap")
        env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
        subprocess.run([go, "build", "-o", exe, "."], cwd=os.path.join(ROOT, "testdata/fixtures/bigheap"),
                       env=env, check=True)
        # The fixture aborts itself; its traceback goes nowhere (a big one
        # written to an inherited descriptor has been seen to stall the crash).
        subprocess.run(["sh", "-c", 'ulimit -c unlimited; exec "$0" -mb "$1"', exe, str(a.mb)],
                       cwd=d, env=dict(os.environ, GOTRACEBACK="crash"),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=900)
        core = os.path.join(d, "core")
        if not os.path.exists(core):
            sys.exit(f"bench: no core written in {d}")
        size = os.path.getsize(core)
        read_once(core)                      # warm the page cache
        t0 = time.monotonic()
        read_once(core)
        t_read = time.monotonic() - t0
        ver = subprocess.run([go, "version"], capture_output=True, text=True, env=env).stdout.split()[2]
        print(f"{ver}: core {size / 2**20:.0f} MiB; read once from page cache: {t_read:.2f} s")
        for mode in (["--top", "20"], ["--json"]):
            secs, rss, st = run_child([a.mapscan] + mode + [core], stdout=os.path.join(d, "out"))
            if st != 0:
                sys.exit(f"bench: mapscan {' '.join(mode)} failed (status {st})")
            print(f"  mapscan {' '.join(mode):<9} {secs:6.2f} s ({secs / t_read:4.1f}x read)  "
                  f"peak RSS {rss / 1024:6.0f} MiB ({rss * 1024 / size * 100:4.1f}% of core)")
        summary = subprocess.run([a.mapscan, "--top", "1", core], capture_output=True, text=True).stdout
        print("  " + " / ".join(l for l in summary.splitlines()[:4] if "maps" in l))


if __name__ == "__main__":
    main()
