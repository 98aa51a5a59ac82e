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

--tls-cert/--tls-key serve HTTPS. --log appends "METHOD PATH HOST UA" per request.
Stop it with SIGTERM (by PID).
"""
import argparse
import os
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
    args = ap.parse_args()

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
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.close_connection = True

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
            elif m == "close":
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

    srv = Server((args.bind, args.port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    STOP.set()


if __name__ == "__main__":
    sys.exit(main())
