# SPDX-License-Identifier: GPL-2.0
"""ksight net against traffic the test makes through a veth pair into a network namespace
of its own (IPv6 off and the neighbours fixed on both ends, so nothing else crosses it):
exact packets and bytes per direction and protocol, checked against the interface's own
counters (/sys/class/net/DEV/statistics) and against what the test sent; the size
buckets; the remote end; the split per cgroup (two cgroups the test makes, exact by
construction: IP and UDP headers are 28 bytes); --payload's bytes. Legacy TC filters leave
nothing after Ctrl-C or SIGKILL and a new start, and the test's own qdisc and filters stay
as they were. Bad input: exit 2, one line."""
import os
import signal
import subprocess
import sys
import time

import pytest

from attach_util import Cgroup, Veth, add_own_filter, ksight_filters, run, tc_state
from conftest import SCALE, UNIQ, Ksight, run_ksight

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from net_util import SO_RCVBUFFORCE, pattern    # noqa: E402

NET_UTIL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_util.py")
PORT = 17000 + int(UNIQ) % 1000    # the host's UDP port
PEER_PORT = PORT + 1000            # the namespace's UDP port
TCP_PORT = PORT + 2000             # the namespace's TCP port
SPORT_IN, SPORT_OUT = PORT + 3000, PORT + 4000
N_IN, N_OUT = 1000 // SCALE, 700 // SCALE
SIZE = 100                         # UDP payload: 142 bytes on the wire (14 + 20 + 8 + 100)
ETH_IP_UDP = 14 + 20 + 8


class QuietVeth(Veth):
    """The test's veth pair with nothing crossing it but the test's packets: IPv6 off on
    both ends (no router solicitations, no neighbour discovery) and each end's neighbour
    entry permanent (no ARP)."""

    def __init__(self):
        super().__init__()
        run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.host, check=False)
        run("ip", "netns", "exec", self.ns, "sysctl", "-qw",
            "net.ipv6.conf.%s.disable_ipv6=1" % self.peer, check=False)
        self.host_mac = host_mac = open("/sys/class/net/%s/address" % self.host).read().strip()
        self.peer_mac = peer_mac = run("ip", "netns", "exec", self.ns, "cat",
                       "/sys/class/net/%s/address" % self.peer).stdout.strip()
        run("ip", "neigh", "replace", self.peer_ip, "lladdr", peer_mac, "dev", self.host,
            "nud", "permanent")
        run("ip", "-n", self.ns, "neigh", "replace", self.host_ip, "lladdr", host_mac, "dev",
            self.peer, "nud", "permanent")

    def enable_ipv6(self):
        """IPv6 addresses on both ends (no duplicate detection) and each end's neighbour
        entry permanent: still nothing but the test's packets, now over IPv6 too."""
        n = int(UNIQ) % 250
        self.host_ip6, self.peer_ip6 = "fd00:251:%x::1" % n, "fd00:251:%x::2" % n
        run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=0" % self.host)
        run("ip", "netns", "exec", self.ns, "sysctl", "-qw",
            "net.ipv6.conf.%s.disable_ipv6=0" % self.peer)
        run("ip", "-6", "addr", "add", self.host_ip6 + "/64", "dev", self.host, "nodad")
        run("ip", "-n", self.ns, "-6", "addr", "add", self.peer_ip6 + "/64", "dev", self.peer,
            "nodad")
        run("ip", "-6", "neigh", "replace", self.peer_ip6, "lladdr", self.peer_mac, "dev",
            self.host, "nud", "permanent")
        run("ip", "-n", self.ns, "-6", "neigh", "replace", self.host_ip6, "lladdr",
            self.host_mac, "dev", self.peer, "nud", "permanent")

    def stats(self):
        """The host end's own counters."""
        d = "/sys/class/net/%s/statistics/" % self.host
        return {k: int(open(d + k).read()) for k in ("rx_packets", "rx_bytes", "tx_packets",
                                                     "tx_bytes")}

    def in_ns(self, *args):
        return ["ip", "netns", "exec", self.ns, sys.executable, NET_UTIL] + [str(a) for a in args]


@pytest.fixture
def veth():
    v = QuietVeth()
    try:
        yield v
    finally:
        v.close()


