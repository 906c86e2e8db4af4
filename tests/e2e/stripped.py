#!/usr/bin/env python3
"""End-to-end tests of production binaries: stripped, or built without DWARF.

    python3 tests/e2e/stripped.py --mapscan build/mapscan [--keep DIR] [-k SUBSTR]
                                  [--allow-missing-toolchain]

For Go 1.19, 1.23, 1.26 and 1.27 this builds testdata/fixtures/mapstates
(the figures of every map state and every way of holding a map, with their
oracle) once normally, and derives from that build what production ships:

    full      the normal build (DWARF and symbols)
    app       `strip` of full, with a .gnu_debuglink to .debug/app.debug
    debug     `objcopy --only-keep-debug` of full (also at .debug/app.debug
              and under a .build-id directory when the build has a GNU ID)
    sw        a second build with -ldflags=-s -w: no DWARF, no symbols
    other     a build whose layout differs (main compiled with -N -l)

and checks, on a core of `app` and a core of `sw`, that mapscan gives the
oracle's figures, types and roots:

    strip/exe         mapscan --exe full CORE-OF-APP
    strip/debug-file  mapscan --debug-file debug CORE-OF-APP
    strip/debuglink   mapscan CORE-OF-APP (found by .gnu_debuglink)
    strip/build-id    mapscan --exe app.nolink CORE-OF-APP, debug file found
                      under MAPSCAN_DEBUG_DIR/.build-id (GNU build ID builds)
    rebuild           mapscan --exe full CORE-OF-SW: another build, accepted
                      because its layout is verified ("layout" in JSON)
    nodwarf           mapscan CORE-OF-SW: no DWARF anywhere; every figure and
                      type of the oracle, nothing invented, and the same maps
                      and figures as with the rebuild's DWARF; also for sw
                      with its section headers removed
    refuse/...        a debug copy of another build, and a rebuild whose
                      layout differs: exit 7, one line saying what differs
    live/...          the same with --pid on the running app and sw

Output and exit status as tests/e2e/run.py, whose build helpers and
comparison with the oracle this reuses.  Python 3 standard library only.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tests/e2e/run.py)
import live  # noqa: E402  (tests/e2e/live.py)
from run import Failure, tail  # noqa: E402

TOOLCHAINS = [tc for tc in run.TOOLCHAINS if tc.name in ("go1.26", "go1.19", "go1.23.12")] + [
    run.Toolchain("go1.27.3", "MAPSCAN_GO127", "go", "go1.27.3", "swiss", ["-checklinkname=0"]),
]
PHASES = [tc.name for tc in TOOLCHAINS]


def tool(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if p.returncode != 0:
        raise Failure("%s: %s" % (" ".join(args), tail(p.stdout)))
    return p.stdout


def gnu_build_id(path):
    """The GNU build ID of an ELF file as hex, or None (readelf -n)."""
    for line in tool(["readelf", "-n", path]).splitlines():
        line = line.strip()
        if line.startswith("Build ID:"):
            return line.split(":", 1)[1].strip()
    return None


class Stripped:
    def __init__(self, args):
        self.args = args
        self.suite = run.Suite(args)
        self.r = self.suite.report
        self.work = args.keep

    def run(self):
        k = self.args.k
        selected = [p for p in PHASES if k and (k in p or p in k)]
        for phase in selected or PHASES:
            tc = next(t for t in TOOLCHAINS if t.name == phase)
            try:
                self.phase(tc)
            except Failure as e:
                self.r.fail("stripped/" + phase, e)
            except Exception as e:  # a harness bug or an odd answer: report it, go on
                self.r.fail("stripped/" + phase, "harness error: %r" % e)
        print("%d passed, %d failed" % (self.r.passed, self.r.failed), flush=True)
        return 1 if self.r.failed else 0

    # ----- the builds ---------------------------------------------------------

    def builds(self, tc):
        """Every variant of one toolchain's fixture, built once."""
        d = os.path.join(self.work, tc.name)
        os.makedirs(os.path.join(d, ".debug"), exist_ok=True)
        b = {"dir": d}
        b["full"] = self.suite.build(tc, os.path.join(d, "full"))
        b["sw"] = self.suite.build(tc, os.path.join(d, "sw"), ldflags=["-s", "-w"])
        cmd = ["build", "-gcflags=-N -l", "-o", os.path.join(d, "other")]
        if tc.ldflags:
            cmd.append("-ldflags=" + " ".join(tc.ldflags))
        p = tc.run(cmd + ["."], cwd=run.FIXTURE)
        if p.returncode != 0:
            raise Failure("%s %s: %s" % (tc.go, " ".join(cmd), tail(p.stderr)))
        b["other"] = os.path.join(d, "other")
        b["debug"] = os.path.join(d, ".debug", "app.debug")
        tool(["objcopy", "--only-keep-debug", b["full"], b["debug"]])
        b["other_debug"] = os.path.join(d, "other.debug")
        tool(["objcopy", "--only-keep-debug", b["other"], b["other_debug"]])
        b["nolink"] = os.path.join(d, "app.nolink")
        tool(["strip", "-o", b["nolink"], b["full"]])
        b["app"] = os.path.join(d, "app")
        # objcopy names the link after the file and records its CRC.
        tool(["objcopy", "--add-gnu-debuglink=" + b["debug"], b["nolink"], b["app"]])
        # sw without section headers (what strip --strip-section-headers
        # makes): the loader finds the runtime's tables by their contents.
        b["nosections"] = os.path.join(d, "sw-nosections")
        with open(b["sw"], "rb") as f:
            elf = bytearray(f.read())
        elf[0x28:0x30] = bytes(8)   # e_shoff
        elf[0x3c:0x40] = bytes(4)   # e_shnum, e_shstrndx
        with open(b["nosections"], "wb") as f:
            f.write(elf)
        os.chmod(b["nosections"], 0o755)
        b["gnu_id"] = gnu_build_id(b["full"])
        if b["gnu_id"]:
            idd = os.path.join(d, "debugroot", ".build-id", b["gnu_id"][:2])
            os.makedirs(idd, exist_ok=True)
            shutil.copy(b["debug"], os.path.join(idd, b["gnu_id"][2:] + ".debug"))
        return b

    def crash(self, exe, name):
        rundir = os.path.join(os.path.dirname(exe), "run-" + name)
        oracle = os.path.join(rundir, "oracle.json")
        env = dict(os.environ, MAPSCAN_ORACLE=oracle, GOTRACEBACK="crash")
        core, _ = run.capture_core([exe], rundir, env)
        with open(oracle) as f:
            return core, json.load(f)

    # ----- checks -------------------------------------------------------------

    def ms(self, args, env=None):
        try:
            p = subprocess.run([self.suite.mapscan] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=run.RUN_TIMEOUT,
                               env=dict(os.environ, **(env or {})))
        except subprocess.TimeoutExpired:
            raise Failure("mapscan %s: timed out" % " ".join(args))
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def compare(self, name, args, oracle, source, found_by, match, kind="core", env=None):
        """mapscan --json ARGS agrees with the oracle and names the file
        that gave the DWARF."""
        try:
            doc = run.json_doc(args, *self.ms(["--json"] + args, env))
        except Failure as e:
            self.r.fail(name, e)
            return
        self.r.ok(name)
        self.suite.compare(name, doc, oracle, source, kind=kind)
        di = (doc.get("source") or {}).get("debug_info")
        want = {"found_by": found_by, "match": match}
        self.r.check(name + "/debug-info", None if isinstance(di, dict) and all(
            di.get(k) == v for k, v in want.items()) and isinstance(di.get("path"), str)
            else "source.debug_info %r, want %r" % (di, want))

    def nodwarf(self, name, args, oracle, source, dwarf_args, kind="core"):
        """No DWARF anywhere: every oracle map with its figures, its type
        (not a guess) and its flags; nothing in the decoys, no dropped map
        reachable; and the same maps, with the same figures, as mapscan
        finds with DWARF (dwarf_args) in the same memory."""
        r = self.r
        try:
            doc = run.json_doc(args, *self.ms(["--json"] + args))
            ref = run.json_doc(dwarf_args, *self.ms(["--json"] + dwarf_args)) if dwarf_args else None
        except Failure as e:
            r.fail(name, e)
            return
        r.ok(name)
        r.check(name + "/shape", self.suite.shape_problems(doc, oracle, source, kind))
        src = doc.get("source") or {}
        warns = " ".join(w for w in doc.get("warnings", []) if isinstance(w, str))
        r.check(name + "/names-limited", None if src.get("debug_info") is None and
                src.get("names_limited") is True and "--debug-file" in warns
                else "debug_info %r, names_limited %r, warnings %r"
                % (src.get("debug_info"), src.get("names_limited"), warns[:300]))
        maps = [m for m in doc.get("maps", []) if isinstance(m, dict)]
        by = {run.parse_addr(m.get("address")): m for m in maps}
        for om in oracle["maps"]:
            m = by.get(run.parse_addr(om["address"]))
            check = "%s/map %s" % (name, om["name"])
            if m is None:
                r.fail(check, "no map at %s (%s)" % (om["address"], om["type"]))
                continue
            p = ["%s: mapscan %r, oracle %r" % (k, m.get(k), om[k])
                 for k in ["type", "key_type", "elem_type", "layout"] + run.FIGURES
                 if m.get(k) != om[k] or type(m.get(k)) is not type(om[k])]
            for k, want in (("reachable", True), ("type_guessed", False),
                            ("on_stack", om.get("held") == "goroutine-stack")):
                if k in m and m[k] is not want:
                    p.append("%s %r, want %r" % (k, m[k], want))
            r.check(check, p)
        p = []
        for d in oracle.get("not_maps", []):
            lo = run.parse_addr(d.get("address"))
            p += ["%s lies in %s" % (m["address"], d.get("name")) for m in maps
                  if lo is not None and lo <= run.parse_addr(m["address"]) < lo + d.get("size", 0)]
        for d in oracle.get("dropped", []):
            m = by.get(run.parse_addr(d.get("address")))
            if m is not None and run.reachable(m) and m.get("type") == d.get("type"):
                p.append("%s (%s) was dropped" % (m["address"], d.get("name")))
        r.check(name + "/no-false-maps", p)
        if ref is None:
            return
        rby = {run.parse_addr(m.get("address")): m for m in ref.get("maps", []) if isinstance(m, dict)}
        p = ["%s %s only with DWARF" % (m["address"], m.get("type")) for a, m in rby.items() if a not in by]
        p += ["%s %s only without DWARF" % (m["address"], m.get("type")) for a, m in by.items() if a not in rby]
        for a, m in by.items():
            d = rby.get(a)
            bad = [k for k in run.FIGURES if d is not None and m.get(k) != d.get(k)]
            if bad:
                p.append("%s: %s" % (m["address"], ", ".join("%s %r, with DWARF %r" % (k, m.get(k), d.get(k))
                                                         for k in bad)))
        r.check(name + "/same-as-dwarf", p[:10])

    def refused(self, name, args, what):
        try:
            rc, out, err = self.ms(args)
        except Failure as e:
            self.r.fail(name, e)
            return
        lines = err.strip().split("\n") if err.strip() else []
        p = []
        if rc != run.EXIT_MISMATCH:
            p.append("exit %d, want %d: %s" % (rc, run.EXIT_MISMATCH, tail(err or out, 300)))
        elif len(lines) != 1:
            p.append("stderr has %d lines, want 1: %r" % (len(lines), tail(err, 300)))
        elif what not in lines[0]:
            p.append("%r does not say %r" % (lines[0], what))
        self.r.check(name, p)

    def phase(self, tc):
        r, base = self.r, "stripped/" + tc.name
        try:
            version = self.suite.toolchain_version(tc)
        except Failure as e:
            if self.args.allow_missing_toolchain:
                run.Report.note("WARNING: toolchain %s missing, its tests did NOT run: %s" % (tc.name, e))
            else:
                r.fail(base + "/toolchain", e)
            return
        run.Report.note("%s: %s (%s)" % (tc.name, version, tc.go))
        b = self.builds(tc)
        r.ok(base + "/builds")
        core_app, oracle_app = self.crash(b["app"], "app")
        core_sw, oracle_sw = self.crash(b["sw"], "sw")

        # 1. A debug copy of the same build, however it is found.
        s = base + "/strip"
        self.compare(s + "/exe", ["--exe", b["full"], core_app], oracle_app, core_app,
                     "executable", "build-id")
        self.compare(s + "/debug-file", ["--debug-file", b["debug"], core_app], oracle_app, core_app,
                     "--debug-file", "build-id")
        self.compare(s + "/exe-debug", ["--exe", b["debug"], core_app], oracle_app, core_app,
                     "--exe", "build-id")
        self.compare(s + "/debuglink", [core_app], oracle_app, core_app, ".gnu_debuglink", "build-id")
        if b["gnu_id"]:
            self.compare(s + "/build-id", ["--exe", b["nolink"], core_app], oracle_app, core_app,
                         "build-id", "build-id",
                         env={"MAPSCAN_DEBUG_DIR": os.path.join(b["dir"], "debugroot")})
        rc, out, err = self.ms([core_app])
        r.check(s + "/text", None if rc == 0 and "debug info: " in out and "(.gnu_debuglink)" in out
                else "exit %d, no 'debug info: … (.gnu_debuglink)' line: %s" % (rc, tail(out or err, 300)))

        # 2. A rebuild of the same source with DWARF, for the -s -w build.
        self.compare(base + "/rebuild", ["--exe", b["full"], core_sw], oracle_sw, core_sw, "--exe", "layout")
        rc, out, err = self.ms(["--exe", b["full"], core_sw])
        r.check(base + "/rebuild/text", None if rc == 0 and
                "executable differs only in build ID / link flags; layout verified" in out
                else "exit %d, no 'layout verified' line: %s" % (rc, tail(out or err, 300)))

        # 3. No DWARF anywhere.
        self.nodwarf(base + "/nodwarf", [core_sw], oracle_sw, core_sw, ["--exe", b["full"], core_sw])
        core_ns, oracle_ns = self.crash(b["nosections"], "nosections")
        self.nodwarf(base + "/nodwarf-no-sections", [core_ns], oracle_ns, core_ns, None)
        rc, out, err = self.ms([core_sw])
        r.check(base + "/nodwarf/text", None if rc == 0 and "names limited: " in out.split("\n\n")[0]
                else "exit %d, no 'names limited' line at the top: %s" % (rc, tail(out or err, 300)))

        # Refusals: another build's debug copy, a rebuild of another layout.
        self.refused(base + "/refuse/debug-of-other-build", ["--debug-file", b["other_debug"], core_app],
                     "debug file of another build")
        self.refused(base + "/refuse/rebuild-other-layout", ["--exe", b["other"], core_sw],
                     "its layout differs")

        # 4. Live: the running app and sw.
        for what, exe, args, found_by, match in (
                ("app", b["app"], [], ".gnu_debuglink", "build-id"),
                ("sw", b["sw"], ["--exe", b["full"]], "--exe", "layout")):
            name = "%s/live/%s" % (base, what)
            try:
                fx = live.Fixture(exe, os.path.join(b["dir"], "live-" + what))
            except Failure as e:
                r.fail(name, e)
                continue
            try:
                self.compare(name, ["--pid", str(fx.pid)] + args, fx.oracle, "/proc/%d" % fx.pid,
                             found_by, match, kind="process")
                if what == "sw":
                    self.nodwarf(name + "/nodwarf", ["--pid", str(fx.pid)], fx.oracle,
                                 "/proc/%d" % fx.pid, None, kind="process")
            finally:
                fx.close()


if __name__ == "__main__":
    sys.exit(run.main(Stripped, "mapscan-stripped-", __doc__))
