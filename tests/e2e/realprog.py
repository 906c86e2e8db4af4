#!/usr/bin/env python3
"""End-to-end tests: mapscan on cores of real programs built on third-party code.

    python3 tests/e2e/realprog.py --mapscan build/mapscan [--cache DIR] [-k SUBSTR]
                                  [--toolchains go1.26,go1.19] [--jobs N]
                                  [--allow-missing-toolchain]

Each directory of testdata/realprogs is a small Go program that uses real
libraries from the Go module proxy the way a service does (go-cache,
golang-lru, bigcache, net/http with gorilla/sessions, prometheus, gRPC, and
the service's own worker goroutines, also built with cgo as workers-cgo),
drives their maps into known states and writes its ground truth, measured
in-process by testdata/oracle (header address, len, type as mapscan spells
it, the path a user would name, every figure of docs/figures.md), just
before it dies with a core.  This builds
each program once per toolchain (module versions pinned per toolchain by
alternate go.mod files, PROGRAMS below), captures the core, runs
`mapscan --json` with and without --exe, and checks, per program:

  NAME/found     a map at the truth's address, with its count and type
  NAME/figures   every figure exact
  NAME/root      roots[0] is the path a user would name, and precise
                 (precise_roots >= 1, conservative false) unless the truth
                 says the map is only held by a frame word DWARF does not
                 describe (then roots[0] must match a regular expression)
  NAME/grown     a map that only grew: reclaimable <= 10% of retained
  selects        no root goes through runtime.selectgo's cas1 past the
                 select's real cases
  indexes        no root indexes an array or slice past what the program has
  main-maps      the number of distinct live maps of package-main types is
                 the program's
  heap           heap_in_use_bytes is the runtime's HeapInuse
  one-cpu        `taskset -c 0 mapscan --json` prints the same bytes (what
                 mapscan splits between CPUs must not change the report)
  run            mapscan exits 0 within --timeout seconds

A group of maps (an expirable LRU's 100 buckets, bigcache's 256 shards)
gets one found/figures/root check for all of its maps.  Maps the truth
gives an owner (the maps below a tree's root) get one check that mapscan's
owner group for each has that pattern.

Checks that fail because of known mapscan bugs are listed in
tests/e2e/realprog.xfail (one glob pattern of check names per line, then
the reason; fnmatch globs, so `[` is written `[[]`): a listed check that
fails prints `XFAIL - NAME: DETAILS` and does not fail the run (nor count as
passed); one that passes prints `XPASS - NAME` and fails it, so that the
list only shrinks.  Every other check prints `ok - NAME` or
`FAIL - NAME: DETAILS`; the last line is `N passed, M failed`.

--cache DIR keeps the executables, cores and truths between runs (keyed by
a hash of the program's and the oracle's sources and the toolchain): the
Makefile's normal and ASan passes share them.

Environment: MAPSCAN_GO<NN> (MAPSCAN_GO119, MAPSCAN_GO126, ...) names another
go command for a toolchain; the defaults are /usr/lib/go-1.19/bin/go for
1.19, `go` with GOTOOLCHAIN=local for 1.26 and `go` with GOTOOLCHAIN set to
the release for the others (the go command fetches it from the module proxy
once).

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import FIGURES, Failure, capture_core, names_whole_problems, tail  # noqa: E402  (tests/e2e/run.py)

ROOT = os.path.dirname(os.path.dirname(HERE))
PROGS = os.path.join(ROOT, "testdata", "realprogs")
ORACLE = os.path.join(ROOT, "testdata", "oracle")
XFAIL = os.path.join(HERE, "realprog.xfail")

# Bump when a change here changes what is built or how it is run, so that
# --cache entries from before are not reused.
HARNESS = "1"


class Toolchain:
    def __init__(self, name, version, layout):
        self.name = name
        self.version = version  # (1, 26)
        self.layout = layout
        env_var = "MAPSCAN_GO1%d" % version[1]
        override = os.environ.get(env_var)
        if override:
            self.go, gotoolchain = override, "local"
        elif version == (1, 19):
            self.go, gotoolchain = "/usr/lib/go-1.19/bin/go", "local"
        elif name == "go1.26":
            self.go, gotoolchain = "go", "local"
        else:
            self.go, gotoolchain = "go", name
        self.env = dict(os.environ, GOTOOLCHAIN=gotoolchain, GOWORK="off", GO111MODULE="on",
                        CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false")
        self.env.pop("GOEXPERIMENT", None)
        # The oracle links runtime.roundupsize for classic maps; Go 1.23+
        # only allows that with -checklinkname=0 (which 1.22 and older lack).
        self.ldflags = ["-checklinkname=0"] if layout == "classic" and version >= (1, 23) else []

    def run(self, args, cwd=None, timeout=900, env=None):
        return subprocess.run([self.go] + args, cwd=cwd, env=dict(self.env, **(env or {})), timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


TOOLCHAINS = [
    Toolchain("go1.26", (1, 26), "swiss"),
    Toolchain("go1.19", (1, 19), "classic"),
    Toolchain("go1.23.12", (1, 23), "classic"),
    Toolchain("go1.20.14", (1, 20), "classic"),
    Toolchain("go1.21.13", (1, 21), "classic"),
    Toolchain("go1.22.12", (1, 22), "classic"),
    Toolchain("go1.24.11", (1, 24), "swiss"),
    Toolchain("go1.25.5", (1, 25), "swiss"),
    Toolchain("go1.27.3", (1, 27), "swiss"),
]
ALL = [tc.name for tc in TOOLCHAINS]

# Program -> (toolchains it runs on, [(lowest Go it serves, go.mod file)]):
# the newest module versions need a new Go, so older toolchains build with
# older pins from an alternate go.mod (go build -modfile; its go.sum is the
# file of the same name ending in .sum).
PROGRAMS = {
    "workers": (ALL, [((1, 19), "go.mod")]),
    "gocache": (ALL, [((1, 19), "go.mod")]),
    "lru": (ALL, [((1, 19), "go.mod")]),
    "bigcache": (ALL, [((1, 19), "go.mod")]),
    # gorilla/sessions v1.4.0 needs Go 1.23; v1.2.1 builds with 1.19.
    "httpsessions": (ALL, [((1, 19), "go1.19.mod"), ((1, 23), "go.mod")]),
    # client_golang v1.25.0 needs Go 1.26; v1.17.0 builds with 1.19.
    "prometheus": (["go1.26", "go1.19", "go1.23.12", "go1.27.3"], [((1, 19), "go1.19.mod"), ((1, 26), "go.mod")]),
    # grpc v1.85.0 needs Go 1.26; v1.64.1 builds with 1.19.
    "grpc": (["go1.26", "go1.19", "go1.23.12", "go1.27.3"], [((1, 19), "go1.19.mod"), ((1, 26), "go.mod")]),
    # workers built with cgo (its cgo.go): linked by the C toolchain, C
    # units in its DWARF, a goroutine inside a C call.
    "workers-cgo": (["go1.26", "go1.19", "go1.23.12"], [((1, 19), "go.mod")]),
}

# A program built from another's directory: name -> (directory, extra go
# build arguments, environment).
VARIANTS = {
    "workers-cgo": ("workers", ["-tags", "mapscan_cgo"], {"CGO_ENABLED": "1"}),
}


def variant(prog):
    return VARIANTS.get(prog, (prog, [], {}))

# mapscan's spelling of a root in a goroutine's frame.
GOROUTINE_ROOT = re.compile(r"goroutine (\d+) \(")
# A type that names a type of package main.
MAIN_TYPE = re.compile(r"(?<![\w./])main\.")
# An index in a path: [12]; [*] (any element of a map) has none.
INDEX = re.compile(r"\[(\d+)\]")
# runtime.selectgo's cases: cas1 is typed *[65536]scase; only the first
# ncases are real.  No select in a program or library here has this many.
SELECT_CASES_MAX = 64


def modfile_for(prog, tc):
    chosen = None
    for lowest, f in PROGRAMS[prog][1]:
        if tc.version >= lowest:
            chosen = f
    return chosen


class Results:
    """Collects check results of one task; printed together."""

    def __init__(self, xfail):
        self.xfail = xfail
        self.lines = []
        self.counts = {"ok": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}

    def check(self, name, problems):
        if isinstance(problems, list):
            problems = "; ".join(str(p) for p in problems)
        problems = " ".join(str(problems or "").split("\n"))
        listed = self.xfail.match(name)
        if problems:
            status = "XFAIL" if listed else "FAIL"
            self.lines.append("%s - %s: %s" % (status, name, problems))
        else:
            status = "XPASS" if listed else "ok"
            self.lines.append("%s - %s%s" % (status, name, " (listed in realprog.xfail: remove it)"
                                             if listed else ""))
        self.counts[status] += 1

    def note(self, text):
        self.lines.append("# " + text)


class XfailList:
    def __init__(self, path):
        self.entries = []  # [pattern, reason, used]
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    pat, _, reason = line.partition(" ")
                    self.entries.append([pat, reason.strip(), False])
        except FileNotFoundError:
            pass
        self.lock = threading.Lock()

    def match(self, name):
        hit = False
        with self.lock:
            for e in self.entries:
                if fnmatch.fnmatchcase(name, e[0]):
                    e[2] = True
                    hit = True
        return hit


def source_hash(prog, tc, version, modfile):
    h = hashlib.sha256()
    h.update(("%s %s %s %s %s %s\n" % (HARNESS, tc.name, version, modfile, tc.ldflags, tc.go)).encode())
    if prog in VARIANTS:
        h.update(("%r\n" % (VARIANTS[prog],)).encode())
    for d in (os.path.join(PROGS, variant(prog)[0]), ORACLE):
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n)
            if os.path.isfile(p) and (n.endswith(".go") or n.endswith(".mod") or n.endswith(".sum")):
                h.update(n.encode() + b"\0")
                with open(p, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()[:16]


class Suite:
    def __init__(self, args):
        self.args = args
        self.mapscan = os.path.abspath(args.mapscan)
        self.xfail = XfailList(XFAIL)
        self.lock = threading.Lock()
        self.versions = {}
        self.totals = {"ok": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}

    def emit(self, res):
        with self.lock:
            shown = [ln for ln in res.lines if ln.startswith("#") or self.wanted(ln)]
            for ln in shown:
                print(ln, flush=True)
            for ln in shown:
                st = ln.split(" - ", 1)[0]
                if st in self.totals:
                    self.totals[st] += 1

    def wanted(self, line):
        if not self.args.k:
            return True
        name = line.split(" - ", 1)[1] if " - " in line else line
        return self.args.k in name.split(": ", 1)[0]

    def toolchain_version(self, tc):
        with self.lock:
            if tc.name in self.versions:
                v = self.versions[tc.name]
                if isinstance(v, Failure):
                    raise v
                return v
        try:
            p = tc.run(["env", "GOVERSION"], timeout=600)
            version = p.stdout.strip()
            if p.returncode != 0 or not version.startswith(tc.name):
                raise Failure("%s (GOTOOLCHAIN=%s) is %r, want %s: %s"
                              % (tc.go, tc.env["GOTOOLCHAIN"], version, tc.name, tail(p.stderr, 300)))
        except (OSError, subprocess.TimeoutExpired) as e:
            version = Failure("%s: %s" % (tc.go, e))
        except Failure as e:
            version = e
        with self.lock:
            self.versions[tc.name] = version
        if isinstance(version, Failure):
            raise version
        return version

    # ----- building and crashing a program, once per source state -----------

    def program(self, prog, tc):
        """Returns dict(exe, core, truth, escape) for prog built with tc,
        from the cache when its sources did not change."""
        version = self.toolchain_version(tc)
        modfile = modfile_for(prog, tc)
        key = source_hash(prog, tc, version, modfile)
        d = os.path.join(self.args.cache, tc.name, prog)
        files = {n: os.path.join(d, n) for n in ("exe", "core", "truth.json", "escape.txt", "key")}
        try:
            with open(files["key"]) as f:
                cached = f.read().strip() == key
        except OSError:
            cached = False
        if not cached:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            base, extra, env = variant(prog)
            src = os.path.join(PROGS, base)
            # -gcflags=-m (main package only) says what escapes; it does
            # not change the code.
            cmd = ["build", "-modfile=" + modfile, "-gcflags=-m", "-o", files["exe"]] + extra
            cmd += ["-ldflags=" + " ".join(tc.ldflags)] if tc.ldflags else []
            p = tc.run(cmd + ["."], cwd=src, env=env)
            if p.returncode != 0:
                raise Failure("%s %s: %s" % (tc.go, " ".join(cmd), tail(p.stderr)))
            with open(files["escape.txt"], "w") as f:
                f.write(p.stderr)
            rundir = os.path.join(d, "run")
            truth = os.path.join(rundir, "truth.json")
            env = dict(os.environ, MAPSCAN_ORACLE=truth, GOTRACEBACK="crash")
            env.pop("GODEBUG", None)
            errfile = os.path.join(d, "stderr")
            core, _ = capture_core(["/bin/sh", "-c", 'exec "$0" 2>"$1"', files["exe"], errfile], rundir, env)
            os.rename(core, files["core"])
            if not os.path.exists(truth):
                # GOTRACEBACK=crash makes a panic abort with a core too.
                with open(errfile, errors="replace") as f:
                    err = [ln for ln in f.read().split("\n") if ln and not ln[0].isspace()]
                raise Failure("%s died before writing its truth: %s" % (prog, " | ".join(err[:4])))
            with open(truth) as f:
                doc = json.load(f)
            try:  # the runtime's HeapInuse, recorded last before the crash
                with open(truth + ".heap") as f:
                    doc["heap_inuse"] = int(f.read())
            except (OSError, ValueError):
                pass
            with open(files["truth.json"], "w") as f:
                json.dump(doc, f)
            shutil.rmtree(rundir, ignore_errors=True)
            with open(files["key"], "w") as f:
                f.write(key + "\n")
        with open(files["truth.json"]) as f:
            truth = json.load(f)
        with open(files["escape.txt"]) as f:
            escape = f.read()
        return dict(exe=files["exe"], core=files["core"], truth=truth, escape=escape, cached=cached)

    def run_mapscan(self, args, env=None):
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.mapscan] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.args.timeout, env=dict(os.environ, **env) if env else None)
        except subprocess.TimeoutExpired:
            raise Failure("mapscan %s: did not finish in %ds" % (" ".join(args), self.args.timeout))
        except OSError as e:
            raise Failure("cannot run %s: %s" % (self.mapscan, e))
        return (p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"),
                time.monotonic() - t0)

    # ----- one program on one toolchain ------------------------------------

    def task(self, prog, tc):
        res = Results(self.xfail)
        name = "%s/%s" % (tc.name, prog)
        try:
            px = self.program(prog, tc)
        except Failure as e:
            res.check(name + "/build", e)
            return res
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            res.check(name + "/build", "%s" % e)
            return res
        res.check(name + "/build", None)
        st = os.stat(px["core"])
        res.note("%s: core %.1f MB (%.1f MB on disk)%s" % (name, st.st_size / 1e6, st.st_blocks * 512 / 1e6,
                                                          ", from the cache" if px["cached"] else ""))
        truth = px["truth"]
        res.check(name + "/truth", self.truth_problems(truth, tc))
        if variant(prog)[0] == "workers":
            res.check(name + "/noescape", noescape_problems(px["escape"]))
        for tag, args in (("json", [px["core"]]), ("json-exe", ["--exe", px["exe"], px["core"]])):
            vname = "%s/%s" % (name, tag)
            try:
                rc, out, err, secs = self.run_mapscan(["--json"] + args)
                if rc != 0:
                    raise Failure("exit %d: %s" % (rc, tail(err or out)))
                try:
                    doc = json.loads(out)
                except ValueError as e:
                    raise Failure("not JSON (%s): %s" % (e, tail(out, 200)))
                if not isinstance(doc, dict) or not isinstance(doc.get("maps"), list):
                    raise Failure("no maps in the report: %s" % tail(out, 200))
            except Failure as e:
                res.check(vname + "/run", e)
                continue
            res.check(vname + "/run", None)
            res.note("%s: %.2f s, %d maps" % (vname, secs, len(doc["maps"])))
            self.compare(res, vname, doc, truth, tc)
            if tag == "json":
                res.check(vname + "/one-cpu", self.one_cpu_problems(args, out))
        self.text_check(res, name, px, truth)
        return res

    def one_cpu_problems(self, args, out):
        """What mapscan splits between CPUs (the DWARF parse, the typing of
        unreached candidates, the map walks, the JSON writers) must give
        the report one CPU gives, byte for byte."""
        try:
            p = subprocess.run(["taskset", "-c", "0", self.mapscan, "--json"] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=self.args.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return "taskset -c 0 mapscan: %s" % e
        one = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            return "taskset -c 0 mapscan: exit %d: %s" % (p.returncode, tail(p.stderr.decode(errors="replace")))
        if one != out:
            a, b = out.splitlines(), one.splitlines()
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            return "one CPU's report differs at line %d: %r vs %r" % (
                i + 1, a[i] if i < len(a) else None, b[i] if i < len(b) else None)
        return None

    def truth_problems(self, truth, tc):
        p = []
        if (truth.get("go_version") or "").split(" ")[0] != self.versions.get(tc.name):
            p.append("go_version %r, toolchain %r" % (truth.get("go_version"), self.versions.get(tc.name)))
        if truth.get("layout") != tc.layout:
            p.append("layout %r, want %r" % (truth.get("layout"), tc.layout))
        if not truth.get("maps"):
            p.append("no maps")
        for m in truth.get("maps", []):
            if m["root"].startswith("re:"):
                try:
                    re.compile(m["root"][3:])
                except re.error as e:
                    p.append("%s: bad root regex %r: %s" % (m["name"], m["root"], e))
        return p

    def compare(self, res, vname, doc, truth, tc):
        maps = [m for m in doc["maps"] if isinstance(m, dict)]
        by_addr = {}
        for m in maps:
            by_addr.setdefault(m.get("address"), m)
        groups = {}  # group -> {aspect: [problems]}, and the member count
        for tm in truth["maps"]:
            m = by_addr.get(tm["address"])
            probs = map_problems(tm, m, tc)
            g = tm.get("group")
            if g:
                agg = groups.setdefault(g, {"n": 0, "found": [], "figures": [], "root": [], "grown": []})
                agg["n"] += 1
                for aspect, pr in probs.items():
                    if pr:
                        agg[aspect].append("%s: %s" % (tm["name"], "; ".join(pr)))
                continue
            for aspect in ("found", "figures", "root", "grown"):
                if aspect == "grown" and not tm.get("grown"):
                    continue
                res.check("%s/%s/%s" % (vname, tm["name"], aspect), probs[aspect])
        for g, agg in sorted(groups.items()):
            for aspect in ("found", "figures", "root", "grown"):
                if aspect == "grown" and not agg["grown"] and not any(
                        tm.get("grown") for tm in truth["maps"] if tm.get("group") == g):
                    continue
                bad = agg[aspect]
                res.check("%s/%s/%s" % (vname, g, aspect),
                          "%d of %d maps: %s" % (len(bad), agg["n"], "; ".join(bad[:3])) if bad else None)

        # Owner groups: every map with an "owner" is in the group of that
        # pattern.
        pattern = {g.get("id"): g.get("pattern") for g in doc.get("groups") or [] if isinstance(g, dict)}
        owners = {}
        for tm in truth["maps"]:
            if not tm.get("owner"):
                continue
            m = by_addr.get(tm["address"])
            got = pattern.get(m.get("group")) if m else None
            o = owners.setdefault(tm["owner"], [0, []])
            o[0] += 1
            if got != tm["owner"]:
                o[1].append("%s: in group %r" % (tm["name"], got))
        for want, (n, bad) in sorted(owners.items()):
            res.check("%s/owner %s" % (vname, want),
                      "%d of %d maps: %s" % (len(bad), n, "; ".join(bad[:3])) if bad else None)

        # Roots through runtime.selectgo's cases and indexes past what the
        # program has.
        sel = {str(s["goroutine"]): s for s in truth.get("selects") or []}
        bad_sel, bad_idx = [], []
        limit = int(truth.get("max_index") or 0)
        # "[1181]" after a map's own path is its key, not an index: the
        # paths of the maps mapscan reports say which prefixes are maps.
        map_paths = {r for m in maps for r in (m.get("roots") or []) if isinstance(r, str)}
        for m in maps:
            for r in m.get("roots") or []:
                if not isinstance(r, str):
                    continue
                g = GOROUTINE_ROOT.match(r)
                cases = sel[g.group(1)]["cases"] if g and g.group(1) in sel else SELECT_CASES_MAX
                for k in re.findall(r"cas1\[(\d+)\]", r):
                    if int(k) >= cases:
                        bad_sel.append("%s %s: %s" % (m.get("address"), m.get("type"), r))
                for k in INDEX.finditer(r):
                    if int(k.group(1)) > limit and r[:k.start()] not in map_paths:
                        bad_idx.append("%s %s: %s" % (m.get("address"), m.get("type"), r))
                        break
        res.check(vname + "/selects", "roots past the select's cases: %d, e.g. %s" % (len(bad_sel), "; ".join(bad_sel[:3]))
                  if bad_sel else None)
        res.check(vname + "/indexes", "roots with an index > %d: %d, e.g. %s" % (limit, len(bad_idx), "; ".join(bad_idx[:3]))
                  if bad_idx else None)

        # Distinct live maps of package-main types: the program registers
        # every one it has.
        want = {tm["address"] for tm in truth["maps"] if MAIN_TYPE.search(tm["type"] or "")}
        got = {m.get("address") for m in maps if m.get("reachable") is not False
               and isinstance(m.get("type"), str) and MAIN_TYPE.search(m["type"])}
        p = []
        if len(got) != truth.get("main_maps", len(want)):
            p.append("%d live maps of main types, the program has %d" % (len(got), truth.get("main_maps")))
        extra = sorted(got - want)
        if extra:
            p.append("not the program's: " + "; ".join("%s %s %s" % (a, by_addr[a].get("type"),
                                                                    (by_addr[a].get("roots") or [])[:1])
                                                       for a in extra[:3]))
        lost = sorted(want - got)
        if lost:
            p.append("missing or not of its main type: " + "; ".join(
                "%s %s (mapscan: %s)" % (a, next(tm["type"] for tm in truth["maps"] if tm["address"] == a),
                                         by_addr[a].get("type") if a in by_addr else "no map")
                for a in lost[:3]))
        res.check(vname + "/main-maps", p)

        want_heap = truth.get("heap_inuse")
        if isinstance(want_heap, int) and want_heap:
            got_heap = (doc.get("summary") or {}).get("heap_in_use_bytes")
            res.check(vname + "/heap", None if isinstance(got_heap, int) and want_heap <= got_heap <= want_heap + (64 << 10)
                      else "heap_in_use_bytes %r, the runtime said %d" % (got_heap, want_heap))

    def text_check(self, res, name, px, truth):
        try:
            rc, out, err, _ = self.run_mapscan([px["core"]])
        except Failure as e:
            res.check(name + "/text", e)
            return
        p = []
        if rc != 0:
            p.append("exit %d: %s" % (rc, tail(err)))
        top = max((m for m in truth["maps"]), key=lambda m: m["reclaimable_bytes"])
        if top["reclaimable_bytes"] > (1 << 20) and "Nothing reclaimable" in out:
            p.append("says 'Nothing reclaimable' though %s holds %d reclaimable bytes"
                     % (top["name"], top["reclaimable_bytes"]))
        res.check(name + "/text", p)
        # Every name whole in the text, in a pipe and in 80 columns (issue 10).
        try:
            res.check(name + "/names-whole", names_whole_problems(self.run_mapscan, px["core"]))
        except Failure as e:
            res.check(name + "/names-whole", e)

    # ----- the whole run ------------------------------------------------------

    def run(self):
        names = [x for x in self.args.toolchains.split(",") if x] if self.args.toolchains else ALL
        tcs = [tc for tc in TOOLCHAINS if tc.name in names]
        unknown = set(names) - {tc.name for tc in tcs}
        if unknown:
            print("FAIL - toolchains: unknown %s (known: %s)" % (sorted(unknown), ", ".join(ALL)))
            self.totals["FAIL"] += 1
        if not os.access(self.mapscan, os.X_OK):
            print("FAIL - mapscan: %s is not an executable (build it first: make)" % self.mapscan)
            self.totals["FAIL"] += 1
        tasks = []
        for tc in tcs:
            res = Results(self.xfail)
            try:
                version = self.toolchain_version(tc)
                res.check(tc.name + "/toolchain", None)
                res.note("%s: %s (%s)" % (tc.name, version, tc.go))
            except Failure as e:
                if self.args.allow_missing_toolchain:
                    res.note("WARNING: toolchain %s missing, its tests did NOT run: %s" % (tc.name, e))
                else:
                    res.check(tc.name + "/toolchain", e)
                self.emit(res)
                continue
            self.emit(res)
            for prog, (where, _) in PROGRAMS.items():
                if tc.name in where:
                    tasks.append((prog, tc))
        # -k: the tasks whose name it contains or names (go1.26/lru, or
        # go1.26/lru/json/...), or every task when it names none.
        k = self.args.k
        if k:
            picked = [(p, tc) for p, tc in tasks if k in "%s/%s" % (tc.name, p)
                      or k.startswith("%s/%s/" % (tc.name, p))]
            tasks = picked or tasks
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            futs = [pool.submit(self.task, prog, tc) for prog, tc in tasks]
            for f in futs:
                try:
                    self.emit(f.result())
                except Exception as e:  # a harness bug: report it, go on
                    res = Results(self.xfail)
                    res.check("harness", "harness error: %r" % e)
                    self.emit(res)
        if not self.args.k and not self.args.toolchains:
            res = Results(XfailList(os.devnull))
            for pat, reason, used in self.xfail.entries:
                if not used:
                    res.check("xfail-unused", "%s matches no check (%s): remove it" % (pat, reason))
            self.emit(res)
        t = self.totals
        if t["XFAIL"] or t["XPASS"]:
            print("# %d expected failures (tests/e2e/realprog.xfail), %d unexpected passes"
                  % (t["XFAIL"], t["XPASS"]), flush=True)
        failed = t["FAIL"] + t["XPASS"]
        print("%d passed, %d failed" % (t["ok"], failed), flush=True)
        return 1 if failed else 0


def map_problems(tm, m, tc):
    """Problems per aspect for the truth map tm and mapscan's map m."""
    out = {"found": [], "figures": [], "root": [], "grown": []}
    if m is None:
        for a in out:
            out[a].append("no map at %s (%s, %s)" % (tm["address"], tm["type"], tm["root"]))
        return out
    # A map only a frame word holds has no typed path; before Go 1.22 its
    # storage carries no allocation header either, so its type is a guess
    # from the layout (map[string]int and map[string]uint64 look the same),
    # marked as one, which the frame's function's own locals must make the
    # right one.  Anywhere else the type must be known.
    guess_ok = tm.get("any_root") and tc.version < (1, 22) and m.get("type_guessed") is True
    for k in ("count", "type", "key_type", "elem_type", "layout"):
        if m.get(k) != tm[k]:
            out["found"].append("%s: mapscan %r, truth %r" % (k, m.get(k), tm[k]))
    if m.get("reachable") is False:
        out["found"].append("mapscan calls it unreachable")
    if m.get("type_guessed") is True and not guess_ok:
        out["found"].append("type guessed (%s candidates)" % m.get("type_candidates"))
    for k in FIGURES:
        if m.get(k) != tm[k] or type(m.get(k)) is not type(tm[k]):
            out["figures"].append("%s: mapscan %r, truth %r" % (k, m.get(k), tm[k]))
    roots = m.get("roots") if isinstance(m.get("roots"), list) else []
    first = roots[0] if roots else None
    want = tm["root"]
    if want.startswith("re:"):
        ok = isinstance(first, str) and re.fullmatch(want[3:], first)
    else:
        ok = first == want
    if not ok:
        out["root"].append("roots[0] %r, want %r (roots %r)" % (first, want, roots[:4]))
    if not tm.get("any_root"):
        if not isinstance(m.get("precise_roots"), int) or m["precise_roots"] < 1:
            out["root"].append("precise_roots %r" % m.get("precise_roots"))
        if m.get("conservative") is not False:
            out["root"].append("conservative %r" % m.get("conservative"))
    if tm.get("grown"):
        ret, rec = m.get("retained_bytes"), m.get("reclaimable_bytes")
        if not (isinstance(ret, int) and isinstance(rec, int) and rec * 10 <= ret):
            out["grown"].append("only grew, but mapscan says %r of %r bytes reclaimable (truth %d of %d)"
                                % (rec, ret, tm["reclaimable_bytes"], tm["retained_bytes"]))
    return out


