# SPDX-License-Identifier: GPL-2.0
"""The map of a three-tier workload (docs/map.md): a client -> a small HTTP server ->
Debian's redis-server and PostgreSQL, each tier in a cgroup of its own named like a
systemd unit. The client makes N HTTP requests, each on a connection of its own; for
each, the web tier opens a connection to redis (one PING) and runs psql (one connection
to PostgreSQL). `ksight map --json` from the agent's store holds exactly the three edges
client -> web -> {redis, postgres}, each seen at both ends with N connections, the client's
and redis' bytes exact; with the req module on, the requests on them (the client's N
HTTP requests on client -> web, the web tier's N redis PINGs on web -> redis, none
failed, their latency percentiles); and `--diff` across the start of the workload lists
exactly these three as appeared."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from attach_util import Cgroup, cgroup2_root
from conftest import SLOW, UNIQ, Ksight, free_port, run_ksight
from test_req import Redis, pg_bin, postgres, redis  # noqa: F401 (fixtures)

N = 8
PING = b"*1\r\n$4\r\nPING\r\n"
PONG = b"+PONG\r\n"

# The web tier: GET / answers after a redis PING (a connection of its own) and a psql
# query (another); argv: port, redis port, postgres port, psql path. Prints "ready".
WEB = r"""
import http.server, socket, subprocess, sys
port, rport, pport, psql = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with socket.create_connection(("127.0.0.1", rport)) as r:
            r.sendall(%r)
            got = b""
            while len(got) < %d:
                got += r.recv(64)
        q = subprocess.run([psql, "-h", "127.0.0.1", "-p", pport, "-U", "postgres", "-At",
                            "-c", "select 6 * 7", "postgres"], stdout=subprocess.PIPE,
                           check=True).stdout
        body = got + q
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
print("ready", flush=True)
s.serve_forever()
""" % (PING, len(PONG))

# The client: N GETs, each on a new connection; prints bytes sent and received.
CLIENT = r"""
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
sent = got = 0
for i in range(n):
    req = b"GET / HTTP/1.0\r\nHost: web\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(req)
        sent += len(req)
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
print(sent, got, flush=True)
"""


class Unit(Cgroup):
    def __init__(self, role):
        super().__init__("kstier-%s-%s.service" % (role, UNIQ))
        self.name = self.rel

    def evacuate(self):
        """Every process back to the root cgroup (the servers outlive the test)."""
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            pids = f.read().split()
        for pid in pids:
            try:
                with open(os.path.join(cgroup2_root(), "cgroup.procs"), "w") as f:
                    f.write(pid)
            except OSError:
                pass    # gone meanwhile


def tree(pid):
    """@pid and all its descendants (from /proc's parent pids)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


def listener_pid(port):
    """The pid of the process listening on 127.0.0.1:@port (ss, a reference)."""
    text = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    return int(text.split("pid=", 1)[1].split(",", 1)[0])


def started(proc):
    line = proc.stdout.readline()
    assert line.strip() == "ready", line


def test_three_tiers_exact(tmp_path, redis, postgres):
    bindir, pport = postgres
    psql = os.path.join(bindir, "psql")
    if not os.path.exists(psql):
        psql = "psql"
    units = {r: Unit(r) for r in ("client", "web", "redis", "pg")}
    db = tmp_path / "k.db"
    web = k = None
    wport, listen = free_port(), "127.0.0.1:%d" % free_port()
    try:
        k = Ksight(["run", "--modules", "tcplife,req", "--listen", listen, "--store",
                    str(db), "1"])
        k.wait_ready()
        t_agent = time.time()
        units["redis"].add(redis.pid)
        for p in tree(listener_pid(int(pport))):
            units["pg"].add(p)
        time.sleep(1.5)     # the diff's "before" part: nothing of the tiers
        t_work = time.time()
        web = subprocess.Popen([sys.executable, "-c", WEB, str(wport), str(redis.port),
                                str(pport), psql], stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: units["web"].add(os.getpid()))
        started(web)
        cli = subprocess.run([sys.executable, "-c", CLIENT, str(wport), str(N)],
                             stdout=subprocess.PIPE, text=True, check=True,
                             timeout=120 * SLOW,
                             preexec_fn=lambda: units["client"].add(os.getpid()))
        sent, got = (int(x) for x in cli.stdout.split())
        web.kill()
        web.wait()
        time.sleep(1.5)     # the last sessions' records into the store (1 s interval)
        # the agent's /api/map: the same requests on the same edges
        with urllib.request.urlopen("http://%s/api/map?since=10m" % listen, timeout=30) as h:
            live = json.loads(h.read())
        live = {(e["client"], e["server"]): (e["requests"], e["request_errors"])
                for e in live["edges"]}
        assert live.get((units["client"].name, units["web"].name)) == (N, 0), live
        assert live.get((units["web"].name, units["redis"].name)) == (N, 0), live
        assert k.stop() == 0, k.stderr
        k = None
        r = run_ksight(["map", "--db", str(db), "--since", "10m", "--json"])
        assert r.returncode == 0, r.stderr
        m = json.loads(r.stdout)
        names = {u.name for u in units.values()}
        mine = sorted(((e["client"], e["server"], e["port"]), e) for e in m["edges"]
                      if e["client"] in names or e["server"] in names)
        u = {r: units[r].name for r in units}
        assert [x[0] for x in mine] == sorted([
            (u["client"], u["web"], wport), (u["web"], u["redis"], redis.port),
            (u["web"], u["pg"], int(pport))]), json.dumps(m["edges"], indent=0)
        for _, e in mine:
            assert e["kind"] == "tcp" and e["connections"] == N, e
            assert e["seen"] == "both" and not e["resolved"] and not e["incomplete"], e
            assert e["errors"] == 0 and e["resets"] == 0, e
        edge = {x[0][1]: x[1] for x in mine}
        assert edge[u["web"]]["bytes_client_to_server"] == sent, edge[u["web"]]
        assert edge[u["web"]]["bytes_server_to_client"] == got, edge[u["web"]]
        assert edge[u["redis"]]["bytes_client_to_server"] == N * len(PING)
        assert edge[u["redis"]]["bytes_server_to_client"] == N * len(PONG)
        # the req module's rows on the edges they ran on: N each, none failed
        for srv in (u["web"], u["redis"]):
            e = edge[srv]
            assert e["requests"] == N and e["request_errors"] == 0, e
            assert e["request_p50_ns"] is not None and e["request_p99_ns"] is not None, e
            assert 0 < e["request_p50_ns"] <= e["request_p99_ns"], e
        # req_unjoined counts the whole machine's rows on no edge (another HTTP client
        # whose connection is still open, an apt download beside the test): not asked
        assert m["req_rows"] > 0, m
        # the table's REQS column says the same
        r = run_ksight(["map", "--db", str(db), "--since", "10m"])
        assert r.returncode == 0, r.stderr
        head = [l.split() for l in r.stdout.splitlines() if l.startswith("EDGE")]
        assert head and head[0][11:14] == ["REQS", "REQ", "p99"], r.stdout
        rows = [l.split() for l in r.stdout.splitlines()
                if l.startswith(u["client"] + " -> ") or l.startswith(u["web"] + " -> ")]
        reqs = {x[2]: x[10] for x in rows}
        assert reqs == {"%s:%d" % (u["web"], wport): str(N),
                        "%s:%d" % (u["redis"], redis.port): str(N),
                        "%s:%s" % (u["pg"], pport): reqs.get("%s:%s" % (u["pg"], pport))}, \
            r.stdout
        # what the map's nodes say of the web tier: N in, 2N out
        node = {n["name"]: n for n in m["nodes"]}
        assert node[u["web"]]["conns_in"] == N and node[u["web"]]["conns_out"] == 2 * N
        # --diff across the workload's start: exactly these three appeared
        now = time.time()
        since = int(now - t_agent) + 1
        diff = int(now - t_work) + 1
        assert diff < since
        r = run_ksight(["map", "--db", str(db), "--since", "%ds" % since,
                        "--diff", "%ds" % diff, "--json"])
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        appeared = sorted((c["client"], c["server"], c["port"]) for c in d["changes"]
                          if c["change"] == "appeared" and
                          (c["client"] in names or c["server"] in names))
        assert appeared == [x[0] for x in mine], d
        assert not [c for c in d["changes"] if c["change"] != "appeared" and
                    (c["client"] in names or c["server"] in names)], d
    finally:
        if web and web.poll() is None:
            web.kill()
            web.wait()
        if k:
            k.stop()
        for x in units.values():
            x.evacuate()
            x.close()
