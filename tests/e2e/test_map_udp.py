# SPDX-License-Identifier: GPL-2.0
"""The service map's UDP edges (docs/map.md, "UDP edges"): udpio's client in one cgroup
named like a unit sends N datagrams of SEND_C bytes to its server in another, over
loopback and over a veth pair into a network namespace, and the server answers each with
SEND_S bytes; the agent's store and `ksight map` hold exactly one UDP edge client ->
server with the server's port, the datagrams and bytes each way both helpers counted,
seen at both ends, and no edge the other way; table, --dot, --mermaid and --diff show
it. With the agent watching the client's cgroup only, a DNS-like exchange with port 53
in the namespace is an edge to the remote node ADDR:53, seen at the client."""
import json
import sqlite3
import subprocess
import time

import pytest

from conftest import SLOW, Helper, Ksight, run_ksight
from tcp_util import PORT, net  # noqa: F401 (net: a fixture)
from test_map import units  # noqa: F401 (a fixture: two cgroups named like units)

N = 9
SEND_C, SEND_S = 700, 123


def exchange(units, where, port, n):
    """@n datagrams from udpio's client in units[0] to its server in units[1] at @where
    ((address, namespace or None)) on @port, each answered: [client tx dgrams, tx bytes,
    server rx dgrams, rx bytes, tx dgrams, tx bytes] as the helpers counted them (what the
    calls returned; the client's receives are the server's sends, one datagram each)."""
    srv = Helper("udpio", "server", where[0], port, n, SEND_S, ns=where[1])
    cli = Helper("udpio", "client", where[0], port, n, SEND_C, "sendto")
    try:
        units[1].add(srv.pid)
        units[0].add(cli.pid)
        cli.go()
        c, s = cli.result(), srv.result()
    finally:
        cli.kill()
        srv.kill()
    return [int(x) for x in c[:2]] + [int(x) for x in s]


def map_json(db, since="2m"):
    r = run_ksight(["map", "--db", str(db), "--since", since, "--json"])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def udp_edges(m, name):
    return [e for e in m["edges"] if e["kind"] == "udp" and name in (e["client"], e["server"])]


def wait_rows(db, port, n):
    """The map once the store holds the client's and the server's rows of @port."""
    deadline = time.time() + 15 * SLOW
    while True:
        m = map_json(db)
        mine = [e for e in m["edges"] if e["kind"] == "udp" and e["port"] == port]
        if (mine and mine[0]["datagrams_client_to_server"] >= n and mine[0]["seen"] == "both"
                or time.time() > deadline):
            return m
        time.sleep(0.5)


@pytest.mark.parametrize("where", [pytest.param("loopback", marks=pytest.mark.kernels),
                                   "netns"])
