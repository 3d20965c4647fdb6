#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A small HTTP/1.1 server for test_req.py, on 127.0.0.1 (or the address given): every
path answers 200 with a short body, except paths under /fail, which answer 500. Prints
'ready PID PORT' once listening (port 0: the kernel's choice), serves until stdin closes,
then prints how many requests it answered and how many with 500.

    httpsrv.py [PORT [ADDR]]
"""
import http.server
import os
import sys
import threading

COUNT = {"all": 0, "fail": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: several requests on one connection

    def answer(self, body):
        fail = self.path.startswith("/fail")
        COUNT["all"] += 1
        COUNT["fail"] += fail
        data = b"failed\n" if fail else b"ok\n"
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n:
            self.rfile.read(n)
        self.answer(True)

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    srv = http.server.HTTPServer((addr, port), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    print("ready %d %d" % (os.getpid(), srv.server_address[1]), flush=True)
    sys.stdin.read()
    srv.shutdown()
    print("%d %d" % (COUNT["all"], COUNT["fail"]), flush=True)


if __name__ == "__main__":
    main()
