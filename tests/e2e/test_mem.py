# SPDX-License-Identifier: GPL-2.0
"""ksight mem: a process's minor and major page faults equal the kernel's own counters
(/proc/PID/stat) over the same window; its mmap/munmap bytes, heap and anonymous RSS equal
what it did and what /proc says; an OOM kill in a memory cgroup the test creates names its
victim; filters and bad input."""
import os
import platform
import subprocess
import time

import pytest

import sched_util
from conftest import UNIQ, Helper, Ksight, run_ksight

PAGES = 500
PAGE = 4096
BRK = 3 * PAGE + 100     # the faulter's sbrk step: not a whole number of pages


def kernel_faults(pid):
    """(minor, major) faults of process @pid, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9])     # minflt, majflt (fields 10 and 12)


def settled(pid):
    """The counters once the process is asleep and two reads agree."""
    return sched_util.settled(pid, [pid], lambda p, t: kernel_faults(p))[pid]


def status_kib(pid, field):
    """A "kB" line of /proc/PID/status, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def start_brk(pid):
    """Where the heap of @pid starts (/proc/PID/stat field 47)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[44])


def traced_faults(args, helper_args=()):
    """The faulter touching PAGES fresh pages under `ksight mem --json -p PID ARGS`:
    ksight's rows and the kernel's change; the faulter's line and its anonymous RSS
    before and after (/proc/PID/status) in .done, .rss."""
    h = Helper("faulter", PAGES, *helper_args)
    try:
        k = Ksight(["mem", "--json", "-p", str(h.pid)] + args)
        k.wait_ready()
        before = settled(h.pid)
        rss_before = status_kib(h.pid, "RssAnon")
        h.go()
        h.done = h.readline().split()
        assert h.done[0] == "done"
        after = settled(h.pid)
        h.rss = (rss_before, status_kib(h.pid, "RssAnon"))
        h.start_brk = start_brk(h.pid)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    return k, h, k.records("mem_faults"), (after[0] - before[0], after[1] - before[1])


@pytest.mark.kernels
def test_faults_equal_the_kernels_counters():
    k, h, rows, kernel = traced_faults([])
    assert [r["pid"] for r in rows] == [h.pid], rows
    assert (rows[0]["minor"], rows[0]["major"]) == kernel
    assert rows[0]["minor"] >= PAGES
    assert k.stats()["lost"] == 0


@pytest.mark.kernels
def test_growth_equals_what_the_process_did():
    """mmap and munmap bytes are the faulter's PAGES pages each way, the heap is its break
    minus the heap's start (/proc/PID/stat), anonymous RSS ends where /proc/PID/status says
    and peaked PAGES pages above where it started."""
    k, h, rows, kernel = traced_faults([], [str(BRK)])
    assert [r["pid"] for r in rows] == [h.pid], rows
    r = rows[0]
    assert (r["mmap_bytes"], r["munmap_bytes"]) == (PAGES * PAGE, PAGES * PAGE)
    assert r["heap_bytes"] == int(h.done[3]) - h.start_brk
    assert r["rss_anon_bytes"] == h.rss[1]
    peak = h.rss[0] + PAGES * PAGE
    if tuple(int(x) for x in platform.release().split(".")[:2]) >= (6, 2):
        assert r["anon_peak_bytes"] == peak
    else:
        # before 6.2 a thread's RSS changes reach the mm (the tracepoint, and /proc's
        # RssAnon before the run) in batches of 64 (SPLIT_RSS_COUNTING)
        assert abs(r["anon_peak_bytes"] - peak) <= 64 * PAGE, (r, peak)
    assert k.stats()["lost"] == 0


def programs(k):
    return k.records("ready")[0]["programs"]


def mem_programs(args):
    """How many programs `ksight mem ARGS` attaches (its "ready" record)."""
    k = Ksight(["mem", "--json", "-p", str(os.getpid())] + args)
    k.wait_ready()
    assert k.stop() == 0, k.stderr
    return programs(k)


def test_no_growth_hooks_no_syscalls():
    """--no-growth: faults only; neither the syscall hooks nor rss_stat are attached (at
    least two programs fewer: rss_stat and the dispatcher, or three fexits)."""
    k, h, rows, kernel = traced_faults(["--no-growth"], [str(BRK)])
    assert (rows[0]["minor"], rows[0]["major"]) == kernel
    assert "mmap_bytes" not in rows[0] and "heap_bytes" not in rows[0], rows
    assert programs(k) <= mem_programs([]) - 2, programs(k)


def test_per_thread_rows_name_the_thread():
    k, h, rows, kernel = traced_faults(["-L"])
    assert [(r["pid"], r["tid"]) for r in rows] == [(h.pid, h.pid)], rows
    assert (rows[0]["minor"], rows[0]["major"]) == kernel


def test_oom_only_counts_no_faults():
    k, h, rows, kernel = traced_faults(["--oom-only"])
    assert rows == []
    # no perf event per CPU for either kind of fault, no growth hooks
    assert programs(k) <= mem_programs(["--no-growth"]) - 2 * os.cpu_count()


def memory_cgroup():
    """A memory cgroup with a 16 MiB limit and no swap (v1 where the machine has the
    memory hierarchy, else v2), and the file that moves a process into it."""
    v1 = "/sys/fs/cgroup/memory"
    if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
        path = os.path.join(v1, "ksight-oom-" + UNIQ)
        os.mkdir(path)
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(16 << 20))
        swap = os.path.join(path, "memory.memsw.limit_in_bytes")
        if os.path.exists(swap):
            with open(swap, "w") as f:
                f.write(str(16 << 20))
        return path
    root = subprocess.run(["findmnt", "-n", "-o", "TARGET", "-t", "cgroup2"],
                          stdout=subprocess.PIPE, text=True).stdout.split()
    if not root or "memory" not in open(os.path.join(root[0], "cgroup.controllers")).read():
        pytest.skip("no memory cgroup controller (v1 or v2) on this machine")
    path = os.path.join(root[0], "ksight-oom-" + UNIQ)
    os.mkdir(path)
    for name, value in (("memory.max", 16 << 20), ("memory.swap.max", 0)):
        if os.path.exists(os.path.join(path, name)):
            with open(os.path.join(path, name), "w") as f:
                f.write(str(value))
    return path


def test_oom_kill_names_the_victim():
    cg = memory_cgroup()
    try:
        k = Ksight(["mem", "--json", "--oom-only"])
        k.wait_ready()
        # the shell moves itself into the cgroup, then becomes python, which fills 64 MiB
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec python3 -c '
                              '"b = bytearray(64 << 20); import time; time.sleep(5)"',
                              "sh", cg])
        assert p.wait(60) == -9, "not killed by the OOM killer"
        time.sleep(0.3)
        assert k.stop() == 0, k.stderr
    finally:
        os.rmdir(cg)
    ooms = k.records("oom")
    assert [o["victim_pid"] for o in ooms] == [p.pid], ooms
    o = ooms[0]
    assert o["pid"] == p.pid      # the victim itself was allocating
    if "victim_comm" in o and o["victim_comm"]:
        assert o["victim_comm"] == "python3"
    assert k.stats()["lost"] == 0


@pytest.mark.parametrize("args,word", [
    (["--top", "-1"], "--top"),
    (["1", "2", "3"], "argument"),
    (["--per-thread=x"], "per-thread"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run_ksight(["mem"] + args)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines


def test_agent_counts_faults_when_named():
    """`ksight run --modules mem`: the summaries carry exactly the helper's faults and
    bytes mapped and unmapped (-p)."""
    h = Helper("faulter", PAGES)
    try:
        k = Ksight(["run", "--modules", "mem", "--json", "--listen", "none", "-p",
                    str(h.pid), "1"])
        k.wait_ready()
        before = settled(h.pid)
        h.go()
        assert h.readline().split()[0] == "done"
        after = settled(h.pid)
        time.sleep(1.2)
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    summ = [s for s in k.records("summary") if s["module"] == "mem"]
    assert summ, k.stdout
    assert sum(s["minor_faults"] for s in summ) == after[0] - before[0]
    assert sum(s["major_faults"] for s in summ) == after[1] - before[1]
    assert sum(s["mapped_bytes"] for s in summ) == PAGES * PAGE
    assert sum(s["unmapped_bytes"] for s in summ) == PAGES * PAGE
