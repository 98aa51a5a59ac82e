#!/usr/bin/env python3
"""A controllable HTTP/HTTPS backend for probe tests (stdlib only).

Binds --bind (127.0.0.x or ::1) on --port (0: ephemeral) and prints "PORT <n>" on
stdout once listening. The behaviour of every request is read from --mode-file
(when it exists) or --mode:

  200        200 with body "OK"          500       500 with body "error"
  wrongbody  200 with body "NOPE"        redirect  301 to https://www.example.com/moved
  hang       read the request, never answer (until the process is stopped)
  close      read the request, reset the connection (RST)
  slow       answer 200 after --slow-seconds
  garbage    send a line that is not HTTP, then close
  MODE@A,B   MODE for requests from client addresses A and B only, 200 for the rest
  delay:MS   200 after MS milliseconds
  jitter:MS:PCT:FAIL  200 after MS ± PCT % (uniform), or 500 for FAIL % of requests
  ramp:A:B:S 200 after a delay climbing from A to B ms over S seconds since the mode
             was set (the mode file's time), then hang
  reset      like close; with --keepalive also resets every idle kept connection at once

--keepalive keeps connections open between requests (HTTP/1.1 persistent; the
default answers with "Connection: close").

--tls-cert/--tls-key serve HTTPS. --log appends "METHOD PATH HOST UA" per request.
Stop it with SIGTERM (by PID).
"""
import argparse
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()


# Script injection attempts for the incident page's test (tests/integration/test_incident_page.py).
HTML_BODY = "<script>document.title='pwned-by-body'; window.__pwned = 'body';</script><b>bold</b>"
HTML_LOCATION = "https://x.example/<img src=x onerror=\"window.__pwned='location'\">"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", default="200")
    ap.add_argument("--mode-file")
    ap.add_argument("--slow-seconds", type=float, default=3.0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--log")
    ap.add_argument("--keepalive", action="store_true")
    args = ap.parse_args()
    conns = set()  # open connections (with --keepalive), for "reset"
    conns_lock = threading.Lock()

    def mode():
        if args.mode_file:
            try:
                with open(args.mode_file) as f:
                    m = f.read().strip()
                    if m:
                        return m
            except OSError:
                pass
        return args.mode

    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, code, body, extra=()):
            data = body.encode()
            self.send_response(code)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            if not args.keepalive:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.close_connection = not args.keepalive

        def setup(self):
            super().setup()
            if args.keepalive:
                with conns_lock:
                    conns.add(self.connection)

        def finish(self):
            if args.keepalive:
                with conns_lock:
                    conns.discard(self.connection)
            try:
                super().finish()
            except OSError:
                pass

        def handle_any(self):
            if args.log:
                with log_lock, open(args.log, "a") as f:
                    f.write("%s %s %s %s\n" % (self.command, self.path, self.headers.get("Host"),
                                               self.headers.get("User-Agent")))
            m = mode()
            if "@" in m:  # "500@127.0.0.21,127.0.0.22": only these clients see 500, the rest 200
                m, _, who = m.partition("@")
                if self.client_address[0] not in who.split(","):
                    m = "200"
            if m == "200":
                self.answer(200, "OK")
            elif m == "500":
                self.answer(500, "error")
            elif m == "wrongbody":
                self.answer(200, "NOPE")
            elif m == "html":  # a body a browser would run, were it ever parsed as HTML
                self.answer(200, HTML_BODY)
            elif m == "html-redirect":  # the Location header lands in the probe's result
                self.answer(302, HTML_BODY, [("Location", HTML_LOCATION)])
            elif m == "redirect":
                self.answer(301, "moved", [("Location", "https://www.example.com/moved")])
            elif m == "slow":
                STOP.wait(args.slow_seconds)
                self.answer(200, "OK")
            elif m == "hang":
                STOP.wait(600)
                self.close_connection = True
            elif m.startswith("delay:"):
                STOP.wait(float(m.split(":")[1]) / 1000)
                self.answer(200, "OK")
            elif m.startswith("jitter:"):
                _, ms, pct, fail = m.split(":")
                if random.random() * 100 < float(fail):
                    self.answer(500, "random failure")
                else:
                    d = float(ms) * (1 + random.uniform(-1, 1) * float(pct) / 100)
                    STOP.wait(max(0.0, d) / 1000)
                    self.answer(200, "OK")
            elif m.startswith("ramp:"):
                _, a, b, secs = m.split(":")
                try:
                    t = time.time() - os.stat(args.mode_file).st_mtime
                except (OSError, TypeError):
                    t = 0.0
                if t >= float(secs):
                    STOP.wait(600)
                    self.close_connection = True
                else:
                    STOP.wait((float(a) + (float(b) - float(a)) * t / float(secs)) / 1000)
                    self.answer(200, "OK")
            elif m in ("close", "reset"):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
            elif m == "garbage":
                self.wfile.write(b"this is not http\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True
            else:
                self.answer(500, "unknown mode " + m)

        do_GET = do_HEAD = do_POST = handle_any

    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128
        address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET

        def finish_request(self, request, client_address):
            # The TLS handshake runs in the connection's own thread, so one stuck
            # client never blocks the others.
            if ctx is not None:
                try:
                    request.settimeout(10)
                    request = ctx.wrap_socket(request, server_side=True)
                    request.settimeout(None)
                except (ssl.SSLError, OSError):
                    return
            try:
                super().finish_request(request, client_address)
            except (ConnectionError, OSError, ssl.SSLError):
                pass

        def handle_error(self, request, client_address):
            pass

        def shutdown_request(self, request):
            # A connection reset on purpose (SO_LINGER 0) must close without a FIN first.
            try:
                if request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8) == struct.pack("ii", 1, 0):
                    request.close()
                    return
            except OSError:
                pass
            super().shutdown_request(request)

    def resetter():
        # "reset": every idle kept connection gets an RST at once. SHUT_RD wakes the
        # handler blocked reading the next request; its close then sends the RST.
        while not STOP.wait(0.02):
            if not mode().startswith("reset"):
                continue
            with conns_lock:
                victims = list(conns)
                conns.clear()
            for c in victims:
                try:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    c.shutdown(socket.SHUT_RD)
                except OSError:
                    pass

    if args.keepalive and args.mode_file:
        threading.Thread(target=resetter, daemon=True).start()

    srv = Server((args.bind, args.port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    STOP.set()


if __name__ == "__main__":
    sys.exit(main())
