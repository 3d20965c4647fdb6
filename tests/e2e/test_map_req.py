# SPDX-License-Identifier: GPL-2.0
"""Requests on the map's edges from the server's end (docs/map.md, "Requests on edges"):
an HTTP server in a network namespace, in a cgroup named like a unit below the cgroup the
agent watches (--cgroup); two clients in another namespace, reaching it over a veth pair
from the same address: one in a unit beside the server's (watched: both ends here), one
in no watched cgroup (only the server's end is seen). The agent's map holds exactly two
edges into the server's port: the watched client's unit -> server, its requests and
errors exactly (counted once, the client's rows), and the unwatched client's address ->
server, exactly its requests and 5xx answers (the server's rows), not the watched
client's too. Through DNAT (a service address in the client's namespace sent to the
server), the client's rows, which name the address it asked for, land on the edge to the
real server."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from attach_util import Cgroup
from conftest import SLOW, UNIQ, Ksight, free_port, run_ksight
from tcp_util import PORT, nspair  # noqa: F401 (a fixture: two namespaces, a veth pair)
from test_tcp_nat import VPORT, natpair  # noqa: F401 (a fixture: the same, with a DNAT rule)

N_REMOTE, E_REMOTE = 9, 3     # the unwatched client's requests, of which 500s
N_BOTH, E_BOTH = 5, 1         # the watched client's

# The server: GET /ok answers 200, anything else 500; HTTP/1.0, a connection a request.
# argv: address, port. Prints "ready".
SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"fine\n" if self.path == "/ok" else b"failed\n"
        self.send_response(200 if self.path == "/ok" else 500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H)
print("ready", flush=True)
s.serve_forever()
"""

# A client: N GETs, the first E of /fail, each on a connection of its own (from address
# SRC when given); prints the status codes it got. argv: address, port, N, E [, SRC].
CLIENT = r"""
import socket, sys
addr, port, n, e = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
src = (sys.argv[5], 0) if len(sys.argv) > 5 else None
codes = []
for i in range(n):
    with socket.create_connection((addr, port), source_address=src) as c:
        c.sendall(b"GET %s HTTP/1.0\r\nHost: srv\r\n\r\n" % (b"/fail" if i < e else b"/ok"))
        got = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    codes.append(got.split()[1].decode())
print(" ".join(codes), flush=True)
"""


class Tree:
    """A cgroup the agent watches with two units below it, and their names."""

    def __init__(self):
        self.top = Cgroup("ksreq-%s" % UNIQ)
        self.srv = Cgroup("ksreq-%s/ksreq-srv-%s.service" % (UNIQ, UNIQ))
        self.cli = Cgroup("ksreq-%s/ksreq-cli-%s.service" % (UNIQ, UNIQ))
        self.srv.name = "ksreq-srv-%s.service" % UNIQ
        self.cli.name = "ksreq-cli-%s.service" % UNIQ

    def close(self):
        for c in (self.srv, self.cli, self.top):
            c.close()


def in_ns(ns, code, *args, cgroup=None, **kw):
    """Python @code with @args in network namespace @ns (in @cgroup when given)."""
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code] +
                            [str(a) for a in args], stdout=subprocess.PIPE, text=True,
                            preexec_fn=(lambda: cgroup.add(os.getpid())) if cgroup else None,
                            **kw)


def client(ns, addr, port, n, e, cgroup=None, src=None):
    p = in_ns(ns, CLIENT, addr, port, n, e, *([src] if src else []), cgroup=cgroup)
    out, _ = p.communicate(timeout=60 * SLOW)
    assert p.returncode == 0
    codes = out.split()
    assert codes == ["500"] * e + ["200"] * (n - e), codes


def stop_all(srv, k, t):
    """The test's server process, agent and units, whichever were started."""
    if srv and srv.poll() is None:
        srv.kill()
        srv.wait()
    if k:
        k.stop()
    t.close()


