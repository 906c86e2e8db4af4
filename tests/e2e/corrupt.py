#!/usr/bin/env python3
"""Corrupt real cores and require mapscan to survive them.

    python3 tests/e2e/corrupt.py --mapscan build/mapscan [--rounds N] [--seed S]
                                 [--only KIND[,KIND...]] [--save-failures DIR]

Cores are untrusted input.  This builds the mapstates fixture (installed Go:
Swiss maps; Debian's Go 1.19: classic maps), captures a kernel core, finds
the maps with mapscan, then damages the core in place and runs mapscan on
it, again and again.  Each round applies one kind of damage, in turn:

  map        map headers (absurd counts, B/dirLen values, bucket and
             directory pointers to nowhere, to the header itself, into the
             middle of objects); bucket arrays and tables (overflow pointers
             that loop back, impossible group counts, tombstone/full control
             bytes); random words anywhere in the dumped heap.  A third of
             the rounds, one of these at random.

The others aim at the runtime's own records, located in the core through
the executable's symbol table and DWARF (a small Go program, built with the
installed toolchain, prints the addresses and field offsets).  Every other
round reads the damaged core through a stripped copy of the executable, so
that mapscan reads the runtime without DWARF (lib/typedesc.c):

  allspans     runtime.mheap_.allspans: array pointer to nowhere, into the
               middle of an object, misaligned; length absurd or past cap
  span-ptrs    *mspan entries of allspans: nil, to nowhere, into the middle
               of another mspan or of a heap object, duplicated, to mheap_
  span-fields  fields of in-use mspans: startAddr, npages, nelems, elemsize,
               freeindex, allocCount, allocBits, gcmarkBits, largeType,
               spanclass, state, limit, next/prev set to absurd values
  span-overlap spans made to overlap: one span's range moved onto another's,
               npages grown over its neighbours, many spans on one address
  span-state   dead and manual (stack) spans marked in use, in-use ones dead
  arenas       mheap_.arenas[0] (the arena index), its heapArena entries and
               their spans[] page table: nil, to nowhere, to other arenas
  allgs        runtime.allgs array pointer and length, runtime.allglen
  g-ptrs       *g entries of allgs: nil, to nowhere, mid-object, duplicated
  g-stack      g.stack lo/hi swapped, huge, zero, equal, in the heap
  g-sched      g.sched sp outside the stack, misaligned, zero; pc zero, in
               the middle of an instruction, in data; bp to itself (a saved
               frame pointer pointing to itself: a one-frame cycle), a
               two-frame cycle, a return address that repeats its frame
  g-status     atomicstatus running with no thread, syscall with a bad
               syscallsp, the scan bit, dead ones revived, garbage
  g-frames     words of parked goroutines' stack frames overwritten
  allm         runtime.allm list: alllink cycles (to itself, to the first
               m), curg / g0 / gsignal to nowhere, procid of another thread
  heap-cycle   cycles of pointers among heap objects: self-loops, two-cycles,
               a long chain closed on itself, interior pointers
  iface-types  type words of interfaces (eface type, iface itab) to garbage,
               misaligned into the types section, to a heap object, to a map
               type descriptor for data that is not a map (type confusion),
               to another itab; malloc headers and mspan.largeType likewise

Before the rounds, the inputs that are not damaged cores (--only special):
FIFOs, devices and directories given as the core, with --exe, or named by
the core's NT_FILE note (mapscan must refuse them at once, never block on
an open); a core with every PT_LOAD empty and cores taken with
coredump_filter 0 and 4 (exit 11, saying what to do); a core that lacks
half the heap (a report with source.partial, exit 12 with --strict); cores
cut short at half, nine tenths and nearly all of their size (a report with
source.partial and cut_bytes, no map the whole core lacks, exit 12 with
--strict) and inside their notes (exit 4); and,
with Go 1.26 (DWARF 5), executables whose .debug_rnglists unit header is
damaged the ways that make libdwarf free twice or loop: mapscan --exe must
end with exit 6 and one line, the DWARF reader's death contained in its
sandbox (under ASan the child's own report is expected).

mapscan must end within the time limit, never on a signal, print nothing
from a sanitizer and (except under ASan, where address-space limits do not
work) stay within a memory limit: RLIMIT_AS of 4 GiB and a peak RSS of
1 GiB, where the undamaged core needs some tens of MiB.  It then either
exits 0 with a JSON report (a damaged heap is still a heap: mapscan reports
what it can and warns), or exits with one of the documented "cannot read
this input" codes (3-7) with a JSON error document and one line on stderr.
Exit status 1 (internal error) or 2 (usage) counts as a failure.  A round
of damage to the runtime's records that reports fewer maps than the
undamaged core without a single warning is listed at the end (--strict:
failed), since the acceptance asks for warnings with a partial report.  The
original bytes are restored after each round; each round draws its
random choices from (seed, toolchain, round), so --only and --rounds select
rounds without changing them.  Ends with "N passed, M failed".

A failed round is reproducible only with its core (Go 1.26 randomizes the
heap base): --save-failures DIR keeps the executable and the damaged core of
each failure, with the exact bytes written and the mapscan command line.
"""
import argparse, bisect, json, os, random, resource, shutil, struct, subprocess, sys, tempfile, time

from run import set_filesz

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "testdata", "fixtures", "mapstates")
TIMEOUT = 120  # seconds per run; ASan builds are slow but a hang is far slower
MEM_AS = 4 << 30        # RLIMIT_AS of a mapscan run (not under ASan)
MEM_RSS = 1 << 30       # peak RSS a run may reach (not under ASan)
DOCUMENTED = {3: "cannot read a file", 4: "not an ELF core, or cut in its headers", 5: "not a Go program",
              6: "no DWARF", 7: "executable does not match the core",
              11: "the core holds none of the program's memory"}
EXIT_OPEN, EXIT_NODWARF, EXIT_EMPTY, EXIT_PARTIAL = 3, 6, 11, 12

KINDS = ["map", "allspans", "span-ptrs", "span-fields", "map", "span-overlap", "span-state", "arenas",
         "map", "allgs", "g-ptrs", "g-stack", "map", "g-sched", "g-status", "g-frames", "map", "allm",
         "heap-cycle", "iface-types", "map", "span-fields", "g-sched", "iface-types"]

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - " + name)


def fail(name, why):
    global failed
    failed += 1
    print("FAIL - %s: %s" % (name, why))


