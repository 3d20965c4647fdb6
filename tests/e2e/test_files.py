# SPDX-License-Identifier: GPL-2.0
"""ksight files: each change of a known sequence exactly once, with the right process,
absolute path and escaped names; closes by dup2, close_range, exec and exit; --summary
totals and interval deltas; failures only with -x; bad input."""
import collections
import os
import subprocess
import sys
import time

import pytest

from conftest import Helper, Ksight, run_ksight

N, K = 10000, 7
N1, N2, N3, N4, D = b"new file\n\xff", b"re named \xfe", b"hard\tlink", b"sym link", b"d\nir"


def utf8_len(b):
    """Length of the valid UTF-8 sequence at b[0] as ksight accepts it (no C1), or 0."""
    lead = b[0]
    n = 2 if 0xc2 <= lead <= 0xdf else 3 if 0xe0 <= lead <= 0xef else 4 if 0xf0 <= lead <= 0xf4 else 0
    if not n or len(b) < n:
        return 0
    try:
        ch = b[:n].decode("utf-8")
    except UnicodeDecodeError:
        return 0
    return 0 if 0x80 <= ord(ch) <= 0x9f else n


def display(b):
    """The display form of kernel bytes (src/sink/escape.h), as a str."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        if 0x20 <= c < 0x7f:
            out.append("\\\\" if c == 0x5c else chr(c))
            i += 1
            continue
        n = utf8_len(b[i:]) if c >= 0x80 else 0
        if n:
            out.append(b[i:i + n].decode("utf-8"))
            i += n
            continue
        out.append({0x0a: "\\n", 0x09: "\\t", 0x0d: "\\r"}.get(c, "\\x%02x" % c))
        i += 1
    return "".join(out)


def run_fileops(workdir, mode, helper_args, ksight_args, pid_filter=False):
    """`ksight files <args>` around one fileops helper; returns (ksight, pid, result)."""
    h = Helper("fileops", mode, workdir, *helper_args)
    try:
        args = ["files"] + list(ksight_args) + (["-p", str(h.pid)] if pid_filter else [])
        k = Ksight(args)
        k.wait_ready()
        h.go()
        res = h.result()
        assert k.stop() == 0, k.stderr
        return k, h.pid, res
    finally:
        h.kill()


def exact(b):
    """Kernel bytes as JSON carries them once decoded: the text itself, with each byte that
    is not UTF-8 as a lone surrogate (PEP 383), which os.fsencode turns back into bytes."""
    return os.fsdecode(b)


def under(recs, w):
    prefix = exact(w.encode()) + "/"
    return [r for r in recs if r["path"].startswith(prefix)]


def expected_seq(w, chmod2="fchmodat2"):
    """(event, path, fields) of `fileops seq`, in order, as JSON gives them."""
    p = lambda name: exact(w.encode() + b"/" + name)
    each = N // K
    return [
        ("create", p(N1), {"mode": 0o640, "ftype": "file", "syscall": "openat",
                           "path_arg": exact(N1)}),
        ("write", p(N1), {"bytes": each}),
        ("close", p(N1), {"bytes": N, "writes": K, "why": "close"}),
        ("rename", p(N1), {"new_path": p(N2), "path_arg": exact(N1),
                           "new_path_arg": exact(N2), "syscall": "renameat"}),
        ("chmod", p(N2), {"mode": 0o600, "syscall": "fchmodat", "dirfd": 3}),
        ("chmod", p(N2), {"mode": 0o640, "syscall": chmod2}),
        ("chown", p(N2), {"uid": 1234, "gid": 5678, "syscall": "chown"}),
        ("truncate", p(N2), {"size": 7, "syscall": "ftruncate"}),
        ("link", p(N2), {"new_path": p(N3), "syscall": "linkat"}),
        ("symlink", p(N4), {"target": exact(N2), "syscall": "symlinkat"}),
        ("mkdir", p(D), {"mode": 0o750, "syscall": "mkdir"}),
        ("rmdir", p(D), {"syscall": "rmdir"}),
        ("unlink", p(N2), {"syscall": "unlink"}),
        ("unlink", p(N3), {"syscall": "unlinkat"}),
        ("unlink", p(N4), {"syscall": "unlink", "path_arg": exact(w.encode() + b"/" + N4)}),
    ]


def fentry_refused():
    r = run_ksight(["status"])
    return "BPF trampolines not allowed" in r.stdout or "fentry" not in r.stdout


@pytest.mark.parametrize("hooks", [None, "tp_btf", "raw_tp", "tp", "fentry"])
def test_sequence_exactly_once(workdir, hooks):
    if hooks == "fentry" and fentry_refused():
        pytest.skip("this kernel refuses fentry (see test_fentry_refused_here)")
    w = os.path.realpath(workdir)
    k, pid, res = run_fileops(w, "seq", [N, K],
                              ["--json"] + (["--hooks", hooks] if hooks else []))
    assert res[0] == "done"
    recs = under(k.records("files"), w)
    exp = expected_seq(w, res[1])
    assert [(r["event"], r["path"]) for r in recs] == [(e, p) for e, p, _ in exp]
    for r, (event, path, fields) in zip(recs, exp):
        assert r["pid"] == pid and r["tid"] == pid and r["comm"] == "fileops", r
        assert r["path_truncated"] is False
        assert "err" not in r
        for key, val in fields.items():
            assert r[key] == val, (event, key, r)
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True


@pytest.mark.parametrize("depth,name_len", [(20, 90), (30, 200)])
def test_walked_directory_whole_or_its_leaf_side(workdir, depth, name_len):
    """A file made relative to the cwd, deep down: the cwd is walked in the kernel. Within
    2048 bytes the path is whole and exact; past it (30 x 201 bytes) its leaf side is kept,
    `...` before it and path_truncated set, and never a wrong byte."""
    w = os.path.realpath(workdir)
    d, fd = w, os.open(w, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(depth):
        # step by step, by fd: past PATH_MAX no path names it
        name = ("%02d" % i) + "d" * (name_len - 2)
        os.mkdir(name, dir_fd=fd)
        fd2 = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd, d = fd2, os.path.join(d, name)
    script = "import os, sys; os.fchdir(int(sys.argv[1])); sys.stdin.readline(); " \
             "os.close(os.open('leaf.txt', os.O_CREAT | os.O_WRONLY, 0o600))"
    p = subprocess.Popen([sys.executable, "-c", script, str(fd)], stdin=subprocess.PIPE,
                         pass_fds=(fd,))
    os.close(fd)
    try:
        k = Ksight(["files", "--json", "-p", str(p.pid)])
        k.wait_ready()
        p.stdin.write(b"go\n")
        p.stdin.flush()
        assert p.wait(timeout=30) == 0
        assert k.stop() == 0, k.stderr
    finally:
        p.kill()
    creates = [r for r in k.records("files") if r["event"] == "create"]
    assert len(creates) == 1, k.records("files")
    r, full = creates[0], os.path.join(d, "leaf.txt")
    if len(d) < 2048:
        assert (r["path"], r["path_truncated"]) == (full, False), r
    else:
        assert r["path_truncated"] is True and r["path"].startswith("..."), r
        tail = r["path"][3:]
        # whole components of the leaf side, as many as fit
        assert full.endswith(tail) and tail.startswith("/") and 1024 < len(tail) <= 2048, r


def test_table_escapes_names(workdir):
    w = os.path.realpath(workdir)
    k, pid, _ = run_fileops(w, "seq", [N, K], [], pid_filter=True)
    rows = [line for line in k.out_lines if line.split()[:1] == [str(pid)]]
    assert k.out_lines[0].split() == ["PID", "COMM", "EVENT", "PATH", "DETAIL"]
    assert len(rows) == len(expected_seq(w))
    for line in k.out_lines:
        assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or 0xdc80 <= ord(c) <= 0xdcff
                       for c in line), repr(line)
    assert rows[0].split()[2] == "create" and rows[0].endswith(
        display(w.encode() + b"/" + N1) + " mode 0640")
    assert rows[3].endswith(display(w.encode() + b"/" + N1) + " -> " +
                            display(w.encode() + b"/" + N2))
    assert rows[2].endswith("%d bytes in %d writes" % (N, K))


@pytest.mark.parametrize("hooks", [None, "raw_tp", "tp"])
def test_implicit_closes(workdir, hooks):
    w = os.path.realpath(workdir)
    k, pid, res = run_fileops(w, "closes", [],
                              ["--json"] + (["--hooks", hooks] if hooks else []),
                              pid_filter=True)
    assert res == ["done"]
    got = [(r["event"], os.path.basename(r["path"]), r.get("bytes"), r.get("writes"),
            r.get("why")) for r in k.records("files")]
    assert got == [
        ("create", "a", None, None, None), ("write", "a", 10, None, None),
        ("close", "a", 10, 1, "dup2"),
        ("create", "b", None, None, None), ("write", "b", 10, None, None),
        ("create", "c", None, None, None), ("write", "c", 10, None, None),
        ("create", "d", None, None, None), ("write", "d", 10, None, None),
        ("close", "b", 20, 2, "exec"), ("close", "d", 40, 4, "close_range"),
        ("close", "c", 30, 3, "exit"),
    ]
    assert all(r["pid"] == pid for r in k.records("files"))
    assert k.stats()["lost"] == 0


def test_agent_summary_counts(workdir):
    """The agent streams the same records with --json and sums them per event."""
    w = os.path.realpath(workdir)
    h = Helper("fileops", "seq", w, N, K)
    try:
        k = Ksight(["run", "--json", "-p", str(h.pid), "1"])
        k.wait_ready()
        h.go()
        assert h.result()[0] == "done"
        time.sleep(2.5)    # an interval after the last change
        assert k.stop() == 0, k.stderr
    finally:
        h.kill()
    total = collections.Counter()
    for r in k.records("summary"):
        if r.get("module") == "files":
            total.update({key: val for key, val in r.items() if isinstance(val, int)})
    want = collections.Counter(e for e, _, _ in expected_seq(w))
    assert {key: total[key] for key in want} == dict(want)
    assert len(under(k.records("files"), w)) == sum(want.values())
    # top paths longer than the table's 47-byte key keep their end behind "..."
    assert len(w) > 47, w
    tops = [path for r in k.records("summary") if r.get("module") == "files"
            for path in r.get("top", {})]
    assert tops and all(t.startswith("...") for t in tops), tops


@pytest.mark.parametrize("failed", [False, True])
def test_failures_only_with_x(workdir, failed):
    k, pid, res = run_fileops(workdir, "fail", [], ["--json"] + (["-x"] if failed else []),
                              pid_filter=True)
    recs = k.records("files")
    if not failed:
        assert recs == []
        return
    assert [(r["event"], r["syscall"], r["err"], r["errno"]) for r in recs] == [
        ("unlink", "unlink", "ENOENT", 2), ("rename", "rename", "ENOENT", 2),
        ("rmdir", "rmdir", "ENOENT", 2), ("chmod", "chmod", "ENOENT", 2)]
    assert {r["path"] for r in recs} == {os.path.realpath(workdir) + "/missing"}


def io_rows(k, w):
    return [r for r in k.records("files_top") if r["path"] == w + "/io"]


@pytest.mark.parametrize("hooks", [None, "raw_tp", "tp"])
def test_summary_totals_exact(workdir, hooks):
    w = os.path.realpath(workdir)
    n, kw, m, j = 1000000, 100, 300000, 30
    k, pid, _ = run_fileops(w, "io", [n, kw, m, j],
                            ["-s", "--json"] + (["--hooks", hooks] if hooks else []),
                            pid_filter=True)
    rows = io_rows(k, w)
    assert len(rows) == 1
    r = rows[0]
    assert (r["pid"], r["comm"], r["ftype"]) == (pid, "fileops", "R")
    assert (r["writes"], r["wbytes"], r["reads"], r["rbytes"]) == (kw, n, j, m)
    assert k.stats()["types"]["files_top"]["events"] == kw + j + sum(
        x["reads"] + x["writes"] for x in k.records("files_top") if x["path"] != w + "/io")


def test_summary_interval_deltas(workdir):
    w = os.path.realpath(workdir)
    k, pid, _ = run_fileops(w, "io", [5000, 5, 3000, 3, 1600], ["-s", "--json", "1"],
                            pid_filter=True)
    rows = io_rows(k, w)
    assert len(rows) >= 2
    assert sum(r["writes"] for r in rows) == 5 and sum(r["wbytes"] for r in rows) == 5000
    assert sum(r["reads"] for r in rows) == 3 and sum(r["rbytes"] for r in rows) == 3000
    # the pause puts the writes and the reads in different intervals
    assert any(r["writes"] == 5 and r["reads"] == 0 for r in rows)
    assert any(r["reads"] == 3 and r["writes"] == 0 for r in rows)


@pytest.mark.parametrize("args,word", [
    (["1"], "interval"),
    (["--sort", "bogus"], "--sort"),
    (["--top", "5"], "--top"),
    (["-a"], "-a"),
    (["-s", "-x"], "-x"),
    (["-s", "--no-writes"], "--no-writes"),
    (["-s", "--top", "0"], "--top"),
])
def test_bad_input(args, word):
    r = run_ksight(["files"] + args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and word in r.stderr, r.stderr


def test_fentry_refused_here():
    """Where trampolines are refused (this machine), one line says so; elsewhere the
    fexit programs run (test_sequence_exactly_once[fentry] checks their records)."""
    r = run_ksight(["files", "--hooks", "fentry", "--duration", "1"], timeout=300)
    if r.returncode == 0:
        pytest.skip("this kernel allows fentry")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "fentry" in r.stderr and "refused" in r.stderr
