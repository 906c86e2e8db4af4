#!/usr/bin/env python3
"""mapscan on a big real program: gopls after an LSP session (make bench-real).

    python3 tests/bench_real.py [--mapscan build/mapscan] [--dir build/bench-real]
                                [--heap-mb 1024] [--session-minutes 20]
                                [--timeout 1800] [--samples 6]

Issue 9's acceptance run, not part of make test (it takes minutes and a few
GiB of disk).  It

  1. builds gopls (golang.org/x/tools/gopls@GOPLS, with the installed Go)
     and copies the Delve source tree (github.com/go-delve/delve@DELVE, from
     the module proxy) to a scratch workspace;
  2. runs gopls with its debug server and drives a real LSP session over
     that workspace (initialize, didOpen of every package's files, document
     symbols, hover, definition, references, completion, workspace symbols,
     edits; diagnostics arrive as they do in an editor) until gopls's own
     MemStats.HeapInuse (its /memory page) reaches --heap-mb, or
     --session-minutes pass;
  3. reads HeapInuse once more and kills gopls with SIGABRT
     (GOTRACEBACK=crash: the kernel writes the core);
  4. reports the core's size (apparent and stored) and the time to read it
     once from the page cache, then runs mapscan --top 20 and mapscan --json
     on it, each under --timeout, with wall and CPU time and peak RSS (total,
     file-backed and anonymous, sampled from /proc), the number of maps and
     mapscan's heap_in_use_bytes next to gopls's HeapInuse;
  5. cross-checks --samples maps with Delve (dlv core; `dlv` on PATH or
     ~/go/bin/dlv): half found through globals, whose path Delve evaluates
     itself (print len("pkg/path".var.field)), half deep in the heap, whose
     header address Delve reads as the runtime's map header (maps.Map.used,
     runtime.hmap.count), and compares Delve's count with mapscan's.

Acceptance (issue 9): mapscan finishes in at most 10x the read-once time,
its peak RSS is at most 25% of the core, and every sampled count equals
Delve's.  The last lines say which of these hold.  The exit status is 0
when everything was measured, whatever the figures, 1 when a step could not
be done (a build, the session, the core, Delve), and 2 when mapscan failed or
timed out (the figures measured so far are printed all the same).

Everything stays in --dir: gopls, the workspace, the core (GiBs),
mapscan's outputs, the LSP log, dlv's script and output.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOPLS = "v0.23.0"
DELVE = "v1.27.2"


def log(msg):
    print(msg, flush=True)


def mib(n):
    return "%.0f MiB" % (n / 2**20)


class Failed(Exception):
    pass


# ----- the LSP client ---------------------------------------------------------

class LSP:
    """A minimal LSP client over a child's stdin/stdout."""

    def __init__(self, proc, logf):
        self.proc = proc
        self.logf = logf
        self.next_id = 0
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.responses = {}
        self.diagnostics = {}  # uri -> count
        self.progress_active = set()
        self.progress_done = 0
        self.closed = False
        self.reader = threading.Thread(target=self.read_loop, daemon=True)
        self.reader.start()

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read_loop(self):
        f = self.proc.stdout
        try:
            while True:
                n = None
                while True:
                    line = f.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                body = f.read(n)
                self.dispatch(json.loads(body))
        except (EOFError, ValueError, OSError):
            with self.lock:
                self.closed = True
                self.cond.notify_all()

    def dispatch(self, msg):
        if "id" in msg and "method" in msg:  # a request from the server
            m = msg["method"]
            if m == "workspace/configuration":
                result = [{"staticcheck": False, "semanticTokens": True} for _ in msg["params"]["items"]]
            else:  # window/workDoneProgress/create, client/registerCapability, ...
                result = None
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            return
        with self.lock:
            if "id" in msg:
                self.responses[msg["id"]] = msg
                self.cond.notify_all()
            elif msg.get("method") == "textDocument/publishDiagnostics":
                p = msg["params"]
                self.diagnostics[p["uri"]] = len(p.get("diagnostics") or [])
            elif msg.get("method") == "$/progress":
                v = msg["params"].get("value") or {}
                tok = json.dumps(msg["params"].get("token"))
                if v.get("kind") == "begin":
                    self.progress_active.add(tok)
                elif v.get("kind") == "end":
                    self.progress_active.discard(tok)
                    self.progress_done += 1
                self.cond.notify_all()
            elif msg.get("method") == "window/logMessage":
                self.logf.write("log: %s\n" % msg["params"].get("message", "")[:300])

    def request(self, method, params, timeout=600):
        with self.lock:
            self.next_id += 1
            rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self.lock:
            while rid not in self.responses:
                if self.closed:
                    raise Failed("gopls closed the connection during %s" % method)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failed("gopls did not answer %s in %ds" % (method, timeout))
                self.cond.wait(left)
            msg = self.responses.pop(rid)
        if "error" in msg:
            self.logf.write("error %s: %s\n" % (method, msg["error"]))
            return None
        return msg.get("result")

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_idle(self, timeout=600):
        """Until no work-done progress is open (gopls's loading and
        diagnostics passes report through it)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.progress_active and not self.closed and time.monotonic() < deadline:
                self.cond.wait(1)


def heap_inuse(debug_addr):
    """gopls's runtime.MemStats.HeapInuse, from its debug server's /memory."""
    with urllib.request.urlopen("http://%s/memory" % debug_addr, timeout=60) as r:
        page = r.read().decode(errors="replace")
    m = re.search(r"In use bytes</td><td class=\"value\">([\d,]+)<", page)
    if not m:
        raise Failed("no HeapInuse on gopls's /memory page")
    return int(m.group(1).replace(",", ""))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def go_files(ws):
    out = []
    for dirpath, dirnames, filenames in os.walk(ws):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")) and d != "testdata")
        out += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".go")]
    return out


IDENT = re.compile(r"\b(func|type)\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)")


def session(lsp, ws, debug_addr, heap_goal, minutes, logf):
    """Drive gopls like an editor until its heap reaches heap_goal bytes."""
    uri = lambda p: "file://" + p
    t_end = time.monotonic() + minutes * 60
    lsp.request("initialize", {
        "processId": os.getpid(), "rootUri": uri(ws),
        "workspaceFolders": [{"uri": uri(ws), "name": "delve"}],
        "capabilities": {"window": {"workDoneProgress": True},
                         "textDocument": {"hover": {"contentFormat": ["markdown"]},
                                          "completion": {"completionItem": {"snippetSupport": True}},
                                          "publishDiagnostics": {}},
                         "workspace": {"configuration": True, "workspaceFolders": True}},
        "initializationOptions": {"semanticTokens": True},
    })
    lsp.notify("initialized", {})
    files = go_files(ws)
    texts = {}
    state = {"requests": 0, "opened": 0, "peak": 0}

    def check_heap():
        h = heap_inuse(debug_addr)
        state["peak"] = max(state["peak"], h)
        return h

    def done():
        return check_heap() >= heap_goal or time.monotonic() > t_end or lsp.closed

    # Open every file, as an editor restoring a big session does, and ask
    # what an editor asks of each.
    rounds = 0
    while not done():
        rounds += 1
        for i, path in enumerate(files):
            if path not in texts:
                with open(path, errors="replace") as f:
                    texts[path] = f.read()
                lsp.notify("textDocument/didOpen", {"textDocument": {
                    "uri": uri(path), "languageId": "go", "version": 1, "text": texts[path]}})
                state["opened"] += 1
            doc = {"uri": uri(path)}
            lines = texts[path].split("\n")
            lsp.request("textDocument/documentSymbol", {"textDocument": doc})
            state["requests"] += 1
            for n, line in enumerate(lines):
                m = IDENT.search(line)
                if not m or (n + rounds) % 7:
                    continue
                pos = {"line": n, "character": m.start(2)}
                for method in ("textDocument/hover", "textDocument/definition", "textDocument/references",
                               "textDocument/implementation"):
                    params = {"textDocument": doc, "position": pos}
                    if method.endswith("references"):
                        params["context"] = {"includeDeclaration": True}
                    lsp.request(method, params)
                    state["requests"] += 1
                lsp.request("textDocument/completion", {"textDocument": doc,
                                                        "position": {"line": n, "character": len(line)}})
                state["requests"] += 1
            if i % 10 == 0:
                lsp.request("textDocument/semanticTokens/full", {"textDocument": doc})
                for q in ("Proc", "Thread", "Eval", "Variable", "Breakpoint", "DWARF", "Reader", "Server"):
                    lsp.request("workspace/symbol", {"query": q})
                    state["requests"] += 1
                h = check_heap()
                logf.write("heap %d after %d files, %d requests\n" % (h, state["opened"], state["requests"]))
                logf.flush()
                if h >= heap_goal or time.monotonic() > t_end or lsp.closed:
                    break
            if i % 50 == 49:
                # An edit in a package many depend on: gopls type-checks
                # their reverse dependencies again.
                lsp.notify("textDocument/didChange", {
                    "textDocument": {"uri": doc["uri"], "version": rounds * 1000 + i},
                    "contentChanges": [{"text": texts[path] + "\n// edited %d\n" % i}]})
                lsp.wait_idle(300)
        log("  session: round %d, %d files open, %d requests, HeapInuse %s (peak %s)"
            % (rounds, state["opened"], state["requests"], mib(check_heap()), mib(state["peak"])))
    return state


# ----- measuring mapscan ------------------------------------------------------

def run_measured(cmd, out, err, timeout):
    """Run cmd; return dict(secs, cpu, rss, rss_file, rss_anon (KiB peaks), rc
    (None on timeout))."""
    t0 = time.monotonic()
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
    peak = {"VmRSS": 0, "RssFile": 0, "RssAnon": 0}
    rc = None
    while True:
        wpid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if wpid:
            rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            break
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    k = line.split(":")[0]
                    if k in peak:
                        peak[k] = max(peak[k], int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass
        if time.monotonic() - t0 > timeout:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            rc = None
            break
        time.sleep(0.05)
    p.returncode = rc if rc is not None else -9
    return dict(secs=time.monotonic() - t0, cpu=ru.ru_utime + ru.ru_stime,
                rss=max(ru.ru_maxrss, peak["VmRSS"]), rss_file=peak["RssFile"], rss_anon=peak["RssAnon"], rc=rc)


def read_once(path):
    t0 = time.monotonic()
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 22):
            pass
    return time.monotonic() - t0


# ----- Delve ---------------------------------------------------------------------

GLOBAL_PATH = re.compile(r"^([\w.\-/]+?)\.([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\d+\])*)$")


def delve_expr(root):
    """A Delve expression for a root mapscan printed as a global's path
    ("golang.org/x/tools/gopls/internal/cache.cache.m"), or None."""
    # A descent through a tree, "root{.left.right}", is the fields it names.
    root = root.replace("{", "").replace("}", "")
    if "→" in root or "(" in root or "[*]" in root or "+" in root or "<-" in root or "×" in root:
        return None
    # The package path ends at the first dot after its last slash.
    slash = root.rfind("/", 0, root.find("[") if "[" in root else len(root))
    dot = root.find(".", slash + 1)
    if dot < 0:
        return None
    pkg, rest = root[:dot], root[dot + 1:]
    if not re.match(r"^[A-Za-z_]\w*((\.[A-Za-z_]\w*)|\[\d+\])*$", rest):
        return None
    return ('"%s".%s' % (pkg, rest)) if ("/" in pkg or "." in pkg) else "%s.%s" % (pkg, rest)


def pick_samples(maps, n):
    live = [m for m in maps if m.get("reachable") is not False and isinstance(m.get("count"), int)
            and m["count"] > 0 and m.get("roots")]
    globals_, deep = [], []
    seen_pkg = set()
    for m in sorted(live, key=lambda m: -m["count"]):
        e = delve_expr(m["roots"][0])
        if e and len(globals_) < (n + 1) // 2:
            pkg = e.split(".")[0]
            if pkg not in seen_pkg:
                seen_pkg.add(pkg)
                globals_.append((m, "len(%s)" % e, "global"))
    seen_type = set()
    for m in sorted(live, key=lambda m: -m["retained_bytes"]):
        if len(deep) >= n - len(globals_):
            break
        r = m["roots"][0]
        if ("[*]" in r or "→" in r or ".(" in r) and m.get("type") not in seen_type:
            seen_type.add(m.get("type"))  # one map per type: different code, different shapes
            deep.append((m, None, "deep"))
    return globals_ + deep


def delve_check(dlv, exe, core, samples, layout, d):
    header = '(*"internal/runtime/maps.Map")(%s)).used' if layout == "swiss" else "(*runtime.hmap)(%s)).count"
    script = os.path.join(d, "dlv.init")
    with open(script, "w") as f:
        for i, (m, expr, _) in enumerate(samples):
            f.write('print "SAMPLE-%d"\n' % i)
            f.write("print %s\n" % (expr or "(" + header % m["address"]))
        f.write("exit\n")
    out = os.path.join(d, "dlv.out")
    t0 = time.monotonic()
    with open(out, "w") as o:
        p = subprocess.run([dlv, "core", exe, core, "--init", script, "--allow-non-terminal-interactive=true"],
                           stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.STDOUT, timeout=3600)
    secs = time.monotonic() - t0
    with open(out, errors="replace") as f:
        text = f.read()
    got = {}
    for i in range(len(samples)):
        m = re.search(r'"SAMPLE-%d"\n(.*)\n' % i, text)
        got[i] = m.group(1).strip() if m else None
    return got, secs, p.returncode


# ----- main ------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapscan", default=os.path.join(ROOT, "build", "mapscan"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench-real"))
    ap.add_argument("--heap-mb", type=int, default=1024, help="gopls HeapInuse to reach, MiB (default 1024)")
    ap.add_argument("--session-minutes", type=float, default=20, help="stop the session after this long")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds one mapscan run may take (default 1800)")
    ap.add_argument("--samples", type=int, default=6, help="maps to cross-check with Delve (default 6)")
    ap.add_argument("--reuse", action="store_true", help="reuse the core of an earlier run in --dir")
    a = ap.parse_args()
    mapscan = os.path.abspath(a.mapscan)
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        sys.exit("bench-real: core_pattern is %r; set it to 'core' to let the kernel write ./core" % pattern)
    dlv = shutil.which("dlv") or os.path.expanduser("~/go/bin/dlv")
    env = dict(os.environ, GOTOOLCHAIN="local", GOWORK="off", GOFLAGS="-mod=mod")
    run = os.path.join(d, "run")
    core, exe = os.path.join(run, "core"), os.path.join(d, "bin", "gopls")
    facts_path = os.path.join(d, "session.json")
    try:
        if not (a.reuse and os.path.exists(core) and os.path.exists(facts_path)):
            facts = make_core(a, d, env, run, core, exe)
            with open(facts_path, "w") as f:
                json.dump(facts, f)
        with open(facts_path) as f:
            facts = json.load(f)
    except (Failed, OSError, subprocess.SubprocessError) as e:
        log("bench-real: %s" % e)
        return 1
    return measure(a, d, mapscan, dlv, exe, core, facts)


def make_core(a, d, env, run, core, exe):
    log("gopls %s with %s" % (GOPLS, subprocess.run(["go", "version"], env=env, capture_output=True,
                                                    text=True).stdout.strip()))
    if not os.path.exists(exe):
        t0 = time.monotonic()
        p = subprocess.run(["go", "install", "golang.org/x/tools/gopls@" + GOPLS],
                           env=dict(env, GOBIN=os.path.dirname(exe), GOFLAGS=""), capture_output=True, text=True)
        if p.returncode != 0:
            raise Failed("go install gopls: " + p.stderr[-500:])
        log("  built in %.0f s" % (time.monotonic() - t0))
    p = subprocess.run(["go", "mod", "download", "-json", "github.com/go-delve/delve@" + DELVE],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise Failed("go mod download delve: " + p.stderr[-500:])
    src = json.loads(p.stdout)["Dir"]
    ws = os.path.join(d, "delve")
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(src, ws)
    for dirpath, dirnames, filenames in os.walk(ws):
        for n in dirnames + filenames:
            os.chmod(os.path.join(dirpath, n), 0o755 if n in dirnames else 0o644)
    os.chmod(ws, 0o755)
    p = subprocess.run(["go", "mod", "download"], cwd=ws, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise Failed("go mod download in the Delve tree: " + p.stderr[-500:])
    log("workspace: Delve %s, %d Go files" % (DELVE, len(go_files(ws))))

    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    port = free_port()
    debug_addr = "127.0.0.1:%d" % port
    logf = open(os.path.join(d, "lsp.log"), "w")
    errf = open(os.path.join(d, "gopls.stderr"), "wb")

    def unlimit():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    proc = subprocess.Popen([exe, "-debug=" + debug_addr, "serve"], cwd=run, env=dict(env, GOTRACEBACK="crash"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf, preexec_fn=unlimit)
    try:
        for _ in range(100):
            try:
                heap_inuse(debug_addr)
                break
            except (OSError, Failed):
                time.sleep(0.1)
        lsp = LSP(proc, logf)
        t0 = time.monotonic()
        st = session(lsp, ws, debug_addr, a.heap_mb << 20, a.session_minutes, logf)
        secs = time.monotonic() - t0
        heap = heap_inuse(debug_addr)
        os.kill(proc.pid, signal.SIGABRT)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        logf.close()
        errf.close()
    if not os.path.exists(core):
        raise Failed("gopls left no core in %s (exit %s)" % (run, proc.returncode))
    log("  session: %.0f s, %d files opened, %d requests; HeapInuse %s at the core (peak seen %s)"
        % (secs, st["opened"], st["requests"], mib(heap), mib(st["peak"])))
    return dict(heap_inuse=heap, session_seconds=secs, opened=st["opened"], requests=st["requests"], peak=st["peak"])


def measure(a, d, mapscan, dlv, exe, core, facts):
    st = os.stat(core)
    size, stored = st.st_size, st.st_blocks * 512
    read_once(core)  # into the page cache
    t_read = read_once(core)
    log("core: %s apparent, %s stored; read once from the page cache in %.2f s; gopls HeapInuse %s"
        % (mib(size), mib(stored), t_read, mib(facts["heap_inuse"])))
    status = 0
    results = {}
    for tag, args in (("text", ["--top", "20"]), ("json", ["--json"])):
        out = os.path.join(d, "mapscan-%s.out" % tag)
        r = run_measured([mapscan] + args + [core], out, out + ".err", a.timeout)
        results[tag] = r
        if r["rc"] is None:
            log("mapscan %-4s DID NOT FINISH in %d s (killed); peak RSS so far %s" % (tag, a.timeout, mib(r["rss"] << 10)))
            status = 2
            continue
        line = ("mapscan %-4s exit %d: wall %.1f s (%.1fx read-once), CPU %.1f s, peak RSS %s = %.1f%% of the core "
                "(file %s, anon %s)" % (tag, r["rc"], r["secs"], r["secs"] / t_read, r["cpu"], mib(r["rss"] << 10),
                                        (r["rss"] << 10) * 100 / size, mib(r["rss_file"] << 10), mib(r["rss_anon"] << 10)))
        log(line)
        if r["rc"] != 0:
            with open(out + ".err", errors="replace") as f:
                log("  stderr: " + f.read()[-400:].strip())
            status = 2
    doc = None
    if results.get("json", {}).get("rc") == 0:
        with open(os.path.join(d, "mapscan-json.out")) as f:
            doc = json.load(f)
        s = doc.get("summary", {})
        log("maps: %d (%d unreachable); heap_in_use_bytes %s vs gopls HeapInuse %s (%+.2f%%); retained %s, "
            "reclaimable %s, unclaimed map storage %s"
            % (s.get("maps", 0), s.get("unreachable_maps", 0), mib(s.get("heap_in_use_bytes") or 0),
               mib(facts["heap_inuse"]), ((s.get("heap_in_use_bytes") or 0) - facts["heap_inuse"]) * 100 / facts["heap_inuse"],
               mib(s.get("retained_bytes", 0)), mib(s.get("reclaimable_bytes", 0)),
               mib(s.get("unclaimed_map_storage_bytes") or 0)))
    equal = None
    if doc:
        samples = pick_samples(doc["maps"], a.samples)
        layout = (doc.get("go") or {}).get("map_layout")
        try:
            got, secs, rc = delve_check(dlv, exe, core, samples, layout, d)
            equal = 0
            for i, (m, expr, kind) in enumerate(samples):
                ok = got[i] == str(m["count"])
                equal += ok
                log("delve %-6s %s %s: mapscan count %d, Delve %s%s  [%s]"
                    % (kind, m["address"], m.get("type"), m["count"], got[i], "" if ok else "  MISMATCH",
                       expr or m["roots"][0]))
            log("delve: %d of %d sampled counts equal (dlv core took %.0f s, exit %s)" % (equal, len(samples), secs, rc))
            if len(samples) < 5:
                log("delve: only %d maps could be sampled" % len(samples))
        except (OSError, subprocess.SubprocessError) as e:
            log("delve: %s" % e)
            status = status or 1
    # The acceptance of issue 9.
    j = results.get("json") or {}
    t = results.get("text") or {}
    fin = [r for r in (t, j) if r.get("rc") == 0]
    log("acceptance: finishes in <= 10x read-once: %s" % (
        "yes" if len(fin) == 2 and max(r["secs"] for r in fin) <= 10 * t_read else
        "NO (%s)" % ", ".join("%.1fx" % (r["secs"] / t_read) if r.get("rc") == 0 else "did not finish"
                              for r in (t, j))))
    log("acceptance: peak RSS <= 25%% of the core: %s" % (
        "yes" if fin and max((r["rss"] << 10) for r in (t, j) if r) <= size / 4 else
        "NO (%s)" % ", ".join("%.1f%%" % ((r.get("rss", 0) << 10) * 100 / size) for r in (t, j))))
    log("acceptance: sampled counts equal Delve's: %s" % (
        "yes" if equal is not None and equal == a.samples else "NO (%s)" % ("not measured" if equal is None else
                                                                           "%d of %d" % (equal, a.samples))))
    return status


if __name__ == "__main__":
    sys.exit(main())