def test_map_udp_edge_exact(request, tmp_path, units, where):
    db = tmp_path / "k.db"
    if where == "loopback":
        at = ("127.0.0.1", None)
    else:
        net = request.getfixturevalue("net")
        at = (net.ip4[1], net.ns)
    port, warm = PORT + 9, PORT + 10
    k = Ksight(["run", "--modules", "udp", "--listen", "none", "--store", str(db), "1"])
    try:
        k.wait_ready()
        # one exchange first: the agent learns the two cgroups (resolved off the hot path,
        # its rows named by the program until then); then one before the split of --diff
        exchange(units, at, PORT + 11, 1)
        time.sleep(2 * SLOW)
        exchange(units, at, warm, 1)
        time.sleep(4 * SLOW)
        t_split = time.time()
        c = exchange(units, at, port, N)
        assert c == [N, N * SEND_C, N, N * SEND_C, N, N * SEND_S], c
        m = wait_rows(db, port, N)
    finally:
        k.stop()
    cli, srv = units[0].name, units[1].name
    mine = udp_edges(m, srv)
    assert sorted((e["client"], e["server"], e["port"]) for e in mine) == \
        sorted([(cli, srv, PORT + 11), (cli, srv, warm), (cli, srv, port)]), m["edges"]
    e = [e for e in mine if e["port"] == port][0]
    assert e["datagrams_client_to_server"] == N and e["datagrams_server_to_client"] == N, e
    assert e["bytes_client_to_server"] == N * SEND_C, e
    assert e["bytes_server_to_client"] == N * SEND_S, e
    assert e["flows"] == 1 and e["seen"] == "both" and not e["incomplete"], e
    assert e["connections"] == 0 and e["execs"] == 0
    assert 0 < e["first_seen_ns"] <= e["last_seen_ns"]
    assert t_split * 1e9 <= e["first_seen_ns"] <= time.time() * 1e9
    # no edge the other way, of any kind
    assert not [x for x in m["edges"] if x["client"] == srv], m["edges"]
    names = {n["name"]: n for n in m["nodes"]}
    assert names[srv]["bytes_in"] == (N + 2) * SEND_C
    assert names[srv]["bytes_out"] == (N + 2) * SEND_S
    # the stored rows: the client's end says client, the server's server, their sums
    con = sqlite3.connect(str(db), timeout=10)
    rows = con.execute("SELECT service, json_extract(json, '$.side'), "
                       "sum(json_extract(json, '$.tx_datagrams')), "
                       "sum(json_extract(json, '$.tx_bytes')), "
                       "sum(json_extract(json, '$.rx_datagrams')), "
                       "sum(json_extract(json, '$.rx_bytes')) FROM events WHERE type = "
                       "'udp_flow' AND (json_extract(json, '$.lport') = ?1 OR "
                       "json_extract(json, '$.rport') = ?1) GROUP BY 1, 2 ORDER BY 2",
                       (port,)).fetchall()
    con.close()
    assert rows == [(cli, "client", N, N * SEND_C, N, N * SEND_S),
                    (srv, "server", N, N * SEND_S, N, N * SEND_C)], rows
    # the table
    r = run_ksight(["map", "--db", str(db), "--since", "2m"])
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("%s -> %s:%d " % (cli, srv, port))]
    assert len(line) == 1, r.stdout
    assert line[0].split()[4:7] == ["1", str(N), str(N)], line
    assert line[0].split()[-1] == "both"
    assert "\nUDP " in r.stdout
    # --dot: a blue open arrow; --mermaid: --o
    r = run_ksight(["map", "--db", str(db), "--since", "2m", "--dot"])
    assert r.returncode == 0, r.stderr
    dot = [l for l in r.stdout.splitlines() if '"%s" -> "%s"' % (cli, srv) in l and
           "udp :%d " % port in l]
    assert len(dot) == 1 and dot[0].endswith(", color=blue, arrowhead=vee];"), r.stdout
    assert '[label="udp :%d %d/%d dgrams ' % (port, N, N) in dot[0]
    r = run_ksight(["map", "--db", str(db), "--since", "2m", "--mermaid"])
    assert r.returncode == 0, r.stderr
    ids = {}
    for l in r.stdout.splitlines()[1:]:
        if '["' in l:
            ids[l.split('"')[1]] = l.split()[0].split("[")[0]
    assert '  %s --o|"udp :%d %d/%d dgrams' % (ids[cli], port, N, N) in r.stdout, r.stdout
    # --diff across the split: the workload's edge appeared, the warm-up's disappeared
    d = int(time.time() - t_split) + 2
    r = run_ksight(["map", "--db", str(db), "--since", "%ds" % (d + 60), "--diff", "%ds" % d,
                    "--json"])
    assert r.returncode == 0, r.stderr
    ch = [(x["change"], x["kind"], x["port"]) for x in json.loads(r.stdout)["changes"]
          if srv in (x["client"], x["server"])]
    assert sorted(ch) == [("appeared", "udp", port), ("disappeared", "udp", warm),
                          ("disappeared", "udp", PORT + 11)], ch
    r = run_ksight(["map", "--db", str(db), "--since", "%ds" % (d + 60), "--diff", "%ds" % d])
    assert r.returncode == 0, r.stderr
    assert [l.split()[0] for l in r.stdout.splitlines()
            if l.split()[1:4] == [cli, "->", "%s:%d" % (srv, port)]] == ["appeared"], r.stdout


