# SPDX-License-Identifier: GPL-2.0
"""ksight tcpconnect and tcpaccept (the tcp module's variants) against real connections
across a veth pair into a namespace the tests make: exact counts on each side, the owner
of each, the latency histogram's count, refused connects with their error."""
import time

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, attached_progs, run_ksight
from tcp_util import PORT, client, net, result, server  # noqa: F401 (net: a fixture)

BASE = PORT + 8         # test_tcp.py has PORT .. PORT+7


def tool(cmd, args):
    k = Ksight([cmd, "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


def opened(k, type_, port):
    return [r for r in k.records(type_) if port in (r["lport"], r["rport"])]


def wait_opened(k, type_, port, n, timeout=10):
    deadline = time.time() + timeout * SLOW
    while len(opened(k, type_, port)) < n and time.time() < deadline:
        time.sleep(0.05)


def test_connects_and_accepts_exact(net):
    """500 connections: exactly 500 connects, each the client's, and exactly 500 accepts,
    each the server's, the same connections; -L counts 500 in its histogram."""
    port, n = BASE, 500 // SCALE
    # started first: an accept() already waiting is missed by fexit (test_tcp.py says why)
    kc, kl, ka = (tool(c, a) for c, a in (("tcpconnect", ["--port", port]),
                                          ("tcpconnect", ["-L", "--port", port]),
                                          ("tcpaccept", ["--port", port])))
    srv = server(net, "ipv4", port, n, 0)
    cli = client(net, "ipv4", port, n, 1)
    try:
        cli.go()
        result(cli), result(srv)
        wait_opened(kc, "tcpconnect", port, n)
        wait_opened(ka, "tcpaccept", port, n)
    finally:
        cli.kill()
        srv.kill()
        for k in (kc, kl, ka):
            assert k.stop() == 0, k.stderr
    conns, accs = opened(kc, "tcpconnect", port), opened(ka, "tcpaccept", port)
    assert len(conns) == n and len(accs) == n, (len(conns), len(accs))
    assert all(r["pid"] == cli.pid and r["result"] == "established" and r["rport"] == port
               and r["raddr"] == net.ip4[1] and r["latency_ns"] > 0 and "error" not in r
               for r in conns)
    bad = [r for r in accs if not (r["pid"] == srv.pid and r["lport"] == port and
                                    r["laddr"] == net.ip4[1] and r["raddr"] == net.ip4[0] and
                                    r["queued_ns"] > 0)]
    assert not bad, (srv.pid, bad[:3], len(bad))
    assert {r["lport"] for r in conns} == {r["rport"] for r in accs}
    assert len({r["lport"] for r in conns}) == n
    hists = kl.records("tcpconnect_latency")
    assert sum(h["count"] for h in hists) == n and kl.records("tcpconnect") == []
    for k in (kc, kl, ka):
        st = k.stats()
        assert st["lost"] == 0 and st["consistent"] is True, st


def test_refused_connect_with_its_error(net):
    """A connect to a port nobody listens on: reported refused with ECONNREFUSED, by the
    stream and by -L too (which histograms only established connects)."""
    port = BASE + 1
    cli = Helper("tcpio", "refused", net.ip4[1], port)
    kc, kl = tool("tcpconnect", ["--port", port]), tool("tcpconnect", ["-L", "--port", port])
    try:
        cli.go()
        assert result(cli) == [111]
        wait_opened(kc, "tcpconnect", port, 1)
        wait_opened(kl, "tcpconnect", port, 1)
    finally:
        for k in (kc, kl):
            assert k.stop() == 0, k.stderr
    for k in (kc, kl):
        recs = opened(k, "tcpconnect", port)
        assert len(recs) == 1, recs
        r = recs[0]
        assert (r["pid"], r["result"], r["error"], r["rport"]) == \
            (cli.pid, "refused", "ECONNREFUSED", port), r
    assert kl.records("tcpconnect_latency") == []


def test_tcpconnect_needs_no_syscall_hook():
    """tcpconnect sees connects on the state-change tracepoint alone: the syscall
    dispatcher (which puts every thread on the slow syscall path) is not attached."""
    k = Ksight(["tcpconnect"])
    try:
        k.wait_ready()
        progs = attached_progs(k.proc.pid)
    finally:
        assert k.stop() == 0, k.stderr
    assert not [p for p in progs if "sys_e" in p], progs
    assert [p for p in progs if p.startswith("tcp__state")], progs


@pytest.mark.parametrize("args,word", [
    (["tcpconnect", "-P"], "-P"),
    (["tcpaccept", "-L"], "-L"),
    (["tcplife", "-L"], "-L"),
    (["tcpconnect", "1"], "interval"),
    (["tcpaccept", "--port", "65536"], "--port"),
])
def test_bad_input(args, word):
    r = run_ksight(args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("ksight " + args[0]), \
        r.stderr
