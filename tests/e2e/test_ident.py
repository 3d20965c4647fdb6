# SPDX-License-Identifier: GPL-2.0
"""Identity and the fd table under load: a fork storm never stalls the reader (0 lost with
a small ring, every count exact, also while each /proc read is made slow on purpose), the
service of a record comes from its cgroup (a systemd unit, a container), the agent's
seeding stays off the critical path, and the test switch is checked like any input."""
import collections
import os
import re
import shutil
import time

import pytest

from conftest import SCALE, TEST_UID, Helper, Ksight, helper_path, run_ksight
from test_open import cgroup  # noqa: F401,F811 (a fixture)

DELAY_ENV = "KSIGHT_TEST_PROC_DELAY_MS"
N_STORM = 2000 // SCALE
RING = 512 * 1024



def idents(k):
    """The identity counters of each stats record so far (its "ident" object)."""
    return [r["ident"] for r in k.records("stats")]

def unit_of(pid):
    """The innermost systemd service unit of @pid's cgroup v2 path, or None."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            if line.startswith("0::"):
                units = [c for c in line[3:].strip().split("/") if c.endswith(".service")]
                return units[-1] if units and len(units[-1]) > 8 else None
    return None


def env_with(delay_ms):
    env = dict(os.environ)
    env.pop(DELAY_ENV, None)
    if delay_ms:
        env[DELAY_ENV] = str(delay_ms)
    return env


def writable_file(d):
    f = os.path.join(d, "f")
    with open(f, "w"):
        pass
    os.chmod(f, 0o666)
    return f


def count(k, pred):
    return sum(1 for r in k.records() if pred(r))


def wait_for(k, pred, n, timeout=10):
    """Wait until ksight has printed @n records matching @pred; returns how many it had."""
    deadline = time.time() + timeout
    while count(k, pred) < n and time.time() < deadline:
        time.sleep(0.05)
    return count(k, pred)


@pytest.mark.parametrize("delay_ms", [0, 100])
def test_fork_storm_reader_never_waits(pubdir, delay_ms):
    """Thousands of short-lived processes (a quarter exec'd), each opening, writing and
    closing one file, traced by the agent with every module and a 512 KiB ring. Every
    record arrives, exactly once, while the storm runs; with each /proc load made 100 ms
    slow the worker falls minutes behind and records still flow at the same rate: the
    reader never reads /proc itself."""
    f = writable_file(pubdir)
    # its children exec it as TEST_UID: from a directory that uid can reach (a clone
    # under /root, 0700, cannot be)
    storm = os.path.join(pubdir, "forkstorm")
    shutil.copy(helper_path("forkstorm"), storm)
    os.chmod(storm, 0o755)
    h = Helper(storm, "-u", TEST_UID, "-x", 4, pubdir, N_STORM)
    try:
        k = Ksight(["run", "--json", "-u", str(TEST_UID), "--ringbuf-size", str(RING)],
                   env=env_with(delay_ms))
        k.wait_ready()
        t0 = time.time()
        h.go()
        h.result(timeout=600)
        storm_s = time.time() - t0
        # the records come while the storm runs, not after a lagging worker
        got = wait_for(k, lambda r: r["type"] == "open" and r.get("path") == f, N_STORM,
                       timeout=5)
        t_stop = time.time()
        assert k.stop() == 0, k.stderr
        stop_s = time.time() - t_stop
    finally:
        h.kill()
    lines = h.out.splitlines()
    kids = set(map(int, lines[0].split()[2:]))
    execd = set(map(int, lines[1].split()[1:]))
    assert len(kids) == N_STORM and len(execd) == N_STORM // 4 and got == N_STORM
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, k.stderr
    recs = k.records()
    by = collections.Counter()
    for r in recs:
        if r.get("pid") not in kids:
            continue
        if r["type"] == "open" and r["path"] == f:
            by["open"] += 1
        elif r["type"] == "files" and r["path"] == f:
            by["files_" + r["event"]] += 1  # the close named by the fd table
        elif r["type"] in ("exit", "exec"):
            by[r["type"]] += 1
    # (the agent's rw counts in the kernel: no record per write to name here)
    assert dict(by) == {"open": N_STORM, "files_write": N_STORM,
                        "files_close": N_STORM, "exit": N_STORM, "exec": N_STORM // 4}
    assert {r["pid"] for r in recs if r["type"] == "exec"} >= execd
    ident = idents(k)[-1]
    # every child not exec'd was a miss, answered from its record at once
    assert ident["misses"] >= N_STORM - N_STORM // 4
    assert ident["queued"] + ident["dropped"] >= ident["misses"]
    assert ident["loaded"] + ident["gone"] + ident["stale"] <= ident["queued"]
    # before and after /proc answered: the comm, the executable, or the unit pytest runs in
    services = collections.Counter(r["service"] for r in recs if r.get("pid") in kids)
    assert set(services) <= {"forkstorm", unit_of(os.getpid())}, services
    if delay_ms:
        # at 100 ms a load, the worker did a few dozen of thousands of jobs
        assert ident["worker_done"] <= (storm_s + 10) * 1000 / delay_ms, ident
        assert ident["worker_pending"] + ident["dropped"] > N_STORM // 2, ident
        assert ident["loaded"] < N_STORM // 10, ident
        assert ident["fd_scans_done"] < N_STORM // 10, ident
    assert stop_s < 5, "ksight took %.1fs to stop" % stop_s
    events = sum(by.values())
    print("fork storm, delay %d ms: %d processes in %.1fs; %d records of theirs (%.0f/s), "
          "0 lost; worker: %d done, %d pending, %d refused" % (
              delay_ms, N_STORM, storm_s, events, events / storm_s, ident["worker_done"],
              ident["worker_pending"], ident["dropped"]))


def opener_in(pubdir, move, n):
    h = Helper("opener", "-u", TEST_UID, pubdir, n)
    try:
        move(h.pid)
        h.go()
        h.result()
    finally:
        h.kill()
    return h


def idle_after(k, pid, timeout=20):
    """Wait for a stats record printed after the last record of @pid and showing the
    worker idle: everything queued until then is published."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        recs = k.records()
        last = max(i for i, r in enumerate(recs) if r.get("pid") == pid)
        if any(r["type"] == "stats" and r["ident"]["worker_pending"] == 0 for r in recs[last:]):
            return True
        time.sleep(0.1)
    return False


CID = ("%08x" % os.getpid()) * 8


@pytest.mark.parametrize("leaf,name", [
    ("ksight-e2e-%d.service" % os.getpid(), "ksight-e2e-%d.service" % os.getpid()),
    ("docker-%s.scope" % CID, "docker:" + CID[:12]),
])
def test_service_from_cgroup(pubdir, cgroup, leaf, name):  # noqa: F811
    """Records of a process in a cgroup named like a systemd unit or a container name
    that service once the cgroup's id is resolved (by file handle on this host's cgroup2
    mount); until then the process's own name; never the other way round."""
    path, _ = cgroup
    leaf_path = os.path.join(path, leaf)
    os.mkdir(leaf_path)
    n = 200

    def move(pid):
        with open(os.path.join(leaf_path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    try:
        k = Ksight(["run", "--json", "-u", str(TEST_UID), "1"])  # a stats record (with ident) a second
        k.wait_ready()
        a = opener_in(pubdir, move, n)
        assert wait_for(k, lambda r: r["type"] == "open" and r["pid"] == a.pid, n) == n
        assert idle_after(k, a.pid), k.stderr
        b = opener_in(pubdir, move, n)
        assert wait_for(k, lambda r: r["type"] == "open" and r["pid"] == b.pid, n) == n
        assert k.stop() == 0, k.stderr
    finally:
        for _ in range(100):
            try:
                os.rmdir(leaf_path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
    seen = [r["service"] for r in k.records("open") if r["pid"] == a.pid]
    cut = seen.index(name) if name in seen else len(seen)
    assert set(seen[:cut]) <= {"opener"} and set(seen[cut:]) <= {name}, seen
    # resolved by then: every record of a new process in that cgroup names the service
    assert {r["service"] for r in k.records("open") if r["pid"] == b.pid} == {name}
    assert k.stats()["lost"] == 0


def test_seeding_off_the_critical_path():
    """The agent loads every process of /proc at start on the worker: with each load made
    one second slow (minutes for this machine's processes), it is ready and stops as fast
    as ever, its worker still busy with the first processes."""
    nprocs = len([d for d in os.listdir("/proc") if d.isdigit()])
    k = Ksight(["run", "--json", "1"], env=env_with(1000))
    try:
        k.wait_ready()
        ms = int(re.search(r"ready in (\d+) ms", k.stderr).group(1))
        deadline = time.time() + 10
        while not idents(k) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        t = time.time()
        assert k.stop() == 0, k.stderr
        stop_s = time.time() - t
    assert nprocs > 20 and ms < 5000 and stop_s < 5, (nprocs, ms, stop_s)
    ident = idents(k)[0]
    # seeding is queued and goes eight processes a job: not one finished in this second
    assert ident["queued"] >= 1 and ident["worker_done"] == 0, ident
    assert ident["worker_pending"] >= 1, ident


@pytest.mark.parametrize("value", ["abc", "-1", "60001", "", "10ms"])
def test_bad_delay_switch_is_usage_error(value):
    env = env_with(0)
    env[DELAY_ENV] = value
    r = run_ksight_env(["open", "--duration", "1"], env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and DELAY_ENV in lines[0], r.stderr


def run_ksight_env(args, env):
    import subprocess
    from conftest import KSIGHT
    return subprocess.run([KSIGHT] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=30)


def test_delay_switch_unset_or_zero_is_fine():
    env = env_with(0)
    env[DELAY_ENV] = "0"
    assert run_ksight_env(["open", "--help"], env).returncode == 0
    assert run_ksight(["open", "--help"]).returncode == 0
