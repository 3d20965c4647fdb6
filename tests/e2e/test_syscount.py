# SPDX-License-Identifier: GPL-2.0
"""ksight syscount: exact counts of real system calls made by a helper, errnos, latency
histograms, filters proven against a second process, interval deltas, loss accounting,
the running kernel's names, bad input."""
import json
import os
import time

import pytest

from conftest import Helper, Ksight, loaded_progs, run_ksight

N_PPID = 12345
N_OPEN = 777
HOOKS = [None, "tp_btf", "raw_tp", "tp"]


class Syscaller(Helper):
    """tests/e2e/helpers/syscaller: each round makes n_ppid getppid and n_open failing
    openat (ENOENT) calls."""

    def __init__(self, workdir, n_ppid=N_PPID, n_open=N_OPEN, comm=None, threads=1):
        args = (["-c", comm] if comm else []) + ["-t", threads,
                                                 os.path.join(workdir, "missing"), n_ppid,
                                                 n_open]
        super().__init__("syscaller", *args)
        self.n_ppid, self.n_open = n_ppid * threads, n_open * threads

    def round(self):
        """One round, waited for; the calls are in the kernel's maps when it returns, the
        write of "done" included: the helper is back in read(2) by then. (On a slow CPU,
        such as a TCG guest of make test-kernels, the line can be read before the write's
        syscall exit, which counts it, has run.)"""
        self.go()
        line = self.proc.stdout.readline().decode().split()
        assert line == ["done", str(self.n_ppid), str(self.n_open)], line
        deadline = time.time() + 10
        while not in_read(self.pid):
            assert time.time() < deadline, "syscaller %d not back in read" % self.pid
            time.sleep(0.002)


def in_read(pid):
    """Whether @pid's main thread sleeps in read(2) (/proc/PID/syscall starts with 0)."""
    with open("/proc/%d/syscall" % pid) as f:
        return f.read().split()[0] == "0"


def syscount(args, helpers, rounds=1, gap=0.0):
    """Run `ksight syscount --json <args>` ({pid} is the first helper's) around `rounds`
    rounds of every helper, `gap` seconds apart; returns the stopped Ksight."""
    pid = helpers[0].pid
    k = Ksight(["syscount", "--json"] + [a.replace("{pid}", str(pid)) for a in args])
    try:
        k.wait_ready()
        for i in range(rounds):
            if i:
                time.sleep(gap)
            for h in helpers:
                h.round()
        assert k.stop() == 0, k.stderr
    finally:
        if k.proc.poll() is None:
            k.stop()
    return k


@pytest.fixture
def helper(workdir):
    h = Syscaller(workdir)
    yield h
    h.kill()


@pytest.fixture
def other(workdir):
    """A second process making different numbers of the same calls."""
    h = Syscaller(workdir, 2000, 30, comm="othercaller")
    yield h
    h.kill()


def rows(k, name=None, pid=None):
    return [r for r in k.records("syscount")
            if (name is None or r["name"] == name) and (pid is None or r.get("pid") == pid)]


def one(k, name, **kw):
    found = [r for r in rows(k, name) if all(r.get(f) == v for f, v in kw.items())]
    assert len(found) == 1, (name, kw, k.records("syscount"))
    return found[0]


def assert_accounted(k):
    """Nothing lost, and the stats count exactly what the kernel counted."""
    st = k.stats()
    assert st["lost"] == 0 and st["types"]["syscount"]["lost"] == 0 and st["consistent"] is True
    total = sum(r["calls"] for r in k.records("syscount_total"))
    assert st["types"]["syscount"]["events"] == total
    assert k.stderr.splitlines()[-1] == "%d events, 0 lost" % st["events"]


@pytest.mark.parametrize("hooks", HOOKS)
def test_exact_counts(helper, hooks):
    k = syscount(["-p", "{pid}", "--top", "1000"] + (["--hooks", hooks] if hooks else []),
                 [helper])
    ppid = one(k, "getppid")
    assert (ppid["count"], ppid["errors"], ppid["nr"]) == (N_PPID, 0, 110)
    op = one(k, "openat")
    assert (op["count"], op["errors"], op["nr"]) == (N_OPEN, N_OPEN, 257)
    # the helper's only other calls: the read that returned "go" (entered before ksight
    # attached: counted where the dispatcher needs no entry) and the write of "done"
    assert {r["name"] for r in rows(k)} <= {"getppid", "openat", "read", "write"}
    assert one(k, "write")["count"] == 1
    total = k.records("syscount_total")[-1]
    assert total["calls"] == sum(r["count"] for r in rows(k))
    assert total["errors"] == N_OPEN
    assert_accounted(k)


@pytest.mark.parametrize("hist", [False, True])
def test_threads_on_every_cpu_add_up(workdir, hist):
    """Four threads at once: the per-CPU copies of every CPU they ran on add up exactly,
    in the dispatcher's own counters (plain counts) and in syscount's (--hist)."""
    h = Syscaller(workdir, threads=4)
    try:
        k = syscount(["-p", "{pid}", "-s", "getppid,openat"] + (["--hist"] if hist else []),
                     [h], rounds=2)
    finally:
        h.kill()
    for name, n in (("getppid", 2 * 4 * N_PPID), ("openat", 2 * 4 * N_OPEN)):
        r = one(k, name)
        assert r["count"] == n and (not hist or r["hist"]["count"] == n)
        assert r["errors"] == (n if name == "openat" else 0)
    assert_accounted(k)


