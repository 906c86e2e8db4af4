#!/usr/bin/env python3
"""End-to-end tests of what connects mapscan to the tools around it.

    python3 tests/e2e/ecosystem.py --mapscan build/mapscan [-k SUBSTR]

compressed: the bundled sample cores (real cores of real Go programs,
  testdata/samples) compressed by the real zstd, gzip, xz and lz4 tools,
  read as files and through a pipe (`mapscan -`, /dev/stdin, /dev/fd/N),
  in memory and spilled to a temporary file (MAPSCAN_CORE_MEMORY=0): the
  JSON must be byte for byte the plain core's apart from `source`, and a
  spilled core must not cost its size in resident memory.  Cut, corrupt
  and unsupported compressed files give one line and exit status 4.

pprof: --pprof FILE read by the real `go tool pprof`: for each sample type
  its total is the JSON summary's, -top names the biggest map's owner and
  type, one sample per reachable map with its path and address.

gate: --fail-over SIZE exits 10 with one line on stderr at or over the
  JSON's total reclaimable, 0 below it, the report unchanged either way,
  in text and JSON, for a core, a core from a pipe and a live process.

gate_group: --fail-over-group SIZE on cores of the mapstates fixture's
  service mode (400 tenants' sessions maps, 12 shards, 6 workers): exit 10
  with one line naming the biggest owner group at or just below its
  reclaimable bytes in the JSON `groups`, 0 just above, the report
  unchanged, in text and JSON, with --group type (naming the type) and
  --group none (still weighing owner groups), and for a live process.

cache: the DWARF model cache (MAPSCAN_CACHE_DIR) on a sample core: kept by
  the first run, read by the next with the same JSON, read again from the
  DWARF when damaged or when the executable changed, none when the
  directory is unset or others may write it.

diff: `mapscan diff OLD NEW` of two cores of the service fixture run with
  400 and 100 tenants: every group whose figures differ between the two
  JSON reports is listed with the right deltas and absolute values, no
  other, largest reclaimable change first; core vs JSON report and JSON vs
  JSON give the same document but for how each side was read; the text
  names the groups whole; a missing file, a JSON report of another schema,
  JSON that is no report and a cut report give one line and their exit
  status.

metrics: --metrics FILE read by prometheus_client's OpenMetrics parser
  and its Prometheus text parser (node_exporter's format): totals equal to
  the JSON summary's, label values escaped, `# EOF` last, written through
  a temporary file renamed into place; the series of the 20 biggest owner
  groups (types with --group type) equal to the JSON `groups`, on the
  samples and the service fixture (more groups than that).

install: `make install PREFIX=/usr DESTDIR=...` of the build mapscan came
  from puts the binary, the man page and the docs there, `man -l` renders
  the installed page without a warning and it names the installed docs;
  --version names the commit and libdwarf; `make uninstall` takes it all
  away.

Output and exit status as tests/e2e/run.py (`ok - NAME`, `FAIL - NAME`, a
last line `N passed, M failed`).  Needs the zstd, gzip, xz and lz4
commands, go, man and Python's prometheus_client (.ci/run installs them).
"""

import argparse
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from run import FIXTURE, TOOLCHAINS, Failure, Report, capture_core, key_end  # noqa: E402

SAMPLES = os.path.join(ROOT, "testdata", "samples")
EXIT_FORMAT = 4
EXIT_GATE = 10  # --fail-over reached (man/mapscan.1, EXIT STATUS)

# Each tool as a user would run it on a core; systemd-coredump writes zstd.
COMPRESSORS = {
    "zstd": (["zstd", "-q", "-c"], ".zst"),
    "gzip": (["gzip", "-c"], ".gz"),
    "xz": (["xz", "-c", "-T1"], ".xz"),
    "lz4": (["lz4", "-q", "-c"], ".lz4"),
}


