# SPDX-License-Identifier: GPL-2.0
"""The fleet's map (`ksight map --prometheus URL`): two agents stand for two hosts
(--host-label), one watching a TCP client, the other the server it connects to in another
network namespace; a real Prometheus (Debian's, unpacked under build/prometheus) scrapes
both. Each agent counts only its own end, by endpoints named crosswise; the map built
from Prometheus' answers joins the two into one edge client@A -> server@B, seen at both
ends, with the client's exact session and byte counts. Without the server's agent the
same client end becomes an edge to a remote endpoint ADDR:PORT. Bad input: exit 2."""
import json
import subprocess

from conftest import KSIGHT, free_port, Ksight
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)
from test_prometheus_server import Prometheus, prometheus_unpacked, wait_for  # noqa: F401

N, SEND, BACK = 6, 1500, 222


def fleet_map(p, *args):
    r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % p.port,
                        "--totals", "--json"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def agent(host, pid):
    port = free_port()
    k = Ksight(["run", "--modules", "tcplife", "--listen", "127.0.0.1:%d" % port,
                "--no-store", "--host-label", host, "-p", str(pid), "1"])
    k.wait_ready()
    return k, port


def test_two_hosts_one_edge(net):
    port = PORT + 9
    srv = server(net, "ipv4", port, N, BACK)
    cli = client(net, "ipv4", port, N, SEND)
    saddr = net.addrs("ipv4")[1]
    ks, p = [], None
    try:
        ka, pa = agent("hostA", cli.pid)
        ks.append(ka)
        kb, pb = agent("hostB", srv.pid)
        ks.append(kb)
        p = Prometheus(pa, pb)
        p.wait_ready()
        cli.go()
        assert result(cli)[:2] == [N * SEND, N * BACK]
        assert result(srv) == [N * SEND, N * BACK]
        for side in ("client", "server"):
            wait_for(lambda: p.value("sum(ksight_tcp_%s_connections_total)" % side) == N,
                     "the %s ends in prometheus" % side)
        m = fleet_map(p, "--by-host")
        svc = "tcpio"
        edges = [e for e in m["edges"] if e["port"] == port]
        assert len(edges) == 1, m
        e = edges[0]
        assert (e["client"], e["server"], e["kind"]) == (svc + "@hostA", svc + "@hostB", "tcp")
        assert e["seen"] == "both" and not e["resolved"], e
        assert e["connections"] == N, e
        assert e["bytes_client_to_server"] == N * SEND, e
        assert e["bytes_server_to_client"] == N * BACK, e
        names = {n["name"]: n for n in m["nodes"]}
        assert names[svc + "@hostA"]["conns_out"] == N and names[svc + "@hostB"]["conns_in"] == N
        # services across hosts: one node (a self-edge here, both ends run tcpio)
        m = fleet_map(p)
        assert [(e["client"], e["server"], e["connections"]) for e in m["edges"]
                if e["port"] == port] == [(svc, svc, N)], m
        # only the client's host in Prometheus: the server is an endpoint outside
        kb.stop()
        ks.remove(kb)
        q = Prometheus(pa)
        try:
            q.wait_ready()
            wait_for(lambda: q.value("sum(ksight_tcp_client_connections_total)") == N,
                     "the client ends in the second prometheus")
            m = fleet_map(q, "--by-host")
            edges = [e for e in m["edges"] if e["port"] == port]
            assert [(e["client"], e["server"], e["seen"], e["connections"]) for e in edges] \
                == [(svc + "@hostA", "%s:%d" % (saddr, port), "client", N)], m
        finally:
            q.stop()
    finally:
        cli.kill()
        srv.kill()
        if p:
            p.stop()
        for k in ks:
            assert k.stop() == 0, k.stderr


def test_bad_input():
    for args, what in ((["--prometheus", "prom:9090"], "not an http:// URL"),
                       (["--by-host"], "--by-host goes with --prometheus"),
                       (["--prometheus", "http://127.0.0.1:1", "--diff", "5m"],
                        "--diff reads a store"),
                       (["--prometheus", "http://127.0.0.1:1", "--db", "/nonexistent"],
                        "--db reads a store"),
                       (["--prometheus", "http://127.0.0.1:1", "--totals", "--since", "1h"],
                        "exclude each other")):
        r = subprocess.run([KSIGHT, "map"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        assert r.returncode == 2 and what in r.stderr and r.stderr.count("\n") == 1, \
            (args, r.stderr)
    # a server that is not there: one line, exit 1 (not bad input)
    port = free_port()
    r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 1 and "cannot connect to 127.0.0.1:%d" % port in r.stderr, r.stderr
