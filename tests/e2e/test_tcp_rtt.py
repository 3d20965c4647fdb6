# SPDX-License-Identifier: GPL-2.0
"""ksight tcprtt (the tcp module's variant) against real connections between two network
namespaces the tests make, checked against tcp:tcp_probe itself: the same tracepoint
enabled in a tracefs instance of the test's own is the reference, line by line. Each
histogram's count, its buckets and the sum of its samples must equal what the trace
recorded for the same flows (its srtt field is tcp_sock.srtt_us >> 3: microseconds)."""
import os
import re
import time

import pytest

from conftest import SCALE, SLOW, UNIQ, Helper, Ksight, run_ksight
from tcp_util import PORT, Work, nspair, result, settled  # noqa: F401 (nspair: a fixture)

P4, P6 = PORT + 12, PORT + 13       # this file's ports (test_tcp*.py use PORT .. PORT+11)
TRACEFS = "/sys/kernel/tracing"
# 5.10's event names no family: an IPv6 end is printed in brackets
LINE = re.compile(r"tcp_probe: (?:family=(AF_INET6?) )?src=(\S+) dest=(\S+) .* srtt=(\d+) ")


class ProbeTrace:
    """tcp:tcp_probe in a tracefs instance of our own (removed at close), filtered in the
    kernel to @ports, with a buffer large enough that nothing is overwritten (checked)."""

    def __init__(self, ports):
        if not os.path.isdir(TRACEFS + "/instances"):
            os.system("mount -t tracefs nodev " + TRACEFS)
        self.dir = "%s/instances/ksight_rtt%s" % (TRACEFS, UNIQ)
        if os.path.isdir(self.dir):
            os.rmdir(self.dir)
        os.mkdir(self.dir)
        self.write("buffer_size_kb", "8192")
        ev = "events/tcp/tcp_probe/"
        self.write(ev + "filter", " || ".join("sport == %d || dport == %d" % (p, p)
                                              for p in ports))
        self.write(ev + "enable", "1")

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def stop(self):
        """Disable the event; each sample as (family, (laddr, lport), (raddr, rport), srtt)."""
        self.write("events/tcp/tcp_probe/enable", "0")
        for cpu in os.listdir(self.dir + "/per_cpu"):
            with open("%s/per_cpu/%s/stats" % (self.dir, cpu)) as f:
                stats = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            assert int(stats["overrun"]) == 0, (cpu, stats)
        out = []
        with open(self.dir + "/trace") as f:
            for line in f:
                m = LINE.search(line)
                if m:
                    v6 = m.group(1) == "AF_INET6" or m.group(2).startswith("[")
                    fam = "ipv6" if v6 else "ipv4"
                    out.append((fam, end(m.group(2)), end(m.group(3)), int(m.group(4))))
        return out

    def close(self):
        if os.path.isdir(self.dir):
            self.write("events/tcp/tcp_probe/enable", "0")
            os.rmdir(self.dir)


def end(text):
    """'10.0.0.1:80' or '[fd00::1]:80' as (address, port)."""
    addr, port = text.rsplit(":", 1)
    return addr.strip("[]"), int(port)


def slot(v):
    """The log2 bucket's lower bound, as ksight's JSON gives it (0 and 1 share slot 0)."""
    return 0 if v < 2 else 1 << (v.bit_length() - 1)


def buckets(values):
    out = {}
    for v in values:
        out[slot(v)] = out.get(slot(v), 0) + 1
    return out


