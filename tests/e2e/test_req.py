# SPDX-License-Identifier: GPL-2.0
"""ksight req against real requests on loopback: an HTTP/1.1 server and clients (helpers
httpsrv.py and httpcli.py, Python's http.server and http.client; curl), and Debian's
redis-server with redis-benchmark and redis-cli, each on a port of its own. The
references are what the clients got (httpcli's and curl's status codes), what the server
answered (httpsrv's counts), and Redis' own INFO commandstats and errorstats. Client and
server both run here: every request is counted twice, once for each role."""
import collections
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, run_ksight

HERE = os.path.dirname(os.path.abspath(__file__))
PY_HELPERS = os.path.join(HERE, "helpers")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def req(args):
    k = Ksight(["req", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


class HttpServer:
    """httpsrv.py on 127.0.0.1 (a port of the kernel's choice); stop() gives [answered,
    answered 500]."""

    def __init__(self):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(PY_HELPERS, "httpsrv.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        words = self.proc.stdout.readline().decode().split()
        assert words and words[0] == "ready", words
        self.pid, self.port = int(words[1]), int(words[2])

    def stop(self):
        out, _ = self.proc.communicate(timeout=30 * SLOW)
        return [int(x) for x in out.split()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def http_client(port, n, k):
    """httpcli.py (a Helper: go(), then result())."""
    return Helper(os.path.join(PY_HELPERS, "httpcli.py"), port, n, k)


def parse_counts(words):
    """httpcli's 'GET 2xx 7 POST 5xx 2 ... ns T' as ({(method, status): count}, T)."""
    assert words[-2] == "ns", words
    return ({(words[i], words[i + 1]): int(words[i + 2]) for i in range(0, len(words) - 2, 3)},
            int(words[-1]))


def rows(k, pid=None, role=None):
    return [r for r in k.records("req")
            if (pid is None or r["pid"] == pid) and (role is None or r["role"] == role)]


def by_method_status(recs):
    c = collections.Counter()
    for r in recs:
        c[(r["method"], r["status"])] += r["requests"]
    return dict(c)


def assert_no_loss(k):
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", ["fentry", "tp_btf", "raw_tp", "tp"])
def test_http_exact(kernel_hooks, hooks):
    """N requests on one connection, K of them answered 500: both roles count each
    request once, with its method and status class, exactly as the client got them and
    the server answered them; errors are the 5xx ones."""
    if hooks == "fentry" and not kernel_hooks.usable("req", "fentry"):
        pytest.skip("this kernel refuses fentry: test_fentry_refused_here")
    n, k_fail = max(30 // SCALE, 6), 4
    srv = HttpServer()
    cli = None
    try:
        k = req(["--port", srv.port, "--hooks", hooks])
        cli = http_client(srv.port, n, k_fail)
        cli.go()
        want, took = parse_counts(cli.result())
    finally:
        if cli:
            cli.kill()
        answered = srv.stop()
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert sum(want.values()) == n and answered == [n, k_fail]
    assert sum(c for (m, s), c in want.items() if s == "5xx") == k_fail
    for role, pid in (("client", cli.pid), ("server", srv.pid)):
        recs = rows(k, pid, role)
        assert by_method_status(recs) == want, (role, recs)
        assert sum(r["errors"] for r in recs) == k_fail
        assert all(r["proto"] == "http" for r in recs)
        if role == "server":
            assert {(r["lport"], r["raddr"], r["rport"]) for r in recs} == {(srv.port, "-", 0)}
        else:
            assert {(r["raddr"], r["rport"]) for r in recs} == {("127.0.0.1", srv.port)}
        assert all(r["hist"]["count"] == r["requests"] for r in recs), recs
    # latency: the server's answer lies inside the client's wait, which lies inside the
    # client's whole loop
    lat = {role: sum(r["latency_sum_ns"] for r in rows(k, None, role))
           for role in ("client", "server")}
    assert 0 < lat["server"] < lat["client"] < took, (lat, took)
    assert {r["pid"] for r in rows(k)} == {cli.pid, srv.pid}
    assert_no_loss(k)


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("req", "fentry"):
        pytest.skip("this kernel allows fentry")
    r = run_ksight(["req", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "fentry" in r.stderr, r.stderr
