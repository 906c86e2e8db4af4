#!/usr/bin/env python3
"""End-to-end tests: mapscan on real cores of real Go programs.

    python3 tests/e2e/run.py --mapscan build/mapscan [--keep DIR] [-k SUBSTR]
                             [--allow-missing-toolchain]

For each Go toolchain (TOOLCHAINS below: every Go from 1.19 to 1.27;
classic maps up to 1.23 and in 1.24 with GOEXPERIMENT=noswissmap, Swiss
maps from 1.24, and 1.27's GOEXPERIMENT=mapsplitgroup group layout) this
builds testdata/fixtures/mapstates, runs it so that it writes its oracle
(the figures of docs/figures.md, measured from inside the program) and
dies with a core, runs mapscan on the core and requires mapscan's JSON to
agree with the oracle.  It also checks mapscan's text output, its errors
on bad input (exit status, one line on stderr, JSON errors) and the bundled
sample cores in testdata/samples/.

The fixture holds maps in every way a program can (globals, pointer
chains, slices, interfaces, inner maps, channel buffers, closures, goroutine
locals with the header on the heap or in the frame, a sync.Pool, an
unsafe.Pointer: testdata/fixtures/mapstates/holders.go).  For each, mapscan
must report a map at the oracle's address with the oracle's type and
figures, and among its roots every root the oracle expects (a path, or
"re:" and a regular expression it must match in full).  "No map that is
not there" is checked where that is decidable: no map mapscan calls live
may have a root in package main or a type of package main unless the oracle
has it; no map may lie in memory the oracle knows is not a map (not_maps);
no map the fixture dropped may be called reachable.  The per-map flags
reachable, type_certain / type_guessed and on_stack are checked when
mapscan gives them.

Every check prints `ok - NAME` or `FAIL - NAME: DETAILS`; the last line is
`N passed, M failed`, and the exit status is 1 if anything failed.  -k runs
only the checks whose name contains SUBSTR (phases whose name is part of
SUBSTR, or contains it, are the only ones run when there are such phases).

Phases (one per toolchain, then "errors" and "samples") run --jobs at a
time (default 2: builds and cores of one toolchain overlap another's
mapscan runs); each phase's lines are printed together, in phase order.
--cache DIR keeps each toolchain's executables, cores and oracles between
runs, keyed by a hash of the fixture's and the oracle's sources and the
toolchain (the Makefile's normal and ASan passes share one build).

Environment: MAPSCAN_GO1NN (MAPSCAN_GO119, ..., MAPSCAN_GO127) names
another go command for a toolchain (default: `go` with GOTOOLCHAIN=local
for 1.26, /usr/lib/go-1.19/bin/go, and `go` with GOTOOLCHAIN set to the
release for the others; the go command fetches it from the module proxy
once).

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import hashlib
import json
import lzma
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "testdata", "fixtures", "mapstates")
ORACLE = os.path.join(ROOT, "testdata", "oracle")
# Bump when a change here changes what is built or how it is run, so that
# --cache entries from before are not reused.
FIXTURE_HARNESS = "1"
SAMPLES = os.path.join(ROOT, "testdata", "samples")

# docs/figures.md, in its order.  `growing` is a bool, the others ints.
FIGURES = ["count", "live_slots", "buckets", "old_buckets", "overflow_buckets",
           "spare_overflow_buckets", "empty_buckets", "tombstones", "tables",
           "capacity_slots", "growing", "retained_bytes", "ideal_bytes",
           "reclaimable_bytes"]
SUMMARY = ["maps", "count", "retained_bytes", "ideal_bytes", "reclaimable_bytes"]
MAP_KEYS = ["address", "type", "key_type", "elem_type", "layout", "roots",
            "more_roots", "warnings"] + FIGURES
# Per-map booleans mapscan may add (whole-heap enumeration): whether it found
# the map from a root, whether its type is known rather than guessed (either
# spelling), and whether the header is on a goroutine stack.  Checked when
# present; their absence means "reachable, type known".
MAP_FLAGS = ["reachable", "type_certain", "type_guessed", "on_stack"]

# A root that names a holder in package main: a global of main, or a local
# variable (as DWARF describes it) of a goroutine's frame in a main function
# ("goroutine 7 (main.serve) → local srv.sessions").  The fixture registers
# every live map such a holder reaches, so any other map claimed by one is
# invented.  Conservative roots ("goroutine 6 (main.parkDeep) → stack word
# 0x...") are not such holders: a frame's dead slots keep stale words that
# can point at real, unreachable maps (seen on Go 1.19: sync.Map maps made
# after the last GC, found through parkDeep's frames with a guessed type).
MAIN_ROOT = re.compile(r"main\.|goroutine \d+ \(main\.[^)]*\) → local ")
# A type that names a type of package main ("map[string]*main.Session").
MAIN_TYPE = re.compile(r"(?<![\w./])main\.")


def set_filesz(core, out, pick):
    """Copy core to out with each PT_LOAD's p_filesz replaced by
    pick(vaddr, filesz, memsz, flags) (None: unchanged)."""
    with open(core, "rb") as f:
        b = bytearray(f.read())
    phoff, = struct.unpack_from("<Q", b, 32)
    phentsize, phnum = struct.unpack_from("<HH", b, 54)
    changed = 0
    for i in range(phnum):
        o = phoff + i * phentsize
        p_type, flags, _, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", b, o)
        if p_type != 1:
            continue
        new = pick(vaddr, filesz, memsz, flags)
        if new is not None and new != filesz:
            struct.pack_into("<Q", b, o + 32, new)
            changed += 1
    with open(out, "wb") as f:
        f.write(b)
    return changed


def reachable(m):
    """Does mapscan say m is held (not garbage)?  Yes unless it says no."""
    return m.get("reachable") is not False


def type_known(m):
    return m.get("type_certain") is not False and m.get("type_guessed") is not True


def key_end(path, i):
    """Past the "[...]" at path[i] (brackets and braces nested, quoted
    strings skipped whole), or None when it does not close."""
    depth = 0
    while i < len(path):
        c = path[i]
        if c == '"':
            i += 1
            while i < len(path) and path[i] != '"':
                i += 2 if path[i] == "\\" else 1
            if i >= len(path):
                return None
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1 if c == "]" else None
        i += 1
    return None


def group_pattern(path):
    """lib/group.c group_pattern, written again from docs/json.md: indices
    and map keys become [*], a descent through a tree {*}, repeat counts
    ×*, goroutine ids and stack word addresses *, words of untyped memory
    +*, except inside parentheses (type and function names)."""
    out, depth, i = "", 0, 0
    while i < len(path):
        c = path[i]
        if c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif depth == 0:
            if c == "[":
                e = key_end(path, i)
                if e:
                    out += "[*]"
                    i = e
                    continue
            if c == "{":
                e = path.find("}", i)
                if e >= 0:
                    out += "{*}"
                    i = e + 1
                    continue
            m = re.match(r"×\d+", path[i:])
            if m:
                # of an untyped word: a run of them, "+*…"
                out += "" if out.endswith("+*…") else "…" if out.endswith("+*") else "×*"
                i += len(m.group(0))
                continue
            # A word of untyped memory, "local+128" (not a frame's sp+0x28).
            m = re.match(r"\+\d+(?!x)", path[i:]) if out and not out.endswith(" ") else None
            if m:
                # two or more in a row are one run, "+*…"
                out += "" if out.endswith("+*…") else "…" if out.endswith("+*") else "+*"
                i += len(m.group(0))
                continue
            m = re.match(r"\d+", path[i:]) if out.endswith("goroutine ") else None
            m = m or (re.match(r"0x[0-9a-fA-F]+", path[i:]) if out.endswith("stack word ") else None)
            if m:
                out += "*"
                i += len(m.group(0))
                continue
        out += c
        i += 1
    return out


def key_problems(m, om):
    """mapscan's sample keys of map m against the oracle's keys of the same
    map (om["keys"]: all of them, printed by Go): min(3, count) keys, each
    one of the map's; a key cut at mapscan's length limit ends in "…" and
    starts like one of them."""
    want = om.get("keys")
    if not want:
        return []
    got = m.get("sample_keys")
    if not isinstance(got, list):
        return ["no sample_keys"]
    p = []
    if len(got) != min(3, om["count"]):
        p.append("%d sample keys %r, want %d" % (len(got), got, min(3, om["count"])))
    for k in got:
        if k in want or (isinstance(k, str) and k.endswith("…")
                         and any(w.startswith(k[:-1]) for w in want)):
            continue
        p.append("sample key %r is none of the map's keys %r" % (k, want[:6]))
    if len(set(got)) != len(got):
        p.append("sample keys %r repeat" % got)
    return p


def group_problems(doc):
    """The groups of a --json report (summed anew from its maps, which must
    all be listed) and the group each map names."""
    maps = [m for m in doc.get("maps", []) if isinstance(m, dict)]
    groups = doc.get("groups")
    if not isinstance(groups, list):
        return ["no groups array"]
    by_id = {g.get("id"): g for g in groups if isinstance(g, dict)}
    want = {}
    p = []
    for m in maps:
        roots = m.get("roots") or []
        key = (group_pattern(roots[0]) if m.get("reachable") is not False and roots else None,
               m.get("type"), m.get("reachable") is not False)
        w = want.setdefault(key, dict(maps=0, count=0, retained_bytes=0, reclaimable_bytes=0, ids=set()))
        w["maps"] += 1
        for k in ("count", "retained_bytes", "reclaimable_bytes"):
            w[k] += m.get(k, 0)
        w["ids"].add(m.get("group"))
    got = {}
    for g in groups:
        key = (g.get("pattern"), g.get("type"), g.get("reachable"))
        if key in got:
            p.append("group %r listed twice" % (key,))
        got[key] = g
    for key, w in want.items():
        g = got.get(key)
        if g is None:
            p.append("no group %r for %d maps" % (key, w["maps"]))
            continue
        for k in ("maps", "count", "retained_bytes", "reclaimable_bytes"):
            if g.get(k) != w[k]:
                p.append("group %r: %s %r, the maps sum to %r" % (key, k, g.get(k), w[k]))
        if w["ids"] != {g.get("id")}:
            p.append("maps of group %r name groups %r, not its id %r" % (key, w["ids"], g.get("id")))
    for key in got:
        if key not in want:
            p.append("group %r has no map" % (key,))
    rec = [g.get("reclaimable_bytes") for g in groups if g.get("reachable")]
    if rec != sorted(rec, reverse=True):
        p.append("reachable groups not sorted by reclaimable bytes")
    if len(by_id) != len(groups):
        p.append("group ids are not distinct")
    return p[:10]


def unwrap(text, col=46):
    """Text lines with their continuation lines (indented col + 2, as the
    text report continues a name too long for its column) joined back."""
    out = []
    for line in text.split("\n"):
        if out and line.startswith(" " * (col + 2)) and not line.startswith(" " * (col + 3)):
            out[-1] += line[col + 2:]
        else:
            out.append(line)
    return "\n".join(out)


def names_whole_problems(run_mapscan, core, extra=()):
    """run_mapscan(args, env=...) -> (rc, stdout, stderr, ...).  Every type,
    path and owner pattern of the JSON report of core appears
    whole in the text report: on one line when stdout is a pipe, and
    on continuation lines joined back in an 80-column terminal
    (COLUMNS=80), whose lines all fit."""
    args = ["--json", "--top", "0", core] + list(extra)
    doc = json_doc(args, *run_mapscan(args)[:3])
    p = []
    names = set()
    for m in doc.get("maps", []):
        if m.get("type"):
            names.add(m["type"])
        if m.get("roots"):
            names.add(m["roots"][0])
    for g in doc.get("groups", []):
        if g.get("pattern") and g.get("maps", 0) > 1:
            names.add(g["pattern"])
    if not names:
        return ["the JSON report has no names"]
    for cols in (None, 80):
        rc, out, err = run_mapscan(["--top", "0", core] + list(extra),
                                   env={"COLUMNS": str(cols)} if cols else {"COLUMNS": ""})[:3]
        if rc:
            p.append("COLUMNS=%s: exit %d: %s" % (cols, rc, tail(err)))
            continue
        text = unwrap(out) if cols else out
        lines = text.split("\n")
        cut = sorted(n for n in names if n not in text)
        if cut:
            p.append("COLUMNS=%s: %d names not whole, e.g. %s" % (cols, len(cut), cut[:3]))
        # A long map key in a path is printed cut, as in sample keys:
        # "…"…(92 bytes); that is the name, not the text cutting it.
        if "…" in re.sub(r'"…\(\d+ bytes\)', "", out):
            p.append("COLUMNS=%s: the text cuts something with …" % cols)
        if cols:
            wide = [l for l in out.split("\n") if len(l) > cols]
            if wide:
                p.append("%d lines wider than %d columns, e.g. %r" % (len(wide), cols, wide[0]))
        elif not any(n in l for n in names for l in lines):
            p.append("no name on a line of its own")
    return p


def root_matches(want, roots):
    """want: an expected root from the oracle, either a path mapscan must
    print exactly or "re:" and a regular expression one of the roots must
    match in full (for paths through untyped memory, and closures before
    Go 1.23, whose exact spelling is mapscan's choice)."""
    if want.startswith("re:"):
        rx = re.compile(want[3:])
        return any(isinstance(x, str) and rx.fullmatch(x) for x in roots)
    return want in roots

SCHEMA = 2  # docs/json.md

# Exit statuses of man/mapscan.1 (lib/error.h).
EXIT_USAGE, EXIT_OPEN, EXIT_FORMAT, EXIT_NOTGO, EXIT_NODWARF, EXIT_MISMATCH = 2, 3, 4, 5, 6, 7

# hmap and maps.Map on amd64: a never-written map's storage (56: the hmap of
# Go 1.24/1.25 noswissmap builds)
HEADER_BYTES = (48, 56)

RUN_TIMEOUT = 900  # seconds for one mapscan run (ASan builds are slow)


def release(s):
    """(1, 27) of "go1.27.3", "go1.27.3-X:mapsplitgroup", "go1.24.11 X:noswissmap",
    "go1.26" or "go1.21rc2"; None if s does not start with a Go release."""
    m = re.match(r"go1\.(\d+)", s or "")
    return (1, int(m.group(1))) if m else None


def version_of(s):
    """The toolchain's version in a runtime.Version() string: "go1.27.3" of
    "go1.27.3-X:mapsplitgroup" (Go 1.26+ joins experiments with "-X:") or of
    "go1.24.11 X:noswissmap" (before, with " X:")."""
    m = re.match(r"go\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?", s or "")
    return m.group(0) if m else ""


def experiments_of(s):
    """The GOEXPERIMENTs a runtime.Version() string names, as a set."""
    m = re.search(r"[ -]X:(\S+)", s or "")
    return set(m.group(1).split(",")) if m else set()


# ELF machines (e_machine) of the GOARCHes the suite builds for.
ELF_MACHINE = {"amd64": 62, "arm64": 183}


def host_goarch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


class Toolchain:
    def __init__(self, name, env_var, default_go, gotoolchain, layout, ldflags, experiment="",
                 goarch=None):
        self.name = name
        self.version = release(name)
        self.experiment = experiment
        override = os.environ.get(env_var)
        self.go = override or default_go
        self.env = dict(os.environ, GOTOOLCHAIN="local" if override else gotoolchain,
                        GOWORK="off", GO111MODULE="on", CGO_ENABLED="0")
        if experiment:
            self.env["GOEXPERIMENT"] = experiment
        # Another GOARCH: cross-built, and run under qemu-user unless the
        # host is of that architecture (tests/e2e/run.py: capture_qemu_core).
        self.goarch = goarch or host_goarch()
        self.emulated = self.goarch != host_goarch()
        if goarch:
            self.env["GOARCH"] = goarch
        self.layout = layout
        self.ldflags = ldflags  # -checklinkname=0: the oracle links runtime.roundupsize

    def run(self, args, cwd=None, timeout=600):
        return subprocess.run([self.go] + args, cwd=cwd, env=self.env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


TOOLCHAINS = [
    Toolchain("go1.26", "MAPSCAN_GO126", "go", "local", "swiss", []),
    Toolchain("go1.19", "MAPSCAN_GO119", "/usr/lib/go-1.19/bin/go", "local", "classic", []),
    Toolchain("go1.20.14", "MAPSCAN_GO120", "go", "go1.20.14", "classic", []),
    # 1.21 alone grows classic maps past 6 entries per bucket, not 6.5.
    Toolchain("go1.21.13", "MAPSCAN_GO121", "go", "go1.21.13", "classic", []),
    Toolchain("go1.22.12", "MAPSCAN_GO122", "go", "go1.22.12", "classic", []),
    Toolchain("go1.23.12", "MAPSCAN_GO123", "go", "go1.23.12", "classic", ["-checklinkname=0"]),
    Toolchain("go1.24.11", "MAPSCAN_GO124", "go", "go1.24.11", "swiss", ["-checklinkname=0"]),
    # Go 1.24/1.25 can still build classic maps (a 56-byte hmap with clearSeq).
    Toolchain("go1.24.11-noswissmap", "MAPSCAN_GO124", "go", "go1.24.11", "classic",
              ["-checklinkname=0"], experiment="noswissmap"),
    Toolchain("go1.25.5", "MAPSCAN_GO125", "go", "go1.25.5", "swiss", ["-checklinkname=0"]),
    Toolchain("go1.27.3", "MAPSCAN_GO127", "go", "go1.27.3", "swiss", ["-checklinkname=0"]),
    # Groups of 8 keys, then 8 elems (abi.MapType's KeysOff/KeyStride/...).
    Toolchain("go1.27.3-mapsplitgroup", "MAPSCAN_GO127", "go", "go1.27.3", "swiss",
              ["-checklinkname=0"], experiment="mapsplitgroup"),
    # linux/arm64, cross-built and cored under qemu-user: the first and
    # the last Go of each map layout.
    Toolchain("go1.26-arm64", "MAPSCAN_GO126", "go", "local", "swiss", [], goarch="arm64"),
    Toolchain("go1.19-arm64", "MAPSCAN_GO119", "/usr/lib/go-1.19/bin/go", "local", "classic", [],
              goarch="arm64"),
    Toolchain("go1.23.12-arm64", "MAPSCAN_GO123", "go", "go1.23.12", "classic", ["-checklinkname=0"],
              goarch="arm64"),
    Toolchain("go1.27.3-arm64", "MAPSCAN_GO127", "go", "go1.27.3", "swiss", ["-checklinkname=0"],
              goarch="arm64"),
]
PHASES = [tc.name for tc in TOOLCHAINS] + ["errors", "samples"]
# Toolchains the service fixture (testdata/fixtures/mapstates/service.go)
# runs with: one per map layout.
SERVICE_TOOLCHAINS = ("go1.26", "go1.23.12")


class Failure(Exception):
    """A step a check depends on went wrong; the message says what."""


def tail(text, n=600):
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def json_doc(args, rc, out, err):
    """The document a successful `mapscan --json ARGS` printed, or Failure."""
    if rc != 0:
        raise Failure("mapscan --json %s: exit %d: %s" % (" ".join(args), rc, tail(err or out)))
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise Failure("mapscan --json %s: not JSON (%s): %s" % (" ".join(args), e, tail(out, 200)))
    if not isinstance(doc, dict):
        raise Failure("mapscan --json %s: not a JSON object: %s" % (" ".join(args), tail(out, 200)))
    return doc


class Report:
    """Counts checks and prints their lines, at once or (buffered, for a
    phase run in a worker thread) when the phase is done."""

    local = threading.local()  # .report: the buffered Report of this thread's phase

    def __init__(self, only, buffered=False):
        self.only = only
        self.passed = self.failed = 0
        self.lines = [] if buffered else None

    def emit(self, line):
        if self.lines is None:
            print(line, flush=True)
        else:
            self.lines.append(line)

    def wanted(self, name):
        return not self.only or self.only in name

    def ok(self, name):
        if self.wanted(name):
            self.passed += 1
            self.emit("ok - " + name)

    def fail(self, name, details):
        if self.wanted(name):
            self.failed += 1
            details = " ".join(str(details).split("\n"))
            self.emit("FAIL - %s: %s" % (name, details))

    def check(self, name, problems):
        """problems: a list of strings (empty = ok) or one string/None."""
        if isinstance(problems, list):
            problems = "; ".join(problems)
        if problems:
            self.fail(name, problems)
        else:
            self.ok(name)

    @staticmethod
    def note(text):
        r = getattr(Report.local, "report", None)
        if r is not None:
            r.emit("# " + text)
        else:
            print("# " + text, flush=True)


def write_hello(src):
    """A tiny Go program with one map, in directory src (made if needed):
    an executable that did not produce the fixture's core.  Returns src."""
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module hello\n\ngo 1.19\n")
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write('package main\n\nimport "os"\n\nvar greetings = map[string]int{"hello": 1}\n\n'
                'func main() { os.Exit(greetings[os.Args[0]]) }\n')
    return src


QEMU = {"arm64": "qemu-aarch64"}

# Phases that also check the executable with its DWARF recompressed with
# zstd (the other toolchains' DWARF is zlib-compressed, as Go writes it).
ZSTD_TOOLCHAINS = ("go1.26", "go1.19", "go1.26-arm64")
# Phases that also check a core gdb's gcore took (the kernel's otherwise).
GCORE_TOOLCHAINS = ("go1.26", "go1.19")


def zstd_section(path, name):
    """File offset of section name when it is SHF_COMPRESSED with
    ELFCOMPRESS_ZSTD (its Elf64_Chdr), else None."""
    import struct
    with open(path, "rb") as f:
        d = f.read()
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", d, 0x3c)
    secs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + 64 * i) for i in range(shnum)]
    names = secs[shstrndx][4]
    for sh_name, _, flags, _, off, size, _, _, _, _ in secs:
        end = d.index(b"\0", names + sh_name)
        if d[names + sh_name:end].decode() == name and flags & 0x800 and size >= 24 and \
                struct.unpack_from("<I", d, off)[0] == 2:
            return off
    return None