def test_remote_client_and_both_ends(nspair, tmp_path):
    t = Tree()
    db = tmp_path / "k.db"
    srv = k = None
    port, listen = PORT + 21, "127.0.0.1:%d" % free_port()
    a_addr, b_addr = nspair.ip4
    try:
        k = Ksight(["run", "--modules", "tcplife,req", "--cgroup", t.top.path, "--listen",
                    listen, "--store", str(db), "1"])
        k.wait_ready()
        srv = in_ns(nspair.b, SERVER, b_addr, port, cgroup=t.srv)
        assert srv.stdout.readline().strip() == "ready"
        client(nspair.a, b_addr, port, N_REMOTE, E_REMOTE)             # not watched
        client(nspair.a, b_addr, port, N_BOTH, E_BOTH, cgroup=t.cli)   # watched
        srv.kill()
        srv.wait()
        time.sleep(2.5)     # the last interval's rows and sessions into the store
        with urllib.request.urlopen("http://%s/api/map?since=10m" % listen, timeout=30) as h:
            live = json.loads(h.read())
        assert k.stop() == 0, k.stderr
        k = None
        r = run_ksight(["map", "--db", str(db), "--since", "10m", "--json"])
        assert r.returncode == 0, r.stderr
        for m in (live, json.loads(r.stdout)):
            into = {(e["client"], e["seen"]): e for e in m["edges"]
                    if e["server"] == t.srv.name and e["port"] == port}
            assert sorted(into) == sorted([(a_addr, "server"), (t.cli.name, "both")]), \
                json.dumps(m["edges"], indent=0)
            rem, both = into[(a_addr, "server")], into[(t.cli.name, "both")]
            assert rem["connections"] == N_REMOTE and both["connections"] == N_BOTH
            # the server's rows for the client it alone saw; the client's where both were
            assert (rem["requests"], rem["request_errors"]) == (N_REMOTE, E_REMOTE), rem
            assert (both["requests"], both["request_errors"]) == (N_BOTH, E_BOTH), both
            for e in (rem, both):
                assert 0 < e["request_p50_ns"] <= e["request_p99_ns"], e
                assert not e["incomplete"], e
        # the stored rows: the server's name its client's address and only the unwatched
        # client's requests (none for the connections whose client end was counted)
        with sqlite3.connect(str(db)) as c:
            rows = [json.loads(x[0]) for x in c.execute(
                "SELECT json FROM events WHERE type = 'req_row' AND service = ?",
                (t.srv.name,))]
        assert rows and {(x["role"], x["raddr"], x["lport"]) for x in rows} == \
            {("server", a_addr, port)}, rows
        assert sum(x["requests"] for x in rows) == N_REMOTE
        assert sum(x["errors"] for x in rows) == E_REMOTE
        # the table: the remote client's edge with its requests
        r = run_ksight(["map", "--db", str(db), "--since", "10m"])
        assert r.returncode == 0, r.stderr
        line = [l.split() for l in r.stdout.splitlines()
                if l.startswith("%s -> %s:%d " % (a_addr, t.srv.name, port))]
        assert len(line) == 1 and line[0][10] == str(N_REMOTE), r.stdout
    finally:
        stop_all(srv, k, t)


def test_dnat_requests_on_the_real_edge(natpair, tmp_path):
    """Both ends watched; the client asks the service address VIP:80, which the rule in
    its namespace sends to the server's real port, and the server straight: one edge unit
    -> server:PORT, all the requests on it, exactly."""
    p, vip = natpair, natpair.vip["ipv4"]
    b_addr, port = p.ip4[1], PORT + 5     # where the rule sends VIP:80
    t = Tree()
    db = tmp_path / "k.db"
    srv = k = None
    try:
        k = Ksight(["run", "--modules", "tcplife,req", "--cgroup", t.top.path, "--store",
                    str(db), "--listen", "127.0.0.1:%d" % free_port(), "1"])
        k.wait_ready()
        srv = in_ns(p.b, SERVER, b_addr, port, cgroup=t.srv)
        assert srv.stdout.readline().strip() == "ready"
        client(p.a, vip, VPORT, N_REMOTE, E_REMOTE, cgroup=t.cli)     # through DNAT
        client(p.a, b_addr, port, N_BOTH, E_BOTH, cgroup=t.cli)       # straight
        srv.kill()
        srv.wait()
        time.sleep(2.5)
        assert k.stop() == 0, k.stderr
        k = None
        r = run_ksight(["map", "--db", str(db), "--since", "10m", "--json"])
        assert r.returncode == 0, r.stderr
        m = json.loads(r.stdout)
        mine = [e for e in m["edges"] if e["server"] == t.srv.name]
        assert [(e["client"], e["port"], e["seen"]) for e in mine] == \
            [(t.cli.name, port, "both")], json.dumps(m["edges"], indent=0)
        e = mine[0]
        assert (e["connections"], e["dnat_connections"]) == (N_REMOTE + N_BOTH, N_REMOTE), e
        assert (e["requests"], e["request_errors"]) == \
            (N_REMOTE + N_BOTH, E_REMOTE + E_BOTH), e
        assert not [x for x in m["edges"] if x["server"].startswith(vip)], m["edges"]
    finally:
        stop_all(srv, k, t)
