#!/usr/bin/env python3
"""A stand-in for one region of a site, for the failover demo.

Serves GET /health on ADDRESS:PORT: 200 "ok" while the file DOWN_FLAG does not
exist, 503 while it does. Every other path answers "region NAME". Stops on
SIGTERM/SIGINT.
"""
import http.server
import os
import signal
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: region.py NAME ADDRESS PORT DOWN_FLAG")
    name, address, port, flag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                down = os.path.exists(flag)
                body = b"down\n" if down else b"ok\n"
                self.send_response(503 if down else 200)
            else:
                body = f"region {name}\n".encode()
                self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((address, port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