def elf_machine(path):
    """e_machine and e_type of an ELF file, or (None, None)."""
    try:
        with open(path, "rb") as f:
            h = f.read(20)
    except OSError:
        return None, None
    if len(h) < 20 or h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:
        return None, None
    return int.from_bytes(h[18:20], "little"), int.from_bytes(h[16:18], "little")


def capture_qemu_core(goarch, argv, rundir, env):
    """Run argv, an executable for goarch, under qemu-user until it dies
    with a core.  qemu writes the guest's core itself, as
    qemu_PROG_DATE_PID.core in the cwd, whatever core_pattern says, when
    the guest's RLIMIT_CORE allows; then it kills itself with the same
    signal, and a core the kernel writes of qemu is removed.  The guest's
    core must be an ELF core of goarch's machine.  Returns (core, method)."""
    qemu = shutil.which(QEMU.get(goarch, "qemu-" + goarch))
    if not qemu:
        raise Failure("%s is not installed (Debian package qemu-user; .ci/run installs it)"
                      % QEMU.get(goarch, "qemu-" + goarch))
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    p = subprocess.run([qemu] + argv, cwd=rundir, env=env, preexec_fn=unlimit_core, timeout=600,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != -signal.SIGABRT:
        raise Failure("%s under %s exited with status %s, not SIGABRT: %s"
                      % (os.path.basename(argv[0]), os.path.basename(qemu), p.returncode, tail(p.stderr)))
    cores = sorted(f for f in os.listdir(rundir) if f.startswith("qemu_") and f.endswith(".core"))
    pattern = core_pattern()
    prefix = pattern.split("%")[0] if not pattern.startswith(("|", "/")) else None
    for f in os.listdir(rundir):  # the kernel's core of qemu itself
        if prefix and f.startswith(prefix) and f not in cores:
            os.unlink(os.path.join(rundir, f))
    if len(cores) != 1:
        raise Failure("%s wrote %d guest cores in %s, want 1" % (os.path.basename(qemu), len(cores), rundir))
    core = os.path.join(rundir, cores[0])
    machine, etype = elf_machine(core)
    if etype != 4 or machine != ELF_MACHINE.get(goarch):
        raise Failure("%s is not an ELF core of %s (e_type %r, e_machine %r)" % (core, goarch, etype, machine))
    return core, "%s (guest core, e_machine %d)" % (os.path.basename(qemu), machine)


def unlimit_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "|unknown"


def capture_core(argv, rundir, env, gcore=False):
    """Run argv in rundir until it dies with a core.

    Returns (core path, method description).  The kernel writes the core when
    core_pattern names a file relative to the cwd; otherwise (a pipe to a
    crash handler, or an absolute path), or with gcore true, the program is
    run with MAPSCAN_WAIT=1 and captured with gcore."""
    shutil.rmtree(rundir, ignore_errors=True)  # no stale core from an earlier run
    os.makedirs(rundir)
    pattern = core_pattern()
    if not gcore and not pattern.startswith("|") and not pattern.startswith("/"):
        before = set(os.listdir(rundir))
        p = subprocess.run(argv, cwd=rundir, env=env, preexec_fn=unlimit_core, timeout=600,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != -signal.SIGABRT:
            raise Failure("%s exited with status %s, not SIGABRT: %s"
                          % (os.path.basename(argv[0]), p.returncode, tail(p.stderr)))
        prefix = pattern.split("%")[0]
        new = sorted(f for f in os.listdir(rundir)
                     if f not in before and f.startswith(prefix) and f != "oracle.json")
        if new:
            return os.path.join(rundir, new[0]), "kernel (core_pattern %r)" % pattern
        Report.note("no kernel core in %s (core_pattern %r): trying gcore" % (rundir, pattern))
    if not shutil.which("gcore"):
        raise Failure("core_pattern is %r and gcore is not installed" % pattern)
    env = dict(env, MAPSCAN_WAIT="1")
    p = subprocess.Popen(argv, cwd=rundir, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        if line != "ready":
            p.kill()
            _, err = p.communicate()
            raise Failure("%s did not get ready (%r): %s" % (os.path.basename(argv[0]), line, tail(err)))
        out = os.path.join(rundir, "core")
        g = subprocess.run(["gcore", "-o", out, str(p.pid)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        core = "%s.%d" % (out, p.pid)
        if g.returncode != 0 or not os.path.exists(core):
            raise Failure("gcore failed: " + tail(g.stdout))
        return core, "gcore (core_pattern %r)" % pattern
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate()


def source_hash(tc, version, variant):
    """What a cached fixture build depends on: the fixture's and the
    oracle's sources, the toolchain and how it is invoked."""
    h = hashlib.sha256()
    h.update(repr((FIXTURE_HARNESS, tc.name, version, tc.go, tc.ldflags, tc.experiment,
                   tc.env.get("GOARCH", ""), variant)).encode())
    for d in (FIXTURE, ORACLE):
        for n in sorted(os.listdir(d)):
            path = os.path.join(d, n)
            if os.path.isfile(path) and n.endswith((".go", ".mod", ".sum")):
                h.update(n.encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()[:16]


class Suite:
    def __init__(self, args):
        self.args = args
        self.main_report = Report(args.k)
        self.mapscan = os.path.abspath(args.mapscan)
        self.work = args.keep
        self.fixture_cache = getattr(args, "cache", None)
        self.cache = {}
        self.lock = threading.Lock()
        self.key_locks = {}

    @property
    def report(self):
        """The Report of the phase this thread runs (run() gives each phase
        its own), else the suite's."""
        return getattr(Report.local, "report", None) or self.main_report

    @report.setter
    def report(self, r):
        self.main_report = r

    # ----- steps that several checks share, done once ---------------------

    def once(self, key, fn):
        """fn(), once per key however many threads ask (the others wait)."""
        with self.lock:
            kl = self.key_locks.setdefault(key, threading.Lock())
        with kl:
            if key not in self.cache:
                try:
                    self.cache[key] = (True, fn())
                except (Failure, OSError, ValueError) as e:
                    self.cache[key] = (False, str(e))
                except subprocess.TimeoutExpired as e:
                    self.cache[key] = (False, "timed out: %s" % " ".join(map(str, e.cmd)))
            ok, value = self.cache[key]
        if not ok:
            raise Failure(value)
        return value

    def cached(self, tc, variant, make):
        """make(dir) -> a JSON-able dict, built in a fresh directory for
        (tc, variant); with --cache, kept there and reused while the
        sources and the toolchain are the same."""
        if not self.fixture_cache:
            d = os.path.join(self.work, tc.name, variant)
            os.makedirs(d, exist_ok=True)
            return make(d)
        key = source_hash(tc, self.toolchain_version(tc), variant)
        base = os.path.join(self.fixture_cache, tc.name)
        d = os.path.join(base, "%s-%s" % (variant, key))
        done = os.path.join(d, "done.json")
        try:
            with open(done) as f:
                value = json.load(f)
            value["cached"] = True
            return value
        except (OSError, ValueError):
            pass
        os.makedirs(base, exist_ok=True)
        for old in os.listdir(base):  # earlier builds of this variant
            if old.startswith(variant + "-"):
                shutil.rmtree(os.path.join(base, old), ignore_errors=True)
        os.makedirs(d)
        value = make(d)
        with open(done + ".tmp", "w") as f:
            json.dump(value, f)
        os.rename(done + ".tmp", done)
        return value

    def toolchain_version(self, tc):
        def probe():
            try:
                p = tc.run(["env", "GOVERSION"], timeout=600)
            except OSError as e:
                raise Failure("%s: %s" % (tc.go, e))
            version = p.stdout.strip()
            if p.returncode != 0 or not (version + ".").startswith(tc.name.split("-")[0] + "."):
                raise Failure("%s (GOTOOLCHAIN=%s) is %r, want %s: %s"
                              % (tc.go, tc.env["GOTOOLCHAIN"], version, tc.name, tail(p.stderr, 300)))
            return version
        return self.once(("version", tc.name), probe)

    def build(self, tc, out, src=FIXTURE, ldflags=()):
        flags = list(tc.ldflags) + list(ldflags)
        cmd = ["build", "-o", out] + (["-ldflags=" + " ".join(flags)] if flags else []) + ["."]
        p = tc.run(cmd, cwd=src)
        if p.returncode != 0:
            raise Failure("%s %s: %s" % (tc.go, " ".join(cmd), tail(p.stderr)))
        return out

    def fixture(self, tc, variant="full"):
        """Build and crash the fixture: returns dict(exe, core, oracle, method).

        variant "full" is the fixture states, "gcore" the same taken with
        gcore from the running program, "demo" the demo service,
        "service" the multi-tenant service (service.go), "nodwarf" the demo
        built with -ldflags=-w (no oracle needed)."""
        def build_and_crash(d):
            exe = self.build(tc, os.path.join(d, "mapstates"),
                             ldflags=["-w"] if variant == "nodwarf" else [])
            argv = [exe] + {"full": [], "gcore": [], "service": ["-service"]}.get(variant, ["-demo"])
            rundir = os.path.join(d, "run")
            oracle = os.path.join(rundir, "oracle.json")
            env = dict(os.environ, MAPSCAN_ORACLE=oracle, GOTRACEBACK="crash")
            if tc.emulated:
                core, method = capture_qemu_core(tc.goarch, argv, rundir, env)
            else:
                core, method = capture_core(argv, rundir, env, gcore=variant == "gcore")
            with open(oracle) as f:
                doc = json.load(f)
            try:  # the runtime's HeapInuse, recorded last before the crash
                with open(oracle + ".heap") as f:
                    doc["heap_inuse"] = int(f.read())
            except (OSError, ValueError):
                pass
            return dict(exe=exe, core=core, oracle=doc, method=method)

        def make():
            self.toolchain_version(tc)
            return self.cached(tc, variant, build_and_crash)
        return self.once(("fixture", tc.name, variant), make)

    def run_mapscan(self, args, env=None):
        try:
            p = subprocess.run([self.mapscan] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=RUN_TIMEOUT, env=dict(os.environ, **env) if env else None)
        except OSError as e:
            raise Failure("cannot run %s: %s" % (self.mapscan, e))
        except subprocess.TimeoutExpired:
            raise Failure("mapscan %s: timed out after %ds" % (" ".join(args), RUN_TIMEOUT))
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def mapscan_json(self, args):
        return json_doc(args, *self.run_mapscan(["--json"] + args))

    # ----- phases ----------------------------------------------------------

    def run(self):
        selected = [p for p in PHASES if self.args.k and (self.args.k in p or p in self.args.k)]
        phases = selected or PHASES
        total = self.main_report
        if not os.access(self.mapscan, os.X_OK):
            total.fail("mapscan", "%s is not an executable (build it first: make)" % self.mapscan)

        def one(phase):
            r = Report.local.report = Report(self.args.k, buffered=True)
            try:
                if phase == "errors":
                    self.phase_errors()
                elif phase == "samples":
                    self.phase_samples()
                else:
                    self.phase_toolchain(next(tc for tc in TOOLCHAINS if tc.name == phase))
            except Failure as e:
                r.fail(phase, e)
            except Exception as e:  # a harness bug or an odd answer: report it, go on
                r.fail(phase, "harness error: %r" % e)
            finally:
                Report.local.report = None
            return r

        jobs = max(1, getattr(self.args, "jobs", None) or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for f in [pool.submit(one, ph) for ph in phases]:
                r = f.result()
                for line in r.lines:
                    print(line, flush=True)
                total.passed += r.passed
                total.failed += r.failed
        print("%d passed, %d failed" % (total.passed, total.failed), flush=True)
        return 1 if total.failed else 0

    def toolchain_missing(self, tc, why):
        if self.args.allow_missing_toolchain:
            Report.note("WARNING: toolchain %s missing, its tests did NOT run: %s" % (tc.name, why))
        else:
            self.report.fail(tc.name + "/toolchain", why)

    def phase_toolchain(self, tc):
        r = self.report
        try:
            version = self.toolchain_version(tc)
        except Failure as e:
            self.toolchain_missing(tc, e)
            return
        r.ok(tc.name + "/toolchain")
        Report.note("%s: %s (%s)" % (tc.name, version, tc.go))
        try:
            fx = self.fixture(tc)
        except Failure as e:
            r.fail(tc.name + "/fixture", e)
            return
        r.ok(tc.name + "/fixture")
        st = os.stat(fx["core"])
        Report.note("%s: core by %s: %s (%.1f MB, %.1f MB on disk)" % (
            tc.name, fx["method"], fx["core"], st.st_size / 1e6, st.st_blocks * 512 / 1e6))
        oracle = fx["oracle"]
        r.check(tc.name + "/oracle", self.oracle_problems(oracle, tc, version))
        try:
            r.check(tc.name + "/oracle-stack-maps-noescape", self.noescape_problems(tc))
        except (OSError, subprocess.TimeoutExpired) as e:
            r.fail(tc.name + "/oracle-stack-maps-noescape", e)

        variants = [("json", [fx["core"]]), ("json-exe", ["--exe", fx["exe"], fx["core"]])]
        if tc.emulated:
            # qemu's cores have no NT_FILE note naming the executable (the
            # kernel's have): mapscan must say so and ask for --exe.
            variants = variants[1:]
            rc, out, err = self.run_mapscan([fx["core"]])
            r.check(tc.name + "/no-nt-file", None if rc == EXIT_OPEN and "--exe" in err
                    and err.strip().count("\n") == 0 else "exit %d, stderr %r: want %d and one line "
                    "asking for --exe" % (rc, tail(err, 300), EXIT_OPEN))
        for tag, args in variants:
            name = "%s/%s" % (tc.name, tag)
            try:
                doc = self.mapscan_json(args)
            except Failure as e:
                r.fail(name, e)
                continue
            r.ok(name)
            self.compare(name, doc, oracle, fx["core"])
            # Every goroutine's stack unwinds to its end (on arm64 too:
            # return addresses in LR and below SP, asyncPreempt's frame).
            ws = [w for w in doc.get("warnings") or [] if isinstance(w, str) and "unwound" in w]
            r.check(name + "/stacks-unwound", ws or None)

        self.text_smoke(tc.name + "/text", fx, oracle)
        if tc.emulated:
            self.debug_file_variant(tc, fx, oracle)
            self.partial_variant(tc, fx)
        if tc.name in ZSTD_TOOLCHAINS:
            self.zstd_variant(tc, fx, oracle)
        if tc.name in GCORE_TOOLCHAINS:
            self.gcore_variant(tc)
        if tc.name in SERVICE_TOOLCHAINS:
            self.service(tc)

    def gcore_variant(self, tc):
        """The fixture's core taken by gdb's gcore from the running program
        (waiting on its stdin) rather than written by the kernel."""
        name = tc.name + "/gcore"
        try:
            gx = self.fixture(tc, "gcore")
            doc = self.mapscan_json([gx["core"]])
        except Failure as e:
            self.report.fail(name, e)
            return
        self.report.ok(name)
        self.compare(name, doc, gx["oracle"], gx["core"])

    def service(self, tc):
        """The multi-tenant service (service.go): the owner groups lead the
        report with the right figures, keys come out, names stay whole, and
        the text and JSON count the same maps."""
        r = self.report
        name = tc.name + "/service"
        try:
            fx = self.fixture(tc, "service")
            doc = self.mapscan_json([fx["core"]])
        except Failure as e:
            r.fail(name, e)
            return
        r.ok(name)
        oracle = fx["oracle"]
        self.compare(name, doc, oracle, fx["core"])
        by = {m["name"]: m for m in oracle["maps"]}
        groups = doc.get("groups") or []

        def oracle_group(prefix):
            ms = [m for n, m in by.items() if n.startswith(prefix)]
            return dict(maps=len(ms), count=sum(m["count"] for m in ms),
                        retained_bytes=sum(m["retained_bytes"] for m in ms),
                        reclaimable_bytes=sum(m["reclaimable_bytes"] for m in ms))

        def group(pattern):
            return next((g for g in groups if g.get("pattern") == pattern), None)

        p = []
        lead = groups[0] if groups else {}
        if lead.get("pattern") != "main.svcTenants[*].sessions":
            p.append("the first group is %r, not the tenants'" % lead.get("pattern"))
        top_map = max((m for m in doc.get("maps", []) if m.get("reachable")),
                      key=lambda m: m["reclaimable_bytes"], default={})
        if lead.get("reclaimable_bytes", 0) <= 10 * top_map.get("reclaimable_bytes", 0):
            p.append("the tenants' group (%r) should dwarf the biggest map (%r)"
                     % (lead.get("reclaimable_bytes"), top_map.get("reclaimable_bytes")))
        for pattern, prefix, n in (("main.svcTenants[*].sessions", "svcTenants[", 400),
                                   ("main.svcStore.shards[*].hashmap", "svcStore.shards[", 12),
                                   ("goroutine * (main.svcWorker) → local seen", "svcWorker[", 6)):
            g, want = group(pattern), oracle_group(prefix)
            if want["maps"] != n:
                p.append("the oracle has %d maps %s*, want %d" % (want["maps"], prefix, n))
            if g is None:
                p.append("no group %r" % pattern)
                continue
            for k, v in want.items():
                if g.get(k) != v:
                    p.append("group %s: %s %r, the oracle's maps sum to %r" % (pattern, k, g.get(k), v))
        shards = [m for n, m in by.items() if n.startswith("svcStore.")]
        tenants = [m for n, m in by.items() if n.startswith("svcTenants[")]
        if min(m["reclaimable_bytes"] for m in shards) <= max(m["reclaimable_bytes"] for m in tenants):
            p.append("the fixture's shards do not each outrank every tenant map")
        r.check(name + "/groups lead the JSON", p)

        # The text leads with the same group, says what the rows cover,
        # and counts the maps as the JSON does.
        rc, out, err = self.run_mapscan([fx["core"]])
        p = []
        lines = out.split("\n")
        try:
            head = next(i for i, l in enumerate(lines) if "TYPE / OWNER" in l)
            first = lines[head + 1:head + 3]
            if "map[string]*main.Session" not in first[0] or first[1].strip() != "main.svcTenants[*].sessions":
                p.append("the first group row is %r" % first)
            if " 400 " not in first[0]:
                p.append("the first group row does not say 400 maps: %r" % first[0])
        except (StopIteration, IndexError):
            p.append("no group table: %r" % tail(out, 400))
        if not re.search(r"^shown: \d+% of \S+ \S+ reclaimable \(\d+ of \d+ groups", out, re.M):
            p.append("no coverage line for the groups")
        summ = doc.get("summary", {})
        m = re.search(r"^(\d+) maps? found", out, re.M)
        if not m or int(m.group(1)) != summ.get("maps"):
            p.append("text says %s maps found, JSON summary.maps %r" % (m and m.group(1), summ.get("maps")))
        m = re.search(r"^(\d+) more maps? nothing reaches", out, re.M)
        if (int(m.group(1)) if m else 0) != summ.get("unreachable_maps"):
            p.append("text says %s maps nothing reaches, JSON %r" % (m and m.group(1), summ.get("unreachable_maps")))
        if "Rebuilding the 400 maps of main.svcTenants[*].sessions" not in " ".join(out.split()):
            p.append("the advice does not name the tenants' group")
        r.check(name + "/groups lead the text", p)

        # --keys: the keys of a group's biggest maps, and of single maps.
        rc, out, err = self.run_mapscan(["--keys", "--top", "0", fx["core"]])
        flat = unwrap(out)
        p = []
        for n in ("svcPairs", "svcFlags", "svcArr"):
            keys = by[n]["keys"]
            if not any(all(k in l for k in keys) for l in flat.split("\n") if "keys: " in l):
                p.append("no keys line with %s's keys %r" % (n, keys))
        if not re.search(r"- main\.svcTenants\[\d+\]\.sessions  keys: \"t\d+-s19[89]\", \"t\d+-s19[89]\"", flat):
            p.append("no tenant map listed with its keys under the group")
        r.check(name + "/text --keys", p)
        try:
            r.check(name + "/names-whole", self.names_whole(fx["core"]))
        except Failure as e:
            r.fail(name + "/names-whole", e)
    def binutil(self, tc, tool):
        """objcopy or strip for tc's executables: the host's, or for
        another machine the cross binutils (Debian's binutils-TRIPLET)."""
        if not tc.emulated:
            exe = shutil.which(tool)
            if not exe:
                raise Failure("%s is not installed (Debian package binutils)" % tool)
            return exe
        triple = {"arm64": "aarch64-linux-gnu"}.get(tc.goarch, tc.goarch + "-linux-gnu")
        exe = shutil.which("%s-%s" % (triple, tool))
        if not exe:
            raise Failure("%s-%s is not installed (Debian package binutils-%s; .ci/run installs it)"
                          % (triple, tool, triple))
        return exe

    def zstd_variant(self, tc, fx, oracle):
        """The executable with its DWARF compressed with zstd
        (ELFCOMPRESS_ZSTD), which libdwarf does not read: every figure and
        root as from the original; and when a compressed section is
        damaged, one line saying which, without the advice to rebuild
        without -w that a build without DWARF gets."""
        r = self.report
        name = tc.name + "/zstd-dwarf"
        d = os.path.dirname(fx["exe"])
        z, bad = os.path.join(d, "mapstates.zstd"), os.path.join(d, "mapstates.zstd-bad")
        try:
            args = ["--compress-debug-sections=zstd", fx["exe"], z]
            p = subprocess.run([self.binutil(tc, "objcopy")] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=300)
            if p.returncode != 0:
                raise Failure("objcopy %s: %s" % (" ".join(args), tail(p.stdout)))
            info = zstd_section(z, ".debug_info")
            if info is None:
                raise Failure("objcopy left no zstd-compressed .debug_info in %s" % z)
            doc = self.mapscan_json(["--exe", z, fx["core"]])
        except (Failure, OSError, subprocess.TimeoutExpired) as e:
            r.fail(name, e)
            return
        r.ok(name)
        self.compare(name, doc, oracle, fx["core"])
        # Damage the compressed stream (past the zstd frame header).
        with open(z, "rb") as f:
            data = bytearray(f.read())
        at = info + 24 + 32
        data[at:at + 16] = b"\xff" * 16
        with open(bad, "wb") as f:
            f.write(data)
        rc, out, err = self.run_mapscan(["--exe", bad, fx["core"]])
        lines = err.strip().split("\n") if err.strip() else []
        p = []
        if rc != EXIT_NODWARF:
            p.append("exit %d, want %d" % (rc, EXIT_NODWARF))
        if len(lines) != 1 or bad not in lines[0] or ".debug_info" not in lines[0]:
            p.append("stderr %r: want one line naming %s and .debug_info" % (tail(err, 300), bad))
        elif "-ldflags" in lines[0] or "without -w" in lines[0]:
            p.append("stderr %r advises a rebuild without -w, but the DWARF is there" % lines[0])
        r.check(name + "/damaged", p)

    def partial_variant(self, tc, fx):
        """The core with half of each heap segment that holds a map cut
        off (its p_filesz halved, as a coredump_filter or a full disk
        leaves it): the report is flagged partial.  On arm64 the heap's
        arenas are numbered from another base than on x86-64."""
        name = tc.name + "/partial"
        try:
            doc = self.mapscan_json(["--exe", fx["exe"], fx["core"]])
            maps = [int(m["address"], 16) for m in doc.get("maps", [])]
            part = fx["core"] + ".half-heap"
            cut = set_filesz(fx["core"], part, lambda vaddr, filesz, memsz, flags:
                             filesz // 2 if filesz == memsz and filesz >= 1 << 20 and flags & 2 and
                             any(vaddr <= a < vaddr + filesz for a in maps) else None)
            try:
                doc = self.mapscan_json(["--exe", fx["exe"], part])
            finally:
                os.unlink(part)
        except Failure as e:
            self.report.fail(name, e)
            return
        src = doc.get("source", {})
        self.report.check(name, None if cut and src.get("partial") is True and src.get("missing_bytes")
                          else "%d heap segments cut; source.partial %r, missing_bytes %r: want true, > 0"
                          % (cut, src.get("partial"), src.get("missing_bytes")))

    def debug_file_variant(self, tc, fx, oracle):
        """The executable stripped, its DWARF in a debug file (the host's
        binutils do not read another machine's ELF: the cross binutils
        do, Debian's binutils-TRIPLET)."""
        r = self.report
        name = tc.name + "/debug-file"
        try:
            d = os.path.dirname(fx["exe"])
            debug, stripped = os.path.join(d, "mapstates.debug"), os.path.join(d, "mapstates.stripped")
            for tool, args in (("objcopy", ["--only-keep-debug", fx["exe"], debug]),
                               ("strip", ["-o", stripped, fx["exe"]])):
                exe = self.binutil(tc, tool)
                p = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, timeout=300)
                if p.returncode != 0:
                    raise Failure("%s %s: %s" % (exe, " ".join(args), tail(p.stdout)))
            doc = self.mapscan_json(["--exe", stripped, "--debug-file", debug, fx["core"]])
        except (Failure, OSError, subprocess.TimeoutExpired) as e:
            r.fail(name, e)
            return
        r.ok(name)
        di = (doc.get("source") or {}).get("debug_info") or {}
        r.check(name + "/found-by", None if os.path.realpath(di.get("path") or "") == os.path.realpath(debug)
                else "source.debug_info %r, want the debug file %s" % (di, debug))
        self.compare(name, doc, oracle, fx["core"])

    def oracle_problems(self, oracle, tc, version):
        """Is the fixture in the states it means to build?  (Independent of
        mapscan: a wrong fixture makes every later check meaningless.)"""
        p = []
        # runtime.Version() adds the experiments to the toolchain's version:
        # "go1.24.11 X:noswissmap", "go1.27.3-X:mapsplitgroup" (1.26+).
        gov = oracle.get("go_version") or ""
        if version_of(gov) != version:
            p.append("go_version %r, toolchain %r" % (gov, version))
        if tc.experiment and tc.experiment not in experiments_of(gov):
            p.append("go_version %r does not name GOEXPERIMENT=%s" % (gov, tc.experiment))
        if oracle.get("layout") != tc.layout:
            p.append("layout %r, want %r" % (oracle.get("layout"), tc.layout))
        by = {m["name"]: m for m in oracle.get("maps", [])}

        def want(name, cond, what):
            m = by.get(name)
            if m is None:
                p.append("no map %s" % name)
            elif not cond(m):
                p.append("%s: want %s, got %s" % (name, what, {k: m[k] for k in FIGURES}))

        want("sessions", lambda m: m["count"] == 10 and m["buckets"] >= 8192
             and m["roots"] == ["main.sessions", "main.sessionsAlias"], "10 entries in >= 8192 buckets, 2 roots")
        want("counters", lambda m: m["count"] == 10 and m["reclaimable_bytes"] > 1 << 20, "count 10, > 1 MiB reclaimable")
        want("emptied", lambda m: m["count"] == 0 and m["buckets"] > 0, "count 0 with buckets")
        want("neverWritten", lambda m: m["buckets"] == 0 and m["retained_bytes"] in HEADER_BYTES, "header only")
        want("smallDeleted", lambda m: m["count"] == 3 and m["buckets"] == 1, "3 entries in 1 bucket")
        want("byTenant", lambda m: m["count"] == 5, "5 inner maps")
        if "nilMap" in by:
            p.append("nil map listed")
        if sum(1 for m in oracle.get("maps", []) if len(m["roots"]) == 1 and m["roots"][0].startswith('main.byTenant["')
               and group_pattern(m["roots"][0]) == "main.byTenant[*]") != 5:
            p.append('want 5 maps with a root main.byTenant["key"]')
        if tc.layout == "swiss":
            want("spread", lambda m: m["tables"] > 1, "several tables")
            want("sessions", lambda m: m["tombstones"] > 0, "tombstones")
        else:
            want("midGrow", lambda m: m["growing"] and m["old_buckets"] >= 256, "growing from >= 256 buckets")
            want("midGrowWide", lambda m: m["growing"] and m["old_buckets"] >= 256, "growing from >= 256 buckets")
            want("sameSize", lambda m: m["growing"] and m["old_buckets"] == m["buckets"], "a same-size grow")
            want("chains", lambda m: m["overflow_buckets"] > 0 and m["spare_overflow_buckets"] > 0,
                 "overflow buckets and unused spares")
            want("wide", lambda m: m["overflow_buckets"] > 0, "overflow buckets")
        if tc.version >= (1, 21):  # the clear builtin
            want("cleared", lambda m: m["count"] == 0 and m["buckets"] > 0, "count 0 with buckets")
        p += self.holder_oracle_problems(oracle, tc, by)
        return p

    def holder_oracle_problems(self, oracle, tc, by):
        """The states of testdata/fixtures/mapstates/holders.go: one map per
        way of holding a map, each churned (some reclaimable bytes), with
        the holder's root; decoys and dropped maps for the no-false-maps
        checks."""
        p = []
        for m in oracle.get("maps", []):
            for x in m["roots"]:
                if x.startswith("re:"):
                    try:
                        re.compile(x[3:])
                    except re.error as e:
                        p.append("%s: bad root regex %r: %s" % (m["name"], x, e))
        closure = "main.handler.(closure main.makeHandler.func1)."
        goroutine = re.compile(r"goroutine [1-9]\d* \(main\.(\w+)\) → local (\S+)$")
        old_closures = tc.version < (1, 23)  # no closure layout in DWARF before Go 1.23
        expect = {  # name: (held, root test, what)
            "store.m": ("", lambda r: r == ["main.store.(*main.cacheImpl).m"], "the interface root"),
            "handler.hits": ("", (lambda r: r == [r"re:main\.handler([^A-Za-z0-9_].*)?"]) if old_closures
                             else (lambda r: r == [closure + "hits"]), "the closure root"),
            "handler.tal.byID": ("", (lambda r: r == [r"re:main\.handler([^A-Za-z0-9_].*)?"]) if old_closures
                                 else (lambda r: r == [closure + "tal.byID"]), "the closure root"),
            "holdLocal.byUser": ("goroutine-heap", lambda r: len(r) == 1 and goroutine.match(r[0])
                                 and goroutine.match(r[0]).groups() == ("holdLocal", "byUser"), "a goroutine root"),
            "holdStackMap.m": ("goroutine-stack", lambda r: len(r) == 1 and goroutine.match(r[0])
                               and goroutine.match(r[0]).groups() == ("holdStackMap", "m"), "a goroutine root"),
            "holdStackMap.spill": ("goroutine-stack", lambda r: len(r) == 1 and goroutine.match(r[0])
                                   and goroutine.match(r[0]).groups() == ("holdStackMap", "spill"), "a goroutine root"),
            "serve.srv.sessions": ("goroutine-heap", lambda r: len(r) == 1 and goroutine.match(r[0])
                                   and goroutine.match(r[0]).groups() == ("serve", "srv.sessions"), "a goroutine root"),
            "pool.m": ("untyped", lambda r: len(r) == 1 and r[0].startswith(r"re:main\.pool"), "a main.pool regex"),
            "opaque.tags": ("untyped", lambda r: len(r) == 1 and r[0].startswith(r"re:main\.opaque"),
                            "a main.opaque regex"),
        }
        for name, (held, roots_ok, what) in expect.items():
            m = by.get(name)
            if m is None:
                p.append("no map %s" % name)
                continue
            if m.get("held", "") != held:
                p.append("%s: held %r, want %r" % (name, m.get("held"), held))
            if not roots_ok(m["roots"]):
                p.append("%s: roots %r, want %s" % (name, m["roots"], what))
            if name == "holdStackMap.m":  # header and its one group/bucket in the frame
                if not (m["buckets"] == 1 and m["count"] == 4 and m["retained_bytes"] < 128):
                    p.append("%s: want 4 entries in one bucket/group, got %s" % (name, {k: m[k] for k in FIGURES}))
            elif m["reclaimable_bytes"] <= 0 or m["count"] <= 0:
                p.append("%s: want entries and reclaimable bytes, got count %d, reclaimable %d"
                         % (name, m["count"], m["reclaimable_bytes"]))
        ids = {}
        for m in oracle.get("maps", []):
            g = goroutine.match(m["roots"][0]) if m["roots"] else None
            if g:
                ids.setdefault(g.group(1), set()).add(m["roots"][0].split()[1])
        if any(len(v) != 1 for v in ids.values()) or len(set().union(*ids.values()) if ids else ()) != len(ids):
            p.append("goroutine ids %r: want one id per holder function, all different" % ids)
        decoys = {d.get("name"): d for d in oracle.get("not_maps", [])}
        if sorted(decoys) != ["decoyBytes", "decoyHeader"]:
            p.append("not_maps %r, want decoyBytes and decoyHeader" % sorted(decoys))
        if len(oracle.get("dropped", [])) != 3:
            p.append("dropped %r, want 3 maps" % oracle.get("dropped"))
        return p

    def noescape_problems(self, tc):
        """The stack-held maps of holders.go must not escape: then the
        compiler puts their headers (and m's only group/bucket) in
        holdStackMap's frame.  The fixture checks the addresses at run
        time too; this asks the compiler."""
        flags = list(tc.ldflags)
        cmd = ["build", "-gcflags=-m", "-o", os.devnull] + (["-ldflags=" + " ".join(flags)] if flags else []) + ["."]
        p = tc.run(cmd, cwd=FIXTURE)
        if p.returncode != 0:
            return ["%s %s: %s" % (tc.go, " ".join(cmd), tail(p.stderr))]
        out = p.stderr
        probs = []
        for t in ("map[uint8]uint32", "map[int32]uint64"):
            if not re.search(r"holders\.go:\d+:\d+: make\(%s\) does not escape" % re.escape(t), out):
                esc = re.findall(r"holders\.go:\d+:\d+: make\(%s\).*" % re.escape(t), out)
                probs.append("make(%s) in holdStackMap: %s" % (t, esc or "no escape analysis line"))
        for v in ("m", "spill", "st"):
            if re.search(r"holders\.go:\d+:\d+: moved to heap: %s$" % v, out, re.M):
                probs.append("holdStackMap's %s moved to the heap" % v)
        return probs

    # ----- comparing mapscan's JSON with an oracle --------------------------

    def shape_problems(self, doc, oracle, core, kind="core"):
        """core: the path source.path must name (for kind "process",
        tests/e2e/live.py: "/proc/PID")."""
        p = []
        if not isinstance(doc, dict):
            return ["not a JSON object"]
        if type(doc.get("schema")) is not int or doc["schema"] != SCHEMA:
            p.append("schema %r, want the int %d" % (doc.get("schema"), SCHEMA))
        tool = doc.get("tool")
        if not isinstance(tool, dict) or tool.get("name") != "mapscan" or not isinstance(tool.get("version"), str):
            p.append("tool %r" % (tool,))
        src = doc.get("source")
        if not isinstance(src, dict) or src.get("kind") != kind:
            p.append("source %r, want kind %s" % (src, kind))
        elif not isinstance(src.get("path"), str) or os.path.realpath(src["path"]) != os.path.realpath(core):
            p.append("source.path %r, want %r" % (src.get("path"), core))
        elif not isinstance(src.get("executable"), str) or not src["executable"]:
            p.append("source.executable %r" % (src.get("executable"),))
        go = doc.get("go")
        if not isinstance(go, dict):
            p.append("no go object")
        else:
            if go.get("version") != oracle["go_version"]:
                p.append("go.version %r, want %r" % (go.get("version"), oracle["go_version"]))
            if go.get("map_layout") != oracle["layout"]:
                p.append("go.map_layout %r, want %r" % (go.get("map_layout"), oracle["layout"]))
        summ = doc.get("summary")
        if not isinstance(summ, dict) or not all(isinstance(summ.get(k), int) for k in SUMMARY):
            p.append("summary %r, want ints %s" % (summ, SUMMARY))
        if not isinstance(doc.get("warnings"), list):
            p.append("warnings is not a list")
        maps = doc.get("maps")
        if not isinstance(maps, list):
            return p + ["maps is not a list"]
        seen = set()
        for i, m in enumerate(maps):
            missing = [k for k in MAP_KEYS if k not in m] if isinstance(m, dict) else MAP_KEYS
            if missing:
                p.append("maps[%d] lacks %s" % (i, ", ".join(missing)))
                continue
            bad = [k for k in FIGURES if type(m[k]) is not (bool if k == "growing" else int)]
            if bad:
                p.append("maps[%d]: wrong types for %s" % (i, ", ".join(bad)))
            if not isinstance(m["roots"], list) or not all(isinstance(x, str) for x in m["roots"]):
                p.append("maps[%d].roots %r" % (i, m["roots"]))
            bad = [k for k in MAP_FLAGS if k in m and type(m[k]) is not bool]
            if bad:
                p.append("maps[%d]: %s not bool" % (i, ", ".join(bad)))
            addr = parse_addr(m["address"])
            if addr is None:
                p.append("maps[%d].address %r is not 0x-hex" % (i, m["address"]))
            elif addr in seen:
                p.append("map %s listed twice" % m["address"])
            seen.add(addr)
            if len(p) > 10:
                break
        return p

    def compare(self, name, doc, oracle, core, kind="core"):
        r = self.report
        shape = self.shape_problems(doc, oracle, core, kind)
        r.check(name + "/shape", shape)
        maps = doc.get("maps") if isinstance(doc, dict) else None
        if not isinstance(maps, list):
            return
        maps = [m for m in maps if isinstance(m, dict) and parse_addr(m.get("address")) is not None]
        by_addr = {parse_addr(m["address"]): m for m in maps}

        summ = doc.get("summary")
        if isinstance(summ, dict):
            # Totals and summary.maps are over the maps mapscan says are
            # held; the ones it lists as unreachable are counted apart.
            p = []
            held = [m for m in maps if reachable(m)]
            lost = [m for m in maps if not reachable(m)]
            if summ.get("maps") != len(held):
                p.append("summary.maps %r, %d reachable maps listed" % (summ.get("maps"), len(held)))
            for k in SUMMARY[1:]:
                total = sum(m.get(k, 0) for m in held if isinstance(m.get(k), int))
                if summ.get(k) != total:
                    p.append("summary.%s %r, sum over reachable maps %d" % (k, summ.get(k), total))
            for k, total in (("unreachable_maps", len(lost)),
                             ("unreachable_retained_bytes", sum(m.get("retained_bytes", 0) for m in lost)),
                             ("unreachable_reclaimable_bytes", sum(m.get("reclaimable_bytes", 0) for m in lost))):
                if summ.get(k) != total:
                    p.append("summary.%s %r, %d over the unreachable maps" % (k, summ.get(k), total))
            r.check(name + "/summary", p)
            if summ.get("grouped_by") == "owner" and summ.get("shown") == len(doc.get("maps", [])):
                r.check(name + "/groups", group_problems(doc))
            # Heap totals come from the span table and must equal the
            # runtime's HeapInuse, which the fixture records allocation-free
            # as the last thing before the crash (one span of slack).
            want = oracle.get("heap_inuse")
            if isinstance(want, int) and want:
                got = summ.get("heap_in_use_bytes")
                if not isinstance(got, int) or not (want <= got <= want + (64 << 10)):
                    r.fail(name + "/heap", "heap_in_use_bytes %r, runtime said %d" % (got, want))
                else:
                    r.ok(name + "/heap")

        want_addrs = set()
        for om in oracle["maps"]:
            addr = parse_addr(om["address"])
            want_addrs.add(addr)
            m = by_addr.get(addr)
            check = "%s/map %s" % (name, om["name"])
            if m is None:
                r.fail(check, "no map at %s (%s, roots %s)" % (om["address"], om["type"], om["roots"]))
                continue
            p = []
            for k in ["type", "key_type", "elem_type", "layout"] + FIGURES:
                if m.get(k) != om[k] or type(m.get(k)) is not type(om[k]):
                    p.append("%s: mapscan %r, oracle %r" % (k, m.get(k), om[k]))
            roots = m.get("roots") if isinstance(m.get("roots"), list) else []
            lost = [x for x in om["roots"] if not root_matches(x, roots)]
            if lost:
                more = m.get("more_roots")
                p.append("roots %r%s lack %r" % (roots, " (+%s more)" % more if more else "", lost))
            # Every oracle map is live, of a known type, and on a stack
            # exactly when the oracle says so.
            for k, want in (("reachable", True), ("type_certain", True), ("type_guessed", False),
                            ("on_stack", om.get("held") == "goroutine-stack")):
                if k in m and m[k] is not want:
                    p.append("%s %r, want %r (the fixture holds it: %s)" % (k, m[k], want, om.get("held") or "typed"))
            p += key_problems(m, om)
            r.check(check, p)

        # "No map that is not there", without false alarms.  The fixture's
        # oracle lists every map that package main keeps alive, so a map
        # mapscan reports elsewhere is wrong when mapscan says it is live
        # (reachable not false) and it
        #   - has a root in package main (a global of main, or a local
        #     variable of a goroutine frame in a main function; not a
        #     conservative "stack word"), or
        #   - has a type of package main (no other package makes those), with
        #     type_certain not false;
        # and whatever mapscan says about reachability, no map may lie in
        # memory the oracle knows is not a map (not_maps: copies of a
        # header in a []byte and in a struct of another type), and no
        # dropped map (made and dropped before the last GC; the fixture has
        # no other map of its type) may be called reachable.  Maps of other
        # packages and of the runtime cannot be told from invented ones
        # here; they only get the consistency check below.
        invented, inconsistent, in_decoys, revived = [], [], [], []
        decoys = [(parse_addr(d.get("address")), d.get("size"), d.get("name"))
                  for d in oracle.get("not_maps", []) if isinstance(d, dict)]
        dropped = {parse_addr(d.get("address")): d for d in oracle.get("dropped", []) if isinstance(d, dict)}
        for m in maps:
            addr = parse_addr(m["address"])
            roots = m.get("roots") if isinstance(m.get("roots"), list) else []
            desc = "%s %s %s" % (m["address"], m.get("type"), roots[:3])
            for lo, size, dname in decoys:
                if lo is not None and isinstance(size, int) and lo <= addr < lo + size:
                    in_decoys.append("%s lies in %s (%#x, %d bytes), which is not a map" % (desc, dname, lo, size))
            if addr in want_addrs:
                continue
            live = reachable(m)
            d = dropped.get(addr)
            if d is not None and live and m.get("type") == d.get("type"):
                revived.append("%s: %s was dropped before the last GC" % (desc, d.get("name")))
            main_root = [x for x in roots if isinstance(x, str) and MAIN_ROOT.match(x)]
            main_type = type_known(m) and any(
                isinstance(m.get(k), str) and MAIN_TYPE.search(m[k]) for k in ("type", "key_type", "elem_type"))
            if live and (main_root or main_type):
                invented.append(desc)
            elif m.get("growing") is False and m.get("live_slots") != m.get("count"):
                inconsistent.append("%s %s %s: count %r, live_slots %r"
                                    % (m["address"], m.get("type"), roots[:2], m.get("count"), m.get("live_slots")))
        r.check(name + "/no-invented-main-maps", "maps the fixture does not hold: " + "; ".join(invented[:10])
                if invented else None)
        if decoys:
            r.check(name + "/no-maps-in-non-maps", "; ".join(in_decoys[:10]) if in_decoys else None)
        if dropped:
            r.check(name + "/dropped-maps-not-reachable", "; ".join(revived[:10]) if revived else None)
        r.check(name + "/other-maps-live-slots", "; ".join(inconsistent[:10]) if inconsistent else None)

    def text_smoke(self, name, fx, oracle):
        try:
            rc, out, err = self.run_mapscan(["--exe", fx["exe"], fx["core"]])
        except Failure as e:
            self.report.fail(name, e)
            return
        p = []
        if rc != 0:
            p.append("exit %d: %s" % (rc, tail(err)))
        for word in (oracle["go_version"], oracle["layout"]):
            if word not in out:
                p.append("output does not mention %r" % word)
        top = max(oracle["maps"], key=lambda m: m["reclaimable_bytes"])
        if not any(root in out for root in top["roots"] if not root.startswith("re:")):
            p.append("output does not mention %s, the map with most reclaimable bytes" % top["roots"])
        self.report.check(name, p)
        try:
            # --exe: qemu's arm64 cores do not name their executable.
            self.report.check(name + "/names-whole", self.names_whole(fx["core"], ["--exe", fx["exe"]]))
        except Failure as e:
            self.report.fail(name + "/names-whole", e)

    def names_whole(self, core, extra=()):
        return names_whole_problems(self.run_mapscan, core, extra)

    # ----- bad input --------------------------------------------------------

    def phase_errors(self):
        r = self.report
        tc = None
        for t in TOOLCHAINS:
            try:
                self.toolchain_version(t)
                tc = t
                break
            except Failure:
                pass
        if tc is None:
            raise Failure("no Go toolchain available to make error cases")
        d = os.path.join(self.work, "errors")
        os.makedirs(d, exist_ok=True)
        cases = []  # (name, args, files named, expected exit status)

        def case(name, make):
            try:
                cases.append((name,) + make())
            except Failure as e:
                r.fail("errors/" + name, e)

        def not_elf():
            path = os.path.join(d, "notes.txt")
            with open(path, "w") as f:
                f.write("this is not an ELF file\n" * 100)
            return [path], [path], EXIT_FORMAT

        def truncated():
            core = self.fixture(tc)["core"]
            path = os.path.join(d, "truncated.core")
            with open(core, "rb") as f, open(path, "wb") as g:
                g.write(f.read(2000))
            return [path], [path], EXIT_FORMAT

        def not_go():
            src = os.path.join(d, "abort.c")
            exe = os.path.join(d, "abort")
            with open(src, "w") as f:
                f.write('#include <stdio.h>\n#include <stdlib.h>\n'
                        'int main(int argc, char **argv) {\n'
                        '\t(void)argv;\n'
                        '\tif (getenv("MAPSCAN_WAIT")) { puts("ready"); fflush(stdout); getchar(); return 0; }\n'
                        '\tabort();\n}\n')
            cc = os.environ.get("CC", "cc")
            p = subprocess.run([cc, "-o", exe, src], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if p.returncode != 0:
                raise Failure("%s: %s" % (cc, tail(p.stdout)))
            core, _ = capture_core([exe], os.path.join(d, "abort-run"), dict(os.environ))
            return ["--exe", exe, core], [exe, core], EXIT_NOTGO

        def no_dwarf():  # a debug file without DWARF (without any, mapscan goes on: stripped.py)
            fx = self.fixture(tc, "nodwarf")
            return ["--debug-file", fx["exe"], fx["core"]], [fx["exe"], fx["core"]], EXIT_NODWARF

        def mismatch():
            src = write_hello(os.path.join(d, "hello"))
            exe = self.build(tc, os.path.join(d, "hello-exe"), src=src)
            core = self.fixture(tc)["core"]
            return ["--exe", exe, core], [exe, core], EXIT_MISMATCH

        def missing():
            path = os.path.join(d, "no-such-dir", "core")
            return [path], [path], EXIT_OPEN

        def usage():
            return ["--top", "x", os.path.join(d, "notes.txt")], [], EXIT_USAGE

        case("non-elf", not_elf)
        case("truncated-core", truncated)
        case("non-go-core", not_go)
        case("no-dwarf", no_dwarf)
        case("mismatched-exe", mismatch)
        case("missing-file", missing)
        case("bad-usage", usage)

        for name, args, files, code in cases:
            check = "errors/" + name
            try:
                rc, out, err = self.run_mapscan(args)
                p = []
                if rc != code:
                    p.append("exit %d, want %d" % (rc, code))
                lines = err.strip("\n").split("\n") if err.strip() else []
                if len(lines) != 1:
                    p.append("stderr has %d lines, want 1: %r" % (len(lines), tail(err, 300)))
                elif files and not names_a_file(lines[0], files):
                    p.append("stderr %r names none of %s" % (lines[0], files))
                r.check(check, p)

                rc, out, err = self.run_mapscan(["--json"] + args)
                p = []
                if rc != code:
                    p.append("exit %d, want %d" % (rc, code))
                try:
                    doc = json.loads(out)
                except ValueError:
                    doc = None
                    p.append("stdout is not one JSON object: %r" % tail(out, 300))
                if doc is not None:
                    if not isinstance(doc, dict):
                        doc = {}
                    e = doc.get("error")
                    if doc.get("schema") != SCHEMA:
                        p.append("schema %r, want %d" % (doc.get("schema"), SCHEMA))
                    if not isinstance(e, dict):
                        p.append("no error object: %r" % tail(out, 300))
                    else:
                        if e.get("code") != code:
                            p.append("error.code %r, want %d" % (e.get("code"), code))
                        if not isinstance(e.get("kind"), str) or not e.get("kind"):
                            p.append("error.kind %r" % (e.get("kind"),))
                        msg = e.get("message")
                        if not isinstance(msg, str) or not msg or "\n" in msg:
                            p.append("error.message %r is not one line" % (msg,))
                        elif files and not names_a_file(msg, files):
                            p.append("error.message %r names none of %s" % (msg, files))
                r.check(check + " --json", p)
            except Failure as e:
                r.fail(check, e)

    # ----- bundled samples --------------------------------------------------

    def phase_samples(self):
        r = self.report
        names = sorted(n for n in os.listdir(SAMPLES)
                       if os.path.isfile(os.path.join(SAMPLES, n, "expect.json"))) if os.path.isdir(SAMPLES) else []
        if not names:
            r.fail("samples", "no samples in %s (make them with testdata/samples/make-samples.sh)" % SAMPLES)
            return
        for n in names:
            src = os.path.join(SAMPLES, n)
            name = "samples/" + n
            try:
                d = os.path.join(self.work, "samples", n)
                os.makedirs(d, exist_ok=True)
                files = {}
                for f in ("exe", "core"):
                    files[f] = os.path.join(d, f)
                    with lzma.open(os.path.join(src, f + ".xz")) as i, open(files[f], "wb") as o:
                        shutil.copyfileobj(i, o)
                with open(os.path.join(src, "expect.json")) as f:
                    expect = json.load(f)
                with open(os.path.join(src, "GOVERSION")) as f:
                    goversion = f.read().strip()
                doc = self.mapscan_json(["--exe", files["exe"], files["core"]])
            except (OSError, ValueError, Failure) as e:
                r.fail(name, e)
                continue
            r.ok(name)
            go = doc.get("go") if isinstance(doc, dict) and isinstance(doc.get("go"), dict) else {}
            r.check(name + "/go", [] if go.get("version") == goversion and go.get("map_layout") == expect["layout"]
                    else "go %r, want version %r and layout %r" % (go, goversion, expect["layout"]))
            want = [m["count"] for m in expect["maps"] if "main.sessions" in m["roots"]]
            got = [m.get("count") for m in doc.get("maps", []) if isinstance(m, dict)
                   and "main.sessions" in (m.get("roots") or [])]
            r.check(name + "/sessions", None if want and got == want[:1] else
                    "main.sessions counts %r, expect.json says %r" % (got, want))
            self.compare(name, doc, expect, files["core"])
            try:
                r.check(name + "/names-whole", self.names_whole(files["core"], ["--exe", files["exe"]]))
            except Failure as e:
                r.fail(name + "/names-whole", e)


def parse_addr(s):
    if not isinstance(s, str) or not s.startswith("0x"):
        return None
    try:
        return int(s, 16)
    except ValueError:
        return None


def names_a_file(text, files):
    return any(f in text or os.path.basename(f) in text for f in files)


def main(suite=None, prefix="mapscan-e2e-", doc=None):
    """Command line shared by the end-to-end harnesses (live.py uses it too)."""
    suite = suite or Suite
    ap = argparse.ArgumentParser(description=(doc or __doc__).split("\n\n")[0])
    ap.add_argument("--mapscan", required=True, help="the mapscan binary to test")
    ap.add_argument("--keep", metavar="DIR", help="build and keep executables, cores and oracles in DIR")
    ap.add_argument("-k", metavar="SUBSTR", help="run only the checks whose name contains SUBSTR")
    ap.add_argument("--allow-missing-toolchain", action="store_true",
                    help="warn instead of failing when a Go toolchain is not installed")
    ap.add_argument("--cache", metavar="DIR",
                    help="keep each toolchain's fixture builds and cores in DIR and reuse them")
    ap.add_argument("--jobs", type=int, default=2, metavar="N", help="phases run at once (default 2)")
    args = ap.parse_args()
    if args.cache:
        args.cache = os.path.abspath(args.cache)
        os.makedirs(args.cache, exist_ok=True)
    if args.keep:
        args.keep = os.path.abspath(args.keep)
        os.makedirs(args.keep, exist_ok=True)
        return suite(args).run()
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        args.keep = work
        return suite(args).run()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
