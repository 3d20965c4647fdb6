# SPDX-License-Identifier: GPL-2.0
"""The fleet's spawn edges (`ksight map --prometheus URL`, docs/map.md): an agent without a
store (--host-label hostA) sees a spawner in a cgroup named like a unit (service A) fork
children that move into another such cgroup (service B) and exec `true`, and children that
exec it where they are; a real Prometheus scrapes the agent.
ksight_exec_spawns_total{service=A, child=B} is exactly the children moved, there is no
series from A to A, and the fleet's map has exactly one spawn edge A@hostA => B@hostA of
that many execs (A => B without --by-host), as one machine's map has from its store."""
import time

from conftest import SLOW, Ksight, free_port
from test_map_fleet_udp import fleet_map
from test_map_spawn import MOVE, STAY, cgs, spawn, spawner  # noqa: F401 (cgs: a fixture)
from test_prometheus_server import Prometheus, prometheus_unpacked, wait_for  # noqa: F401


def test_spawn_edges_in_the_fleets_map(cgs):
    a, b, _ = cgs
    port = free_port()
    k = Ksight(["run", "--modules", "exec", "--listen", "127.0.0.1:%d" % port, "--no-store",
                "--host-label", "hostA", "1"])
    p = None
    try:
        k.wait_ready()
        # warm-up: a child execs in each cgroup, and the agent learns their services (off
        # its hot path); until then it names their tasks by their programs
        for cg in (a, b):
            spawner(cg, 0, 1)[0].result()
        time.sleep(4 * SLOW)
        p = Prometheus(port)
        p.wait_ready()
        h, moved, _ = spawner(a, MOVE, STAY, into=b)
        h.result()
        q = 'sum(ksight_exec_spawns_total{service="%s",child="%s"})' % (a.name, b.name)
        wait_for(lambda: p.value(q) == MOVE, "%s == %d in prometheus" % (q, MOVE))
        got = {(dict(x)["host"], dict(x)["child"]): v for x, v in p.query(
            'ksight_exec_spawns_total{service="%s"}' % a.name).items()}
        assert got == {("hostA", b.name): MOVE}, got
        by_host, plain = fleet_map(p, "--by-host"), fleet_map(p)
    finally:
        if p:
            p.stop()
        assert k.stop() == 0, k.stderr
    e = spawn(by_host, a.name + "@hostA", b.name + "@hostA")
    assert [(x["execs"], x["port"], x["connections"]) for x in e] == [(MOVE, 0, 0)], e
    assert not [x for x in by_host["edges"] if x["kind"] == "spawn" and
                x["client"] == a.name + "@hostA" and x["server"] != b.name + "@hostA"]
    nodes = {n["name"]: n for n in by_host["nodes"]}
    assert nodes[a.name + "@hostA"]["spawns_out"] == MOVE, nodes
    assert nodes[b.name + "@hostA"]["spawns_in"] == MOVE, nodes
    assert [x["execs"] for x in spawn(plain, a.name, b.name)] == [MOVE], plain["edges"]
