# SPDX-License-Identifier: GPL-2.0
"""ksight biolat: exact request counts on a loop device the test creates, per disk and
flags, percentiles in order, every hook family, intervals; -p judging the process that made
a request even when a kworker issued it."""
import os
import re
import subprocess
import time

import pytest

from conftest import SLOW, Helper, Ksight, run_ksight
from test_bio import AIO_BATCHES, AIO_R, AIO_W, busy_queue, io_start_here, run_aio

R, W = 24, 9
HOOKS = [None, "tp_btf", "raw_tp", "tp"]


@pytest.fixture(scope="module")
def loopdev(tmp_path_factory):
    """A 16 MiB loop device on a file in a tmp dir; detached at the end, even on failure."""
    backing = tmp_path_factory.mktemp("biolat") / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    dev = subprocess.run(["losetup", "--find", "--show", str(backing)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30)
    assert dev.returncode == 0, dev.stderr
    dev = dev.stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], timeout=30)
        assert str(backing) not in subprocess.run(["losetup", "-a"], stdout=subprocess.PIPE,
                                                 text=True).stdout


def hists(k, disk):
    """{op: record} of the biolat records for @disk; the op is the flags' last word
    (O_DIRECT writes are Sync-Write)."""
    out = {}
    for r in k.records("biolat"):
        if r["disk"] != disk:
            continue
        op = r["flags"].split("-")[-1]
        assert op not in out, "two histograms for %s %s" % (disk, op)
        out[op] = r
    return out


def check_hist(r, count, unit="usecs", missed=0):
    """@r counts @count requests; up to @missed fewer where the kernel said it skipped
    that many runs of ksight's programs (bpf_prog_info.recursion_misses)."""
    h = r["hist"]
    assert count - missed <= r["count"] <= count and h["count"] == r["count"], (r, missed)
    assert sum(b["count"] for b in h["buckets"]) == r["count"]
    assert h["unit"] == unit
    assert all(b["lo"] <= b["hi"] and b["count"] > 0 for b in h["buckets"])
    los = [b["lo"] for b in h["buckets"]]
    assert los == sorted(set(los))
    assert 0 <= h["p50"] <= h["p90"] <= h["p99"]
    assert h["buckets"][0]["lo"] <= h["p50"] <= h["buckets"][-1]["hi"] + 1
    assert r["sum_ns"] > 0


def run_io(dev, args, reads=R, writes=W):
    """`ksight biolat --json <args>` around one helper doing exact O_DIRECT I/O on @dev."""
    h = Helper("dio", dev, reads, writes)
    try:
        k = Ksight(["biolat", "--json"] + args)
        k.wait_ready()
        h.go()
        assert h.readline().split() == ["done", str(reads), str(writes)]
        assert k.stop() == 0, k.stderr
        h.result()      # closes the device only now: no request while ksight counted
        return k
    finally:
        h.kill()


@pytest.mark.parametrize("hooks", HOOKS)
def test_exact_counts_per_disk_and_flags(loopdev, hooks):
    disk = os.path.basename(loopdev)
    k = run_io(loopdev, ["-D", "-F", "-d", disk] + (["--hooks", hooks] if hooks else []))
    hs = hists(k, disk)
    assert set(hs) == {"Read", "Write"}, hs
    assert hs["Read"]["flags"] in ("Read", "Sync-Read")
    assert hs["Write"]["flags"] in ("Write", "Sync-Write")
    check_hist(hs["Read"], R)
    check_hist(hs["Write"], W)
    assert {r["disk"] for r in k.records("biolat")} == {disk}
    st = k.stats()
    bio = st["types"]["biolat"]
    assert bio["events"] == R + W and bio["lost"] == 0 and st["consistent"] is True


@pytest.mark.parametrize("hooks", HOOKS)
def test_queued_same_counts(loopdev, hooks):
    disk = os.path.basename(loopdev)
    k = run_io(loopdev, ["-Q", "-D", "-F", "-d", disk] + (["--hooks", hooks] if hooks else []))
    hs = hists(k, disk)
    assert set(hs) == {"Read", "Write"}
    check_hist(hs["Read"], R)
    check_hist(hs["Write"], W)