@pytest.mark.parametrize("args,handler", [([], False), (["-L"], False), (["-P"], True),
                                          (["-x"], True), (["--hist"], True)])
def test_plain_counts_need_no_handler(args, handler):
    """Counts and total times per syscall are kept by the dispatcher itself: syscount's
    handler program is not even loaded (no tail call per syscall); any option that needs
    more loads it."""
    k = Ksight(["syscount"] + args)
    try:
        k.wait_ready()
        loaded = loaded_progs(k.proc.pid)
    finally:
        assert k.stop() == 0, k.stderr
    assert "core__sys_exit_btf" in loaded, loaded
    assert ("syscount__sys_btf" in loaded) == handler, loaded


@pytest.mark.parametrize("hooks", HOOKS)
def test_latency_histograms(helper, hooks):
    k = syscount(["-p", "{pid}", "-L", "--hist", "--top", "1000"] +
                 (["--hooks", hooks] if hooks else []), [helper])
    assert one(k, "getppid")["count"] == N_PPID
    assert one(k, "openat")["count"] == N_OPEN
    for r in rows(k):
        h = r["hist"]
        assert h["unit"] == "nsecs"
        # every counted call is in its histogram, bucket by bucket
        assert h["count"] == r["count"] == sum(b["count"] for b in h["buckets"])
        # (JSON numbers carry 6 significant digits)
        assert r["lat_ns"] > 0 and r["avg_ns"] == pytest.approx(r["lat_ns"] / r["count"],
                                                               rel=1e-5)
        assert 0 < h["p50"] <= h["p90"] <= h["p99"]
        # the mean lies between the smallest and largest bucket's bounds
        assert h["buckets"][0]["lo"] <= r["avg_ns"] <= h["buckets"][-1]["hi"] + 1
    # the read that was waiting when ksight attached has no entry time: not counted
    assert not rows(k, "read")
    assert_accounted(k)


@pytest.mark.parametrize("hooks", HOOKS)
def test_latency_totals_in_the_dispatcher(helper, hooks):
    """-L alone: counts and total times kept by the dispatcher itself, exact on every
    hook family; the times are real (their sum fits in the run's wall time)."""
    t0 = time.monotonic()
    k = syscount(["-p", "{pid}", "-L", "--top", "1000"] +
                 (["--hooks", hooks] if hooks else []), [helper])
    wall_ns = (time.monotonic() - t0) * 1e9
    assert (one(k, "getppid")["count"], one(k, "getppid")["errors"]) == (N_PPID, 0)
    assert (one(k, "openat")["count"], one(k, "openat")["errors"]) == (N_OPEN, N_OPEN)
    for r in rows(k):
        assert "hist" not in r
        assert r["lat_ns"] > 0 and r["avg_ns"] == pytest.approx(r["lat_ns"] / r["count"],
                                                               rel=1e-5)
    assert 0 < sum(r["lat_ns"] for r in rows(k)) < wall_ns
    # the read that was waiting when ksight attached has no entry time: not counted
    assert not rows(k, "read")
    assert_accounted(k)


def test_latency_in_ms(helper):
    k = syscount(["-p", "{pid}", "-L", "--hist", "-m", "-s", "getppid"], [helper])
    r = one(k, "getppid")
    assert r["count"] == N_PPID and r["hist"]["unit"] == "usecs"
    assert sum(b["count"] for b in r["hist"]["buckets"]) == N_PPID


def test_failures_only(helper):
    k = syscount(["-p", "{pid}", "-x"], [helper])
    assert [(r["name"], r["count"], r["errors"]) for r in rows(k)] == [
        ("openat", N_OPEN, N_OPEN)]
    assert_accounted(k)


def test_errno_breakdown(helper):
    k = syscount(["-p", "{pid}", "-e", "--top", "1000"], [helper])
    op = rows(k, "openat")
    assert [(r["err"], r["errno"], r["count"], r["errors"]) for r in op] == [
        ("ENOENT", 2, N_OPEN, N_OPEN)]
    ppid = one(k, "getppid")
    assert (ppid["errno"], ppid["count"], ppid["errors"]) == (0, N_PPID, 0)
    assert "err" not in ppid
    assert_accounted(k)


def test_errno_breakdown_of_failures_with_latency(helper):
    k = syscount(["-p", "{pid}", "-x", "-e", "-L", "--hist"], [helper])
    assert [(r["name"], r["err"], r["count"], r["hist"]["count"]) for r in rows(k)] == [
        ("openat", "ENOENT", N_OPEN, N_OPEN)]


