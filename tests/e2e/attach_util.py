# SPDX-License-Identifier: GPL-2.0
"""What the attach-family tests share: the test instrument (ksight-selftest, the core plus
the test-only selftest module) and the workloads it watches: a veth pair into a network
namespace, a cgroup, TC state as `tc` shows it, tracefs probe events."""
import os
import re
import subprocess
import time

import pytest

from conftest import SELFTEST, SLOW, UNIQ, Ksight, helper_path

TC_PRIO = 0x4b53    # ksight's legacy filters' priority ("KS"), src/core/attach_tc.c


def selftest(args, env=None):
    """ksight-selftest selftest --json ARGS, started (wait_ready is the caller's)."""
    return Ksight(["selftest", "--json"] + [str(a) for a in args], binary=SELFTEST, env=env)


def run_selftest(args, timeout=60):
    """ksight-selftest selftest ARGS to completion (CompletedProcess)."""
    return subprocess.run([SELFTEST, "selftest"] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout * SLOW)


def hits(k, src, pid=None):
    """The selftest_hit records of source @src (of process @pid)."""
    return [r for r in k.records("selftest_hit")
            if r["src"] == src and (pid is None or r["pid"] == pid)]


def summary(k):
    recs = k.records("selftest")
    assert recs, "no selftest summary:\n" + k.stderr
    return recs[-1]


def assert_exact_accounting(k):
    """produced = delivered + lost per selftest type, the kernel's count against the reader's,
    and every record the reader decoded reached the module."""
    s, st = summary(k), k.stats()
    for t in ("hit", "sys", "perf"):
        counts = st["types"].get("selftest_" + t, {})
        delivered, lost = counts.get("events", 0), counts.get("lost", 0)
        assert s["%s_produced" % t] == delivered + lost, (t, s, st)
        assert s["%s_seen" % t] == delivered, (t, s, st)
    assert st["consistent"] is True, st


def run(*cmd, check=True):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=check, timeout=60)


class Veth:
    """A veth pair: HOST in this network namespace (10.251.X.1), PEER (10.251.X.2) in a
    namespace of its own. Packets sent from the namespace arrive on HOST's ingress; packets
    to it leave by HOST's egress."""

    def __init__(self):
        n = int(UNIQ) % 250
        self.ns, self.host, self.peer = "ksns%s" % UNIQ, "ksh%s" % UNIQ, "ksp%s" % UNIQ
        self.host_ip, self.peer_ip = "10.251.%d.1" % n, "10.251.%d.2" % n
        self.close()
        # a modular kernel loads these on demand through its usermode modprobe, which
        # the kernel matrix's guests lack (their / is the initrd's)
        if os.path.exists("/proc/modules"):
            for m in ("veth", "sch_ingress", "cls_bpf"):
                run("modprobe", "-q", m, check=False)
        run("ip", "netns", "add", self.ns)
        run("ip", "link", "add", self.host, "type", "veth", "peer", "name", self.peer)
        run("ip", "link", "set", self.peer, "netns", self.ns)
        run("ip", "addr", "add", self.host_ip + "/24", "dev", self.host)
        run("ip", "link", "set", self.host, "up")
        run("ip", "-n", self.ns, "addr", "add", self.peer_ip + "/24", "dev", self.peer)
        run("ip", "-n", self.ns, "link", "set", self.peer, "up")
        run("ip", "-n", self.ns, "link", "set", "lo", "up")
        # resolve the neighbours both ways, so no datagram of a test waits for ARP
        deadline = time.time() + 10
        while True:
            self.from_ns(9, 1)
            self.to_ns(9, 1)
            if self.resolved():
                break
            assert time.time() < deadline, "ARP never resolved on the veth pair"
            time.sleep(0.05)

    def resolved(self):
        a = run("ip", "neigh", "show", self.peer_ip, "dev", self.host).stdout
        b = run("ip", "-n", self.ns, "neigh", "show", self.host_ip, "dev", self.peer).stdout
        return "lladdr" in a and "lladdr" in b

    def from_ns(self, port, n, sport=0):
        """@n UDP datagrams from the namespace to HOST:@port (HOST's ingress)."""
        run("ip", "netns", "exec", self.ns, helper_path("udpsend"), self.host_ip, port, n,
            *([sport] if sport else []))

    def to_ns(self, port, n, sport=0):
        """@n UDP datagrams from here to the namespace's @port (HOST's egress)."""
        run(helper_path("udpsend"), self.peer_ip, port, n, *([sport] if sport else []))

    def close(self):
        run("ip", "link", "del", self.host, check=False)
        run("ip", "netns", "del", self.ns, check=False)


def tc_state(dev):
    """What `tc` shows of @dev: its qdiscs and the filters on both clsact hooks, with the
    kernel's ids blanked only where they are not the identity of the filter."""
    out = run("tc", "qdisc", "show", "dev", dev).stdout
    for hook in ("ingress", "egress"):
        out += run("tc", "filter", "show", "dev", dev, hook, check=False).stdout
    return out


def ksight_filters(dev):
    """The lines of ksight's legacy filters (priority TC_PRIO) on @dev."""
    return [l for l in tc_state(dev).splitlines() if "pref %d " % TC_PRIO in l and "handle" in l]


def add_own_filter(dev):
    """The test's own clsact qdisc and a filter on each hook, before ksight starts."""
    obj = helper_path("tcpass.bpf.o")
    run("tc", "qdisc", "add", "dev", dev, "clsact")
    for hook in ("ingress", "egress"):
        run("tc", "filter", "add", "dev", dev, hook, "pref", 7, "bpf", "obj", obj, "sec", "tc",
            "da")


def uprobe_events(pattern=r"ksight_"):
    with open("/sys/kernel/tracing/uprobe_events") as f:
        return [l for l in f.read().splitlines() if re.search(pattern, l)]


def cgroup2_root():
    """Where cgroup v2 is mounted here: /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified;
    None if it is not (a chroot without /sys/fs/cgroup)."""
    with open("/proc/self/mountinfo") as f:
        mounts = [l.split()[4] for l in f if " - cgroup2 " in l]
    if not mounts:
        return None
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in mounts else mounts[0]


class Cgroup:
    """A cgroup v2 directory of the test's own (@name below the root, else ksight-test-N);
    processes are moved in with add()."""

    def __init__(self, name=None):
        self.root = cgroup2_root()
        if not self.root:
            pytest.skip("no cgroup v2 hierarchy mounted")
        self.rel = name or "ksight-test-%s" % UNIQ
        self.path = os.path.join(self.root, self.rel)
        os.makedirs(self.path, exist_ok=True)

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def close(self):
        deadline = time.time() + 10
        while os.path.exists(self.path):
            try:
                os.rmdir(self.path)
            except OSError:
                assert time.time() < deadline, "cannot remove " + self.path
                time.sleep(0.05)