def without_source(doc):
    """The JSON text with the `source` object cut out (the rest must not
    change by a byte)."""
    m = re.search(r'"source":\s*\{', doc)
    if not m:
        return doc
    depth, i = 0, m.end() - 1
    while i < len(doc):
        c = doc[i]
        if c == '"':
            i += 1
            while doc[i] != '"':
                i += 2 if doc[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return doc[:m.start()] + doc[i + 1:]
        i += 1
    return doc


def collapse_keys(path):
    """path with every index and map key read as [*] and every descent
    through a tree as {*} (quoted strings in keys skipped whole, as
    run.py's key_end reads them), as the profile's frames have them."""
    out, i = "", 0
    while i < len(path):
        e = key_end(path, i) if path[i] == "[" else None
        if e:
            out, i = out + "[*]", e
            continue
        e = path.find("}", i) if path[i] == "{" else -1
        if e >= 0:
            out, i = out + "{*}", e + 1
            continue
        out += path[i]
        i += 1
    return out


def pprof_frames_problem(path, chain):
    """What is wrong with chain, the frames of a map's sample outermost
    first (leaf excluded), for its first path: the root variable (or the
    goroutine's function), then ever longer prefixes of the path with
    indices and goroutine ids collapsed, the last one all of it."""
    want = collapse_keys(path)
    want = re.sub(r"(stack|frame) word .*$", r"\1 word", want)
    g = re.match(r"goroutine \d+( \((.*?)\))?(?= →|$)", path)
    if g:
        want = re.sub(r"^goroutine \d+", "goroutine", want)
        first, chain = chain[:1], chain[1:] if g.group(2) else chain
        if g.group(2) and first != [g.group(2)]:
            return "outermost frame %r, not the goroutine's function %r" % (first, g.group(2))
    elif not chain or not re.fullmatch(r"(?:[^\[(<+ ]*/)?[^./\[(<+ ]+\.[^./\[(<+ ]+", chain[0]):
        return "outermost frame %r is not a package variable" % (chain[:1],)
    if len(chain) == 32 and "\u2026" in chain[-1]:
        # A path of more than 32 hops: the first 16, then the last 16
        # named "<first 16>…<their own part>".
        head = chain[15]
        tails = [c[len(head) + 1:] for c in chain[16:]]
        if any(not c.startswith(head + "\u2026") for c in chain[16:]) or not want.endswith(tails[-1]) \
                or not want.startswith(head):
            return "cut stack %r does not fit the path %r" % (chain, want)
        chain = chain[:16]
        want = chain[-1]
    if not chain or chain[-1] != want:
        return "innermost frame %r, want the path %r" % (chain[-1:], want)
    for a, b in zip(chain, chain[1:]):
        if not b.startswith(a) or len(b) <= len(a):
            return "frame %r does not extend %r" % (b, a)
    return None


class Suite:
    def __init__(self, args):
        self.mapscan = os.path.abspath(args.mapscan)
        self.r = Report(args.k)
        self.work = tempfile.mkdtemp(prefix="mapscan-eco-")
        self.samples = {}
        self.samples_service = {}
        for name in sorted(os.listdir(SAMPLES)):
            d = os.path.join(SAMPLES, name)
            if not os.path.isfile(os.path.join(d, "core.xz")):
                continue
            out = os.path.join(self.work, name)
            os.makedirs(out)
            for f in ("exe", "core"):
                with lzma.open(os.path.join(d, f + ".xz")) as i, open(os.path.join(out, f), "wb") as o:
                    shutil.copyfileobj(i, o)
            os.chmod(os.path.join(out, "exe"), 0o755)
            self.samples[name] = out

    def run(self, args, stdin=subprocess.DEVNULL, env=None, pass_fds=()):
        """mapscan's exit status, stdout, stderr (and 0: see run_rss)."""
        p = subprocess.run([self.mapscan] + args, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=dict(os.environ, **(env or {})),
                           pass_fds=pass_fds, timeout=900)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), 0

    def run_rss(self, args, env=None):
        """As run, with the peak RSS in KiB of this mapscan run alone.  A
        process's peak counts the memory of what it was before exec (here,
        this Python), so a fresh small Python forks mapscan and reports
        wait4's figure."""
        helper = ("import os,sys\n"
                  "o=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT|os.O_TRUNC);e=os.open(sys.argv[2],os.O_WRONLY|os.O_CREAT|os.O_TRUNC)\n"
                  "p=os.fork()\n"
                  "if p==0:\n"
                  " os.dup2(o,1);os.dup2(e,2);os.execv(sys.argv[3],sys.argv[3:])\n"
                  "_,st,ru=os.wait4(p,0)\n"
                  "print(os.waitstatus_to_exitcode(st),ru.ru_maxrss)\n")
        outp, errp = os.path.join(self.work, "out"), os.path.join(self.work, "err")
        p = subprocess.run([sys.executable, "-c", helper, outp, errp, self.mapscan] + args,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, **(env or {})), timeout=900, check=True)
        rc, rss = (int(x) for x in p.stdout.split())
        with open(outp) as o, open(errp) as e:
            return rc, o.read(), e.read(), rss

    def compress(self, core, codec):
        cmd, ext = COMPRESSORS[codec]
        path = core + ext
        if not os.path.exists(path):
            with open(core, "rb") as i, open(path, "wb") as o:
                subprocess.run(cmd, stdin=i, stdout=o, check=True)
        return path

    def service(self, tenants=400):
        """(exe, core, oracle path) of the mapstates fixture's service mode
        (tests/e2e/run.py `service`) with `tenants` tenants, built by the
        default toolchain once and cored once per number of tenants."""
        key = ("service", tenants)
        if key not in self.samples_service:
            tc = TOOLCHAINS[0]
            d = os.path.join(self.work, "service")
            exe = os.path.join(d, "mapstates")
            if not os.path.exists(exe):
                os.makedirs(d, exist_ok=True)
                p = tc.run(["build", "-o", exe, "."], cwd=FIXTURE)
                if p.returncode:
                    raise Failure("go build of the fixture: %s" % p.stderr[-600:])
            rundir = os.path.join(d, "run-%d" % tenants)
            oracle = os.path.join(d, "oracle-%d.json" % tenants)
            env = dict(os.environ, MAPSCAN_ORACLE=oracle, GOTRACEBACK="crash")
            core, _ = capture_core([exe, "-service", "-tenants", str(tenants)], rundir, env)
            self.samples_service[key] = (exe, core, oracle)
        return self.samples_service[key]

    # ---- compressed cores --------------------------------------------------

    def one_error_line(self, name, args, want_code, want_text, stdin=subprocess.DEVNULL, env=None):
        rc, out, err, _ = self.run(args, stdin=stdin, env=env)
        probs = []
        if rc != want_code:
            probs.append("exit %d, want %d" % (rc, want_code))
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("mapscan: "):
            probs.append("stderr is not one 'mapscan: ' line: %r" % err)
        elif not re.search(want_text, lines[0]):
            probs.append("%r does not say %r" % (lines[0], want_text))
        if out:
            probs.append("stdout not empty: %r" % out[:200])
        self.r.check(name, probs)

    def compressed(self):
        for name, d in self.samples.items():
            exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
            rc, plain, err, plain_rss = self.run_rss(["--json", "--exe", exe, core])
            if rc != 0:
                self.r.fail("compressed %s: plain core" % name, "exit %d: %s" % (rc, err))
                continue
            want = without_source(plain)
            csize = os.path.getsize(core)
            for codec in COMPRESSORS:
                path = self.compress(core, codec)
                label = "compressed %s %s" % (name, codec)
                variants = [("file", [path], None, None)]
                for how in ("-", "/dev/stdin"):
                    variants.append(("pipe " + how, [how], path, None))
                variants.append(("file spilled", [path], None, {"MAPSCAN_CORE_MEMORY": "0"}))
                for how, target, piped, env in variants:
                    args = ["--json", "--exe", exe] + target
                    if piped:
                        cat = subprocess.Popen(["cat", piped], stdout=subprocess.PIPE)
                        rc, out, err, _ = self.run(args, stdin=cat.stdout, env=env)
                        cat.stdout.close()
                        cat.wait()
                    else:
                        rc, out, err, _ = self.run(args, env=env)
                    probs = []
                    if rc != 0:
                        probs.append("exit %d: %s" % (rc, err.strip()))
                    else:
                        src = json.loads(out)["source"]
                        if src.get("compression") != codec:
                            probs.append("source.compression %r, want %r" % (src.get("compression"), codec))
                        if src.get("path") != target[0]:
                            probs.append("source.path %r, want %r" % (src.get("path"), target[0]))
                        if without_source(out) != want:
                            probs.append("JSON differs from the plain core's beyond `source`")
                    self.r.check("%s: %s" % (label, how), probs)
            # A spilled core is read from a file in TMPDIR through the page
            # cache: resident memory stays near the plain core's (which is
            # mmap'd and trimmed), not at the core's size.
            path = self.compress(core, "zstd")
            tmp = os.path.join(self.work, "tmp")
            os.makedirs(tmp, exist_ok=True)
            rc, out, err, rss_mem = self.run_rss(["--json", "--exe", exe, path])
            rc2, out2, err2, rss_spill = self.run_rss(["--json", "--exe", exe, path],
                                                     env={"MAPSCAN_CORE_MEMORY": "0", "TMPDIR": tmp})
            probs = []
            if rc or rc2:
                probs.append("exit %d / %d: %s %s" % (rc, rc2, err, err2))
            if os.listdir(tmp):
                probs.append("left files in TMPDIR: %s" % os.listdir(tmp))
            if rss_mem * 1024 < csize:
                probs.append("in memory: peak RSS %d KiB below the core's %d KiB: was it in memory?"
                             % (rss_mem, csize // 1024))
            if rss_spill * 1024 > plain_rss * 1024 + csize // 2:
                probs.append("spilled: peak RSS %d KiB, the plain core's %d KiB, core %d KiB"
                             % (rss_spill, plain_rss, csize // 1024))
            self.r.note("%s: %d KiB core; peak RSS plain %d KiB, zstd in memory %d KiB, spilled %d KiB"
                        % (name, csize // 1024, plain_rss, rss_mem, rss_spill))
            self.r.check("compressed %s: spilling bounds resident memory" % name, probs)
            # /dev/fd/N, as `mapscan <(zstd -dc core.zst)` passes it.
            r, w = os.pipe()
            cat = subprocess.Popen(["cat", self.compress(core, "gzip")], stdout=w)
            os.close(w)
            rc, out, err, _ = self.run(["--json", "--exe", exe, "/dev/fd/%d" % r], pass_fds=(r,))
            os.close(r)
            cat.wait()
            self.r.check("compressed %s: /dev/fd/N" % name,
                         "exit %d: %s" % (rc, err) if rc else
                         None if without_source(out) == want else "JSON differs")

        name, d = next(iter(self.samples.items()))
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        rc0, plain, _, _ = self.run(["--json", "--exe", exe, core])
        # Frames (members, streams) one after another decompress to the
        # bytes of each in turn, as `zstd -d` or `gunzip` would give.
        with open(core, "rb") as f:
            data = f.read()
        half = len(data) // 3
        for codec, (cmd, ext) in COMPRESSORS.items():
            parts = [subprocess.run(cmd, input=chunk, stdout=subprocess.PIPE, check=True).stdout
                     for chunk in (data[:half], data[half:])]
            multi = os.path.join(self.work, "multi" + ext)
            with open(multi, "wb") as f:
                f.write(b"".join(parts))
            rc, out, err, _ = self.run(["--json", "--exe", exe, multi])
            self.r.check("compressed: %s in two frames" % codec,
                         "exit %d: %s" % (rc, err.strip()) if rc else
                         None if without_source(out) == without_source(plain) else "JSON differs")
        del data
        for codec in COMPRESSORS:
            path = self.compress(core, codec)
            with open(path, "rb") as f:
                data = f.read()
            cut = os.path.join(self.work, "cut" + COMPRESSORS[codec][1])
            with open(cut, "wb") as f:
                f.write(data[:len(data) // 2])
            self.one_error_line("compressed: cut %s file" % codec, ["--exe", exe, cut],
                                EXIT_FORMAT, r"cut\.\w+: the %s data ends early .*cut short" % codec)
            bad = os.path.join(self.work, "bad" + COMPRESSORS[codec][1])
            ba = bytearray(data)
            for i in range(len(ba) // 3, len(ba) // 3 + 64):
                ba[i] ^= 0x5A
            with open(bad, "wb") as f:
                f.write(ba)
            self.one_error_line("compressed: corrupt %s file" % codec, ["--exe", exe, bad],
                                EXIT_FORMAT, r"bad\.\w+: corrupt %s data near byte \d+" % codec)
            with open(cut, "rb") as f:
                self.one_error_line("compressed: cut %s through a pipe" % codec, ["--exe", exe, "-"],
                                    EXIT_FORMAT, r"^mapscan: stdin: the %s data ends early" % codec,
                                    stdin=f)
        rc, out, err, _ = self.run(["--json", "--exe", exe, cut])
        try:
            doc = json.loads(out)
            probs = [] if rc == EXIT_FORMAT and doc["error"]["code"] == EXIT_FORMAT else \
                ["exit %d, %r" % (rc, doc)]
        except (ValueError, KeyError) as e:
            probs = ["not a JSON error document (%s): %r" % (e, out[:200])]
        self.r.check("compressed: --json error for a cut file", probs)
        bz = os.path.join(self.work, "core.bz2")
        with open(bz, "wb") as f:
            f.write(b"BZh91AY&SY" + bytes(100))
        self.one_error_line("compressed: bzip2 named", ["--exe", exe, bz], EXIT_FORMAT,
                            r"core\.bz2: not an ELF core file but bzip2-compressed; decompress it")
        with open(os.devnull) as f:
            self.one_error_line("compressed: - without a pipe", ["--exe", exe, "-"], 3,
                                r"stdin: a device, not a core; pipe one in", stdin=f)
        empty = subprocess.Popen(["true"], stdout=subprocess.PIPE)
        self.one_error_line("compressed: empty pipe", ["--exe", exe, "-"], EXIT_FORMAT,
                            r"stdin: nothing came through the pipe", stdin=empty.stdout)
        empty.wait()
        self.one_error_line("compressed: bad MAPSCAN_CORE_MEMORY", ["--exe", exe, core + ".zst"], 2,
                            r"MAPSCAN_CORE_MEMORY=lots: give a size", env={"MAPSCAN_CORE_MEMORY": "lots"})
        # A 2 MiB limit spills a core read from a pipe part way through.
        cat = subprocess.Popen(["cat", core + ".zst"], stdout=subprocess.PIPE)
        rc, out, err, _ = self.run(["--json", "--exe", exe, "-"], stdin=cat.stdout,
                                   env={"MAPSCAN_CORE_MEMORY": "2M"})
        cat.stdout.close()
        cat.wait()
        self.r.check("compressed: pipe spilled part way",
                     "exit %d: %s" % (rc, err) if rc else
                     None if without_source(out) == without_source(plain) else "JSON differs")
        # A bomb: an ELF core header naming one 4 KiB segment, then 256 MiB of
        # zeros, in 10 KB of zstd.  Refused once the bytes pass what the
        # headers say (plus room for section headers), in memory and spilled.
        eh = bytearray(64)
        eh[0:7] = b"\x7fELF\x02\x01\x01"
        struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 4, 62, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 1, 4, 4096, 0x400000, 0, 4096, 4096, 4096)
        bomb = os.path.join(self.work, "bomb.zst")
        z = subprocess.run(["zstd", "-q", "-c"], input=bytes(eh) + ph + bytes(256 << 20),
                           stdout=subprocess.PIPE, check=True).stdout
        with open(bomb, "wb") as f:
            f.write(z)
        for label, env in (("in memory", None), ("spilled", {"MAPSCAN_CORE_MEMORY": "2M"})):
            t0 = time.monotonic()
            self.one_error_line("compressed: a %d KB zstd bomb, %s" % (len(z) >> 10, label),
                                ["--exe", exe, bomb], EXIT_FORMAT,
                                r"bomb\.zst: decompresses to more than its ELF headers say", env=env)
            secs = time.monotonic() - t0
            self.r.check("compressed: the bomb refused (%s) within 20 s" % label,
                         None if secs < 20 else "%.1f s" % secs)


    # ---- make install ------------------------------------------------------

    def make(self, *args):
        build = os.path.dirname(self.mapscan)
        p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "BUILD=" + build] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        return p.returncode, p.stdout

    def install(self):
        dest = os.path.join(self.work, "dest")
        rc, out = self.make("install", "PREFIX=/usr", "DESTDIR=" + dest)
        if rc:
            self.r.fail("install: make install", "exit %d: %s" % (rc, out[-2000:]))
            return
        want = {"usr/bin/mapscan": 0o755, "usr/share/man/man1/mapscan.1": 0o644,
                "usr/share/doc/mapscan/README.md": 0o644, "usr/share/doc/mapscan/json.md": 0o644,
                "usr/share/doc/mapscan/figures.md": 0o644}
        got = sorted(os.path.relpath(os.path.join(d, f), dest)
                     for d, _, fs in os.walk(dest) for f in fs)
        probs = []
        if got != sorted(want):
            probs.append("installed %s, want %s" % (got, sorted(want)))
        for f, mode in want.items():
            path = os.path.join(dest, f)
            if os.path.exists(path) and os.stat(path).st_mode & 0o777 != mode:
                probs.append("%s has mode %o, want %o" % (f, os.stat(path).st_mode & 0o777, mode))
        self.r.check("install: make install PREFIX=/usr DESTDIR=... installs the binary, page and docs",
                     probs)
        binary = os.path.join(dest, "usr/bin/mapscan")
        with open(binary, "rb") as a, open(self.mapscan, "rb") as b:
            self.r.check("install: the installed binary is the one built",
                         None if a.read() == b.read() else "differs from " + self.mapscan)
        # The page as a user reads it: rendered without a groff warning,
        # naming the installed docs, never the source tree alone.
        page = os.path.join(dest, "usr/share/man/man1/mapscan.1")
        p = subprocess.run(["man", "--warnings", "-l", page], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80",
                                                                         MANPAGER="cat", PAGER="cat"))
        text = re.sub(r".\x08", "", p.stdout)
        flat = " ".join(text.split()).replace("\u2010 ", "").replace("- ", "-")
        probs = []
        if p.returncode or p.stderr.strip():
            probs.append("man exit %d: %s" % (p.returncode, p.stderr.strip()[:500]))
        for need in ("/usr/share/doc/mapscan/json.md", "/usr/share/doc/mapscan/figures.md",
                     "GETTING A CORE", "coredumpctl dump PID | mapscan -", "MAPSCAN_CORE_MEMORY"):
            if need not in flat:
                probs.append("the page does not say %r" % need)
        if "/usr/local/share/doc" in flat:
            probs.append("the page names /usr/local/share/doc although PREFIX=/usr")
        self.r.check("install: man -l renders the installed page, which names the installed docs", probs)
        rc, out, err, _ = self.run(["--version"])
        lines = out.splitlines()
        probs = []
        if rc or len(lines) != 2:
            probs.append("exit %d, %r" % (rc, out))
        else:
            if not re.fullmatch(r"mapscan \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)", lines[0]):
                probs.append("first line %r does not name a commit" % lines[0])
            if not re.fullmatch(r"libdwarf \S+, zstd [\d.]+, zlib [\d.]+, liblzma [\d.]+, lz4 [\d.]+",
                                lines[1]):
                probs.append("second line %r does not name the libraries" % lines[1])
        self.r.check("install: --version names the commit and libdwarf", probs)
        rc, out, err, _ = self.run(["--help"])
        self.r.check("install: --help points to the man page, not into the source tree",
                     "exit %d" % rc if rc else
                     "mentions docs/" if "docs/" in out else
                     None if "mapscan(1)" in out else "does not name mapscan(1)")
        rc, out = self.make("uninstall", "PREFIX=/usr", "DESTDIR=" + dest)
        left = sorted(os.path.relpath(os.path.join(d, f), dest)
                      for d, _, fs in os.walk(dest) for f in fs)
        self.r.check("install: make uninstall removes what make install put there",
                     "exit %d: %s" % (rc, out[-1000:]) if rc else
                     "left %s" % left if left else
                     "left usr/share/doc/mapscan" if os.path.exists(os.path.join(dest, "usr/share/doc/mapscan"))
                     else None)


    # ---- --pprof -----------------------------------------------------------

    def go_pprof(self, *args):
        p = subprocess.run(["go", "tool", "pprof"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=300,
                           env=dict(os.environ, GOTOOLCHAIN="local"))
        return p.returncode, p.stdout, p.stderr

    def pprof_total(self, prof, index):
        """The total `go tool pprof -top` reports for sample type index."""
        rc, out, err = self.go_pprof("-top", "-unit=B" if index.endswith("bytes") else "-unit=minimum",
                                     "-sample_index=" + index, prof)
        m = re.search(r"of (\d+)B? total", out)
        if rc or not m:
            return None, "go tool pprof -top exit %d: %s %s" % (rc, out[:300], err[:300])
        return int(m.group(1)), out

    def pprof(self):
        for name, d in self.samples.items():
            exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
            prof = os.path.join(self.work, name + ".pb.gz")
            rc, plain, err, _ = self.run(["--json", "--exe", exe, core])
            rc2, out, err2, _ = self.run(["--json", "--exe", exe, "--pprof", prof, core])
            label = "pprof %s" % name
            if rc or rc2:
                self.r.fail(label + ": runs", "exit %d / %d: %s %s" % (rc, rc2, err, err2))
                continue
            self.r.check(label + ": the JSON report is the same with --pprof",
                         None if out == plain else "differs")
            with open(prof, "rb") as f:
                head = f.read(2)
            self.r.check(label + ": the profile is gzipped", None if head == b"\x1f\x8b" else
                         "starts with %r" % head)
            doc = json.loads(plain)
            summ = doc["summary"]
            reach = [m for m in doc["maps"] if m.get("reachable", True)]
            want = {"reclaimable_bytes": summ["reclaimable_bytes"],
                    "retained_bytes": summ["retained_bytes"],
                    "maps": summ["maps"], "entries": summ["count"]}
            for index, total in want.items():
                got, out = self.pprof_total(prof, index)
                self.r.check("%s: go tool pprof -top -sample_index=%s total is the JSON's" % (label, index),
                             out if got is None else None if got == total else
                             "pprof says %d, JSON %d" % (got, total))
            # -top names the owner and the type of the biggest map, as the
            # JSON does.
            big = max(reach, key=lambda m: m["reclaimable_bytes"])
            rc, top, err = self.go_pprof("-top", "-sample_index=reclaimable_bytes", prof)
            rows = [ln.split()[-1] if ln.split() else "" for ln in top.splitlines()]
            owner = big["roots"][0]
            probs = []
            if owner not in top:
                probs.append("-top does not name %r:\n%s" % (owner, top))
            if big["type"] not in top:
                probs.append("-top does not name %r" % big["type"])
            self.r.check("%s: -top names the biggest map's owner %s and type" % (label, owner), probs)
            # One sample per map, its exact path and address as labels, its
            # stack from the root down to the type.
            rc, traces, err = self.go_pprof("-traces", "-sample_index=maps", prof)
            samples = [t for t in traces.split("-----------+") if "address:" in t]
            probs = []
            if len(samples) != len(reach):
                probs.append("%d samples, %d maps something reaches" % (len(samples), len(reach)))
            byaddr = {}
            for t in samples:
                a = re.search(r"address:\s+(0x[0-9a-f]+)", t)
                byaddr[a.group(1) if a else None] = t
            for m in reach:
                t = byaddr.get(m["address"])
                if not t:
                    probs.append("no sample for %s" % m["address"])
                    continue
                lines = [ln for ln in t.splitlines()
                         if ln.strip() and not re.match(r"^\s*\w+:\s\s", ln) and "----" not in ln]
                # "    1.47MB   map[string]*main.Session" then one frame a line.
                stack = [re.sub(r"^\s*\S+\s{2,}", "", lines[0]).strip()] + [ln.strip() for ln in lines[1:]]
                if m["roots"] and "path:  " + m["roots"][0] not in t:
                    probs.append("%s: no path label %r" % (m["address"], m["roots"][0]))
                if m["type"] and stack[0] != m["type"]:
                    probs.append("%s: the leaf is %r, not the type %r" % (m["address"], stack[0], m["type"]))
                if m["roots"]:
                    p = pprof_frames_problem(m["roots"][0], stack[1:][::-1])
                    if p:
                        probs.append("%s: %s" % (m["address"], p))
            self.r.check(label + ": one sample per map, labelled with its path and address", probs)
            if name.startswith("swiss"):
                self.r.note("go tool pprof -top -cum %s:\n%s" % (name, self.go_pprof("-top", "-cum", prof)[1]))
        name, d = next(iter(self.samples.items()))
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        rc, out, err, _ = self.run(["--exe", exe, "--pprof", os.path.join(self.work, "no/such/dir/p.pb.gz"), core])
        self.r.check("pprof: an unwritable FILE fails at once, exit 3, one line",
                     None if rc == 3 and len(err.splitlines()) == 1 and "cannot write the pprof profile" in err
                     and not out else "exit %d: %r %r" % (rc, err, out[:200]))
        prof = os.path.join(self.work, "failed.pb.gz")
        rc, out, err, _ = self.run(["--exe", exe, "--pprof", prof, exe])
        self.r.check("pprof: no profile is left when there is no report",
                     None if rc == 4 and not os.path.exists(prof) else
                     "exit %d, %s exists: %s" % (rc, prof, os.path.exists(prof)))


    # ---- --metrics ---------------------------------------------------------

    def metrics(self):
        for name, d in self.samples.items():
            exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
            # A file name a label must escape: quote, backslash, newline.
            odd = os.path.join(d, 'co"re\\x\n.1')
            if not os.path.exists(odd):
                os.link(core, odd)
            path = os.path.join(self.work, name + ".prom")
            rc, js, err, _ = self.run(["--json", "--exe", exe, "--metrics", path, odd])
            label = "metrics %s" % name
            if rc:
                self.r.fail(label + ": runs", "exit %d: %s" % (rc, err))
                continue
            with open(path) as f:
                text = f.read()
            fams, prob = parse_metrics(text)
            self.r.check(label + ": both of prometheus_client's parsers read the file", prob)
            doc = json.loads(js)
            summ = doc["summary"]
            want = {"mapscan_reclaimable_bytes": summ["reclaimable_bytes"],
                    "mapscan_retained_bytes": summ["retained_bytes"],
                    "mapscan_maps": summ["maps"],
                    "mapscan_entries": summ["count"],
                    "mapscan_unreachable_maps": summ["unreachable_maps"],
                    "mapscan_heap_inuse_bytes": summ["heap_in_use_bytes"]}
            probs = []
            for fam, v in want.items():
                f = fams.get(fam)
                if not f or f.type != "gauge" or len(f.samples) != 1 or f.samples[0].labels:
                    probs.append("%s: not one unlabelled gauge sample: %r" % (fam, f))
                elif f.samples[0].value != v:
                    probs.append("%s = %r, JSON %r" % (fam, f.samples[0].value, v))
                elif fam.endswith("_bytes") and f.unit != "bytes":
                    probs.append("%s has unit %r" % (fam, f.unit))
            self.r.check(label + ": the totals are the JSON summary's", probs)
            self.r.check(label + ": the group series are the JSON groups'", metrics_groups_problems(fams, doc))
            info = fams.get("mapscan_info")
            lab = info.samples[0].labels if info and info.samples else {}
            self.r.check(label + ": mapscan_info's labels, escaped, read back as they were",
                         None if lab.get("source") == odd and lab.get("go_version") == doc["go"]["version"]
                         else "labels %r, source %r" % (lab, odd))
            self.r.check(label + ": the text ends with # EOF", None if text.endswith("\n# EOF\n") else
                         "ends %r" % text[-40:])
            # The parser is strict enough to catch a cut file.
            _, prob = parse_metrics(text[:-len("# EOF\n")])
            self.r.check(label + ": (the parser refuses the same text without # EOF)",
                         None if prob else "accepted")
            left = [f for f in os.listdir(self.work) if ".tmp-" in f]
            self.r.check(label + ": written through a temporary file, none left",
                         "left %s" % left if left else
                         None if oct(os.stat(path).st_mode & 0o777) in ("0o644", "0o664", "0o666")
                         else "mode %o" % (os.stat(path).st_mode & 0o777))
        # The service: more groups than get series, and types with --group
        # type; --group none still gives the owner groups' series.
        try:
            exe, core, _ = self.service()
        except Failure as e:
            self.r.fail("metrics service: the fixture", e)
            exe = None
        for by in ("owner", "type", "none") if exe else ():
            path = os.path.join(self.work, "service-%s.prom" % by)
            rc, js, err, _ = self.run(["--json", "--group", by, "--metrics", path, core])
            if by == "none":
                rc2, js, err2, _ = self.run(["--json", core])
                rc, err = rc or rc2, err + err2
            label = "metrics service --group %s" % by
            if rc:
                self.r.fail(label, "exit %d: %s" % (rc, err))
                continue
            with open(path) as f:
                fams, prob = parse_metrics(f.read())
            doc = json.loads(js)
            probs = [prob] if prob else []
            reach = [g for g in doc["groups"] if g["reachable"]]
            if by != "type" and len(reach) <= METRICS_GROUPS:
                probs.append("only %d groups: the cut at %d is not tested" % (len(reach), METRICS_GROUPS))
            probs += metrics_groups_problems(fams, doc) or []
            self.r.check(label + ": the %d biggest of %d groups' series are the JSON groups'"
                         % (min(len(reach), METRICS_GROUPS), len(reach)), probs)
        name, d = next(iter(self.samples.items()))
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        rc, out, err, _ = self.run(["--exe", exe, "--metrics", os.path.join(self.work, "no/dir/m.prom"), core])
        self.r.check("metrics: an unwritable FILE fails at once, exit 3, one line",
                     None if rc == 3 and len(err.splitlines()) == 1 and "cannot write the metrics" in err
                     else "exit %d: %r" % (rc, err))
        path = os.path.join(self.work, "kept.prom")
        with open(path, "w") as f:
            f.write("old\n")
        rc, out, err, _ = self.run(["--exe", exe, "--metrics", path, exe])
        with open(path) as f:
            kept = f.read()
        self.r.check("metrics: a failed run leaves the previous file as it was",
                     None if rc == 4 and kept == "old\n" and
                     not [f for f in os.listdir(self.work) if ".tmp-" in f] else "exit %d, %r" % (rc, kept))

    # ---- --fail-over -------------------------------------------------------

    def gate_check(self, name, args, want_rc, base_out, stdin, line_re, what, flag):
        """The gate's exit status, its one stderr line (matching line_re,
        `what` it should say) when it fires, nothing on stderr otherwise,
        the report as without the gate (`flag`)."""
        rc, out, err, _ = self.run(args, stdin=stdin)
        probs = []
        if rc != want_rc:
            probs.append("exit %d, want %d: %s" % (rc, want_rc, err.strip()))
        lines = err.splitlines()
        if want_rc == EXIT_GATE:
            if len(lines) != 1 or not re.fullmatch(line_re, lines[0]):
                probs.append("stderr is not one line %s: %r" % (what, err))
        elif err:
            probs.append("stderr: %r" % err)
        if base_out is not None and out != base_out:
            probs.append("the report differs from the one without %s" % flag)
        self.r.check(name, probs)

    def gate_case(self, name, args, want_rc, base_out, stdin=subprocess.DEVNULL):
        self.gate_check(name, args, want_rc, base_out, stdin,
                        r"mapscan: .* reclaimable in \d+ maps, at or over --fail-over .*",
                        "saying why", "--fail-over")

    def gate(self):
        name, d = next(iter(self.samples.items()))
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        rc, text, _, _ = self.run(["--exe", exe, core])
        rc, js, _, _ = self.run(["--json", "--exe", exe, core])
        total = json.loads(js)["summary"]["reclaimable_bytes"]
        for mode, base, extra in (("text", text, []), ("--json", js, ["--json"])):
            for label, size, want in (("just above", total + 1, 0), ("equal to", total, EXIT_GATE),
                                      ("just below", total - 1, EXIT_GATE), ("far above", "1T", 0),
                                      ("below, with a unit,", "64K", EXIT_GATE)):
                self.gate_case("gate %s: a threshold %s the total (--fail-over %s) exits %d"
                               % (mode, label, size, want),
                               extra + ["--exe", exe, "--fail-over", str(size), core], want, base)
        self.gate_case("gate: -fail-over=SIZE, Go's spelling", ["-fail-over=64K", "--exe", exe, core],
                       EXIT_GATE, text)
        rc, out, err, _ = self.run(["--fail-over", "lots", "--exe", exe, core])
        self.r.check("gate: a bad SIZE is a usage error",
                     None if rc == 2 and "--fail-over needs a size" in err else "exit %d: %r" % (rc, err))
        zst = self.compress(core, "zstd")
        with open(zst, "rb") as f:
            rc, piped, _, _ = self.run(["--exe", exe, "-"], stdin=f)
        with open(zst, "rb") as f:
            self.gate_case("gate: a compressed core from a pipe", ["--exe", exe, "--fail-over", "64K", "-"],
                           EXIT_GATE, piped, stdin=f)
        # A running process: a program whose map lost its entries.
        src = os.path.join(self.work, "gatelive")
        os.makedirs(src)
        with open(os.path.join(src, "go.mod"), "w") as f:
            f.write("module gatelive\n\ngo 1.19\n")
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write(GATE_PROGRAM)
        exe = os.path.join(src, "gatelive")
        p = subprocess.run(["go", "build", "-o", exe, "."], cwd=src, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=dict(os.environ, GOTOOLCHAIN="local"))
        if p.returncode:
            self.r.fail("gate --pid: build", p.stdout)
            return
        prog = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            if prog.stdout.readline().strip() != "ready":
                self.r.fail("gate --pid: the program", "did not get ready")
                return
            pid = str(prog.pid)
            rc, js, err, _ = self.run(["--json", "--pid", pid])
            doc = json.loads(js) if rc == 0 else {}
            total = doc.get("summary", {}).get("reclaimable_bytes", 0)
            self.r.check("gate --pid: the program's map is reclaimable",
                         None if rc == 0 and total >= 1 << 20 else "exit %d, %d bytes: %s" % (rc, total, err))
            for size, want in ((str(total // 2), EXIT_GATE), (str(total * 2), 0)):
                for extra in ([], ["--json"]):
                    self.gate_case("gate --pid%s: --fail-over %s exits %d" % (" --json" if extra else "", size, want),
                                   extra + ["--pid", pid, "--fail-over", size], want, None)
        finally:
            prog.stdin.close()
            prog.wait(timeout=60)


    # ---- --fail-over-group -------------------------------------------------

    def gate_group_case(self, name, args, want_rc, base_out, group=None, stdin=subprocess.DEVNULL):
        """The gate's one line names `group` (a JSON group) when it fires."""
        named = line_re = None
        if want_rc == EXIT_GATE:
            named = "group %s (%s)" % (group["pattern"], group["type"]) if group["pattern"] \
                else "type " + group["type"]
            line_re = r"mapscan: .* reclaimable in %d maps of %s, at or over --fail-over-group .*" \
                % (group["maps"], re.escape(named))
        self.gate_check(name, args, want_rc, base_out, stdin, line_re, "naming %s" % named,
                        "--fail-over-group")

    def gate_group(self):
        try:
            exe, core, _ = self.service()
        except Failure as e:
            self.r.fail("gate_group: the service fixture", e)
            return
        for by in ("owner", "type"):
            rc, js, err, _ = self.run(["--json", "--group", by, core])
            if rc:
                self.r.fail("gate_group --group %s: the JSON report" % by, "exit %d: %s" % (rc, err))
                continue
            groups = [g for g in json.loads(js)["groups"] if g["reachable"]]
            big = max(groups, key=lambda g: g["reclaimable_bytes"])
            second = max((g for g in groups if g is not big), key=lambda g: g["reclaimable_bytes"])
            if by == "owner" and big["pattern"] != "main.svcTenants[*].sessions":
                self.r.fail("gate_group: the tenants' group leads", "the biggest is %r" % big)
            rc, text, _, _ = self.run(["--group", by, core])
            top = big["reclaimable_bytes"]
            for mode, base, extra in (("text", text, []), ("--json", js, ["--json"])):
                for label, size, want in (("just above", top + 1, 0), ("equal to", top, EXIT_GATE),
                                          ("just below", top - 1, EXIT_GATE),
                                          ("above the second biggest group's, below", second["reclaimable_bytes"] + 1,
                                           EXIT_GATE)):
                    self.gate_group_case(
                        "gate_group --group %s %s: a threshold %s the biggest group's %d exits %d"
                        % (by, mode, label, top, want),
                        extra + ["--group", by, "--fail-over-group", str(size), core], want, base, big)
        # The total is over, no group is: only --fail-over fires.
        rc, js, _, _ = self.run(["--json", core])
        doc = json.loads(js)
        total = doc["summary"]["reclaimable_bytes"]
        top = max(g["reclaimable_bytes"] for g in doc["groups"] if g["reachable"])
        rc, out, err, _ = self.run(["--fail-over", str(total), "--fail-over-group", str(top + 1), core])
        self.r.check("gate_group: --fail-over reached, --fail-over-group not: one line, exit 10",
                     None if rc == EXIT_GATE and len(err.splitlines()) == 1 and "--fail-over " in err
                     else "exit %d: %r" % (rc, err))
        # --group none lists no groups, the gate still weighs owner groups.
        lead = next(g for g in doc["groups"] if g["pattern"] == "main.svcTenants[*].sessions")
        rc, base, _, _ = self.run(["--group", "none", core])
        self.gate_group_case("gate_group --group none: owner groups are still weighed",
                             ["--group", "none", "--fail-over-group", str(lead["reclaimable_bytes"]), core],
                             EXIT_GATE, base, lead)
        rc, out, err, _ = self.run(["--fail-over-group", "lots", core])
        self.r.check("gate_group: a bad SIZE is a usage error",
                     None if rc == 2 and "--fail-over-group needs a size" in err else "exit %d: %r" % (rc, err))
        # A live process: the service, waiting on stdin.
        prog = subprocess.Popen([exe, "-service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=dict(os.environ, MAPSCAN_WAIT="1",
                                         MAPSCAN_ORACLE=os.path.join(self.work, "live-oracle.json")),
                                text=True)
        try:
            if prog.stdout.readline().strip() != "ready":
                self.r.fail("gate_group --pid: the service", "did not get ready")
                return
            pid = str(prog.pid)
            rc, js, err, _ = self.run(["--json", "--pid", pid])
            groups = [g for g in json.loads(js)["groups"] if g["reachable"]] if rc == 0 else []
            if not groups:
                self.r.fail("gate_group --pid: the JSON report", "exit %d: %s" % (rc, err))
                return
            big = max(groups, key=lambda g: g["reclaimable_bytes"])
            for size, want in ((big["reclaimable_bytes"], EXIT_GATE), (big["reclaimable_bytes"] + 1, 0)):
                for extra in ([], ["--json"]):
                    self.gate_group_case("gate_group --pid%s: --fail-over-group %d exits %d"
                                         % (" --json" if extra else "", size, want),
                                         extra + ["--pid", pid, "--fail-over-group", str(size)], want, None, big)
        finally:
            prog.kill()
            prog.wait(timeout=60)


    # ---- mapscan diff ------------------------------------------------------

    def diff(self):
        try:
            exe, old, _ = self.service(400)
            _, new, _ = self.service(100)
        except Failure as e:
            self.r.fail("diff: the service fixture", e)
            return
        reports = []
        for core in (old, new):
            rc, js, err, _ = self.run(["--json", core])
            if rc:
                self.r.fail("diff: the JSON reports", "exit %d: %s" % (rc, err))
                return
            path = core + ".json"
            with open(path, "w") as f:
                f.write(js)
            reports.append((path, json.loads(js)))
        want = expected_diff(reports[0][1], reports[1][1])
        docs = {}
        for label, a, b in (("core vs core", old, new), ("JSON vs core", reports[0][0], new),
                            ("core vs JSON", old, reports[1][0]),
                            ("JSON vs JSON", reports[0][0], reports[1][0])):
            rc, out, err, _ = self.run(["diff", "--json", a, b])
            if rc:
                self.r.fail("diff %s" % label, "exit %d: %s" % (rc, err))
                continue
            doc = docs[label] = json.loads(out)
            probs = []
            got = [(g["pattern"], g["type"], g["maps_delta"], g["count_delta"], g["retained_bytes_delta"],
                    g["reclaimable_bytes_delta"], tuple(g["old"].values()), tuple(g["new"].values()))
                   for g in doc["groups"]]
            if sorted(got, key=repr) != sorted(want, key=repr):
                probs.append("groups %r,\nwant %r" % (got, want))
            recl = [abs(g["reclaimable_bytes_delta"]) for g in doc["groups"]]
            if recl != sorted(recl, reverse=True):
                probs.append("not the largest reclaimable change first: %r" % recl)
            for side, (path, rep) in zip(("old", "new"), reports):
                tot = doc[side]["totals"]
                summ = rep["summary"]
                if (tot["maps"], tot["reclaimable_bytes"], tot["retained_bytes"], tot["count"]) != \
                        (summ["maps"], summ["reclaimable_bytes"], summ["retained_bytes"], summ["count"]):
                    probs.append("%s totals %r, the report's summary %r" % (side, tot, summ))
            self.r.check("diff %s: the changed groups and their deltas are the two reports'" % label, probs)
        lead = docs.get("core vs core", {}).get("groups", [{}])[0]
        self.r.check("diff: the tenants' group leads, 300 maps fewer",
                     None if lead.get("pattern") == "main.svcTenants[*].sessions" and lead.get("maps_delta") == -300
                     else "first group %r" % lead)

        def strip(doc):
            doc = json.loads(json.dumps(doc))
            for side in ("old", "new"):
                doc[side].pop("file"), doc[side].pop("read_as")
            return doc
        base = docs.get("core vs core")
        for label, doc in docs.items():
            if base and label != "core vs core":
                self.r.check("diff %s: the same document as core vs core (but for file, read_as)" % label,
                             None if strip(doc) == strip(base) else "differs")
        # The text: names whole, the biggest change first, a table.
        rc, text, err, _ = self.run(["diff", old, new], env={"COLUMNS": "60"})
        probs = [] if rc == 0 else ["exit %d: %s" % (rc, err)]
        joined = re.sub(r"\n +", "", text)
        for g in want:
            if g[0] and g[0] not in joined:
                probs.append("the text does not name %r whole" % g[0])
        if any(len(ln) > 60 for ln in text.splitlines() if " " in ln.strip()):
            probs.append("lines wider than COLUMNS=60 that could break:\n%s" % text)
        rows = [ln for ln in text.splitlines() if re.match(r"^ +[-+]?[\d.]+ (B|KiB|MiB|GiB) ", ln)]
        if not rows or not rows[0].split()[0:2] == ["-1.8", "MiB"]:
            probs.append("first row %r, want the tenants' -1.8 MiB" % rows[:1])
        # (a name broken after a space keeps it, as in the report)
        if any(ln != ln.rstrip() for ln in rows + [ln for ln in text.splitlines() if "RECLAIM" in ln]):
            probs.append("trailing spaces:\n%s" % text)
        self.r.check("diff text: an aligned table, the biggest change first, names whole", probs)
        rc, same, err, _ = self.run(["diff", "--json", old, old])
        d = json.loads(same) if rc == 0 else {}
        self.r.check("diff: a core against itself has no changed group",
                     None if rc == 0 and d["groups"] == [] and d["summary"]["groups_unchanged"] > 20
                     else "exit %d: %s %s" % (rc, err, same[:300]))
        # Bad input: one line, its exit status.
        other = os.path.join(self.work, "schema1.json")
        with open(other, "w") as f:
            f.write(json.dumps(dict(reports[0][1], schema=1)))
        notreport = os.path.join(self.work, "other.json")
        with open(notreport, "w") as f:
            f.write('{"name": "not mapscan", "groups": []}\n')
        cut = os.path.join(self.work, "cut.json")
        with open(reports[0][0]) as f, open(cut, "w") as o:
            o.write(f.read()[:5000])
        topped = os.path.join(self.work, "top.json")
        with open(topped, "w") as f:
            f.write(self.run(["--json", "--top", "3", old])[1])
        bytype = os.path.join(self.work, "bytype.json")
        with open(bytype, "w") as f:
            f.write(self.run(["--json", "--group", "type", old])[1])
        for label, args, code, text in (
                ("a missing file", [old, os.path.join(self.work, "nope")], 3, r"nope"),
                ("a report of another schema", [other, new], EXIT_FORMAT, r"schema 1; this mapscan reads schema 2"),
                ("JSON that is not a report", [notreport, new], EXIT_FORMAT, r"not a mapscan --json report"),
                ("a cut report", [cut, new], EXIT_FORMAT, r"cut\.json: .*cut short"),
                ("a report cut by --top", [topped, new], EXIT_FORMAT, r"lists 3 of its \d+ groups"),
                ("a report grouped by type", [bytype, new], EXIT_FORMAT, r"groups are by type: give --group type"),
                ("one file", [old], 2, r"needs two files"),
                ("an option that does not apply", ["--pprof", "x", old, new], 2, r"mapscan diff takes")):
            self.one_error_line("diff: %s gives one line, exit %d" % (label, code), ["diff"] + args, code, text)
        rc, out, err, _ = self.run(["diff", "--group", "type", bytype, new])
        self.r.check("diff --group type: a report by type against a core",
                     None if rc == 0 and json.loads(self.run(["diff", "--json", "--group", "type", bytype, new])[1])
                     ["grouped_by"] == "type" else "exit %d: %s" % (rc, err))

    # ---- the DWARF model cache --------------------------------------------

    def cache(self):
        """MAPSCAN_CACHE_DIR on a sample core (MAPSCAN_TEST_CACHE_MIN=0:
        the sample's executable is under the 16 MiB a model is kept
        from): the first run reads the DWARF and keeps the model, the
        next reads the model, the JSON is the same byte for byte; a model
        damaged, or one of an executable touched since, is read again
        from the DWARF (and kept again); an empty MAPSCAN_CACHE_DIR keeps
        nothing; a directory others may write is not used."""
        d = self.samples[sorted(self.samples)[0]]
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        cdir = os.path.join(self.work, "cache")
        args = ["--json", "--exe", exe, core]

        def run(where, env_dir=None):
            env = {"MAPSCAN_TEST_CACHE_MIN": "0",
                   "MAPSCAN_CACHE_DIR": cdir if env_dir is None else env_dir}
            rc, out, err, _ = self.run(args, env=env)
            m = re.search(r"mapscan: test: DWARF model (.*)", err)
            return rc, out, m.group(1) if m else None

        def models():
            return sorted(f for f in os.listdir(cdir) if f.endswith(".model")) if os.path.isdir(cdir) else []

        rc0, plain, _, _ = self.run(args, env={"MAPSCAN_CACHE_DIR": ""})
        rc1, out1, how1 = run("first")
        p = []
        if rc0 or rc1 or out1 != plain:
            p.append("first run: exit %d/%d, JSON %s the uncached run's" % (rc0, rc1, "equals" if out1 == plain else "differs from"))
        if how1 != "read from the DWARF" or len(models()) != 1:
            p.append("first run: model %r, %d kept" % (how1, len(models())))
        self.r.check("cache: the first run reads the DWARF and keeps the model", p)

        rc2, out2, how2 = run("second")
        p = []
        if how2 != "from the cache":
            p.append("model %r" % how2)
        if rc2 or out2 != plain:
            p.append("exit %d, JSON %s" % (rc2, "the same" if out2 == plain else "differs"))
        self.r.check("cache: the next run reads the kept model, same JSON", p)

        # Damaged: a byte in the middle of the flat form, then the file cut.
        p = []
        for how, damage in (("a byte flipped", lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 0x5a]) + b[len(b) // 2 + 1:]),
                            ("cut", lambda b: b[:len(b) * 2 // 3])):
            path = os.path.join(cdir, models()[0])
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(damage(data))
            rc, out, h = run(how)
            if rc or out != plain:
                p.append("%s: exit %d, JSON %s" % (how, rc, "the same" if out == plain else "differs"))
            if h == "from the cache" and how == "cut":
                p.append("%s: model read from the cut file" % how)
            rc, out, h = run(how + ", again")
            if h != "from the cache" or out != plain:
                p.append("%s: the run after took its model %r" % (how, h))
        self.r.check("cache: a damaged model is read again from the DWARF and kept again", p)

        p = []
        os.utime(exe)            # a new modification time: another executable
        rc, out, h = run("touched")
        if h != "read from the DWARF" or out != plain:
            p.append("after touching the executable: model %r" % h)
        if len(models()) != 2:
            p.append("%d models kept, want 2" % len(models()))
        self.r.check("cache: an executable changed since is read again", p)

        p = []
        empty = os.path.join(self.work, "nocache")
        rc, out, h = run("off", env_dir="")
        if h is not None or out != plain:
            p.append("MAPSCAN_CACHE_DIR='': model %r" % h)
        os.makedirs(empty)
        os.chmod(empty, 0o777)
        rc, out, h = run("open", env_dir=empty)
        if h is not None or os.listdir(empty) or out != plain:
            p.append("a directory anyone may write: model %r, files %s" % (h, os.listdir(empty)))
        self.r.check("cache: none without a directory, nor in one others may write", p)


METRICS_GROUPS = 20  # groups with series of their own (man/mapscan.1, --metrics)


def metrics_groups_problems(fams, doc):
    """What differs between the mapscan_group_* series and the JSON
    report's groups something reaches: the METRICS_GROUPS biggest by
    reclaimable bytes (ties: retained, pattern, type), their figures,
    labelled by pattern and type ("" for null), and mapscan_groups their
    number."""
    reach = [g for g in doc["groups"] if g["reachable"]]
    reach.sort(key=lambda g: (-g["reclaimable_bytes"], -g["retained_bytes"],
                              (g["pattern"] or "").encode(), (g["type"] or "").encode()))
    want = reach[:METRICS_GROUPS]
    probs = []
    f = fams.get("mapscan_groups")
    if not f or len(f.samples) != 1 or f.samples[0].value != len(reach):
        probs.append("mapscan_groups %r, want %d" % (f and f.samples, len(reach)))
    for fam, key in (("mapscan_group_reclaimable_bytes", "reclaimable_bytes"),
                     ("mapscan_group_retained_bytes", "retained_bytes"),
                     ("mapscan_group_maps", "maps"), ("mapscan_group_entries", "count")):
        f = fams.get(fam)
        if not f or f.type != "gauge":
            probs.append("no gauge %s" % fam)
            continue
        got = [(s.labels.get("pattern"), s.labels.get("type"), s.value) for s in f.samples]
        exp = [(g["pattern"] or "", g["type"] or "", g[key]) for g in want]
        if got != exp:
            probs.append("%s: %r, want %r" % (fam, got[:3], exp[:3]) if len(got) == len(exp) else
                         "%s: %d series, want %d" % (fam, len(got), len(exp)))
    return probs or None


def expected_diff(a, b):
    """The changed groups of two JSON reports, as the tuples the test
    compares: pattern, type, the four deltas, old and new figures."""
    def groups(doc):
        return {(g["pattern"], g["type"]): g for g in doc["groups"] if g["reachable"]}
    ga, gb = groups(a), groups(b)
    zero = dict(maps=0, count=0, retained_bytes=0, reclaimable_bytes=0)
    keys = ("maps", "count", "retained_bytes", "reclaimable_bytes")
    out = []
    for k in set(ga) | set(gb):
        o, n = ga.get(k, zero), gb.get(k, zero)
        if all(o[x] == n[x] for x in keys) and k in ga and k in gb:
            continue
        out.append(k + tuple(n[x] - o[x] for x in keys) + (tuple(o[x] for x in keys), tuple(n[x] for x in keys)))
    return out


def parse_metrics(text):
    """The families of an OpenMetrics text by prometheus_client's parsers:
    the OpenMetrics one (strict: `# EOF`, units, escapes) and the
    Prometheus text one node_exporter's textfile collector uses.  Returns
    (families by name, problem or None)."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
    from prometheus_client.parser import text_string_to_metric_families as prom
    try:
        fams = {f.name: f for f in om(text)}
    except Exception as e:  # the parser's errors are ValueError and others
        return {}, "the OpenMetrics parser refuses it: %s" % e
    try:
        list(prom(text))
    except Exception as e:
        return fams, "the Prometheus text parser refuses it: %s" % e
    return fams, None


# Stays up until stdin closes, holding a map that once had 100,000 entries
# and now has 10: most of its storage is reclaimable.
GATE_PROGRAM = """package main

import (
	"bufio"
	"fmt"
	"os"
)

var sessions = map[int][64]byte{}

func main() {
	for i := 0; i < 100000; i++ {
		sessions[i] = [64]byte{}
	}
	for i := 10; i < 100000; i++ {
		delete(sessions, i)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\\n')
}
"""


PHASES = ["compressed", "install", "pprof", "gate", "gate_group", "metrics", "diff", "cache"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mapscan", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    missing = [c for c in ("zstd", "gzip", "xz", "lz4", "go", "man") if not shutil.which(c)]
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        missing.append("Python's prometheus_client")
    if missing:
        print("FAIL - tools: %s not installed (.ci/run installs them)" % ", ".join(missing))
        print("0 passed, 1 failed")
        return 1
    s = Suite(args)
    try:
        chosen = [ph for ph in PHASES if args.k and (ph in args.k or args.k in ph)] or PHASES
        for ph in chosen:
            getattr(s, ph)()
    finally:
        shutil.rmtree(s.work, ignore_errors=True)
    print("%d passed, %d failed" % (s.r.passed, s.r.failed))
    return 1 if s.r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
