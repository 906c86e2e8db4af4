#!/usr/bin/env python3
"""End-to-end tests of `mapscan --tui`, driven through tmux.

    python3 tests/e2e/tui.py --mapscan build/mapscan [-k SUBSTR] [--keep DIR]

For each bundled sample core (testdata/samples/*/{exe,core}.xz) this runs
`mapscan --tui --exe EXE CORE` in a shell in a detached tmux session of
80x24, types keys at it and reads the screen back with capture-pane, the way
a user would look at it.  The figures on the screen are compared with
mapscan's own --json output for the same core.

It checks: the owners screen it opens on (groups equal to JSON's, counts
equal to the text's and JSON's, the unreachable ones hidden until `u`),
drilling into an owner's maps and into one map and back, the list of every
map (`m`: rows, sorting, the `/` filter, `u`), the detail screen (figures
equal to JSON, every holder path whole, sample keys, storage picture,
histogram), `?` help, resizing to 120x40 and 200x60, the mouse wheel, an
ASCII and monochrome rendering (LANG=C, NO_COLOR=1), and that the terminal
is given back (shell prompt, `stty` echo and icanon, cursor shown,
alternate screen and mouse reporting off) after `q`, Esc, SIGTERM and
Ctrl-C.

Every check prints `ok - NAME` or `FAIL - NAME: DETAILS`; the last line is
`N passed, M failed`, and the exit status is 1 if anything failed.

Needs tmux (Debian/Ubuntu package `tmux`).  Python 3 standard library only.
"""

import argparse
import json
import lzma
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from run import Failure, Report, unwrap, group_pattern  # noqa: E402  (tests/e2e/run.py)
SAMPLES = os.path.join(ROOT, "testdata", "samples")

WAIT = 120  # seconds to wait for a screen (ASan builds start slowly)

SIZE_RE = r"\d+(?:\.\d)? (?:[KMGTPE]iB|B)"
# A map row: RECLAIM RETAINED COUNT [CAPACITY] FILL PATH TYPE (CAPACITY only
# from 100 columns on).
ROW_RE = re.compile(r"^\s*(%s)\s+(%s)\s+(\S+)\s+(?:(\d[\d.]*[kMGTPE]?)\s+)?(\d+(?:\.\d)?%%|-|\?)\s+(\S.*?)\s*$"
                    % (SIZE_RE, SIZE_RE))
HIST_RE = re.compile(r"\s(8\+|[0-8]) [#█▏▎▍▌▋▊▉]*\s+(\d+)$")
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
         "PiB": 1 << 50, "EiB": 1 << 60}


def human_bytes(s):
    num, unit = s.split()
    return float(num) * UNITS[unit]


