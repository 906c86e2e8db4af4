#!/usr/bin/env python3
"""End-to-end tests of mapscan's command line: every option in every spelling.

    python3 tests/e2e/flags.py --mapscan build/mapscan [-k SUBSTR]

Go users type options the way Go's flag package takes them (-json, -top 5,
-top=5); everyone else the GNU way (--json, --top 5, --top=5).  For every
option this runs mapscan on a bundled sample core (testdata/samples) with
each spelling and requires the same output as the long spelling; for every
option that takes a value it requires `option -X needs a value` (spelled as
typed) when the value is missing; an unknown option is named in the error,
not the program.  Options that need a live process are given a process id
that cannot exist: parsed right, they fail with "no such process" (exit 8),
not with a usage error.

Output and exit status as tests/e2e/run.py.  Python 3 standard library only.
"""

import argparse
import json
import lzma
import os
import pty
import select
import shutil
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from run import Report  # noqa: E402  (tests/e2e/run.py: one "ok -/FAIL -" report)

SAMPLE = os.path.join(ROOT, "testdata", "samples", "swiss-go1.26")
EXIT_USAGE, EXIT_PROCESS = 2, 8
NO_PID = str(0x3ffffffe)  # above any pid_max: no such process


def spellings(name, value=None):
    """Every way to write option `name` (with `value`, if it takes one)."""
    if value is None:
        return [["--" + name], ["-" + name]]
    return [["--" + name, value], ["-" + name, value], ["--" + name + "=" + value],
            ["-" + name + "=" + value]]


