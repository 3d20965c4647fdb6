# SPDX-License-Identifier: GPL-2.0
"""tcplife's start-up scan: a connection opened before ksight started, between two
network namespaces the test makes, with traffic both ways before and after the start.
At its close tcplife reports each end's real owner (the process holding the socket, found
by the task_file iterator), flagged opened_before and partial, with exactly the bytes
exchanged while it watched (the workloads' own counts are the reference)."""
import time

from conftest import SLOW, Ksight
from tcp_util import PORT, Work, nspair, settled  # noqa: F401 (nspair: a fixture)

PRE, POST = 300000, 123457


def test_connection_opened_before_start(nspair):
    """Owner pid and comm of both ends, opened_before and partial, the bytes after start
    exactly; -p of the client keeps only its end, owned by it."""
    port = PORT + 14
    srv = Work(nspair.b, "before-server", nspair.ip4[1], port)
    cli = None
    ks = []
    try:
        (spid,) = srv.ready()
        cli = Work(nspair.a, "before-client", nspair.ip4[1], port, PRE, POST)
        cpid, lport = cli.ready()
        deadline = time.time() + 5 * SLOW
        while not (settled(nspair.a, port) and settled(nspair.b, port)):
            assert time.time() < deadline, "the pre-start bytes are not acknowledged"
            time.sleep(0.05)
        ks = [Ksight(["tcplife", "--json", "--port", str(port)]),
              Ksight(["tcplife", "--json", "--port", str(port), "-p", str(cpid)])]
        for k in ks:
            k.wait_ready()
        sent, received = cli.done()
        got, answered = srv.done()
        time.sleep(0.3 * SLOW)      # the last ACKs close both ends
    finally:
        for w in (srv, cli):
            if w:
                w.kill()
        for k in ks:
            assert k.stop() == 0, k.stderr
    assert (sent, received, got, answered) == (POST, POST + 7, POST, POST + 7)
    recs = [r for r in ks[0].records("tcplife") if port in (r["lport"], r["rport"])]
    by_pid = {r["pid"]: r for r in recs}
    assert len(recs) == 2 and set(by_pid) == {cpid, spid}, recs
    c, s = by_pid[cpid], by_pid[spid]
    for r in (c, s):
        assert r["comm"] == "python3" and r["opened_before"] is True, r
        assert r["partial"] is True and r["side"] == "unknown" and "duration_ns" not in r, r
        assert r["reason"] == "fin", r
    assert (c["lport"], c["rport"], c["raddr"]) == (lport, port, nspair.ip4[1]), c
    assert (c["tx_bytes"], c["rx_bytes"]) == (POST, POST + 7), c
    assert (s["lport"], s["rport"], s["raddr"]) == (port, lport, nspair.ip4[0]), s
    assert (s["tx_bytes"], s["rx_bytes"]) == (POST + 7, POST), s
    only = [r for r in ks[1].records("tcplife") if port in (r["lport"], r["rport"])]
    assert len(only) == 1 and only[0]["pid"] == cpid and only[0]["tx_bytes"] == POST, only
    for k in ks:
        st = k.stats()
        assert st["lost"] == 0 and st["consistent"] is True, st


def test_connection_made_during_start_keeps_its_side(nspair):
    """A connection made after ksight started is not taken for one opened before: side
    and duration known, not partial (the scan's entries never overwrite the hook's)."""
    port = PORT + 15
    k = Ksight(["tcplife", "--json", "--port", str(port)])
    k.wait_ready()
    srv = Work(nspair.b, "before-server", nspair.ip4[1], port)
    cli = None
    try:
        (spid,) = srv.ready()
        cli = Work(nspair.a, "before-client", nspair.ip4[1], port, 10, 20)
        cpid, _ = cli.ready()
        assert cli.done() == [20, 27] and srv.done() == [20, 27]
        time.sleep(0.3 * SLOW)
    finally:
        for w in (srv, cli):
            if w:
                w.kill()
        assert k.stop() == 0, k.stderr
    recs = {r["pid"]: r for r in k.records("tcplife") if port in (r["lport"], r["rport"])}
    assert set(recs) == {cpid, spid}, recs
    assert recs[cpid]["side"] == "client" and recs[spid]["side"] == "server", recs
    # the bytes since the connection's start: the workloads' own, PRE's line included
    assert recs[cpid]["tx_bytes"] == len(b"10 27\n") + 10 + 20, recs[cpid]
    assert all(r["partial"] is False and r["opened_before"] is False for r in recs.values())
