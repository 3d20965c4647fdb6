# SPDX-License-Identifier: GPL-2.0
"""The service map's spawn edges (docs/map.md, "Spawn edges"): a helper in a cgroup named
like a unit (service A) forks children that move themselves into another such cgroup
(service B) and exec a program, and children that exec it where they are (still A: a
child is its cgroup's service when the cgroup names one); the map holds exactly one spawn
edge A => B whose count is the children the helper moved (its own pid list, checked
against the stored exec rows), and none from A for the others. In a cgroup that names no
service a task is its executable: the helper's children that exec `true` make the edge
spawner => true, and the helper that then execs tcpio in place moves to "tcpio": its TCP
sessions are tcpio's, none is left on "spawner". The live map ages the edge out after
--idle; --diff, --dot, --mermaid and the table show spawn edges as such."""
import json
import os
import re
import shutil
import signal
import sqlite3
import time
import urllib.request

import pytest

from attach_util import Cgroup
from conftest import SLOW, UNIQ, Helper, Ksight, helper_path, run_ksight
from tcp_util import PORT

LISTEN = "127.0.0.1:%d" % (PORT + 15)
MOVE, STAY, PLAIN, CONNS = 5, 4, 3, 3
TRUE = shutil.which("true") or "/bin/true"
IDLE = 8 * SLOW


class Unit(Cgroup):
    """A cgroup v2 directory named like a systemd service unit: its processes' service."""

    def __init__(self, role):
        super().__init__("ksspawn-%s-%s.service" % (role, UNIQ))
        self.name = self.rel


@pytest.fixture
def cgs():
    u = (Unit("par"), Unit("kid"), Cgroup("ksspawn-plain-%s" % UNIQ))
    try:
        yield u
    finally:
        for x in u:
            x.close()


def api(path):
    with urllib.request.urlopen("http://%s%s" % (LISTEN, path), timeout=10) as r:
        assert r.status == 200
        return json.loads(r.read())


def map_cli(db, *args):
    r = run_ksight(["map", "--db", str(db)] + list(args))
    assert r.returncode == 0, r.stderr
    return r.stdout


def spawn(m, parent, child):
    """The spawn edges @parent => @child of map object @m."""
    return [e for e in m["edges"] if e["kind"] == "spawn" and e["client"] == parent and
            e["server"] == child]


def spawner(cg, nmove, nstay, into=None, then=()):
    """A spawner in cgroup @cg that, told to, forks @nmove children moving into @into and
    @nstay staying, all execing `true`, then execs @then in place (if given). Returns the
    helper and the two pid lists it printed."""
    h = Helper("spawner", into.path + "/cgroup.procs" if into else "-", nmove, nstay, TRUE,
               *(("--",) + tuple(then) if then else ()))
    cg.add(h.pid)
    h.go()
    lines = [h.readline().split() for _ in range(3)]
    assert [l[0] for l in lines] == ["moved", "stayed", "done"], lines
    moved, stayed = [int(x) for x in lines[0][1:]], [int(x) for x in lines[1][1:]]
    assert (len(moved), len(stayed)) == (nmove, nstay)
    return h, moved, stayed