class Proc:
    """A net_util.py workload that prints "ready PID" first and "done X" at its end."""

    def __init__(self, argv):
        self.p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.startswith("ready "), line + self.p.stderr.read()
        self.pid = int(line.split()[1])

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def done(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        assert self.p.returncode == 0, err
        return int(out.split()[-1])

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def rows(k, via):
    """{(where, dir, family, proto): (packets, bytes)} of the net records of view @via."""
    out = {}
    for r in k.records("net"):
        if r["via"] == via:
            key = (r["where"], r["dir"], r["family"], r["proto"])
            p, b = out.get(key, (0, 0))
            out[key] = (p + r["packets"], b + r["bytes"])
    return out


def totals(rs, where, direction):
    sel = [v for k, v in rs.items() if k[0] == where and k[1] == direction]
    return sum(p for p, _ in sel), sum(b for _, b in sel)


def send_both_ways(veth):
    """N_IN datagrams from the namespace to the host, N_OUT the other way, then a TCP
    connection from the host that sends 1 MiB. Returns when all of it arrived."""
    import socket

    host_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host_sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    host_sock.bind((veth.host_ip, PORT))
    sink = Proc(veth.in_ns("udp-sink", veth.peer_ip, PEER_PORT, N_OUT))
    tsink = Proc(veth.in_ns("tcp-sink", veth.peer_ip, TCP_PORT))
    try:
        run(*veth.in_ns("udp-send", veth.host_ip, PORT, N_IN, SIZE, SPORT_IN))
        run(sys.executable, NET_UTIL, "udp-send", veth.peer_ip, PEER_PORT, N_OUT, SIZE,
            SPORT_OUT)
        assert sink.done() == N_OUT
        c = socket.create_connection((veth.peer_ip, TCP_PORT), timeout=10)
        c.sendall(b"x" * (1 << 20))
        c.close()
        assert tsink.done() == 1 << 20
        got = 0
        host_sock.setblocking(False)
        while True:
            try:
                host_sock.recv(65536)
                got += 1
            except BlockingIOError:
                break
        assert got == N_IN
    finally:
        sink.kill()
        tsink.kill()
        host_sock.close()
    time.sleep(0.2)    # the host's last ACK, sent when the namespace's FIN arrives


@pytest.mark.kernels
def test_exact_per_interface(veth):
    """UDP each way exact by construction and by the interface's counters; the TCP
    transfer and every other packet of the interface as its counters count them."""
    k = Ksight(["net", "--json", "-i", veth.host, "--by", "interface"])
    try:
        k.wait_ready()
        before = veth.stats()
        send_both_ways(veth)
        after = veth.stats()
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    d = {key: after[key] - before[key] for key in after}
    rs = rows(k, "iface")
    h = veth.host
    assert rs[(h, "in", "ipv4", "udp")] == (N_IN, N_IN * (SIZE + ETH_IP_UDP)), rs
    assert rs[(h, "out", "ipv4", "udp")] == (N_OUT, N_OUT * (SIZE + ETH_IP_UDP)), rs
    assert (h, "in", "ipv4", "tcp") in rs and (h, "out", "ipv4", "tcp") in rs, rs
    # the interface's own counters: every packet, both ways, the link header included
    assert totals(rs, h, "in") == (d["rx_packets"], d["rx_bytes"]), (rs, d)
    assert totals(rs, h, "out") == (d["tx_packets"], d["tx_bytes"]), (rs, d)
    out_bytes = rs[(h, "out", "ipv4", "tcp")][1]
    assert out_bytes > 1 << 20    # 1 MiB of payload and its headers
    assert k.stats()["lost"] == 0 and k.stats()["consistent"] is True

    # sizes: each UDP datagram is 142 bytes on the wire, in [128, 255]
    sizes = {(r["via"], r["dir"]): r["hist"] for r in k.records("net_sizes")}
    hin = sizes[("iface", "in")]
    assert hin["count"] == d["rx_packets"]
    b128 = [b for b in hin["buckets"] if b["lo"] == 128]
    assert b128 and b128[0]["hi"] == 255 and b128[0]["count"] >= N_IN, hin
    assert sizes[("iface", "out")]["count"] == d["tx_packets"]

    # the remote ends: the namespace's address, each port pair exact
    rem = {(r["raddr"], r["rport"], r["lport"], r["proto"]): r for r in k.records("net_remote")}
    r_in = rem[(veth.peer_ip, SPORT_IN, PORT, "udp")]
    assert (r_in["in_packets"], r_in["in_bytes"], r_in["out_packets"]) == \
        (N_IN, N_IN * (SIZE + ETH_IP_UDP), 0)
    r_out = rem[(veth.peer_ip, PEER_PORT, SPORT_OUT, "udp")]
    assert (r_out["out_packets"], r_out["out_bytes"], r_out["in_packets"]) == \
        (N_OUT, N_OUT * (SIZE + ETH_IP_UDP), 0)
    assert any(key[0] == veth.peer_ip and key[1] == TCP_PORT and key[3] == "tcp"
               for key in rem), rem


@pytest.mark.kernels
def test_ipv6_exact(veth):
    """UDP over IPv6 each way: 14 + 40 + 8 bytes of headers per datagram, the remote end
    by its IPv6 address. (The namespace answers the datagrams to its closed port with
    ICMPv6, and the interfaces may send MLD reports: other rows, not these.)"""
    veth.enable_ipv6()
    k = Ksight(["net", "--json", "-i", veth.host, "--by", "interface"])
    try:
        k.wait_ready()
        run(*veth.in_ns("udp-send", veth.host_ip6, PORT, N_IN, SIZE, SPORT_IN))
        run(sys.executable, NET_UTIL, "udp-send", veth.peer_ip6, PEER_PORT, N_OUT, SIZE,
            SPORT_OUT)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    rs, h = rows(k, "iface"), veth.host
    assert rs[(h, "in", "ipv6", "udp")] == (N_IN, N_IN * (SIZE + 62)), rs
    assert rs[(h, "out", "ipv6", "udp")] == (N_OUT, N_OUT * (SIZE + 62)), rs
    rem = {(r["raddr"], r["rport"], r["lport"]): r for r in k.records("net_remote")}
    r_in = rem[(veth.peer_ip6, SPORT_IN, PORT)]
    assert (r_in["family"], r_in["in_packets"], r_in["in_bytes"]) == \
        ("ipv6", N_IN, N_IN * (SIZE + 62))
    assert rem[(veth.peer_ip6, PEER_PORT, SPORT_OUT)]["out_packets"] == N_OUT


def test_table_and_intervals(veth):
    """The table: one row per interface, direction, family and protocol, each interval
    what changed in it (nothing crosses the veth in the second interval)."""
    k = Ksight(["net", "-i", veth.host, "--by", "interface", "1", "2"])
    k.wait_ready()
    run(*veth.in_ns("udp-send", veth.host_ip, PORT, 10, SIZE, SPORT_IN))
    assert k.wait() == 0, k.stderr
    lines = [l.split() for l in k.out_lines]
    assert ["VIA", "WHERE", "DIR", "FAMILY", "PROTO", "PACKETS", "BYTES"] in lines, k.stdout
    udp = [l for l in lines if l[:5] == ["iface", veth.host, "in", "ipv4", "udp"]]
    assert len(udp) == 1 and udp[0][5] == "10", k.stdout


@pytest.fixture
def cgroups():
    parent = Cgroup()
    kids = []
    try:
        for name in ("a", "b"):
            path = os.path.join(parent.path, name)
            os.makedirs(path, exist_ok=True)
            kids.append(path)
        yield parent, kids
    finally:
        for path in kids:
            deadline = time.time() + 10
            while os.path.exists(path):
                try:
                    os.rmdir(path)
                except OSError:
                    assert time.time() < deadline, "cannot remove " + path
                    time.sleep(0.05)
        parent.close()


@pytest.mark.kernels
def test_per_cgroup_split(veth, cgroups):
    """Two processes in two cgroups of the test, each exchanging its own number of echoed
    datagrams with the namespace: each cgroup's rows and remote end exact."""
    parent, (cg_a, cg_b) = cgroups
    n = {cg_a: 300 // SCALE, cg_b: 120 // SCALE}
    echo = Proc(veth.in_ns("udp-echo", veth.peer_ip, PEER_PORT))
    clients = []
    k = Ksight(["net", "--json", "--by", "cgroup", "--cgroup", parent.path, "-P"])
    try:
        k.wait_ready()
        for cg in (cg_a, cg_b):
            c = Proc([sys.executable, NET_UTIL, "echo-client", veth.peer_ip, PEER_PORT, n[cg],
                      SIZE])
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(c.pid))
            c.go()
            clients.append(c)
        for c, cg in zip(clients, (cg_a, cg_b)):
            assert c.done() == n[cg]
    finally:
        rc = k.stop()
        for c in clients:
            c.kill()
        echo.kill()
    assert rc == 0, k.stderr
    ids = {cg: os.stat(cg).st_ino for cg in (cg_a, cg_b)}
    got = {}
    for r in k.records("net"):
        assert r["via"] == "cgroup"
        got[(r["cgroup"], r["dir"], r["proto"])] = (r["packets"], r["bytes"])
    for cg in (cg_a, cg_b):
        want = (n[cg], n[cg] * (SIZE + 28))    # IP and UDP headers, no link header
        assert got[(ids[cg], "out", "udp")] == want, got
        assert got[(ids[cg], "in", "udp")] == want, got
    assert {key[0] for key in got} == set(ids.values()), got    # nothing else in there
    rem = {(r["cgroup"], r["raddr"], r["rport"]): r for r in k.records("net_remote")}
    for cg in (cg_a, cg_b):
        r = rem[(ids[cg], veth.peer_ip, PEER_PORT)]
        assert (r["out_packets"], r["in_packets"]) == (n[cg], n[cg]), r
    sizes = {(r["via"], r["dir"]): r["hist"] for r in k.records("net_sizes")}
    assert sizes[("cgroup", "out")]["buckets"] == [
        {"lo": 128, "hi": 255, "count": sum(n.values())}], sizes


@pytest.mark.kernels
def test_payload_captures_the_bytes(veth):
    """--payload 64 --port P: the first 64 bytes of each datagram to P, exact in hex, with
    its length and ends; the escaped text shows the NUL, the high bytes and the newline."""
    import socket

    count = 5
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((veth.host_ip, PORT))
    k = Ksight(["net", "--json", "-i", veth.host, "--by", "interface", "--port", str(PORT),
                "--payload", "64"])
    try:
        k.wait_ready()
        run(*veth.in_ns("udp-send", veth.host_ip, PORT, count, SIZE, SPORT_IN))
        # other traffic, not to PORT: neither counted (--port) nor kept
        run(*veth.in_ns("udp-send", veth.host_ip, PORT + 5, 3, SIZE, SPORT_IN + 5))
    finally:
        rc = k.stop()
        s.close()
    assert rc == 0, k.stderr
    caps = k.records("net_payload")
    assert len(caps) == count, caps
    want = pattern(SIZE)[:64]
    for c in caps:
        assert (c["dir"], c["proto"], c["saddr"], c["sport"], c["daddr"], c["dport"]) == \
            ("in", "udp", veth.peer_ip, SPORT_IN, veth.host_ip, PORT), c
        assert (c["len"], c["captured"]) == (SIZE, 64), c
        assert bytes.fromhex(c["hex"]) == want
        assert c["text"].startswith("ksight-net\\x00\\xff\\x80\\n\\x00\\x01"), c["text"]
    assert [c["seq"] for c in caps] == list(range(1, count + 1))
    assert rows(k, "iface")[(veth.host, "in", "ipv4", "udp")] == \
        (count, count * (SIZE + ETH_IP_UDP))


@pytest.mark.kernels
@pytest.mark.parametrize("end", ["SIGINT", "SIGKILL-then-start"])
def test_legacy_filters_leave_nothing(veth, end):
    """Legacy clsact filters (forced here: this kernel has tcx links) go at Ctrl-C, and
    after SIGKILL with the next ksight's start; the test's own qdisc and filters, there
    before, stay exactly as they were."""
    add_own_filter(veth.host)
    before = tc_state(veth.host)
    k = Ksight(["net", "--json", "-i", veth.host, "--by", "interface", "--tc-mode", "legacy"])
    k.wait_ready()
    assert len(ksight_filters(veth.host)) == 2, tc_state(veth.host)
    run(*veth.in_ns("udp-send", veth.host_ip, PORT, 10, SIZE, SPORT_IN))
    if end == "SIGINT":
        assert k.stop() == 0, k.stderr
        assert rows(k, "iface")[(veth.host, "in", "ipv4", "udp")][0] == 10
    else:
        assert k.stop(signal.SIGKILL) == -signal.SIGKILL
        assert len(ksight_filters(veth.host)) == 2    # nothing owned them
        r = run_ksight(["net", "-i", veth.host, "--by", "interface", "--duration", "1"])
        assert r.returncode == 0, r.stderr
        assert "legacy attachments left by a killed ksight" in r.stderr, r.stderr
    assert ksight_filters(veth.host) == []
    assert tc_state(veth.host) == before


@pytest.mark.parametrize("args,word", [
    (["-i", "nosuchif0"], "-i nosuchif0: no such interface"),
    (["-i", "lo,nosuchif0"], "nosuchif0"),
    (["--port", "0"], "--port"),
    (["--port", "70000"], "--port"),
    (["--port", "http"], "--port"),
    (["--addr", "10.0.0"], "--addr"),
    (["--addr", "fd00::1::2"], "--addr"),
    (["--payload", "1000", "--port", "80"], "--payload"),
    (["--payload", "64"], "--payload needs --port"),
    (["--by", "everything"], "--by"),
    (["-p", "1"], "-p"),
])
def test_bad_input(args, word):
    r = run_ksight(["net"] + args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr
