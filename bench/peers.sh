#!/bin/sh
# bench/peers.sh - issue 13 item 3: sysg against the supervisors it is
# compared with (runit, s6, supervisord), same scenarios for each:
#   pss N      sum of Pss of every process of the tool (supervisor and its
#              per-service helpers: runsv, s6-supervise) with N = 1, 10, 40
#              `sleep` services, KiB
#   restart    ms from SIGKILL of a service's process to its new process
#   status     ms for the tool's status command with 10 services
#   dag        ms for a 10-service 5-level dependency DAG of services that
#              become ready 0.3 s after they start (ideal: 5 x 0.3 s);
#              only tools with dependency ordering (others: n/a)
#   contain    1 when stopping a service also ends the process it
#              double-forked out of its process group (setsid), else 0
# Each timing is the median of $PEERS_RUNS runs (default 5).
# It installs nothing: a peer whose programs are missing is skipped and
# named. Usage: bench/peers.sh [path/to/sysg]   (default: ./sysg)
# See bench/README.md ("Peers") for how to read the table.
set -eu
SYSG=${1:-./sysg}
SYSG=$(cd "$(dirname "$SYSG")" && pwd)/$(basename "$SYSG")
: "${SYSG_PLUGIN_PATH:=$(dirname "$SYSG")/plugins/.libs}"
: "${PEERS_RUNS:=5}"
export SYSG_PLUGIN_PATH PEERS_RUNS
exec python3 - "$SYSG" <<'PY'
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

SYSG = sys.argv[1]
RUNS = int(os.environ["PEERS_RUNS"])
WORK = tempfile.mkdtemp(prefix="sysg-peers-")
SLEEP = shutil.which("sleep")


def wait_for(pred, timeout=15.0, step=0.002):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise RuntimeError("timed out")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def alive(pid):
    st = read("/proc/%d/stat" % pid)
    return bool(st) and st.rsplit(")", 1)[1].split()[0] not in "ZXx"


def pss_kib(pids):
    total = 0
    for p in pids:
        for line in read("/proc/%d/smaps_rollup" % p).splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total


def procs_env(var, value):
    """pids whose environment has VAR=VALUE"""
    want = ("%s=%s" % (var, value)).encode()
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if want in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


def pidfile_cmd(d, name):
    """a service that records its pid, then sleeps"""
    return "echo $$ > %s/%s.pid; exec %s 100000" % (d, name, SLEEP)


def grandchild_cmd(d, name):
    """a service that double-forks a sleeper out of its group"""
    return ("setsid sh -c 'echo $$ > %s/%s.gc; exec %s 100000' & "
            "echo $$ > %s/%s.pid; exec %s 100000" %
            (d, name, SLEEP, d, name, SLEEP))


# ------------------------------------------------------------ the tools
# Each tool: up(d, services) with services {name: (cmd, deps)}, down(d),
# pids(d) (its own processes), status(d), stop_one(d, name).