def tool(args):
    k = Ksight(["tcprtt", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


def hists(k, key):
    """Each histogram ksight printed, by @key (None: the one of --by all), as
    {key: (count, sum_us, {bucket lo: count})}; all reports added up."""
    out = {}
    for r in k.records("tcprtt"):
        kv = r.get(key) if key else None
        c, s, b = out.get(kv, (0, 0, {}))
        assert r["count"] == r["hist"]["count"], r
        for bk in r["hist"]["buckets"]:
            b[bk["lo"]] = b.get(bk["lo"], 0) + bk["count"]
        out[kv] = (c + r["count"], s + r["sum_us"], b)
    return out


def expect(samples, keyf):
    out = {}
    for s in samples:
        out.setdefault(keyf(s), []).append(s[3])
    return {k: (len(v), sum(v), buckets(v)) for k, v in out.items()}


def traffic(pair, family, port, n, send):
    """@n connections from namespace A to a server in B, @send bytes each way."""
    srv = Helper("tcpio", "server", pair.addrs(family)[1], port, n, send, ns=pair.b)
    cli = Helper("tcpio", "client", pair.addrs(family)[1], port, n, send, ns=pair.a)
    return srv, cli


def finish(*helpers):
    try:
        for h in helpers:
            result(h)
    finally:
        for h in helpers:
            h.kill()
    time.sleep(0.5 * SLOW)      # the last ACKs of the closes are taken in


def run_flows(pair, tools, flows):
    """Start @tools (ksight argument lists), then the trace, then @flows (family, port, n,
    bytes); the samples the trace recorded and the ksight processes, stopped."""
    ks = [tool(a) for a in tools]
    tr = ProbeTrace([f[1] for f in flows])
    helpers = []
    try:
        helpers = [traffic(pair, *f) for f in flows]
        for srv, cli in helpers:
            cli.go()
        finish(*[h for pair_ in helpers for h in pair_])
        samples = tr.stop()
    finally:
        for srv, cli in helpers:
            srv.kill()
            cli.kill()
        tr.close()
        for k in ks:
            assert k.stop() == 0, k.stderr
    for k in ks:
        st = k.stats()
        assert st["lost"] == 0 and st["consistent"] is True, st
    return samples, ks, helpers


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_histograms_equal_the_trace(nspair, family):
    """Every tcp_probe of the flow, both ends: per remote address, per local port and in
    one histogram, ksight's count, sum and buckets equal the trace's; the same through
    each hook (tp_btf by default, raw_tp, the classic tracepoint's record)."""
    port = P4 if family == "ipv4" else P6
    samples, (kr, kp, ka, kraw, ktp), _ = run_flows(
        nspair, [["--port", port], ["--port", port, "--by", "lport"],
                 ["--port", port, "--by", "all"],
                 ["--port", port, "--by", "all", "--hooks", "raw_tp"],
                 ["--port", port, "--by", "all", "--hooks", "tp"]],
        [(family, port, 20 // SCALE, 200000)])
    # 20 flows of 200 kB give hundreds of samples; the guests' 2 flows give ~45.
    assert len(samples) > 100 // SCALE, len(samples)
    want = expect(samples, lambda s: s[2][0])
    assert hists(kr, "raddr") == want
    assert set(want) == set(nspair.addrs(family))
    assert all(r["family"] == family for r in kr.records("tcprtt"))
    assert hists(kp, "lport") == expect(samples, lambda s: s[1][1])
    assert hists(ka, None) == expect(samples, lambda s: None)
    assert hists(kraw, None) == hists(ktp, None) == hists(ka, None)


def test_filters_keep_what_they_should(nspair):
    """Two flows at once, IPv4 on one port and IPv6 on another: each filter keeps exactly
    the trace's samples it describes; -p keeps the client's sockets (its connects)."""
    n = 10 // SCALE
    a4, b6 = nspair.ip4[0], nspair.ip6[1]
    tools = [["--by", "all", "-4", "--addr", a4], ["--by", "all", "-6"],
             ["--by", "all", "--port", P6], ["--by", "all", "--addr", b6],
             ["--by", "all", "-n", "tcpio", "--port", P4]]
    samples, ks, helpers = run_flows(
        nspair, tools, [("ipv4", P4, n, 100000), ("ipv6", P6, n, 100000)])
    v4 = [s for s in samples if s[0] == "ipv4"]
    v6 = [s for s in samples if s[0] == "ipv6"]
    assert v4 and v6
    one = lambda s: None  # noqa: E731
    assert hists(ks[0], None) == expect(v4, one)
    assert hists(ks[1], None) == expect(v6, one)
    assert hists(ks[2], None) == expect(v6, one)
    assert hists(ks[3], None) == expect(v6, one)
    # -n tcpio: connects (the client's sockets) are owned from SYN_SENT; accepted ones
    # once accept() returned, so only the client side is exact
    got = hists(ks[4], None)[None][0]
    client = len([s for s in v4 if s[2][1] == P4])
    assert client <= got <= len(v4), (client, got, len(v4))


def test_owner_filter_pid_exact(nspair):
    """-p CLIENT: exactly the samples of the client's sockets (lport not the server's)."""
    port = P4
    k0 = None
    srv, cli = traffic(nspair, "ipv4", port, 5, 100000)
    try:
        k0 = tool(["-p", cli.pid, "--by", "all"])
        tr = ProbeTrace([port])
        try:
            cli.go()
            finish(srv, cli)
            samples = tr.stop()
        finally:
            tr.close()
    finally:
        srv.kill()
        cli.kill()
        if k0:
            assert k0.stop() == 0, k0.stderr
    mine = [s for s in samples if s[2][1] == port]
    assert mine
    assert hists(k0, None) == expect(mine, lambda s: None)


def test_owner_filter_connection_opened_before(nspair):
    """-p CLIENT for a connection the client opened before ksight started: its owner comes
    from the start-up scan, so its segments after the start count, exactly the trace's
    lines of the client's socket; the server's (another process) do not."""
    port = P6
    srv = Work(nspair.b, "before-server", nspair.ip4[1], port)
    cli, k, tr = None, None, None
    try:
        srv.ready()
        cli = Work(nspair.a, "before-client", nspair.ip4[1], port, 100000, 200000)
        cpid, lport = cli.ready()
        deadline = time.time() + 5 * SLOW
        while not (settled(nspair.a, port) and settled(nspair.b, port)):
            assert time.time() < deadline, "the pre-start bytes are not acknowledged"
            time.sleep(0.05)
        k = tool(["-p", cpid, "--by", "lport"])
        tr = ProbeTrace([port])
        assert cli.done() == [200000, 200007]
        srv.done()
        time.sleep(0.5 * SLOW)
        samples = tr.stop()
    finally:
        for w in (srv, cli):
            if w:
                w.kill()
        if tr:
            tr.close()
        if k:
            assert k.stop() == 0, k.stderr
    mine = [s for s in samples if s[1][1] == lport]
    assert mine and len(mine) < len(samples)
    assert hists(k, "lport") == expect(mine, lambda s: lport)


def test_interval_reports_add_up(nspair):
    """With an interval, each report holds what came since the last: their sum is the
    trace's (no sample counted twice or lost between reports)."""
    samples, (k,), _ = run_flows(nspair, [["--by", "all", "--port", P4, "1"]],
                                 [("ipv4", P4, 5, 300000)])
    assert hists(k, None) == expect(samples, lambda s: None)


@pytest.mark.parametrize("args,word", [
    (["tcprtt", "--by", "remote"], "--by"),
    (["tcplife", "--by", "all"], "--by"),
    (["tcpstates", "--by", "raddr"], "--by"),
    (["tcprtt", "-4", "-6"], "-4"),
    (["tcprtt", "--port", "0"], "--port"),
    (["tcprtt", "--addr", "10.0.0.300"], "--addr"),
    (["tcprtt", "-P"], "-P"),
])
def test_bad_input(args, word):
    r = run_ksight(args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("ksight " + args[0]), \
        r.stderr