class Suite:
    def __init__(self, args):
        self.mapscan = os.path.abspath(args.mapscan)
        self.r = Report(args.k)
        self.work = tempfile.mkdtemp(prefix="mapscan-flags-")
        self.exe = os.path.join(self.work, "exe")
        self.core = os.path.join(self.work, "core")
        for f, path in (("exe", self.exe), ("core", self.core)):
            with lzma.open(os.path.join(SAMPLE, f + ".xz")) as i, open(path, "wb") as o:
                shutil.copyfileobj(i, o)

    def mapscan_run(self, args, env=None):
        p = subprocess.run([self.mapscan] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True, timeout=600,
                           env=dict(os.environ, **(env or {})))
        return p.returncode, p.stdout, p.stderr

    def same(self, name, variants, base=None, code=0):
        """Each argument list in variants gives the output of the first."""
        base = base or []
        want = None
        probs = []
        for v in variants:
            rc, out, err = self.mapscan_run(v + base)
            if rc != code:
                probs.append("%s: exit %d, want %d: %s" % (" ".join(v), rc, code, err.strip()))
                continue
            got = (out, err)
            if want is None:
                want = got
            elif got != want:
                probs.append("%s prints something else than %s" % (" ".join(v), " ".join(variants[0])))
        self.r.check(name, probs)
        return want

    def run(self):
        r = self.r
        core = ["--exe", self.exe, self.core]
        # Options of the report: the same output whichever way they are spelled.
        for name, value in (("top", "3"), ("min-reclaimable", "64K"), ("sort", "count"),
                            ("group", "type"), ("group", "none")):
            self.same("--%s in every spelling" % name, spellings(name, value), core)
            self.same("--%s in every spelling, with --json" % name,
                      [s + ["-json"] for s in spellings(name, value)], core)
        out = self.same("--json in every spelling", spellings("json") + [["-json=true"], ["--json=1"]], core)
        try:
            doc = json.loads(out[0]) if out else None
        except ValueError:
            doc = None
        r.check("-json prints a JSON report", None if isinstance(doc, dict) and "summary" in doc
                else "not a JSON report: %r" % (out[0][:200] if out else None))
        text = self.same("-json=false is the text report", [[], ["-json=false"], ["--json=f"]], core)
        r.check("-json=false prints text", None if text and text[0].startswith("mapscan ")
                else "not the text report")
        self.same("--exe in every spelling", [[s[0], s[1]] if len(s) == 2 else s
                                              for s in spellings("exe", self.exe)], [self.core])
        self.same("options after the core file", [core + ["--top", "2"], ["-top", "2"] + core,
                                                   ["--exe", self.exe, "-top=2", self.core]])
        self.same("-- ends the options", [["--exe", self.exe, "--", self.core]])

        out = self.same("--keys in every spelling", spellings("keys"), core)
        r.check("--keys prints keys", None if out and "keys: " in out[0] else "no keys line")
        out = self.same("-keys=false is the default", [[], ["-keys=false"]], core)
        r.check("without --keys no keys", None if out and "keys: " not in out[0] else "keys printed")
        out = self.same("--quiet in every spelling", spellings("quiet") + [["-q"]], core)
        r.check("--quiet leaves the advice out", None if out and "Rebuilding" not in out[0]
                and "m2 := make" not in out[0] else "advice printed")
        out = self.same("-quiet=false is the default", [[], ["-quiet=false"]], core)
        r.check("without --quiet there is advice", None if out and "Rebuilding" in out[0] else "no advice")
        for value, want in (("owner", '"grouped_by":"owner"'), ("type", '"grouped_by":"type"'),
                            ("none", '"grouped_by":"none"')):
            rc, out, err = self.mapscan_run(["-json", "-group=" + value] + core)
            r.check("-group=%s is grouped_by %s" % (value, value),
                    None if rc == 0 and want in out.replace(" ", "").replace("\t", "") else "exit %d" % rc)

        self.progress(core)

        # --tui: parsed in every spelling, refused in a pipe.
        for s in spellings("tui"):
            rc, out, err = self.mapscan_run(s + core)
            r.check("%s in a pipe says it needs a terminal" % s[0],
                    None if rc == EXIT_USAGE and "--tui needs a terminal" in err
                    else "exit %d: %r" % (rc, err))

        # Live-process options: parsed (no usage error), then no such process.
        live = [("pid", None), ("no-stop", None), ("max-pause", "2"), ("save-core", None)]
        for name, value in live:
            if name == "pid":
                variants = spellings("pid", NO_PID)
            elif name == "save-core":
                variants = [s + ["--pid", NO_PID] for s in spellings(name, os.path.join(self.work, "c"))]
            else:
                variants = [s + ["--pid", NO_PID] for s in spellings(name, value)]
            probs = []
            for v in variants:
                rc, out, err = self.mapscan_run(v)
                if rc != EXIT_PROCESS or NO_PID not in err:
                    probs.append("%s: exit %d, want %d (no such process): %r"
                                 % (" ".join(v), rc, EXIT_PROCESS, err.strip()))
            r.check("--%s in every spelling" % name, probs)
            if name != "pid":
                rc, out, err = self.mapscan_run(variants[1][:-2] + [self.core])
                r.check("-%s without --pid is a usage error" % name,
                        None if rc == EXIT_USAGE and "need --pid" in err else "exit %d: %r" % (rc, err))

        # Help and version.
        for names, want in ((["--help", "-help", "-h", "--h"], "usage: mapscan"),
                            (["--version", "-version", "-V"], "mapscan ")):
            self.same("%s all print the same" % "/".join(names), [[n] for n in names])
            rc, out, err = self.mapscan_run([names[0]])
            r.check("%s prints %r" % (names[0], want), None if out.startswith(want) else out[:100])

        # A missing value names the option as it was typed.
        for name in ("exe", "pid", "max-pause", "save-core", "top", "min-reclaimable", "sort", "group"):
            for dash in ("--", "-"):
                opt = dash + name
                rc, out, err = self.mapscan_run([self.core, opt])
                want = "option %s needs a value" % opt
                r.check("%s with no value" % opt,
                        None if rc == EXIT_USAGE and want in err and err.count("\n") == 1
                        else "exit %d, stderr %r, want %r" % (rc, err, want))
                rc, out, err = self.mapscan_run(["--json", self.core, opt])
                try:
                    msg = json.loads(out)["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    msg = None
                r.check("%s with no value, --json" % opt,
                        None if rc == EXIT_USAGE and msg and want in msg else "exit %d, %r" % (rc, out))

        # Bad values and unknown options.
        for args, want in ((["-top", "x"], "-top needs a number of maps, not 'x'"),
                           (["--top=-1"], "--top needs a number of maps, not '-1'"),
                           (["-sort", "size"], "-sort takes reclaimable, retained, count, type or path"),
                           (["-min-reclaimable=lots"], "-min-reclaimable needs a size"),
                           (["-pid", "0"], "-pid needs a process id, not '0'"),
                           (["-max-pause", "-1"], "-max-pause needs a number of seconds"),
                           (["-json=maybe"], "option -json takes no value, or true or false, not 'maybe'"),
                           (["-group", "path"], "-group takes owner, type or none, not 'path'"),
                           (["-jsno"], "unknown option '-jsno'"),
                           (["--exe-path", "x"], "unknown option '--exe-path'"),
                           (["-t"], "unknown option '-t'"),
                           (["--jsno=1"], "unknown option '--jsno'")):
            rc, out, err = self.mapscan_run(args + [self.core])
            r.check("%s: %s" % (" ".join(args), want),
                    None if rc == EXIT_USAGE and want in err and self.mapscan not in err
                    and os.path.basename(self.mapscan) + "'" not in err
                    else "exit %d, stderr %r" % (rc, err))
        rc, out, err = self.mapscan_run([self.core, self.core])
        r.check("two core files are a usage error",
                None if rc == EXIT_USAGE and "exactly one core file" in err else "exit %d, %r" % (rc, err))
        rc, out, err = self.mapscan_run([])
        r.check("no core file is a usage error",
                None if rc == EXIT_USAGE and "no core file given" in err else "exit %d, %r" % (rc, err))

    def on_tty(self, args, env):
        """Run mapscan with stderr on a pseudo-terminal; (rc, stdout, what
        the terminal got)."""
        master, slave = pty.openpty()
        p = subprocess.Popen([self.mapscan] + args, stdout=subprocess.PIPE, stderr=slave,
                             stdin=subprocess.DEVNULL, env=dict(dict(os.environ, TERM="xterm"), **env))
        os.close(slave)
        got = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        out = p.stdout.read().decode("utf-8", "replace")
        p.wait(timeout=60)
        os.close(master)
        return p.returncode, out, got.decode("utf-8", "replace")

    def progress(self, core):
        """Progress on a terminal's stderr: every phase, erased at the end;
        none with --quiet or when stderr is not a terminal."""
        r = self.r
        rc, out, tty = self.on_tty(core, {"MAPSCAN_TEST_PROGRESS": "1"})
        probs = []
        for phase in ("reading DWARF", "reading heap spans", "following roots"):
            if "mapscan: " + phase not in tty:
                probs.append("no %r on the terminal" % phase)
        if not re.search(r"reading heap spans +\d+%", tty):
            probs.append("no percentage for the heap spans")
        if not tty.endswith("\r\x1b[K"):
            probs.append("the line is not erased at the end: %r" % tty[-40:])
        if rc != 0 or not out.startswith("mapscan "):
            probs.append("exit %d, stdout %r" % (rc, out[:60]))
        if "\r" in out or "reading DWARF" in out:
            probs.append("progress in stdout")
        r.check("progress on a terminal's stderr, every phase, erased", probs)
        rc, out, tty = self.on_tty(["-json"] + core, {"MAPSCAN_TEST_PROGRESS": "1"})
        try:
            json.loads(out)
            ok = "following roots" in tty
        except ValueError:
            ok = False
        r.check("progress with --json: on stderr, the JSON untouched", None if ok else "json %r" % out[:80])
        rc, out, tty = self.on_tty(["-q"] + core, {"MAPSCAN_TEST_PROGRESS": "1"})
        r.check("no progress with --quiet", None if "mapscan: " not in tty else repr(tty[:80]))
        rc, out, err = self.mapscan_run(core, {"MAPSCAN_TEST_PROGRESS": "1"})
        r.check("no progress when stderr is not a terminal", None if not err else repr(err[:80]))
        rc, out, tty = self.on_tty(core, {"MAPSCAN_TEST_PROGRESS": "1", "TERM": "dumb"})
        r.check("no progress on a dumb terminal", None if "mapscan: " not in tty else repr(tty[:80]))

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("-k", metavar="SUBSTR", help="run only the checks whose name has SUBSTR")
    args = ap.parse_args()
    suite = Suite(args)
    try:
        suite.run()
    finally:
        suite.cleanup()
    r = suite.r
    print("%d passed, %d failed" % (r.passed, r.failed), flush=True)
    return 1 if r.failed or not r.passed else 0


if __name__ == "__main__":
    sys.exit(main())
