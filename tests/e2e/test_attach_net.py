# SPDX-License-Identifier: GPL-2.0
"""The network attach families through ksight-selftest: TC (tcx links, legacy clsact
filters) and XDP on a veth pair into a namespace the test makes, cgroup programs on a
cgroup it makes; exact packet and connection counts. Legacy filters are ksight's only
attachments that no fd owns: after Ctrl-C, and after SIGKILL once a new ksight starts
or `ksight cleanup` runs, none remains, and what the test put there itself is as it was."""
import re
import signal

import pytest

from attach_util import (Cgroup, Veth, add_own_filter, assert_exact_accounting, hits,
                         ksight_filters, run, run_selftest, selftest, summary, tc_state)
from conftest import SCALE, Helper, run_ksight
from kstatus import KernelHooks

PORT = 7000 + int(__import__("conftest").UNIQ) % 1000
N_IN, N_OUT = 300 // SCALE, 200 // SCALE


@pytest.fixture(scope="module")
def families():
    r = run_ksight(["status", "--no-verify"], timeout=120)
    assert r.returncode == 0, r.stderr
    return KernelHooks(r.stdout)


@pytest.fixture
def veth():
    v = Veth()
    try:
        yield v
    finally:
        v.close()


def need_tc(families, mode):
    families.family("tc")
    if mode == "tcx" and not families.notes["tc"].startswith("tcx links"):
        pytest.skip("no tcx links here: " + families.notes["tc"])


def tc_counts(veth, mode, extra=()):
    """Run selftest with TC on veth.host in @mode; N_IN datagrams come in, N_OUT go out."""
    k = selftest(["--tc", veth.host, "--tc-mode", mode, "--port", PORT] + list(extra))
    try:
        k.wait_ready()
        during = ksight_filters(veth.host)
        veth.from_ns(PORT, N_IN, 4001)
        veth.to_ns(PORT, N_OUT, 4002)
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    return k, during


@pytest.mark.kernels
@pytest.mark.parametrize("mode", ["auto", "tcx", "legacy"])
def test_tc_exact_each_direction(families, veth, mode):
    need_tc(families, mode)
    before = tc_state(veth.host)
    k, during = tc_counts(veth, mode)
    legacy = mode == "legacy" or (mode == "auto" and
                                  not families.notes["tc"].startswith("tcx links"))
    assert len(during) == (2 if legacy else 0), during
    ins, outs = hits(k, "tc_in"), hits(k, "tc_out")
    assert len(ins) == N_IN and {h["aux"] for h in ins} == {4001}
    assert len(outs) == N_OUT and {h["aux"] for h in outs} == {4002}
    # packets are about no task (softirq); the header says so
    assert {h["flags"] for h in ins + outs} == {1}
    assert k.stats()["lost"] == 0
    assert_exact_accounting(k)
    assert tc_state(veth.host) == before    # a qdisc ksight made went with its filters


def legacy_filter_lines(dev, pid):
    """ksight's filters of process @pid on @dev: the pid is in the handle's low 22 bits."""
    out = []
    for line in ksight_filters(dev):
        m = re.search(r"handle (0x[0-9a-f]+)", line)
        if m and int(m.group(1), 16) & ((1 << 22) - 1) == pid:
            out.append(line)
    return out


@pytest.mark.kernels
@pytest.mark.parametrize("own", [False, True], ids=["no-qdisc", "own-qdisc-and-filters"])
@pytest.mark.parametrize("end", ["SIGINT", "SIGKILL-then-start", "SIGKILL-then-cleanup"])
def test_tc_legacy_filters_leave_nothing(families, veth, own, end):
    """Legacy filters are tagged (priority 0x4b53, the owner's pid in the handle) and go
    at exit; after SIGKILL they stay until the next ksight start or `ksight cleanup`,
    which takes exactly them (and a qdisc ksight made) and leaves the test's own clsact
    qdisc and filters as they were."""
    families.family("tc")
    if own:
        add_own_filter(veth.host)
    before = tc_state(veth.host)
    k = selftest(["--tc", veth.host, "--tc-mode", "legacy", "--port", PORT])
    k.wait_ready()
    mine = legacy_filter_lines(veth.host, k.proc.pid)
    assert len(mine) == 2, tc_state(veth.host)
    veth.from_ns(PORT, N_IN)
    if end == "SIGINT":
        assert k.stop() == 0, k.stderr
        assert len(hits(k, "tc_in")) == N_IN
    else:
        assert k.stop(signal.SIGKILL) == -signal.SIGKILL
        assert legacy_filter_lines(veth.host, k.proc.pid) == mine    # nothing owned them
        if end == "SIGKILL-then-start":
            r = run_ksight(["open", "--duration", "1"])
            assert r.returncode == 0, r.stderr
            assert "removed 2 legacy attachments left by a killed ksight" in r.stderr \
                or "removed 3 legacy attachments" in r.stderr, r.stderr
        else:
            dry = run_ksight(["cleanup", "--dry-run"])
            assert dry.returncode == 0, dry.stderr
            assert dry.stdout.count("would remove tc filter") == 2, dry.stdout
            assert ("would remove clsact qdisc" in dry.stdout) == (not own), dry.stdout
            assert legacy_filter_lines(veth.host, k.proc.pid) == mine    # dry: untouched
            r = run_ksight(["cleanup"])
            assert r.returncode == 0, r.stdout + r.stderr
            assert r.stdout.count("removed tc filter") == 2, r.stdout
            again = run_ksight(["cleanup"])
            assert again.stdout.strip().startswith("0 removed"), again.stdout
    assert tc_state(veth.host) == before


