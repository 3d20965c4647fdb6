# SPDX-License-Identifier: GPL-2.0
"""Nothing outlives ksight: the BPF programs, links, maps and BTF it loaded are gone once it
exits, by Ctrl-C or by SIGKILL, and nothing is pinned. Only the ids held by the ksight
process under test are checked: other ksight instances may run on this machine. With every
attach family (the test instrument), SIGKILL at any moment leaves nothing once the next
ksight starts or `ksight cleanup` runs: not even legacy TC filters or tracefs events."""
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from attach_util import Cgroup, Veth, add_own_filter, cgroup2_root, run, selftest, tc_state
from attach_util import run_selftest as selftest_run
from conftest import (KSIGHT, UNIQ, Helper, Ksight, bpf_ids, bpftool_ids, bpftool_json,
                      helper_path, run_ksight)

KINDS = ("prog", "link", "map", "btf")
COMMANDS = {"open": ["open", "-p", "{self}"], "run": ["run", "-p", "{self}"]}


def start(name):
    k = Ksight([a.replace("{self}", str(os.getpid())) for a in COMMANDS[name]])
    k.wait_ready()
    return k


def wait_gone(ids, timeout=30):
    """Wait until none of @ids is loaded; returns what is left per kind. The kernel frees
    them after RCU grace periods, which a loaded machine (a qemu guest beside) stretches."""
    deadline = time.monotonic() + timeout
    while True:
        left = {kind: ids[kind] & bpftool_ids(kind) for kind in KINDS}
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def held(k):
    ids = bpf_ids(k.proc.pid)
    attached = int(re.search(r"\((\d+) programs attached\)", k.stderr).group(1))
    assert attached >= 3
    assert len(ids["link"]) == attached, (ids, k.stderr)
    assert len(ids["prog"]) >= attached and ids["map"] and ids["btf"]
    for kind in KINDS:    # they really are loaded, as the kernel lists them
        assert ids[kind] <= bpftool_ids(kind), kind
    return ids


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_everything_freed_at_exit(name, sig):
    k = start(name)
    try:
        ids = held(k)
    finally:
        rc = k.stop(sig)
    assert rc == (0 if sig == signal.SIGINT else -signal.SIGKILL), k.stderr
    if sig == signal.SIGINT:
        assert re.match(r"^\d+ events, \d+ lost", k.stderr.splitlines()[-1]), k.stderr
    assert wait_gone(ids) == {kind: set() for kind in KINDS}


