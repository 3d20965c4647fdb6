# SPDX-License-Identifier: GPL-2.0
"""ksight rw: every read/write call of a helper counted exactly, with the fd named right
(file path, pipe, TCP/UDP endpoints, unix paths, anonymous inodes), --summary totals, filters
and every hook family this kernel has."""
import collections
import json
import os
import subprocess
import time

import pytest

from conftest import SCALE, Helper, Ksight, attached_progs, run_ksight
from helpers.rwgen import RwGen

N_FILE, N_PIPE, N_NET = 100000 // SCALE, 50000 // SCALE, 10000 // SCALE
# room for every record even if the reader were never scheduled during the run
RING = ["--ringbuf-size", "32M"]


def trace(workdir, ksight_args, gen_args=(), sizes=(N_FILE, N_PIPE, N_NET), linger=0):
    """Run `ksight rw --json -p PID <args>` around one rwgen run, stopping it @linger
    seconds after rwgen exited; returns (ksight, gen)."""
    gen = RwGen(workdir, *sizes, args=gen_args)
    k = None
    try:
        k = Ksight(["rw", "--json", "-p", str(gen.pid)] + RING + list(ksight_args))
        k.wait_ready()
        gen.run()
        time.sleep(linger)
        assert k.stop() == 0, k.stderr
        return k, gen
    finally:
        gen.kill()
        if k and k.proc.poll() is None:
            k.stop()   # the helper failed: no tracer may outlive the test


def by_fd(k, pid):
    fds = collections.defaultdict(list)
    for r in k.records("rw"):
        assert r["pid"] == pid
        fds[r["fd"]].append(r)
    return fds


def check_calls(recs, call, n, req, ret, kind, timed=True):
    assert len(recs) == n
    assert {r["call"] for r in recs} == {call}
    assert {r["req"] for r in recs} == {req}
    assert {r["ret"] for r in recs} == {ret}
    assert sum(r["ret"] for r in recs) == n * ret
    assert {r["fd_kind"] for r in recs} == {kind}
    assert all("err" not in r for r in recs)
    if timed:
        assert all(r["lat_ns"] > 0 for r in recs)
    else:
        assert all("lat_ns" not in r for r in recs)


def check_no_loss(k):
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True
    assert k.stderr.splitlines()[-1] == "%d events, 0 lost" % st["events"]
    return st