# Prints, as JSON, the addresses of some symbols and the layout of some
# structs of a Go executable (Go's debug/elf and debug/dwarf read every
# DWARF version and compression the toolchains write).
LAYOUT_GO = r'''
package main

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type field struct {
	Off  int64 `json:"off"`
	Size int64 `json:"size"`
}

type layout struct {
	Size   int64            `json:"size"`
	Fields map[string]field `json:"fields"`
}

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := struct {
		Syms  map[string]uint64  `json:"syms"`
		Itabs []uint64           `json:"itabs"`
		Types map[string]*layout `json:"types"`
	}{map[string]uint64{}, nil, map[string]*layout{}}
	want := map[string]bool{}
	for _, s := range strings.Split(os.Args[2], ",") {
		want[s] = true
	}
	syms, _ := f.Symbols()
	for _, s := range syms {
		if want[s.Name] {
			out.Syms[s.Name] = s.Value
		}
		if strings.HasPrefix(s.Name, "go:itab.") || strings.HasPrefix(s.Name, "go.itab.") {
			out.Itabs = append(out.Itabs, s.Value)
		}
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	types := map[string]bool{}
	for _, s := range strings.Split(os.Args[3], ",") {
		types[s] = true
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if types[name] && out.Types[name] == nil {
			if t, err := d.Type(e.Offset); err == nil {
				if st, ok := t.(*dwarf.StructType); ok {
					l := &layout{Size: st.ByteSize, Fields: map[string]field{}}
					for _, m := range st.Field {
						l.Fields[m.Name] = field{m.ByteOffset, m.Type.Size()}
					}
					out.Types[name] = l
				}
			}
		}
		r.SkipChildren()
	}
	json.NewEncoder(os.Stdout).Encode(&out)
}
'''
SYMS = ["runtime.mheap_", "runtime.allgs", "runtime.allglen", "runtime.allm", "runtime.firstmoduledata"]
STRUCTS = ["runtime.mheap", "runtime.mspan", "runtime.g", "runtime.gobuf", "runtime.stack", "runtime.m",
           "runtime.moduledata", "runtime.heapArena"]


