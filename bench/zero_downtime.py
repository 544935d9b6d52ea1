#!/usr/bin/env python3
# bench/zero_downtime.py - zero downtime without a proxy, measured.
#
# A project whose service `web` (bench/zdt_server.py, INSTANCES copies)
# listens on a port sysg holds; a load loop of REQUESTS sequential HTTP
# requests per client (CLIENTS clients) against that port; during it,
# `sysg restart -s web` (or `sysg deploy --service web` of a config whose
# GEN changed, --op deploy; ROUNDS times, or --op restart,deploy,...).
# Counts failed requests and refused connections, and checks that every
# request sent after the last restart or deploy returned is answered by a
# process of the new generation (a new pid, and after a deploy the new
# GEN).
#
# Usage: bench/zero_downtime.py SYSG [--instances N] [--requests N]
#        [--clients N] [--rounds N] [--readiness notify|settle]
#        [--op restart|deploy|OP,OP...] [--strategy NAME]
#        [--before kill|upgrade]
# Prints one JSON object; exit 0 when nothing failed.
import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sysg(a, env, cwd, *args):
    return subprocess.run([a.sysg] + list(args), env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def status_pids(a, env, cwd):
    r = sysg(a, env, cwd, "status", "--json")
    pids = set()
    for u in json.loads(r.stdout)["units"]:
        if (u["name"] == "web" or u["name"].startswith("web.")) and u["pid"]:
            pids.add(u["pid"])
    return pids


def write_config(a, work, port, gen):
    with open(work + "/sysg.yaml.new", "w") as f:
        f.write('version: "1"\nservices:\n  web:\n'
                '    command: "python3 zdt_server.py ${GEN} 0 %d"\n'
                '    env: { vars: { GEN: "%s" } }\n' % (port, gen))
        if not a.baseline:
            f.write('    listen: [ "tcp://127.0.0.1:%d" ]\n' % port)
        if a.instances != 1:
            f.write("    instances: %d\n" % a.instances)
        if a.readiness == "notify":
            f.write("    readiness: notify\n")
        f.write("    deployment: { drain: 5s%s }\n" %
                (", strategy: " + a.strategy if a.strategy else ""))
    os.rename(work + "/sysg.yaml.new", work + "/sysg.yaml")


def listen_inode(port):
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            x = line.split()
            if x[1].endswith(want) and x[3] == "0A":
                return x[9]
    return None


def holds(pid, inode):
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            if os.readlink(d + "/" + fd) == "socket:[%s]" % inode:
                return True
        except OSError:
            pass
    return False


def supervisor_again(a, env, work, port, out):
    """--before: a new supervisor (SIGKILL + start, or upgrade) must take
    the listening socket back from the services it adopts."""
    with open(work + "/state/sysg.pid") as f:
        old = int(f.read().split()[0])
    if a.before == "kill":
        os.kill(old, 9)
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d" % old) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        r = sysg(a, env, work, "start", "--daemonize")
    else:
        r = sysg(a, env, work, "upgrade")
    out["before_exit"] = r.returncode
    with open(work + "/state/sysg.pid") as f:
        new = int(f.read().split()[0])
    inode = listen_inode(port)
    out["supervisor_holds_socket"] = bool(inode) and holds(new, inode)
    out["supervisor_pid_changed"] = new != old


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sysg")
    p.add_argument("--instances", type=int, default=1)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--readiness", default="notify")
    p.add_argument("--op", default="restart",
                   help="what each round does: restart (sysg restart -s "
                   "web) or deploy (sysg deploy --service web, after the "
                   "config's GEN was changed: the new generation must "
                   "answer); a comma-separated list gives one per round "
                   "(--rounds is then its length)")
    p.add_argument("--before", default=None, choices=["kill", "upgrade"],
                   help="before the load: SIGKILL the supervisor and start "
                   "a new one (it adopts the services), or `sysg upgrade`; "
                   "either way the new supervisor must hold the port's "
                   "socket again")
    p.add_argument("--strategy", default=None,
                   help="deployment.strategy (default: sysg's, immediate)")
    p.add_argument("--baseline", action="store_true",
                   help="no listen: the service binds the port itself")
    a = p.parse_args()
    a.sysg = os.path.abspath(a.sysg)
    a.ops = a.op.split(",")
    if len(a.ops) > 1:
        a.rounds = len(a.ops)
    else:
        a.ops = a.ops * a.rounds
    for op in a.ops:
        if op not in ("restart", "deploy"):
            p.error("--op: restart or deploy, not %r" % op)
    work = tempfile.mkdtemp(prefix="sysg-zdt-")
    port = free_port()
    env = dict(os.environ, SYSG_STATE_DIR=work + "/state", HOME=work)
    shutil.copy(os.path.join(HERE, "zdt_server.py"), work)
    write_config(a, work, port, "g0")
    out = {"op": a.op, "baseline": a.baseline, "instances": a.instances,
           "clients": a.clients, "strategy": a.strategy, "before": a.before,
           "readiness": a.readiness, "rounds": a.rounds}
    try:
        r = sysg(a, env, work, "start", "--daemonize")
        if r.returncode != 0:
            out["error"] = "start: " + r.stderr
            print(json.dumps(out))
            return 1
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:     # the service is serving
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        if a.before:
            supervisor_again(a, env, work, port, out)
        res = run_load(a, env, work, port, out) and \
            out.get("supervisor_holds_socket", True)
    except Exception as e:      # noqa: BLE001 (reported)
        out["error"] = "%s: %s" % (type(e).__name__, e)
        res = False
    finally:
        if os.environ.get("ZDT_LOG"):
            with open(work + "/state/logs/supervisor.log") as f:
                out["log"] = f.read().splitlines()[-12:]
        sysg(a, env, work, "stop")
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))
    return 0 if res else 1