def test_milliseconds(loopdev):
    disk = os.path.basename(loopdev)
    k = run_io(loopdev, ["-m", "-D", "-F", "-d", disk])
    hs = hists(k, disk)
    check_hist(hs["Read"], R, unit="msecs")
    check_hist(hs["Write"], W, unit="msecs")


def test_one_histogram_for_the_disk(loopdev):
    """Without -D/-F: one histogram, reads and writes together."""
    disk = os.path.basename(loopdev)
    k = run_io(loopdev, ["-d", disk])
    (r,) = k.records("biolat")
    assert "disk" not in r and "flags" not in r
    check_hist(r, R + W)


def test_intervals_end_by_themselves(loopdev):
    """`biolat 1 2`: two reports, each with that interval's requests, then exit 0."""
    disk = os.path.basename(loopdev)
    first = Helper("dio", loopdev, 5, 3)
    second = Helper("dio", loopdev, 4, 2)
    try:
        k = Ksight(["biolat", "--json", "-D", "-F", "-d", disk, "1", "2"])
        k.wait_ready()
        t0 = time.monotonic()
        first.go()
        assert first.readline().split() == ["done", "5", "3"]
        deadline = time.monotonic() + 10
        while not k.records("biolat") and time.monotonic() < deadline:
            time.sleep(0.02)
        second.go()
        assert second.readline().split() == ["done", "4", "2"]
        assert k.wait(20) == 0, k.stderr
        took = time.monotonic() - t0
        first.result()
        second.result()
    finally:
        first.kill()
        second.kill()
    recs = k.records("biolat")
    ops = [(r["flags"].split("-")[-1], r["count"]) for r in recs]
    assert ops == [("Read", 5), ("Write", 3), ("Read", 4), ("Write", 2)], ops
    assert recs[2]["ts"] > recs[1]["ts"]
    assert k.records()[-1]["type"] == "stats"
    assert 1.5 < took < 15




def per_type(stats):
    """{type: count} of a stats record (its "types" object)."""
    return {k: v["events"] for k, v in stats.get("types", {}).items()}


def biolat_seen(k):
    return sum(r["io"] for r in k.records("summary") if r["module"] == "biolat")


@pytest.mark.parametrize("when", ["interval", "exit"])
def test_agent_counts_every_request(loopdev, when):
    """`ksight run`: biolat's summaries count each request of the process once, in an
    interval's summary or in the one at exit, and every stats record counts them among its
    events."""
    h = Helper("dio", loopdev, R, W)
    try:
        k = Ksight(["run", "--json", "-p", str(h.pid), "1"])
        k.wait_ready()
        h.go()
        assert h.readline().split() == ["done", str(R), str(W)]
        # every request in the interval summaries (an interval may end amid the I/O and
        # count only part of it: wait for the next one, never for just any count)
        deadline = time.monotonic() + 10 * SLOW
        while when == "interval" and biolat_seen(k) < R + W and time.monotonic() < deadline:
            time.sleep(0.02)
        assert k.stop() == 0, k.stderr
        h.result()
    finally:
        h.kill()
    seen, stats = 0, 0
    for r in k.records():
        if r["type"] == "summary" and r["module"] == "biolat":
            seen += r["io"]
            assert ("p50_ns" in r) == (r["io"] > 0), r
        elif r["type"] == "stats":
            stats += 1
            assert per_type(r).get("biolat", 0) == seen, r
            assert r["events"] == sum(per_type(r).values()), r
            assert r["lost"] == 0
    assert seen == R + W
    if when == "interval":
        last = [r for r in k.records("summary") if r["module"] == "biolat"][-1]
        assert last["io"] == 0, "the summary at exit found requests already summarised"
    st = k.stats()
    assert st["final"] is True and per_type(st)["biolat"] == R + W and st["consistent"] is True
    assert k.stderr.splitlines()[-1] == "%d events, 0 lost" % st["events"]


def test_unknown_disk():
    r = run_ksight(["biolat", "-d", "ksight-e2e-nodisk"])
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "ksight-e2e-nodisk" in r.stderr


