# SPDX-License-Identifier: GPL-2.0
"""The requests on the fleet's edges (`ksight map --prometheus URL`, docs/map.md): an HTTP
server in one network namespace, in a unit host B's agent watches (--cgroup); two clients
in another namespace, each from an address of its own: one in a unit host A's agent
watches, one watched by neither agent. A real Prometheus scrapes both agents. Host A
counts its client's requests on (service, the server's ADDR:PORT); host B the
server's, per client address, for both clients (neither client end is counted on B). The
fleet's map joins them as the local map does the store's rows: the edge client@hostA ->
server@hostB (seen at both ends) has exactly the watched client's requests and errors,
once (B's row for that address lands on no edge: counted unjoined); the edge from the
unwatched client's address has exactly its requests and 5xx answers (B's row); each
edge's request p50 and p99 are the bounds of the Prometheus buckets that hold them."""
import json
import subprocess

import pytest

from attach_util import Cgroup
from conftest import UNIQ, Ksight, free_port
from tcp_util import PORT, NsPair
from test_map_fleet import connect_pcts
from test_map_fleet_udp import fleet_map, promtool_clean
from test_map_req import SERVER, client, in_ns
from test_prometheus_server import Prometheus, prometheus_unpacked, wait_for  # noqa: F401

N_REMOTE, E_REMOTE = 9, 3     # the unwatched client's requests, of which 500s
N_BOTH, E_BOTH = 5, 1         # the watched client's

@pytest.fixture
def twoaddr():
    """tcp_util's two namespaces, a second address in A."""
    p = NsPair()
    try:
        p.a2 = p.ip4[0].rsplit(".", 1)[0] + ".3"
        subprocess.run(["ip", "-n", p.a, "addr", "add", p.a2 + "/24", "dev", "kv" + UNIQ],
                       check=True)
        yield p
    finally:
        p.close()


def agent(host, cgroup):
    port = free_port()
    k = Ksight(["run", "--modules", "tcplife,req", "--listen", "127.0.0.1:%d" % port,
                "--no-store", "--host-label", host, "--cgroup", cgroup.path, "1"])
    k.wait_ready()
    return k, port


def test_requests_on_the_fleets_edges(twoaddr):
    n = twoaddr
    a_addr, b_addr = n.ip4
    port = PORT + 23
    srv_cg = Cgroup("ksfreq-srv-%s.service" % UNIQ)
    cli_cg = Cgroup("ksfreq-cli-%s.service" % UNIQ)
    srv_name, cli_name = "ksfreq-srv-%s.service" % UNIQ, "ksfreq-cli-%s.service" % UNIQ
    ks, p, srv = [], None, None
    try:
        ka, pa = agent("hostA", cli_cg)
        ks.append(ka)
        kb, pb = agent("hostB", srv_cg)
        ks.append(kb)
        p = Prometheus(pa, pb)
        p.wait_ready()
        srv = in_ns(n.b, SERVER, b_addr, port, cgroup=srv_cg)
        assert srv.stdout.readline().strip() == "ready"
        client(n.a, b_addr, port, N_REMOTE, E_REMOTE, src=n.a2)                # not watched
        client(n.a, b_addr, port, N_BOTH, E_BOTH, cgroup=cli_cg, src=a_addr)  # host A's
        for q, want in (("sum(ksight_req_client_requests_total)", N_BOTH),
                        ("sum(ksight_req_server_requests_total)", N_REMOTE + N_BOTH),
                        ("sum(ksight_req_client_latency_seconds_count)", N_BOTH),
                        ("sum(ksight_req_server_latency_seconds_count)", N_REMOTE + N_BOTH),
                        ("sum(ksight_tcp_client_connections_total)", N_BOTH),
                        ("sum(ksight_tcp_server_connections_total)", N_REMOTE + N_BOTH)):
            wait_for(lambda: p.value(q) == want, "%s == %d in prometheus" % (q, want))
        # each agent's own end: the client's by the server's ADDR:PORT, the server's by
        # its port and each client's address
        peer = "%s:%d" % (b_addr, port)
        got = {(d["host"], d["service"], d["peer"]): v for d, v in
               ((dict(k), v) for k, v in p.query("ksight_req_client_requests_total").items())}
        assert got == {("hostA", cli_name, peer): N_BOTH}, got
        got = {(d["host"], d["service"], d["port"], d["peer"]): v for d, v in
               ((dict(k), v) for k, v in p.query("ksight_req_server_requests_total").items())}
        assert got == {("hostB", srv_name, str(port), a_addr): N_BOTH,
                       ("hostB", srv_name, str(port), n.a2): N_REMOTE}, got
        got = {dict(k)["peer"]: v for k, v in
               p.query("ksight_req_server_errors_total").items()}
        assert got == {a_addr: E_BOTH, n.a2: E_REMOTE}, got
        assert p.value("sum(ksight_req_client_errors_total)") == E_BOTH
        promtool_clean(pa, "# TYPE ksight_req_client_latency_seconds histogram")
        promtool_clean(pb, "# TYPE ksight_req_server_latency_seconds histogram")
        pc = connect_pcts(p, 'host="hostA"', "ksight_req_client_latency_seconds")
        pr = connect_pcts(p, 'host="hostB",peer="%s"' % n.a2,
                          "ksight_req_server_latency_seconds")
        assert (pc[2], pr[2]) == (N_BOTH, N_REMOTE), (pc, pr)
        m = fleet_map(p, "--by-host")
    finally:
        if srv and srv.poll() is None:
            srv.kill()
            srv.wait()
        if p:
            p.stop()
        for k in ks:
            assert k.stop() == 0, k.stderr
        srv_cg.close()
        cli_cg.close()
    into = {(e["client"], e["seen"]): e for e in m["edges"]
            if e["server"] == srv_name + "@hostB" and e["port"] == port}
    assert sorted(into) == sorted([(cli_name + "@hostA", "both"), (n.a2, "server")]), \
        json.dumps(m["edges"], indent=0)
    both, rem = into[(cli_name + "@hostA", "both")], into[(n.a2, "server")]
    assert (both["connections"], rem["connections"]) == (N_BOTH, N_REMOTE), (both, rem)
    assert (both["requests"], both["request_errors"]) == (N_BOTH, E_BOTH), both
    assert (rem["requests"], rem["request_errors"]) == (N_REMOTE, E_REMOTE), rem
    assert (both["request_p50_ns"], both["request_p99_ns"]) == pc[:2], (both, pc)
    assert (rem["request_p50_ns"], rem["request_p99_ns"]) == pr[:2], (rem, pr)
    assert all(x is not None for x in pc[:2] + pr[:2]), (pc, pr)
    # the rows: the client's, and the server's for each client address; the server's row
    # for the watched client's address on no edge (its requests are the client's)
    assert (m["req_rows"], m["req_unjoined"]) == (3, 1), m