def pinned_ids(root="/sys/fs/bpf"):
    """(path, kind, id) of every object pinned under @root."""
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            for kind in ("prog", "map", "link"):
                r = subprocess.run(["bpftool", "-j", kind, "show", "pinned", path],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                if r.returncode == 0 and r.stdout.strip().startswith("{"):
                    out.append((path, kind, json.loads(r.stdout)["id"]))
                    break
    return out


def assert_none_pinned(ids):
    names = set()
    for _, dirs, files in os.walk("/sys/fs/bpf"):
        names.update(dirs + files)
    assert not [n for n in names if "ksight" in n or n.startswith(("ks_", "core__", "open__"))]
    for path, kind, oid in pinned_ids():
        assert oid not in ids[kind], "%s pins our %s %d" % (path, kind, oid)


def test_nothing_pinned():
    k = start("open")
    try:
        ids = held(k)
        assert_none_pinned(ids)
    finally:
        assert k.stop() == 0
    assert_none_pinned(ids)


def test_sigterm_stops_cleanly():
    k = start("open")
    assert k.stop(signal.SIGTERM) == 0
    assert re.match(r"^\d+ events, \d+ lost", k.stderr.splitlines()[-1]), k.stderr


def blocked_in_write(pid, fd):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            words = f.read().split()
    except OSError:
        return False
    return len(words) > 1 and words[0] == "1" and int(words[1], 16) == fd


def test_sigint_right_after_ready_line():
    """Hold ksight inside the write of its ready line (stderr is a full pipe), send SIGINT
    there, then let it go: a tool that said it is ready must stop cleanly."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"." * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)    # the flag is shared with ksight's copy
    p = subprocess.Popen([KSIGHT, "open", "-p", str(os.getpid())], stdout=subprocess.DEVNULL,
                         stderr=w)
    os.close(w)
    drained = []
    try:
        deadline = time.monotonic() + 20
        while not blocked_in_write(p.pid, 2):
            assert p.poll() is None and time.monotonic() < deadline, "never wrote its ready line"
            time.sleep(0.005)
        p.send_signal(signal.SIGINT)
        t = threading.Thread(target=lambda: drained.append(b"".join(iter(
            lambda: os.read(r, 65536), b""))), daemon=True)
        t.start()
        rc = p.wait(20)
        t.join(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)
    err = drained[0].lstrip(b".").decode() if drained else ""
    assert rc == 0, "ksight ended with %d: %r" % (rc, err)
    assert re.search(r"^\d+ events, \d+ lost", err, re.M), err


# --- every attach family, killed at random moments ---------------------------------------


def selftest_objects():
    """Ids of every BPF program and map of the test instrument's selftest object still
    loaded on the machine (their names start with "selftest"; no product object's do)."""
    out = {}
    for kind in ("prog", "map"):
        out[kind] = {o["id"] for o in bpftool_json(kind, "show")
                     if o.get("name", "").startswith("selftest")}
    return out


def probe_events():
    lines = []
    for f in ("uprobe_events", "kprobe_events"):
        try:
            with open("/sys/kernel/tracing/" + f) as fh:
                lines += [l for l in fh.read().splitlines() if "ksight_" in l or "libbpf_" in l]
        except OSError:
            pass
    return lines


def bpffs():
    return sorted(os.path.join(d, f) for d, _, fs in os.walk("/sys/fs/bpf") for f in fs)


def attached_state(veth, cg):
    """What the tests' interfaces and cgroup, tracefs and bpffs show."""
    return {
        "tc": tc_state(veth.host),
        "xdp": "xdp" in run("ip", "link", "show", veth.host).stdout,
        "cgroup": run("bpftool", "cgroup", "show", cg.path).stdout if cg else "",
        "events": probe_events(),
        "bpffs": bpffs(),
    }


def wait_nothing_left(timeout=15):
    """Wait until no selftest program or map is loaded (freeing is deferred)."""
    deadline = time.monotonic() + timeout
    while True:
        left = selftest_objects()
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_sigkill_at_random_moments_leaves_nothing():
    """ksight-selftest with every family this kernel has at once - perf per CPU, uprobe and
    uretprobe through tracefs, TC as legacy filters, XDP, cgroup_skb, the dispatcher - is
    killed at random moments of its start (loading, attaching) and once running; after
    each kill the next start or `ksight cleanup` runs, and then no program, link or map of
    it is loaded, tc shows the interface as before, no XDP, no cgroup program, no probe
    event, nothing in /sys/fs/bpf, and no journal of it in /run/ksight.
    KSIGHT_TEST_SEED repeats a run."""
    seed = int(os.environ.get("KSIGHT_TEST_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    veth, cg = Veth(), Cgroup() if cgroup2_root() else None
    u = Helper("utarget", 10)
    port = 7000 + int(UNIQ) % 1000
    try:
        add_own_filter(veth.host)
        before = attached_state(veth, cg)
        args = ["--sys", "--perf", "cpu-clock", "--freq", 100, "--check",
                "--uprobe", helper_path("utarget") + ":ks_target", "--uprobe-legacy",
                "--uretprobe", helper_path("utarget") + ":ks_target",
                "--tc", veth.host, "--tc-mode", "legacy", "--xdp", veth.host,
                "--port", port] + (["--cg-skb", cg.path] if cg else [])
        t0 = time.monotonic()
        k = selftest(args)
        k.wait_ready()
        ready = time.monotonic() - t0
        assert k.stop() == 0, k.stderr
        phases = []
        for i in range(10):
            k = selftest(args)
            if i == 9:
                k.wait_ready()       # once surely running
                time.sleep(rnd.uniform(0, 0.3))
            else:                    # spread over the start, jittered
                time.sleep(ready * (i + rnd.random()) / 9)
            phases.append("ready" if k.ready.is_set() else "starting")
            assert k.stop(signal.SIGKILL) == -signal.SIGKILL
            if i % 2:
                r = run_ksight(["cleanup"])
            else:
                r = selftest_run(["--sys", "--duration", 1])
            assert r.returncode == 0, r.stdout + r.stderr
            if "removed" in r.stderr or re.search(r"^[1-9]\d* removed", r.stdout, re.M):
                phases[-1] += "+left"    # killed after legacy attachments were made
            assert wait_nothing_left() == {"prog": set(), "map": set()}, (seed, i, phases)
            assert attached_state(veth, cg) == before, (seed, i, phases)
            assert not [f for f in os.listdir("/run/ksight") if f.endswith("-%d" % k.proc.pid)] \
                if os.path.isdir("/run/ksight") else True, (seed, i)
        assert "starting" in phases and "ready+left" in phases, phases
    finally:
        u.kill()
        veth.close()
        if cg:
            cg.close()
