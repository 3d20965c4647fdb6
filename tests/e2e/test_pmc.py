# SPDX-License-Identifier: GPL-2.0
"""ksight pmc: the software counters a process gathers between its switch-in and switch-out
equal the kernel's own per-task counters over the same window: page faults (/proc/PID/stat
minflt + majflt), context switches (/proc/PID/status voluntary + nonvoluntary), migrations
(/proc/PID/sched se.nr_migrations), and on-CPU time within a stated bound of
/proc/PID/schedstat's run time; per thread and per cgroup; the line that says this machine
has no hardware PMU (the hardware path where one exists); bad input."""
import json
import os
import time

import pytest

import sched_util
from attach_util import Cgroup
from conftest import SCALE, Helper, Ksight, run_ksight

PAGES = 2000 // SCALE
SLEEPS = 200 // SCALE
SPIN_MS = 300 // SCALE
SW = "page-faults,minor-faults,major-faults,cs,migrations,task-clock,cpu-clock"


def has_pmu():
    """Whether the kernel registered a CPU PMU (an event source other than the software
    ones): the hardware counters' home, by the kernel's own list, not ksight's probe."""
    soft = {"software", "tracepoint", "kprobe", "uprobe", "breakpoint", "msr", "power",
            "cstate_core", "cstate_pkg", "intel_bts"}
    devs = os.listdir("/sys/bus/event_source/devices")
    return any(d not in soft and not d.startswith(("uncore", "amd_iommu", "intel_pt"))
               for d in devs)


def task_counters(pid, tid):
    """The kernel's counters of thread @tid: faults, switches, migrations, run time (ns)."""
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        st = f.read().rsplit(")", 1)[1].split()
    sw = 0
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                sw += int(line.split()[1])
    migr = 0
    with open("/proc/%d/task/%d/sched" % (pid, tid)) as f:
        for line in f:
            if line.startswith("se.nr_migrations"):
                migr = int(line.split()[-1])
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        run_ns = int(f.read().split()[0])
    return int(st[7]), int(st[9]), sw, migr, run_ns


def settled(pid):
    return sched_util.settled(pid, [pid], task_counters)[pid]


def command(h, line):
    h.proc.stdin.write(line.encode() + b"\n")
    h.proc.stdin.flush()
    assert h.readline().split() == ["done"]


def traced(args, work, cgroup=None):
    """pmcload doing @work (command lines) under `ksight pmc --json ARGS`: ksight's records
    and the kernel's change of (minflt, majflt, switches, migrations, run ns)."""
    h = Helper("pmcload")
    try:
        if cgroup:
            cgroup.add(h.pid)
        k = Ksight(["pmc", "--json", "-e", SW] + args)
        k.wait_ready()
        before = settled(h.pid)
        for line in work:
            command(h, line)
        after = settled(h.pid)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    return k, h, k.records("pmc"), [a - b for a, b in zip(after, before)]


def assert_exact(row, kernel):
    minflt, majflt, switches, migrations, run_ns = kernel
    assert row["page_faults"] == minflt + majflt
    assert (row["minor_faults"], row["major_faults"]) == (minflt, majflt)
    assert row["context_switches"] == switches
    assert row["cpu_migrations"] == migrations
    # the stretch ksight reads runs from the switch tracepoint in to the one out; the
    # kernel's run time from picking the task to putting it back: a few us apart each time
    bound = 0.01 * run_ns + 50000 * row["switch_ins"]
    assert abs(row["task_clock_ns"] - run_ns) <= bound, (row, run_ns)
    assert abs(row["cpu_clock_ns"] - run_ns) <= bound, (row, run_ns)


@pytest.mark.kernels
def test_software_counts_equal_the_kernels():
    k, h, rows, kernel = traced([], ["fault %d" % PAGES, "sleep %d" % SLEEPS])
    rows = [r for r in rows if r["pid"] == h.pid]
    assert len(rows) == 1, rows
    assert_exact(rows[0], kernel)
    assert rows[0]["page_faults"] >= PAGES
    assert rows[0]["context_switches"] >= SLEEPS
    assert k.stats()["lost"] == 0


def test_task_clock_follows_schedstat_run_time():
    k, h, rows, kernel = traced([], ["spin %d" % SPIN_MS, "fault %d" % PAGES])
    rows = [r for r in rows if r["pid"] == h.pid]
    assert len(rows) == 1, rows
    assert_exact(rows[0], kernel)
    assert rows[0]["task_clock_ns"] >= SPIN_MS * 1e6