def human_size(n):
    """formats/format.h human_size, for comparing with what the screen says."""
    if n < 1024:
        return "%d B" % n
    for k, u in enumerate("KMGTPE", 1):
        unit = 1 << (10 * k)
        whole, rem = divmod(n, unit)
        tenths = whole * 10 + (rem * 10 + unit // 2) // unit
        if tenths < 1000:
            return "%d.%d %siB" % (tenths // 10, tenths % 10, u)
        whole += rem >= unit // 2
        if whole < 1024 or k == 6:
            return "%d %siB" % (whole, u)
    return "?"


class Tmux:
    """One detached tmux server with one shell in one window."""

    count = 0

    def __init__(self, workdir, width=80, height=24, name="tui"):
        Tmux.count += 1
        self.sock = "mapscan-tui-%d-%s%d" % (os.getpid(), name, Tmux.count)
        conf = os.path.join(workdir, "tmux.conf")
        with open(conf, "w") as f:
            # A terminal every ncurses knows, the whole window for the pane.
            f.write("set -g default-terminal screen\nset -g status off\n"
                    "set -g history-limit 0\n")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NO_COLOR", "LANG", "LANGUAGE", "TMUX") and not k.startswith("LC_")}
        env["ENV"] = ""
        self.env = env
        self.tmux(["-f", conf, "new-session", "-d", "-s", "main", "-x", str(width), "-y",
                   str(height), "sh"])
        try:
            self.wait(lambda s: s.rstrip()[-1:] in ("$", "#"), "the shell prompt", timeout=20)
            # A known prompt (sh gives root "# " whatever the environment says).
            self.run("PS1='$ '; clear")
            self.wait(lambda s: s.strip() == "$", "the new prompt", timeout=20)
        except Failure:
            self.kill()
            raise

    def tmux(self, args, check=True):
        p = subprocess.run(["tmux", "-L", self.sock] + args, env=getattr(self, "env", None),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        if check and p.returncode:
            raise Failure("tmux %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def keys(self, *keys):
        self.tmux(["send-keys", "-t", "main"] + list(keys))

    def type(self, text):
        self.tmux(["send-keys", "-t", "main", "-l", text])

    def run(self, command):
        self.type(command)
        self.keys("Enter")

    def screen(self, escapes=False):
        return self.tmux(["capture-pane", "-p", "-t", "main"] + (["-e"] if escapes else []))

    def fmt(self, f):
        return self.tmux(["display-message", "-p", "-t", "main", f]).strip()

    def wait(self, pred, what, timeout=WAIT):
        """Poll the screen until pred(screen) is true; return the screen."""
        end = time.time() + timeout
        s = ""
        while time.time() < end:
            s = self.screen()
            if pred(s):
                time.sleep(0.05)        # let a redraw in progress finish
                s2 = self.screen()
                return s2 if pred(s2) else s
            time.sleep(0.05)
        raise Failure("timed out waiting for %s; screen:\n%s" % (what, s))

    def resize(self, w, h):
        self.tmux(["resize-window", "-t", "main", "-x", str(w), "-y", str(h)])

    def shell_pid(self):
        return int(self.fmt("#{pane_pid}"))

    def kill(self):
        self.tmux(["kill-server"], check=False)


def child_named(ppid, name):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and comm == name:
            return int(d)
    return None


# ----- reading the screens ---------------------------------------------------

def list_rows(screen):
    """The rows of the map list: dicts of the columns as shown."""
    lines = screen.split("\n")
    try:
        start = next(i for i, l in enumerate(lines) if "RECLAIM" in l and "PATH" in l)
    except StopIteration:
        return []
    rows = []
    for l in lines[start + 1:]:
        m = ROW_RE.match(l)
        if not m:
            break
        rest = re.split(r"\s{2,}", m.group(6), maxsplit=1)
        rows.append({"reclaim": m.group(1), "retained": m.group(2), "count": m.group(3),
                     "capacity": m.group(4), "fill": m.group(5), "path": rest[0],
                     "type": rest[1] if len(rest) > 1 else ""})
    return rows


GROUP_RE = re.compile(r"^\s*(%s)\s+(%s)\s+(?:(\d+\.\d%%|-)\s+)?(\d+)\s+(\S+)\s+(\S.*?)\s*$"
                      % (SIZE_RE, SIZE_RE))


def group_rows(screen):
    """The rows of the owners screen (SHARE is left out below 100 columns)."""
    lines = screen.split("\n")
    try:
        start = next(i for i, l in enumerate(lines) if "RECLAIM" in l and "OWNER" in l)
    except StopIteration:
        return []
    rows = []
    for l in lines[start + 1:]:
        m = GROUP_RE.match(l)
        if not m:
            break
        rest = re.split(r"\s{2,}", m.group(6), maxsplit=1)
        rows.append({"reclaim": m.group(1), "retained": m.group(2), "share": m.group(3),
                     "maps": m.group(4), "count": m.group(5), "owner": rest[0],
                     "type": rest[1] if len(rest) > 1 else ""})
    return rows


def shows(cell, full):
    """Whether a list cell shows full: whole, or shortened the way the TUI
    shortens names (import paths dropped, the start of a path or the end
    or middle of a type replaced by …)."""
    cell = re.sub(r" \((\+\d+(, cons\.)?|cons\.)\)$", "", cell)
    if cell == full or full.endswith(cell):
        return True
    short = re.sub(r"[\w.-]+/", "", full)
    shorter = re.sub(r"(?<![\w.])[A-Za-z_]\w*\.(?=[A-Za-z_])", "", short)
    if "…" in cell or "~" in cell:
        head, tail = re.split("[…~]", cell, maxsplit=1)
        return any(f.startswith(head) and f.endswith(tail) or (not head and tail in f)
                   for f in (full, short, shorter))
    return cell in (short, shorter) or short.endswith(cell)


def is_list(s):
    return "RECLAIM" in s and re.search(r"\d+ of \d+ (maps?|groups?)\b", s) is not None


def is_groups(s):
    return is_list(s) and "OWNER" in s


def is_maps(s):
    return is_list(s) and "PATH" in s


def is_detail(s):
    return "path " in s and "reclaimable" in s and "Storage" in s


def fill_text(count, cap):
    if not cap:
        return "-"
    pct = count * 100.0 / cap
    if pct < 99.95:
        return "%.1f%%" % pct
    return "%.0f%%" % pct


def detail_problems(screen, m, exact=True):
    """Figures on the (top of the) detail screen that differ from the JSON
    map m."""
    probs = []
    swiss = m["layout"] == "swiss"

    def fig(label, want):
        r = re.search(r"(?:^|\s)%s\s+(\S+)(?:\s|$)" % re.escape(label), screen, re.M)
        if not r:
            probs.append("no figure '%s'" % label)
        elif r.group(1) != str(want):
            probs.append("%s shows %s, JSON %s" % (label, r.group(1), want))

    for key in ("reclaimable", "retained", "ideal"):
        r = re.search(r"(?:^|\s)%s\s+(%s)(?:\s+(\d+) B)?" % (key, SIZE_RE), screen, re.M)
        v = m[key + "_bytes"]
        if not r:
            probs.append("no figure '%s'" % key)
            continue
        if r.group(1) != human_size(v):
            probs.append("%s shows %s, JSON %d (%s)" % (key, r.group(1), v, human_size(v)))
        if exact and r.group(2) != str(v):
            probs.append("%s exact bytes %s, JSON %d" % (key, r.group(2), v))
    fig("count", m["count"])
    fig("live slots", m["live_slots"])
    fig("capacity", m["capacity_slots"])
    fig("tombstones", m["tombstones"])
    fig("growing", "yes" if m["growing"] else "no")
    fig("groups" if swiss else "buckets", m["buckets"])
    fig("empty groups" if swiss else "empty buckets", m["empty_buckets"])
    fig("tables", m["tables"])
    fig("overflow buckets", m["overflow_buckets"])
    fig("spare overflow", m["spare_overflow_buckets"])
    fig("old buckets", m["old_buckets"])
    fig("layout", m["layout"])
    fig("fill", fill_text(m["count"], m["capacity_slots"]))
    if not re.search(r"\bat %s\b" % re.escape(m["address"]), screen):
        probs.append("address %s not shown" % m["address"])
    if m["type"] not in screen:
        probs.append("type %s not shown" % m["type"])
    flat = unwrap(screen, 10)
    if m["roots"] and not re.search(r"^ path\s+%s" % re.escape(m["roots"][0]), flat, re.M):
        probs.append("path %s not shown whole at the top" % m["roots"][0])
    keys = ", ".join(m.get("sample_keys") or [])
    if keys and keys not in flat:
        probs.append("keys %s not shown" % keys)
    return probs


def held_by_problems(screen, m):
    """The bottom of the detail screen: every path of the JSON map m,
    whole (a path too long for a line goes on, two columns further in)."""
    flat = unwrap(screen, 10)
    return ["holder %s not listed whole" % root for root in m["roots"] if root not in flat] + \
        ([] if "held by" in screen or not m["roots"] else ["no 'held by'"])


def storage_problems(screen, m):
    """The picture and the histogram for JSON map m."""
    probs = []
    swiss = m["layout"] == "swiss"
    lines = screen.split("\n")
    try:
        at = next(i for i, l in enumerate(lines) if "Storage:" in l)
    except StopIteration:
        return ["no Storage section"]
    head = lines[at]
    unit = "groups" if swiss else "buckets"
    if m["buckets"] and not re.search(r"Storage: %d %s\b" % (m["buckets"], unit), head):
        probs.append("storage header %r does not say %d %s" % (head.strip(), m["buckets"], unit))
    if swiss and m["tables"] and "in %d tables" % m["tables"] not in head and m["tables"] > 1:
        probs.append("storage header %r does not name %d tables" % (head.strip(), m["tables"]))
    title = "Live slots per group" if swiss else "Overflow chain lengths"
    if title not in head:
        probs.append("no histogram title %r" % title)
    frame = lines[at + 1] if at + 1 < len(lines) else ""
    if not re.search(r"[┌+][─-]", frame) or "1 cell = " not in frame:
        probs.append("no picture frame with its scale: %r" % frame)
    hist = []
    for l in lines[at + 1:at + 12]:
        r = HIST_RE.search(l)
        if r:
            hist.append((r.group(1), int(r.group(2))))
    labels = [h[0] for h in hist]
    want = ["0", "1", "2", "3", "4", "5", "6", "7", "8" if swiss else "8+"]
    if labels != want:
        probs.append("histogram rows %s, want %s" % (labels, want))
    elif m["buckets"]:
        total = sum(h[1] for h in hist)
        if total != m["buckets"]:
            probs.append("histogram sums to %d, not %d %s" % (total, m["buckets"], unit))
        if swiss and hist[0][1] != m["empty_buckets"]:
            probs.append("groups with 0 live %d, JSON empty %d" % (hist[0][1], m["empty_buckets"]))
    # Something is drawn in the picture: the map has live slots or tombstones.
    body = "".join(l[2:l.find("|", 2) if "|" in l[2:] else None]
                   for l in lines[at + 2:at + 9])
    if (m["live_slots"] or m["tombstones"]) and not re.search(r"[^\s│|]", body):
        probs.append("the picture is empty")
    return probs


def sgr_colours(screen_e):
    """Colour parameters in the SGR sequences of capture-pane -e output."""
    found = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", screen_e):
        for p in params.split(";"):
            if p.isdigit() and (30 <= int(p) <= 49 or 90 <= int(p) <= 107) and int(p) not in (39, 49):
                found.add(p)
    return found


def terminal_restored(tm, exit_code, interrupted=False):
    """Problems with the terminal after mapscan exited with exit_code.

    interrupted: Ctrl-C stops the shell's command list too, so the status
    is asked for at the next prompt."""
    probs = []
    if interrupted:
        tm.wait(lambda s: s.rstrip().endswith("$") and tm.fmt("#{alternate_on}") == "0",
                "the prompt after Ctrl-C")
        tm.run('echo "EXIT=$?"')
    s = tm.wait(lambda s: re.search(r"^EXIT=\d+", s, re.M), "mapscan to exit")
    code = re.search(r"^EXIT=(\d+)", s, re.M).group(1)
    if code != str(exit_code):
        probs.append("exit status %s, want %d" % (code, exit_code))
    for f, want in (("#{alternate_on}", "0"), ("#{cursor_flag}", "1"),
                    ("#{mouse_any_flag}", "0"), ("#{keypad_flag}", "0")):
        got = tm.fmt(f)
        if got != want:
            probs.append("%s is %s after exit, want %s" % (f, got, want))
    tm.run("clear; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|icrnl)' | tr '\\n' ' ';"
           " echo STTY-END")
    s = tm.wait(lambda s: re.search(r"STTY-END\s*\n", s), "stty")
    modes = re.search(r"^(.*)STTY-END", s, re.M).group(1).split()
    for mode in ("icanon", "echo", "icrnl"):
        if mode not in modes:
            probs.append("stty: %s is %s" % (mode, "off" if "-" + mode in modes else "missing"))
    if not s.rstrip().endswith("$"):
        probs.append("no shell prompt")
    # The shell reads lines again: type one and see it echoed and run.
    tm.run("echo TYPED-$((6*7))")
    try:
        tm.wait(lambda s: "TYPED-42" in s and "echo TYPED" in s, "the shell to echo and run a line",
                timeout=10)
    except Failure:
        probs.append("the shell does not echo or run a typed line")
    tm.run("clear")
    return probs


# ----- the checks -------------------------------------------------------------

class Suite:
    def __init__(self, args):
        self.mapscan = os.path.abspath(args.mapscan)
        self.r = Report(args.k)
        self.work = args.keep or tempfile.mkdtemp(prefix="mapscan-tui-")
        os.makedirs(self.work, exist_ok=True)
        self.keep = bool(args.keep)

    def samples(self):
        out = []
        for n in sorted(os.listdir(SAMPLES)):
            src = os.path.join(SAMPLES, n)
            if not os.path.isfile(os.path.join(src, "core.xz")):
                continue
            d = os.path.join(self.work, "samples", n)
            os.makedirs(d, exist_ok=True)
            files = {}
            for f in ("exe", "core"):
                files[f] = os.path.join(d, f)
                if not os.path.exists(files[f]):
                    with lzma.open(os.path.join(src, f + ".xz")) as i, open(files[f], "wb") as o:
                        shutil.copyfileobj(i, o)
            os.chmod(files["exe"], 0o755)
            out.append((n, files["exe"], files["core"]))
        return out

    def mapscan_out(self, args):
        p = subprocess.run([self.mapscan] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True, timeout=900)
        return p

    def tui_command(self, exe, core, env=""):
        return "%s %s --tui --exe %s %s; echo \"EXIT=$?\"" % (env, self.mapscan, exe, core)

    def run(self):
        if not shutil.which("tmux"):
            self.r.check("tmux is installed", "tmux not found (apt-get install tmux)")
            return
        self.not_a_terminal()
        samples = self.samples()
        if not samples:
            self.r.check("samples", "no samples in " + SAMPLES)
        for name, exe, core in samples:
            for phase in (self.browse, self.ascii, self.signals):
                try:
                    phase(name, exe, core)
                except Failure as e:
                    self.r.check("%s: %s" % (name, phase.__name__), str(e))

    def not_a_terminal(self):
        # A pipe is not a terminal: a usage error, before any analysis.
        p = self.mapscan_out(["--tui", "/nonexistent/core"])
        self.r.check("--tui in a pipe is a usage error",
                     [] if p.returncode == 2 and "--tui needs a terminal" in p.stderr
                     and p.stderr.count("\n") == 1 and not p.stdout
                     else "exit %d, stderr %r" % (p.returncode, p.stderr))
        p = self.mapscan_out(["--tui", "--json", "/nonexistent/core"])
        doc = None
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            pass
        self.r.check("--tui with --json is a usage error",
                     [] if p.returncode == 2 and doc and doc.get("error", {}).get("code") == 2
                     else "exit %d, stdout %r" % (p.returncode, p.stdout))

    def expectations(self, exe, core):
        p = self.mapscan_out(["--json", "--exe", exe, core])
        if p.returncode:
            raise Failure("mapscan --json failed: %s" % p.stderr)
        doc = json.loads(p.stdout)
        t = self.mapscan_out(["--top", "0", "--exe", exe, core])
        summary = re.search(r"^\d+ maps? found, (.*) retained, (.*) reclaimable", t.stdout, re.M)
        if not summary:
            raise Failure("no summary line in the text output:\n" + t.stdout)
        return doc, summary.group(1), summary.group(2)

    def owner_of(self, g, maps):
        """What the owners screen shows for JSON group g: its pattern, or
        for a group of one map that map's path."""
        if not g["reachable"]:
            return "(unreachable)"
        if g["maps"] == 1:
            m = next((m for m in maps if m["address"] == g["biggest_map"]), None)
            return m["roots"][0] if m and m["roots"] else g["pattern"]
        return g["pattern"]

    def browse(self, name, exe, core):
        r = self.r
        doc, retained, reclaimable = self.expectations(exe, core)
        maps, groups, summ = doc["maps"], doc["groups"], doc["summary"]
        reach = [m for m in maps if m["reachable"]]
        rgroups = [g for g in groups if g["reachable"]]
        tm = Tmux(self.work, name="browse")
        try:
            tm.run(self.tui_command(exe, core, "LANG=C.UTF-8 LC_ALL=C.UTF-8"))
            s = tm.wait(is_groups, "the owners screen")
            lines = s.split("\n")

            # Header: what was analysed and the totals, counted as the
            # text and JSON count them.
            probs = []
            if doc["go"]["version"] not in lines[0]:
                probs.append("Go version %s not in the title %r" % (doc["go"]["version"], lines[0]))
            if "%s maps" % doc["go"]["map_layout"] not in lines[0]:
                probs.append("layout not in the title")
            want = "%d maps, %s retained, %s reclaimable" % (summ["maps"], retained, reclaimable)
            if want not in lines[1]:
                probs.append("totals %r, want %r" % (lines[1].strip(), want))
            r.check("%s: header shows Go version, source and totals" % name, probs)

            # The owners: JSON's groups, biggest first, the unreachable
            # ones hidden and counted.
            rows = group_rows(s)
            probs = []
            if len(rows) != min(len(rgroups), 19):
                probs.append("%d rows for %d reachable groups" % (len(rows), len(rgroups)))
            for row, g in zip(rows, rgroups):
                if not shows(row["owner"], self.owner_of(g, maps)) or row["maps"] != str(g["maps"]) \
                        or row["reclaim"] != human_size(g["reclaimable_bytes"]) or not shows(row["type"], g["type"]):
                    probs.append("row %s, want %s" % (row, g))
                    break
            hidden = len(groups) - len(rgroups)
            status = "%d of %d groups" % (len(rgroups), len(rgroups)) + \
                (" (%d unreachable: u)" % hidden if hidden else "")
            if status not in s:
                probs.append("status does not say %r" % status)
            if "sorted by reclaimable, largest first" not in s:
                probs.append("status does not say the order")
            if any(len(l) > 80 for l in lines):
                probs.append("a line wider than 80 columns")
            if "SHARE" in s:
                probs.append("SHARE shown at 80 columns")
            r.check("%s: opens on the owners, as JSON groups them" % name, probs)

            # u shows the groups nothing reaches, and hides them again.
            if hidden:
                tm.type("uG")
                s = tm.wait(lambda s: "%d of %d groups (with unreachable: u)" % (len(groups), len(groups)) in s,
                            "u: unreachable groups")
                rows = group_rows(s)
                r.check("%s: u shows the owners nothing reaches, last" % name,
                        [] if rows and all("(unreachable)" == x["owner"] for x in rows[-hidden:])
                        and not any("(unreachable)" == x["owner"] for x in rows[:-hidden])
                        else "rows %s" % rows[-3:])
                tm.type("ug")
                tm.wait(lambda s: status in s, "u again: hidden")

            # Drill down into an owner of several maps, then into one map.
            k, g = next(((k, g) for k, g in enumerate(rgroups) if g["maps"] > 1), (None, None))
            if g is None:
                raise Failure("no group of several maps in %s" % name)
            members = [m for m in maps if m.get("group") == g["id"]]
            tm.type("j" * k)
            tm.keys("Enter")
            s = tm.wait(lambda s: is_maps(s) and "%d of %d maps" % (len(members), len(members)) in s,
                        "the owner's maps")
            rows = list_rows(s)
            probs = []
            if "%s: %d maps" % (g["pattern"], g["maps"]) not in s:
                probs.append("no scope line for %s" % g["pattern"])
            want = [m["roots"][0] for m in members][:19]
            if len(rows) != len(want) or not all(shows(x["path"], w) for x, w in zip(rows, want)):
                probs.append("paths %s, want %s" % ([x["path"] for x in rows], want))
            if "TYPE" in s.split("\n")[2]:
                probs.append("a type column in one owner's list")
            r.check("%s: Enter lists the owner's maps" % name, probs)
            tm.keys("Enter")
            s = tm.wait(is_detail, "the member's detail")
            m0 = members[0]
            probs = detail_problems(s, m0)
            if not re.search(r"^ owner\s+%s: %d maps" % (re.escape(g["pattern"]), g["maps"]), s, re.M):
                probs.append("no owner line")
            r.check("%s: Enter on a member opens it, with its owner and keys" % name, probs)
            tm.keys("G")
            s = tm.wait(lambda s: "held by" in s, "the bottom of the detail")
            r.check("%s: the detail lists every path, whole" % name, held_by_problems(s, m0))
            tm.keys("q")
            tm.wait(lambda s: is_maps(s) and g["pattern"] in s, "back to the owner's maps")
            tm.keys("q")
            s = tm.wait(is_groups, "back to the owners")
            r.check("%s: q goes back to the owners" % name, [] if status in s else "status: %s" % s)

            # m: every map.
            tm.type("m")
            s = tm.wait(is_maps, "every map")
            rows = list_rows(s)
            probs = []
            top = reach[0]
            lost = len(maps) - len(reach)
            mstatus = "%d of %d maps" % (len(reach), len(reach)) + (" (%d unreachable: u)" % lost if lost else "")
            if mstatus not in s:
                probs.append("status does not say %r" % mstatus)
            if len(rows) != min(len(reach), 24 - 5):
                probs.append("%d rows for %d maps" % (len(rows), len(reach)))
            if rows and (not shows(rows[0]["path"], top["roots"][0])
                         or rows[0]["reclaim"] != human_size(top["reclaimable_bytes"])
                         or rows[0]["count"] != str(top["count"])
                         or rows[0]["fill"] != fill_text(top["count"], top["capacity_slots"])):
                probs.append("first row %s, want %s" % (rows[0], top["roots"][0]))
            rec = [human_bytes(x["reclaim"]) for x in rows]
            if rec != sorted(rec, reverse=True):
                probs.append("not sorted by reclaimable: %s" % rec)
            if any(len(l) > 80 for l in s.split("\n")):
                probs.append("a line wider than 80 columns")
            if "CAPACITY" in s:
                probs.append("CAPACITY shown at 80 columns")
            r.check("%s: m lists every map, biggest offenders first" % name, probs)

            # Sort: 3 = COUNT, then r reverses it, then s the next column.
            tm.type("3")
            s = tm.wait(lambda s: "sorted by count, largest first" in s, "sort by count")
            counts = [int(x["count"]) for x in list_rows(s)]
            r.check("%s: sort by count reorders" % name,
                    [] if counts and counts == sorted(counts, reverse=True)
                    and counts[0] == max(m["count"] for m in reach) and "▼COUNT" in s
                    else "counts %s" % counts)
            tm.type("r")
            s = tm.wait(lambda s: "sorted by count, smallest first" in s, "reverse")
            counts = [int(x["count"]) for x in list_rows(s)]
            r.check("%s: r reverses the order" % name,
                    [] if counts == sorted(counts) and counts[0] == min(m["count"] for m in reach)
                    and "▲COUNT" in s else "counts %s" % counts)
            tm.type("s")
            s = tm.wait(lambda s: "sorted by capacity" in s, "s: next column")
            fills = [x["fill"] for x in list_rows(s)]
            want = [fill_text(m["count"], m["capacity_slots"]) for m in
                    sorted(reach, key=lambda m: (-m["capacity_slots"], -m["reclaimable_bytes"],
                                                 -m["retained_bytes"], int(m["address"], 16)))][:len(fills)]
            r.check("%s: s moves the sort to the next column" % name,
                    [] if fills == want else "fills %s, want %s" % (fills, want))
            tm.type("6")
            s = tm.wait(lambda s: "sorted by path, A to Z" in s, "sort by path")
            paths = [x["path"] for x in list_rows(s)]
            shown = sorted((m["roots"][0] for m in reach if m["roots"]))[:len(paths)]
            r.check("%s: sort by path sorts by the path shown" % name,
                    [] if len(paths) == len(shown) and all(shows(p, w) for p, w in zip(paths, shown))
                    else "paths %s, want %s" % (paths, shown))

            # Filter as you type.
            want = [m for m in reach if "shards" in (m["type"] + "\n" + "\n".join(m["roots"])).lower()]
            tm.type("/sha")
            s = tm.wait(lambda s: "Filter (type or path): sha " in s, "the filter")
            tm.type("rds")
            s = tm.wait(lambda s: "Filter (type or path): shards" in s
                        and "%d of %d maps" % (len(want), len(reach)) in s, "the filter")
            rows = list_rows(s)
            r.check("%s: / filter narrows to matching rows as you type" % name,
                    [] if want and len(rows) == len(want) and all("shards" in x["path"] for x in rows)
                    else "%d rows, want %d: %s" % (len(rows), len(want), rows))
            tm.keys("Enter")
            s = tm.wait(lambda s: "Filter (type" not in s and 'match "shards"' in s, "keep filter")
            tm.keys("Escape")
            s = tm.wait(lambda s: mstatus + ";" in s, "clear filter")
            r.check("%s: Esc clears the filter" % name,
                    [] if len(list_rows(s)) == min(len(reach), 19) else "rows: %d" % len(list_rows(s)))

            tm.type("b")
            s = tm.wait(lambda s: "sorted by reclaimable, largest first" in s, "b: biggest")
            rows = list_rows(s)
            r.check("%s: b jumps back to the biggest offenders" % name,
                    [] if rows and shows(rows[0]["path"], top["roots"][0])
                    else "first row %s" % (rows[:1],))

            # u in the list of every map: the maps nothing reaches too.
            if lost:
                tm.type("uG")
                s = tm.wait(lambda s: "%d of %d maps (with unreachable: u)" % (len(maps), len(maps)) in s,
                            "u: unreachable maps")
                r.check("%s: u shows the maps nothing reaches" % name,
                        [] if "(unreachable)" in s or "(garbage)" in s
                        else "no unreachable row:\n%s" % s)
                tm.type("ug")
                tm.wait(lambda s: mstatus in s, "u again")

            # Help.
            tm.type("?")
            s = tm.wait(lambda s: "Owners:" in s and "One map" in s, "help")
            r.check("%s: ? shows the keys" % name,
                    [] if "filter by type or path" in s and "show/hide what nothing reaches" in s else s)
            tm.keys("q")
            tm.wait(is_maps, "help to close")

            # Detail of the biggest offender.
            tm.keys("Enter")
            s = tm.wait(is_detail, "the detail screen")
            r.check("%s: detail figures equal the JSON (80x24)" % name, detail_problems(s, top))
            r.check("%s: detail draws the storage picture and histogram (80x24)" % name,
                    storage_problems(s, top))
            r.check("%s: detail fits 80x24" % name,
                    [] if all(len(l) <= 80 for l in s.split("\n")) and len(s.split("\n")) <= 25
                    else "too wide")
            scale80 = re.search(r"1 cell = up to (\d+)", s)

            # Resize while in the detail screen, then the list.
            tm.resize(120, 40)
            s = tm.wait(lambda s: is_detail(s) and len(s.rstrip("\n").split("\n")) >= 39,
                        "the detail redrawn at 120x40")
            scale120 = re.search(r"1 cell = up to (\d+)", s)
            probs = detail_problems(s, top) + storage_problems(s, top)
            if scale80 and scale120 and int(scale120.group(1)) >= int(scale80.group(1)):
                probs.append("picture not finer at 120x40 (%s vs %s buckets a cell)"
                             % (scale120.group(1), scale80.group(1)))
            if not any(len(l) > 80 for l in s.split("\n")):
                probs.append("nothing drawn past column 80")
            r.check("%s: resize to 120x40 redraws the detail" % name, probs)
            tm.keys("G")
            s = tm.wait(lambda s: "held by" in s, "the bottom of the detail")
            r.check("%s: the detail lists every path, whole (120x40)" % name, held_by_problems(s, top))
            tm.keys("q")
            s = tm.wait(lambda s: is_maps(s) and len(s.rstrip("\n").split("\n")) >= 39, "list at 120x40")
            rows = list_rows(s)
            r.check("%s: resize to 120x40 redraws the list" % name,
                    [] if len(rows) == min(len(reach), 40 - 5) and top["type"] in s
                    else "%d rows" % len(rows))

            # 200x60: room for every name, whole.
            tm.resize(200, 60)
            s = tm.wait(lambda s: is_maps(s) and len(s.rstrip("\n").split("\n")) >= 59, "list at 200x60")
            rows = list_rows(s)
            probs = []
            if len(rows) != min(len(reach), 60 - 5):
                probs.append("%d rows" % len(rows))
            # A path longer than its column (a map key's text makes some
            # long) keeps its end after "…"; every other name is whole.
            widest = max((len(x["path"]) for x in rows), default=0)
            # (as the list shows them: without import paths)
            firsts = [re.sub(r"[\w.\-]+/", "", m["roots"][0]) for m in reach if m.get("roots")]

            def too_long(shown):
                tail = re.sub(r" \(\+\d+(, cons\.)?\)$| \(cons\.\)$", "", shown)[1:]
                return shown.startswith("…") and any(
                    f.endswith(tail) and len(f) > widest for f in firsts)
            cut = [x["path"] for x in rows if "…" in x["path"] and not too_long(x["path"])] + \
                [x["type"] for x in rows if "…" in x["type"]]
            if cut:
                probs.append("names cut at 200 columns: %s" % cut[:3])
            r.check("%s: at 200x60 the list shows every name that fits whole" % name, probs)
            tm.keys("q")
            s = tm.wait(lambda s: is_groups(s) and "SHARE" in s, "the owners at 200x60")
            rows = group_rows(s)
            probs = []
            if len(rows) != min(len(rgroups), 55):
                probs.append("%d rows for %d groups" % (len(rows), len(rgroups)))
            longest = max(len(self.owner_of(g, maps)) for g in rgroups[:55])
            longest_type = max(len(g["type"] or "(type unknown)") for g in rgroups[:55])
            # Whole when the rows' names fit beside the figures (200 - 44 - 1
            # columns, 2 between them); else the owner shortened, the type whole.
            whole = longest + 2 + longest_type <= 155
            for row, g in zip(rows, rgroups):
                want, wtype = self.owner_of(g, maps), g["type"] or "(type unknown)"
                if not shows(row["owner"], want) or row["type"] != wtype or \
                        (whole and row["owner"] != want):
                    probs.append("row %s, want %s and %s whole" % (row, want, wtype))
                    break
                if g["reachable"] and summ["reclaimable_bytes"] and \
                        row["share"] != "%.1f%%" % (100.0 * g["reclaimable_bytes"] / summ["reclaimable_bytes"]):
                    probs.append("share %s for %s" % (row["share"], g))
                    break
            r.check("%s: at 200x60 the owners show every name that fits whole, with SHARE" % name, probs)
            tm.resize(80, 24)
            s = tm.wait(lambda s: is_groups(s) and len(s.rstrip("\n").split("\n")) <= 24
                        and all(len(l) <= 80 for l in s.split("\n")), "owners back at 80x24")

            # The mouse wheel (an X10 report, as the terminal would send it)
            # in the list of every map: three rows down, then open what is
            # selected.
            tm.type("m")
            s = tm.wait(is_maps, "every map")
            rows = list_rows(s)
            tm.type("\x1b[M" + chr(32 + 65) + chr(32 + 11) + chr(32 + 11))
            time.sleep(0.3)
            tm.keys("Enter")
            s = tm.wait(is_detail, "detail after the wheel")
            # The list's default order is the JSON's (reclaimable, then
            # retained, then address).
            want = reach[3] if len(reach) > 3 and len(rows) > 3 else None
            r.check("%s: mouse wheel scrolls the list" % name,
                    [] if want and "at %s" % want["address"] in s
                    and shows(rows[3]["path"], want["roots"][0])
                    else "detail of the 4th row expected:\n%s" % s)
            tm.keys("Escape")
            tm.wait(is_maps, "back to the list")

            # Colours in a terminal that has them.
            cols = sgr_colours(tm.screen(escapes=True))
            r.check("%s: colours when the terminal has them" % name,
                    [] if cols else "no colour in the SGR sequences")

            tm.keys("q")
            tm.wait(is_groups, "back to the owners")
            tm.keys("q")
            r.check("%s: q quits and gives the terminal back" % name, terminal_restored(tm, 0))
        finally:
            tm.kill()

    def ascii(self, name, exe, core):
        r = self.r
        doc = self.expectations(exe, core)[0]
        top = doc["maps"][0]
        tm = Tmux(self.work, name="ascii")
        try:
            tm.run(self.tui_command(exe, core, "LANG=C LC_ALL=C NO_COLOR=1"))
            s = tm.wait(is_groups, "the owners screen")
            e = tm.screen(escapes=True)
            probs = []
            if any(ord(c) > 127 for c in s):
                probs.append("non-ASCII on the screen: %r" % sorted({c for c in s if ord(c) > 127}))
            if sgr_colours(e):
                probs.append("colours despite NO_COLOR: %s" % sorted(sgr_colours(e)))
            if "vRECLAIM" not in s:
                probs.append("no ASCII sort mark")
            if not re.search(r"\x1b\[[0-9;]*7[;m]", e):
                probs.append("no reverse video for the header and selection")
            r.check("%s: list in ASCII and monochrome (LANG=C NO_COLOR=1)" % name, probs)
            tm.keys("Enter")
            tm.wait(is_maps, "the owner's maps")
            tm.keys("Enter")
            s = tm.wait(is_detail, "the detail screen")
            e = tm.screen(escapes=True)
            probs = detail_problems(s, top) + storage_problems(s, top)
            if any(ord(c) > 127 for c in s):
                probs.append("non-ASCII on the screen: %r" % sorted({c for c in s if ord(c) > 127}))
            if sgr_colours(e):
                probs.append("colours despite NO_COLOR")
            if "+-" not in s or "#" not in s:
                probs.append("no ASCII frame or bars")
            r.check("%s: detail in ASCII and monochrome" % name, probs)
            if top["layout"] == "classic":
                tm.type("c")
                s = tm.wait(lambda s: "longest overflow chain" in s, "the chain view")
                r.check("%s: c shows overflow chains in the picture" % name,
                        [] if (top["overflow_buckets"] == 0) or re.search(r"\|[^|]*[1-7][^|]*\|", s)
                        else "no chain digit in the picture")
            tm.keys("Escape")
            tm.wait(is_maps, "back to the list")
            tm.keys("Escape")     # back to the owners
            tm.wait(is_groups, "back to the owners")
            tm.keys("Escape")     # no filter: Esc quits
            r.check("%s: Esc quits and gives the terminal back" % name, terminal_restored(tm, 0))
        finally:
            tm.kill()

    def signals(self, name, exe, core):
        r = self.r
        for sig, how in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")):
            tm = Tmux(self.work, name="sig")
            try:
                tm.run(self.tui_command(exe, core, "LANG=C.UTF-8"))
                tm.wait(is_groups, "the owners screen")
                tm.keys("Enter")
                tm.wait(is_maps, "the owner's maps")
                tm.keys("Enter")
                tm.wait(is_detail, "the detail screen")
                if sig == signal.SIGTERM:
                    pid = child_named(tm.shell_pid(), "mapscan")
                    if not pid:
                        raise Failure("cannot find the mapscan process")
                    os.kill(pid, signal.SIGTERM)
                else:
                    tm.keys("C-c")
                r.check("%s: %s in the TUI gives the terminal back" % (name, how),
                        terminal_restored(tm, 128 + sig, sig == signal.SIGINT))
            finally:
                tm.kill()

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("-k", metavar="SUBSTR", help="run only the checks whose name has SUBSTR")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
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
