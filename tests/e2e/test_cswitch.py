# SPDX-License-Identifier: GPL-2.0
"""ksight sched (module cswitch): each thread's voluntary and involuntary switches and
migrations equal the kernel's own counters (/proc/PID/task/TID/sched) over the same window,
read from the tasks or counted at each switch and move; wakeups pair with blocks, threads
created and exited are exact, filters keep exactly their tasks, every hook family."""
import time

import pytest

import sched_util
from conftest import SCALE, Helper, Ksight, run_ksight

HOOKS = [None, "tp_btf", "raw_tp", "tp"]
# read from the tasks, the hooks left are the wakeups' and the threads' (no classic
# tracepoint alternative: they need the task)
READ_HOOKS = [("tasks", h) for h in HOOKS[:3]] + [("switches", h) for h in HOOKS]

ROUNDS, MIGRATIONS, THREADS = 2000 // SCALE, 40, 25   # SCALE: fewer under TCG


def kernel_counts(pid, tid):
    """(voluntary, involuntary, migrations) of thread @tid, from the kernel's counters."""
    vals = {}
    with open("/proc/%d/task/%d/sched" % (pid, tid)) as f:
        for line in f:
            k, _, v = line.partition(":")
            vals[k.strip()] = v.strip()
    return (int(vals["nr_voluntary_switches"]), int(vals["nr_involuntary_switches"]),
            int(vals["se.nr_migrations"]))


def settled(pid, tids):
    """The counters of @tids once every thread is asleep and two reads agree."""
    return sched_util.settled(pid, tids, kernel_counts)


def traced_pingpong(args):
    """The switcher's ping-pong under `ksight sched --json -L -p PID ARGS`: ksight's row
    and the kernel's change for each of its three threads."""
    h = Helper("switcher", ROUNDS, MIGRATIONS, 0)
    try:
        tids = [h.pid] + h.extra
        k = Ksight(["sched", "--json", "-L", "-p", str(h.pid), "--top", "0"] + args)
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    rows = {r["tid"]: r for r in k.records("sched")}
    kernel = {t: tuple(a - b for a, b in zip(after[t], before[t])) for t in tids}
    return k, h, tids, rows, kernel


@pytest.mark.kernels
@pytest.mark.parametrize("read,hooks", READ_HOOKS)
def test_switches_equal_the_kernels_counters(read, hooks):
    args = ["--read", read] + (["--hooks", hooks] if hooks else [])
    if read == "tasks" and not sched_util.task_storage():
        sched_util.assert_read_tasks_refused(["sched"] + args)
        return
    k, h, tids, rows, kernel = traced_pingpong(args)
    assert set(rows) == set(tids), (rows, tids)
    for t in tids:
        r = rows[t]
        got = (r["voluntary"], r["involuntary"], r["migrations"])
        assert got == kernel[t], "tid %d: ksight %s, kernel %s" % (t, got, kernel[t])
        assert r["pid"] == h.pid and r["switches"] == r["voluntary"] + r["involuntary"]
        # every block in the window ends with a wakeup except the last, which the first
        # wakeup (of the block before the window) makes up for; a wakeup that lands
        # before its task got off the CPU costs a preemption instead of a block
        assert r["voluntary"] <= r["wakeups"] <= r["voluntary"] + r["involuntary"], r
    a, b = h.extra
    # on one CPU, B answers only once A is off it: every round switches each of them out
    assert rows[a]["switches"] >= ROUNDS and rows[b]["switches"] >= ROUNDS - 1
    assert rows[a]["migrations"] == MIGRATIONS
    assert rows[b]["migrations"] == 0 and rows[h.pid]["migrations"] == 0
    assert k.stats()["lost"] == 0


@pytest.mark.parametrize("read", ["tasks", "switches"])
def test_threads_created_and_exited_exact(read):
    h = Helper("switcher", 0, 0, THREADS)
    try:
        k = Ksight(["sched", "--json", "-p", str(h.pid), "--read", read])
        k.wait_ready()
        h.go()
        assert h.result() == ["done"]    # stdin closed: the process ends
        time.sleep(0.2)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    rows = k.records("sched")
    assert [r["pid"] for r in rows] == [h.pid], rows
    assert rows[0]["threads_created"] == THREADS
    assert rows[0]["threads_exited"] == THREADS + 1     # and the main thread's own end


def test_pid_filter_keeps_only_that_process():
    k, h, tids, rows, kernel = traced_pingpong([])
    assert {r["pid"] for r in k.records("sched")} == {h.pid}


def test_per_process_row_sums_its_threads():
    h = Helper("switcher", ROUNDS, MIGRATIONS, 0)
    try:
        tids = [h.pid] + h.extra
        k = Ksight(["sched", "--json", "-p", str(h.pid)])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    rows = k.records("sched")
    assert len(rows) == 1 and rows[0]["pid"] == h.pid, rows
    want = [sum(after[t][i] - before[t][i] for t in tids) for i in range(3)]
    assert [rows[0]["voluntary"], rows[0]["involuntary"], rows[0]["migrations"]] == want


def test_interval_rows_add_up_to_the_whole():
    """Per-interval rows are the changes since the last report: summed, the totals."""
    h = Helper("switcher", ROUNDS, MIGRATIONS, 0)
    try:
        tids = [h.pid] + h.extra
        k = Ksight(["sched", "--json", "-p", str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        time.sleep(1.2)     # at least one interval ends after the last switch
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    rows = k.records("sched")
    assert rows and all(r["pid"] == h.pid for r in rows)
    want = sum(after[t][0] + after[t][1] - before[t][0] - before[t][1] for t in tids)
    assert sum(r["switches"] for r in rows) == want


@pytest.mark.parametrize("args,word", [
    (["--top", "x"], "--top"),
    (["1", "2", "3"], "argument"),
    (["-p", "0"], "--pid"),
    (["--read", "never"], "neither"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["sched"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines


def test_agent_runs_sched_only_when_named():
    """In `ksight run` sched costs every context switch: only `--modules ... sched` loads
    it, and then its summaries carry exactly the helper's switches (-p)."""
    r = run_ksight(["run", "--duration", "1", "--listen", "none", "--json"])
    assert r.returncode == 0, r.stderr
    assert not [x for x in r.stdout.splitlines() if '"module":"sched"' in x]
    h = Helper("switcher", ROUNDS, MIGRATIONS, 0)
    try:
        tids = [h.pid] + h.extra
        k = Ksight(["run", "--modules", "exec,sched", "--json", "--listen", "none",
                    "-p", str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid, tids)
        h.go()
        assert h.readline().split() == ["done"]
        after = settled(h.pid, tids)
        time.sleep(1.2)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    summ = [s for s in k.records("summary") if s["module"] == "sched"]
    assert summ, k.stdout
    for i, key in ((0, "voluntary"), (1, "involuntary")):
        assert sum(s[key] for s in summ) == sum(after[t][i] - before[t][i] for t in tids)


def test_status_says_how_switches_are_read(kernel_hooks):
    assert kernel_hooks.module_notes.get("sched") == (
        "switches and migrations are read from the tasks (task storage): their hooks are "
        "--read switches'" if sched_util.task_storage() else
        "no task storage (Linux 5.11): switches and migrations are counted at their hooks"), \
        kernel_hooks.module_notes
