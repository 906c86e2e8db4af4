#!/usr/bin/env python3
"""End-to-end tests of mapscan --pid: live Go processes.

    python3 tests/e2e/live.py --mapscan build/mapscan [--keep DIR] [-k SUBSTR]
                              [--allow-missing-toolchain]

For Go 1.26 (Swiss maps) and Go 1.19 (classic maps) this starts the
mapstates fixture with -echo: it writes its oracle and then stays up,
echoing every line it reads on stdin.  mapscan --pid must report the
oracle's figures exactly, and the fixture must still answer after mapscan
succeeds, fails, is interrupted (SIGINT, SIGTERM, SIGHUP), suspended
(SIGTSTP) or killed (SIGKILL) in the middle of a scan.  Also: --save-core
(the saved core gives the same report; gdb, and Delve when it is
installed, open it), --no-stop and stopping against a fixture that writes
maps and starts threads without pause (-mutate), the --max-pause
watchdog, an executable replaced on disk, a process that exits in the
middle of a scan, and the errors of --pid (exit status, one line).

To reach "the middle of a scan" the tests set MAPSCAN_TEST_HOLD_MS (keep
the process stopped that long after the reads) or
MAPSCAN_TEST_HOLD_BEFORE_MS (before them) and watch /proc until every
thread of the fixture is in tracing stop.

Output and exit status as tests/e2e/run.py, whose build helpers and
comparison with the oracle this reuses.  Python 3 standard library only.
"""

import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tests/e2e/run.py)
from run import Failure, tail  # noqa: E402
from corrupt import hostile_rnglists  # noqa: E402  (the libdwarf double free, reproduced)

TOOLCHAINS = [tc for tc in run.TOOLCHAINS if tc.name in ("go1.26", "go1.19")]
PHASES = [tc.name for tc in TOOLCHAINS] + ["errors"]
EXIT_NOTGO, EXIT_NODWARF, EXIT_MISMATCH, EXIT_PROCESS, EXIT_PERM = 5, 6, 7, 8, 9
HOLD_MS = "60000"  # long enough to act on; the tests end it sooner


def thread_states(pid):
    """{tid: state letter} of the process's threads ({} once it is gone)."""
    states = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return states
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError, ValueError):
            pass
    return states


