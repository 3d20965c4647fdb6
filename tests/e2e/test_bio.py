# SPDX-License-Identifier: GPL-2.0
"""ksight biotop and biosnoop: exact requests and bytes of O_DIRECT I/O on a loop device the
test creates, attributed to the helper that queued them (the loop driver completes them in
its own kworker), cross-checked against the disk's /sys/block/<disk>/stat deltas; every
hook family; -p; per cgroup; a queueing scheduler; requests a kworker issued; bad input."""
import contextlib
import os
import subprocess
import time

import pytest

from conftest import SLOW, Helper, Ksight, run_ksight

R, W = 24, 9
SIZES = [4096, 8192, 16384, 65536]
HOOKS = [None, "tp_btf", "raw_tp", "tp"]


def sizes(n):
    return [SIZES[i % len(SIZES)] for i in range(n)]


def scheduler(disk, name=None):
    """The disk's I/O scheduler; with @name, set it first (the loop device is the test's;
    the setting outlives a detach, so the fixture puts the old one back)."""
    path = "/sys/block/%s/queue/scheduler" % disk
    if name:
        with open(path, "w") as f:
            f.write(name)
    with open(path) as f:
        text = f.read()
    return text.split("[")[1].split("]")[0], text


@pytest.fixture(scope="module")
def loopdev(tmp_path_factory):
    """A 16 MiB loop device on a file in a tmp dir, without an I/O scheduler (requests go
    straight to the driver); detached at the end, even on failure."""
    backing = tmp_path_factory.mktemp("bio") / "backing.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    dev = subprocess.run(["losetup", "--find", "--show", str(backing)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30)
    assert dev.returncode == 0, dev.stderr
    dev = dev.stdout.strip()
    old = scheduler(os.path.basename(dev))[0]
    try:
        scheduler(os.path.basename(dev), "none")
        yield dev
    finally:
        scheduler(os.path.basename(dev), old)
        subprocess.run(["losetup", "-d", dev], timeout=30)
        assert str(backing) not in subprocess.run(["losetup", "-a"], stdout=subprocess.PIPE,
                                                 text=True).stdout


def disk_stat(disk):
    """(reads, read bytes, writes, written bytes) completed, from the kernel's own count."""
    with open("/sys/block/%s/stat" % disk) as f:
        v = [int(x) for x in f.read().split()]
    return v[0], v[2] * 512, v[4], v[6] * 512


def run_io(dev, cmd, args, reads=R, writes=W, helpers=1):
    """`ksight <cmd> --json <args>` around @helpers helpers each doing exact O_DIRECT I/O on
    @dev; returns (ksight, helpers, the disk's stat delta over the helpers' I/O)."""
    disk = os.path.basename(dev)
    hs = [Helper("bioio", dev, reads, writes, ",".join(map(str, SIZES)))
          for _ in range(helpers)]
    try:
        k = Ksight([cmd, "--json"] + args)
        k.wait_ready()
        before = disk_stat(disk)
        for h in hs:
            h.go()
            done = h.readline().split()
            assert done == ["done", str(reads), str(writes), str(sum(sizes(reads))),
                            str(sum(sizes(writes)))], done
        after = disk_stat(disk)
        assert k.stop() == 0, k.stderr
        for h in hs:
            h.result()  # closes the device only now: no request while ksight counted
        return k, hs, tuple(a - b for a, b in zip(after, before))
    finally:
        for h in hs:
            h.kill()


def rows(k, disk):
    """{(pid, op): row} of biotop's rows for @disk."""
    out = {}
    for r in k.records("biotop"):
        if r["disk"] != disk:
            continue
        key = (r["pid"], r["op"])
        assert key not in out, "two rows for %s" % (key,)
        out[key] = r
    return out


def check_against_stat(rs, delta):
    """Every row of the disk together equals what the kernel counted for it."""
    ops = {op: sum(r["ops"] for (_, o), r in rs.items() if o == op) for op in ("read", "write")}
    byt = {op: sum(r["bytes"] for (_, o), r in rs.items() if o == op) for op in ("read", "write")}
    assert (ops["read"], byt["read"], ops["write"], byt["write"]) == delta


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", HOOKS)
def test_biotop_exact_per_process(loopdev, hooks):
    disk = os.path.basename(loopdev)
    k, (h,), delta = run_io(loopdev, "biotop", ["-d", disk, "--top", "0"] +
                            (["--hooks", hooks] if hooks else []))
    assert delta == (R, sum(sizes(R)), W, sum(sizes(W)))
    rs = rows(k, disk)
    rd, wr = rs[(h.pid, "read")], rs[(h.pid, "write")]
    assert (rd["ops"], rd["bytes"]) == (R, sum(sizes(R)))
    assert (wr["ops"], wr["bytes"]) == (W, sum(sizes(W)))
    for r in (rd, wr):
        assert r["comm"] == "bioio" and r["tid"] == h.pid
        assert r["svc_ns"] > 0 and r["avg_svc_ns"] == r["svc_ns"] // r["ops"]
        assert (r["major"], r["minor"]) == (7, int(disk[4:]))
    check_against_stat(rs, delta)
    st = k.stats()
    assert st["types"]["biotop"]["events"] == R + W
    assert st["types"]["biotop"]["lost"] == 0 and st["consistent"] is True


