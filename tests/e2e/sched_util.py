# SPDX-License-Identifier: GPL-2.0
"""The kernel's own per-thread counters, read once a helper's threads are all asleep, for
exact comparisons with ksight over the same window (test_cswitch, test_runq, test_mem,
test_pmc); whether ksight can read them from the tasks here (--read tasks)."""
import os
import time

from conftest import run_ksight


def task_storage():
    """Whether this kernel has BPF task storage (5.11), which --read tasks needs."""
    return tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2]) >= (5, 11)


def assert_read_tasks_refused(args):
    """Without task storage `ksight ARGS` (with --read tasks) exits 1 with one line naming
    it."""
    r = run_ksight(args + ["--duration", "1"])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, r
    assert "task storage" in lines[0] and "5.11" in lines[0], lines


def thread_state(pid, tid):
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def settled(pid, tids, read):
    """{tid: read(pid, tid)} once every thread of @tids sleeps and two reads agree."""
    last, states = None, []
    for _ in range(400):
        states = [thread_state(pid, t) for t in tids]
        now = {t: read(pid, t) for t in tids}
        if all(s == "S" for s in states) and now == last:
            return now
        last = now
        time.sleep(0.05)
    raise AssertionError("helper threads never settled: %s" % states)
