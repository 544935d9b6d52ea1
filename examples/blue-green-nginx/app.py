#!/usr/bin/env python3
"""A tiny HTTP service that says which instance answered.

GET /        -> 200 "version=<APP_VERSION> slot=<port> pid=<pid>\n"
GET /health  -> 200 "ok\n"

It listens on 127.0.0.1:$PORT (blue/green: sysg sets PORT to the slot),
or, when PORT is unset, on the first free port of $PORTS ("8000,8001":
rolling deploys, where the new instance starts beside the old one behind
an nginx upstream that lists both ports). On SIGTERM it stops accepting and
finishes the requests in flight before exiting, as a real service must for
zero-downtime deploys.
"""
import errno
import http.server
import os
import signal
import socketserver
import sys
import threading

VERSION = os.environ.get("APP_VERSION", "v1")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            body = b"ok\n"
        else:
            body = ("version=%s slot=%d pid=%d\n" % (
                VERSION, self.server.server_address[1], os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # quiet: one line per request is noise
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False      # server_close() waits for requests in flight
    block_on_close = True
    allow_reuse_address = True


def bind():
    if os.environ.get("PORT"):
        ports = [int(os.environ["PORT"])]
    else:
        ports = [int(p) for p in os.environ.get("PORTS", "8000").split(",")]
    for port in ports:
        try:
            return Server(("127.0.0.1", port), Handler)
        except OSError as e:
            if e.errno != errno.EADDRINUSE or port == ports[-1]:
                raise
    raise SystemExit("no free port in %s" % ports)


def main():
    server = bind()

    def stop(signum, frame):
        # shutdown() waits for serve_forever(): call it from another thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening on 127.0.0.1:%d (version %s)" % (
        server.server_address[1], VERSION), flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()       # joins the request threads
    sys.exit(0)


if __name__ == "__main__":
    main()
