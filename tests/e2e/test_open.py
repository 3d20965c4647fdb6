# SPDX-License-Identifier: GPL-2.0
"""ksight open: exact counts of real openat calls, filters, --count, hook families, the
table and JSON outputs, drops, escaping of hostile paths."""
import datetime
import json
import os
import re
import time

import pytest

from conftest import Helper, Ksight, TEST_UID, UNIQ, run_ksight

N = 10000
RFC3339_NS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
OPEN_KEYS = {"type", "ts", "pid", "tid", "comm", "service", "fd", "errno", "flags", "path"}


def trace_opener(workdir, ksight_args, helper_args=(), n=N):
    """Run `ksight open <args> --json` around one opener helper doing n openat calls;
    returns (ksight, helper pid, helper result)."""
    h = Helper("opener", *helper_args, workdir, n)
    try:
        k = Ksight(["open", "--json"] + [a.replace("{pid}", str(h.pid)) for a in ksight_args])
        k.wait_ready()
        h.go()
        res = h.result()
        assert k.stop() == 0, k.stderr
        return k, h.pid, res
    finally:
        h.kill()


def trace_helpers(helpers, ksight_args):
    """Run `ksight <args>` around already started helpers: go, wait for each, stop.
    The helpers are killed if anything fails."""
    try:
        k = Ksight(ksight_args)
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


def opens_of(k, pid):
    return [r for r in k.records("open") if r["pid"] == pid]


def assert_half_failed(recs, workdir, n=N):
    """The opener's pattern: n calls, even ones succeed on exists, odd ones ENOENT."""
    assert len(recs) == n
    ok = [r for r in recs if r["fd"] >= 0]
    failed = [r for r in recs if r["fd"] < 0]
    assert len(ok) == n // 2 and len(failed) == n // 2
    assert {r["path"] for r in ok} == {workdir + "/exists"}
    assert {r["path"] for r in failed} == {workdir + "/missing"}
    assert {r["err"] for r in failed} == {"ENOENT"} and {r["errno"] for r in failed} == {2}


def assert_stats_line(k):
    """The stderr line agrees with the final stats record."""
    st = k.stats()
    line = k.stderr.splitlines()[-1]
    assert re.match(r"^%d events, %d lost( \(.*\))?$" % (st["events"], st["lost"]), line), line
    return st


