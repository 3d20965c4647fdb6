# SPDX-License-Identifier: GPL-2.0
"""ksight pmc, both ways of reading: from the tasks (the kernel's own per-task counts, each
interval and at each thread's exit) they equal the kernel's counters over the same window
exactly; at switches (what a process gathers between its switch-in and switch-out) page
faults (/proc/PID/stat minflt + majflt) and context switches (/proc/PID/status voluntary +
nonvoluntary) equal them, migrations (/proc/PID/sched se.nr_migrations) at most and not zero
when they are not, on-CPU time within a stated bound of /proc/PID/schedstat's run time;
threads that exit; per thread and per cgroup; the line that says this machine has no
hardware PMU (the hardware path where one exists); bad input."""
import json
import os
import signal
import time

import pytest

import sched_util
from attach_util import Cgroup
from conftest import (SCALE, SLOW, Helper, Ksight, bpf_ids, bpftool_ids, bpftool_json,
                      run_ksight)

PAGES = 2000 // SCALE
SLEEPS = 200 // SCALE
SPIN_MS = 300 // SCALE
ATTEMPTS = 6
PER_SWITCH_NS = 50000 * SLOW * SLOW    # task-clock vs schedstat, per switch (docs/pmc.md;
                                        # the stretches stretch most under emulation)
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


def process_faults(pid):
    """Process @pid's minor and major faults, its ended threads' included."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return int(st[7]), int(st[9])


def settled(pid):
    return sched_util.settled(pid, [pid], task_counters)[pid]


def command(h, line):
    h.proc.stdin.write(line.encode() + b"\n")
    h.proc.stdin.flush()
    assert h.readline().split() == ["done"]


def traced_once(args, work, cgroup=None):
    h = Helper("pmcload")
    try:
        if cgroup:
            cgroup.add(h.pid)
        k = Ksight(["pmc", "--json", "--top", "0", "-e", SW] +
                   [a.replace("{pid}", str(h.pid)) for a in args])
        k.wait_ready()
        before = settled(h.pid)
        for line in work:
            command(h, line)
        after = settled(h.pid)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    return k, h, k.records("pmc"), [a - b for a, b in zip(after, before)]


def traced(args, work, cgroup=None, mine=lambda r, h: r.get("pid") == h.pid):
    """pmcload doing @work (command lines) under `ksight pmc --json ARGS` ("{pid}" in ARGS:
    the helper's pid): ksight's records,
    the helper's row (the one @mine picks) and the kernel's change of (minflt, majflt,
    switches, migrations, run ns) over the same window. Repeated until a window has no
    unseen stretch (ATTEMPTS at most): on this VM the kernel hides its service's threads
    (PID 1's) from sched_switch, and the stretch of whoever runs after one leaves is
    counted as a switch but not read (unseen_stretches, docs/pmc.md); every window still
    has exactly the kernel's switches, and no more of anything than the kernel."""
    for _ in range(ATTEMPTS):
        k, h, rows, kernel = traced_once(args, work, cgroup)
        row = [r for r in rows if mine(r, h)]
        assert len(row) == 1, rows
        row = row[0]
        assert row["context_switches"] == kernel[2], (row, kernel)
        assert row["stretches"] + row["unseen_stretches"] == row["context_switches"], row
        assert row["page_faults"] <= kernel[0] + kernel[1], (row, kernel)
        assert k.stats()["lost"] == 0
        if row["unseen_stretches"] == 0:
            return k, h, row, kernel
    raise AssertionError("no window without unseen stretches in %d" % ATTEMPTS)


def assert_exact(row, kernel, read=None):
    minflt, majflt, switches, migrations, run_ns = kernel
    assert row["page_faults"] == minflt + majflt
    assert (row["minor_faults"], row["major_faults"]) == (minflt, majflt)
    assert row["context_switches"] == switches
    if read == "tasks" or read is None and sched_util.task_storage():
        # the kernel's own counts, taken while the helper slept: nothing apart
        assert row["cpu_migrations"] == migrations, (row, kernel)
        assert row["task_clock_ns"] == row["cpu_clock_ns"] == run_ns, (row, run_ns)
        return
    # the software event counts a switch-in after any number of moves once (two moves
    # before one run: one), the kernel's nr_migrations every move (docs/pmc.md)
    assert row["cpu_migrations"] <= migrations, (row, kernel)
    assert (row["cpu_migrations"] > 0) == (migrations > 0), (row, kernel)
    # the stretch ksight reads runs from the switch tracepoint in to the one out; the
    # kernel's run time from picking the task to putting it back: a few us apart each time
    bound = 0.01 * run_ns + PER_SWITCH_NS * row["context_switches"]
    assert abs(row["task_clock_ns"] - run_ns) <= bound, (row, run_ns)
    assert abs(row["cpu_clock_ns"] - run_ns) <= bound, (row, run_ns)


@pytest.mark.kernels
@pytest.mark.parametrize("read", ["tasks", "switches"])
@pytest.mark.parametrize("hooks", [None, "tp_btf", "raw_tp", "tp"])
def test_software_counts_equal_the_kernels(hooks, read):
    """Either way of reading, with each family for its hook (the exit hook when read from
    the tasks, the switch hook at switches); from the tasks on a kernel without task
    storage: exit 1, one line naming it."""
    args = ["--read", read] + (["--hooks", hooks] if hooks else [])
    if read == "tasks" and not sched_util.task_storage():
        sched_util.assert_read_tasks_refused(["pmc", "-e", "cs"] + args)
        return
    k, h, row, kernel = traced(args, ["fault %d" % PAGES, "sleep %d" % SLEEPS])
    assert_exact(row, kernel, read)
    assert row["page_faults"] >= PAGES
    assert row["context_switches"] >= SLEEPS


def exited_thread_once(read, n=SLEEPS, interval=()):
    """pmcload's "thread N" command under `ksight pmc --read READ -p PID [INTERVAL]`:
    ksight's row (the interval rows summed), the thread's own counts as it returned, the
    main thread's change (task_counters) and the process's faults (its ended threads'
    included) over the same window."""
    h = Helper("pmcload")
    try:
        k = Ksight(["pmc", "--json", "--top", "0", "-e", SW, "--read", read, "-p", str(h.pid)] +
                   list(interval))
        k.wait_ready()
        before = settled(h.pid), process_faults(h.pid)
        h.proc.stdin.write(b"thread %d\n" % n)
        h.proc.stdin.flush()
        done = h.readline().split()
        after = settled(h.pid), process_faults(h.pid)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    assert done[0] == "done", done
    rows = k.records("pmc")
    assert rows and {r["pid"] for r in rows} == {h.pid}, rows
    row = {key: sum(r[key] for r in rows) for key in rows[0] if isinstance(rows[0][key], int)}
    row["reports"] = len(rows)
    return (row, [int(x) for x in done[1:]], [a - b for a, b in zip(after[0], before[0])],
            [a - b for a, b in zip(after[1], before[1])])


@pytest.mark.kernels
@pytest.mark.parametrize("read", ["tasks", "switches"])
def test_exited_thread_counted(read):
    """A thread that faults and sleeps and ends while ksight runs: its process's row has
    the process's faults (/proc/PID/stat, which keeps its ended threads'), and the main
    thread's switches with the thread's (getrusage(RUSAGE_THREAD) as it returned). From
    the tasks exactly; at switches one switch more, the thread's last, which the kernel
    makes after the exit hook and leaves out of the process's rusage too (and, as in
    traced(), a window with an unseen stretch is tried again: its faults are not read)."""
    if read == "tasks" and not sched_util.task_storage():
        pytest.skip("no task storage before 5.11 (test_software_counts_equal_the_kernels)")
    last = 0 if read == "tasks" else 1
    for _ in range(ATTEMPTS):
        row, (minflt, majflt, nvcsw, nivcsw), main, faults = exited_thread_once(read)
        assert minflt >= SLEEPS and nvcsw >= SLEEPS, (minflt, nvcsw)
        assert row["context_switches"] == main[2] + nvcsw + nivcsw + last, (row, main)
        assert row["minor_faults"] + row["major_faults"] <= sum(faults), (row, faults)
        if row["unseen_stretches"]:
            continue
        assert (row["minor_faults"], row["major_faults"]) == tuple(faults), (row, faults)
        assert row["minor_faults"] >= main[0] + minflt, (row, main, minflt)
        return
    raise AssertionError("no window without unseen stretches in %d" % ATTEMPTS)


def test_exited_thread_read_while_it_ran():
    """From the tasks, every second: a thread that lived over a reading (1000 sleeps) is
    taken by the iterator and then, for the rest, by its exit hook; the interval rows sum
    to the same exact counts."""
    if not sched_util.task_storage():
        pytest.skip("no task storage before 5.11")
    row, (minflt, majflt, nvcsw, nivcsw), main, faults = exited_thread_once("tasks", 1000, ["1"])
    assert nvcsw >= 1000 and row["reports"] >= 2, row     # its counts in two readings
    assert row["context_switches"] == main[2] + nvcsw + nivcsw, (row, main)
    assert (row["minor_faults"], row["major_faults"]) == tuple(faults), (row, faults)


def test_task_clock_follows_schedstat_run_time():
    k, h, row, kernel = traced([], ["spin %d" % SPIN_MS, "fault %d" % PAGES])
    assert_exact(row, kernel)
    assert row["task_clock_ns"] >= SPIN_MS * 1e6


def test_per_thread_rows():
    k, h, row, kernel = traced(["-L"], ["fault %d" % PAGES, "sleep %d" % SLEEPS])
    assert row["tid"] == h.pid
    assert_exact(row, kernel)


@pytest.mark.parametrize("filt", [["-p", "{pid}"], ["-t", "{pid}"], ["--comm", "pmcload"]])
def test_filters_keep_one_process(filt):
    k, h, row, kernel = traced(filt, ["fault %d" % PAGES, "sleep %d" % SLEEPS])
    assert [r["pid"] for r in k.records("pmc")] == [h.pid]
    assert_exact(row, kernel)


@pytest.mark.parametrize("events,busier", [("cs,page-faults", 0), ("page-faults,cs", 1)])
def test_top_is_by_the_first_counter(events, busier):
    """Two helpers, one switching more, the other faulting more: --top 1 keeps the one
    with most of the first counter."""
    a, b = Helper("pmcload"), Helper("pmcload")
    try:
        k = Ksight(["pmc", "--json", "--top", "1", "-n", "pmcload", "-e", events])
        k.wait_ready()
        command(a, "sleep %d" % SLEEPS)
        command(a, "fault %d" % (PAGES // 10))
        command(b, "sleep %d" % (SLEEPS // 10))
        command(b, "fault %d" % PAGES)
        settled(a.pid)
        settled(b.pid)
        assert k.stop() == 0, k.stderr
    finally:
        a.kill()
        b.kill()
    assert [r["pid"] for r in k.records("pmc")] == [(a, b)[busier].pid]


@pytest.fixture
def cgroup():
    c = Cgroup()
    try:
        yield c
    finally:
        c.close()


def test_per_cgroup_row_is_the_cgroups_tasks(cgroup):
    cg_id = os.stat(cgroup.path).st_ino     # a cgroup v2 id is its directory's inode
    k, h, row, kernel = traced(["--per-cgroup", "--cgroup", cgroup.path],
                               ["fault %d" % PAGES, "sleep %d" % SLEEPS], cgroup,
                               lambda r, h: r.get("cgroup_id") == cg_id)
    assert [r["cgroup_id"] for r in k.records("pmc")] == [cg_id]
    assert_exact(row, kernel)


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


def test_status_says_whether_there_is_a_pmu(kernel_hooks):
    note = kernel_hooks.module_notes.get("pmc", "")
    if has_pmu():
        assert note.startswith("hardware counters: yes (a PMU counts cycles)"), note
    else:
        assert note.startswith(
            "hardware counters: none, no PMU (perf_event_open of cycles: "), note
    assert note.endswith(
        "; software counters alone are read from the tasks (task storage): the switch hook "
        "is --read switches'" if sched_util.task_storage() else
        "; no task storage (Linux 5.11): every counter is read at switches"), note


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
    (["--read", "sometimes"], "neither"),
    (["--read", "tasks", "-e", "cs,cycles"], "cycles is not counted per task"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["pmc"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines


def test_agent_counts_when_named():
    """`ksight run --modules pmc`: the summaries carry exactly the helper's switches, and
    its faults (exactly, in a window with no unseen stretch: tried up to ATTEMPTS times;
    never more than the kernel's)."""
    for _ in range(ATTEMPTS):
        h = Helper("pmcload")
        try:
            k = Ksight(["run", "--modules", "pmc", "--json", "--listen", "none", "-p",
                        str(h.pid), "1"])
            k.wait_ready()
            before = settled(h.pid)
            command(h, "fault %d" % PAGES)
            command(h, "sleep %d" % (SLEEPS // 10))
            after = settled(h.pid)
            time.sleep(1.2)
            assert k.stop() == 0, k.stderr
        finally:
            h.kill()
        summ = [s for s in k.records("summary") if s["module"] == "pmc"]
        assert summ, k.stdout
        notes = [l for l in k.err_lines if "PMU" in l]
        assert notes == ([] if has_pmu() else [
            "ksight run: pmc: no hardware PMU on this machine (perf_event_open of cycles: "
            "No such file or directory): cycles,instructions,cache-references,cache-misses,"
            "branch-misses,LLC-load-misses,dTLB-load-misses not counted, software counters "
            "only"]), k.stderr
        faults = (after[0] - before[0]) + (after[1] - before[1])
        assert sum(s["context_switches"] for s in summ) == after[2] - before[2]
        got = sum(s["page_faults"] for s in summ)
        assert got <= faults
        if got == faults:
            return
    raise AssertionError("faults never exact in %d windows" % ATTEMPTS)


def test_interval_and_count():
    """`ksight pmc 1 2`: two reports a second apart, then it exits by itself, 0; the
    machine's tasks (ksight's own excluded) ran in each second."""
    t = time.monotonic()
    r = run_ksight(["pmc", "--json", "--top", "0", "-e", "task-clock", "1", "2"])
    took = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    assert 1.9 <= took < 10 * SLOW, took
    rows = [json.loads(l) for l in r.stdout.splitlines() if l]
    rows = [x for x in rows if x["type"] == "pmc"]
    # a task that was running when ksight attached has its first stretch unseen (its start
    # was never read): a row that only switched out so is shown with nothing counted
    assert rows and all(x["pid"] > 0 and (x["task_clock_ns"] > 0 or
                                          x["stretches"] == 0 < x["unseen_stretches"])
                        for x in rows), json.dumps([x for x in rows if not x["task_clock_ns"]])
    assert sum(x["task_clock_ns"] > 0 for x in rows) >= 2, rows
    secs = sorted(time.mktime(time.strptime(x["ts"][:19], "%Y-%m-%dT%H:%M:%S")) for x in rows)
    assert 1 <= secs[-1] - secs[0] <= 2 * SLOW, secs     # two reports, a second apart


def test_agent_leaves_pmc_out_unless_named():
    r = run_ksight(["run", "--json", "--listen", "none", "--duration", "1"], timeout=60)
    assert "PMU" not in r.stderr
    assert all(x.get("module") != "pmc" for x in
               (json.loads(l) for l in r.stdout.splitlines() if l)), r.stdout


def perf_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def online_cpus():
    n = 0
    with open("/sys/devices/system/cpu/online") as f:
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    return n


@pytest.mark.parametrize("read", ["switches", "tasks"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_one_counter_per_cpu_and_nothing_left(sig, read):
    """At switches each counter is one perf event per online CPU (context switches and the
    clocks none: the hook counts and times them); from the tasks there is none, and no
    program on sched_switch; the programs, maps and links (the iterator's too) are gone
    once ksight is."""
    k = Ksight(["pmc", "-e", "page-faults,cs,task-clock", "--read", read])
    k.wait_ready()
    try:
        ids = bpf_ids(k.proc.pid)
        names = {p["name"] for p in bpftool_json("prog", "show") if p["id"] in ids["prog"]}
        if read == "switches":
            assert perf_fds(k.proc.pid) == online_cpus()  # page-faults only
            assert any(n.startswith("pmc__switch") for n in names), names
        else:
            assert perf_fds(k.proc.pid) == 0
            assert not any(n.startswith("pmc__switch") for n in names), names
            assert {"pmc__tasks", "pmc__exit_btf"} <= names, names
        assert ids["prog"] and ids["map"]
    finally:
        k.stop(sig)
    deadline = time.monotonic() + 30 * SLOW
    while any(ids[kind] & bpftool_ids(kind) for kind in ("prog", "link", "map")):
        assert time.monotonic() < deadline, "left in the kernel after ksight"
        time.sleep(0.1)