def wait_all_stopped(pid, timeout=60):
    """True once every thread of pid is in tracing stop ('t')."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = thread_states(pid)
        if st and all(s == "t" for s in st.values()):
            return True
        time.sleep(0.01)
    return False


class Fixture:
    """A running `mapstates -echo`; answers() says whether it still echoes."""

    def __init__(self, exe, rundir, extra=()):
        os.makedirs(rundir, exist_ok=True)
        oracle = os.path.join(rundir, "oracle.json")
        env = dict(os.environ, MAPSCAN_ORACLE=oracle)
        env.pop("MAPSCAN_WAIT", None)
        self.errlog = open(os.path.join(rundir, "stderr.txt"), "wb")
        self.p = subprocess.Popen([exe, "-echo"] + list(extra), cwd=rundir, env=env, bufsize=0,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog)
        self.pid = self.p.pid
        self.buf = b""
        self.pings = 0
        line = self.readline(300)
        if line != "ready":
            self.close()
            raise Failure("%s -echo did not get ready (%r)" % (exe, line))
        with open(oracle) as f:
            self.oracle = json.load(f)

    def readline(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.p.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def ping(self):
        self.pings += 1
        word = "ping-%d" % self.pings
        try:
            self.p.stdin.write((word + "\n").encode())
            self.p.stdin.flush()
        except OSError:
            return None
        return word

    def answers(self, timeout=20):
        """Send a line and wait for its echo (earlier pings may come first)."""
        word = self.ping()
        while word:
            line = self.readline(timeout)
            if line is None:
                return False
            if line == word:
                return True
        return False

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.errlog.close()


class Live:
    def __init__(self, args):
        self.args = args
        self.suite = run.Suite(args)
        self.r = self.suite.report
        self.mapscan = os.path.abspath(args.mapscan)
        self.work = args.keep

    # ----- running mapscan ----------------------------------------------------

    def mapscan_env(self, extra):
        env = dict(os.environ)
        for k in ("MAPSCAN_TEST_HOLD_MS", "MAPSCAN_TEST_HOLD_BEFORE_MS", "MAPSCAN_TEST_PROC_MEM"):
            env.pop(k, None)
        env.update(extra or {})
        return env

    def ms(self, args, env=None, user=None):
        """Run mapscan to the end: (exit status, stdout, stderr)."""
        kw = {"user": user} if user is not None else {}
        try:
            p = subprocess.run([self.mapscan] + args, env=self.mapscan_env(env), timeout=run.RUN_TIMEOUT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        except subprocess.TimeoutExpired:
            raise Failure("mapscan %s: timed out" % " ".join(args))
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def ms_json(self, args, env=None):
        return run.json_doc(args, *self.ms(["--json"] + args, env))

    def start_held(self, args, env):
        """Start mapscan with a hold; return the Popen."""
        return subprocess.Popen([self.mapscan] + args, env=self.mapscan_env(env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # ----- checks -------------------------------------------------------------

    def source_problems(self, doc, pid, stopped=True, consistent=True):
        src = doc.get("source") if isinstance(doc.get("source"), dict) else {}
        p = []
        if src.get("kind") != "process" or src.get("pid") != pid:
            p.append("source kind %r pid %r, want process %d" % (src.get("kind"), src.get("pid"), pid))
        if src.get("stopped") is not stopped:
            p.append("source.stopped %r, want %r" % (src.get("stopped"), stopped))
        if src.get("consistent") is not consistent:
            p.append("source.consistent %r, want %r" % (src.get("consistent"), consistent))
        pause, threads = src.get("paused_ns"), src.get("threads_stopped")
        if type(pause) is not int or type(threads) is not int:
            p.append("paused_ns %r, threads_stopped %r: want integers" % (pause, threads))
        elif stopped and (pause <= 0 or threads < 1):
            p.append("paused_ns %r, threads_stopped %r: want > 0" % (pause, threads))
        elif not stopped and (pause != 0 or threads != 0):
            p.append("paused_ns %r, threads_stopped %r: want 0 with --no-stop" % (pause, threads))
        if not isinstance(src.get("executable"), str) or not src["executable"]:
            p.append("source.executable %r" % (src.get("executable"),))
        return p

    def oracle_maps_problems(self, doc, oracle, running=False):
        """The oracle's maps, by address, have the oracle's figures (for a
        document that also lists maps the oracle does not know).  running:
        the process ran while it was read (--no-stop, with a fixture that
        allocates all the time): a collection may then move a goroutine's
        stack in the middle of the read (seen once in live.py on Go 1.19:
        no map holdStackMap.m), so a map whose header is in a stack frame
        may be missing; when it is found, its figures must still agree."""
        by_addr = {run.parse_addr(m.get("address")): m for m in doc.get("maps", []) if isinstance(m, dict)}
        p = []
        for om in oracle["maps"]:
            m = by_addr.get(run.parse_addr(om["address"]))
            if m is None:
                if not (running and om.get("held") == "goroutine-stack"):
                    p.append("no map %s at %s" % (om["name"], om["address"]))
                continue
            bad = [k for k in run.FIGURES if m.get(k) != om[k]]
            if bad:
                p.append("%s: %s" % (om["name"], ", ".join("%s %r, oracle %r" % (k, m.get(k), om[k])
                                                        for k in bad[:3])))
        return p[:8]

    def check_answers(self, name, fx):
        self.r.check(name, None if fx.answers() else
                     "the fixture (PID %d) no longer answers on its pipe (threads: %s)"
                     % (fx.pid, thread_states(fx.pid)))

    # ----- phases -------------------------------------------------------------

    def run(self):
        k = self.args.k
        selected = [p for p in PHASES if k and (k in p or p in k)]
        for phase in selected or PHASES:
            try:
                if phase == "errors":
                    self.phase_errors()
                else:
                    self.phase_toolchain(next(tc for tc in TOOLCHAINS if tc.name == phase))
            except Failure as e:
                self.r.fail("live/" + phase, e)
            except Exception as e:  # a harness bug or an odd answer: report it, go on
                self.r.fail("live/" + phase, "harness error: %r" % e)
        print("%d passed, %d failed" % (self.r.passed, self.r.failed), flush=True)
        return 1 if self.r.failed else 0

    def exe_for(self, tc, what="mapstates"):
        def build():
            self.suite.toolchain_version(tc)
            d = os.path.join(self.work, "live", tc.name)
            os.makedirs(d, exist_ok=True)
            if what == "mapstates":
                return self.suite.build(tc, os.path.join(d, "mapstates"))
            src = run.write_hello(os.path.join(d, "hello-src"))
            return self.suite.build(tc, os.path.join(d, "hello"), src=src)
        return self.suite.once(("live-exe", tc.name, what), build)

    def phase_toolchain(self, tc):
        r = self.r
        base = "live/" + tc.name
        try:
            version = self.suite.toolchain_version(tc)
        except Failure as e:
            if self.args.allow_missing_toolchain:
                run.Report.note("WARNING: toolchain %s missing, its live tests did NOT run: %s" % (tc.name, e))
            else:
                r.fail(base + "/toolchain", e)
            return
        run.Report.note("%s: %s (%s)" % (tc.name, version, tc.go))
        exe = self.exe_for(tc)
        fx = Fixture(exe, os.path.join(self.work, "live", tc.name, "run"))
        try:
            self.quiet_fixture(tc, base, exe, fx)
        finally:
            fx.close()
        mx = Fixture(exe, os.path.join(self.work, "live", tc.name, "mutate"), ["-mutate"])
        try:
            self.mutating_fixture(base, mx)
        finally:
            mx.close()
        if tc.name == "go1.26":
            self.replaced_exe(tc, base, exe)
            self.hostile_dwarf(tc, base)

    def quiet_fixture(self, tc, base, exe, fx):
        r, pid = self.r, fx.pid
        proc = "/proc/%d" % pid

        # Success, JSON: the oracle's figures, and the process runs on.
        name = base + "/json"
        try:
            doc = self.ms_json(["--pid", str(pid)])
            r.ok(name)
            self.suite.compare(name, doc, fx.oracle, proc, kind="process")
            r.check(name + "/source", self.source_problems(doc, pid))
            src = doc.get("source", {})
            run.Report.note("%s: paused %.1f ms, %s threads" % (name, src.get("paused_ns", 0) / 1e6,
                                                                src.get("threads_stopped")))
        except Failure as e:
            r.fail(name, e)
        self.check_answers(base + "/answers-after-success", fx)

        # Text.
        name = base + "/text"
        rc, out, err = self.ms(["--pid", str(pid)])
        p = [] if rc == 0 else ["exit %d: %s" % (rc, tail(err))]
        for want in (proc, "process %d paused" % pid, fx.oracle["go_version"], fx.oracle["layout"]):
            if want not in out:
                p.append("output does not mention %r" % want)
        r.check(name, p)

        # The /proc/PID/mem fallback reads the same.
        name = base + "/proc-mem"
        try:
            doc = self.ms_json(["--pid", str(pid)], env={"MAPSCAN_TEST_PROC_MEM": "1"})
            self.suite.compare(name, doc, fx.oracle, proc, kind="process")
        except Failure as e:
            r.fail(name, e)

        # --exe naming the same binary is accepted (checked against memory).
        name = base + "/exe-same"
        try:
            doc = self.ms_json(["--pid", str(pid), "--exe", exe])
            r.check(name, self.oracle_maps_problems(doc, fx.oracle))
        except Failure as e:
            r.fail(name, e)

        self.save_core(base, exe, fx)

        # Failure: the wrong executable.  mapscan refuses; the process runs on.
        name = base + "/wrong-exe"
        try:
            hello = self.exe_for(tc, "hello")
            rc, out, err = self.ms(["--pid", str(pid), "--exe", hello])
            lines = err.strip().split("\n") if err.strip() else []
            p = [] if rc == EXIT_MISMATCH else ["exit %d, want %d" % (rc, EXIT_MISMATCH)]
            if len(lines) != 1 or hello not in lines[0]:
                p.append("stderr %r: want one line naming %s" % (tail(err, 300), hello))
            r.check(name, p)
        except Failure as e:
            r.fail(name, e)
        self.check_answers(base + "/answers-after-failure", fx)

        # --no-stop on a quiet process: flagged as not consistent, same figures.
        name = base + "/no-stop"
        try:
            doc = self.ms_json(["--pid", str(pid), "--no-stop"])
            p = self.source_problems(doc, pid, stopped=False, consistent=False)
            p += self.oracle_maps_problems(doc, fx.oracle)
            if not any("--no-stop" in w for w in doc.get("warnings", [])):
                p.append("no report warning about --no-stop: %r" % doc.get("warnings"))
            r.check(name, p)
        except Failure as e:
            r.fail(name, e)

        # Interrupted or killed in the middle of a scan.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
            self.signalled(base, fx, sig)
        self.suspended(base, fx)
        self.max_pause(base, fx)
        self.sigstopped(base, fx)
        self.sigstopped_unlimited(base, fx, ["--save-core", os.path.join(self.work, "live", "stopped.core")])
        self.sigstopped_unlimited(base, fx, ["--max-pause", "0"])

        # The process exits while mapscan holds it, before the reads.
        name = base + "/exits-mid-scan"
        ms = self.start_held(["--pid", str(pid)], {"MAPSCAN_TEST_HOLD_BEFORE_MS": HOLD_MS})
        try:
            if not wait_all_stopped(pid):
                raise Failure("the fixture never stopped: %s" % thread_states(pid))
            fx.p.kill()
            out, err = ms.communicate(timeout=run.RUN_TIMEOUT)
            err = err.decode("utf-8", "replace")
            p = [] if ms.returncode == EXIT_PROCESS else ["exit %r, want %d" % (ms.returncode, EXIT_PROCESS)]
            lines = err.strip().split("\n") if err.strip() else []
            if len(lines) != 1 or "exited" not in lines[0] or str(pid) not in lines[0]:
                p.append("stderr %r: want one line saying process %d exited" % (tail(err, 300), pid))
            r.check(name, p)
        except (Failure, subprocess.TimeoutExpired) as e:
            r.fail(name, e)
        finally:
            if ms.poll() is None:
                ms.kill()
                ms.communicate()

    def save_core(self, base, exe, fx):
        r, pid = self.r, fx.pid
        name = base + "/save-core"
        core = os.path.join(self.work, "live", os.path.basename(base) + ".core")
        try:
            live = self.ms_json(["--pid", str(pid), "--save-core", core])
        except Failure as e:
            r.fail(name, e)
            return
        p = self.source_problems(live, pid)
        if live.get("source", {}).get("saved_core") != core:
            p.append("source.saved_core %r, want %r" % (live.get("source", {}).get("saved_core"), core))
        st = os.stat(core)
        if stat.S_IMODE(st.st_mode) != 0o600:
            p.append("mode %o, want 600 (the file holds the process's memory)" % stat.S_IMODE(st.st_mode))
        r.check(name, p)
        run.Report.note("%s: %d MiB, %d MiB on disk" % (name, st.st_size >> 20, st.st_blocks * 512 >> 20))
        self.check_answers(base + "/answers-after-save-core", fx)

        # The saved core, analysed later, says what the live run said.
        name = base + "/save-core/analysed"
        try:
            saved = self.ms_json([core])
        except Failure as e:
            r.fail(name, e)
            return
        self.suite.compare(name, saved, fx.oracle, core)
        lm = {m["address"]: m for m in live.get("maps", [])}
        sm = {m["address"]: m for m in saved.get("maps", [])}
        p = []
        if set(lm) != set(sm):
            p.append("maps only live: %s; only in the core: %s"
                     % (sorted(set(lm) - set(sm))[:5], sorted(set(sm) - set(lm))[:5]))
        for a in sorted(set(lm) & set(sm)):
            if lm[a] != sm[a]:
                diff = [k for k in lm[a] if lm[a][k] != sm[a].get(k)]
                p.append("map %s differs in %s" % (a, diff))
        if live.get("summary") != saved.get("summary"):
            p.append("summary %r vs %r" % (live.get("summary"), saved.get("summary")))
        r.check(name + "/same-as-live", p[:6])

        threads = live.get("source", {}).get("threads_stopped")
        name = base + "/save-core/gdb"
        if not shutil.which("gdb"):
            run.Report.note("gdb not installed: %s skipped" % name)
        else:
            g = subprocess.run(["gdb", "-batch", "-nx", "-ex", "info threads", exe, core],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
            out = g.stdout.decode("utf-8", "replace")
            lwps = set(re.findall(r"^\*?\s+\d+\s+LWP (\d+)", out, re.M))
            p = [] if g.returncode == 0 else ["gdb exit %d" % g.returncode]
            if len(lwps) != threads:
                p.append("gdb lists %d threads, mapscan stopped %r: %s" % (len(lwps), threads, tail(out, 400)))
            if str(pid) not in lwps:
                p.append("gdb does not list the main thread %d" % pid)
            for bad in ("not a core dump", "Couldn't", "is not in executable format", "truncated"):
                if bad in out:
                    p.append("gdb says %r: %s" % (bad, tail(out, 300)))
            r.check(name, p)

        name = base + "/save-core/delve"
        dlv = shutil.which("dlv") or next((c for c in (os.path.expanduser("~/go/bin/dlv"),)
                                           if os.access(c, os.X_OK)), None)
        if not dlv:
            # .ci/run installs Delve; a missing one is a failure, not a skip.
            r.fail(name, "dlv is not installed (go install github.com/go-delve/delve/cmd/dlv@v1.27.2)")
        else:
            d = subprocess.run([dlv, "core", "--check-go-version=false", "--allow-non-terminal-interactive=true",
                                exe, core], input=b"threads\nexit\n", timeout=300,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = d.stdout.decode("utf-8", "replace")
            n = len(re.findall(r"\bThread \d+ at 0x", out))
            r.check(name, None if n == threads else "dlv lists %d threads, mapscan stopped %r: %s"
                    % (n, threads, tail(out, 400)))

    def signalled(self, base, fx, sig):
        """mapscan gets sig while it holds the fixture stopped."""
        r, pid = self.r, fx.pid
        name = "%s/%s-mid-scan" % (base, signal.Signals(sig).name)
        ms = self.start_held(["--pid", str(pid), "--json"], {"MAPSCAN_TEST_HOLD_MS": HOLD_MS})
        try:
            p = []
            if not wait_all_stopped(pid):
                raise Failure("the fixture never stopped: %s" % thread_states(pid))
            word = fx.ping()
            if fx.readline(0.3) is not None:
                p.append("the fixture answered while mapscan held it")
            ms.send_signal(sig)
            ms.communicate(timeout=run.RUN_TIMEOUT)
            if ms.returncode != -sig:
                p.append("mapscan exit %r, want death by %s" % (ms.returncode, signal.Signals(sig).name))
            got = fx.readline(20)
            if got != word:
                p.append("the fixture did not answer after mapscan's death (got %r; threads %s)"
                         % (got, thread_states(pid)))
            r.check(name, p)
        except (Failure, subprocess.TimeoutExpired) as e:
            r.fail(name, e)
        finally:
            if ms.poll() is None:
                ms.kill()
                ms.communicate()
        self.check_answers(name + "/answers", fx)

    def suspended(self, base, fx):
        """Ctrl-Z on mapscan must not leave the fixture stopped with it."""
        r, pid = self.r, fx.pid
        name = base + "/SIGTSTP-mid-scan"
        ms = self.start_held(["--pid", str(pid), "--json"], {"MAPSCAN_TEST_HOLD_MS": "2000"})
        try:
            p = []
            if not wait_all_stopped(pid):
                raise Failure("the fixture never stopped: %s" % thread_states(pid))
            ms.send_signal(signal.SIGTSTP)
            if not fx.answers(20):
                p.append("the fixture does not answer while mapscan is suspended")
            # mapscan resumes the fixture first, then stops itself: a
            # SIGCONT sent in between would come before the stop.
            deadline = time.time() + 20
            while time.time() < deadline and thread_states(ms.pid).get(ms.pid) != "T":
                time.sleep(0.01)
            ms.send_signal(signal.SIGCONT)
            out, err = ms.communicate(timeout=run.RUN_TIMEOUT)
            if ms.returncode != 0:
                p.append("exit %r after SIGCONT: %s" % (ms.returncode, tail(err.decode("utf-8", "replace"))))
            else:
                doc = json.loads(out)
                p += self.source_problems(doc, pid, consistent=False)
            r.check(name, p)
        except (Failure, subprocess.TimeoutExpired, ValueError) as e:
            r.fail(name, e)
        finally:
            if ms.poll() is None:
                ms.kill()
                ms.communicate()

    def sigstop_case(self, name, fx, opts, settle, bound, bound_said=""):
        """SIGSTOP (which mapscan cannot catch) while it holds the fixture
        with opts, settle seconds after the stop: its watchdog child kills
        it, and the fixture answers within bound seconds.  Returns how
        long that took, or None when the case failed to run."""
        r, pid = self.r, fx.pid
        ms = self.start_held(["--pid", str(pid)] + opts, {"MAPSCAN_TEST_HOLD_MS": HOLD_MS})
        try:
            p = []
            if not wait_all_stopped(pid):
                raise Failure("the fixture never stopped: %s" % thread_states(pid))
            if settle:
                time.sleep(settle)  # held for a while, past the stop itself
            ms.send_signal(signal.SIGSTOP)
            t0 = time.time()
            if not fx.answers(30):
                p.append("the fixture does not answer while mapscan is SIGSTOPped")
            took = time.time() - t0
            ms.communicate(timeout=30)
            if ms.returncode != -signal.SIGKILL:
                p.append("mapscan exit %r, want killed by its watchdog" % ms.returncode)
            if took > bound:
                p.append("the fixture answered only after %.1f s%s" % (took, bound_said))
            r.check(name, p)
            return took
        except (Failure, subprocess.TimeoutExpired) as e:
            r.fail(name, e)
            return None
        finally:
            if ms.poll() is None:
                ms.kill()
                ms.communicate()

    def sigstopped(self, base, fx):
        """With --max-pause: the watchdog kills mapscan after the pause
        limit and 2 s of grace."""
        self.sigstop_case(base + "/SIGSTOP-mid-scan", fx, ["--max-pause", "0.5"], 0, 10)

    def sigstopped_unlimited(self, base, fx, opts):
        """With no pause limit (--save-core, --max-pause 0): the watchdog
        still kills it, within a second of mapscan being stopped (man
        page, --max-pause)."""
        name = "%s/SIGSTOP%s" % (base, "-during-save-core" if "--save-core" in opts else "-max-pause-0")
        # The bound is 1 s; the watchdog looks every 50 ms, the fixture
        # needs a moment to answer.
        took = self.sigstop_case(name, fx, opts, 1, 2.5, " (bound: 1 s)")
        if took is not None:
            run.Report.note("%s: resumed %.2f s after SIGSTOP" % (name, took))
        self.check_answers(name + "/answers", fx)

    def max_pause(self, base, fx):
        r, pid = self.r, fx.pid
        name = base + "/max-pause"
        try:
            t0 = time.time()
            doc = self.ms_json(["--pid", str(pid), "--max-pause", "0.3"], env={"MAPSCAN_TEST_HOLD_MS": "20000"})
            took = time.time() - t0
            p = self.source_problems(doc, pid, consistent=False)
            pause = doc.get("source", {}).get("paused_ns") or 0
            if not 0.25e9 <= pause <= 5e9:
                p.append("paused_ns %r, want about 0.3 s" % pause)
            if took > 15:
                p.append("mapscan took %.1f s: the watchdog did not end the hold" % took)
            if not any("--max-pause" in w for w in doc.get("warnings", [])):
                p.append("no warning about --max-pause: %r" % doc.get("warnings"))
            r.check(name, p)
        except Failure as e:
            r.fail(name, e)
        self.check_answers(name + "/answers", fx)

    def mutating_fixture(self, base, mx):
        """Maps written and threads started without pause."""
        r, pid = self.r, mx.pid
        flagged = 0
        for i in range(3):
            name = "%s/mutating/no-stop-%d" % (base, i)
            try:
                doc = self.ms_json(["--pid", str(pid), "--no-stop"])
            except Failure as e:
                r.fail(name, e)
                continue
            p = self.source_problems(doc, pid, stopped=False, consistent=False)
            p += self.oracle_maps_problems(doc, mx.oracle, running=True)
            if not any("--no-stop" in w for w in doc.get("warnings", [])):
                p.append("no report warning about --no-stop: %r" % doc.get("warnings"))
            flagged += sum(1 for m in doc.get("maps", []) if any(
                "changed while" in w or "first of two reads" in w or "live slots" in w or "full slots" in w
                for w in m.get("warnings", [])))
            r.check(name, p)
        r.check(base + "/mutating/no-stop-flags-changes", None if flagged else
                "three --no-stop runs against maps written without pause flagged no map")
        for i in range(3):
            name = "%s/mutating/stopped-%d" % (base, i)
            try:
                doc = self.ms_json(["--pid", str(pid)])
                p = self.source_problems(doc, pid) + self.oracle_maps_problems(doc, mx.oracle)
                r.check(name, p)
            except Failure as e:
                r.fail(name, e)
        self.check_answers(base + "/mutating/answers", mx)

    def replaced_exe(self, tc, base, exe):
        """The binary on disk is replaced (a deploy) while the process runs."""
        r = self.r
        name = base + "/replaced-exe"
        d = os.path.join(self.work, "live", tc.name, "replaced")
        os.makedirs(d, exist_ok=True)
        copy = os.path.join(d, "server")
        shutil.copy2(exe, copy)
        try:
            fx = Fixture(copy, d)
        except Failure as e:
            r.fail(name, e)
            return
        try:
            new = os.path.join(d, "server.new")
            shutil.copy2(self.exe_for(tc, "hello"), new)
            os.rename(new, copy)
            doc = self.ms_json(["--pid", str(fx.pid)])
            p = self.oracle_maps_problems(doc, fx.oracle)
            ex = doc.get("source", {}).get("executable") or ""
            if not ex.endswith("(deleted)"):
                p.append("source.executable %r: want the old file, marked (deleted)" % ex)
            r.check(name, p)
            self.check_answers(name + "/answers", fx)
        except (Failure, OSError) as e:
            r.fail(name, e)
        finally:
            fx.close()

    def hostile_dwarf(self, tc, base):
        """A process runs a binary whose DWARF makes libdwarf free twice
        (a damaged .debug_rnglists unit header; also when mapscan runs as
        root and the binary is another user's).  The DWARF reader dies in
        its sandbox, before anything is stopped: exit 6, one line, and the
        process was never touched."""
        r = self.r
        name = base + "/hostile-rnglists"
        d = os.path.join(self.work, "live", tc.name, "hostile")
        os.makedirs(d, exist_ok=True)
        try:
            plain = self.suite.build(tc, os.path.join(d, "mapstates"), ldflags=["-compressdwarf=false"])
            bad = hostile_rnglists(plain, os.path.join(d, "mapstates.hostile"), "version-6")
            fx = Fixture(bad, d)
        except (Failure, OSError, RuntimeError) as e:
            r.fail(name, e)
            return
        try:
            for args in (["--pid", str(fx.pid)], ["--pid", str(fx.pid), "--save-core", os.path.join(d, "c")]):
                label = name + ("/save-core" if "--save-core" in args else "")
                p = subprocess.Popen([self.mapscan] + args, env=self.mapscan_env(None),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                stopped = False
                while p.poll() is None:
                    stopped |= any(st == "t" for st in thread_states(fx.pid).values())
                    time.sleep(0.001)
                out, err = p.communicate()
                err = err.decode("utf-8", "replace")
                # Under ASan the sandboxed child reports the double free
                # itself (its pid, not mapscan's): that is the crash the
                # file was made for.
                lines = [l for l in err.splitlines() if l.startswith("mapscan: ")]
                problems = [] if p.returncode == EXIT_NODWARF else ["exit %r, want %d" % (p.returncode, EXIT_NODWARF)]
                if len(lines) != 1 or "DWARF reader" not in lines[0] or "/proc/%d/exe" % fx.pid not in lines[0]:
                    problems.append("stderr %r: want one line naming /proc/%d/exe and the DWARF reader"
                                    % (tail(err, 400), fx.pid))
                if "==%d==" % p.pid in err:
                    problems.append("a sanitizer report from mapscan itself: %s" % tail(err, 400))
                if stopped:
                    problems.append("the process was stopped although its DWARF could not be read")
                if os.path.exists(os.path.join(d, "c")):
                    problems.append("a --save-core file was written")
                r.check(label, problems)
            self.check_answers(name + "/answers", fx)
        finally:
            fx.close()

    # ----- errors -------------------------------------------------------------

    def phase_errors(self):
        r = self.r
        cases = []  # (name, args, expected exit status, words the message must have, user)

        gone = subprocess.Popen(["true"])
        gone.wait()
        cases.append(("no-such-process", ["--pid", str(gone.pid)], EXIT_PROCESS, ["no process"], None))

        zombie = subprocess.Popen(["true"])
        deadline = time.time() + 10
        while time.time() < deadline and thread_states(zombie.pid).get(zombie.pid) != "Z":
            time.sleep(0.01)
        cases.append(("zombie", ["--pid", str(zombie.pid)], EXIT_PROCESS, ["zombie"], None))

        sleeper = subprocess.Popen(["sleep", "600"])
        cases.append(("not-go", ["--pid", str(sleeper.pid)], EXIT_NOTGO, ["not a Go program"], None))
        if os.geteuid() == 0:
            cases.append(("permission", ["--pid", str(sleeper.pid)], EXIT_PERM, ["not allowed", "CAP_SYS_PTRACE"],
                          65534))
        else:
            run.Report.note("not root: live/errors/permission skipped")
        try:
            with open("/proc/2/stat") as f:
                kthread = int(f.read().rsplit(")", 1)[1].split()[6]) & 0x200000
        except (OSError, IndexError, ValueError):
            kthread = 0
        if kthread:
            cases.append(("kernel-thread", ["--pid", "2"], EXIT_PROCESS, ["kernel thread"], None))
        me = str(os.getpid())
        cases += [
            ("usage-pid-and-core", ["--pid", me, "core"], run.EXIT_USAGE, ["--pid"], None),
            ("usage-bad-pid", ["--pid", "12x"], run.EXIT_USAGE, ["--pid"], None),
            ("usage-no-stop-without-pid", ["--no-stop", "core"], run.EXIT_USAGE, ["--pid"], None),
            ("usage-save-core-no-stop", ["--pid", me, "--no-stop", "--save-core", "x"], run.EXIT_USAGE,
             ["--save-core"], None),
            ("usage-bad-max-pause", ["--pid", me, "--max-pause", "-1"], run.EXIT_USAGE, ["--max-pause"], None),
        ]
        try:
            for name, args, code, words, user in cases:
                check = "live/errors/" + name
                try:
                    rc, out, err = self.ms(args, user=user)
                    p = [] if rc == code else ["exit %d, want %d" % (rc, code)]
                    lines = err.strip("\n").split("\n") if err.strip() else []
                    if len(lines) != 1:
                        p.append("stderr has %d lines, want 1: %r" % (len(lines), tail(err, 300)))
                    elif not all(w in lines[0] for w in words):
                        p.append("stderr %r lacks %s" % (lines[0], words))
                    r.check(check, p)
                    rc, out, err = self.ms(["--json"] + args, user=user)
                    try:
                        e = json.loads(out).get("error", {})
                    except (ValueError, AttributeError):
                        e = {}
                    r.check(check + " --json", None if rc == code and e.get("code") == code and
                            all(w in (e.get("message") or "") for w in words)
                            else "exit %d, document %r" % (rc, tail(out, 300)))
                except (Failure, OSError) as ex:
                    r.fail(check, ex)
        finally:
            sleeper.kill()
            sleeper.wait()
            zombie.wait()


def main():
    return run.main(Live, "mapscan-live-", __doc__)

if __name__ == "__main__":
    sys.exit(main())
