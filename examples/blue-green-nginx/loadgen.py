#!/usr/bin/env python3
"""A bounded load loop through a proxy, for zero-downtime checks.

    loadgen.py URL --min N [--until FILE] [--started FILE] [--threads T]
               [--max-seconds S]

Sends GET URL from T threads (a new connection per request, like many
clients) until at least N requests were sent AND (with --until) FILE
exists, or S seconds passed; creates --started FILE after the first
answer (so a caller can wait until load flows). Prints one JSON object:
    {"sent": .., "ok": .., "failed": .., "errors": {..}, "bodies": {..},
     "seconds": ..}
"bodies" counts each distinct answer (e.g. "version=v2 slot=8001") with the
pid left out. Exit status 0 when no request failed, 1 otherwise.
"""
import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--min", type=int, default=2000)
    ap.add_argument("--until")
    ap.add_argument("--started")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=120)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    path = u.path or "/"
    lock = threading.Lock()
    st = {"sent": 0, "ok": 0, "failed": 0, "errors": {}, "bodies": {}}
    start = time.monotonic()

    def done():
        if time.monotonic() - start > a.max_seconds:
            return True
        return st["sent"] >= a.min and (not a.until or os.path.exists(a.until))

    def worker():
        while True:
            with lock:
                if done():
                    return
                st["sent"] += 1
            err = body = None
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("GET", path, headers={"Connection": "close"})
                r = c.getresponse()
                data = r.read().decode(errors="replace").strip()
                c.close()
                if r.status != 200:
                    err = "HTTP %d" % r.status
                else:
                    body = re.sub(r" pid=\d+", "", data)
            except Exception as e:  # every failure counts, whatever it is
                err = type(e).__name__
            with lock:
                if err:
                    st["failed"] += 1
                    st["errors"][err] = st["errors"].get(err, 0) + 1
                else:
                    st["ok"] += 1
                    st["bodies"][body] = st["bodies"].get(body, 0) + 1
                if a.started and not st.get("_started"):
                    open(a.started, "w").close()
                    st["_started"] = True

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    st.pop("_started", None)
    st["seconds"] = round(time.monotonic() - start, 3)
    print(json.dumps(st, sort_keys=True))
    return 0 if st["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
