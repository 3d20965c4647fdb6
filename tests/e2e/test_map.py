# SPDX-License-Identifier: GPL-2.0
"""The service map (docs/map.md): a client and a server in two cgroups of the test's own
(their services: the systemd-like units the cgroups are named as) make exactly N TCP
connections with known bytes, over loopback or a veth pair into a network namespace;
`ksight map --json` holds exactly that edge, client -> server, seen at both ends, with the
helpers' own counts (and, in the namespace, the kernel's count of passive opens there);
--dot and --mermaid parse; --diff across the start of the workload lists exactly the new
edge; /api/map and /api/services/NAME answer it live; bad input exits 2 (4xx on HTTP)."""
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from attach_util import Cgroup
from conftest import SLOW, UNIQ, Helper, Ksight, run_ksight
from tcp_util import PORT, NetPair

N = 7
SEND_C, SEND_S = 3001, 517
LISTEN = "127.0.0.1:%d" % (PORT + 15)


class Unit(Cgroup):
    """A cgroup v2 directory named like a systemd service unit: its processes' service."""

    def __init__(self, role):
        super().__init__("ksmap-%s-%s.service" % (role, UNIQ))
        self.name = self.rel


@pytest.fixture
def units():
    u = (Unit("cli"), Unit("srv"))
    try:
        yield u
    finally:
        for x in u:
            x.close()


@pytest.fixture(scope="module")
def net():
    n = NetPair()
    try:
        yield n
    finally:
        n.close()


def passive_opens(ns):
    """The kernel's PassiveOpens counter of network namespace @ns (/proc/net/snmp)."""
    text = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"], check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    rows = [l.split() for l in text.splitlines() if l.startswith("Tcp:")]
    return int(rows[1][rows[0].index("PassiveOpens")])


def sessions(units, addr, port, n, ns=None):
    """@n connections from a client in units[0] to a server in units[1] listening on
    @addr:@port (in namespace @ns): [client sent, client received, server received,
    server sent] as the helpers counted them."""
    srv = Helper("tcpio", "server", addr, port, n, SEND_S, ns=ns)
    cli = Helper("tcpio", "client", addr, port, n, SEND_C)
    try:
        units[1].add(srv.pid)
        units[0].add(cli.pid)
        cli.go()
        c, s = cli.result(), srv.result()
    finally:
        cli.kill()
        srv.kill()
    return [int(c[0]), int(c[1]), int(s[0]), int(s[1])]


def api(path, code=200):
    try:
        with urllib.request.urlopen("http://%s%s" % (LISTEN, path), timeout=10) as r:
            assert r.status == code
            assert r.headers["Content-Type"] == "application/json"
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        assert e.code == code, (path, e.code, e.read())
        return json.loads(e.read())


def the_edge(m, units, port):
    mine = [e for e in m["edges"] if e["port"] == port and units[1].name in e["server"]]
    assert len(mine) == 1, m["edges"]
    return mine[0]


def check_edge(e, units, port, counts, n):
    assert (e["client"], e["server"], e["port"]) == (units[0].name, units[1].name, port), e
    assert e["connections"] == n
    assert e["bytes_client_to_server"] == counts[0] == counts[2] == n * SEND_C
    assert e["bytes_server_to_client"] == counts[1] == counts[3] == n * SEND_S
    assert e["seen"] == "both" and not e["resolved"] and not e["incomplete"], e
    assert e["errors"] == 0 and e["resets"] == 0
    assert e["first_seen_ns"] <= e["last_seen_ns"]
    assert e["duration_p99_ns"] and e["duration_p50_ns"] <= e["duration_p99_ns"]
    # the client's connect latency: within its session
    assert e["connect_p99_ns"] is not None, e
    assert e["connect_p50_ns"] <= e["connect_p99_ns"] <= e["duration_p99_ns"], e
    # req off: no requests on it (null, not 0)
    assert [e[k] for k in ("requests", "request_errors", "request_p50_ns",
                           "request_p99_ns")] == [None] * 4, e


def map_cli(db, *args, rc=0):
    r = run_ksight(["map", "--db", str(db)] + list(args))
    assert r.returncode == rc, r.stderr
    return r.stdout


DOT_LINE = re.compile(r'^  (?:rankdir=LR;|node \[shape=box\];|"(?:[^"\\]|\\.)*"'
                      r'(?: \[shape=ellipse, style=dashed\])?;|"(?:[^"\\]|\\.)*" -> '
                      r'"(?:[^"\\]|\\.)*" \[label="(?:[^"\\]|\\.)*"(?:, style=dashed)?\];)$')
MER_NODE = re.compile(r'^  (n\d+)(?:\["[^"]*"\]|\(\["[^"]*"\]\))$')
MER_EDGE = re.compile(r'^  (n\d+) (?:-->|-\.->)\|"[^"]*"\| (n\d+)$')


