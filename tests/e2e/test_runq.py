# SPDX-License-Identifier: GPL-2.0
"""ksight runqlat and cpudist (module runq) against the kernel's own accounting of each
thread, /proc/PID/task/TID/schedstat: (ns on the CPU, ns waiting on a run queue, times
switched in). The switcher's two threads ping-pong through pipes on one CPU; the window is
bounded by reads taken while every thread of the helper sleeps.

Why counts are exact: schedstat counts an arrival (pcount) at every switch-in, and its
wait runs from the enqueue (wakeup, or a switch-out still runnable) to that switch-in.
Every thread sleeps at both ends of the window, so each arrival inside it follows a
wakeup or a runnable switch-out inside it: runqlat's waits == the pcount delta. cpudist's
slices end at switch-outs: each arrival inside the window ends inside it too (the thread
sleeps at its end) == the pcount delta; -O's off-CPU gaps start at a switch-out and end
at the next switch-in: one fewer than the arrivals (the first arrival ends a gap that
began before ksight).

Why sums agree only within a tolerance: schedstat stamps with the run queue's clock
(sched_clock, refreshed at update_rq_clock) at enqueue and at arrival; ksight stamps with
bpf_ktime_get_ns (CLOCK_MONOTONIC) at the tracepoints, which fire after the enqueue
(sched_wakeup) and before the arrival (sched_switch precedes context_switch). Each wait
is off by at most a few microseconds of those code paths and the rq clock's staleness;
the clocks' rates differ by NTP's slew (< 500 ppm). Measured on the 6.18 VM: the sums
differ by 15-150 ns per interval on average over 30,000-interval runs; the bound below is
2 us per interval (times KSIGHT_TEST_SLOW in emulated guests, where those code paths run
tens of times slower) plus 0.1% for the clock rates. Counting in the wrong unit, missing
the preempted waits or timing from the wrong event all land far outside it."""
import os
import time

import pytest

import sched_util
from attach_util import Cgroup
from conftest import SCALE, SLOW, Helper, Ksight, run_ksight

ROUNDS = 3000 // SCALE
HOOKS = [None, "tp_btf", "raw_tp"]
PER_WAIT_NS = 2000 * SLOW     # allowed difference per interval (code paths, rq clock age)