def test_spawn_edges_exact(tmp_path, cgs):
    a, b, plain = cgs
    db, port = tmp_path / "k.db", PORT + 8
    k = Ksight(["run", "--modules", "exec,tcplife", "--listen", "none", "--store", str(db),
                "1"])
    # the live map from a second agent without tcplife: a benchmark's connection loop
    # elsewhere on the machine can put more sessions in a window than /api/map builds
    k2 = Ksight(["run", "--modules", "exec", "--listen", LISTEN, "--store",
                 str(tmp_path / "live.db"), "--idle", "%ds" % IDLE, "1"])
    try:
        k.wait_ready()
        k2.wait_ready()
        # warm-up: a child execs in each cgroup, and the agent learns their services (off
        # its hot path); until then it names their tasks by their programs
        for cg in (a, b):
            spawner(cg, 0, 1)[0].result()
        time.sleep(4 * SLOW)
        t_start = time.time()
        h, moved, stayed = spawner(a, MOVE, STAY, into=b)
        h.result()
        # the plain cgroup: named by programs; the helper then becomes tcpio's client of a
        # server in B
        srv = Helper("tcpio", "server", "127.0.0.1", port, CONNS, 100)
        b.add(srv.pid)
        p, _, plain_stayed = spawner(plain, 0, PLAIN, then=(
            helper_path("tcpio"), "client", "127.0.0.1", port, CONNS, 200))
        line = p.readline().split()
        assert line == ["ready", str(p.pid)], line      # the same process, now tcpio
        p.go()
        assert p.result()[:2] == [str(CONNS * 200), str(CONNS * 100)]
        assert srv.result() == [str(CONNS * 200), str(CONNS * 100)]
        # live: within --idle of the workload
        deadline = time.time() + 15 * SLOW
        while True:
            e = spawn(api("/api/map"), a.name, b.name)
            if e and e[0]["execs"] >= MOVE or time.time() > deadline:
                break
            time.sleep(0.3)
        assert e and e[0]["execs"] == MOVE, e
        svc = api("/api/services/" + b.name)
        assert [x["execs"] for x in svc["edges_in"] if x["kind"] == "spawn"] == [e[0]["execs"]]
        assert svc["node"]["spawns_in"] == e[0]["execs"]
        # --idle: no exec for that long and the edge leaves the live map, not the store's
        while spawn(api("/api/map"), a.name, b.name) and time.time() < deadline + 3 * IDLE:
            time.sleep(0.5)
        assert not spawn(api("/api/map"), a.name, b.name)
        assert [x["execs"] for x in spawn(api("/api/map?since=1m"), a.name, b.name)] == \
            [MOVE]
    finally:
        assert k.stop() == 0, k.stderr
        assert k2.stop() == 0, k2.stderr
    # the stored exec rows of the helper's own children: where each came from and went
    con = sqlite3.connect(str(db), timeout=10)
    rows = {pid: (svc, frm) for pid, svc, frm in con.execute(
        "SELECT pid, service, json_extract(json, '$.from_service') FROM events WHERE "
        "type = 'exec' AND json_extract(json, '$.event') = 'exec'")}
    con.close()
    for pid in moved:
        assert rows[pid] == (b.name, a.name), (pid, rows.get(pid))
    for pid in stayed:
        assert rows[pid] == (a.name, a.name), (pid, rows.get(pid))
    for pid in plain_stayed:
        assert rows[pid] == ("true", "spawner"), (pid, rows.get(pid))
    assert rows[p.pid] == ("tcpio", "spawner")
    # the map from the store: exactly one spawn edge from A, to B, counting every child
    # moved; the warm-up's rows named by programs are their cgroups' services there
    m = json.loads(map_cli(db, "--json", "--since", "2m"))
    from_a = [x for x in m["edges"] if x["client"] == a.name]
    assert [(x["kind"], x["server"], x["execs"]) for x in from_a] == \
        [("spawn", b.name, MOVE)], from_a
    e = from_a[0]
    assert e["port"] == 0 and e["connections"] == 0 and not e["incomplete"]
    # (the agent converts kernel times to wall time with its own offset: a few ms)
    assert (t_start - 1) * 1e9 < e["first_seen_ns"] < e["last_seen_ns"]
    assert not [x for x in m["edges"] if x["kind"] == "spawn" and x["client"] == x["server"]]
    # programs: spawner => true (its children), spawner => tcpio (itself, in place); the
    # TCP sessions after that exec are tcpio's, none is left on spawner
    assert [x["execs"] for x in spawn(m, "spawner", "true")] == [PLAIN]
    assert [x["execs"] for x in spawn(m, "spawner", "tcpio")] == [1]
    tcp = [x for x in m["edges"] if x["kind"] == "tcp" and x["port"] == port]
    assert [(x["client"], x["server"], x["connections"]) for x in tcp] == \
        [("tcpio", b.name, CONNS)], tcp
    assert not [x for x in m["edges"] if x["kind"] == "tcp" and x["client"] == "spawner"]
    assert all(x["kind"] in ("tcp", "spawn") for x in m["edges"])
    # --diff across the start of the workload: A => B and spawner => tcpio appeared
    # (a margin for the agent's wall-clock offset and the commands' own "now")
    split = int(time.time() - t_start) + 3
    d = json.loads(map_cli(db, "--json", "--since", "2m", "--diff", "%ds" % split))
    ours = {(c["client"], c["server"]): c for c in d["changes"] if c["kind"] == "spawn"}
    for key, n in (((a.name, b.name), MOVE), (("spawner", "tcpio"), 1)):
        assert ours[key]["change"] == "appeared" and ours[key]["before"] is None, d
        assert ours[key]["after"]["execs"] == n
    table = map_cli(db, "--since", "2m", "--diff", "%ds" % split)
    assert re.search(r"^appeared +%s => %s +" % (re.escape(a.name), re.escape(b.name)),
                     table, re.M), table
    # the forms
    dot = map_cli(db, "--dot", "--since", "2m")
    assert '  "%s" -> "%s" [label="spawn %d execs ' % (a.name, b.name, MOVE) in dot, dot
    assert re.search(r'^  "%s" -> "%s" \[label="spawn %d execs [^"]*", style=dotted, '
                     r'arrowhead=empty\];$' % (re.escape(a.name), re.escape(b.name), MOVE),
                     dot, re.M), dot
    mer = map_cli(db, "--mermaid", "--since", "2m")
    ids = dict(re.findall(r'^  (n\d+)\["([^"]*)"\]$', mer, re.M))
    ids = {v: k for k, v in ids.items()}
    assert re.search(r'^  %s ==>\|"spawn %d execs [^"]*"\| %s$' % (ids[a.name], MOVE,
                     ids[b.name]), mer, re.M), mer
    text = map_cli(db, "--since", "2m")
    assert re.search(r"^%s => %s +\S+ +%d " % (re.escape(a.name), re.escape(b.name),
                                               MOVE), text, re.M), text