def build_layout_tool(workdir):
    src = os.path.join(workdir, "layout.go")
    with open(src, "w") as f:
        f.write(LAYOUT_GO)
    exe = os.path.join(workdir, "layout")
    env = dict(os.environ, GOTOOLCHAIN="local", GOWORK="off", CGO_ENABLED="0", GO111MODULE="off")
    p = subprocess.run(["go", "build", "-o", exe, src], cwd=workdir, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise RuntimeError("layout tool build: " + p.stderr[-500:])
    return exe


def read_layout(tool, exe):
    p = subprocess.run([tool, exe, ",".join(SYMS), ",".join(STRUCTS)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode:
        raise RuntimeError("layout: " + p.stderr[-300:])
    return json.loads(p.stdout)


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


def capture(go, workdir, name, ldflags=None):
    env = dict(os.environ, GOTOOLCHAIN="local", GOWORK="off", CGO_ENABLED="0")
    exe = os.path.join(workdir, name)
    flags = ["-ldflags=" + ldflags] if ldflags else []
    p = subprocess.run([go, "build", "-o", exe] + flags + ["."], cwd=FIXTURE, env=env,
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


def is_asan(mapscan):
    with open(mapscan, "rb") as f:
        return b"__asan_init" in f.read()


class Result:
    def __init__(self, rc, out, err, rss_kib, secs, pid=0):
        self.rc, self.out, self.err, self.rss_kib, self.secs = rc, out, err, rss_kib, secs
        self.pid = pid


def run_mapscan(mapscan, exe, core, workdir, asan, args=None, timeout=None):
    """Run mapscan --json (--exe exe core, or args); rc is None on a timeout.
    Outside ASan the child runs under RLIMIT_AS and its peak RSS is
    measured."""
    cmd = [mapscan, "--json"] + (args if args is not None else ["--exe", exe, core])
    limit = timeout or TIMEOUT
    # A stripped executable must not find a debug file on this machine.
    os.environ["MAPSCAN_DEBUG_DIR"] = os.path.join(workdir, "no-debug-files")
    out_path, err_path = os.path.join(workdir, "stdout"), os.path.join(workdir, "stderr")
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, path in ((1, out_path), (2, err_path)):
                f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(f, fd)
            if not asan:
                resource.setrlimit(resource.RLIMIT_AS, (MEM_AS, MEM_AS))
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    rc, rss = None, 0
    while True:
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid:
            rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            rss = ru.ru_maxrss
            break
        if time.monotonic() - t0 > limit:
            os.kill(pid, 9)
            _, _, ru = os.wait4(pid, 0)
            rss = ru.ru_maxrss
            break
        time.sleep(0.005)
    with open(out_path, "rb") as f:
        out = f.read()
    with open(err_path, "rb") as f:
        err = f.read()
    if rc is None:
        err += b"\ntimed out after %d s" % limit
    return Result(rc, out, err, rss, time.monotonic() - t0, pid)


def judge(res, asan):
    """None if the run is acceptable, else why not."""
    san = b"Sanitizer" in res.err or b"runtime error" in res.err
    if res.rc is None:
        return "hang: " + res.err.decode(errors="replace")[-300:]
    if res.rc < 0:
        return "killed by signal %d: %s" % (-res.rc, res.err.decode(errors="replace")[-400:])
    if san:
        return "sanitizer: " + res.err.decode(errors="replace")[-600:]
    if not asan and res.rss_kib * 1024 > MEM_RSS:
        return "peak RSS %d MiB (limit %d MiB)" % (res.rss_kib >> 10, MEM_RSS >> 20)
    try:
        doc = json.loads(res.out)
    except ValueError as e:
        return "status %d, not JSON (%s): %s" % (res.rc, e, res.err.decode(errors="replace")[-300:])
    if res.rc == 0:
        return None if isinstance(doc, dict) and "maps" in doc else "status 0 without a report"
    if res.rc in DOCUMENTED:
        # --json: the message is in the document, stderr stays empty.
        lines = [l for l in res.err.decode(errors="replace").splitlines() if l.strip()]
        if len(lines) > 1:
            return "status %d with %d lines on stderr: %s" % (res.rc, len(lines), lines[-3:])
        if not isinstance(doc, dict) or not isinstance(doc.get("error"), dict) or \
                doc["error"].get("code") != res.rc or "\n" in str(doc["error"].get("message")):
            return "status %d without an error document of that code" % res.rc
        return None
    return "status %d: %s" % (res.rc, res.err.decode(errors="replace")[-300:])


def outcome(res):
    """(maps, warnings) of an accepted run, and what it produced in a few words."""
    if res.rc:
        return None, None, "exit %d (%s)" % (res.rc, DOCUMENTED[res.rc])
    doc = json.loads(res.out)
    warns = len(doc.get("warnings") or []) + sum(len(m.get("warnings") or []) for m in doc["maps"])
    return len(doc["maps"]), warns, "%d maps, %d warnings, %.2f s, %d MiB" % (
        len(doc["maps"]), warns, res.secs, res.rss_kib >> 10)


class Patcher:
    """Writes into the core and remembers the original bytes."""

    def __init__(self, path, segs):
        self.f = open(path, "r+b")
        self.segs = segs
        self.saved = []
        self.log = []      # (addr, new bytes) of this round, for a reproduction

    def put(self, addr, data):
        off = file_offset(self.segs, addr, len(data))
        if off is None:
            return False
        self.f.seek(off)
        self.saved.append((off, self.f.read(len(data))))
        self.f.seek(off)
        self.f.write(data)
        self.log.append((addr, data))
        return True

    def put64(self, addr, v):
        return self.put(addr, struct.pack("<Q", v & (2**64 - 1)))

    def putn(self, addr, size, v):
        return self.put(addr, (v & (2**(8 * size) - 1)).to_bytes(size, "little"))

    def read(self, addr, n):
        off = file_offset(self.segs, addr, n)
        if off is None:
            return None
        self.f.seek(off)
        return self.f.read(n)

    def read64(self, addr):
        b = self.read(addr, 8)
        return struct.unpack("<Q", b)[0] if b else None

    def readn(self, addr, size):
        b = self.read(addr, size)
        return int.from_bytes(b, "little") if b else None

    def restore(self):
        for off, data in reversed(self.saved):
            self.f.seek(off)
            self.f.write(data)
        self.saved = []
        self.log = []
        self.f.flush()


def damage_map(rng, pt, maps, heap, layout):
    """Damage map headers, storage or random heap words; returns a short description."""
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


class Runtime:
    """The runtime's records in one core: spans, goroutines, Ms, interfaces."""

    def __init__(self, lay, pt, maps):
        self.pt = pt
        self.sym = lay["syms"]
        self.T = lay["types"]
        self.itabs = set(lay.get("itabs") or [])
        for s in SYMS:
            if s not in self.sym:
                raise RuntimeError("no symbol " + s)
        for s in STRUCTS:
            if s not in self.T:
                raise RuntimeError("no DWARF struct " + s)
        self.map_addrs = {int(m["address"], 16) for m in maps}
        self.mheap = self.sym["runtime.mheap_"]
        self.allspans_at = self.mheap + self.off("runtime.mheap", "allspans")
        self.arenas_at = self.mheap + self.off("runtime.mheap", "arenas")
        md = self.sym["runtime.firstmoduledata"]
        self.types = pt.read64(md + self.off("runtime.moduledata", "types"))
        self.etypes = pt.read64(md + self.off("runtime.moduledata", "etypes"))
        self._spans()
        self._goroutines()
        self._ms()

    def off(self, t, f):
        return self.T[t]["fields"][f]["off"]

    def fld(self, t, f):
        x = self.T[t]["fields"].get(f)
        return (x["off"], x["size"]) if x else None

    def span_field(self, sp, f):
        o, n = self.fld("runtime.mspan", f)
        return self.pt.readn(sp + o, n)

    def _spans(self):
        ptr, n = self.pt.read64(self.allspans_at), self.pt.read64(self.allspans_at + 8)
        raw = self.pt.read(ptr, 8 * n) if ptr and 0 < n < 1 << 24 else None
        if not raw:
            raise RuntimeError("allspans not readable")
        self.allspans_ptr, self.allspans_len = ptr, n
        self.spans = [p for p in struct.unpack("<%dQ" % n, raw) if p]
        self.inuse, self.other = [], []
        for sp in self.spans:
            st = self.span_field(sp, "state")
            (self.inuse if st == 1 else self.other).append(sp)
        if not self.inuse:
            raise RuntimeError("no span in use")
        # In-use object ranges, sorted, for "which object holds this address".
        rng = []
        for sp in self.inuse:
            start, npages = self.span_field(sp, "startAddr"), self.span_field(sp, "npages")
            elem = self.span_field(sp, "elemsize")
            if start and npages and elem:
                rng.append((start, start + npages * 8192, elem, sp))
        rng.sort()
        self.ranges = rng
        self.starts = [r[0] for r in rng]

    def obj(self, addr):
        """(base, size, span) of the heap object holding addr, or None."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        start, end, elem, sp = self.ranges[i]
        if addr >= end:
            return None
        return start + (addr - start) // elem * elem, elem, sp

    def random_object(self, rng, scan_only=False, min_size=16):
        for _ in range(200):
            start, end, elem, sp = rng.choice(self.ranges)
            sc = self.span_field(sp, "spanclass")
            if elem < min_size or (scan_only and sc & 1):
                continue
            n = max(1, (end - start) // elem)
            return start + rng.randrange(n) * elem, elem, sp
        return None

    def pointer_words(self, base, size, limit=64):
        """Offsets of the words of an object that hold heap pointers."""
        raw = self.pt.read(base, min(size, 8 * limit))
        if not raw:
            return []
        words = struct.unpack("<%dQ" % (len(raw) // 8), raw[:len(raw) // 8 * 8])
        return [(8 * i, w) for i, w in enumerate(words) if self.obj(w)]

    def _goroutines(self):
        a = self.sym["runtime.allgs"]
        self.allgs_at = a
        ptr, n = self.pt.read64(a), self.pt.read64(a + 8)
        raw = self.pt.read(ptr, 8 * n) if ptr and 0 < n < 1 << 20 else None
        self.allgs_ptr, self.allgs_len = ptr, n
        self.gs = [g for g in struct.unpack("<%dQ" % n, raw) if g] if raw else []
        so = self.off("runtime.g", "sched")
        self.g_sp = so + self.off("runtime.gobuf", "sp")
        self.g_pc = so + self.off("runtime.gobuf", "pc")
        self.g_bp = so + self.off("runtime.gobuf", "bp")
        self.g_lr = so + self.off("runtime.gobuf", "lr") if self.fld("runtime.gobuf", "lr") else None
        self.g_status = self.off("runtime.g", "atomicstatus")
        st = self.off("runtime.g", "stack")
        self.g_lo, self.g_hi = st + self.off("runtime.stack", "lo"), st + self.off("runtime.stack", "hi")
        self.parked = []
        for g in self.gs:
            status = self.pt.readn(g + self.g_status, 4)
            lo, hi, sp = self.pt.read64(g + self.g_lo), self.pt.read64(g + self.g_hi), self.pt.read64(g + self.g_sp)
            if status is not None and status & ~0x1000 == 4 and lo and hi and lo <= sp < hi:
                self.parked.append(g)

    def _ms(self):
        self.allm = []
        m = self.pt.read64(self.sym["runtime.allm"])
        link = self.off("runtime.m", "alllink")
        while m and m not in self.allm and len(self.allm) < 256:
            self.allm.append(m)
            m = self.pt.read64(m + link)

    def interfaces(self, segs, rng, limit=64 << 20):
        """Interface values in writable memory: [(addr, 'eface'|'iface')]
        (a type word in [types, etypes) or a static itab, then a data word
        that is zero or points into the core), and the type words seen with
        a map as data."""
        found, maptypes = [], set()
        readable = [(v, v + n) for v, n, _ in segs]
        starts = [r[0] for r in readable]

        def mapped(w):
            i = bisect.bisect_right(starts, w) - 1
            return i >= 0 and w < readable[i][1]
        budget = limit
        for vaddr, filesz, _ in segs:
            if budget <= 0:
                break
            raw = self.pt.read(vaddr, min(filesz, budget))
            budget -= filesz
            if not raw:
                continue
            words = struct.unpack("<%dQ" % (len(raw) // 8), raw[:len(raw) // 8 * 8])
            lo, hi, itabs = self.types, self.etypes, self.itabs
            for i in range(len(words) - 1):
                w = words[i]
                if lo <= w < hi and w & 7 == 0:
                    d = words[i + 1]
                    if d == 0 or mapped(d):
                        found.append((vaddr + 8 * i, "eface"))
                        if d in self.map_addrs:
                            maptypes.add(w)
                elif w in itabs and (words[i + 1] == 0 or mapped(words[i + 1])):
                    found.append((vaddr + 8 * i, "iface"))
        return found, sorted(maptypes)


def damage_meta(kind, rng, pt, rt, maps, heap, iface_info):
    """Damage the runtime's records; returns a short description."""
    what = []
    mapaddr = int(rng.choice(maps)["address"], 16)
    nowhere = [0xdeadbeef000, 2**64 - 8, 1 << 47, 0x10, 2**63]

    def absurd64(base=None):
        c = nowhere + [rt.mheap, rt.allspans_ptr, mapaddr + 8, rng.getrandbits(64)]
        if base:
            c += [base, base + 8, base + 1]
        o = rt.random_object(rng)
        if o:
            c.append(o[0] + o[1] // 2 // 8 * 8 + 8)      # the middle of a heap object
        return rng.choice(c)

    def span_put(sp, f, v):
        fs = rt.fld("runtime.mspan", f)
        if fs and pt.putn(sp + fs[0], fs[1], v):
            what.append("%s=%#x" % (f, v & (2**(8 * fs[1]) - 1)))

    if kind == "allspans":
        c = rng.randrange(3)
        if c in (0, 2):
            v = absurd64(rt.allspans_ptr)
            pt.put64(rt.allspans_at, v)
            what.append("allspans.ptr=%#x" % v)
        if c in (1, 2):
            v = rng.choice([2**63, 2**64 - 1, 1 << 40, 1 << 32 | 1, rt.allspans_len * 1000,
                            rt.allspans_len + 1, pt.read64(rt.allspans_at + 16) + 1])
            pt.put64(rt.allspans_at + 8, v)
            what.append("allspans.len=%#x" % v)
    elif kind == "span-ptrs":
        n = rng.choice([1, 5, 50])
        for _ in range(n):
            i = rng.randrange(rt.allspans_len)
            other = rng.choice(rt.spans)
            v = rng.choice([0, 1, 0xdeadbeef000, other, other + 8, other + 24, rt.mheap,
                            rt.allspans_ptr, absurd64()])
            pt.put64(rt.allspans_ptr + 8 * i, v)
        what.append("%d allspans entries" % n)
    elif kind == "span-fields":
        fields = ["startAddr", "npages", "nelems", "elemsize", "freeindex", "allocCount", "allocBits",
                  "gcmarkBits", "largeType", "spanclass", "state", "limit", "next", "prev", "divMul",
                  "freeIndexForScan", "allocCache"]
        for _ in range(rng.choice([1, 3, 20])):
            sp = rng.choice(rt.inuse)
            f = rng.choice([f for f in fields if rt.fld("runtime.mspan", f)])
            size = rt.fld("runtime.mspan", f)[1]
            if size == 8:
                v = rng.choice([0, 2**64 - 1, 2**63, 1 << 40, 0xdeadbeef000, sp, sp + 8,
                                rt.span_field(sp, "startAddr") + 4, absurd64(sp)])
                if f == "largeType" and iface_info[1]:
                    v = rng.choice([v, iface_info[1][0], rt.types + 1, rt.etypes - 8])
            elif size == 1:
                v = rng.choice([0, 1, 2, 0x7f, 0x80, 0xff, rng.getrandbits(8)])
            else:
                v = rng.choice([0, 1, 2**(8 * size) - 1, 2**(8 * size - 1), rng.getrandbits(8 * size)])
            span_put(sp, f, v)
    elif kind == "span-overlap":
        a, b = rng.sample(rt.inuse, 2)
        sa = rt.span_field(a, "startAddr")
        c = rng.randrange(3)
        if c == 0:                              # b onto a, a little shifted
            span_put(b, "startAddr", sa + rng.choice([0, 8, 4096, 8192]))
        elif c == 1:                            # a grows over its neighbours
            span_put(a, "npages", rng.choice([1 << 20, 1 << 32, 2**63, 1000]))
            span_put(a, "nelems", 2**16 - 1)
            span_put(a, "allocCount", 2**16 - 1)
        else:                                   # many spans on one address
            for sp in rng.sample(rt.inuse, min(50, len(rt.inuse))):
                span_put(sp, "startAddr", sa)
            what[:] = ["50 spans at %#x" % sa]
    elif kind == "span-state":
        n = 0
        for sp in rng.sample(rt.other, min(len(rt.other), rng.choice([1, 10, 200]))):
            span_put(sp, "state", 1)            # dead / manual (stacks) now "in use"
            n += 1
        for sp in rng.sample(rt.inuse, min(len(rt.inuse), rng.choice([0, 5]))):
            span_put(sp, "state", rng.choice([0, 2, 3, 0xff]))
            n += 1
        what[:] = ["%d span states" % n]
    elif kind == "arenas":
        l2 = pt.read64(rt.arenas_at)
        c = rng.randrange(4)
        if c == 0 or not l2:
            v = absurd64(l2)
            pt.put64(rt.arenas_at, v)
            what.append("arenas[0]=%#x" % v)
        else:
            start = rt.span_field(rng.choice(rt.inuse), "startAddr")
            idx = ((start + (1 << 47)) & (2**64 - 1)) >> 26
            ha = pt.read64(l2 + 8 * idx)
            if c == 1 or not ha:
                v = rng.choice([0, 0xdeadbeef000, l2, ha + 8 if ha else 1, absurd64()])
                pt.put64(l2 + 8 * idx, v)
                what.append("arenas[0][%d]=%#x" % (idx, v))
            else:
                so = rt.off("runtime.heapArena", "spans")
                n = rng.choice([1, 16, 8192])
                for _ in range(n if n < 8192 else 1):
                    page = rng.randrange(8192)
                    pt.put64(ha + so + 8 * page, rng.choice([0, 0xdeadbeef000, rng.choice(rt.spans) + 8,
                                                             rng.choice(rt.spans), absurd64()]))
                if n == 8192:                   # the whole page table: one bogus span everywhere
                    v = rng.choice([0xdeadbeef000, rng.choice(rt.spans)])
                    pt.put(ha + so, struct.pack("<Q", v) * 8192)
                what.append("heapArena.spans, %d pages" % n)
    elif kind == "allgs":
        c = rng.randrange(4)
        if c == 0:
            v = absurd64(rt.allgs_ptr)
            pt.put64(rt.allgs_at, v)
            what.append("allgs.ptr=%#x" % v)
        elif c == 1:
            v = rng.choice([2**63, 2**64 - 1, 1 << 40, rt.allgs_len * 1000, rt.allgs_len + 1])
            pt.put64(rt.allgs_at + 8, v)
            what.append("allgs.len=%#x" % v)
        else:
            v = rng.choice([2**63, 1 << 40, rt.allgs_len + 1, 0])
            pt.put64(rt.sym["runtime.allglen"], v)
            what.append("allglen=%#x" % v)
            if c == 3:
                pt.put64(rt.allgs_at + 8, v)
                what.append("allgs.len")
    elif kind == "g-ptrs":
        n = rng.choice([1, 3, len(rt.gs)])
        for _ in range(n):
            i = rng.randrange(max(1, rt.allgs_len))
            other = rng.choice(rt.gs) if rt.gs else 0
            pt.put64(rt.allgs_ptr + 8 * i, rng.choice([0, 1, 0xdeadbeef000, other, other + 8,
                                                       rt.allgs_ptr, rt.mheap, absurd64()]))
        what.append("%d allgs entries" % n)
    elif kind == "g-stack":
        for g in rng.sample(rt.gs, min(len(rt.gs), rng.choice([1, 3, 100]))):
            lo, hi = pt.read64(g + rt.g_lo), pt.read64(g + rt.g_hi)
            c = rng.randrange(6)
            if c == 0:
                pt.put64(g + rt.g_lo, hi), pt.put64(g + rt.g_hi, lo)
            elif c == 1:
                pt.put64(g + rt.g_hi, lo + rng.choice([1 << 40, 1 << 32, 2**63]))
            elif c == 2:
                pt.put64(g + rt.g_lo, 0)
            elif c == 3:
                pt.put64(g + rt.g_lo, hi)
            elif c == 4:
                pt.put64(g + rt.g_hi, 2**64 - 1)
            else:                               # the stack "is" a heap span
                start, end, _, _ = rng.choice(rt.ranges)
                pt.put64(g + rt.g_lo, start), pt.put64(g + rt.g_hi, end)
                pt.put64(g + rt.g_sp, start + 64)
            what.append("g.stack#%d" % c)
    elif kind == "g-sched":
        for g in rng.sample(rt.parked or rt.gs, min(len(rt.parked or rt.gs), rng.choice([1, 3, 100]))):
            lo, hi = pt.read64(g + rt.g_lo), pt.read64(g + rt.g_hi)
            sp, pc, bp = pt.read64(g + rt.g_sp), pt.read64(g + rt.g_pc), pt.read64(g + rt.g_bp)
            c = rng.randrange(9)
            if c == 0:
                pt.put64(g + rt.g_sp, rng.choice([0, hi + 4096, lo - 4096, hi, sp + 3, 2**64 - 8]))
            elif c == 1:
                pt.put64(g + rt.g_pc, rng.choice([0, 1, pc + 1, 0xdeadbeef000, rt.mheap, 2**64 - 1]))
            elif c == 2:                        # saved BP points to itself
                x = bp if bp and lo <= bp < hi else sp
                pt.put64(g + rt.g_bp, x)
                pt.put64(x, x)
            elif c == 3:                        # a two-frame cycle
                x = bp if bp and lo <= bp < hi else sp
                y = pt.read64(x) or 0
                if not (lo <= y < hi) or y == x:
                    y = min(x + 64, hi - 16)
                pt.put64(g + rt.g_bp, x)
                pt.put64(x, y)
                pt.put64(y, x)
            elif c == 4:                        # frames that repeat: return PC = pc, BP = itself
                x = bp if bp and lo <= bp < hi else sp
                pt.put64(x, x)
                pt.put64(x + 8, pc)
                for i in range(0, min(512, hi - sp), 8):
                    pt.put64(sp + i, rng.choice([pc, sp, sp + i]))
            elif c == 5:
                pt.put64(g + rt.g_bp, rng.choice([0, 1, hi, lo - 8, 2**64 - 8, rt.mheap]))
            elif c == 6 and rt.g_lr is not None:
                pt.put64(g + rt.g_lr, rng.choice([pc, 0xdeadbeef000, 1]))
            elif c == 7:                        # bp chain pointing downwards, out of the stack
                x = bp if bp and lo <= bp < hi else sp
                pt.put64(x, lo - 16)
            else:
                pt.put64(g + rt.g_sp, hi - 8)
                pt.put64(g + rt.g_pc, pc)
            what.append("g.sched#%d" % c)
    elif kind == "g-status":
        gs = rng.sample(rt.gs, min(len(rt.gs), rng.choice([1, 5, 1000])))
        sc = rt.fld("runtime.g", "syscallsp")
        for g in gs:
            v = rng.choice([2, 3, 0x1004, 0xffffffff, 6, 4, 1, 11, 0x1002])
            pt.putn(g + rt.g_status, 4, v)
            if v == 3 and sc:
                pt.put64(g + sc[0], rng.choice([0, 0xdeadbeef000, pt.read64(g + rt.g_hi) or 0]))
        what.append("%d g statuses" % len(gs))
    elif kind == "g-frames":
        gs = rng.sample(rt.parked, min(len(rt.parked), rng.choice([1, 4]))) if rt.parked else []
        for g in gs:
            hi, sp = pt.read64(g + rt.g_hi), pt.read64(g + rt.g_sp)
            for i in range(0, min(1024, hi - sp), 8):
                if rng.random() < 0.5:
                    o = rt.random_object(rng)
                    pt.put64(sp + i, rng.choice([sp, sp + i, sp + i + 8, mapaddr, mapaddr + 8, 0,
                                                 rng.getrandbits(64), o[0] + 8 if o else 1, hi, 2**64 - 8]))
        what.append("frames of %d goroutines" % len(gs))
    elif kind == "allm":
        link = rt.off("runtime.m", "alllink")
        ms = rt.allm
        c = rng.randrange(4)
        if c == 0 and ms:                       # cycle: last m links back to the first, or to itself
            m = rng.choice(ms)
            pt.put64(m + link, rng.choice([m, ms[0]]))
            what.append("alllink cycle")
        elif c == 1:
            pt.put64(rt.sym["runtime.allm"], absurd64())
            what.append("allm")
        else:
            for m in ms:
                f = rng.choice(["curg", "g0", "gsignal", "procid", "alllink"])
                o = rt.fld("runtime.m", f)
                if o:
                    other = rng.choice(ms)
                    v = pt.readn(other + rt.off("runtime.m", "procid"), 8) if f == "procid" else absurd64(m)
                    pt.putn(m + o[0], o[1], v or 0)
                    what.append("m." + f)
    elif kind == "heap-cycle":
        made = 0
        want = rng.choice([1, 10, 200])
        for _ in range(want * 50 + 200):
            if made == want:
                break
            o = rt.random_object(rng, scan_only=True)
            if not o:
                continue
            base, size, _ = o
            words = rt.pointer_words(base, size)
            if not words:
                continue
            off, p = rng.choice(words)
            c = rng.randrange(4)
            if c == 0:                          # self-loop
                pt.put64(base + off, base)
            elif c == 1:                        # interior self-pointer
                pt.put64(base + off, base + 8)
            elif c == 2:                        # two-cycle
                q = rt.obj(p)
                qw = rt.pointer_words(q[0], q[1]) if q else []
                pt.put64((q[0] + (rng.choice(qw)[0] if qw else 0)) if q else base + off, base)
            else:                               # a long chain closed on itself
                cur, seen = (base, size), {base}
                for _ in range(rng.randrange(2, 60)):
                    ws = rt.pointer_words(*cur)
                    if not ws:
                        break
                    nxt = rt.obj(rng.choice(ws)[1])
                    if not nxt or nxt[0] in seen:
                        break
                    seen.add(nxt[0])
                    cur = nxt[:2]
                ws = rt.pointer_words(*cur)
                pt.put64(cur[0] + (rng.choice(ws)[0] if ws else 0), base)
            made += 1
        what.append("%d heap cycles" % made)
    elif kind == "iface-types":
        found, maptypes = iface_info
        n = 0
        for addr, k in rng.sample(found, min(len(found), rng.choice([1, 10, 500]))) if found else []:
            c = [0xdeadbeef000, rt.types + 1, rt.etypes - 8, rt.etypes, mapaddr, absurd64(), 8]
            if maptypes:
                c += [maptypes[0]] * 3          # type confusion: a map type, data not a map
            if k == "iface" and rt.itabs:
                c.append(rng.choice(sorted(rt.itabs)))
            pt.put64(addr, rng.choice(c))
            n += 1
        # Malloc headers of scan objects over 512 bytes (Go 1.22+ put a *_type there).
        h = 0
        for _ in range(rng.choice([0, 20]) if rt.fld("runtime.mspan", "largeType") else 0):
            o = rt.random_object(rng, scan_only=True, min_size=513)
            if o and rt.span_field(o[2], "spanclass") >> 1:
                pt.put64(o[0], rng.choice([0xdeadbeef000, rt.types + 3] + maptypes[:1]))
                h += 1
        what.append("%d interface type words, %d malloc headers" % (n, h))
    return ", ".join(what[:6]) + (" …" if len(what) > 6 else "") or "nothing"


def save_failure(dest, name, i, kind, exe, core, pt, mapscan):
    d = os.path.join(dest, "%s-round%d-%s" % (name, i, kind))
    os.makedirs(d, exist_ok=True)
    shutil.copy(exe, os.path.join(d, "exe"))
    shutil.copy(core, os.path.join(d, "core"))        # damaged, as mapscan saw it
    with open(os.path.join(d, "README"), "w") as f:
        f.write("damage: %s\nrepro: %s --json --exe exe core\nbytes written (address: new bytes):\n"
                % (kind, mapscan))
        for addr, data in pt.log:
            f.write("  %#x: %s\n" % (addr, data.hex() if len(data) <= 64 else data[:64].hex() + "…"))
    return d


# ----- inputs that are not damaged cores -------------------------------------

def elf_section(b, name):
    """(section header offset, file offset, size) of section name."""
    shoff, = struct.unpack_from("<Q", b, 40)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 58)
    strtab = struct.unpack_from("<IIQQQQ", b, shoff + shstrndx * shentsize)[4]
    for i in range(shnum):
        h = shoff + i * shentsize
        sh_name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", b, h)
        if b[strtab + sh_name:b.index(b"\0", strtab + sh_name)] == name.encode():
            return h, off, size
    raise RuntimeError("no section %s" % name)


# Damage to the first .debug_rnglists unit header (DWARF 5: Go 1.25 and
# later) that makes Debian's libdwarf 20210528 free twice, or loop, in
# dwarf_load_rnglists.  The executable still matches its core and runs:
# debug sections are not loaded.  Build it with -ldflags=-compressdwarf=false
# so that the section can be patched in place.
RNGLISTS_DAMAGE = {
    "version-6": lambda b, h, off, size: struct.pack_into("<H", b, off + 4, 6),
    "address-size-0": lambda b, h, off, size: b.__setitem__(off + 6, 0),
    "section-size-8": lambda b, h, off, size: struct.pack_into("<Q", b, h + 32, size - 8),
    "unit-length-1": lambda b, h, off, size: struct.pack_into(
        "<I", b, off, struct.unpack_from("<I", b, off)[0] - 1),
}


def hostile_rnglists(exe, out, how):
    """Copy exe to out with its .debug_rnglists damaged the way `how` says."""
    with open(exe, "rb") as f:
        b = bytearray(f.read())
    h, off, size = elf_section(b, ".debug_rnglists")
    RNGLISTS_DAMAGE[how](b, h, off, size)
    with open(out, "wb") as f:
        f.write(b)
    os.chmod(out, 0o755)
    return out


def foreign_sanitizer_only(err, pid):
    """A sanitizer report in err comes only from processes other than pid
    (the DWARF sandbox's child, which a hostile file is meant to crash)."""
    text = err.decode(errors="replace")
    own = "==%d==" % pid
    return own not in text


def hostile_dwarf(mapscan, go, work, asan, name):
    """The known libdwarf double free, contained: mapscan --exe HOSTILE CORE
    must exit 6 with one line naming the executable, whatever the DWARF
    reader does (crash, loop)."""
    try:
        exe, core = capture(go, work, name + "-uncompressed", ldflags="-compressdwarf=false")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        return fail(name + "/hostile-rnglists/capture", e)
    for how in RNGLISTS_DAMAGE:
        label = "%s/hostile-rnglists-%s" % (name, how)
        bad = hostile_rnglists(exe, exe + "." + how, how)
        res = run_mapscan(mapscan, bad, core, work, asan, timeout=180)
        if asan and res.rc == EXIT_NODWARF and foreign_sanitizer_only(res.err, res.pid):
            res.err = b""        # the child's report: the crash it was made for
        expect(label, res, asan, EXIT_NODWARF, [bad, "DWARF reader"])


def capture_filtered(exe, workdir, name, coredump_filter):
    """A kernel core of exe taken with /proc/self/coredump_filter set."""
    run = os.path.join(workdir, name)
    os.makedirs(run)

    def prepare():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        with open("/proc/self/coredump_filter", "w") as f:
            f.write(coredump_filter)
    subprocess.run([exe], cwd=run, preexec_fn=prepare, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300, env=dict(os.environ, GOTRACEBACK="crash",
                   MAPSCAN_ORACLE=os.path.join(run, "oracle.json")))
    core = os.path.join(run, "core")
    if not os.path.exists(core):
        raise RuntimeError("no core written in " + run)
    return core


def expect(name, res, asan, rc, words=(), timeout_ok=False):
    """A run that must end with status rc (and, for an error, one line on
    stderr holding every word)."""
    why = judge(res, asan)
    if why:
        return fail(name, why)
    if res.rc != rc:
        return fail(name, "status %r, want %d: %s" % (res.rc, rc, res.out.decode(errors="replace")[-300:]))
    msg = json.loads(res.out)["error"]["message"]
    missing = [w for w in words if w not in msg]
    if missing:
        return fail(name, "message %r does not say %s" % (msg, missing))
    ok("%s -> exit %d (%.2f s)" % (name, rc, res.secs))


def notes_middle(data):
    """The file offset halfway through an ELF core's first PT_NOTE."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype == 4 and filesz:
            return off + filesz // 2
    raise RuntimeError("no PT_NOTE in the core")


def special_inputs(mapscan, exe, core, work, asan, name):
    """Files that are not cores or executables, and cores that hold too
    little: FIFOs, devices and directories named by --exe, by the core's
    NT_FILE note or as the core; a core with every PT_LOAD empty, cores
    taken with coredump_filter leaving memory out, a core lacking half the
    heap."""
    d = os.path.join(work, name + ".special")
    os.makedirs(d)
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    # A reader that opens a FIFO without O_NONBLOCK waits forever for a
    # writer: each of these must end at once.
    for label, args in (("exe-fifo", ["--exe", fifo, core]), ("exe-dev-zero", ["--exe", "/dev/zero", core]),
                        ("exe-tty", ["--exe", "/dev/tty", core]), ("exe-dir", ["--exe", d, core]),
                        ("core-fifo", ["--exe", exe, fifo]), ("core-dev-zero", ["--exe", exe, "/dev/zero"])):
        res = run_mapscan(mapscan, exe, core, work, asan, args=args, timeout=30)
        expect("%s/%s" % (name, label), res, asan, EXIT_OPEN)
    # The executable the core names (NT_FILE) replaced by a FIFO.
    saved = exe + ".real"
    os.rename(exe, saved)
    try:
        os.mkfifo(exe)
        res = run_mapscan(mapscan, exe, core, work, asan, args=[core], timeout=30)
        expect(name + "/nt-file-names-a-fifo", res, asan, EXIT_OPEN, [exe, "--exe"])
    finally:
        os.unlink(exe)
        os.rename(saved, exe)

    empty = os.path.join(d, "empty-loads")
    n = set_filesz(core, empty, lambda v, fs, ms, fl: 0)
    res = run_mapscan(mapscan, exe, empty, work, asan, timeout=60)
    expect("%s/every-PT_LOAD-empty (%d segments)" % (name, n), res, asan, EXIT_EMPTY,
           ["coredump_filter", "gcore"])
    for filt in ("0", "4"):
        label = "%s/coredump_filter-%s" % (name, filt)
        try:
            c = capture_filtered(exe, d, "filter" + filt, filt)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            fail(label, e)
            continue
        res = run_mapscan(mapscan, exe, c, work, asan, timeout=60)
        expect(label, res, asan, EXIT_EMPTY, ["coredump_filter", "gcore"])

    # Half of the heap arena segment is gone: a report, marked partial;
    # --strict makes that exit 12.
    res = run_mapscan(mapscan, exe, core, work, asan)
    maps = [int(m["address"], 16) for m in json.loads(res.out)["maps"]] if res.rc == 0 else []
    part = os.path.join(d, "half-heap")
    n = set_filesz(core, part, lambda v, fs, ms, fl: fs // 2 if fs == ms and fs >= 1 << 20 and
                   (fl & 2) and any(v <= a < v + fs for a in maps) else None)
    label = name + "/half-the-heap (%d segments)" % n
    res = run_mapscan(mapscan, exe, part, work, asan)
    why = judge(res, asan) or (res.rc and "status %d" % res.rc)
    if not why:
        doc = json.loads(res.out)
        src = doc.get("source", {})
        if src.get("partial") is not True or not src.get("missing_bytes"):
            why = "source.partial %r, missing_bytes %r: want true and > 0" % (src.get("partial"),
                                                                              src.get("missing_bytes"))
        elif not any("coredump_filter" in w for w in doc.get("warnings", [])):
            why = "no warning saying what is missing: %r" % doc.get("warnings")
    if why:
        fail(label, why)
    else:
        ok(label + " -> partial report, %d MiB missing" % (src["missing_bytes"] >> 20))
    res = run_mapscan(mapscan, exe, part, work, asan, args=["--strict", "--exe", exe, part])
    try:
        doc = json.loads(res.out)
    except ValueError:
        doc = {}
    if res.rc != EXIT_PARTIAL or "maps" not in doc or b"Sanitizer" in res.err:
        fail(label + "/--strict", "status %r, want %d with the report" % (res.rc, EXIT_PARTIAL))
    else:
        ok(label + "/--strict -> exit 12 with the report")
    p = subprocess.run([mapscan, "--exe", exe, part], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 or "PARTIAL" not in out:
        fail(label + "/text", "status %d, no PARTIAL line: %s" % (p.returncode, out[:300]))
    else:
        ok(label + "/text says PARTIAL")

    cut_short(mapscan, exe, core, work, asan, name, d, maps)


def cut_short(mapscan, exe, core, work, asan, name, d, maps):
    """The core cut short, as a size limit or a full disk leaves it: past
    its notes, a report marked partial, with what the file holds and no
    map the whole core lacks; inside its notes, exit 4 naming them."""
    whole = {}
    res = run_mapscan(mapscan, exe, core, work, asan)
    if res.rc == 0:
        whole = {m["address"]: m["count"] for m in json.loads(res.out)["maps"]}
    size = os.path.getsize(core)
    with open(core, "rb") as f:
        data = f.read()
    for frac in (0.5, 0.9, 0.999):
        keep = int(size * frac)
        cut = os.path.join(d, "cut-%g" % frac)
        with open(cut, "wb") as f:
            f.write(data[:keep])
        label = "%s/cut-short-at-%g" % (name, frac)
        res = run_mapscan(mapscan, exe, cut, work, asan)
        why = judge(res, asan) or (res.rc and "status %d" % res.rc)
        if not why:
            doc = json.loads(res.out)
            src = doc.get("source", {})
            invented = [m["address"] for m in doc["maps"] if whole.get(m["address"]) != m["count"]]
            if src.get("partial") is not True or src.get("cut_bytes") != size - keep:
                why = "source.partial %r, cut_bytes %r: want true and %d" % (
                    src.get("partial"), src.get("cut_bytes"), size - keep)
            elif not any("cut short" in w and "ProcessSizeMax" in w for w in doc.get("warnings", [])):
                why = "no warning saying the core is cut short and what to do: %r" % doc.get("warnings")
            elif invented:
                why = "maps the whole core does not have (or with other counts): %s" % invented[:5]
        if why:
            fail(label, why)
        else:
            ok("%s -> partial report, %d of %d maps" % (label, len(doc["maps"]), len(whole)))
        res = run_mapscan(mapscan, exe, cut, work, asan, args=["--strict", "--exe", exe, cut])
        if res.rc != EXIT_PARTIAL or b"Sanitizer" in res.err:
            fail(label + "/--strict", "status %r, want %d" % (res.rc, EXIT_PARTIAL))
        else:
            ok(label + "/--strict -> exit 12")
    # Cut inside the notes (registers, the files mapped): no core to read.
    cut = os.path.join(d, "cut-in-notes")
    with open(cut, "wb") as f:
        f.write(data[:notes_middle(data)])
    res = run_mapscan(mapscan, exe, cut, work, asan, timeout=30)
    expect(name + "/cut-short-in-the-notes", res, asan, 4, ["truncated core file (notes", cut])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mapscan", required=True)
    ap.add_argument("--rounds", type=int,
                    help="rounds per toolchain (default %d: every kind three times or more; under ASan, "
                    "where a run takes a second, %d)" % (len(KINDS) * 3, len(KINDS) * 2))
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--only", help="run only these kinds (comma-separated)")
    ap.add_argument("--save-failures", help="keep each failure's executable and damaged core here")
    ap.add_argument("--strict", action="store_true",
                    help="fail a round of runtime-record damage that loses maps without any warning")
    a = ap.parse_args()
    mapscan = os.path.abspath(a.mapscan)
    asan = is_asan(mapscan)
    if a.rounds is None:
        a.rounds = len(KINDS) * (2 if asan else 3)
    only = set(a.only.split(",")) if a.only else None
    if only and only - set(KINDS) - {"special"}:
        sys.exit("unknown kinds: %s (known: %s)" % (", ".join(only - set(KINDS)), ", ".join(sorted(set(KINDS)))))
    print("# %s%s" % (mapscan, " (ASan: no memory limit)" if asan else
                      ", RLIMIT_AS %d GiB, peak RSS limit %d MiB" % (MEM_AS >> 30, MEM_RSS >> 20)))
    work = tempfile.mkdtemp(prefix="mapscan-corrupt-")
    silent = []
    try:
        try:
            tool = build_layout_tool(work)
        except (RuntimeError, OSError) as e:
            tool = None
            fail("layout tool", e)
        toolchains = [("go", "swiss"), ("/usr/lib/go-1.19/bin/go", "classic")]
        for go, layout in toolchains:
            name = layout
            try:
                exe, core = capture(go, work, name)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                fail(name + "/capture", e)
                continue
            res = run_mapscan(mapscan, exe, core, work, asan)
            why = judge(res, asan) or (res.rc and "status %d" % res.rc)
            if why:
                fail(name + "/baseline", why)
                continue
            base_maps = len(json.loads(res.out)["maps"])
            # Every other round reads the core through a stripped copy of the
            # executable: no DWARF, the types from the runtime's own tables.
            stripped = exe + ".stripped"
            subprocess.run(["strip", "-o", stripped, exe], check=True)
            sres = run_mapscan(mapscan, stripped, core, work, asan)
            why = judge(sres, asan) or (sres.rc and "status %d" % sres.rc)
            if why:
                fail(name + "/baseline without DWARF", why)
                continue
            base_nodwarf = len(json.loads(sres.out)["maps"])
            maps = [m for m in json.loads(res.out)["maps"] if any(r.startswith("main.") for r in m["roots"])]
            ok(name + "/baseline (%d maps, %.2f s, peak RSS %d MiB)" % (len(maps), res.secs, res.rss_kib >> 10))
            if not only or "special" in only:
                special_inputs(mapscan, exe, core, work, asan, name)
                if layout == "swiss":   # DWARF 5, with .debug_rnglists
                    hostile_dwarf(mapscan, go, work, asan, name)
            segs = load_segments(core)
            # The Go heap: writable segments that hold map headers.
            heap = [s for s in segs if any(s[0] <= int(m["address"], 16) < s[0] + s[1] for m in maps)]
            pt = Patcher(core, segs)
            rt, iface_info = None, ([], [])
            if tool:
                try:
                    rt = Runtime(read_layout(tool, exe), pt, maps)
                    iface_info = rt.interfaces(segs, random.Random(a.seed))
                    ok("%s/runtime records (%d spans, %d in use, %d goroutines, %d parked, %d Ms, "
                       "%d interface words, %d map types)" % (name, len(rt.spans), len(rt.inuse), len(rt.gs),
                                                              len(rt.parked), len(rt.allm), len(iface_info[0]),
                                                              len(iface_info[1])))
                except (RuntimeError, OSError, KeyError, ValueError, subprocess.TimeoutExpired) as e:
                    fail(name + "/runtime records", e)
            try:
                for i in range(a.rounds):
                    kind = KINDS[i % len(KINDS)]
                    if (only and kind not in only) or (kind != "map" and rt is None):
                        continue
                    rng = random.Random("%d/%s/%d" % (a.seed, name, i))
                    if kind == "map":
                        desc = damage_map(rng, pt, maps, heap, layout)
                    else:
                        desc = damage_meta(kind, rng, pt, rt, maps, heap, iface_info)
                    pt.f.flush()
                    use = stripped if i % 2 else exe
                    res = run_mapscan(mapscan, use, core, work, asan)
                    label = "%s/round %d %s%s (%s)" % (name, i, kind, " no-DWARF" if i % 2 else "", desc)
                    why = judge(res, asan)
                    if why:
                        if a.save_failures:
                            why += " [saved in %s]" % save_failure(a.save_failures, name, i, kind, exe, core,
                                                                   pt, mapscan)
                        fail(label, why)
                    else:
                        nmaps, nwarn, said = outcome(res)
                        base = base_nodwarf if i % 2 else base_maps
                        if kind != "map" and nmaps is not None and nmaps < base and not nwarn:
                            # The acceptance wants warnings with a partial report.
                            silent.append(label)
                            if a.strict:
                                fail(label, "%s: fewer maps than the undamaged core's %d and no warning"
                                     % (said, base))
                                pt.restore()
                                continue
                            said += " [fewer maps than the undamaged core's %d, no warning]" % base
                        ok(label + " -> " + said)
                    pt.restore()
            finally:
                pt.restore()
                pt.f.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if silent and not a.strict:
        print("# %d rounds of damage to the runtime's records lost maps without a warning "
              "(--strict makes that a failure):" % len(silent))
        for label in silent:
            print("#   " + label)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
