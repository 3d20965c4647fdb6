# SPDX-License-Identifier: GPL-2.0
"""ksight drops against packets dropped in a network namespace the tests make (a veth pair,
attach_util.Veth): datagrams to a closed port (NO_SOCKET, checked against the namespace's
own Udp NoPorts counter), an nftables rule there dropping one flow (NETFILTER_DROP, checked
against the rule's counter), the -i, --netns, --reason and -p filters, bad input, and the
agent's counts. Every rule lives in the namespace, which goes with the fixture."""
import os
import re
import subprocess
import time

import pytest

from attach_util import Veth, cgroup2_root, run
from conftest import SLOW, Helper, Ksight, run_ksight

HOOKS = [None, "tp_btf", "raw_tp", "tp"]
P_RULE, P_CLOSED, P_OUT = 7001, 7002, 7003
UDP_LEN = 8 + 32        # what a UDP drop frees: the datagram, its IP header pulled


def named_reasons():
    """Whether skb:kfree_skb carries a reason here (5.17+); before, every drop is 'unknown'."""
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    return (major, minor) >= (5, 17)


def reason(name):
    return name if named_reasons() else "unknown"


@pytest.fixture(scope="module")
def veth():
    v = Veth()
    try:
        yield v
    finally:
        v.close()


def ns_ino(ns):
    return os.stat("/run/netns/" + ns).st_ino


def noports(ns):
    """The namespace's own count of UDP datagrams that found no socket (/proc/net/snmp)."""
    lines = [l.split() for l in run("ip", "netns", "exec", ns, "cat", "/proc/net/snmp")
             .stdout.splitlines() if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("NoPorts")])


def nft(ns, script):
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr


def nft_counter(ns, chain):
    """Packets the rule of @chain in table inet ksdrops counted."""
    out = run("ip", "netns", "exec", ns, "nft", "list", "chain", "inet", "ksdrops", chain).stdout
    return int(re.search(r"counter packets (\d+)", out).group(1))


@pytest.fixture
def rule(veth):
    """A table in the namespace: its input chain drops UDP to P_RULE, its output chain UDP to
    P_OUT, each rule counting; removed after the test."""
    nft(veth.ns, """
table inet ksdrops {
    chain input { type filter hook input priority 0; udp dport %d counter drop; }
    chain output { type filter hook output priority 0; udp dport %d counter drop; }
}
""" % (P_RULE, P_OUT))
    try:
        yield
    finally:
        nft(veth.ns, "delete table inet ksdrops\n")


def drops(args):
    k = Ksight(["drops", "--json", "--top", "0"] + [str(a) for a in args])
    k.wait_ready()
    return k


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout * SLOW
    while not cond():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def udp4(k, **match):
    """The IPv4/UDP rows of @k (and with @match's values)."""
    return [r for r in k.records("drops") if r.get("protocol") == "IPv4" and r.get("l4") == "UDP"
            and all(r.get(a) == b for a, b in match.items())]


def stop(k):
    rc = k.stop()
    assert rc == 0, k.stderr
    st = k.stats()
    total = sum(r["count"] for r in k.records("drops"))
    d = st["types"].get("drops", {})
    assert d.get("events", 0) == total and d.get("lost", 0) == 0, st
    assert st["consistent"] is True, st


@pytest.mark.parametrize("hooks", HOOKS)
def test_closed_port_exact(veth, hooks):
    """N datagrams to a closed port in the namespace: N drops for no socket on its end of
    the pair, as many as its own NoPorts counter grew, each of 40 bytes, no owner."""
    n = 37
    before = noports(veth.ns)
    k = drops(["--netns", veth.ns] + (["--hooks", hooks] if hooks else []))
    try:
        veth.to_ns(P_CLOSED, n)
        wait_for(lambda: noports(veth.ns) - before >= n)
    finally:
        stop(k)
    assert noports(veth.ns) - before == n
    got = [(r["reason"], r["interface"], r["count"], r["bytes"], r["owner"]) for r in udp4(k)]
    assert got == [(reason("NO_SOCKET"), veth.peer, n, n * UDP_LEN, "-")], k.stdout
    ino = ns_ino(veth.ns)
    assert all(r["netns"] == ino and r["netns_name"] == veth.ns for r in k.records("drops"))


def test_netfilter_rule_drops_its_flow_only(veth, rule):
    """A rule dropping every datagram to one port: exactly as many NETFILTER_DROP as it
    counted; a control flow to a closed port beside it is dropped for no socket, exactly."""
    n, m = 25, 11
    before = noports(veth.ns)
    k = drops(["--netns", veth.ns])
    try:
        veth.to_ns(P_RULE, n)
        veth.to_ns(P_CLOSED, m)
        wait_for(lambda: nft_counter(veth.ns, "input") >= n and noports(veth.ns) - before >= m)
    finally:
        stop(k)
    assert nft_counter(veth.ns, "input") == n and noports(veth.ns) - before == m
    got = sorted((r["reason"], r["interface"], r["count"], r["bytes"]) for r in udp4(k))
    if named_reasons():
        assert got == sorted([("NETFILTER_DROP", veth.peer, n, n * (20 + UDP_LEN)),
                              ("NO_SOCKET", veth.peer, m, m * UDP_LEN)]), k.stdout
    else:
        assert sum(c for _, _, c, _ in got) == n + m, k.stdout


