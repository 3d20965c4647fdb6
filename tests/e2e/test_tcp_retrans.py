# SPDX-License-Identifier: GPL-2.0
"""ksight tcpretrans against real TCP traffic in network namespaces the tests make:
retransmissions caused by an nftables rule that drops a share of one connection's data,
counted exactly as the sending namespace's own TcpRetransSegs counts them, none for a
control connection beside it; the reset a closed port answers a connect with, received by
the client and sent by the server's kernel."""
import json
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, Helper, Ksight, bpf_ids, run_ksight
from tcp_util import (PORT, client, net, nspair, result, server,  # noqa: F401 (fixtures)
                      sockless_resets_traced)

BASE = PORT + 12        # the other tcp tests have PORT .. PORT+11


def tool(args):
    k = Ksight(["tcpretrans", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


def retrans_misses(k):
    """Runs of @k's retransmit programs the kernel skipped: a BPF program does not nest on
    one CPU (a retransmit in softirq interrupting the same program in process context),
    and the kernel counts each skipped run as the program's recursion miss."""
    n = 0
    for pid in bpf_ids(k.proc.pid)["prog"]:
        out = subprocess.run(["bpftool", "prog", "show", "id", str(pid), "--json"],
                             stdout=subprocess.PIPE, text=True).stdout
        info = json.loads(out or "{}")
        if info.get("name", "").startswith("tcp__retrans"):
            n += info.get("recursion_misses", 0)
    return n


def wait_records(k, type_, n, timeout=10):
    deadline = time.time() + timeout * SLOW
    while len(k.records(type_)) < n and time.time() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("family,hooks", [("ipv4", "auto"), ("ipv6", "auto"),
                                          ("ipv4", "raw_tp"), ("ipv4", "tp")])
def test_refused_connect_resets(net, family, hooks):
    """A connect to a port nobody listens on: the client receives a reset, in SYN_SENT,
    about the connecting process; the server's kernel sends it with no socket (seen where
    the kernel traces such resets: 6.10 and later), about no task, its ends those of the
    SYN it answers. The stream and -c agree."""
    port = BASE
    here, there = net.addrs(family)
    cli = Helper("tcpio", "refused", there, port)
    ks, kc = tool(["--port", port, "--hooks", hooks]), tool(["-c", "--port", port])
    sent = 1 if sockless_resets_traced() else 0
    try:
        cli.go()
        assert result(cli) == [111]        # ECONNREFUSED
        wait_records(ks, "tcpretrans", 1 + sent)
        time.sleep(0.3)
    finally:
        for k in (ks, kc):
            assert k.stop() == 0, k.stderr
    recs = ks.records("tcpretrans")
    rcvd = [r for r in recs if r["kind"] == "reset_received"]
    snt = [r for r in recs if r["kind"] == "reset_sent"]
    assert len(recs) == 1 + sent and len(rcvd) == 1 and len(snt) == sent, recs
    r = rcvd[0]
    assert (r["pid"], r["comm"], r["side"], r["state"], r["family"]) == \
        (cli.pid, "tcpio", "client", "SYN_SENT", family), r
    assert (r["laddr"], r["raddr"], r["rport"]) == (here, there, port) and r["lport"], r
    assert "segs" not in r
    if sent:
        s = snt[0]
        assert "pid" not in s and "state" not in s and s["side"] == "unknown", s
        assert (s["laddr"], s["lport"], s["raddr"], s["rport"]) == \
            (there, port, here, r["lport"]), s
    rows = {(c["laddr"], c["lport"]): c for c in kc.records("tcpretrans_conn")}
    assert len(rows) == 1 + sent, rows
    c = rows[(here, r["lport"])]
    assert (c["pid"], c["resets_received"], c["resets_sent"], c["retrans_segs"]) == \
        (cli.pid, 1, 0, 0), c
    if sent:
        s = rows[(there, port)]
        assert "pid" not in s and (s["resets_sent"], s["resets_received"]) == (1, 0), s
    for k in (ks, kc):
        st = k.stats()
        assert st["lost"] == 0 and st["consistent"] is True, st


DROP_RULES = """
table inet ksight_test {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport %d meta length > 200 numgen random mod 4 == 0 counter drop
    }
}
"""


@pytest.mark.parametrize("hooks", ["auto", "tp"])
def test_retransmits_equal_the_kernels_count(nspair, hooks):
    """Namespace B drops a quarter of the data packets namespace A sends on one
    connection: the retransmitted segments ksight counts for it equal A's TcpRetransSegs
    delta exactly (its GSO packets go through the veth unsplit, so one retransmission may
    carry several segments), streamed and counted per connection (-c, every second)
    alike, and equal to the socket's own count; a control connection beside it
    retransmits nothing."""
    if not shutil.which("nft"):
        pytest.skip("no nft (Debian package nftables: make deps installs it)")
    lossy, control = BASE + 1, BASE + 2
    a, b = nspair.addrs("ipv4")
    nspair.nft(nspair.b, DROP_RULES % lossy)
    size = 2 << 20
    ks = tool(["--addr", a, "--hooks", hooks])
    kc = tool(["-c", "--addr", a, "1"])
    kl = Ksight(["tcplife", "--json", "--addr", a])     # the sockets' own total_retrans
    kl.wait_ready()
    helpers = []
    try:
        for port in (lossy, control):
            helpers.append(Helper("tcpio", "server", b, port, 1, 1000, ns=nspair.b))
            helpers.append(Helper("tcpio", "client", b, port, 1, size, ns=nspair.a))
        before = nspair.tcp_counter(nspair.a, "RetransSegs")
        for h in helpers[1::2]:
            h.go()
        for h in helpers[1::2]:
            assert [int(x) for x in h.result()[:2]] == [size, 1000]
        for h in helpers[0::2]:
            assert [int(x) for x in h.result()] == [size, 1000]
        time.sleep(0.5)
        delta = nspair.tcp_counter(nspair.a, "RetransSegs") - before
        misses = [retrans_misses(k) for k in (ks, kc)]
    finally:
        for h in helpers:
            h.kill()
        for k in (ks, kc, kl):
            assert k.stop() == 0, k.stderr
    life = {r["rport"]: r["retrans"] for r in kl.records("tcplife") if r["side"] == "client"}
    assert delta > 0, "nothing was dropped: the rule did not apply"
    recs = ks.records("tcpretrans")
    assert recs and all(r["kind"] == "retransmit" and r["laddr"] == a and
                        r["rport"] == lossy and r["side"] == "client" and
                        r["comm"] == "tcpio" for r in recs), recs
    # a retransmission that fails before the kernel counts it (the original still in the
    # host's queues, the peer's window) is reported with its error and not counted;
    # nothing here fails once counted (no output rule, no full qdisc)
    sent = [r for r in recs if "error" not in r]
    assert all(r["error"] in ("EBUSY", "EAGAIN", "ENOMEM") for r in recs if "error" in r)
    failed = sum(r["segs"] for r in recs if "error" in r)

    def exact(got, missed, failed):
        """@got segments equal the kernel's count, but for runs the kernel skipped and for
        retransmissions that failed: the kernel counts a retransmission's segments before
        it transmits, so one that fails in the transmit is in TcpRetransSegs, one refused
        before (EBUSY, EAGAIN, a split that found no memory) is not: @failed bounds it."""
        return got == delta or (missed and got < delta) or got <= delta <= got + failed

    # nothing lost on the way to either tool: checked first, so a short count below says
    # whether the records were lost or never made (both tools' totals and stats shown)
    stats = [k.stats() for k in (ks, kc)]
    assert all(st["lost"] == 0 and st["consistent"] is True for st in stats), stats
    rows = kc.records("tcpretrans_conn")
    # a string: pytest shows it whole (an object's repr is cut short)
    why = "hooks %s: kernel %d, sockets %s, misses %s, -c %d, stats %s, records %s" % (
        hooks, delta, life, misses, sum(r["retrans_segs"] for r in rows), stats,
        [(r["segs"], r.get("error")) for r in recs])
    # the socket's own count (tcp_sock.total_retrans, which tcplife reports) too
    assert life == {lossy: delta, control: 0}, why
    assert exact(sum(r["segs"] for r in sent), misses[0], failed), why
    # -c every second: each report holds what grew since the one before
    assert rows and all((r["laddr"], r["raddr"], r["rport"], r["side"]) ==
                        (a, b, lossy, "client") for r in rows), rows
    assert len({r["lport"] for r in rows}) == 1, rows
    assert exact(sum(r["retrans_segs"] for r in rows), misses[1],
                 sum(r["failed_segs"] for r in rows)), (rows, delta, misses)
    if misses == [0, 0]:
        assert sum(r["retransmits"] for r in rows) == len(sent), rows
        assert sum(r["failed_segs"] for r in rows) == failed, rows
    assert all(r["resets_sent"] == r["resets_received"] == 0 for r in rows), rows


def test_agent_counts_resets():
    """ksight run adds resets to its summary (the hooks tcplife already has): a refused
    connect on the loopback is one reset each way at least."""
    k = Ksight(["run", "--json", "--modules", "tcplife", "1"])
    try:
        k.wait_ready()
        cli = Helper("tcpio", "refused", "127.0.0.1", BASE + 3)
        cli.go()
        assert result(cli) == [111]
        time.sleep(2.2 * SLOW)
    finally:
        assert k.stop() == 0, k.stderr
    summ = [r for r in k.records("summary") if r["module"] == "tcp"]
    assert summ and sum(r["resets_received"] for r in summ) >= 1, summ
    if sockless_resets_traced():
        assert sum(r["resets_sent"] for r in summ) >= 1, summ


def test_status_names_the_hooks():
    r = run_ksight(["status", "--no-verify"])
    assert r.returncode == 0, r.stderr
    sec = r.stdout.split("\ntcplife", 1)[1].split("\n\n", 1)[0]
    for job in ("see retransmits", "see resets sent", "see resets received"):
        line = [l for l in sec.splitlines() if l.strip().startswith(job)]
        assert line and line[0].split()[-1] in ("tp_btf", "raw_tp", "tp"), sec


@pytest.mark.parametrize("args,word", [
    (["1"], "interval"),
    (["-c", "0"], "interval"),
    (["-P"], "-P"),
    (["-L"], "-L"),
    (["--port", "65536"], "--port"),
    (["--addr", "fd00::1::2"], "--addr"),
    (["-6", "--addr", "10.0.0.1"], "--addr"),
])
def test_bad_input(args, word):
    r = run_ksight(["tcpretrans"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("ksight tcpretrans"), \
        r.stderr