def parse_dot(text):
    """The DOT subset ksight writes, strictly: [(client, server, label)]."""
    lines = text.splitlines()
    assert lines[0] == "digraph ksight {" and lines[-1] == "}", text
    edges = []
    for l in lines[1:-1]:
        assert DOT_LINE.match(l), l
        m = re.match(r'^  "((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[label="([^"]*)"', l)
        if m:
            edges.append(m.groups())
    return edges


def parse_mermaid(text):
    """The Mermaid subset ksight writes, strictly: [(client, server, label)]."""
    lines = text.splitlines()
    assert lines[0] == "graph LR", text
    names, edges = {}, []
    for l in lines[1:]:
        m = MER_NODE.match(l)
        if m:
            names[m.group(1)] = re.search(r'"([^"]*)"', l).group(1)
            continue
        m = MER_EDGE.match(l)
        assert m, l
        assert m.group(1) in names and m.group(2) in names, l
        edges.append((names[m.group(1)], names[m.group(2)],
                      re.search(r'\|"([^"]*)"\|', l).group(1)))
    return edges


@pytest.mark.parametrize("where", [pytest.param("loopback", marks=pytest.mark.kernels),
                                   "netns"])
def test_map_exact_edge_live_and_from_the_store(request, tmp_path, units, where):
    db = tmp_path / "k.db"
    if where == "loopback":
        addr, ns, port, warm_port = "127.0.0.1", None, PORT + 1, PORT + 2
    else:
        net = request.getfixturevalue("net")
        addr, ns, port, warm_port = net.ip4[1], net.ns, PORT + 3, PORT + 4
    k = Ksight(["run", "--modules", "tcplife", "--listen", LISTEN, "--store", str(db), "1"])
    try:
        k.wait_ready()
        # one connection first: the agent learns the two cgroups (resolved off the hot
        # path); the workload's records then carry their services from the first one
        sessions(units, addr, warm_port, 1, ns)
        time.sleep(4 * SLOW)
        opens = passive_opens(ns) if ns else None
        t_start = time.time()
        counts = sessions(units, addr, port, N, ns)
        t_end = time.time()
        if ns:
            assert passive_opens(ns) - opens == N    # the kernel's count in the namespace
        # live: the store has the sessions within about a second
        deadline = time.time() + 15 * SLOW
        while True:
            m = api("/api/map")
            mine = [e for e in m["edges"] if e["port"] == port]
            if mine and mine[0]["connections"] >= N or time.time() > deadline:
                break
            time.sleep(0.3)
        check_edge(the_edge(m, units, port), units, port, counts, N)
        names = {n["name"]: n for n in m["nodes"]}
        assert names[units[0].name]["kind"] == names[units[1].name]["kind"] == "service"
        s = api("/api/services/" + units[1].name)
        assert s["node"]["name"] == units[1].name
        assert s["edges_out"] == []
        check_edge([e for e in s["edges_in"] if e["port"] == port][0], units, port, counts, N)
        assert s["node"]["conns_in"] == sum(e["connections"] for e in s["edges_in"])
        # the registry's series of the service, as of the last interval: the sessions the
        # agent named by it when they closed (the store has the same names)
        con = sqlite3.connect(str(db), timeout=10)
        named = con.execute("SELECT count(*) FROM events WHERE type = 'tcplife' AND service "
                            "= ? AND json_extract(json, '$.side') = 'server'",
                            (units[1].name,)).fetchone()[0]
        con.close()
        assert named in (N, N + 1)      # the warm-up's too if the agent knew its cgroup
        deadline = time.time() + 10 * SLOW
        key = 'ksight_tcp_sessions_closed_total{service="%s"}' % units[1].name
        while api("/api/services/" + units[1].name)["metrics"].get(key) != named and \
                time.time() < deadline:
            time.sleep(0.3)
        assert api("/api/services/" + units[1].name)["metrics"][key] == named
        assert "error" in api("/api/services/ksmap-nobody-%s.service" % UNIQ, 404)
        assert "error" in api("/api/map?since=forever", 400)
        assert "error" in api("/api/map?since=1m&diff=2m", 400)
        assert "error" in api("/api/map?colour=blue", 400)
        assert "error" in api("/api/services/%s?diff=1m" % units[1].name, 400)
        assert "error" in api("/api/map?at=tomorrow", 400)
        assert "error" in api("/api/map?since=1m&since=2m", 400)
        assert "error" in api("/api/services/" + "x" * 300, 404)
        # ?at=: the window ending then: before the workload it has no edge of it
        at = api("/api/map?since=1m&at=%d" % (int(t_start) - 1))
        assert not [e for e in at["edges"] if e["port"] == port], at
        assert at["to_ns"] == (int(t_start) - 1) * 10**9
        time.sleep(max(0, t_end + 1.1 - time.time()))    # at= is in whole seconds
        at = api("/api/map?since=1m&at=%d" % int(time.time()))
        assert [e["connections"] for e in at["edges"] if e["port"] == port] == [N]
        # the live map's diff: the workload's edge is new in the last seconds
        d = api("/api/map?since=10m&diff=%ds" % (int(time.time() - t_start) + 2))
        new = [c for c in d["changes"] if c["change"] == "appeared" and c["port"] == port]
        assert len(new) == 1 and new[0]["after"]["connections"] == N, d
    finally:
        assert k.stop() == 0, k.stderr
    # from the store, after the agent
    m = json.loads(map_cli(db, "--json", "--since", "10m"))
    check_edge(the_edge(m, units, port), units, port, counts, N)
    # the warm-up's ends were stored named by the helper's program (the agent had not
    # resolved the new cgroups yet): the map names them by their cgroups' service
    warm = the_edge(m, units, warm_port)
    assert (warm["client"], warm["connections"], warm["seen"]) == (units[0].name, 1, "both")
    assert m["unplaced"] == 0
    # --diff across the start of the workload: exactly the new edge, and nothing of the
    # warm-up's (before the split) appears
    split = int(time.time() - t_start) + 2
    d = json.loads(map_cli(db, "--json", "--since", "10m", "--diff", "%ds" % split))
    ours = [c for c in d["changes"] if c["port"] in (port, warm_port)]
    assert [(c["change"], c["port"]) for c in ours] == [("appeared", port),
                                                         ("disappeared", warm_port)], d
    check_edge(ours[0]["after"], units, port, counts, N)
    table = map_cli(db, "--since", "10m", "--diff", "%ds" % split)
    assert re.search(r"^appeared +%s -> %s:%d " % (re.escape(units[0].name),
                     re.escape(units[1].name), port), table, re.M), table
    # the graphs
    want = (units[0].name, units[1].name, ":%d %d conns " % (port, N))
    for edges in (parse_dot(map_cli(db, "--dot", "--since", "10m")),
                  parse_mermaid(map_cli(db, "--mermaid", "--since", "10m"))):
        assert [e for e in edges if e[:2] == want[:2] and e[2].startswith(want[2])], edges
    text = map_cli(db, "--since", "10m")
    assert re.search(r"^%s -> %s:%d +\S+ +%d " % (re.escape(units[0].name),
                     re.escape(units[1].name), port, N), text, re.M), text


