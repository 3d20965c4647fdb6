# SPDX-License-Identifier: GPL-2.0
"""The agent's store (docs/store.md): execs and rollups kept in SQLite across restarts,
exactly those the test caused; retention by age and by size deletes exactly the oldest
rows; kill -9 while writing leaves a database that passes integrity_check; 0600 files;
bad input exits 2 with one line."""
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import time

import pytest

from conftest import SLOW, UNIQ, Ksight, run_ksight

AGENT = ["run", "--modules", "exec", "--listen", "none", "--json"]
N = 12


def agent(db, *extra):
    k = Ksight(AGENT + ["--store", str(db)] + list(extra) + ["1"])
    k.wait_ready()
    return k


def make_prog(tmp_path, name):
    """A copy of true named @name: its execs have that comm, nobody else's do."""
    path = tmp_path / name
    shutil.copy("/usr/bin/true", path)
    return str(path)


def run_execs(prog, n, tag):
    """@n execs of @prog, each with its own arguments (one not UTF-8, one with a space);
    returns {pid: argv as bytes}."""
    out = {}
    for i in range(n):
        argv = [prog.encode(), b"%s-%d" % (tag.encode(), i), b"two words", b"\xff\xfe-%d" % i]
        p = subprocess.Popen(argv)
        p.wait()
        assert p.returncode == 0
        out[p.pid] = argv
    return out


def query(db, *args, rc=0):
    r = run_ksight(["query", "--store", str(db)] + list(args))
    assert r.returncode == rc, r.stderr
    return r


def query_json(db, *args):
    return [json.loads(l) for l in query(db, *args, "--json").stdout.splitlines()]


def stored_execs(db, comm):
    return query_json(db, "execs", "--since", "1d", "-n", comm)


def check_execs(recs, want, prog):
    """The records are exactly @want's execs: pids, exact argv and filename bytes."""
    got = {r["pid"]: [os.fsencode(a) for a in r["args"]] for r in recs}
    assert len(recs) == len(got) == len(want), (len(recs), len(want))
    assert got == want
    for r in recs:
        assert r["type"] == "exec" and r["event"] == "exec" and r["ret"] == 0
        assert os.fsencode(r["filename"]) == prog.encode()
        assert r["comm"] == os.path.basename(prog)


def rollup_total(db, comm):
    recs = query_json(db, "metric", "ksight_exec_execs_total", "--since", "1d")
    return sum(r["total"] for r in recs if r["labels"] == {"comm": comm})


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.kernels
def test_execs_kept_exactly_and_across_a_restart(tmp_path):
    comm = "kst%s" % UNIQ
    prog = make_prog(tmp_path, comm)
    db = tmp_path / "k.db"
    k = agent(db)
    first = run_execs(prog, N, "a")
    assert k.stop() == 0, k.stderr
    # the agent's own JSON saw the same execs the store kept
    seen = {r["pid"] for r in k.records("exec") if r["comm"] == comm}
    assert seen == set(first)
    check_execs(stored_execs(db, comm), first, prog)
    assert rollup_total(db, comm) == N
    for f in (db, str(db) + "-wal", str(db) + "-shm"):
        if os.path.exists(f):
            assert mode(f) == 0o600, f
    assert mode(db) == 0o600

    # a second agent on the same store: the history is still there, and grows
    k = agent(db)
    second = run_execs(prog, N // 2, "b")
    # written within about a second, while the agent runs: poll, then exact
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline and len(stored_execs(db, comm)) < N + N // 2:
        time.sleep(0.2)
    check_execs(stored_execs(db, comm), {**first, **second}, prog)
    assert k.stop() == 0, k.stderr
    check_execs(stored_execs(db, comm), {**first, **second}, prog)
    assert rollup_total(db, comm) == N + N // 2
    # the table shows them too, one line each (after the header)
    lines = query(db, "execs", "--since", "1d", "-n", comm).stdout.splitlines()
    assert lines[0].split()[:4] == ["TIME", "PID", "PPID", "UID"]
    assert len(lines) == 1 + N + N // 2
    # --since excludes what is older: none of them is older than a day, all of them
    # older than... nothing: --since 1s after a pause finds none
    time.sleep(1.5)
    assert stored_execs(db, comm) and not query_json(db, "execs", "--since", "1s", "-n", comm)


def insert_rows(db, rows, rollups=()):
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO events(ts, type, pid, comm, service, json) "
                    "VALUES(?, 'exec', ?, ?, NULL, ?)", rows)
    con.executemany("INSERT INTO rollups(ts, secs, metric, labels, value, count) "
                    "VALUES(?, 1.0, ?, '{}', 1, NULL)", rollups)
    con.commit()
    con.close()


