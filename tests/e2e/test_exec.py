# SPDX-License-Identifier: GPL-2.0
"""ksight exec: every exec exactly once with its parent and argv, failed execs with their
errno, exits with code, signal and lifetime; filters on every hook family."""
import os

import pytest

from conftest import Helper, Ksight, TEST_UID, helper_path, run_ksight

HOOKS = ["tp_btf", "raw_tp", "tp"]
TRUE = "/usr/bin/true"


def trace(helpers, args):
    """Run `ksight exec --json <args>` around started helpers; returns ksight."""
    try:
        k = Ksight(["exec", "--json"] + args)
        k.wait_ready()
        for h in helpers:
            h.go()
        for h in helpers:
            h.result()
        assert k.stop() == 0, k.stderr
        return k
    finally:
        for h in helpers:
            h.kill()


def of(k, pid, event=None):
    """Records about @pid (exec, fail, exit), in order."""
    return [r for r in k.records() if r["type"] in ("exec", "exit") and r["pid"] == pid
            and (event is None or r["event"] == event)]


def child_of(h):
    """The 'child PID ERRNO STATUS' line of an execer run with -f, -e or -k."""
    words = h.out.split()
    assert words[0] == "child", h.out
    return int(words[1]), int(words[2]), int(words[3])


@pytest.mark.parametrize("hooks", [None, "fentry"] + HOOKS)
def test_fork_exec_chain(hooks, kernel_hooks):
    kernel_hooks.require("exec", hooks)
    depth = 5
    h = Helper("chain", depth)
    k = trace([h], ["--hooks", hooks] if hooks else [])
    self_path = os.path.realpath(helper_path("chain"))
    levels = {}
    for line in h.out.splitlines():
        if line.startswith("level "):
            _, lvl, pid, ppid = line.split()
            levels[int(lvl)] = (int(pid), int(ppid))
    assert sorted(levels) == list(range(depth)) and h.out.splitlines()[-1] == "done"
    parent = h.pid
    for lvl in reversed(range(depth)):
        pid, ppid = levels[lvl]
        assert ppid == parent
        recs = of(k, pid)
        assert [r["event"] for r in recs] == ["exec", "exit"], recs
        ex, ext = recs
        assert ex["ppid"] == parent and ex["uid"] == 0 and ex["ret"] == 0
        assert ex["filename"] == self_path and ex["comm"] == "chain" and ex["tid"] == pid
        assert ex["args"] == [self_path, "-l", str(lvl), "level %d has spaces" % lvl]
        assert ex["args_truncated"] is False
        assert ext["ppid"] == parent and ext["comm"] == "chain"
        assert (ext["exit_code"], ext["signal"], ext["ret"]) == (10 + lvl, 0, 10 + lvl)
        assert ext["core_dumped"] is False and ext["lifetime_ns"] > 0
        assert ext["ts"] >= ex["ts"]
        parent = pid
    # the first process did not exec while traced; it exits 0 after the chain
    assert [(r["event"], r["exit_code"]) for r in of(k, h.pid)] == [("exit", 0)]
    st = k.stats()
    assert st["consistent"] is True and st["lost"] == 0


def test_long_argv_is_cut_at_20():
    args = ["true"] + ["a%d" % i for i in range(1, 30)]
    h = Helper("execer", "-f", TRUE, *args)
    k = trace([h], [])
    pid, err, status = child_of(h)
    assert (err, status) == (0, 0)
    (ex,) = of(k, pid, "exec")
    assert ex["filename"] == TRUE and ex["ppid"] == h.pid
    assert ex["args"] == args[:20] and ex["args_truncated"] is True


def test_huge_argument_is_cut():
    big = "X" * 5000
    h = Helper("execer", "-F", "/nonexistent/ks-e2e", "-f", TRUE, "true", big, "after")
    k = trace([h], [])
    pid, err, status = child_of(h)
    assert (err, status) == (0, 0)
    fail, ex = of(k, pid, "fail"), of(k, pid, "exec")
    assert len(fail) == 1 and len(ex) == 1
    for r in fail + ex:
        assert r["args_truncated"] is True
        assert r["args"][0] == "true" and 0 < len(r["args"][1]) < len(big)
        assert r["args"][1] == "X" * len(r["args"][1])