def test_map_udp_remote_node(tmp_path, units, net):
    """The agent watches the client's cgroup only: its DNS-like exchange with a server on
    port 53 in the namespace is an edge to the remote node ADDR:53."""
    db = tmp_path / "k.db"
    n = 5
    k = Ksight(["run", "--modules", "udp", "--listen", "none", "--store", str(db),
                "--cgroup", units[0].path, "1"])
    try:
        k.wait_ready()
        exchange(units, (net.ip4[1], net.ns), PORT + 12, 1)    # the agent learns the cgroup
        time.sleep(2 * SLOW)
        c = exchange(units, (net.ip4[1], net.ns), 53, n)
        assert c == [n, n * SEND_C, n, n * SEND_C, n, n * SEND_S], c
        deadline = time.time() + 15 * SLOW
        while True:
            m = map_json(db)
            mine = [e for e in udp_edges(m, units[0].name) if e["port"] == 53]
            if mine and mine[0]["datagrams_server_to_client"] >= n or time.time() > deadline:
                break
            time.sleep(0.5)
    finally:
        k.stop()
    remote = "%s:53" % net.ip4[1]
    assert [(e["client"], e["server"], e["port"]) for e in mine] == \
        [(units[0].name, remote, 53)], m["edges"]
    e = mine[0]
    assert (e["datagrams_client_to_server"], e["datagrams_server_to_client"]) == (n, n), e
    assert (e["bytes_client_to_server"], e["bytes_server_to_client"]) == \
        (n * SEND_C, n * SEND_S), e
    assert e["seen"] == "client" and e["flows"] == 1 and not e["incomplete"], e
    names = {x["name"]: x for x in m["nodes"]}
    assert names[remote]["kind"] == "remote"
    assert not [x for x in m["edges"] if x["client"] == remote or units[1].name in
                (x["client"], x["server"])], m["edges"]
    dot = [l for l in run_ksight(["map", "--db", str(db), "--since", "2m", "--dot"])
           .stdout.splitlines() if '"%s"' % remote in l]
    assert '  "%s" [shape=ellipse, style=dashed];' % remote in dot
    assert [l for l in dot if l.endswith(", color=blue, arrowhead=vee, style=dashed];")]


def stored_and_lost(con, pid):
    """(udp_flow rows of @pid, their datagrams sent) and the udp counts lost (or None)."""
    rows = con.execute("SELECT count(*), sum(json_extract(json, '$.tx_datagrams')) FROM "
                       "events WHERE type = 'udp_flow' AND pid = ?", (pid,)).fetchone()
    lost = con.execute("SELECT sum(value) FROM rollups WHERE metric = "
                       "'ksight_events_lost_total' AND json_extract(labels, '$.type') = "
                       "'udp'").fetchone()[0]
    return rows, lost


FILL = 17000     # datagrams to as many ports: more than the flow table's 16384 rows

FILLER = r"""
import socket, sys
sys.stdin.readline()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = sum(s.sendto(b"x", (sys.argv[1], 1 + i)) for i in range(int(sys.argv[2])))
print(sent, flush=True)
sys.stdin.readline()
"""