def noescape_problems(escape):
    """The worker maps of testdata/realprogs/workers must not escape, or the
    test does not test a header in a frame."""
    p = []
    for t in ("map[int]*Job", "map[string]int"):
        if not re.search(r"main\.go:\d+:\d+: make\(%s\) does not escape" % re.escape(t), escape):
            esc = re.findall(r"main\.go:\d+:\d+: make\(%s\).*" % re.escape(t), escape)
            p.append("make(%s): %s" % (t, esc or "no escape analysis line (was the build cached?)"))
    for v in ("byID", "seen"):
        if re.search(r"main\.go:\d+:\d+: moved to heap: %s$" % v, escape, re.M):
            p.append("%s moved to the heap" % v)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mapscan", required=True, help="the mapscan binary to test")
    ap.add_argument("--cache", metavar="DIR", help="keep executables, cores and truths in DIR and reuse them")
    ap.add_argument("-k", metavar="SUBSTR", help="run only the checks whose name contains SUBSTR")
    ap.add_argument("--toolchains", metavar="LIST", help="comma-separated toolchains (default: all of %s)"
                    % ", ".join(ALL))
    ap.add_argument("--jobs", type=int, default=2, help="programs built and scanned at once (default 2)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds one mapscan run may take (default 120)")
    ap.add_argument("--allow-missing-toolchain", action="store_true",
                    help="warn instead of failing when a Go toolchain is not installed")
    args = ap.parse_args()
    if args.cache:
        args.cache = os.path.abspath(args.cache)
        os.makedirs(args.cache, exist_ok=True)
        return Suite(args).run()
    args.cache = tempfile.mkdtemp(prefix="mapscan-realprog-")
    try:
        return Suite(args).run()
    finally:
        shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