@pytest.mark.parametrize("args,word", [
    (["--since", "1x"], "--since"),
    (["--diff", "0"], "--diff"),
    (["--since", "10m", "--diff", "1h"], "shorter"),
    (["--json", "--dot"], "exclude"),
    (["--diff", "1m", "--dot"], "--diff"),
    (["extra"], "extra"),
    (["--bogus"], "bogus"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, word):
    r = run_ksight(["map", "--db", str(tmp_path / "none.db")] + args)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr


def test_no_store_and_empty_window(tmp_path):
    r = run_ksight(["map", "--db", str(tmp_path / "missing.db")])
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr
    assert not (tmp_path / "missing.db").exists()
    r = run_ksight(["run", "--idle", "soon", "--listen", "none"])
    assert r.returncode == 2 and "--idle" in r.stderr and len(r.stderr.splitlines()) == 1


def test_idle_edges_age_out_of_the_live_map(tmp_path, units):
    """--idle: the live /api/map is the sessions that closed within it; an edge with no
    session for that long leaves it, and stays in the history (?since=, ksight map)."""
    db, port = tmp_path / "k.db", PORT + 5
    k = Ksight(["run", "--modules", "tcplife", "--listen", LISTEN, "--store", str(db),
                "--idle", "3s", "1"])
    try:
        k.wait_ready()
        counts = sessions(units, "127.0.0.1", port, 2)
        deadline = time.time() + 15 * SLOW
        while True:
            mine = [e for e in api("/api/map?since=1m")["edges"] if e["port"] == port]
            if mine and mine[0]["connections"] == 2 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert len(mine) == 1 and mine[0]["connections"] == 2, mine
        last = mine[0]["last_seen_ns"]
        deadline = time.time() + 15 * SLOW
        while True:
            m = api("/api/map")
            if not [e for e in m["edges"] if e["port"] == port] or time.time() > deadline:
                break
            assert m["from_ns"] <= last     # still within the idle time
            time.sleep(0.2)
        assert m["secs"] == 3.0 and m["from_ns"] > last, m
        assert not [e for e in m["edges"] if e["port"] == port]
        old = [e for e in api("/api/map?since=1m")["edges"] if e["port"] == port]
        assert len(old) == 1 and old[0]["connections"] == 2
    finally:
        assert k.stop() == 0, k.stderr
    m = json.loads(map_cli(db, "--json", "--since", "10m"))
    e = [e for e in m["edges"] if e["port"] == port]
    assert len(e) == 1 and e[0]["bytes_client_to_server"] == counts[0] == 2 * SEND_C


def test_lost_sessions_mark_their_edges_incomplete(tmp_path, units):
    """The agent stopped (SIGSTOP) with a one-page ring buffer while N connections close:
    most of their records are lost and counted; every edge of those connections is marked
    incomplete, an edge from before is not, and the ends stored plus the tcplife records
    lost are the 2N ends the kernel closed."""
    import signal
    db, port, before_port, n = tmp_path / "k.db", PORT + 6, PORT + 7, 150
    k = Ksight(["run", "--modules", "tcplife", "--listen", "none", "--store", str(db),
                "--ringbuf-size", "4096", "1"])
    try:
        k.wait_ready()
        sessions(units, "127.0.0.1", before_port, 1)
        time.sleep(2.5 * SLOW)          # an interval ends between it and the loss
        os.kill(k.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.time_ns()
            sessions(units, "127.0.0.1", port, n)
            t1 = time.time_ns()
        finally:
            os.kill(k.proc.pid, signal.SIGCONT)
        time.sleep(2.5 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    m = json.loads(map_cli(db, "--json", "--since", "10m"))
    mine = [e for e in m["edges"] if e["port"] == port]
    assert mine and all(e["incomplete"] for e in mine), mine
    before = [e for e in m["edges"] if e["port"] == before_port]
    assert len(before) == 1 and not before[0]["incomplete"], before
    con = sqlite3.connect(str(db))
    ends = con.execute("SELECT count(*) FROM events WHERE type = 'tcplife' AND (json_extract("
                       "json, '$.lport') = ? OR json_extract(json, '$.rport') = ?)",
                       (port, port)).fetchone()[0]
    others = con.execute("SELECT count(*) FROM events WHERE type = 'tcplife' AND ts >= ? AND "
                         "ts <= ? + 3000000000 AND json_extract(json, '$.lport') != ? AND "
                         "json_extract(json, '$.rport') != ?", (t0, t1, port, port)).fetchone()[0]
    lost = con.execute("SELECT coalesce(sum(value), 0) FROM rollups WHERE metric = "
                       "'ksight_events_lost_total' AND json_extract(labels, '$.type') = "
                       "'tcplife'").fetchone()[0]
    con.close()
    assert 0 < ends < 2 * n and lost > 0
    if not others:     # nothing else on the machine closed meanwhile: the sum is exact
        assert ends + lost == 2 * n, (ends, lost)
    else:
        assert ends + lost >= 2 * n, (ends, lost, others)
    assert sum(e["connections"] for e in mine) <= n


def test_api_refuses_windows_too_large_to_build(tmp_path):
    """/api/map builds at most 100000 session ends per request (the endpoint's thread is
    /metrics' too): a larger window is 413 with the count, a small one is answered, and
    ksight map, without that limit, reads them all."""
    db, n = tmp_path / "k.db", 100001
    k = Ksight(["run", "--modules", "tcplife", "--listen", LISTEN, "--store", str(db), "1"])
    try:
        k.wait_ready()
        ts = time.time_ns() - 1800 * 10**9       # half an hour ago: outside the live map
        con = sqlite3.connect(str(db), timeout=30)
        with con:
            con.executemany("INSERT INTO events(ts, type, pid, comm, service, json) VALUES"
                            "(?, 'tcplife', 1, 'x', 'bulk', ?)",
                            ((ts + i * 1000, json.dumps({
                                "type": "tcplife", "side": "client", "laddr": "10.9.0.1",
                                "lport": 1024 + i % 60000, "raddr": "10.9.0.2", "rport": 9,
                                "tx_bytes": 1, "rx_bytes": 2, "reason": "fin"}))
                             for i in range(n)))
        con.close()
        e = api("/api/map?since=1h", 413)
        assert "100001" in e["error"], e
        assert not [x for x in api("/api/map")["edges"] if x["client"] == "bulk"]
        with urllib.request.urlopen("http://%s/metrics" % LISTEN, timeout=10) as r:
            assert r.status == 200
    finally:
        assert k.stop() == 0, k.stderr
    m = json.loads(map_cli(db, "--json", "--since", "1h"))
    e = [x for x in m["edges"] if x["client"] == "bulk"]
    assert len(e) == 1 and e[0]["connections"] == n and e[0]["server"] == "10.9.0.2:9"
