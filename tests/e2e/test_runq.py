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
tens of times slower) plus 0.1% for the clock rates, and a thread's few intervals the
tracepoints did not show are missing whole from its sum. Counting in the wrong unit, missing
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


def assert_sum_near(got, after, before, tids):
    """A sum over threads of waits: their switch-ins (schedstat's pcount) but for the
    few per thread the tracepoints may not show (unseen, assert_counts_exact)."""
    want = [after[t][2] - before[t][2] for t in tids]
    assert sum(want) - sum(unseen(w) for w in want) <= got <= sum(want), (got, want)


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


def assert_sum_close(t, r, want_ns, n):
    """Thread @t's record @r sums its @n intervals to @want_ns, but
    for the code paths' and clocks' differences (PER_WAIT_NS each, 0.1%) and the
    intervals the tracepoints did not show (assert_counts_exact allows a few): each of
    those is missing whole from the sum, and is taken as at most the top of the
    thread's highest bucket (an emulated guest's slice can last milliseconds)."""
    missing = n - r["count"]
    top_ns = max(x["hi"] for x in r["hist"]["buckets"]) * 1000 if r["hist"]["buckets"] else 0
    tol = n * PER_WAIT_NS + want_ns // 1000
    assert want_ns - tol - missing * top_ns <= r["sum_ns"] <= want_ns + tol, \
        "tid %d: ksight %d ns in %d, schedstat %d ns in %d (tolerance %d, %d missing, " \
        "each <= %d)" % (t, r["sum_ns"], r["count"], want_ns, n, tol, missing, top_ns)


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
        assert_sum_close(t, r, delay, pcount)
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
        assert_sum_close(t, r, oncpu, pcount)


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
    assert_sum_near(r["count"], after, before, tids)
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
    assert_sum_near(sum(r["count"] for r in recs), after, before, tids)


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
    assert_sum_near(recs[0]["count"], after, before, tids)


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
    ("cpudist", ["--preemptor"], "--preemptor"),
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
    from conftest import free_port
    from test_prometheus import scrape_until
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
        slack = sum(unseen(after[t][2] - before[t][2]) for t in tids)

        def counts(g):
            return {dict(lab).get("service"): v for (name, lab), v in g.items()
                    if name == "ksight_runqlat_seconds_count"}
        scrape_until(url, lambda g: sum(counts(g).values()) >= want - slack)
        time.sleep(1.2)     # one more interval collected: the count stands
        body, got = scrape_until(url, lambda g: True)
        # stopped before the helper: its end wakes its threads
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
        if k and k.proc.poll() is None:
            k.stop()
    c = counts(got)
    assert want - slack <= sum(c.values()) <= want and len(c) == 1, (c, want, body)
    summaries = [r for r in k.records("summary") if r["module"] == "runqlat"]
    assert sum(r["waits"] for r in summaries) == sum(c.values()), summaries


NAPS = 500 // SCALE
# --preemptor against schedstat: a wait that ends by the woken thread preempting the one
# running (here every wait: the napper preempts the spinner at each wakeup) is stamped by
# schedstat at the wakeup and at the next switch-in with a run-queue clock that the switch
# does not refresh (wakeup_preempt asks __schedule to skip that update), so run_delay leaves
# out the path from the wakeup to the switch (the interrupt's exit, the schedule), which
# ksight counts: measured 7-8 us more per wait on the 6.18 VM (both runqlat and --preemptor),
# 137 us under TCG on 5.10 (SLOW 4). Allowed: ksight within [-2 us, +50 us] per wait of
# run_delay (times SLOW), plus 0.1%; the waits are ~2 ms each (~20 ms under TCG), so a
# wrong unit or a wait timed from the wrong event still lands far outside.
PRE_AHEAD_NS = 50000 * SLOW
# A wait schedstat counts and the tracepoints do not show (unseen(), docs/runq.md; here
# seen only when the spinner had preempted the napper) is missing from the sum too: each
# is allowed up to 30 ms, a few of the spinner's slices.
UNSEEN_WAIT_NS = 30000000 * SLOW