@pytest.mark.kernels
def test_spawn_edge_from_the_parents_cgroup(tmp_path, cgs):
    """The kernel matrix's: the exec hook reads the parent's cgroup on every kernel."""
    a, b, _ = cgs
    db = tmp_path / "k.db"
    k = Ksight(["run", "--modules", "exec", "--listen", "none", "--store", str(db), "1"])
    try:
        k.wait_ready()
        for cg in (a, b):
            spawner(cg, 0, 1)[0].result()
        time.sleep(4 * SLOW)
        h, moved, stayed = spawner(a, 3, 2, into=b)
        h.result()
    finally:
        assert k.stop() == 0, k.stderr
    con = sqlite3.connect(str(db), timeout=10)
    rows = {pid: (svc, frm) for pid, svc, frm in con.execute(
        "SELECT pid, service, json_extract(json, '$.from_service') FROM events WHERE "
        "type = 'exec' AND json_extract(json, '$.event') = 'exec'")}
    con.close()
    assert [rows.get(pid) for pid in moved + stayed] == [(b.name, a.name)] * 3 + \
        [(a.name, a.name)] * 2, rows
    m = json.loads(map_cli(db, "--json", "--since", "2m"))
    assert [(x["kind"], x["server"], x["execs"]) for x in m["edges"]
            if x["client"] == a.name] == [("spawn", b.name, 3)], m["edges"]


def test_lost_execs_mark_spawn_edges_incomplete(tmp_path, cgs):
    """The agent stopped (SIGSTOP) with a one-page ring buffer while a helper of A moves N
    children into B that exec: most exec records are lost and counted; A => B is
    incomplete and counts exactly the children's rows stored, B => A from before is not
    incomplete, and rows stored plus exec records lost cover the N."""
    a, b, _ = cgs
    db, n = tmp_path / "k.db", 100
    k = Ksight(["run", "--modules", "exec", "--listen", "none", "--store", str(db),
                "--ringbuf-size", "4096", "1"])
    try:
        k.wait_ready()
        for cg in (a, b):
            spawner(cg, 0, 1)[0].result()
        time.sleep(2 * SLOW)
        spawner(b, 1, 0, into=a)[0].result()            # B => A, before the loss
        time.sleep(2.5 * SLOW)          # an interval ends between it and the loss
        h = Helper("spawner", b.path + "/cgroup.procs", n, 0, TRUE)
        a.add(h.pid)
        time.sleep(1.5 * SLOW)          # the agent has the helper's exec
        os.kill(k.proc.pid, signal.SIGSTOP)
        try:
            h.go()
            moved = [int(x) for x in h.readline().split()[1:]]
            h.result()
        finally:
            os.kill(k.proc.pid, signal.SIGCONT)
        time.sleep(2.5 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    assert len(moved) == n
    con = sqlite3.connect(str(db), timeout=10)
    stored = con.execute("SELECT count(*) FROM events WHERE type = 'exec' AND pid IN (%s)" %
                         ",".join(map(str, moved))).fetchone()[0]
    lost = con.execute("SELECT coalesce(sum(value), 0) FROM rollups WHERE metric = "
                       "'ksight_events_lost_total' AND json_extract(labels, '$.type') IN "
                       "('exec', 'proc_exec')").fetchone()[0]
    con.close()
    assert 0 < stored < n and lost > 0 and stored + lost >= n, (stored, lost)
    m = json.loads(map_cli(db, "--json", "--since", "2m"))
    e = spawn(m, a.name, b.name)
    assert len(e) == 1 and e[0]["incomplete"] and e[0]["execs"] == stored, e
    e = spawn(m, b.name, a.name)
    assert len(e) == 1 and not e[0]["incomplete"] and e[0]["execs"] == 1, e
    assert re.search(r"^%s => %s .* INCOMPLETE$" % (re.escape(a.name), re.escape(b.name)),
                     map_cli(db, "--since", "2m"), re.M)
