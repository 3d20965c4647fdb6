# SPDX-License-Identifier: GPL-2.0
"""The kernel's own per-thread counters, read once a helper's threads are all asleep, for
exact comparisons with ksight over the same window (test_cswitch, test_runq, test_mem)."""
import time


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
