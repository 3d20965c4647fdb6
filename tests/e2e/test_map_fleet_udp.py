# SPDX-License-Identifier: GPL-2.0
"""The fleet's UDP edges (`ksight map --prometheus URL`, docs/map.md): two agents stand for
two hosts (--host-label), one watching udpio's client, the other its server in another
network namespace; a real Prometheus scrapes both. Each agent counts only its own end of
the flow per edge (ksight_udp_{client,server}_*), the client as (its address, the server's
ADDR:PORT), the server as (its ADDR:PORT, the client's address): the map built from
Prometheus' answers joins the two into one UDP edge client@A -> server@B at the server's
port, seen at both ends, with the exact datagrams and bytes each way the helpers counted,
and none the other way. Without the server's agent the client end becomes a UDP edge to
the remote endpoint ADDR:PORT, seen at the client. promtool finds nothing to say of the
agents' pages."""
import json
import subprocess

from conftest import KSIGHT, Helper, Ksight, free_port
from tcp_util import PORT, net  # noqa: F401 (net: a fixture)
from test_prometheus_server import (PROMTOOL, Prometheus, http_get,  # noqa: F401
                                    prometheus_unpacked, wait_for)

N, SEND_C, SEND_S = 7, 700, 123


def fleet_map(p, *args):
    r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % p.port,
                        "--totals", "--json"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def agent(host, pid):
    port = free_port()
    k = Ksight(["run", "--modules", "udp", "--listen", "127.0.0.1:%d" % port,
                "--no-store", "--host-label", host, "-p", str(pid), "1"])
    k.wait_ready()
    return k, port


def promtool_clean(port, *needles):
    """Agent @port's page holds @needles and promtool check metrics finds nothing."""
    body = http_get("http://127.0.0.1:%d/metrics" % port)
    for n in needles:
        assert n in body, (n, body)
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "", r.stdout


def udp_edges(m, port):
    return [e for e in m["edges"] if e["kind"] == "udp" and e["port"] == port]


def test_two_hosts_one_udp_edge(net):
    port = PORT + 21
    saddr, caddr = net.ip4[1], net.ip4[0]
    srv = Helper("udpio", "server", saddr, port, N, SEND_S, ns=net.ns)
    cli = Helper("udpio", "client", saddr, port, N, SEND_C, "sendto")
    ks, p = [], None
    try:
        ka, pa = agent("hostA", cli.pid)
        ks.append(ka)
        kb, pb = agent("hostB", srv.pid)
        ks.append(kb)
        p = Prometheus(pa, pb)
        p.wait_ready()
        cli.go()
        # the client's sends; the server's receives and sends (each the client received)
        c, s = [int(x) for x in cli.result()[:2]], [int(x) for x in srv.result()]
        assert c == [N, N * SEND_C] and s == [N, N * SEND_C, N, N * SEND_S], (c, s)
        # each agent's own end, named crosswise
        want = {("client", "sent_datagrams"): N, ("client", "received_bytes"): N * SEND_S,
                ("server", "received_datagrams"): N, ("server", "sent_bytes"): N * SEND_S}
        for (side, what), v in want.items():
            fam = "ksight_udp_%s_%s_total" % (side, what)
            wait_for(lambda: p.value("sum(%s)" % fam) == v, fam + " in prometheus")
        # every end's own address found (the routes asked in each namespace)
        promtool_clean(pa, 'ksight_udp_edge_source_unknown_total{host="hostA"} 0',
                       "# TYPE ksight_udp_client_sent_datagrams_total counter",
                       'ksight_udp_client_received_bytes_total{host="hostA",service="udpio",'
                       'local="%s",peer="%s:%d"} %d' % (caddr, saddr, port, N * SEND_S))
        promtool_clean(pb, 'ksight_udp_edge_source_unknown_total{host="hostB"} 0',
                       "# TYPE ksight_udp_server_sent_bytes_total counter",
                       'ksight_udp_server_received_datagrams_total{host="hostB",service='
                       '"udpio",local="%s:%d",peer="%s"} %d' % (saddr, port, caddr, N))
        got = p.query("ksight_udp_client_sent_datagrams_total")
        assert [(d["host"], d["service"], d["local"], d["peer"]) for d in map(dict, got)] == \
            [("hostA", "udpio", caddr, "%s:%d" % (saddr, port))], got
        got = p.query("ksight_udp_server_received_datagrams_total")
        assert [(d["host"], d["service"], d["local"], d["peer"]) for d in map(dict, got)] == \
            [("hostB", "udpio", "%s:%d" % (saddr, port), caddr)], got
        m = fleet_map(p, "--by-host")
        edges = udp_edges(m, port)
        assert len(edges) == 1, m["edges"]
        e = edges[0]
        assert (e["client"], e["server"], e["seen"], e["flows"]) == \
            ("udpio@hostA", "udpio@hostB", "both", 1), e
        assert (e["datagrams_client_to_server"], e["datagrams_server_to_client"]) == (N, N), e
        assert (e["bytes_client_to_server"], e["bytes_server_to_client"]) == \
            (N * SEND_C, N * SEND_S), e
        # nothing the other way, and no TCP edge made of it
        assert not [x for x in m["edges"] if x["client"] == "udpio@hostB"], m["edges"]
        assert not [x for x in m["edges"] if x["kind"] == "tcp"], m["edges"]
        names = {n["name"]: n for n in m["nodes"]}
        assert names["udpio@hostA"]["bytes_out"] == N * SEND_C, names
        assert names["udpio@hostB"]["bytes_in"] == N * SEND_C, names
        # the table shows it as the local map does a UDP edge
        r = subprocess.run([KSIGHT, "map", "--prometheus", "http://127.0.0.1:%d" % p.port,
                            "--by-host", "--totals"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 0 and "\nUDP " in r.stdout, (r.stdout, r.stderr)
        # only the client's host in Prometheus: the server is an endpoint outside
        kb.stop()
        ks.remove(kb)
        q = Prometheus(pa)
        try:
            q.wait_ready()
            wait_for(lambda: q.value("sum(ksight_udp_client_sent_datagrams_total)") == N,
                     "the client end in the second prometheus")
            edges = udp_edges(fleet_map(q, "--by-host"), port)
            assert [(e["client"], e["server"], e["seen"], e["datagrams_client_to_server"],
                     e["bytes_server_to_client"]) for e in edges] == \
                [("udpio@hostA", "%s:%d" % (saddr, port), "client", N, N * SEND_S)], edges
        finally:
            q.stop()
    finally:
        cli.kill()
        srv.kill()
        if p:
            p.stop()
        for k in ks:
            assert k.stop() == 0, k.stderr