@pytest.mark.parametrize("hooks", HOOKS)
def test_biosnoop_every_request(loopdev, hooks):
    """Exactly one record per request, in order, with its size, sector and op, about the
    helper (the owner), never the loop kworker that completed it; without a scheduler
    each went straight to the driver (no queue time)."""
    disk = os.path.basename(loopdev)
    k, (h,), delta = run_io(loopdev, "biosnoop", ["-d", disk] +
                            (["--hooks", hooks] if hooks else []))
    assert delta == (R, sum(sizes(R)), W, sum(sizes(W)))
    recs = [r for r in k.records("biosnoop") if r["disk"] == disk]
    assert len(recs) == R + W
    assert [r["bytes"] for r in recs] == sizes(R) + sizes(W)
    assert [r["op"] for r in recs] == ["R"] * R + ["W"] * W
    off = 0
    for r in recs:
        assert r["sector"] == off // 512
        off += r["bytes"]
        assert (r["pid"], r["tid"], r["comm"]) == (h.pid, h.pid, "bioio")
        assert r["owner"] == "queuer" and r["error"] == 0
        assert r["queue_ns"] == 0 and r["lat_ns"] == r["svc_ns"] > 0
        assert r["dev"] == "7:%s" % disk[4:]
    st = k.stats()
    assert st["types"]["biosnoop"] == {"events": R + W, "lost": 0}
    assert st["consistent"] is True


@pytest.mark.parametrize("cmd", ["biotop", "biosnoop"])
def test_pid_filter(loopdev, cmd):
    """Two helpers, the same disk: -p keeps only the first one's requests, all of them."""
    disk = os.path.basename(loopdev)
    a = Helper("bioio", loopdev, R, W, ",".join(map(str, SIZES)))
    b = Helper("bioio", loopdev, 5, 3, "4096")
    try:
        k = Ksight([cmd, "--json", "-d", disk, "-p", str(a.pid)])
        k.wait_ready()
        for h in (b, a):
            h.go()
            assert h.readline().startswith("done ")
        assert k.stop() == 0, k.stderr
        a.result()
        b.result()
    finally:
        a.kill()
        b.kill()
    if cmd == "biotop":
        rs = rows(k, disk)
        assert set(rs) == {(a.pid, "read"), (a.pid, "write")}, rs
        assert rs[(a.pid, "read")]["ops"] == R and rs[(a.pid, "write")]["ops"] == W
    else:
        recs = k.records("biosnoop")
        assert {r["pid"] for r in recs} == {a.pid}
        assert len(recs) == R + W


def test_queued_requests_keep_their_owner(loopdev):
    """With a scheduler, requests wait in a queue (insert, then issue, often from a kworker
    of the block layer): queue time shows, and the owner is still the helper."""
    disk = os.path.basename(loopdev)
    if "mq-deadline" not in scheduler(disk)[1]:
        pytest.skip("no mq-deadline scheduler for loop devices here")
    scheduler(disk, "mq-deadline")
    try:
        k, (h,), delta = run_io(loopdev, "biosnoop", ["-d", disk])
    finally:
        scheduler(disk, "none")
    recs = k.records("biosnoop")
    assert len(recs) == R + W == delta[0] + delta[2]
    assert all(r["pid"] == h.pid and r["owner"] == "queuer" for r in recs)
    assert all(r["queue_ns"] > 0 for r in recs)


def test_per_cgroup_and_sort(loopdev):
    """--per-cgroup: one row per cgroup, disk and op, the helper's cgroup (the test's, which
    it inherits) by its id, the inode of its cgroup v2 directory; --sort ops puts the reads
    first."""
    disk = os.path.basename(loopdev)
    k, (h,), delta = run_io(loopdev, "biotop", ["-d", disk, "--per-cgroup", "-s", "ops"])
    with open("/proc/self/cgroup") as f:
        path = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0]
    cg = os.stat("/sys/fs/cgroup" + path).st_ino
    recs = [r for r in k.records("biotop") if r["cgroup_id"] == cg]
    assert [(r["op"], r["ops"], r["bytes"]) for r in recs] == \
        [("read", R, sum(sizes(R))), ("write", W, sum(sizes(W)))]
    assert "pid" not in recs[0]