def test_reason_filter_in_the_kernel(veth, rule):
    """--reason NETFILTER_DROP: the rule's drops, nothing else (the closed port's are not
    even counted: the kernel's total is the rule's)."""
    if not named_reasons():
        pytest.skip("no drop reasons before 5.17")
    n, m = 9, 14
    before = noports(veth.ns)
    k = drops(["--netns", veth.ns, "--reason", "netfilter_drop"])
    try:
        veth.to_ns(P_RULE, n)
        veth.to_ns(P_CLOSED, m)
        wait_for(lambda: nft_counter(veth.ns, "input") >= n and noports(veth.ns) - before >= m)
    finally:
        stop(k)
    assert {r["reason"] for r in k.records("drops")} == {"NETFILTER_DROP"}
    assert [r["count"] for r in udp4(k)] == [n]
    assert k.stats()["types"]["drops"]["events"] == n      # counted: only the rule's


def test_interface_filter(veth):
    """-i selects one interface of one namespace: the namespace's end sees the drops, this
    end and the namespace's lo none of them."""
    n = 19
    before = noports(veth.ns)
    ks = {name: drops(args) for name, args in (
        ("host", ["-i", veth.host]), ("peer", ["--netns", veth.ns, "-i", veth.peer]),
        ("lo", ["--netns", veth.ns, "-i", "lo"]))}
    try:
        veth.to_ns(P_CLOSED, n)
        wait_for(lambda: noports(veth.ns) - before >= n)
    finally:
        for k in ks.values():
            stop(k)
    assert [(r["reason"], r["count"]) for r in udp4(ks["peer"])] == [(reason("NO_SOCKET"), n)]
    assert {r["interface"] for r in ks["peer"].records("drops")} == {veth.peer}
    assert {r["interface"] for r in ks["host"].records("drops")} <= {veth.host}
    assert not udp4(ks["host"]), ks["host"].stdout
    assert not ks["lo"].records("drops"), ks["lo"].stdout


def cgroup_id(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        path = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0]
    return os.stat(cgroup2_root() + path).st_ino


def test_pid_selects_its_sockets(veth, rule):
    """-p PID: the packets of PID's sockets. A sender in the namespace whose datagrams the
    output rule drops: all of them under its -p, with its socket's cgroup as the owner;
    nothing under the -p of another process with a socket."""
    if not named_reasons():
        pytest.skip("checked by reason: no drop reasons before 5.17")
    n = 23
    sender = Helper("udpburst", veth.host_ip, P_OUT, n, ns=veth.ns)
    other = Helper("udpburst", veth.host_ip, P_OUT, 0, ns=veth.ns)
    try:
        cg = cgroup_id(sender.pid)
        mine, theirs = drops(["-p", sender.pid]), drops(["-p", other.pid])
        try:
            sender.go()
            assert sender.readline().split() == ["sent", "0", str(n)]    # EPERM each
            wait_for(lambda: nft_counter(veth.ns, "output") >= n)
        finally:
            stop(mine)
            stop(theirs)
        sender.result()
    finally:
        sender.kill()
        other.kill()
    assert nft_counter(veth.ns, "output") == n
    rows = [(r["reason"], r["interface"], r["count"], r["cgroup"]) for r in udp4(mine)]
    assert rows == [("NETFILTER_DROP", veth.peer, n, cg)], mine.stdout
    assert {r["reason"] for r in mine.records("drops")} == {"NETFILTER_DROP"}
    assert not theirs.records("drops"), theirs.stdout


def test_table_and_intervals(veth):
    """The terminal's table, and `drops 1 2` ending by itself after two reports."""
    n = 5
    before = noports(veth.ns)
    k = Ksight(["drops", "--netns", veth.ns, "1", "2"])
    k.wait_ready()
    veth.to_ns(P_CLOSED, n)
    wait_for(lambda: noports(veth.ns) - before >= n)
    assert k.wait(30) == 0, k.stderr
    head = [l for l in k.out_lines if l.startswith("REASON")]
    assert head and head[0].split() == ["REASON", "IFACE", "NETNS", "PROTO", "OWNER", "DROPS",
                                        "BYTES"], k.stdout
    rows = [l.split() for l in k.out_lines if "IPv4/UDP" in l]
    assert sum(int(r[5]) for r in rows if r[1] == veth.peer) == n, k.stdout


def test_agent_counts_drops(veth):
    """`ksight run`: the drops module's summaries count every drop (at least ours: the agent
    watches the whole machine), by reason."""
    n = 31
    before = noports(veth.ns)
    k = Ksight(["run", "--json", "--modules", "drops", "1"])
    k.wait_ready()
    try:
        veth.to_ns(P_CLOSED, n)
        wait_for(lambda: noports(veth.ns) - before >= n)
        time.sleep(1.2)     # one more summary
    finally:
        assert k.stop() == 0, k.stderr
    summ = [r for r in k.records("summary") if r["module"] == "drops"]
    assert summ and sum(r["drops"] for r in summ) >= n, k.stdout
    assert sum(r["reasons"].get(reason("NO_SOCKET"), 0) for r in summ) >= n, k.stdout


def test_status_says_whether_reasons_are_named(kernel_hooks):
    note = kernel_hooks.module_notes.get("drops", "")
    if named_reasons():
        assert note.startswith("drop reasons: named from this kernel's BTF"), kernel_hooks.text
    else:
        assert "counted as 'unknown'" in note, kernel_hooks.text


@pytest.mark.parametrize("args,word", [
    (["-i", "ksnosuch0"], "-i: no interface 'ksnosuch0'"),
    (["--reason", "NO_SUCH_REASON"], "--reason"),
    (["--netns", "ksnosuchns"], "--netns: no network namespace 'ksnosuchns'"),
    (["--netns", "ksnosuchns", "-i", "lo"], "--netns"),
    (["-t", "1"], "-t"),
    (["--top", "many"], "--top"),
])
def test_bad_input_exits_2(args, word):
    r = run_ksight(["drops"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    assert len(r.stderr.strip().splitlines()) == 1 and word in r.stderr, r.stderr
