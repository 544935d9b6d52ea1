# bench/zdt_server.py - the HTTP service of the zero-downtime runs
# (bench/zero_downtime.py, tests/check_zero_downtime.c): serves on the
# socket sysg passes as fd 3 (sd_listen_fds(3)), answers every GET with
# "GENERATION PID", says READY=1 when NOTIFY_SOCKET is set, and on
# SIGTERM stops accepting, finishes the requests in flight, and exits.
# With a third argument PORT and no socket from sysg it binds 127.0.0.1:
# PORT itself (the baseline: what a restart looks like without `listen:`).
import http.server
import os
import signal
import socket
import socketserver
import sys
import threading

GEN = sys.argv[1] if len(sys.argv) > 1 else "gen"
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        if DELAY:
            threading.Event().wait(DELAY)
        body = ("%s %d\n" % (GEN, os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False
    block_on_close = True       # server_close() waits for in-flight ones


def main():
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or \
            os.environ.get("LISTEN_FDS") != "1":
        if len(sys.argv) < 4:
            sys.exit("no socket from sysg (LISTEN_PID/LISTEN_FDS)")
        srv = Server(("127.0.0.1", int(sys.argv[3])), Handler)
    else:
        srv = Server(("127.0.0.1", 0), Handler, bind_and_activate=False)
        srv.socket.close()
        srv.socket = socket.socket(fileno=3)
    # another process accepts on the same socket: a readable socket may
    # have nothing left to accept by the time we call accept()
    srv.socket.setblocking(False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    t = threading.Thread(target=srv.serve_forever, args=(0.05,))
    t.start()
    addr = os.environ.get("NOTIFY_SOCKET")
    if addr:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1", "\0" + addr[1:] if addr[0] == "@" else addr)
    # a signal may land on another thread: Python runs the handler only
    # when the main thread wakes up, so wake it up regularly
    while not stop.wait(0.05):
        pass
    srv.shutdown()              # no more accept()
    srv.server_close()          # waits for the requests in flight
    sys.exit(0)


main()
