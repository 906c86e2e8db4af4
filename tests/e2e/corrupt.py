#!/usr/bin/env python3
"""Corrupt real cores and require mapscan to survive them.

    python3 tests/e2e/corrupt.py --mapscan build/mapscan [--rounds N] [--seed S]

Cores are untrusted input.  This builds the mapstates fixture (installed Go:
Swiss maps; Debian's Go 1.19: classic maps), captures a kernel core, finds
the maps with mapscan, then damages the core in place and runs mapscan on
it, again and again:

  * map headers: absurd counts, B/dirLen values, bucket and directory
    pointers to nowhere, to the header itself, into the middle of objects;
  * bucket arrays and tables: overflow pointers that loop back (cycles),
    tables with impossible group counts, tombstone/full control bytes;
  * random words anywhere in the dumped heap.

Every run must end within the time limit with status 0 (a damaged heap is
still a heap: mapscan reports what it can and warns), never a signal, and
must print nothing from a sanitizer.  The original bytes are restored after
each round.  Ends with "N passed, M failed".
"""
import argparse, json, os, random, resource, shutil, struct, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "testdata", "fixtures", "mapstates")
TIMEOUT = 120  # seconds per run; ASan builds are slow but a hang is far slower

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - " + name)


def fail(name, why):
    global failed
    failed += 1
    print("FAIL - %s: %s" % (name, why))


def load_segments(path):
    """PT_LOAD segments of an ELF64 core: [(vaddr, filesz, offset)]."""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
        if p_type == 1 and filesz:
            segs.append((vaddr, filesz, off))
    return segs


def file_offset(segs, addr, n=8):
    for vaddr, filesz, off in segs:
        if vaddr <= addr and addr + n <= vaddr + filesz:
            return off + addr - vaddr
    return None