@pytest.mark.parametrize("hooks", [None, "fentry", "tp_btf", "raw_tp", "tp"])
def test_exact_count_with_errnos(workdir, hooks, kernel_hooks):
    kernel_hooks.require("open", hooks)
    args = ["-p", "{pid}"] + (["--hooks", hooks] if hooks else [])
    k, pid, res = trace_opener(workdir, args)
    assert res == ["done", str(N // 2), str(N // 2)]
    recs = opens_of(k, pid)
    assert_half_failed(recs, workdir)
    assert {r["syscall"] for r in recs} == {"openat"}
    assert all(r["tid"] == pid and r["comm"] == "opener" for r in recs)
    st = k.stats()
    assert st["lost"] == 0 and st["types"]["open"]["events"] == N and st["consistent"] is True
    assert st["seq_gaps"] == 0
    assert k.stderr.splitlines()[-1] == "%d events, 0 lost" % st["events"]


def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("open", "fentry"):
        pytest.skip("this kernel allows fentry: test_exact_count_with_errnos[fentry] runs")
    r = run_ksight(["open", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "fentry" in r.stderr and "refused" in r.stderr


def test_pid_filter_excludes_concurrent_opener(workdir):
    a, b = Helper("opener", workdir, N), Helper("opener", workdir, N)
    k = trace_helpers([a, b], ["open", "--json", "-p", str(a.pid)])
    assert_half_failed(opens_of(k, a.pid), workdir)
    assert opens_of(k, b.pid) == []
    assert {r["pid"] for r in k.records("open")} == {a.pid}
    st = k.stats()
    assert st["types"]["open"]["events"] == N and st["lost"] == 0 and st["consistent"] is True


@pytest.mark.parametrize("opt,name", [("-n", "kc%sa" % UNIQ),
                                      ("--comm", "kc%saaaaaaaaaaaa" % UNIQ)],
                         ids=["exact", "longer-than-15"])
def test_comm_filter(workdir, opt, name):
    # the kernel keeps 15 bytes of a name; -n compares those (its --help says so)
    a = Helper("opener", "-c", name, workdir, N)
    b = Helper("opener", "-c", "kc%sb" % UNIQ, workdir, N)
    k = trace_helpers([a, b], ["open", "--json", opt, name])
    assert_half_failed(opens_of(k, a.pid), workdir)
    assert {r["comm"] for r in k.records("open")} == {name[:15]}
    assert {r["pid"] for r in k.records("open")} == {a.pid}
    assert k.stats()["types"]["open"]["events"] == N


def test_uid_filter(pubdir):
    a = Helper("opener", "-u", TEST_UID, pubdir, N)
    b = Helper("opener", pubdir, N)
    k = trace_helpers([a, b], ["open", "--json", "-u", str(TEST_UID)])
    assert_half_failed(opens_of(k, a.pid), pubdir)
    assert {r["pid"] for r in k.records("open")} == {a.pid}
    assert k.stats()["types"]["open"]["events"] == N


def test_tid_filter(workdir):
    h = Helper("opener", "-t", 3, workdir, N)
    assert len(h.extra) == 3 and len(set(h.extra)) == 3 and h.pid not in h.extra
    tid = h.extra[1]
    k = trace_helpers([h], ["open", "--json", "-t", str(tid)])
    recs = k.records("open")
    assert {r["tid"] for r in recs} == {tid} and {r["pid"] for r in recs} == {h.pid}
    assert_half_failed(recs, workdir)
    assert k.stats()["types"]["open"]["events"] == N


def test_failed_only(workdir):
    k, pid, res = trace_opener(workdir, ["-x", "-p", "{pid}"])
    assert res == ["done", str(N // 2), str(N // 2)]
    recs = opens_of(k, pid)
    assert len(recs) == N // 2
    assert {(r["fd"], r["err"], r["errno"], r["path"]) for r in recs} == \
        {(-1, "ENOENT", 2, workdir + "/missing")}
    st = assert_stats_line(k)
    assert st["types"]["open"]["events"] == N // 2 and st["lost"] == 0
    # the opener's own exit is the only other event
    exits = st["types"].get("proc_exit", {}).get("events", 0)
    assert st["events"] == N // 2 + exits and exits == 1


def test_name_substring_filter(workdir):
    a = Helper("opener", "-c", "kn%salpha" % UNIQ, workdir, N)
    b = Helper("opener", "-c", "kn%sbeta" % UNIQ, workdir, N)
    k = trace_helpers([a, b], ["open", "--json", "--name", "%salp" % UNIQ])
    assert_half_failed(opens_of(k, a.pid), workdir)
    assert {r["pid"] for r in k.records("open")} == {a.pid}
    assert k.stats()["types"]["open"]["events"] == N


def count_rows(recs, workdir):
    return {r["path"][len(workdir) + 1:]: r for r in recs}


def test_count_per_path(workdir):
    k, pid, _ = trace_opener(workdir, ["--count", "-p", "{pid}"])
    assert k.records("open") == []     # counted in the kernel, nothing streamed
    rows = count_rows(k.records("open_count"), workdir)
    assert set(rows) == {"exists", "missing"}
    ex, mi = rows["exists"], rows["missing"]
    assert (ex["pid"], ex["comm"], ex["opens"], ex["errors"]) == (pid, "opener", N // 2, 0)
    assert "last_err" not in ex
    assert (mi["pid"], mi["opens"], mi["errors"], mi["last_err"]) == (pid, N // 2, N // 2, "ENOENT")
    st = assert_stats_line(k)
    assert st["types"]["open_count"]["events"] == N and st["types"]["open_count"]["lost"] == 0 and st["consistent"] is True
    assert st["events"] == N + st["types"].get("proc_exit", {}).get("events", 0)


def test_count_each_interval_json(workdir):
    n = 2000
    h = Helper("opener", workdir, n)
    try:
        k = Ksight(["open", "--count", "--json", "-p", str(h.pid), "1", "2"])
        k.wait_ready()
        h.go()
        h.result()
        assert k.wait(30) == 0, k.stderr    # ends by itself after two reports
    finally:
        h.kill()
    recs = k.records("open_count")
    exists = [r for r in recs if r["path"].endswith("/exists")]
    missing = [r for r in recs if r["path"].endswith("/missing")]
    assert len(exists) == 2 and len(missing) == 2
    # cumulative since the start: the last report has every call
    assert exists[0]["opens"] <= exists[1]["opens"] == n // 2
    assert missing[0]["errors"] <= missing[1]["errors"] == n // 2
    assert k.records()[-1]["type"] == "stats"


def table_rows(k, header_first):
    lines = [l for l in k.out_lines if l]
    headers = [i for i, l in enumerate(lines) if l.split()[:1] == [header_first]]
    return lines, headers


def test_count_each_interval_table(workdir):
    n = 200
    h = Helper("opener", workdir, n)
    try:
        k = Ksight(["open", "--count", "-p", str(h.pid), "1", "2"])
        k.wait_ready()
        h.go()
        h.result()
        assert k.wait(30) == 0, k.stderr
    finally:
        h.kill()
    lines, headers = table_rows(k, "PID")
    rows = [l for l in lines if l.split()[0] == str(h.pid)]
    assert len(rows) == 4       # two paths, two intervals
    assert len(headers) == 2    # one table per interval


@pytest.mark.parametrize("stamp", [False, True], ids=["plain", "T"])
def test_table_output(workdir, stamp):
    n = 100
    h = Helper("opener", workdir, n)
    k = trace_helpers([h], ["open", "-p", str(h.pid)] + (["-T"] if stamp else []))
    lines, headers = table_rows(k, "TIME" if stamp else "PID")
    cols = ["PID", "COMM", "FD", "ERR", "PATH"]
    assert headers == [0] and lines[0].split() == (["TIME"] if stamp else []) + cols
    rows = [l.split() for l in lines[1:]]
    assert len(rows) == n
    if stamp:
        assert all(re.match(r"^\d\d:\d\d:\d\d$", r[0]) for r in rows)
        rows = [r[1:] for r in rows]
    want = [[str(h.pid), "opener", "3", "0", workdir + "/exists"],
            [str(h.pid), "opener", "-1", "ENOENT", workdir + "/missing"]]
    assert rows == want * (n // 2)


def test_extended_shows_flags(workdir):
    n = 100
    h = Helper("opener", workdir, n)
    k = trace_helpers([h], ["open", "-e", "-p", str(h.pid)])
    lines, headers = table_rows(k, "PID")
    assert headers == [0] and lines[0].split() == ["PID", "COMM", "FD", "ERR", "FLAGS", "PATH"]
    rows = [l.split() for l in lines[1:]]
    assert len(rows) == n and {r[4] for r in rows} == {"O_RDONLY"}
    # and in JSON the flags are always there
    k, pid, _ = trace_opener(workdir, ["-p", "{pid}"], n=10)
    assert {r["flags"] for r in opens_of(k, pid)} == {"O_RDONLY"}


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    pytest.skip("no cgroup v2 hierarchy mounted")


def cgroup_of(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    raise AssertionError("pid %d has no cgroup v2 entry" % pid)


@pytest.fixture
def cgroup():
    """A fresh cgroup v2 directory and a function that moves a pid into it; at the end every
    moved process still alive goes back and the directory is removed."""
    root = cgroup2_mount()
    path = os.path.join(root, "ksight-e2e-%d-%d" % (os.getpid(), time.monotonic_ns()))
    os.mkdir(path)
    moved = []

    def move(pid):
        orig = cgroup_of(pid)
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        moved.append((pid, orig))

    try:
        yield path, move
    finally:
        for pid, orig in moved:
            try:
                with open(os.path.join(root, orig.lstrip("/"), "cgroup.procs"), "w") as f:
                    f.write(str(pid))
            except OSError:
                pass    # already gone
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.05)
        assert not os.path.exists(path), "cgroup %s left behind" % path


def test_cgroup_filter(workdir, cgroup):
    path, move = cgroup
    a, b = Helper("opener", workdir, N), Helper("opener", workdir, N)
    move(a.pid)
    assert cgroup_of(a.pid) == "/" + os.path.basename(path)
    k = trace_helpers([a, b], ["open", "--json", "--cgroup", path])
    assert_half_failed(opens_of(k, a.pid), workdir)
    assert {r["pid"] for r in k.records("open")} == {a.pid}
    # every record carries the cgroup id: the inode of the directory
    assert {r["cgroup"] for r in opens_of(k, a.pid)} == {os.stat(path).st_ino}
    assert k.stats()["types"]["open"]["events"] == N


def test_drops_are_counted_exactly(workdir):
    calls, threads = 50000, 2
    h = Helper("opener", "-x", "-t", threads, workdir, calls)
    k = trace_helpers([h], ["open", "--json", "--ringbuf-size", "4096", "-p", str(h.pid)])
    st = assert_stats_line(k)
    recs = opens_of(k, h.pid)
    assert st["types"]["open"]["lost"] > 0, "a 4 KiB ring buffer kept up with %d opens" % (calls * threads)
    assert len(recs) == st["types"]["open"]["events"]
    assert st["types"]["open"]["events"] + st["types"]["open"]["lost"] == calls * threads
    assert st["consistent"] is True
    # the reader saw the holes in the sequence numbers too (not those after the last record)
    assert 0 < st["seq_gaps"] <= st["lost"]
    assert st["lost"] == sum(t["lost"] for t in st["types"].values())
    assert "%d lost" % st["lost"] in k.stderr.splitlines()[-1]
    assert "open: %d" % st["types"]["open"]["lost"] in k.stderr.splitlines()[-1]


def test_json_stream_shape(workdir):
    n = 1000
    k, pid, _ = trace_opener(workdir, ["-p", "{pid}"], n=n)
    recs = [json.loads(l) for l in k.out_lines]     # every line parses
    assert all(l.startswith("{") and l.endswith("}") for l in k.out_lines)
    assert recs[0]["type"] == "ready" and recs[0]["command"] == "open"
    assert recs[-1]["type"] == "stats" and recs[-1]["final"] is True
    assert [r["type"] for r in recs].count("stats") == 1
    for r in recs:
        assert isinstance(r["type"], str) and RFC3339_NS.match(r["ts"]), r
    opens = [r for r in recs if r["type"] == "open"]
    assert len(opens) == n
    for r in opens:
        assert OPEN_KEYS <= set(r), r
        assert (r["pid"], r["tid"], r["comm"]) == (pid, pid, "opener")
        assert isinstance(r["service"], str) and r["service"]
    ts = [r["ts"] for r in opens]
    assert ts == sorted(ts)     # one thread: its events in order


# raw file names and their display form in the table (src/sink/escape.h); JSON carries
# the bytes themselves
HOSTILE = [
    (b"with space", "with space"),
    (b"new\nline", "new\\nline"),
    (b"tab\there", "tab\\there"),
    (b"esc\x1b[31mred", "esc\\x1b[31mred"),
    (b"back\\slash", "back\\\\slash"),
    (b"quote\"d", "quote\"d"),
    (b"bad\xff\xfe", "bad\\xff\\xfe"),
    (b"del\x7f", "del\\x7f"),
    (b"c1\xc2\x85", "c1\\xc2\\x85"),
    ("é日本".encode(), "é日本"),
    (b"nl\n\xffend", "nl\\n\\xffend"),
]


def hostile_files(workdir):
    paths = []
    for raw, _ in HOSTILE:
        p = workdir.encode() + b"/" + raw
        with open(p, "wb"):
            pass
        paths.append(p)
    return paths


def test_escaping_json(workdir):
    h = Helper("openpaths", *hostile_files(workdir))
    k = trace_helpers([h], ["open", "--json", "-p", str(h.pid)])
    assert h.out.split() == ["done", str(len(HOSTILE)), "0"]
    for line in k.out_lines:
        json.loads(line)
        assert not re.search(r"[\x00-\x1f\x7f]", line)
    # the exact bytes: one level of escaping, invalid UTF-8 as lone surrogates (PEP 383)
    got = [os.fsencode(r["path"]) for r in opens_of(k, h.pid)]
    assert got == [workdir.encode() + b"/" + raw for raw, _ in HOSTILE]
    paths = {os.fsencode(r["path"]): r["path"] for r in opens_of(k, h.pid)}
    assert paths[workdir.encode() + b"/back\\slash"] == workdir + "/back\\slash"
    assert paths[workdir.encode() + b"/nl\n\xffend"] == workdir + "/nl\n\udcffend"


def test_escaping_table(workdir):
    h = Helper("openpaths", *hostile_files(workdir))
    k = trace_helpers([h], ["open", "-p", str(h.pid)])
    for line in k.out_lines:
        # no control byte, no invalid UTF-8 (it would decode to a lone surrogate)
        assert not re.search("[\x00-\x1f\x7f-\x9f\udc80-\udcff]", line), repr(line)
    rows = [l for l in k.out_lines if l.split()[:1] == [str(h.pid)]]
    assert len(rows) == len(HOSTILE)
    for row, (_, shown) in zip(rows, HOSTILE):
        assert row.endswith(" " + workdir + "/" + shown), repr(row)


def test_long_path_is_cut_and_flagged(workdir):
    """A path longer than the 1 KiB kept is cut, flagged in JSON and marked in the table."""
    long = workdir + "/." * 700 + "/exists"
    h = Helper("openpaths", long)
    k = trace_helpers([h], ["open", "--json", "-p", str(h.pid)])
    (r,) = opens_of(k, h.pid)
    assert r["fd"] >= 0 and r["path_truncated"] is True
    assert 512 <= len(r["path"]) < len(long) and long.startswith(r["path"])
    h = Helper("openpaths", workdir + "/exists")
    k = trace_helpers([h], ["open", "--json", "-p", str(h.pid)])
    assert opens_of(k, h.pid)[0]["path_truncated"] is False
    h = Helper("openpaths", long)
    k = trace_helpers([h], ["open", "-p", str(h.pid)])
    (row,) = [l for l in k.out_lines if l.startswith(str(h.pid))]
    assert row.endswith("...") and workdir + "/./." in row


def test_timestamps_are_wall_clock(workdir):
    """ts (JSON) and TIME (-T) are the wall-clock time of the call, not of the report."""
    before = time.time()
    k, pid, _ = trace_opener(workdir, ["-p", "{pid}"], n=10)
    after = time.time()
    for r in opens_of(k, pid):
        t = datetime.datetime.strptime(r["ts"][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        assert before - 1 <= t <= after + 1, (before, r["ts"], after)


def test_duration_ends_by_itself():
    t0 = time.monotonic()
    k = Ksight(["open", "--json", "-p", str(os.getpid()), "--duration", "1"])
    try:
        k.wait_ready()
        assert k.wait(20) == 0, k.stderr
    finally:
        k.stop()
    assert 1 <= time.monotonic() - t0 < 15
    assert k.records()[-1]["type"] == "stats"


def test_count_top(workdir):
    k, pid, _ = trace_opener(workdir, ["--count", "--top", "1", "-p", "{pid}"], n=100)
    # both paths have 50 opens: the tie goes to the first path by name
    assert [(r["path"], r["opens"]) for r in k.records("open_count")] == \
        [(workdir + "/exists", 50)]
    assert k.stats()["types"]["open_count"]["events"] == 100


def test_hostile_comm(workdir):
    """A process name is as hostile as a path: exact in JSON, escaped in the table."""
    name = 'q"\x1b[2Jx\\'
    h = Helper("opener", "-c", name, workdir, 2)
    k = trace_helpers([h], ["open", "--json", "-p", str(h.pid)])
    assert {r["comm"] for r in opens_of(k, h.pid)} == {name}
    # one level of JSON escaping on the wire
    assert sum('"comm":"q\\"\\u001b[2Jx\\\\"' in l for l in k.out_lines) == 2
    h = Helper("opener", "-c", name, workdir, 2)
    k = trace_helpers([h], ["open", "-p", str(h.pid)])
    rows = [l for l in k.out_lines if l.startswith(str(h.pid))]
    assert len(rows) == 2 and all(r.split()[1] == 'q"\\x1b[2Jx\\\\' for r in rows)
    assert not re.search(r"[\x00-\x1f\x7f]", k.stdout.replace("\n", ""))


def test_count_failed_only(workdir):
    k, pid, _ = trace_opener(workdir, ["--count", "-x", "-p", "{pid}"], n=100)
    assert [(r["path"], r["opens"], r["errors"], r["last_err"]) for r in k.records("open_count")] \
        == [(workdir + "/missing", 50, 50, "ENOENT")]
    assert k.stats()["types"]["open_count"]["events"] == 50


def test_uid_zero_filter(pubdir):
    """-u 0 is a real filter (0 is not 'unset'): the other uid's opener, same name, must
    not appear. The name keeps the rest of the machine's root processes out."""
    name = "ku%s" % UNIQ
    a = Helper("opener", "-c", name, pubdir, N)
    b = Helper("opener", "-c", name, "-u", TEST_UID, pubdir, N)
    k = trace_helpers([a, b], ["open", "--json", "-u", "0", "-n", name])
    assert_half_failed(opens_of(k, a.pid), pubdir)
    assert opens_of(k, b.pid) == []


SYSCALLS = {
    # syscall: (flags shown, mode shown, file it opens, then a missing one)
    "open": ("O_RDONLY", 0),
    "openat": ("O_RDONLY", 0),
    "openat2": ("O_RDONLY|O_CLOEXEC", 0),
    "creat": ("O_WRONLY|O_CREAT|O_TRUNC", 0o640),
}


@pytest.mark.parametrize("hooks", ["tp_btf", "raw_tp", "tp"])
@pytest.mark.parametrize("sys", sorted(SYSCALLS))
def test_every_open_syscall(workdir, sys, hooks):
    """Each syscall the module claims, on each dispatcher family: name, flags, mode, fd or
    errno, path (arguments read back at exit, or from sys_enter for tp)."""
    target = workdir + ("/created" if sys == "creat" else "/exists")
    missing = workdir + "/no-dir/missing"
    h = Helper("openpaths", "-s", sys, target, missing)
    k = trace_helpers([h], ["open", "--json", "-p", str(h.pid), "--hooks", hooks])
    assert h.out.split() == ["done", "1", "1"]
    recs = opens_of(k, h.pid)
    flags, mode = SYSCALLS[sys]
    assert [(r["syscall"], r["flags"], r["mode"], r["path"], r["errno"]) for r in recs] == \
        [(sys, flags, mode, target, 0), (sys, flags, mode, missing, 2)]
    assert recs[0]["fd"] >= 3 and recs[1]["fd"] == -1 and recs[1]["err"] == "ENOENT"