def test_intervals_end_by_themselves(loopdev):
    """`biotop 1 2`: two reports, each with its interval's requests only, then exit 0."""
    disk = os.path.basename(loopdev)
    first = Helper("bioio", loopdev, 5, 3, "4096")
    second = Helper("bioio", loopdev, 4, 2, "8192")
    try:
        k = Ksight(["biotop", "--json", "-d", disk, "1", "2"])
        k.wait_ready()
        first.go()
        assert first.readline().startswith("done ")
        deadline = time.monotonic() + 10 * SLOW
        while not k.records("biotop") and time.monotonic() < deadline:
            time.sleep(0.02)
        second.go()
        assert second.readline().startswith("done ")
        assert k.wait(20 * SLOW) == 0, k.stderr
        first.result()
        second.result()
    finally:
        first.kill()
        second.kill()
    got = [(r["pid"], r["op"], r["ops"], r["bytes"]) for r in k.records("biotop")]
    assert got == [(first.pid, "read", 5, 5 * 4096), (first.pid, "write", 3, 3 * 4096),
                   (second.pid, "read", 4, 4 * 8192), (second.pid, "write", 2, 2 * 8192)], got


def test_table(loopdev):
    disk = os.path.basename(loopdev)
    h = Helper("bioio", loopdev, R, W, "4096")
    try:
        k = Ksight(["biotop", "-d", disk])
        k.wait_ready()
        h.go()
        assert h.readline().startswith("done ")
        assert k.stop() == 0, k.stderr
        h.result()
    finally:
        h.kill()
    lines = k.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMM", "SERVICE", "DISK", "D", "OPS", "BYTES",
                                "AVG_SVC", "AVG_QUEUE"]
    mine = [l.split() for l in lines[1:] if l.split()[0] == str(h.pid)]
    assert [(m[1], m[3], m[4], m[5]) for m in mine] == [("bioio", disk, "R", str(R)),
                                                        ("bioio", disk, "W", str(W))]
    assert " ".join(mine[0][6:8]) == "%.1f KiB" % (R * 4)