@pytest.mark.parametrize("hooks", [None, "fentry", "tp_btf", "raw_tp", "tp"])
def test_every_call_exactly_once(workdir, hooks, kernel_hooks):
    kernel_hooks.require("rw", hooks)
    k, g = trace(workdir, ["--hooks", hooks] if hooks else [])
    fds = by_fd(k, g.pid)
    f = g.fds
    check_calls(fds[f["file"]], "write", N_FILE, 10, 10, "file")
    assert {r["path"] for r in fds[f["file"]]} == {workdir + "/data"}
    check_calls(fds[f["pipe_r"]], "read", N_PIPE, 2, 2, "pipe")
    check_calls(fds[f["pipe_w"]], "write", N_PIPE // 1000, 2000, 2000, "pipe")
    for side, call, peer in (("tcp_c", "sendto", "tcp_s"), ("tcp_s", "recvfrom", "tcp_c")):
        recs = fds[f[side]]
        check_calls(recs, call, N_NET, 10, 10, "socket")
        assert {(r["proto"], r["laddr"], r["raddr"]) for r in recs} == {
            ("tcp", g.addr(side), g.addr(peer))}
    for side, call, req, peer in (("udp_a", "sendto", 10, "udp_b"),
                                  ("udp_b", "recvfrom", 16, "udp_a")):
        recs = fds[f[side]]
        check_calls(recs, call, N_NET, req, 10, "socket")
        assert {(r["proto"], r["laddr"], r["raddr"]) for r in recs} == {
            ("udp", g.addr(side), g.addr(peer))}
    # beyond those: the helper's stdin ("go", in flight at attach) and its result line
    assert set(fds) - set(f.values()) <= {0, 1}
    assert all(r["comm"] == "rwgen" and r["tid"] == g.pid for r in k.records("rw"))
    st = check_no_loss(k)
    assert st["types"]["rw"]["events"] == sum(len(v) for v in fds.values())


@pytest.mark.parametrize("hooks", [None, "fentry", "tp_btf", "raw_tp", "tp"])
def test_no_latency_drops_the_entry_hook(workdir, hooks, kernel_hooks):
    kernel_hooks.require("rw", hooks)
    gen = RwGen(workdir, 1000, 1000, 100)
    try:
        k = Ksight(["rw", "--json", "--no-latency", "-p", str(gen.pid)] + RING +
                   (["--hooks", hooks] if hooks else []))
        k.wait_ready()
        progs = attached_progs(k.proc.pid)
        gen.run()
        assert k.stop() == 0, k.stderr
    finally:
        gen.kill()
    # no sys_enter (classic tracepoints keep it: their sys_exit has no registers) and no
    # fentry; calls seen at their return all the same
    assert any("sys_exit" in p or p.endswith("_fexit") for p in progs), progs
    assert not any(p.endswith("_fentry") for p in progs), progs
    assert any("sys_enter" in p for p in progs) == (hooks == "tp"), progs
    fds = by_fd(k, gen.pid)
    f = gen.fds
    check_calls(fds[f["file"]], "write", 1000, 10, 10, "file", timed=False)
    check_calls(fds[f["pipe_r"]], "read", 1000, 2, 2, "pipe", timed=False)
    check_calls(fds[f["tcp_s"]], "recvfrom", 100, 10, 10, "socket", timed=False)
    check_calls(fds[f["udp_a"]], "sendto", 100, 10, 10, "socket", timed=False)
    check_no_loss(k)


def test_no_latency_summary(workdir):
    k, g = trace(workdir, ["--summary", "--no-latency"], sizes=(1000, 1000, 100))
    rows = [r for r in k.records("rw_summary") if r["fd"] == g.fds["file"]]
    assert [(r["writes"], r["wbytes"]) for r in rows] == [(1000, 10000)]
    assert not any("lat_hist" in r or "lat_sum_ns" in r for r in k.records("rw_summary"))
    check_no_loss(k)


def test_fds_open_before_start_come_from_proc(workdir):
    k, g = trace(workdir, [], ["-e"], (100, 2000, 100))
    fds = by_fd(k, g.pid)
    f = g.fds
    assert {r["path"] for r in fds[f["file"]]} == {workdir + "/data"}
    assert {r["fd_kind"] for r in fds[f["pipe_r"]] + fds[f["pipe_w"]]} == {"pipe"}
    for side, peer, proto in (("tcp_c", "tcp_s", "tcp"), ("tcp_s", "tcp_c", "tcp"),
                              ("udp_a", "udp_b", "udp"), ("udp_b", "udp_a", "udp")):
        assert len(fds[f[side]]) == 100
        assert {(r["proto"], r["laddr"], r["raddr"]) for r in fds[f[side]]} == {
            (proto, g.addr(side), g.addr(peer))}
    check_no_loss(k)


@pytest.mark.parametrize("hooks", [None, "raw_tp", "tp"])
def test_every_call_and_fd_kind(workdir, hooks):
    k, g = trace(workdir, ["--hooks", hooks] if hooks else [], ["-a"], (1, 0, 1))
    fds = by_fd(k, g.pid)
    a, f = g.all, g.fds
    d = workdir
    # the file: every call of the family, then closed and its number reused
    x = [(r["call"], r["req"], r["ret"]) for r in fds[a["x"]]]
    assert x == [("pwrite64", 8, 8), ("writev", 9, 9), ("pwritev", 10, 10),
                 ("pwritev2", 4, 4), ("pread64", 8, 8), ("readv", 6, 6), ("preadv", 8, 8),
                 ("preadv2", 16, 4), ("writev", 16, 20), ("write", 1, 1)]
    assert [r["path"] for r in fds[a["x"]]] == [d + "/all"] * 9 + [d + "/other"]
    assert [r.get("req_partial", False) for r in fds[a["x"]]][8] is True
    tcp = [(r["call"], r["req"], r["ret"], r["proto"]) for r in fds[f["tcp_c"]]]
    assert tcp[1:] == [("sendfile", 20, 20, "tcp"), ("sendmsg", 10, 10, "tcp"),
                       ("splice", 12, 12, "tcp")]
    assert fds[f["tcp_c"]][1]["in_fd"] == a["x"]
    assert fds[f["tcp_c"]][3]["in_fd"] == g.copies["p1r"]
    tcp = [(r["call"], r["req"], r["ret"]) for r in fds[f["tcp_s"]]]
    assert tcp[1:] == [("recvfrom", 20, 20), ("recvmsg", 10, 10), ("recvfrom", 12, 12)]
    # the fd-to-fd copies: a write on the out fd, the in fd beside it
    c = g.copies
    for out, call, n, src, kind in (("copy", "copy_file_range", 30, "src", "file"),
                                    ("p1w", "splice", 12, "src", "pipe"),
                                    ("p2w", "tee", 12, "p1r", "pipe")):
        assert [(r["call"], r["req"], r["ret"], r["in_fd"], r["fd_kind"]) for r in fds[c[out]]] \
            == [(call, n, n, c[src], kind)]
    assert fds[c["copy"]][0]["path"] == d + "/copy"
    # 3 datagrams of 3, 4 and 5 bytes, received into 3 x 16 bytes
    mm = [(r["call"], r["req"], r["ret"], r["msgs"]) for r in fds[f["udp_a"]] + fds[f["udp_b"]]
          if "msgs" in r]
    assert mm == [("sendmmsg", 12, 12, 3), ("recvmmsg", 48, 12, 3)]
    assert [(r["call"], r["path"]) for r in fds[a["dup2"]]] == [("write", d + "/all")]
    assert [(r["call"], r["path"]) for r in fds[a["dupfd"]]] == [("write", d + "/all")]
    assert [(r["call"], r["fd_kind"], r["path"]) for r in fds[a["efd"]]] == [
        ("write", "anon", "[eventfd]"), ("read", "anon", "[eventfd]")]
    for fd, call in ((a["sp0"], "write"), (a["sp1"], "read")):
        assert [(r["call"], r["fd_kind"], r["proto"], r["ret"]) for r in fds[fd]] == [
            (call, "socket", "unix", 3)]
    (uc,) = fds[a["uc"]]
    assert (uc["proto"], uc.get("laddr"), uc["raddr"]) == ("unix", None, d + "/sock")
    (us,) = fds[a["us"]]
    assert (us["proto"], us["laddr"]) == ("unix", d + "/sock")
    assert [(r["fd_kind"], r["path"], r["ret"]) for r in fds[a["fifo"]]] == [
        ("pipe", d + "/fifo", 5)] * 2
    (bad,) = fds[999]
    assert (bad["err"], bad["errno"], bad["ret"], bad["fd_kind"]) == ("EBADF", 9, -9, "unknown")
    assert [r["path"] for r in fds[a["rel"]]] == [d + "/rel"]
    assert [r["path"] for r in fds[a["cwdrel"]]] == [d + "/cwdrel"]
    check_no_loss(k)


WRITE_CALLS = {"write", "pwrite64", "writev", "pwritev", "pwritev2", "sendto", "sendmsg",
               "sendfile", "splice", "tee", "copy_file_range", "sendmmsg"}


@pytest.mark.parametrize("hooks", [None, "raw_tp", "tp"])
def test_dispatcher_sums_equal_the_calls(workdir, hooks):
    """--summary --no-latency: the dispatcher itself sums every read and write per fd (no
    handler of rw's runs for them); the sums equal, fd by fd, what the per-call records of
    the same workload (every call of the family, errors included) add up to."""
    h = ["--hooks", hooks] if hooks else []
    runs = [os.path.join(workdir, d) for d in ("calls", "sums")]
    for d in runs:
        os.mkdir(d)
    k, g = trace(runs[0], h, ["-a"], (1, 0, 1))
    want = collections.defaultdict(collections.Counter)
    for r in k.records("rw"):
        side = "w" if r["call"] in WRITE_CALLS else "r"
        c = want[r["fd"]]
        c[side + "calls"] += 1
        if r["ret"] < 0:
            c["errors"] += 1
        else:
            c[side + "bytes"] += r["ret"]
    k, g2 = trace(runs[1], ["--summary", "--no-latency", "--top", "100"] + h, ["-a"], (1, 0, 1))
    got = collections.defaultdict(collections.Counter)
    for r in k.records("rw_summary"):
        assert r["pid"] == g2.pid and r["comm"] == "rwgen"
        got[r["fd"]].update({"rcalls": r["reads"], "wcalls": r["writes"], "rbytes": r["rbytes"],
                             "wbytes": r["wbytes"], "errors": r["errors"]})
    got = {fd: +c for fd, c in got.items()}
    assert got == dict(want) and len(want) > 10
    check_no_loss(k)


def test_fd_filter_in_kernel(workdir):
    k, g = trace(workdir, ["--fd", "3"], ["-e"], (1000, 2000, 100))
    assert g.fds["file"] == 3
    recs = k.records("rw")
    assert len(recs) == 1000 and {r["fd"] for r in recs} == {3}
    check_no_loss(k)


def summary_rows(k, pid):
    """Per fd, the rw_summary rows added up over every interval."""
    tot = collections.defaultdict(collections.Counter)
    names = {}
    for r in k.records("rw_summary"):
        assert r["pid"] == pid and r["comm"] == "rwgen"
        for key in ("reads", "writes", "rbytes", "wbytes", "errors"):
            tot[r["fd"]][key] += r[key]
        tot[r["fd"]]["timed"] += r["lat_hist"]["count"]
        names[r["fd"]] = (r["fd_kind"], r.get("path"), r.get("laddr"), r.get("raddr"))
    return tot, names


@pytest.mark.parametrize("interval", [[], ["1"]])
def test_summary_totals_exact(workdir, interval):
    # with an interval, the phases are spread over several reports, and a report after
    # rwgen's exit drops its rows from the kernel's table: the totals must not change
    k, g = trace(workdir, ["--summary"] + interval, ["-s", "700"] if interval else [],
                 linger=2.5 if interval else 0)
    tot, names = summary_rows(k, g.pid)
    f = g.fds

    def expect(fd, reads=0, writes=0, rbytes=0, wbytes=0):
        assert dict(tot[fd]) == {"reads": reads, "writes": writes, "rbytes": rbytes,
                                 "wbytes": wbytes, "errors": 0, "timed": reads + writes}

    expect(f["file"], writes=N_FILE, wbytes=10 * N_FILE)
    expect(f["pipe_r"], reads=N_PIPE, rbytes=2 * N_PIPE)
    expect(f["pipe_w"], writes=N_PIPE // 1000, wbytes=2 * N_PIPE)
    for w, r in (("tcp_c", "tcp_s"), ("udp_a", "udp_b")):
        expect(f[w], writes=N_NET, wbytes=10 * N_NET)
        expect(f[r], reads=N_NET, rbytes=10 * N_NET)
    assert names[f["file"]] == ("file", workdir + "/data", None, None)
    assert names[f["tcp_c"]] == ("socket", None, g.addr("tcp_c"), g.addr("tcp_s"))
    assert names[f["udp_b"]] == ("socket", None, g.addr("udp_b"), g.addr("udp_a"))
    assert not k.records("rw")
    st = check_no_loss(k)
    calls = sum(c["reads"] + c["writes"] for c in tot.values())
    assert st["types"]["rw_summary"]["events"] == calls
    reports = k.records("rw_interval")
    assert sum(r["calls"] for r in reports) == calls
    if interval:
        assert len([r for r in reports if r["calls"]]) >= 3
        # the last reports came after the exit: nothing left to show, nothing counted twice
        assert reports[-1]["calls"] == 0 and reports[-1]["fds"] == 0
        stats = k.records("stats")
        assert len(stats) == 1 and stats[0]["types"]["rw_summary"]["events"] == calls


def test_summary_table(workdir):
    g = RwGen(workdir, 1000, 0, 0)
    try:
        k = Ksight(["rw", "--summary", "-p", str(g.pid)])
        k.wait_ready()
        g.run()
        assert k.stop() == 0, k.stderr
    finally:
        g.kill()
    lines = k.out_lines
    assert lines[0].split()[:2] == ["rw", "calls"]
    assert lines[1].split() == ["PID", "COMM", "FD", "READS", "WRITES", "R_BYTES", "W_BYTES",
                                "ERRS", "AVG", "P99", "FD-KIND/NAME"]
    row = [ln.split() for ln in lines[2:] if ln.split()[2] == str(g.fds["file"])]
    assert row and row[0][:7] == [str(g.pid), "rwgen", str(g.fds["file"]), "0", "1000", "0",
                                  "10000"]
    assert row[0][-1] == "file:" + workdir + "/data"


@pytest.mark.parametrize("args,msg", [
    (["--fd", "-1"], "--fd"),
    (["1"], "interval only makes sense with --summary"),
    (["--summary", "--sort", "size"], "--sort"),
    (["--top", "0", "--summary"], "--top"),
    (["--summary", "--sort", "time", "--no-latency"], "--no-latency"),
])
def test_bad_input(args, msg):
    r = run_ksight(["rw"] + args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("rw", "fentry"):
        pytest.skip("this kernel allows fentry: test_every_call_exactly_once[fentry] runs")
    r = run_ksight(["rw", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "fentry" in r.stderr and "refused" in r.stderr


def clean(path):
    """No doubled slash, no "." component, no trailing slash except for "/" itself."""
    return "//" not in path and "/./" not in path and not path.endswith("/.") and (
        path == "/" or not path.endswith("/"))


def test_paths_clean_with_gzip(workdir):
    """gzip opens "DIR/" and then its files relative to that directory fd: rw names them
    DIR/f and DIR/f.gz, with every byte read and written on the right one."""
    d = os.path.join(workdir, "gz")
    os.mkdir(d)
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and 4 bytes
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(data)
    k = Ksight(["rw", "--json", "-n", "gzip"] + RING)
    try:
        k.wait_ready()
        gz = subprocess.Popen(["gzip", os.path.join(d, "f")], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = gz.communicate(timeout=60)
        assert gz.returncode == 0, err
    finally:
        assert k.stop() == 0, k.stderr
    recs = [r for r in k.records("rw") if r["pid"] == gz.pid]
    paths = {r["path"] for r in recs if "path" in r}
    assert all(clean(p) for p in paths), paths
    got = {}
    for r in recs:
        if r.get("path") in (d + "/f", d + "/f.gz") and r["ret"] > 0:
            got.setdefault((r["call"], r["path"]), 0)
            got[(r["call"], r["path"])] += r["ret"]
    assert got == {("read", d + "/f"): len(data),
                   ("write", d + "/f.gz"): os.path.getsize(os.path.join(d, "f.gz"))}
    check_no_loss(k)