def test_per_thread_rows():
    k, h, rows, kernel = traced(["-L"], ["fault %d" % PAGES, "sleep %d" % SLEEPS])
    mine = [r for r in rows if r["pid"] == h.pid]
    assert [(r["pid"], r["tid"]) for r in mine] == [(h.pid, h.pid)], rows
    assert_exact(mine[0], kernel)


def test_pid_filter_keeps_one_process():
    h = Helper("pmcload")
    try:
        k = Ksight(["pmc", "--json", "-e", SW, "-p", str(h.pid)])
        k.wait_ready()
        before = settled(h.pid)
        command(h, "fault %d" % PAGES)
        command(h, "sleep %d" % SLEEPS)
        after = settled(h.pid)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    rows = k.records("pmc")
    assert [r["pid"] for r in rows] == [h.pid], rows
    assert_exact(rows[0], [a - b for a, b in zip(after, before)])


@pytest.fixture
def cgroup():
    c = Cgroup()
    try:
        yield c
    finally:
        c.close()


def test_per_cgroup_row_is_the_cgroups_tasks(cgroup):
    cg_id = os.stat(cgroup.path).st_ino     # a cgroup v2 id is its directory's inode
    k, h, rows, kernel = traced(["--per-cgroup", "--cgroup", cgroup.path],
                                ["fault %d" % PAGES, "sleep %d" % SLEEPS], cgroup)
    assert [r["cgroup_id"] for r in rows] == [cg_id], rows
    assert_exact(rows[0], kernel)


def test_no_pmu_is_said_in_one_line():
    """Without a PMU: one line naming the feature and the module, then software counters;
    with one: cycles, instructions and IPC in the rows."""
    r = run_ksight(["pmc", "--json", "--duration", "1"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines() if l]
    rows = [x for x in recs if x["type"] == "pmc"]
    assert rows
    notes = [l for l in r.stderr.splitlines() if "PMU" in l]
    if has_pmu():
        assert notes == []
        assert any(x["cycles"] > 0 and x["instructions"] > 0 and "ipc" in x for x in rows)
        return
    assert notes == ["ksight pmc: no hardware PMU on this machine (perf_event_open of cycles: "
                     "No such file or directory): cycles,instructions,cache-references,"
                     "cache-misses,branch-misses,LLC-load-misses,dTLB-load-misses not "
                     "counted, software counters only"], r.stderr
    assert all("cycles" not in x and "ipc" not in x for x in rows)
    assert any(x["task_clock_ns"] > 0 for x in rows)


def test_hardware_only_without_pmu_exits_1():
    if has_pmu():
        pytest.skip("this machine has a PMU")
    r = run_ksight(["pmc", "-e", "cycles,instructions", "--duration", "1"])
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no hardware PMU" in lines[0] and "pmc" in lines[0], lines


@pytest.mark.parametrize("args,word", [
    (["-e", "cycels"], "cycels"),
    (["-e", "cs,,page-faults"], "empty"),
    (["-e", "cs,context-switches"], "twice"),
    (["-P", "-L"], "choose one"),
    (["-L", "--per-cgroup"], "choose one"),
    (["--top", "-1"], "--top"),
    (["1", "2", "3"], "argument"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["pmc"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines


def test_agent_counts_when_named():
    """`ksight run --modules pmc`: the summaries carry exactly the helper's faults (-p)."""
    h = Helper("pmcload")
    try:
        k = Ksight(["run", "--modules", "pmc", "--json", "--listen", "none", "-p",
                    str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid)
        command(h, "fault %d" % PAGES)
        command(h, "sleep %d" % SLEEPS)
        after = settled(h.pid)
        time.sleep(1.2)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    summ = [s for s in k.records("summary") if s["module"] == "pmc"]
    assert summ, k.stdout
    assert sum(s["page_faults"] for s in summ) == (after[0] - before[0]) + (after[1] - before[1])
    assert sum(s["context_switches"] for s in summ) == after[2] - before[2]


def test_agent_leaves_pmc_out_unless_named():
    r = run_ksight(["run", "--json", "--listen", "none", "--duration", "1"], timeout=60)
    assert all(x.get("module") != "pmc" for x in
               (json.loads(l) for l in r.stdout.splitlines() if l)), r.stdout