def capture(go, workdir, name):
    env = dict(os.environ, GOTOOLCHAIN="local", GOWORK="off", CGO_ENABLED="0")
    exe = os.path.join(workdir, name)
    p = subprocess.run([go, "build", "-o", exe, "."], cwd=FIXTURE, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise RuntimeError("%s build: %s" % (go, p.stderr[-500:]))
    run = os.path.join(workdir, name + ".run")
    os.makedirs(run)
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        raise RuntimeError("core_pattern %r does not write ./core; set it to 'core'" % pattern)

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    subprocess.run([exe], cwd=run, preexec_fn=unlimited, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300,
                   env=dict(os.environ, GOTRACEBACK="crash",
                            MAPSCAN_ORACLE=os.path.join(run, "oracle.json")))
    core = os.path.join(run, "core")
    if not os.path.exists(core):
        raise RuntimeError("no core written in " + run)
    return exe, core


def run_mapscan(mapscan, exe, core):
    try:
        p = subprocess.run([mapscan, "--json", "--exe", exe, core], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out after %d s" % TIMEOUT
    return p.returncode, p.stdout, p.stderr


class Patcher:
    """Writes into the core and remembers the original bytes."""

    def __init__(self, path, segs):
        self.f = open(path, "r+b")
        self.segs = segs
        self.saved = []

    def put(self, addr, data):
        off = file_offset(self.segs, addr, len(data))
        if off is None:
            return False
        self.f.seek(off)
        self.saved.append((off, self.f.read(len(data))))
        self.f.seek(off)
        self.f.write(data)
        return True

    def put64(self, addr, v):
        return self.put(addr, struct.pack("<Q", v & (2**64 - 1)))

    def read64(self, addr):
        off = file_offset(self.segs, addr)
        if off is None:
            return None
        self.f.seek(off)
        return struct.unpack("<Q", self.f.read(8))[0]

    def restore(self):
        for off, data in reversed(self.saved):
            self.f.seek(off)
            self.f.write(data)
        self.saved = []
        self.f.flush()


def damage(rng, pt, maps, heap, layout):
    """Apply one round of damage; returns a short description."""
    what = []
    m = rng.choice(maps)
    a = int(m["address"], 16)
    big = rng.choice([2**63 - 1, 2**64 - 1, 1 << 40, 0xdeadbeef, a, a + 8, a - 16])
    kind = rng.randrange(8)
    if kind == 0:
        pt.put64(a, big)                       # count / used
        what.append("count=%#x" % big)
    elif kind == 1:
        if layout == "classic":
            pt.put(a + 9, bytes([rng.choice([63, 64, 255, 40])]))    # B
            what.append("B")
        else:
            pt.put64(a + 24, rng.choice([1 << 30, 3, 2**63, 1 << 24]))  # dirLen
            what.append("dirLen")
    elif kind == 2:
        pt.put64(a + 16, big)                  # buckets / dirPtr
        what.append("ptr16=%#x" % big)
    elif kind == 3 and layout == "classic":
        pt.put64(a + 24, rng.choice([a, a + 16, 1 << 45]))   # oldbuckets
        what.append("oldbuckets")
        pt.put64(a + 40, rng.choice([a, a + 8, 0x10]))      # extra
    elif kind == 4:
        # Make a bucket's (or group's) first pointer-sized words point back:
        # overflow cycles in classic, bogus tables in Swiss.
        p = pt.read64(a + 16)
        if p:
            for i in range(0, 64):
                pt.put64(p + 8 * i, rng.choice([p, a, p + 8, 2**64 - 1, 0x8080808080808080, 0]))
            what.append("storage words")
    elif kind == 5 and layout == "swiss":
        d = pt.read64(a + 16)
        t = pt.read64(d) if d else None
        if t:
            pt.put64(t + 16, rng.choice([t, d, 0, 2**63]))      # groups.data
            pt.put64(t + 24, rng.choice([2**64 - 1, 1 << 20, 6, 0]))  # lengthMask
            what.append("table")
    else:
        for _ in range(200):
            vaddr, filesz, _ = rng.choice(heap)
            addr = vaddr + rng.randrange(filesz // 8) * 8
            pt.put64(addr, rng.choice([rng.getrandbits(64), a, vaddr, 0, 2**63]))
        what.append("200 random heap words")
    return ", ".join(what) or "nothing"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mapscan", required=True)
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--seed", type=int, default=20261122)
    a = ap.parse_args()
    mapscan = os.path.abspath(a.mapscan)
    work = tempfile.mkdtemp(prefix="mapscan-corrupt-")
    try:
        toolchains = [("go", "swiss"), ("/usr/lib/go-1.19/bin/go", "classic")]
        for go, layout in toolchains:
            name = layout
            try:
                exe, core = capture(go, work, name)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                fail(name + "/capture", e)
                continue
            rc, out, err = run_mapscan(mapscan, exe, core)
            if rc != 0:
                fail(name + "/baseline", "status %s: %s" % (rc, err[-300:]))
                continue
            maps = [m for m in json.loads(out)["maps"] if any(r.startswith("main.") for r in m["roots"])]
            ok(name + "/baseline (%d maps)" % len(maps))
            segs = load_segments(core)
            # The Go heap: writable segments that hold map headers.
            heap = [s for s in segs if any(s[0] <= int(m["address"], 16) < s[0] + s[1] for m in maps)]
            rng = random.Random(a.seed + len(name))
            pt = Patcher(core, segs)
            try:
                for i in range(a.rounds):
                    desc = damage(rng, pt, maps, heap, layout)
                    pt.f.flush()
                    rc, out, err = run_mapscan(mapscan, exe, core)
                    label = "%s/round %d (%s)" % (name, i, desc)
                    san = b"Sanitizer" in err or b"runtime error" in err
                    if rc is None:
                        fail(label, "hang: " + err.decode())
                    elif rc < 0:
                        fail(label, "killed by signal %d: %s" % (-rc, err[-400:]))
                    elif san:
                        fail(label, "sanitizer: " + err.decode(errors="replace")[-600:])
                    elif rc != 0:
                        fail(label, "status %d: %s" % (rc, err[-300:]))
                    else:
                        try:
                            json.loads(out)
                            ok(label)
                        except ValueError as e:
                            fail(label, "not JSON: %s" % e)
                    pt.restore()
            finally:
                pt.restore()
                pt.f.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
