# SPDX-License-Identifier: GPL-2.0
"""ksight rw and io_uring: every request of a liburing helper (tests/e2e/helpers/uringio.c)
seen once at its completion, with its opcode, exact bytes (each checked by the helper
against its completion and, for the file, the file's size on disk), the fd named as for
syscalls (fixed files too, by the fd of the same inode), the submitter as owner, and the
same bytes in --summary and the agent's sums."""
import collections
import os
import time

import pytest

from conftest import SCALE, Helper, Ksight, run_ksight
from kstatus import KernelHooks

N = max(2, (200 // SCALE) & ~1)     # even: half the requests through fixed files
RING = ["--ringbuf-size", "32M"]
SLOTS = ("see io_uring I/O", "see io_uring (sqe tp)")


class UringIO:
    """uringio [-e] [-q] DIR N: .fds (file, tcp_c, tcp_s) and .ports once run() returned."""

    def __init__(self, workdir, n, args=()):
        self.workdir, self.n = workdir, n
        self.h = Helper("uringio", *args, workdir, n)
        self.pid = self.h.pid

    def run(self, timeout=300):
        self.h.go()
        words = self.h.result(timeout)
        assert words[-1] == "done", words
        i = words.index("fds") + 1
        self.fds = dict(zip(("file", "tcp_c", "tcp_s"), map(int, words[i:i + 3])))
        i = words.index("ports") + 1
        self.ports = dict(zip(("tcp_c", "tcp_s"), map(int, words[i:i + 2])))
        # the reference for the file: what is on disk
        assert os.path.getsize(os.path.join(self.workdir, "data")) == 100 * self.n
        return self

    def addr(self, side):
        return "127.0.0.1:%d" % self.ports[side]

    def kill(self):
        self.h.kill()


def uring_slot(kernel_hooks):
    """The io_uring slot rw uses on this kernel and its family; skip where it has none."""
    for s in SLOTS:
        fam = kernel_hooks.chosen.get(("rw", s))
        if fam is not None:
            if fam == "absent-optional":
                pytest.skip("this kernel has no io_uring tracepoints")
            return s, fam
    raise AssertionError("rw has no io_uring slot:\n" + kernel_hooks.text)


def trace(workdir, ksight_args, n=N, gen_args=()):
    g = UringIO(workdir, n, gen_args)
    k = None
    try:
        k = Ksight(["rw", "--json", "-p", str(g.pid)] + RING + list(ksight_args))
        k.wait_ready()
        g.run()
        assert k.stop() == 0, k.stderr
        return k, g
    finally:
        g.kill()
        if k and k.proc.poll() is None:
            k.stop()


def uring_records(k, pid):
    recs = [r for r in k.records("rw") if r.get("io_uring")]
    assert all(r["pid"] == pid and r["comm"].startswith(("uringio", "iou-")) for r in recs)
    return recs


def check_requests(recs, g, timed=True, fixed_index=True):
    n, f, wd = g.n, g.fds, g.workdir
    by_call = collections.defaultdict(list)
    for r in recs:
        by_call[r["call"]].append(r)
    assert sorted(by_call) == ["io_uring:fsync", "io_uring:nop", "io_uring:read",
                               "io_uring:recv", "io_uring:send", "io_uring:write"], by_call
    for call, fd, size in (("io_uring:write", "file", 100), ("io_uring:read", "file", 100),
                           ("io_uring:send", "tcp_c", 50), ("io_uring:recv", "tcp_s", 50)):
        rs = sorted(by_call[call], key=lambda r: r["user_data"])
        assert len(rs) == n, (call, rs)
        # every request named by its fd, fixed ones (the odd-numbered) by the same inode's
        assert [r["ret"] for r in rs] == [size] * n
        assert {r["fd"] for r in rs} == {f[fd]}, rs
        assert [r.get("fixed", False) for r in rs] == [bool(i & 1) for i in range(n)]
        if fixed_index:
            index = {"file": 0, "tcp_c": 1, "tcp_s": 2}[fd]
            assert {r["fixed_index"] for r in rs if r.get("fixed")} == {index}
        if fd == "file":
            assert {(r["fd_kind"], r["path"]) for r in rs} == {("file", wd + "/data")}
        else:
            peer = "tcp_s" if fd == "tcp_c" else "tcp_c"
            assert {(r["fd_kind"], r["proto"], r["laddr"], r["raddr"]) for r in rs} == {
                ("socket", "tcp", g.addr(fd), g.addr(peer))}
        assert all("err" not in r for r in rs)
        if timed:
            assert all(r["lat_ns"] > 0 for r in rs)
        else:
            assert all("lat_ns" not in r for r in rs)
    (nop,) = by_call["io_uring:nop"]
    (fsync,) = by_call["io_uring:fsync"]
    assert (nop["ret"], nop["fd"], fsync["ret"], fsync["fd"]) == (0, -1, 0, f["file"])
    # user_data: the helper numbers its requests 1, 2, ... in submission order
    assert sorted(r["user_data"] for r in recs) == list(range(1, 4 * n + 3))


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", [None, "tp_btf", "raw_tp"])
def test_requests_exactly_once(workdir, hooks, kernel_hooks):
    uring_slot(kernel_hooks)
    kernel_hooks.require("rw", hooks)
    k, g = trace(workdir, ["--hooks", hooks] if hooks else [])
    recs = uring_records(k, g.pid)
    # 5.10's request keeps no fd: a fixed file's index is not known there
    check_requests(recs, g, fixed_index=not os.uname().release.startswith("5."))
    assert all(r["tid"] == g.pid for r in recs)
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True
    assert st["types"]["rw_uring"]["events"] == len(recs) == 4 * N + 2


def test_fds_open_before_start(workdir):
    """The fds came from /proc (opened before ksight started): fixed files are found by
    the inode /proc gives."""
    k, g = trace(workdir, ["--no-latency"], gen_args=["-e"])
    check_requests(uring_records(k, g.pid), g, timed=False)


def test_sqpoll_owner_is_the_process(workdir, kernel_hooks):
    """With SQPOLL the kernel's thread submits: the records are the process's all the same."""
    uring_slot(kernel_hooks)
    k, g = trace(workdir, [], gen_args=["-q"])
    recs = uring_records(k, g.pid)
    check_requests(recs, g)


def test_summary_rows(workdir):
    """--summary counts the requests' bytes on their fds in the kernel; the fixed-file ones
    on their own row."""
    for args in ([], ["--no-latency"]):
        k, g = trace(workdir, ["--summary"] + args)
        rows = collections.defaultdict(lambda: collections.Counter())
        for r in k.records("rw_summary"):
            assert r["pid"] == g.pid
            rows[r["fd"]].update({key: r[key] for key in ("reads", "writes", "rbytes",
                                                          "wbytes", "errors")})
        f, h = g.fds, N // 2
        assert rows[f["file"]] == collections.Counter(
            {"reads": h, "writes": h, "rbytes": 100 * h, "wbytes": 100 * h})
        assert rows[f["tcp_c"]] == collections.Counter({"writes": h, "wbytes": 50 * h})
        assert rows[f["tcp_s"]] == collections.Counter({"reads": h, "rbytes": 50 * h})
        assert rows[-2] == collections.Counter(
            {"reads": 2 * h, "writes": 2 * h, "rbytes": 150 * h, "wbytes": 150 * h})
        # every request by opcode, those without bytes too
        ops = collections.Counter()
        for r in k.records("rw_uring_ops"):
            ops.update({key: v for key, v in r.items() if key not in ("type", "ts")})
        assert ops == collections.Counter({"read": N, "write": N, "send": N, "recv": N,
                                           "nop": 1, "fsync": 1}), ops
        st = k.stats()
        assert st["lost"] == 0 and st["consistent"] is True


def test_agent_sums_include_io_uring(workdir, kernel_hooks):
    """The agent's rw sums: the helper's io_uring bytes, its read of "go", its one write
    of the result lines and its last read (end of file), exactly."""
    uring_slot(kernel_hooks)
    g = UringIO(workdir, N)
    k = Ksight(["run", "--json", "--modules", "rw", "-p", str(g.pid), "1"])
    try:
        k.wait_ready()
        g.run()
        time.sleep(0.2)
        assert k.stop() == 0, k.stderr
    finally:
        g.kill()
        k.stop()
    sums = [r for r in k.records("summary") if r["module"] == "rw"]
    got = [sum(r[key] for r in sums) for key in ("calls", "read_bytes", "write_bytes")]
    assert got == [4 * N + 3, 150 * N + len("go\n"), 150 * N + len(g.h.out.encode())]


def test_status_shows_the_slot(kernel_hooks):
    """`ksight status` lists rw's io_uring slot: a tracepoint family where the kernel has
    io_uring's tracepoints, absent-optional where it has none (rw runs all the same)."""
    slot, fam = uring_slot(kernel_hooks)
    assert fam in ("tp_btf", "raw_tp"), kernel_hooks.text
    have = os.path.isdir("/sys/kernel/tracing/events/io_uring")
    if have:
        new = os.path.isdir("/sys/kernel/tracing/events/io_uring/io_uring_submit_req")
        assert slot == SLOTS[0 if new else 1], kernel_hooks.text
    assert "rw" not in kernel_hooks.failed


def absent_env():
    env = dict(os.environ)
    env["KSIGHT_TEST_ABSENT"] = "io_uring_submit_req,io_uring_submit_sqe,io_uring_complete"
    return env


ABSENT = "ksight rw: io_uring tracepoints absent: rw does not see io_uring I/O"


def test_without_io_uring_tracepoints_rw_runs(workdir):
    """A kernel without io_uring's tracepoints (KSIGHT_TEST_ABSENT, a test-only switch of
    the probe): rw says so in one line, loads none of its io_uring programs and sees the
    calls all the same."""
    g = UringIO(workdir, N)
    k = Ksight(["rw", "--json", "-p", str(g.pid)] + RING, env=absent_env())
    try:
        k.wait_ready()
        g.run()
        assert k.stop() == 0, k.stderr
    finally:
        g.kill()
        k.stop()
    assert k.err_lines.count(ABSENT) == 1, k.stderr
    recs = k.records("rw")
    assert not [r for r in recs if r.get("io_uring")]
    # the syscalls: "go" read from stdin, the result lines written, the last read (EOF)
    calls = sorted((r["call"], r["fd"], r["ret"]) for r in recs if r["fd"] in (0, 1))
    assert calls == sorted([("read", 0, 3), ("write", 1, len(g.h.out.encode())),
                            ("read", 0, 0)]), calls


def test_without_io_uring_tracepoints_status_and_agent():
    r = run_ksight(["status"], env=absent_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    hooks = KernelHooks(r.stdout)
    slot = [s for (m, s) in hooks.optional_absent if m == "rw"]
    assert len(slot) == 1 and slot[0] in SLOTS, r.stdout
    assert hooks.chosen[("rw", slot[0])] == "absent-optional"
    assert "rw" not in hooks.failed and ABSENT not in r.stderr
    assert "absent-optional (io_uring tracepoints absent: rw does not see io_uring I/O)" \
        in r.stdout
    k = Ksight(["run", "--modules", "rw", "--duration", "1"], env=absent_env())
    k.wait_ready()
    assert k.wait() == 0, k.stderr
    assert ABSENT.replace("ksight rw:", "ksight run:") in k.err_lines, k.stderr
