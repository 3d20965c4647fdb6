#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An HTTP/1.1 client for test_req.py: N requests on one kept-alive connection to
127.0.0.1:PORT, request i a GET, POST (a small body) or HEAD as i % 3 says, and the first
K of them to /fail (httpsrv.py answers those 500). Prints 'ready PID', waits for a line on
stdin, then makes the requests and prints what it got, per method and status class, and
the nanoseconds they took in all: 'GET 2xx 7 POST 5xx 2 ... ns 12345678' (the reference
the tests compare with).

    httpcli.py PORT N K
"""
import collections
import http.client
import os
import sys
import time

METHODS = ("GET", "POST", "HEAD")


def main():
    port, n, k = (int(a) for a in sys.argv[1:4])
    print("ready %d" % os.getpid(), flush=True)
    sys.stdin.readline()
    got = collections.Counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.monotonic_ns()
    for i in range(n):
        method = METHODS[i % 3]
        path = "/fail/%d" % i if i < k else "/ok/%d" % i
        body = b"x" * 10 if method == "POST" else None
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        resp.read()
        got[(method, "%dxx" % (resp.status // 100))] += 1
    took = time.monotonic_ns() - t0
    conn.close()
    print(" ".join("%s %s %d" % (m, s, c) for (m, s), c in sorted(got.items())),
          "ns", took, flush=True)


if __name__ == "__main__":
    main()
