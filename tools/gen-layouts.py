#!/usr/bin/env python3
"""Generate lib/golayout_data.c: the Go runtime's own structures, per version.

    python3 tools/gen-layouts.py                 # regenerate from every toolchain
    python3 tools/gen-layouts.py --check go1.19,go1.26
                                                 # fail if those rows differ

A binary built with -ldflags=-s -w has no DWARF, yet mapscan must read the
runtime's span table, goroutines, moduledata, map headers and type
descriptors.  Their layouts come from here: for each supported toolchain
(and each GOEXPERIMENT that changes the map layout) this builds a small
program (tools/layoutdump/probe), dumps the DWARF of the runtime types
mapscan reads with tools/layoutdump (built with the Go on PATH), and writes
every distinct type description once, with per-variant lists of them.

Toolchains: /usr/lib/go-1.19/bin/go for 1.19 (MAPSCAN_GO119 overrides), the
`go` on PATH for its own version, and `go` with GOTOOLCHAIN=go1.N.P for the
others (the go command fetches them from the module proxy).  --check
rebuilds only the named variants and compares them with the checked-in
file; CI runs it (Makefile target check-layouts).

Python 3 standard library only.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMPER = os.path.join(ROOT, "tools", "layoutdump")
PROBE = os.path.join(DUMPER, "probe")
OUT = os.path.join(ROOT, "lib", "golayout_data.c")

# (id, minor, GOTOOLCHAIN or a go command, GOEXPERIMENT)
VARIANTS = [
    ("go1.19", 19, "/usr/lib/go-1.19/bin/go", ""),
    ("go1.20", 20, "go1.20.14", ""),
    ("go1.21", 21, "go1.21.13", ""),
    ("go1.22", 22, "go1.22.12", ""),
    ("go1.23", 23, "go1.23.12", ""),
    ("go1.24", 24, "go1.24.11", ""),
    ("go1.24-noswissmap", 24, "go1.24.11", "noswissmap"),
    ("go1.25", 25, "go1.25.5", ""),
    ("go1.25-noswissmap", 25, "go1.25.5", "noswissmap"),
    ("go1.26", 26, "go1.26.8", ""),
    ("go1.27", 27, "go1.27.3", ""),
    ("go1.27-mapsplitgroup", 27, "go1.27.3", "mapsplitgroup"),
]

# The runtime's types mapscan reads (their DWARF names; each toolchain has
# some of them), and the runtime variables it needs.
TYPES = """
runtime.mheap runtime.mspan runtime.mSpanStateBox runtime.spanInlineMarkBits runtime.heapArena
runtime.g runtime.m runtime.stack runtime.gobuf runtime.funcval
runtime.hmap runtime.mapextra runtime.bmap runtime.hchan runtime.eface runtime.iface
runtime.moduledata runtime.bitvector runtime.functab runtime.pcHeader runtime._func
runtime.textsect runtime.itab runtime._type runtime.maptype runtime.structtype
runtime.structfield runtime.ptrtype runtime.slicetype runtime.arraytype runtime.chantype
runtime.functype runtime.interfacetype runtime.imethod runtime.uncommontype runtime.method
runtime.name
internal/abi.Type internal/abi.MapType internal/abi.SwissMapType internal/abi.OldMapType
internal/abi.StructType internal/abi.StructField internal/abi.PtrType internal/abi.SliceType
internal/abi.ArrayType internal/abi.ChanType internal/abi.FuncType internal/abi.InterfaceType
internal/abi.Imethod internal/abi.UncommonType internal/abi.Method internal/abi.ITab
internal/abi.Name
internal/runtime/maps.Map internal/runtime/maps.table internal/runtime/maps.groupsReference
*internal/runtime/maps.table
""".split()
VARS = """
runtime.mheap_ runtime.allgs runtime.allglen runtime.allm runtime.gcphase runtime.buildVersion
runtime.firstmoduledata runtime.class_to_size internal/runtime/gc.SizeClassToSize
""".split()


def fail(msg):
    sys.exit("gen-layouts: " + msg)


def go_env(tc, experiment):
    env = dict(os.environ, GOWORK="off", GO111MODULE="on", CGO_ENABLED="0", GOFLAGS="-mod=mod")
    env.pop("GOEXPERIMENT", None)
    if experiment:
        env["GOEXPERIMENT"] = experiment
    if tc.startswith("/"):
        override = os.environ.get("MAPSCAN_GO119")
        return (override or tc), dict(env, GOTOOLCHAIN="local")
    # The go on PATH builds for its own version; others come from the proxy.
    local = {k: v for k, v in env.items() if k != "GOEXPERIMENT"}
    p = subprocess.run(["go", "env", "GOVERSION"], env=dict(local, GOTOOLCHAIN="local"),
                       stdout=subprocess.PIPE, text=True)
    if p.stdout.strip() == tc:
        return "go", dict(env, GOTOOLCHAIN="local")
    return "go", dict(env, GOTOOLCHAIN=tc)


def dump(variant, dumper, work):
    vid, minor, tc, exp = variant
    go, env = go_env(tc, exp)
    exe = os.path.join(work, vid)
    p = subprocess.run([go, "build", "-o", exe, "."], cwd=PROBE, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        fail("%s: %s build: %s" % (vid, go, p.stdout.strip()[-600:]))
    # What the binary says it was built with (runtime.Version(), with the
    # experiments): the go command itself may not know the experiment.
    p = subprocess.run(["go", "version", exe], env=dict(os.environ, GOTOOLCHAIN="local"),
                       stdout=subprocess.PIPE, text=True)
    version = p.stdout.strip().split(": ", 1)[-1].replace(" ", "-")
    if not version.startswith("go1.%d" % minor) or (exp and "X:" + exp not in version):
        fail("%s: the probe was built by %r" % (vid, version))
    p = subprocess.run([dumper, exe] + TYPES + ["-var"] + VARS, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        fail("%s: layoutdump: %s" % (vid, p.stderr.strip()))
    lines = [l for l in p.stdout.split("\n") if l]
    if not any(l.startswith("STRUCT\truntime.mspan\t") for l in lines):
        fail("%s: no runtime.mspan in the dump" % vid)
    return version, lines


def c_string(s):
    out = []
    for ch in s:
        if ch == "\t":
            out.append("\\t")
        elif ch in "\\\"":
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            fail("unexpected character %r in %r" % (ch, s))
    return '"' + "".join(out) + '"'


def write(results):
    pool, index = [], {}
    for _, _, lines in results:
        for l in lines:
            if l not in index:
                index[l] = len(pool)
                pool.append(l)
    out = ["/* Generated by tools/gen-layouts.py from the DWARF of each toolchain; do not",
           " * edit.  The runtime's types, one line each (lib/golayout.c reads them),",
           " * and per toolchain the lines that describe it. */",
           '#include "golayout.h"',
           "",
           "static const char *const lines[] = {"]
    for l in pool:
        out.append("\t%s," % c_string(l))
    out.append("};")
    for (vid, _, _, _), version, lines in results:
        ident = re.sub(r"[^A-Za-z0-9]", "_", vid)
        out.append("")
        out.append("/* %s: %s */" % (vid, version))
        out.append("static const unsigned short v_%s[] = {" % ident)
        idx = sorted(index[l] for l in lines)
        for i in range(0, len(idx), 12):
            out.append("\t" + " ".join("%d," % x for x in idx[i:i + 12]))
        out.append("};")
    out.append("")
    out.append("const struct golayout_variant golayout_variants[] = {")
    for (vid, minor, _, exp), version, lines in results:
        ident = re.sub(r"[^A-Za-z0-9]", "_", vid)
        out.append('\t{ "%s", %d, "%s", "%s", lines, v_%s, sizeof(v_%s) / sizeof(v_%s[0]) },'
                   % (vid, minor, exp, version, ident, ident, ident))
    out.append("};")
    out.append("const unsigned golayout_nvariants = sizeof(golayout_variants) / sizeof(golayout_variants[0]);")
    return "\n".join(out) + "\n"


def parse_checked_in():
    """{variant id: (version, set of lines)} from lib/golayout_data.c."""
    with open(OUT) as f:
        text = f.read()
    body = text[text.index("lines[] = {"):text.index("};")]
    pool = [bytes(m, "ascii").decode("unicode_escape") for m in re.findall(r'^\t"((?:[^"\\]|\\.)*)",$', body, re.M)]
    got = {}
    for m in re.finditer(r'/\* (\S+): (\S+) \*/\nstatic const unsigned short v_\w+\[\] = \{([^}]*)\}', text):
        got[m.group(1)] = (m.group(2), {pool[int(x)] for x in re.findall(r"\d+", m.group(3))})
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", metavar="IDS", help="comma-separated variants to rebuild and compare")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gen-layouts-") as work:
        dumper = os.path.join(work, "layoutdump")
        env = dict(os.environ, GOWORK="off", GOTOOLCHAIN="local", CGO_ENABLED="0")
        p = subprocess.run(["go", "build", "-o", dumper, "."], cwd=DUMPER, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            fail("building tools/layoutdump: " + p.stdout.strip())
        if args.check:
            want = args.check.split(",")
            unknown = [w for w in want if w not in [v[0] for v in VARIANTS]]
            if unknown:
                fail("unknown variants %s" % unknown)
            have = parse_checked_in()
            bad = 0
            for v in VARIANTS:
                if v[0] not in want:
                    continue
                version, lines = dump(v, dumper, work)
                old = have.get(v[0])
                if old is None:
                    print("%s: not in %s" % (v[0], OUT))
                    bad += 1
                    continue
                new = set(lines)
                if new != old[1]:
                    bad += 1
                    print("%s (%s): %s differs from the DWARF of %s:" % (v[0], old[0], OUT, version))
                    for l in sorted(new - old[1])[:5]:
                        print("  + " + l[:200])
                    for l in sorted(old[1] - new)[:5]:
                        print("  - " + l[:200])
                else:
                    print("%s: %d types, as checked in (DWARF of %s)" % (v[0], len(new), version))
            if bad:
                fail("the layout table is out of date: run python3 tools/gen-layouts.py")
            return
        results = []
        for v in VARIANTS:
            version, lines = dump(v, dumper, work)
            print("%s: %s, %d types" % (v[0], version, len(lines)))
            results.append((v, version, lines))
        with open(OUT, "w") as f:
            f.write(write(results))
        print("wrote %s" % OUT)


if __name__ == "__main__":
    main()