def napper(*args, nice=-20):
    """A napper (helpers/napper.c) at @nice, its autogroup too (it makes a session of its
    own). The spinner at -20 is above every other task of the machine (a nice 0 task, or
    autogroup, gets ~1% of CPU 0 then; without the autogroup's nice, each other session
    busy on CPU 0 would get as much as the spinner), so that what runs on CPU 0 while the
    victim (nice -10) waits is the spinner, whatever else the machine does; the victim's
    waits are long (it seldom preempts the spinner), so that a few waits behind another
    task do not weigh."""
    h = Helper("napper", *args)
    os.setpriority(os.PRIO_PROCESS, h.pid, nice)
    try:
        with open("/proc/%d/autogroup" % h.pid, "w") as f:
            f.write(str(nice))
    except FileNotFoundError:
        pass    # no autogroups in this kernel
    return h


# Not in the kernel matrix: on 5.10 under TCG, run_delay and the tracepoints' clock part by
# 0.1-0.3 ms a wait, either way (counts equal, the split exact; the schedstat tests above flake there too,
# main's build as well), while 6.12's guest passes. The module's matrix test is the one
# above; --preemptor's programs load and run on 5.10 (runqlat --preemptor, tp_btf and
# raw_tp, checked by hand in the 5.10 guest).
def test_preemptor_names_the_noisy_cgroup(cgroup):
    """--preemptor: a spinner in cgroup "noisy" and a thread in cgroup "victim" that sleeps
    1 ms NAPS times, both pinned to CPU 0. The victim's waits are split by the cgroup that
    held CPU 0: "noisy" has >= 90% of the delay named for a cgroup (measured 95-99.7%
    with the machine busy; the rest: tasks of other cgroups that ran on CPU 0 in a wait),
    and "unknown" (older than the ring) <= 25% of the whole (measured 0-11%); the split
    adds up to the victim's histogram sum exactly; the sum is run_delay's
    change within the bounds above; the waits are the arrivals (schedstat's pcount) as in
    the other tests."""
    dirs = {n: os.path.join(cgroup.path, n) for n in ("noisy", "victim")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    spin = victim = k = None
    try:
        victim = napper("nap", NAPS, 1000, nice=-10)
        with open(os.path.join(dirs["victim"], "cgroup.procs"), "w") as f:
            f.write(str(victim.pid))
        ids = {n: os.stat(d).st_ino for n, d in dirs.items()}
        # ksight starts and stops with CPU 0 free: a nice -20 spinner starves CPU 0's
        # kworkers, which attaching and detaching wait for
        k = Ksight(["runqlat", "--preemptor", "--json", "--cgroup", dirs["victim"]])
        k.wait_ready()
        spin = napper("spin")
        with open(os.path.join(dirs["noisy"], "cgroup.procs"), "w") as f:
            f.write(str(spin.pid))
        before = settled(victim.pid, [victim.pid])[victim.pid]
        victim.go()
        assert victim.readline().split() == ["done"]
        after = settled(victim.pid, [victim.pid])[victim.pid]
        spin.kill()
        assert k.stop() == 0, k.stderr
    finally:
        for h in (spin, victim):
            if h:
                h.kill()
        if k and k.proc.poll() is None:
            k.stop()
        deadline = time.time() + 10
        for d in dirs.values():
            while os.path.exists(d):
                try:
                    os.rmdir(d)
                except OSError:
                    assert time.time() < deadline, "cannot remove " + d
                    time.sleep(0.05)
    _, delay, pcount = (a - b for a, b in zip(after, before))
    assert k.stats()["lost"] == 0, k.stats()
    hists = k.records("runqlat")
    assert [r["cgroup_id"] for r in hists] == [ids["victim"]], hists
    r = hists[0]
    # the waits are the arrivals but for the unexplained shortfall (docs/runq.md), seen
    # here up to 4 of 501: 2 + 1% allowed
    n, short = r["count"], pcount - r["count"]
    assert 0 <= short <= 2 + pcount // 100, (n, pcount)
    pres = k.records("preemptor")
    assert pres and {p["cgroup_id"] for p in pres} == {ids["victim"]}, pres
    assert sum(p["delay_ns"] for p in pres) == r["sum_ns"], (pres, r)
    top = max((p for p in pres if p["preemptor_id"] != 0), key=lambda p: p["delay_ns"])
    assert top["preemptor_id"] == ids["noisy"], pres
    assert top["preemptor"] == "/%s/noisy" % cgroup.rel, top
    # of the delay a cgroup is named for (not "unknown": the part of a wait older than the
    # CPU's ring of 16 stretches, seen on waits of 20+ ms with other tasks taking turns)
    named = sum(p["delay_ns"] for p in pres if p["preemptor_id"] != 0)
    assert top["delay_ns"] >= 0.9 * named, pres
    assert r["sum_ns"] - named <= 0.25 * r["sum_ns"], pres
    assert abs(sum(p["share"] for p in pres) - 100) < 0.01, pres
    assert top["slices"] > 0, top      # stretches of CPU 0, some waits hold several
    slack = delay // 1000 + short * UNSEEN_WAIT_NS
    assert -n * 2000 * SLOW - slack <= r["sum_ns"] - delay <= n * PRE_AHEAD_NS + slack, (
        r["sum_ns"], delay, n, pcount)


def own_cgroup(pid):
    """The cgroup v2 path of process @pid, from /proc/PID/cgroup's "0::" line."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    pytest.skip("no cgroup v2 line in /proc/%d/cgroup" % pid)


def test_preemptor_per_process():
    """--preemptor -P: the victims are processes. The switcher's threads ping-pong on CPU
    0: each wait runs from one thread's wakeup by the other to the switch-in, while the
    waker runs: the switcher's own cgroup is a preemptor in at least half the waits, and
    the split adds up to the histogram exactly."""
    h = Helper("switcher", ROUNDS, 0, 0)
    try:
        tids = [h.pid] + h.extra
        settled(h.pid, tids)
        k = Ksight(["runqlat", "--preemptor", "--json", "-P", "-p", str(h.pid)])
        k.wait_ready()
        h.go()
        assert h.readline().split() == ["done"]
        settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
        mine = own_cgroup(h.pid)
    finally:
        h.kill()
    assert k.stats()["lost"] == 0, k.stats()
    hists = k.records("runqlat")
    assert [r["pid"] for r in hists] == [h.pid], hists
    pres = k.records("preemptor")
    assert pres and {(p["pid"], p["comm"]) for p in pres} == {(h.pid, "switcher")}, pres
    assert "cgroup_id" not in pres[0]
    assert sum(p["delay_ns"] for p in pres) == hists[0]["sum_ns"], (pres, hists)
    # each wait holds the tail of the waker's slice (it runs from the wakeup to its own
    # block): its own cgroup is in (nearly) every wait; other sessions' tasks on CPU 0
    # take turns too, so no share is asked (measured 45-99% on a busy machine)
    own = [p for p in pres if p["preemptor"] == mine]
    assert own and own[0]["slices"] >= hists[0]["count"] // 2, (pres, hists[0]["count"])


def test_preemptor_table_before_histogram():
    r = run_ksight(["runqlat", "--preemptor", "--duration", "1"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for word in ("preemptor", "delay", "share%", "slices", "usecs", "p50 "):
        assert word in out, out
    assert out.index("preemptor") < out.index("usecs"), out


@pytest.mark.parametrize("cmd", ["runqlat", "cpudist"])
def test_classic_tracepoints_not_offered(cmd):
    """The classic sched tracepoints name the woken and switched-in tasks by pid only
    (docs/runq.md): forcing them is refused, naming the command and the family."""
    r = run_ksight([cmd, "--hooks", "tp", "--duration", "1"])
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and cmd in lines[0] and "tp" in lines[0], lines