@pytest.mark.parametrize("args,word", [
    (["biotop", "-d", "ksight-e2e-nodisk"], "ksight-e2e-nodisk"),
    (["biotop", "-d", "../sda"], "../sda"),
    (["biotop", "-L", "--per-cgroup"], "choose one"),
    (["biotop", "-s", "latency"], "latency"),
    (["biosnoop", "-L"], "biotop"),
    (["biosnoop", "1"], "interval"),
])
def test_bad_input(args, word):
    r = run_ksight(args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr


def test_agent_counts_the_process(loopdev):
    """`ksight run --modules biotop -p PID`: the summaries together count the helper's
    requests and bytes exactly, each once."""
    h = Helper("bioio", loopdev, R, W, ",".join(map(str, SIZES)))
    try:
        k = Ksight(["run", "--json", "--listen", "none", "--modules", "biotop", "-p",
                    str(h.pid), "1"])
        k.wait_ready()
        h.go()
        assert h.readline().startswith("done ")
        deadline = time.monotonic() + 10 * SLOW
        while not any(r["requests"] for r in k.records("summary")) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert k.stop() == 0, k.stderr
        h.result()
    finally:
        h.kill()
    sums = [r for r in k.records("summary") if r["module"] == "biotop"]
    assert sum(r["requests"] for r in sums) == R + W
    assert sum(r["read_bytes"] for r in sums) == sum(sizes(R))
    assert sum(r["write_bytes"] for r in sums) == sum(sizes(W))
    st = k.stats()
    assert st["types"]["biotop"]["events"] == R + W and st["consistent"] is True


# A busy queue: batches of O_DIRECT requests by Linux AIO from two processes at once.
AIO_BATCHES, AIO_R, AIO_W = 4, 16, 16


@contextlib.contextmanager
def busy_queue(dev):
    """The test's loop device @dev (a path or the disk's name) with no scheduler and 4
    requests at most (the least the kernel takes): a batch of more plugged by io_submit
    sleeps for a request, its plug is flushed from the scheduler, and a kworker of kblockd
    issues the requests it held; the submitter also runs the queue for the other process's
    requests. Put back at the end."""
    q = "/sys/block/%s/queue/" % os.path.basename(dev)
    with open(q + "scheduler") as f:
        old_sched = f.read().split("[")[1].split("]")[0]
    with open(q + "nr_requests") as f:
        old_nr = f.read().strip()
    try:
        with open(q + "scheduler", "w") as f:
            f.write("none")
        with open(q + "nr_requests", "w") as f:
            f.write("4")
        yield
    finally:
        with open(q + "nr_requests", "w") as f:
            f.write(old_nr)
        with open(q + "scheduler", "w") as f:
            f.write(old_sched)


def run_aio(dev, args):
    """`ksight <args(a, b)>` around two dioaio helpers, A and B, submitting on a busy queue
    at once; returns (ksight, a, b, the disk's stat delta over their I/O)."""
    disk = os.path.basename(dev)
    a = Helper("dioaio", dev, AIO_BATCHES, AIO_R, AIO_W, 0)
    b = Helper("dioaio", dev, AIO_BATCHES, AIO_R, AIO_W, 2048)
    try:
        with busy_queue(disk):
            k = Ksight(args(a, b))
            k.wait_ready()
            before = disk_stat(disk)
            a.go()
            b.go()
            for h in (a, b):
                assert h.readline().split() == ["done", str(AIO_BATCHES * AIO_R),
                                                str(AIO_BATCHES * AIO_W)]
            after = disk_stat(disk)
            assert k.stop() == 0, k.stderr
            a.result()
            b.result()
        return k, a, b, tuple(x - y for x, y in zip(after, before))
    finally:
        a.kill()
        b.kill()


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", HOOKS)
def test_kworker_issued_requests_keep_their_owner(loopdev, hooks):
    """Two processes submit batches on a queue of 4: a kworker, or the other process,
    issues many of each one's requests. biotop gives each process exactly its own, and
    both together are what the disk completed."""
    disk = os.path.basename(loopdev)
    k, a, b, delta = run_aio(loopdev, lambda a, b: ["biotop", "--json", "-d", disk, "--top",
                                                    "0"] + (["--hooks", hooks] if hooks else []))
    nr, nw = AIO_BATCHES * AIO_R, AIO_BATCHES * AIO_W
    assert delta == (2 * nr, 2 * nr * 4096, 2 * nw, 2 * nw * 4096)
    rs = rows(k, disk)
    st = k.stats()
    # a run the kernel skipped (a program inside itself, the busy queue run again from a
    # completion's softirq; a classic tracepoint's inside any other) is counted there
    missed = st["missed_runs"]
    got = {key: (r["ops"], r["bytes"], r["comm"]) for key, r in rs.items()}
    want = {(h.pid, op): n for h in (a, b) for op, n in (("read", nr), ("write", nw))}
    assert set(got) == set(want), got
    for key, (ops, nbytes, comm) in got.items():
        assert want[key] - missed <= ops <= want[key] and (nbytes, comm) == \
            (ops * 4096, "dioaio"), (key, got[key], st)
    assert sum(g[0] for g in got.values()) >= 2 * (nr + nw) - missed, (got, st)
    if not missed:
        check_against_stat(rs, delta)
    assert st["types"]["biotop"]["lost"] == 0 and st["consistent"] is True


def test_biosnoop_pid_filter_on_a_busy_queue(loopdev):
    """biosnoop -p A on the busy queue: one record per request A made, each A's own (the
    queuer), at A's sectors, none of B's."""
    disk = os.path.basename(loopdev)
    k, a, b, delta = run_aio(loopdev, lambda a, b: ["biosnoop", "--json", "-d", disk, "-p",
                                                    str(a.pid)])
    n = AIO_BATCHES * (AIO_R + AIO_W)
    assert delta[0] + delta[2] == 2 * n
    recs = k.records("biosnoop")
    # a string (pytest shows it whole): CI once saw 127 of 128, not reproduced in 25 runs
    why = "stats %s; A's sectors missing %s; records not A's queued %s" % (
        k.stats(), sorted({2 * i * 8 for i in range(n)} - {r["sector"] for r in recs}),
        [r for r in recs if (r["pid"], r["owner"]) != (a.pid, "queuer")])
    # a run the kernel skipped (counted in missed_runs) may cost a record, never silently
    missed = k.stats()["missed_runs"]
    assert n - missed <= len(recs) <= n, why
    assert all((r["pid"], r["comm"], r["owner"]) == (a.pid, "dioaio", "queuer") for r in recs)
    # A's i-th request is at 4 KiB block 2 * i (B's from block 2048 on)
    sectors = sorted(r["sector"] for r in recs)
    assert len(set(sectors)) == len(sectors) and \
        set(sectors) <= {2 * i * 8 for i in range(n)}, why


def test_agent_counts_the_process_on_a_busy_queue(loopdev):
    """`ksight run --modules biotop -p A`, a busy queue, another process: the summaries
    count A's requests and bytes exactly, those a kworker issued included."""
    k, a, b, delta = run_aio(loopdev, lambda a, b: ["run", "--json", "--listen", "none",
                                                    "--modules", "biotop", "-p", str(a.pid),
                                                    "1"])
    nr, nw = AIO_BATCHES * AIO_R, AIO_BATCHES * AIO_W
    sums = [r for r in k.records("summary") if r["module"] == "biotop"]
    assert sum(r["requests"] for r in sums) == nr + nw
    assert sum(r["read_bytes"] for r in sums) == nr * 4096
    assert sum(r["write_bytes"] for r in sums) == nw * 4096
    st = k.stats()
    assert st["types"]["biotop"]["events"] == nr + nw and st["consistent"] is True


def io_start_here():
    """Whether the kernel has block_io_start (6.5+): its name in the kernel's BTF, else in
    tracefs."""
    try:
        with open("/sys/kernel/btf/vmlinux", "rb") as f:
            return b"btf_trace_block_io_start\0" in f.read()
    except OSError:
        return any(os.path.isdir(t + "/events/block/block_io_start")
                   for t in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"))


def test_split_requests_keep_their_owner(loopdev):
    """64 KiB requests on a disk that takes 16 KiB at most: the kernel splits each bio into
    4 requests. Every part is the helper's; where the kernel has block_io_start each part
    was seen made (queuer), before 6.5 the parts after the first are the issuer's."""
    disk = os.path.basename(loopdev)
    path = "/sys/block/%s/queue/max_sectors_kb" % disk
    with open(path) as f:
        old = f.read().strip()
    h = Helper("bioio", loopdev, 4, 4, "65536")
    try:
        with open(path, "w") as f:
            f.write("16")
        k = Ksight(["biosnoop", "--json", "-d", disk])
        k.wait_ready()
        before = disk_stat(disk)
        h.go()
        assert h.readline().split() == ["done", "4", "4", str(4 << 16), str(4 << 16)]
        after = disk_stat(disk)
        assert k.stop() == 0, k.stderr
        h.result()
    finally:
        h.kill()
        with open(path, "w") as f:
            f.write(old)
    assert tuple(x - y for x, y in zip(after, before)) == (16, 4 << 16, 16, 4 << 16)
    recs = k.records("biosnoop")
    assert [(r["op"], r["bytes"], r["pid"]) for r in recs] == \
        [("R", 16384, h.pid)] * 16 + [("W", 16384, h.pid)] * 16
    assert [r["sector"] for r in recs] == [32 * i for i in range(32)]
    owners = [r["owner"] for r in recs]
    if io_start_here():
        assert owners == ["queuer"] * 32
    else:
        assert owners.count("queuer") >= 8


BUFFERED_FSYNC = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.lseek(fd, 4 << 20, os.SEEK_SET)
for i in range(256):
    os.write(fd, bytes([i]) * 4096)
os.fsync(fd)
os.close(fd)
"""


def test_merged_writes_keep_their_owner(loopdev):
    """256 buffered 4 KiB writes then fsync, with a scheduler: the caller writes its pages
    back itself, the bios merge into a few large requests that wait in the queue; every
    byte is the writer's, exactly as many as the disk counted."""
    disk = os.path.basename(loopdev)
    if "mq-deadline" not in scheduler(disk)[1]:
        pytest.skip("no mq-deadline scheduler for loop devices here")
    scheduler(disk, "mq-deadline")
    try:
        k = Ksight(["biotop", "--json", "-d", disk, "--top", "0"])
        k.wait_ready()
        before = disk_stat(disk)
        w = subprocess.Popen(["python3", "-c", BUFFERED_FSYNC, loopdev])
        assert w.wait(60 * SLOW) == 0
        after = disk_stat(disk)
        assert k.stop() == 0, k.stderr
    finally:
        scheduler(disk, "none")
    assert after[3] - before[3] == 1 << 20
    writes = [r for r in k.records("biotop") if r["op"] == "write"]
    assert [(r["pid"], r["bytes"]) for r in writes] == [(w.pid, 1 << 20)]
    (r,) = writes
    assert r["comm"] == "python3" and 1 <= r["ops"] < 256 and r["queue_ns"] > 0