def test_map_udp_lost_rows_mark_edges_incomplete(tmp_path, units, net):
    """A process of the watched cgroup sends one datagram to each of FILL ports (nothing
    listens there): the flow table fills, the datagrams it refuses are counted lost; the
    process's UDP edges are incomplete, an edge from seconds before is not, and the
    datagrams in the stored rows plus those counted lost are exactly FILL."""
    db = tmp_path / "k.db"
    addr = net.ip4[1]
    k = Ksight(["run", "--modules", "udp", "--listen", "none", "--store", str(db),
                "--cgroup", units[0].path, "1"])
    try:
        k.wait_ready()
        exchange(units, (addr, net.ns), PORT + 12, 1)    # the agent learns the cgroup
        time.sleep(2 * SLOW)
        exchange(units, (addr, net.ns), PORT + 13, 3)    # the edge from before
        time.sleep(3 * SLOW)
        p = subprocess.Popen(["python3", "-c", FILLER, addr, str(FILL)], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            units[0].add(p.pid)
            p.stdin.write("go\n")
            p.stdin.flush()
            assert int(p.stdout.readline()) == FILL    # one byte each, all sent
            time.sleep(3 * SLOW)                        # its rows and losses stored
        finally:
            p.stdin.close()
            p.wait(10)
        time.sleep(1.5 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    con = sqlite3.connect(str(db), timeout=10)
    rows, lost = stored_and_lost(con, p.pid)
    # the intervals that lost counts: their rows are made after their rollups' time and
    # before the next interval's
    spans = con.execute("SELECT ts, (SELECT min(p.ts) FROM rollups p WHERE p.ts > r.ts) "
                        "FROM rollups r WHERE metric = 'ksight_events_lost_total' AND "
                        "json_extract(labels, '$.type') = 'udp' AND value > 0").fetchall()
    con.close()
    assert lost and lost > 0 and rows[0] > 0, (rows, lost)
    assert rows[1] + lost == FILL, (rows, lost)
    m = map_json(db)
    cli = units[0].name
    fill = [e for e in m["edges"] if e["client"] == cli and e["port"] <= FILL]
    assert len(fill) == rows[0] and sum(e["datagrams_client_to_server"] for e in fill) == \
        rows[1], (len(fill), rows)
    # one datagram, one row each: incomplete exactly when made in an interval that lost
    # some (the table filled in it); the rows made before it filled are complete
    lossy = [any(a <= e["first_seen_ns"] < b for a, b in spans) for e in fill]
    assert any(lossy), (spans, fill[:2])
    wrong = [e for e, x in zip(fill, lossy) if e["incomplete"] != x]
    assert not wrong, (spans, wrong[:2])
    before = [e for e in m["edges"] if e["client"] == cli and e["port"] == PORT + 13]
    assert len(before) == 1 and not before[0]["incomplete"], before
    assert (before[0]["datagrams_client_to_server"], before[0]["seen"]) == (3, "client")


WAVES = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in sys.stdin:
    first, n = (int(x) for x in line.split())
    print(sum(s.sendto(b"x", (sys.argv[1], first + i)) for i in range(n)), flush=True)
"""
WAVE = 13000     # above three quarters of the 16384 rows, below the whole table


def test_idle_flows_leave_a_filling_table(tmp_path, units, net):
    """A long-lived process sends one datagram to each of WAVE ports, idles for two
    intervals, then to WAVE other ports: 2 x WAVE flows would not fit the table, but the
    first wave's rows, idle once the table is three quarters full, are taken out (atomic
    lookup-and-delete): nothing is lost, and the stored rows hold exactly 2 x WAVE
    datagrams, one row each."""
    db = tmp_path / "k.db"
    addr = net.ip4[1]
    k = Ksight(["run", "--modules", "udp", "--listen", "none", "--store", str(db),
                "--cgroup", units[0].path, "1"])
    p = subprocess.Popen(["python3", "-c", WAVES, addr], text=True, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        units[0].add(p.pid)
        k.wait_ready()
        for first in (1, 1 + WAVE):
            p.stdin.write("%d %d\n" % (first, WAVE))
            p.stdin.flush()
            assert int(p.stdout.readline()) == WAVE
            time.sleep(3 * SLOW)    # a read that sees them, then one that finds them idle
        time.sleep(1.5 * SLOW)
    finally:
        p.stdin.close()
        p.wait(10)
        assert k.stop() == 0, k.stderr
    assert "cannot take idle flows out" not in k.stderr, k.stderr
    con = sqlite3.connect(str(db), timeout=10)
    rows, lost = stored_and_lost(con, p.pid)
    con.close()
    assert (rows[0], rows[1], lost or 0) == (2 * WAVE, 2 * WAVE, 0), (rows, lost)