def schedstat(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return tuple(int(x) for x in f.read().split())


def settled(pid, tids):
    """The schedstat of @tids once every thread is asleep and two reads agree."""
    return sched_util.settled(pid, tids, schedstat)


def traced_pingpong(cmd, args):
    """The switcher's ping-pong under `ksight CMD --json -L -p PID ARGS`: ksight's
    histograms by tid and the kernel's schedstat change for each of the helper's threads."""
    h = Helper("switcher", ROUNDS, 0, 0)
    try:
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight([cmd, "--json", "-L", "-p", str(h.pid)] + args)
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    hists = {r["tid"]: r for r in k.records(cmd)}
    kernel = {t: tuple(a - b for a, b in zip(after[t], before[t])) for t in tids}
    return k, h, tids, hists, kernel


def unseen(n):
    """Of @n switch-ins, how many the tracepoints may not show (assert_counts_exact)."""
    return 2 + n // 1000


def assert_counts_exact(k, h, tids, hists, kernel, less):
    """Each thread's intervals are its switch-ins less @less (per thread), but for the
    intervals the kernel side could not record, each counted lost (a start or histogram
    a map update refused), and a few that 6.18's pcount counts and the tracepoints do not
    show (UNSEEN per thread): with the machine busy, one thread of three now and then
    comes out one or two short with nothing lost (an ftrace instance once saw the
    opposite, one switch-in pcount did not count; the cause is not known: docs/runq.md).
    Missing a kind of wait or counting the wrong event lands hundreds away."""
    lost = k.stats()["lost"]
    short = 0
    for t in tids:
        want = max(kernel[t][2] - less, 0)
        got = hists.get(t, {"count": 0})["count"]
        assert got <= want, "tid %d: ksight %d, schedstat %d" % (t, got, want)
        assert want - got <= unseen(want) or lost, "tid %d: ksight %d, schedstat %d" % (
            t, got, want)
        short += want - got
    assert lost <= short <= lost + sum(unseen(max(kernel[t][2] - less, 0)) for t in tids), \
        "%d intervals missing, %d lost: %s, %s" % (
        short, lost, {t: (hists.get(t, {}).get("count"), kernel[t][2]) for t in tids},
        k.stats())


def close(got_ns, want_ns, n):
    return abs(got_ns - want_ns) <= n * PER_WAIT_NS + want_ns // 1000


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", HOOKS)
def test_runqlat_waits_equal_schedstat(hooks):
    k, h, tids, hists, kernel = traced_pingpong("runqlat",
                                                ["--hooks", hooks] if hooks else [])
    assert_counts_exact(k, h, tids, hists, kernel, 0)
    for t in h.extra:
        oncpu, delay, pcount = kernel[t]
        r = hists[t]
        assert pcount >= ROUNDS
        assert r["hist"]["count"] == r["count"]
        assert sum(x["count"] for x in r["hist"]["buckets"]) == r["count"]
        assert close(r["sum_ns"], delay, pcount), (t, r["sum_ns"], delay, pcount)
        assert r["pid"] == h.pid and r["comm"] == "switcher"


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", HOOKS)
def test_cpudist_slices_equal_schedstat(hooks):
    k, h, tids, hists, kernel = traced_pingpong("cpudist",
                                                ["--hooks", hooks] if hooks else [])
    assert_counts_exact(k, h, tids, hists, kernel, 0)
    for t in h.extra:
        oncpu, delay, pcount = kernel[t]
        r = hists[t]
        assert close(r["sum_ns"], oncpu, pcount), (t, r["sum_ns"], oncpu, pcount)


def test_cpudist_offcpu_gaps_are_arrivals_less_one():
    k, h, tids, hists, kernel = traced_pingpong("cpudist", ["-O"])
    assert_counts_exact(k, h, tids, hists, kernel, 1)
    assert {r["what"] for r in hists.values()} == {"offcpu"}


def test_pid_filter_keeps_only_that_process():
    k, h, tids, hists, kernel = traced_pingpong("runqlat", [])
    recs = k.records("runqlat")
    assert recs and {r["pid"] for r in recs} == {h.pid}
    assert set(hists) <= set(tids)


def test_per_process_sums_its_threads_and_json_shape():
    h = Helper("switcher", ROUNDS, 0, 0)
    try:
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight(["runqlat", "--json", "-P", "-p", str(h.pid)])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    recs = k.records("runqlat")
    assert len(recs) == 1, recs
    r = recs[0]
    assert set(r) >= {"type", "ts", "what", "pid", "comm", "count", "sum_ns", "hist"}
    assert "tid" not in r and r["what"] == "runqlat" and r["pid"] == h.pid
    assert r["count"] == sum(after[t][2] - before[t][2] for t in tids)
    hist = r["hist"]
    assert hist["unit"] == "usecs" and hist["count"] == r["count"]
    assert hist["p50"] <= hist["p90"] <= hist["p99"]
    for x in hist["buckets"]:
        assert set(x) >= {"lo", "hi", "count"} and x["lo"] <= x["hi"] and x["count"] > 0


def test_interval_histograms_add_up_to_the_whole():
    h = Helper("switcher", ROUNDS, 0, 0)
    try:
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight(["runqlat", "--json", "-P", "-p", str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        time.sleep(1.2)     # at least one interval ends after the last switch
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    recs = k.records("runqlat")
    assert recs and all(r["pid"] == h.pid for r in recs)
    assert sum(r["count"] for r in recs) == sum(after[t][2] - before[t][2] for t in tids)


@pytest.fixture
def cgroup():
    c = Cgroup()
    try:
        yield c
    finally:
        c.close()


def test_cgroup_filter_and_per_cgroup_key(cgroup):
    """--cgroup keeps the tasks of the test's own cgroup (a child of it here: the filter
    takes descendants), --per-cgroup keys by the cgroup the task is in."""
    child = os.path.join(cgroup.path, "w")
    os.makedirs(child, exist_ok=True)
    child_id = os.stat(child).st_ino     # a cgroup v2 id is its directory's inode
    h = Helper("switcher", ROUNDS, 0, 0)
    try:
        with open(os.path.join(child, "cgroup.procs"), "w") as f:
            f.write(str(h.pid))     # moves the process with its threads
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight(["runqlat", "--json", "--per-cgroup", "--cgroup", cgroup.path])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
        deadline = time.time() + 10
        while os.path.exists(child):
            try:
                os.rmdir(child)
            except OSError:
                assert time.time() < deadline, "cannot remove " + child
                time.sleep(0.05)
    recs = k.records("runqlat")
    assert [r["cgroup_id"] for r in recs] == [child_id], recs
    assert recs[0]["count"] == sum(after[t][2] - before[t][2] for t in tids)


def test_table_shows_percentiles():
    r = run_ksight(["runqlat", "--duration", "1"])
    assert r.returncode == 0, r.stderr
    assert "usecs" in r.stdout and "p50 " in r.stdout and "p99 " in r.stdout, r.stdout


@pytest.mark.parametrize("cmd,args,word", [
    ("runqlat", ["-O"], "-O"),
    ("cpudist", ["-P", "-L"], "-P"),
    ("runqlat", ["x"], "interval"),
    ("cpudist", ["-p", "0"], "--pid"),
    ("runqlat", ["--bogus"], "bogus"),
])
def test_bad_input_is_one_line_exit_2(cmd, args, word):
    r = run_ksight([cmd] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines


def test_agent_registry_per_service():
    """`ksight run` runs runqlat with a histogram per cgroup, each service's in the
    registry: the helper's waits (-p keeps only it) are exact on the /metrics page, and the
    summary lines' waits add up to the same."""
    from test_prometheus import free_port, scrape_until
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    h = Helper("switcher", ROUNDS, 0, 0)
    k = None
    try:
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight(["run", "--json", "--modules", "runqlat", "--listen",
                    "127.0.0.1:%d" % port, "-p", str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        want = sum(after[t][2] - before[t][2] for t in tids)

        def counts(g):
            return {dict(lab).get("service"): v for (name, lab), v in g.items()
                    if name == "ksight_runqlat_seconds_count"}
        body, got = scrape_until(url, lambda g: sum(counts(g).values()) == want)
        # stopped before the helper: its end wakes its threads
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
        if k and k.proc.poll() is None:
            k.stop()
    c = counts(got)
    assert sum(c.values()) == want and len(c) == 1, (c, want, body)
    summaries = [r for r in k.records("summary") if r["module"] == "runqlat"]
    assert sum(r["waits"] for r in summaries) == want, summaries


@pytest.mark.parametrize("cmd", ["runqlat", "cpudist"])
def test_classic_tracepoints_not_offered(cmd):
    """The classic sched tracepoints name the woken and switched-in tasks by pid only
    (docs/runq.md): forcing them is refused, naming the command and the family."""
    r = run_ksight([cmd, "--hooks", "tp", "--duration", "1"])
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and cmd in lines[0] and "tp" in lines[0], lines