def counts(db, where, args=()):
    con = sqlite3.connect(db)
    ev = con.execute("SELECT count(*) FROM events WHERE " + where, args).fetchone()[0]
    ro = con.execute("SELECT count(*) FROM rollups WHERE " + where.replace("comm", "metric"),
                     args).fetchone()[0]
    con.close()
    return ev, ro


def test_retention_by_age_deletes_exactly_the_old_rows(tmp_path):
    db = tmp_path / "k.db"
    k = agent(db)          # creates the schema
    assert k.stop() == 0, k.stderr
    now = time.time_ns()
    hour = 3600 * 10**9
    # just older than the 1h retention, well inside it, and much older
    old = [(now - hour - 60 * 10**9, 1, "kold", "{}"), (now - 30 * hour, 2, "kold", "{}")]
    young = [(now - hour + 300 * 10**9, 3, "kyoung", "{}"), (now - 60 * 10**9, 4, "kyoung", "{}")]
    insert_rows(db, old + young,
                [(t, "kold_total") for t, *_ in old] + [(t, "kyoung_total") for t, *_ in young])
    assert counts(db, "comm = 'kold'") == (2, 0)
    k = agent(db, "--retention", "1h")     # the retention runs as the store opens
    assert k.stop() == 0, k.stderr
    assert counts(db, "comm = 'kold'") == (0, 0)
    assert counts(db, "comm = 'kyoung'") == (2, 0)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM rollups WHERE metric = 'kold_total'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM rollups WHERE metric = 'kyoung_total'").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM events WHERE ts < ?", (now - hour,)).fetchone()[0] == 0
    con.close()


def test_retention_by_size_keeps_the_newest_rows(tmp_path):
    db = tmp_path / "k.db"
    k = agent(db)
    assert k.stop() == 0, k.stderr
    now = time.time_ns()
    pad = json.dumps({"pad": "x" * 400})
    n = 30000                               # about 15 MB
    insert_rows(db, [(now - (n - i) * 10**6, i, "kfill", pad) for i in range(n)])
    assert os.path.getsize(db) > 8 << 20
    k = agent(db, "--store-max-mb", "4")
    assert k.stop() == 0, k.stderr
    assert os.path.getsize(db) <= 4 << 20
    con = sqlite3.connect(db)
    pids = [r[0] for r in con.execute("SELECT pid FROM events WHERE comm = 'kfill' ORDER BY ts")]
    con.close()
    # the oldest went, the newest stayed: a suffix of what was inserted
    assert 0 < len(pids) < n
    assert pids == list(range(n - len(pids), n))


def test_kill9_while_writing_leaves_a_sound_database(tmp_path):
    comm = "ksk%s" % UNIQ
    prog = make_prog(tmp_path, comm)
    db = tmp_path / "k.db"
    for rnd in range(3):
        k = agent(db)
        p = subprocess.Popen(["/bin/sh", "-c", "while :; do %s x; done" % prog])
        time.sleep(1.5 + rnd * 0.7)
        k.proc.send_signal(signal.SIGKILL)
        k.proc.wait()
        p.kill()
        p.wait()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT count(*) FROM events WHERE comm = ?", (comm,)).fetchone()[0] > 0
        con.close()
    # and the store opens again, rows intact and queryable
    k = agent(db)
    assert k.stop() == 0, k.stderr
    assert len(stored_execs(db, comm)) > 0