class Sysg:
    name = "sysg"
    has_deps = True

    def env(self, d):
        return dict(os.environ, SYSG_STATE_DIR=d + "/state", HOME=d)

    def up(self, d, svcs, probe=None):
        with open(d + "/sysg.yaml", "w") as f:
            f.write('version: "1"\nservices:\n')
            for n, (cmd, deps) in svcs.items():
                f.write("  %s:\n    command: %s\n" % (n, quote(cmd)))
                f.write('    restart_policy: always\n    backoff: "0ms"\n')
                if probe:
                    f.write("    health_check: { command: %s, interval: "
                            '"100ms", timeout: "2s", retries: 5 }\n' %
                            quote(probe(n)))
                else:
                    f.write('    ready_after: "10ms"\n')
                if deps:
                    f.write("    depends_on: [%s]\n" % ", ".join(deps))
        subprocess.run([SYSG, "start", "--daemonize"], cwd=d, env=self.env(d),
                       stdout=subprocess.DEVNULL, check=True)

    def down(self, d):
        subprocess.run([SYSG, "stop"], cwd=d, env=self.env(d),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pids(self, d):
        return [p for p in procs_env("SYSG_STATE_DIR", d + "/state")
                if os.path.realpath("/proc/%d/exe" % p) == SYSG]

    def status_argv(self, d):
        return [SYSG, "status", "--json"]

    def stop_one(self, d, name):
        subprocess.run([SYSG, "stop", "--service", name], cwd=d,
                       env=self.env(d), stdout=subprocess.DEVNULL, check=True)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Dirs:
    """runit and s6: one directory per service with a run script"""
    has_deps = False

    def up(self, d, svcs, probe=None):
        os.mkdir(d + "/sv")
        for n, (cmd, _) in svcs.items():
            os.mkdir("%s/sv/%s" % (d, n))
            run = "%s/sv/%s/run" % (d, n)
            with open(run, "w") as f:
                f.write("#!/bin/sh\nexec sh -c %s\n" % shq(cmd))
            os.chmod(run, 0o755)
        self.proc = subprocess.Popen(self.scan + [d + "/sv"], cwd=d,
                                     env=dict(os.environ, PEERS_DIR=d),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)

    def pids(self, d):
        return [p for p in procs_env("PEERS_DIR", d)
                if os.path.basename(os.path.realpath("/proc/%d/exe" % p))
                in self.own]

    def down(self, d):
        for n in os.listdir(d + "/sv"):
            subprocess.run(self.down_argv + ["%s/sv/%s" % (d, n)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait()
        for p in procs_env("PEERS_DIR", d):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass

    def stop_one(self, d, name):
        subprocess.run(self.down_argv + ["%s/sv/%s" % (d, name)],
                       stdout=subprocess.DEVNULL, check=True)


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


class Runit(Dirs):
    name = "runit"
    progs = ["runsvdir", "runsv", "sv"]
    scan = ["runsvdir", "-P"]
    own = ("runsvdir", "runsv")
    down_argv = ["sv", "-w", "10", "down"]

    def status_argv(self, d):
        return ["sh", "-c", "sv status %s/sv/*" % d]


class S6(Dirs):
    name = "s6"
    progs = ["s6-svscan", "s6-supervise", "s6-svc", "s6-svstat"]
    scan = ["s6-svscan"]
    own = ("s6-svscan", "s6-supervise")
    down_argv = ["s6-svc", "-wD", "-T", "10000", "-d"]

    def status_argv(self, d):
        return ["sh", "-c", "for s in %s/sv/*; do s6-svstat $s; done" % d]


class Supervisord:
    name = "supervisord"
    progs = ["supervisord", "supervisorctl"]
    has_deps = False

    def up(self, d, svcs, probe=None):
        conf = d + "/supervisord.conf"
        with open(conf, "w") as f:
            f.write("[supervisord]\nnodaemon=true\nlogfile=%s/sd.log\n"
                    "pidfile=%s/sd.pid\n[unix_http_server]\nfile=%s/sd.sock\n"
                    "[rpcinterface:supervisor]\nsupervisor.rpcinterface_"
                    "factory=supervisor.rpcinterface:make_main_rpcinterface\n"
                    "[supervisorctl]\nserverurl=unix://%s/sd.sock\n" %
                    (d, d, d, d))
            for n, (cmd, _) in svcs.items():
                f.write("[program:%s]\ncommand=sh -c %s\nautorestart=true\n"
                        "startsecs=0\nstopasgroup=true\n" % (n, shq(cmd)))
        self.conf = conf
        self.proc = subprocess.Popen(["supervisord", "-c", conf], cwd=d,
                                     env=dict(os.environ, PEERS_DIR=d),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_for(lambda: os.path.exists(d + "/sd.sock"))

    def pids(self, d):
        return [self.proc.pid]

    def down(self, d):
        self.proc.terminate()
        self.proc.wait()
        for p in procs_env("PEERS_DIR", d):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass

    def status_argv(self, d):
        return ["supervisorctl", "-c", self.conf, "status"]

    def stop_one(self, d, name):
        subprocess.run(["supervisorctl", "-c", self.conf, "stop", name],
                       stdout=subprocess.DEVNULL, check=True)


# ---------------------------------------------------------- scenarios

def fresh(tool, tag):
    d = tempfile.mkdtemp(prefix="%s-%s-" % (tool.name, tag), dir=WORK)
    return d


def sleepers(d, n):
    return {"s%d" % i: (pidfile_cmd(d, "s%d" % i), []) for i in range(n)}


def all_up(d, n):
    def ok():
        for i in range(n):
            t = read("%s/s%d.pid" % (d, i)).strip()
            if not t or not alive(int(t)):
                return False
        return True
    wait_for(ok)


def bench_pss(tool, n):
    d = fresh(tool, "pss%d" % n)
    tool.up(d, sleepers(d, n))
    try:
        all_up(d, n)
        time.sleep(2.5)     # steady state (no state helper left)
        return pss_kib(tool.pids(d))
    finally:
        tool.down(d)


def bench_restart(tool):
    d = fresh(tool, "restart")
    tool.up(d, sleepers(d, 1))
    out = []
    try:
        for _ in range(RUNS):
            all_up(d, 1)
            time.sleep(1.2)     # runit and s6 delay restarts of < 1 s runs
            old = int(read(d + "/s0.pid"))
            t0 = time.perf_counter()
            os.kill(old, signal.SIGKILL)

            def new():
                t = read(d + "/s0.pid").strip()
                return t and int(t) != old and alive(int(t))
            wait_for(new, step=0.0005)
            out.append((time.perf_counter() - t0) * 1000)
    finally:
        tool.down(d)
    return statistics.median(out)


def bench_status(tool):
    d = fresh(tool, "status")
    tool.up(d, sleepers(d, 10))
    out = []
    try:
        all_up(d, 10)
        argv = tool.status_argv(d)
        for i in range(RUNS + 2):
            t0 = time.perf_counter()
            subprocess.run(argv, cwd=d, env=getattr(tool, "env",
                           lambda _: os.environ)(d),
                           stdout=subprocess.DEVNULL, check=True)
            if i >= 2:
                out.append((time.perf_counter() - t0) * 1000)
    finally:
        tool.down(d)
    return statistics.median(out)


def bench_dag(tool):
    if not tool.has_deps:
        return None
    out = []
    for r in range(RUNS):
        d = fresh(tool, "dag%d" % r)
        svcs = {}
        for lvl in range(1, 6):
            for k in "ab":
                n = "l%d%s" % (lvl, k)
                deps = ["l%da" % (lvl - 1), "l%db" % (lvl - 1)] if lvl > 1 else []
                svcs[n] = ("%s 0.3; touch %s/%s.up; exec %s 100000" %
                           (SLEEP, d, n, SLEEP), deps)
        t0 = time.perf_counter()
        tool.up(d, svcs, probe=lambda n, d=d: "test -f %s/%s.up" % (d, n))
        try:
            # ready: the supervisor reports the last level running
            def ready():
                p = subprocess.run(tool.status_argv(d), cwd=d,
                                   env=tool.env(d), capture_output=True,
                                   text=True)
                import json
                try:
                    units = json.loads(p.stdout)["units"]
                except (ValueError, KeyError):
                    return False
                return sum(1 for u in units
                           if u.get("status") == "running" and
                           u.get("health") == "healthy") == 10
            wait_for(ready, step=0.005)
            out.append((time.perf_counter() - t0) * 1000)
        finally:
            tool.down(d)
    return statistics.median(out)


def bench_contain(tool):
    d = fresh(tool, "contain")
    tool.up(d, {"g": (grandchild_cmd(d, "g"), [])})
    try:
        wait_for(lambda: read(d + "/g.gc").strip() and read(d + "/g.pid"))
        gc = int(read(d + "/g.gc"))
        tool.stop_one(d, "g")
        try:
            wait_for(lambda: not alive(gc), timeout=3)
            return 1
        except RuntimeError:
            try:
                os.kill(gc, signal.SIGKILL)
            except OSError:
                pass
            return 0
    finally:
        tool.down(d)


# ------------------------------------------------------------- the run

tools, skipped = [Sysg()], []
for t in (Runit(), S6(), Supervisord()):
    missing = [p for p in t.progs if not shutil.which(p)]
    (skipped.append("%s (missing: %s)" % (t.name, " ".join(missing)))
     if missing else tools.append(t))

rows = [("pss N=1 KiB", lambda t: bench_pss(t, 1)),
        ("pss N=10 KiB", lambda t: bench_pss(t, 10)),
        ("pss N=40 KiB", lambda t: bench_pss(t, 40)),
        ("restart ms", bench_restart),
        ("status ms (10 svcs)", bench_status),
        ("dag ms (ideal 1500)", bench_dag),
        ("contain (1 = yes)", bench_contain)]
res = {}
try:
    for label, fn in rows:
        for t in tools:
            try:
                res[label, t.name] = fn(t)
            except Exception as e:      # one failing cell, not the table
                print("%s / %s: failed: %s" % (t.name, label, e),
                      file=sys.stderr)
                res[label, t.name] = None
finally:
    shutil.rmtree(WORK, ignore_errors=True)

print("load average: %s  cores: %d  runs per timing: %d" %
      (" ".join(read("/proc/loadavg").split()[:3]), os.cpu_count(), RUNS))
w = 22
print("%-*s" % (w, "scenario") +
      "".join("%16s" % t.name for t in tools))
for label, _ in rows:
    cells = []
    vals = [res[label, t.name] for t in tools[1:]
            if res[label, t.name] is not None]
    higher_better = label.startswith("contain")
    best = (max(vals) if higher_better else min(vals)) if vals else None
    for t in tools:
        v = res[label, t.name]
        if v is None:
            cells.append("n/a")
        elif higher_better:
            cells.append("%d" % v)
        elif t.name == "sysg" and best:
            cells.append("%.1f (x%.2f)" % (v, v / best))
        else:
            cells.append("%.1f" % v)
    print("%-*s" % (w, label) + "".join("%16s" % c for c in cells))
print("(xR: sysg's value over the best peer's; below 1 sysg is better)")
if skipped:
    print("skipped: " + ", ".join(skipped))
PY