def test_failed_exec_enoent():
    path = "/nonexistent/ks-e2e-missing"
    h = Helper("execer", "-f", path, "prog", "arg one", "two")
    k = trace([h], [])
    pid, err, status = child_of(h)
    assert err == 2 and os.WEXITSTATUS(status) == 127
    recs = of(k, pid)
    assert [r["event"] for r in recs] == ["fail", "exit"]
    f = recs[0]
    assert (f["err"], f["ret"], f["filename"]) == ("ENOENT", -2, path)
    assert f["args"] == ["prog", "arg one", "two"] and f["args_truncated"] is False
    assert f["ppid"] == h.pid and f["comm"] == "execer" and f["uid"] == 0
    assert recs[1]["exit_code"] == 127


def test_failed_exec_eacces(tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o644)
    h = Helper("execer", "-f", str(script), "not-executable")
    k = trace([h], [])
    pid, err, _ = child_of(h)
    assert err == 13
    (f,) = of(k, pid, "fail")
    assert (f["err"], f["ret"], f["filename"]) == ("EACCES", -13, str(script))
    assert f["args"] == ["not-executable"]


def test_exit_code_and_signal():
    a, b = Helper("execer", "-e", 7), Helper("execer", "-k")
    k = trace([a, b], [])
    pid_a, _, st_a = child_of(a)
    pid_b, _, st_b = child_of(b)
    assert os.WEXITSTATUS(st_a) == 7 and os.WTERMSIG(st_b) == 9
    (ea,) = of(k, pid_a, "exit")
    (eb,) = of(k, pid_b, "exit")
    assert (ea["exit_code"], ea["signal"], ea["ret"], ea["ppid"]) == (7, 0, 7, a.pid)
    assert (eb["exit_code"], eb["signal"], eb["ret"], eb["ppid"]) == (0, 9, 128 + 9, b.pid)
    assert ea["lifetime_ns"] > 0 and eb["lifetime_ns"] > 0
    assert "SIGKILL" in eb["detail"] or "KILL" in eb["detail"]


def exec_then_true(*pre, tag):
    """An execer that fails one exec, then execs true in the same process."""
    return Helper("execer", *pre, "-F", "/nonexistent/ks-e2e", TRUE, "true", tag)


def assert_fail_exec_exit(k, pid, tag, uid=0):
    recs = of(k, pid)
    assert [r["event"] for r in recs] == ["fail", "exec", "exit"], recs
    f, e, x = recs
    assert (f["err"], f["filename"], f["args"]) == ("ENOENT", "/nonexistent/ks-e2e", ["true", tag])
    assert (e["filename"], e["args"], e["comm"]) == (TRUE, ["true", tag], "true")
    assert (x["exit_code"], x["comm"]) == (0, "true")
    assert {r["uid"] for r in recs} == {uid}


@pytest.mark.parametrize("hooks", ["fentry"] + HOOKS)
def test_failed_only(hooks, kernel_hooks):
    kernel_hooks.require("exec", hooks)
    h = exec_then_true(tag="x-only")
    k = trace([h], ["-x", "-p", str(h.pid), "--hooks", hooks])
    recs = [r for r in k.records() if r["type"] in ("exec", "exit")]
    assert len(recs) == 1 and recs[0]["event"] == "fail" and recs[0]["pid"] == h.pid
    assert (recs[0]["err"], recs[0]["args"]) == ("ENOENT", ["true", "x-only"])
    st = k.stats()
    assert st["types"]["exec_failed"]["events"] == 1 and st["consistent"] is True


@pytest.mark.parametrize("hooks", HOOKS)
def test_pid_filter(hooks):
    a, b = exec_then_true(tag="a"), exec_then_true(tag="b")
    k = trace([a, b], ["-p", str(a.pid), "--hooks", hooks])
    assert_fail_exec_exit(k, a.pid, "a")
    assert {r["pid"] for r in k.records() if r["type"] in ("exec", "exit")} == {a.pid}