@pytest.mark.parametrize("args,word", [
    (["run", "--retention", "7x"], "--retention"),
    (["run", "--retention", "0"], "--retention"),
    (["run", "--store-max-mb", "0"], "--store-max-mb"),
    (["run", "--store", ""], "--store"),
    (["query"], "what?"),
    (["query", "bogus"], "bogus"),
    (["query", "metric"], "NAME"),
    (["query", "execs", "--since", "10x"], "--since"),
    (["query", "execs", "--limit", "0"], "--limit"),
    (["query", "execs", "extra"], "extra"),
    (["query", "execs", "--by-interval"], "--by-interval"),
])
def test_bad_input_exits_2_with_one_line(args, word):
    r = run_ksight(args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr


def test_query_without_a_store_and_unknown_metric(tmp_path):
    r = run_ksight(["query", "execs", "--store", str(tmp_path / "none.db")])
    assert r.returncode == 1 and "no store" in r.stderr and len(r.stderr.splitlines()) == 1
    db = tmp_path / "k.db"
    k = agent(db)
    assert k.stop() == 0, k.stderr
    r = query(db, "metric", "ksight_no_such_total", rc=2)
    assert "ksight_no_such_total" in r.stderr and len(r.stderr.splitlines()) == 1
    assert not os.path.exists(tmp_path / "none.db")
    # a file that is not a database is refused with SQLite's reason, and left as it was
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database " * 100)
    r = run_ksight(AGENT + ["--store", str(junk), "1"])
    assert r.returncode == 1 and "not a database" in r.stderr, r.stderr
    assert junk.read_bytes() == b"not a database " * 100
    r = run_ksight(["query", "execs", "--store", str(junk)])
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr


def test_connections_and_edges_exact(tmp_path):
    import socket
    db = tmp_path / "k.db"
    k = Ksight(["run", "--modules", "tcplife", "--listen", "none", "--store", str(db), "1"])
    k.wait_ready()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]
    conns, sent, back = 5, 3000, 700
    for i in range(conns):
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = srv.accept()
        c.sendall(b"x" * (sent + i))
        got = 0
        while got < sent + i:
            got += len(s.recv(65536))
        s.sendall(b"y" * back)
        got = 0
        while got < back:
            got += len(c.recv(65536))
        c.close()
        s.close()
    srv.close()
    assert k.stop() == 0, k.stderr
    recs = [r for r in query_json(db, "connections", "--since", "1h")
            if port in (r["lport"], r["rport"]) and r["laddr"] == "127.0.0.1"]
    client = sorted((r for r in recs if r["side"] == "client"), key=lambda r: r["tx_bytes"])
    server = sorted((r for r in recs if r["side"] == "server"), key=lambda r: r["rx_bytes"])
    assert len(client) == len(server) == conns, recs
    assert [r["tx_bytes"] for r in client] == [sent + i for i in range(conns)]
    assert [r["rx_bytes"] for r in client] == [back] * conns
    assert [r["rx_bytes"] for r in server] == [sent + i for i in range(conns)]
    assert all(r["pid"] == os.getpid() for r in recs)
    edges = query_json(db, "edges", "--since", "1h")
    mine = [e for e in edges if e["port"] == port and e["peer"] == "127.0.0.1"]
    by_side = {e["side"]: e for e in mine}
    assert sorted(by_side) == ["client", "server"] and len(mine) == 2, mine
    total = sum(sent + i for i in range(conns))
    assert by_side["client"]["connections"] == conns
    assert by_side["client"]["tx_bytes"] == total and by_side["client"]["rx_bytes"] == back * conns
    assert by_side["server"]["connections"] == conns
    assert by_side["server"]["rx_bytes"] == total and by_side["server"]["tx_bytes"] == back * conns


def test_a_full_disk_drops_counted_exactly(tmp_path):
    """A store on a full file system: the batches that cannot commit are dropped, said on
    stderr, counted; what is in the database plus what was dropped is every record the
    store was given, and the database stays sound."""
    import re
    comm = "ksf%s" % UNIQ
    prog = make_prog(tmp_path, comm)
    mnt = tmp_path / "full"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)], check=True)
    try:
        db = mnt / "k.db"
        k = agent(db, "--store-max-mb", "1000")
        p = subprocess.Popen(["/bin/sh", "-c", "while :; do %s x; done" % prog])
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline and "disk is full" not in k.stderr:
            time.sleep(0.2)
        time.sleep(1)
        p.kill()
        p.wait()
        assert k.stop() == 1, k.stderr
        full = [l for l in k.err_lines if "database or disk is full" in l]
        assert len(full) == 1, k.stderr
        m = [re.search(r"store:\S+: (\d+) of (\d+) records dropped", l) for l in k.err_lines]
        m = [x for x in m if x]
        assert len(m) == 1, k.stderr
        dropped, given = int(m[0].group(1)), int(m[0].group(2))
        con = sqlite3.connect(db)
        rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()
        assert dropped > 0 and rows + dropped == given, (rows, dropped, given)
        # every exec the agent printed went to the store, kept or dropped; the final
        # stats count the drops of every event batch (the last rollups come after them)
        assert given == len(k.records("exec"))
        sink = k.stats()["sinks"]["store:%s" % db]
        assert sink["records"] == given and sink["dropped"] == dropped, sink
    finally:
        subprocess.run(["umount", "-l", str(mnt)])