def test_table_histograms(loopdev):
    """The terminal form: per disk and flags a header, the ASCII histogram and a line with
    the percentiles and the exact count."""
    disk = os.path.basename(loopdev)
    h = Helper("dio", loopdev, R, W)
    try:
        k = Ksight(["biolat", "-D", "-F", "-d", disk])
        k.wait_ready()
        h.go()
        assert h.readline().split() == ["done", str(R), str(W)]
        assert k.stop() == 0, k.stderr
        h.result()
    finally:
        h.kill()
    text = k.stdout
    blocks = [b for b in text.split("\n\n") if b.strip()]
    assert len(blocks) == 2, text
    for block, op, count in zip(blocks, ("Read", "Write"), (R, W)):
        lines = block.splitlines()
        assert lines[0] == "disk = " + disk
        assert lines[1].startswith("flags = ") and lines[1].endswith(op)
        assert lines[2].split()[:3] == ["usecs", ":", "count"]
        bars = [l for l in lines if "->" in l]
        assert sum(int(l.split(":")[1].split()[0]) for l in bars) == count
        assert re.match(r"^p50 \S+  p90 \S+  p99 \S+  count %d$" % count, lines[-1]), lines[-1]


@pytest.mark.kernels
@pytest.mark.parametrize("queued", [False, True], ids=["issue", "insert"])
@pytest.mark.parametrize("hooks", HOOKS)
def test_filter_judges_the_maker_not_the_issuer(loopdev, hooks, queued):
    """Two processes submit batches of O_DIRECT requests on a queue of 4: many requests
    are issued by a kworker or by the other process. `-p A` counts exactly A's requests
    (where the kernel has block_io_start; before 6.5 it says what it cannot see), from
    issue or with -Q from insert, and the disk completed both processes' together, as
    /sys/block/<disk>/stat counts."""
    disk = os.path.basename(loopdev)
    k, a, b, delta = run_aio(loopdev, lambda a, b: ["biolat", "--json", "-D", "-F", "-d", disk,
                                                    "-p", str(a.pid)] +
                             (["-Q"] if queued else []) + (["--hooks", hooks] if hooks else []))
    assert (delta[0], delta[2]) == (2 * AIO_BATCHES * AIO_R, 2 * AIO_BATCHES * AIO_W)
    if not io_start_here():
        assert "ksight biolat: block_io_start absent (before 6.5): " in k.stderr, k.stderr
        return
    assert "block_io_start absent" not in k.stderr
    hs = hists(k, disk)
    assert set(hs) == {"Read", "Write"}, hs
    st = k.stats()
    # two processes and a kworker on a busy queue: a run the kernel skipped (a classic
    # tracepoint's inside another program on that CPU; a program inside itself, its queue
    # run again from a completion's softirq) is counted there, never silent
    missed = st["missed_runs"]
    check_hist(hs["Read"], AIO_BATCHES * AIO_R, missed=missed)
    check_hist(hs["Write"], AIO_BATCHES * AIO_W, missed=missed)
    assert hs["Read"]["count"] + hs["Write"]["count"] >= \
        AIO_BATCHES * (AIO_R + AIO_W) - missed, (hs, st)
    assert st["types"]["biolat"]["lost"] == 0 and st["consistent"] is True


def test_agent_counts_requests_a_kworker_issued(loopdev):
    """`ksight run -p A`, a busy queue, another process: biolat's summaries count A's
    requests exactly, those a kworker issued included."""
    a = Helper("dioaio", loopdev, AIO_BATCHES, AIO_R, AIO_W, 0)
    b = Helper("dioaio", loopdev, AIO_BATCHES, AIO_R, AIO_W, 2048)
    n = AIO_BATCHES * (AIO_R + AIO_W)
    try:
        with busy_queue(loopdev):
            k = Ksight(["run", "--json", "--listen", "none", "--modules", "biolat", "-p",
                        str(a.pid), "1"])
            k.wait_ready()
            a.go()
            b.go()
            for h in (a, b):
                assert h.readline().startswith("done ")
            assert k.stop() == 0, k.stderr
            a.result()
            b.result()
    finally:
        a.kill()
        b.kill()
    if not io_start_here():
        assert "block_io_start absent (before 6.5): " in k.stderr, k.stderr
        return
    assert biolat_seen(k) == n
    st = k.stats()
    assert per_type(st)["biolat"] == n and st["lost"] == 0 and st["consistent"] is True