@pytest.mark.parametrize("hooks", HOOKS)
def test_uid_filter(hooks):
    a, b = exec_then_true("-u", TEST_UID, tag="a"), exec_then_true(tag="b")
    k = trace([a, b], ["-u", str(TEST_UID), "--hooks", hooks])
    assert_fail_exec_exit(k, a.pid, "a", uid=TEST_UID)
    assert {r["pid"] for r in k.records() if r["type"] in ("exec", "exit")} == {a.pid}


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("exec", "fentry"):
        pytest.skip("this kernel allows fentry: test_failed_only[fentry] runs")
    r = run_ksight(["exec", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "fentry" in r.stderr


def test_max_args_and_no_exits():
    h = exec_then_true(tag="t1")
    k = trace([h], ["-p", str(h.pid), "--max-args", "1", "--no-exits"])
    recs = of(k, h.pid)
    assert [r["event"] for r in recs] == ["fail", "exec"]
    assert all(r["args"] == ["true"] and r["args_truncated"] is True for r in recs)


def table(h, args):
    try:
        k = Ksight(["exec"] + args)
        k.wait_ready()
        h.go()
        h.result()
        assert k.stop() == 0, k.stderr
        return [l for l in k.out_lines if l]
    finally:
        h.kill()


def test_table_output():
    h = exec_then_true(tag="two words")
    lines = table(h, ["-T", "-p", str(h.pid)])
    assert lines[0].split() == ["TIME", "EVENT", "PID", "PPID", "UID", "COMM", "RET", "ARGS"]
    rows = [l.split(None, 7) for l in lines[1:]]
    assert [r[1] for r in rows] == ["fail", "exec", "exit"]
    assert all(r[2] == str(h.pid) for r in rows)
    # a failed exec shows the path that failed, then argv[1..]
    assert rows[0][5:] == ["execer", "ENOENT", '/nonexistent/ks-e2e "two words"']
    assert rows[1][5:] == ["true", "0", 'true "two words"']
    assert rows[2][5] == "true" and rows[2][7].startswith("exit code 0, lifetime ")


def test_table_args_unambiguous():
    """argv ['a b'] and ['"a', 'b"'] must not look the same in the table."""
    shown = []
    for argv in (["true", "a b"], ["true", '"a', 'b"']):
        h = Helper("execer", "-f", TRUE, *argv)
        lines = table(h, ["--no-exits", "-n", "true"])
        pid = child_of(h)[0]
        (row,) = [l for l in lines if l.split()[1:2] == [str(pid)]]
        shown.append(row.split(None, 5)[5])
    assert shown[0] != shown[1], shown


def test_multithreaded_process_exits_once(workdir):
    """Threads ending are not process exits: one record, when the last thread goes."""
    h = Helper("opener", "-t", 4, workdir, 10)
    k = trace([h], ["-p", str(h.pid)])
    recs = of(k, h.pid)
    assert [(r["event"], r["exit_code"], r["signal"]) for r in recs] == [("exit", 0, 0)]
    assert recs[0]["cpu_ns"] > 0 and recs[0]["lifetime_ns"] > 0


def test_json_strings_are_exact():
    """--json carries each argument exactly: a backslash is one backslash after json.loads,
    a newline a newline, and a byte that is not UTF-8 comes back through os.fsencode."""
    sed = "/usr/bin/sed"
    script = r"s/\./_/g"
    odd = b"nl\nx\xffy"
    h = Helper("execer", "-f", sed, "sed", "-e", script, "--", odd)
    k = trace([h], [])
    pid, err, _ = child_of(h)
    assert err == 0
    (ex,) = of(k, pid, "exec")
    assert ex["filename"] == sed
    assert ex["args"][:3] == ["sed", "-e", "s/\\./_/g"]
    assert len(ex["args"][2]) == 8 and ex["args"][2].count("\\") == 1
    assert ex["args"][3] == "--"
    assert os.fsencode(ex["args"][4]) == odd
    assert "\udcff" in ex["args"][4]    # the PEP 383 form of the byte 0xff
    # beside pid, tid, comm and service: the cgroup v2 id of the task (the child is in
    # this test's cgroup)
    assert ex["cgroup"] == own_cgroup_id()
    assert isinstance(ex["service"], str) and ex["service"]


def own_cgroup_id():
    """The cgroup v2 id (its directory's inode) of this process."""
    with open("/proc/self/mountinfo") as f:
        root = [l.split(" - ")[0].split()[4] for l in f if l.split(" - ")[1].startswith("cgroup2 ")]
    with open("/proc/self/cgroup") as f:
        path = [l[3:].strip() for l in f if l.startswith("0::")][0]
    return os.stat(root[0] + path).st_ino