def test_cleanup_leaves_a_running_ksight_alone(families, veth):
    families.family("tc")
    k = selftest(["--tc", veth.host, "--tc-mode", "legacy", "--port", PORT])
    try:
        k.wait_ready()
        mine = legacy_filter_lines(veth.host, k.proc.pid)
        r = run_ksight(["cleanup"])
        assert r.returncode == 0, r.stderr
        assert "left alone: what running ksight %d owns" % k.proc.pid in r.stdout, r.stdout
        assert legacy_filter_lines(veth.host, k.proc.pid) == mine and len(mine) == 2
        veth.from_ns(PORT, N_IN)
    finally:
        assert k.stop() == 0, k.stderr
    assert len(hits(k, "tc_in")) == N_IN    # still attached and counting after the cleanup
    assert legacy_filter_lines(veth.host, k.proc.pid) == []


@pytest.mark.kernels
def test_xdp_exact(families, veth):
    families.family("xdp")
    before = run("ip", "link", "show", veth.host).stdout
    k = selftest(["--xdp", veth.host, "--port", PORT])
    try:
        k.wait_ready()
        assert "xdp" in run("ip", "link", "show", veth.host).stdout
        veth.from_ns(PORT, N_IN, 4003)
        veth.to_ns(PORT, N_OUT)    # XDP sees only what comes in
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    got = hits(k, "xdp")
    assert len(got) == N_IN and {h["aux"] for h in got} == {4003}
    assert_exact_accounting(k)
    assert run("ip", "link", "show", veth.host).stdout == before


@pytest.fixture
def cgroup():
    c = Cgroup()
    try:
        yield c
    finally:
        c.close()


@pytest.mark.kernels
@pytest.mark.parametrize("path", ["absolute", "relative"])
def test_cgroup_programs_exact(families, cgroup, path):
    """cgroup_skb both ways, sock_create, connect4 and sockops on a cgroup the test makes,
    named by its path or relative to the cgroup v2 mount (/sys/fs/cgroup here on a pure
    v2 system, /sys/fs/cgroup/unified on a hybrid one)."""
    for f in ("cgroup_skb", "cgroup_sock", "cgroup_sock_addr", "sockops"):
        families.family(f)
    n, conns = 200 // SCALE, 20 // SCALE
    where = cgroup.path if path == "absolute" else cgroup.rel
    h = Helper("netcg", PORT, n, conns)
    try:
        cgroup.add(h.pid)
        k = selftest(["--cg-skb", where, "--cg-sock", where, "--cg-connect", where,
                      "--sockops", where, "--port", PORT, "-p", h.pid])
        try:
            k.wait_ready()
            h.go()
            assert h.readline().split() == ["done", str(n), str(conns)]
        finally:
            rc = k.stop()
        assert rc == 0, k.stderr
    finally:
        h.kill()
    s = summary(k)
    assert (s.get("cg_out"), s.get("cg_in")) == (n, n), s
    # the cgroup holds only the helper: its programs need no task filter
    assert len(hits(k, "cg_sock")) == 3 + conns
    assert [x["value"] for x in hits(k, "cg_connect")] == [PORT] * conns
    assert len(hits(k, "sockops")) == conns
    assert_exact_accounting(k)


def test_cgroup_not_v2_said(families):
    families.family("cgroup_skb")
    r = run_selftest(["--cg-skb", "no-such-cgroup-here", "--port", 1])
    assert r.returncode == 1
    assert "no-such-cgroup-here: not a cgroup v2 directory" in r.stderr, r.stderr


def test_attach_failing_halfway_takes_off_what_it_made(families, veth):
    """A module whose attach callback fails after some attachments (legacy TC filters made,
    then a uretprobe on a function that does not exist) has everything it made taken off:
    the tool stops with the reason and tc shows the interface as before."""
    families.family("tc")
    add_own_filter(veth.host)
    before = tc_state(veth.host)
    r = run_selftest(["--tc", veth.host, "--tc-mode", "legacy", "--port", PORT,
                      "--uretprobe", "/bin/true:no_such_function"])
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().endswith("has no function no_such_function"), r.stderr
    assert tc_state(veth.host) == before


def test_cleanup_usage():
    r = run_ksight(["cleanup", "--help"])
    assert r.returncode == 0 and "--dry-run" in r.stdout and "Usage: ksight cleanup" in r.stdout
    r = run_ksight(["cleanup", "now"])
    assert r.returncode == 2
    assert r.stderr == "ksight cleanup: takes no arguments (ksight cleanup --help)\n", r.stderr
    r = run_ksight(["cleanup", "--bogus"])
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