def test_syscall_filter_in_kernel(helper):
    k = syscount(["-p", "{pid}", "-s", "getppid"], [helper])
    assert [(r["name"], r["count"]) for r in rows(k)] == [("getppid", N_PPID)]
    # the only calls counted at all: the filter runs in the kernel, not in the report
    assert k.stats()["types"]["syscount"]["events"] == N_PPID
    k = syscount(["-p", "{pid}", "-s", "openat,getppid,syscall_110"], [helper])
    assert sorted((r["name"], r["count"]) for r in rows(k)) == [
        ("getppid", N_PPID), ("openat", N_OPEN)]


def test_pid_filter_excludes_another_process(helper, other):
    k = syscount(["-p", "{pid}", "-s", "getppid,openat"], [helper, other])
    assert sorted((r["name"], r["count"]) for r in rows(k)) == [
        ("getppid", N_PPID), ("openat", N_OPEN)]
    assert k.stats()["types"]["syscount"]["events"] == N_PPID + N_OPEN


def test_per_process(helper, other):
    k = syscount(["-P", "-s", "getppid,openat", "--top", "100000"], [helper, other])
    for h, comm in ((helper, "syscaller"), (other, "othercaller")):
        mine = {r["name"]: r for r in rows(k, pid=h.pid)}
        assert set(mine) == {"getppid", "openat"}
        assert mine["getppid"]["count"] == h.n_ppid and mine["openat"]["count"] == h.n_open
        assert mine["openat"]["errors"] == h.n_open
        assert {r["comm"] for r in mine.values()} == {comm}
    assert_accounted(k)


def test_comm_filter(helper, other):
    k = syscount(["-n", "othercaller", "-P", "-s", "getppid"], [helper, other])
    assert [(r["pid"], r["count"]) for r in rows(k)] == [(other.pid, 2000)]


def test_top(helper):
    k = syscount(["-p", "{pid}", "--top", "1"], [helper])
    assert [(r["name"], r["count"]) for r in rows(k)] == [("getppid", N_PPID)]
    assert k.records("syscount_total")[-1]["rows"] >= 2   # the total still sees them all


def test_interval_deltas(helper):
    """Each interval reports only its own calls: the sums over intervals are exact and
    no report repeats what an earlier one showed."""
    k = syscount(["-p", "{pid}", "-s", "getppid,openat", "1"], [helper], rounds=3, gap=1.6)
    totals = k.records("syscount_total")
    assert len(totals) >= 3
    for name, n in (("getppid", N_PPID), ("openat", N_OPEN)):
        counts = [r["count"] for r in rows(k, name)]
        assert sum(counts) == 3 * n and max(counts) <= 2 * n, counts
        assert len(counts) >= 2
    assert sum(t["calls"] for t in totals) == 3 * (N_PPID + N_OPEN)
    assert_accounted(k)


def test_full_table_losses_are_counted(helper):
    """One key of room: getppid takes it, every openat is refused and counted lost."""
    k = syscount(["-p", "{pid}", "-P", "--max-keys", "1", "-s", "getppid,openat"], [helper])
    assert [(r["name"], r["count"]) for r in rows(k)] == [("getppid", N_PPID)]
    st = k.stats()
    assert st["types"]["syscount"]["events"] == N_PPID and st["types"]["syscount"]["lost"] == N_OPEN
    assert st["lost"] == N_OPEN
    assert k.stderr.splitlines()[-1] == "%d events, %d lost (syscount: %d)" % (
        st["events"], N_OPEN, N_OPEN)


def test_list_names_from_running_kernel():
    r = run_ksight(["syscount", "--list", "--json"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    names = {x["nr"]: x for x in recs if x["type"] == "syscall"}
    for nr, name in ((0, "read"), (39, "getpid"), (110, "getppid"), (257, "openat"),
                     (435, "clone3")):
        assert (names[nr]["name"], names[nr]["source"]) == (name, "kernel")
    # the kernel's own spelling, not the headers'
    assert names[4]["name"] == "newstat"
    assert sum(x["source"] == "kernel" for x in names.values()) > 300


def test_kernel_names_accepted_both_ways(helper):
    """-s takes the kernel's name and the headers' for the same number."""
    for spelling in ("newstat", "stat"):
        k = syscount(["-p", "{pid}", "-s", spelling + ",getppid"], [helper])
        assert [(r["name"], r["count"]) for r in rows(k)] == [("getppid", N_PPID)]


def free_pid():
    pid = 4194000
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return str(pid)


@pytest.mark.parametrize("args,needle", [
    (["-s", "nosuchcall"], "nosuchcall"),
    (["-s", "getppid,nosuchcall"], "nosuchcall"),
    (["-s", "getppid,"], "-s"),
    (["-s", "syscall_512"], "syscall_512"),
    (["-p", "PID"], "no such process"),
    (["-p", "x"], "-p"),
    (["-p", "0"], "-p"),
    (["--top", "0"], "--top"),
    (["-m"], "-m"),
    (["--list", "1"], "--list"),
    (["abc"], "interval"),
])
def test_bad_input(args, needle):
    args = [free_pid() if a == "PID" else a for a in args]
    r = run_ksight(["syscount"] + args)
    assert r.returncode == 2, (args, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ksight syscount: "), r.stderr
    assert needle in lines[0], lines[0]