def run_load(a, env, work, port, out):
    lock = threading.Lock()
    results = []        # (t_sent, ok, error kind, pid, generation)
    done = threading.Event()

    ops_done = []       # when the last op returned

    def more(n):
        # REQUESTS each, and on until a moment after the last op returned
        # (so that some requests are sent after it, however long it took)
        return n < a.requests or not ops_done or \
            time.monotonic() < ops_done[0] + 0.5

    def client():
        n = 0
        while more(n):
            n += 1
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", "/")
                body = c.getresponse().read().decode()
                c.close()
                rec = (t0, True, None, int(body.split()[1]),
                       body.split()[0])
            except ConnectionRefusedError:
                rec = (t0, False, "refused", 0, None)
            except Exception as e:          # noqa: BLE001 (counted)
                rec = (t0, False, type(e).__name__, 0, None)
            with lock:
                results.append(rec)

    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    t_start = time.monotonic()
    for t in threads:
        t.start()
    restarts = []       # (returned at, new pids, seconds it took, ...)
    total = a.requests * a.clients
    gen = "g0"
    deploy_lines = []
    try:
        for k, op in enumerate(a.ops):
            # restart once a share of the load has been sent
            while len(results) < total * (k + 1) // (a.rounds + 2):
                time.sleep(0.01)
            before = status_pids(a, env, work)
            if op == "deploy":      # a new definition to roll out
                gen = "g%d" % (k + 1)
                write_config(a, work, port, gen)
            t0 = time.monotonic()
            r = sysg(a, env, work, "restart", "-s", "web") if op == "restart" \
                else sysg(a, env, work, "deploy", "--service", "web")
            t1 = time.monotonic()
            after = status_pids(a, env, work)
            if op == "deploy":
                deploy_lines.append(r.stdout.strip().splitlines())
            restarts.append((t1, after, t1 - t0, before, r.returncode,
                             r.stderr.strip(), op))
    finally:
        ops_done.append(time.monotonic())
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t_start
    failed = [r for r in results if not r[1]]
    stale = 0
    old_gen = 0
    last_t, last_pids = restarts[-1][0], restarts[-1][1]
    for r in results:
        if r[1] and r[0] > last_t and r[3] not in last_pids:
            stale += 1
        if r[1] and r[0] > last_t and r[4] != gen:
            old_gen += 1
    out.update({
        "requests": len(results),
        "ok": len(results) - len(failed),
        "failed": len(failed),
        "refused": sum(1 for r in failed if r[2] == "refused"),
        "errors": sorted(set(r[2] for r in failed)),
        "after_last_restart": sum(1 for r in results if r[0] > last_t),
        "stale_after_restart": stale,
        "generation": gen,
        "old_generation_after": old_gen,
        "ops": [x[6] for x in restarts],
        "restart_s": [round(x[2], 3) for x in restarts],
        "deploy_output": deploy_lines,
        "restart_exit": [x[4] for x in restarts],
        "restart_stderr": [x[5] for x in restarts if x[5]],
        "pids_changed": all(not (x[1] & x[3]) for x in restarts),
        "req_per_s": round(len(results) / elapsed, 1),
    })
    return (not failed and not stale and not old_gen and
            out["pids_changed"] and
            out["after_last_restart"] > 0 and
            all(x[4] == 0 for x in restarts))


sys.exit(main())
