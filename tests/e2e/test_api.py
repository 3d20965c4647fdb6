# SPDX-License-Identifier: GPL-2.0
"""The agent's HTTP API (docs/api.md): /api/events streams exactly the events a filter
asks for, as the very JSON objects --json prints; /api/status says what `ksight status`
and the registry say; --token-file guards /metrics and /api/*; bad and huge requests get
4xx and the agent keeps serving; 1000 streams come and go and the agent's memory comes
back; -o json,rotate=SIZE,keep=N rotates its file without losing a line."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import SLOW, UNIQ, Helper, Ksight, free_port, run_ksight


SO_RCVBUFFORCE = 33


def get(port, path, headers=None, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def raw(port, data, timeout=10):
    """Send @data as it is; the status code of the answer (0: the server closed without
    one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOW) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        try:
            while b"\r\n" not in buf:
                got = s.recv(4096)
                if not got:
                    break
                buf += got
        except OSError:
            pass
    if not buf.startswith(b"HTTP/"):
        return 0
    return int(buf.split(None, 2)[1])


class Stream:
    """An /api/events client on a raw socket (HTTP/1.1, chunked), as a browser's
    EventSource would be: its messages as (event, data) pairs, comments apart."""

    def __init__(self, port, query, headers="", rcvbuf=0):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
        self.sock.settimeout(15 * SLOW)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(("GET /api/events%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
                           % (query, headers)).encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                        for l in lines[1:] if ":" in l}
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.body = b""
        self.blocks = []        # complete messages not yet taken, the next one last
        self.comments = []

    def _until(self, sep):
        while sep not in self.buf:
            got = self.sock.recv(65536)
            if not got:
                raise EOFError("stream closed")
            self.buf += got
        out, self.buf = self.buf.split(sep, 1)
        return out

    def _recv(self):
        got = self.sock.recv(65536)
        if not got:
            raise EOFError("stream closed")
        self.buf += got

    def _more(self):
        """Move one chunk (or what came, unchunked) into the body; a timeout leaves the
        buffer as it was."""
        if not self.chunked:
            self._recv()
            self.body += self.buf
            self.buf = b""
            return
        while b"\r\n" not in self.buf:
            self._recv()
        line, rest = self.buf.split(b"\r\n", 1)
        size = int(line.split(b";")[0], 16)
        if size == 0:
            raise EOFError("stream ended")
        while len(rest) < size + 2:
            self._recv()
            line, rest = self.buf.split(b"\r\n", 1)
        self.body += rest[:size]
        self.buf = rest[size + 2:]

    def message(self):
        """The next message: ("message" or its event name, the data bytes)."""
        while True:
            while not self.blocks:
                self._more()
                *done, self.body = self.body.split(b"\n\n")
                self.blocks.extend(reversed(done))
            block = self.blocks.pop()
            event, data = "message", []
            for line in block.split(b"\n"):
                if line.startswith(b":"):
                    self.comments.append(line)
                elif line.startswith(b"event: "):
                    event = line[7:].decode()
                elif line.startswith(b"data: "):
                    data.append(line[6:])
            if data:
                return event, b"\n".join(data)

    def greeted(self):
        """Wait for the comment the agent sends once the reader hands this client
        records."""
        while not self.blocks:
            self._more()
            *done, self.body = self.body.split(b"\n\n")
            self.blocks.extend(reversed(done))
        block = self.blocks.pop()
        assert block == b": ksight /api/events", block

    def messages_for(self, seconds):
        """Every message that arrives within @seconds."""
        out, end = [], time.time() + seconds * SLOW
        while time.time() < end:
            self.sock.settimeout(max(0.05, end - time.time()))
            try:
                out.append(self.message())
            except (socket.timeout, TimeoutError):
                break
        return out

    def close(self):
        self.sock.close()


def agent(port, *extra, modules="exec,open"):
    k = Ksight(["run", "--modules", modules, "--listen", "127.0.0.1:%d" % port] + list(extra))
    k.wait_ready()
    return k


def exec_copies(tmp_path, name, argvs):
    """Run a copy of /bin/true named @name (its comm) once per argv: the pids."""
    exe = os.path.join(str(tmp_path), name)
    shutil.copy("/bin/true", exe)
    pids = []
    for argv in argvs:
        p = subprocess.Popen(argv, executable=exe)
        p.wait()
        pids.append(p.pid)
    return exe, pids


def test_events_exact_and_filtered(tmp_path, workdir):
    """N execs of a uniquely named program arrive on a stream filtered on exec and that
    name: exactly N, their argv byte for byte, each line identical to what --json printed
    for it, and nothing else; a second stream filtered on one process's opens gets exactly
    its opens, paths exact; a third on an unrelated pid gets nothing."""
    n, port, comm = 40, free_port(), "ka%s" % UNIQ
    h = Helper("opener", "-c", "ko%s" % UNIQ, workdir, 60)
    k = agent(port, "--json", "1")
    try:
        execs = Stream(port, "?type=exec&comm=%s" % comm)
        opens = Stream(port, "?type=open&pid=%d" % h.pid)
        other = Stream(port, "?pid=%d" % (2 ** 31 + 5))
        assert execs.status == 200 and execs.headers["content-type"] == "text/event-stream"
        for s in (execs, opens, other):
            s.greeted()
        argvs = [[comm, "arg %d" % i, 'q"uo\\te', "\u00e9t\u00e9 \t tab", "x" * (i % 7)]
                 for i in range(n)]
        exe, pids = exec_copies(tmp_path, comm, argvs)
        h.go()
        h.result()
        got = execs.messages_for(3)
        while len(got) < n:
            more = execs.messages_for(3)
            if not more:
                break
            got += more
        assert [e for e, _ in got] == ["message"] * n, got
        recs = [json.loads(d) for _, d in got]
        assert [r["type"] for r in recs] == ["exec"] * n
        assert [r["pid"] for r in recs] == pids
        assert [r["args"] for r in recs] == argvs
        assert all(r["filename"] == exe and r["comm"] == comm for r in recs)
        o = opens.messages_for(2)
        want = [os.path.join(workdir, "exists" if i % 2 == 0 else "missing")
                for i in range(60)]
        assert [json.loads(d)["path"] for _, d in o] == want, o
        assert all(json.loads(d)["type"] == "open" for _, d in o)
        assert other.messages_for(0.5) == []
    finally:
        k.stop()
    # the same objects, byte for byte, as --json printed them
    printed = {}
    for line in k.out_lines:
        if line.startswith('{"type":"exec"'):
            printed[json.loads(line)["pid"]] = line.encode("utf-8", "surrogateescape")
    assert [printed.get(json.loads(d)["pid"]) for _, d in got] == [d for _, d in got]


def test_type_prefix_and_lists(tmp_path):
    """type=ex takes exec and exit; comm= and pid= take lists; a record that does not
    match every key is left out."""
    port, comm = free_port(), "kb%s" % UNIQ
    k = agent(port, modules="exec")
    try:
        s = Stream(port, "?type=ex&comm=nosuch,%s" % comm)
        s.greeted()
        _, pids = exec_copies(tmp_path, comm, [[comm, "1"], [comm, "2"]])
        got = s.messages_for(2)
        types = sorted(json.loads(d)["type"] for _, d in got)
        assert types == ["exec", "exec", "exit", "exit"], got
        assert {json.loads(d)["pid"] for _, d in got} == set(pids)
        s2 = Stream(port, "?type=exit&pid=%d,%d" % (pids[0], pids[1]))
        s2.greeted()
        assert s2.messages_for(0.5) == []       # they are gone: nothing new
    finally:
        k.stop()


def test_bad_filters_are_400():
    port = free_port()
    k = agent(port, modules="exec")
    try:
        for q, word in [("?foo=1", "unknown filter 'foo'"), ("?pid=abc", "pid 'abc'"),
                        ("?pid=", "empty value"), ("?type=exec,,open", "empty value"),
                        ("?comm=abcdefghijklmnopq", "longer than a process name"),
                        ("?pid=" + ",".join(["1"] * 17), "more than 16 values")]:
            status, body = get(port, "/api/events" + q)
            assert status == 400 and word in body, (q, status, body)
        assert get(port, "/api/nothing")[0] == 404
        assert get(port, "/api/status", method="POST")[0] == 405
        assert get(port, "/healthz")[0] in (200, 503)
    finally:
        assert k.stop() == 0


def slots_of(status):
    """{(module, slot[:22]): family as `ksight status` names it} from /api/status."""
    out = {}
    for m in status["modules"]:
        for h in m["hooks"]:
            fam = "syscalls" if h["hook"].startswith("syscalls") else h["hook"]
            out[(m["name"], h["slot"][:22])] = fam
    return out


def test_status_agrees_with_status_command(kernel_hooks):
    """Modules, hooks and dispatcher as `ksight status` chose them on this kernel; the
    programs the agent loaded, by name, as `ksight status --live` finds them loaded by
    the agent's pid, with run counts that grow; losses per type, ring and sinks."""
    port = free_port()
    k = agent(port, "--bpf-stats", "1", modules="exec,open,files")
    try:
        deadline = time.time() + 10 * SLOW
        while True:
            code, body = get(port, "/api/status")
            assert code == 200, body
            st = json.loads(body)
            if st["intervals"] >= 2 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert st["pid"] == k.proc.pid and st["intervals"] >= 2
        assert st["dispatcher"] == kernel_hooks.dispatcher
        assert [m["name"] for m in st["modules"]] == ["exec", "open", "files"]
        for m in st["modules"]:
            assert (m["state"] == "skipped") == (m["name"] in kernel_hooks.failed), m
        mine = slots_of(st)
        assert mine and all(kernel_hooks.chosen[key] == fam for key, fam in mine.items()), \
            (mine, kernel_hooks.chosen)
        live = run_ksight(["status", "--live", "--json", "1", "1"], timeout=60)
        assert live.returncode == 0, live.stderr
        theirs = {json.loads(l)["prog"]: json.loads(l)["runs"] for l in live.stdout.splitlines()
                  if l.startswith('{"type":"prog_stats"') and json.loads(l)["pid"] == k.proc.pid}
        progs = {p["program"]: p["runs"] for p in st["programs"]}
        assert set(progs) == set(theirs), (progs, theirs)
        assert st["bpf_stats_enabled"] is True
        assert all(theirs[p] >= progs[p] for p in progs)
        assert sum(progs.values()) > 0
        for t in ("exec", "exit", "open"):
            assert st["losses"][t]["lost"] == 0 and st["losses"][t]["events"] >= 0
        assert st["ring"]["size_bytes"] == 2 * 1024 * 1024
        assert 0 <= st["ring"]["peak_fill"] <= 1
        assert st["sinks"]["table"]["dropped"] == 0
        # no stream was open: no event record was even built for the API
        assert st["sinks"]["prometheus"] == {"records": 0, "dropped": 0}
        assert st["api"] == {"clients": 0, "events_sent": 0, "events_lost": 0, "streams": [],
                             "token": False}
    finally:
        k.stop()


def test_token(tmp_path):
    """With --token-file, /metrics and /api/* answer 401 without the token or with another
    one, 200 with it; /healthz stays open. A missing or empty file exits 2 in one line."""
    tok = tmp_path / "token"
    tok.write_text("s3cret-%s\n" % UNIQ)
    port = free_port()
    k = agent(port, "--token-file", str(tok), "1", modules="exec")
    try:
        good = {"Authorization": "Bearer s3cret-%s" % UNIQ}
        for path in ("/metrics", "/api/status", "/api/events?type=exec"):
            assert get(port, path)[0] == 401, path
            assert get(port, path, {"Authorization": "Bearer s3cret-%sx" % UNIQ})[0] == 401
            assert get(port, path, {"Authorization": "Bearer s3cret"})[0] == 401
            assert get(port, path, {"Authorization": "Basic s3cret-%s" % UNIQ})[0] == 401
        assert get(port, "/metrics", good)[0] == 200
        code, body = get(port, "/api/status", good)
        assert code == 200 and json.loads(body)["api"]["token"] is True
        s = Stream(port, "?type=exec", "Authorization: Bearer s3cret-%s\r\n" % UNIQ)
        assert s.status == 200
        s.greeted()
        s.close()
        assert get(port, "/healthz")[0] in (200, 503)
        assert get(port, "/nothing")[0] == 404      # not data: no token asked
    finally:
        assert k.stop() == 0
    for content in (None, "", "\n\n", "two words\n"):
        bad = tmp_path / "bad"
        if bad.exists():
            bad.unlink()
        if content is not None:
            bad.write_text(content)
        r = run_ksight(["run", "--token-file", str(bad)])
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, (content, r.stderr)
        assert "--token-file" in r.stderr


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_bad_requests_get_4xx_and_the_agent_serves_on():
    """A malformed request line, a bad header, a 64 KiB header, a 64 KiB URL, an unknown
    method, a half request: each gets its 4xx (bytes that are no request line at all: the
    connection closed), and /metrics is served right after."""
    port = free_port()
    k = agent(port, "1", modules="exec")
    try:
        # not an HTTP request line at all: libmicrohttpd closes without an answer
        assert raw(port, b"GARBAGE\r\n\r\n") in (0, 400)
        assert raw(port, b"\x00\x01\x02\xff\r\n\r\n") in (0, 400)
        assert raw(port, b"GET / FOO/1.1\r\nHost: x\r\n\r\n") == 400
        assert raw(port, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n") == 505
        assert raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n") \
            == 400
        assert raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536
                   + b"\r\n\r\n") in (413, 431)
        assert raw(port, b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n") in (
            413, 414, 431)
        assert raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n") \
            // 100 == 4
        assert raw(port, b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == 405
        assert raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                   b"abcde") == 200
        assert raw(port, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n") == 404
        # a client that sends half a request and goes away
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /metr")
        assert get(port, "/metrics")[0] == 200
        assert k.proc.poll() is None
    finally:
        assert k.stop() == 0


def test_1000_streams_come_and_go():
    """Ten batches of 100 streams connect, are greeted and leave: the agent keeps serving,
    counts them back to 0, and its RSS comes back near where it was."""
    port = free_port()
    k = agent(port, "1", modules="exec")
    try:
        def batch(n):
            ss = [Stream(port, "?type=exec&comm=x%d" % i) for i in range(n)]
            for s in ss:
                assert s.status == 200
                s.greeted()
            for s in ss:
                s.close()

        def clients():
            return json.loads(get(port, "/api/status")[1])["api"]["clients"]

        def settle():
            deadline = time.time() + 20 * SLOW
            while clients() and time.time() < deadline:
                time.sleep(0.2)
            assert clients() == 0
            time.sleep(1.5)     # an interval: the reader's malloc_trim

        batch(100)              # the first allocations of their kind
        settle()
        before = rss_kb(k.proc.pid)
        peak = before
        for _ in range(10):
            batch(100)
            peak = max(peak, rss_kb(k.proc.pid))
        settle()
        after = rss_kb(k.proc.pid)
        assert k.proc.poll() is None
        assert get(port, "/metrics")[0] == 200
        print("rss kB: before %d, peak %d, after %d" % (before, peak, after))
        with open("/proc/%d/maps" % k.proc.pid) as f:
            asan = "libasan" in f.read()     # its quarantine keeps what was freed
        assert asan or after <= before + 4096, (before, peak, after)
        # all at once: 1000 streams open together
        ss = [Stream(port, "?comm=y%d" % i) for i in range(1000)]
        for s in ss:
            s.greeted()
        assert clients() == 1000
        assert get(port, "/metrics")[0] == 200
        for s in ss:
            s.close()
        settle()
    finally:
        assert k.stop() == 0


def test_slow_client_loses_counted_others_do_not(workdir):
    """A client that does not read while processes open 4 x 2000 files (a burst each, a
    pause between) loses events once its queue is full: counted for it (/api/status), in
    ksight_api_events_lost_total and told in the stream ("lost" events); what it got plus
    what it lost is exactly the opens. A client reading at the same time gets every one
    (a burst fits its queue), and the agent loses nothing."""
    rounds, per, port, comm = 4, 2000, free_port(), "ks%s" % UNIQ
    n = rounds * per
    q = "type=open&comm=%s" % comm
    k = agent(port, "1", modules="open")
    try:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))
        slow.sendall(b"GET /api/events?comm=%s HTTP/1.0\r\n\r\n" % comm.encode())
        fast = Stream(port, "?" + q)
        fast.greeted()
        got = []
        reader = threading.Thread(target=lambda: got.extend(
            fast.message() for _ in range(n)), daemon=True)
        reader.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            st = json.loads(get(port, "/api/status")[1])
            if st["api"]["clients"] == 2:
                break
        time.sleep(0.3)         # the slow one is greeted too
        for _ in range(rounds):
            h = Helper("opener", "-c", comm, workdir, per)
            h.go()
            h.result()
            time.sleep(0.5)
        reader.join(30 * SLOW)
        assert len(got) == n and all(e == "message" for e, _ in got)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            st = json.loads(get(port, "/api/status")[1])
            streams = {s["filter"]: s for s in st["api"]["streams"]}
            s = streams["comm=%s" % comm]
            if s["sent"] + s["lost"] == n:
                break
            time.sleep(0.2)
        assert s["sent"] + s["lost"] == n and s["lost"] > 0, s
        assert streams[q]["lost"] == 0 and streams[q]["sent"] == n
        assert st["api"]["events_lost"] == s["lost"]
        # now it reads: the events it was sent, and notes of what it lost
        slow.settimeout(2 * SLOW)
        data = b""
        try:
            while data.count(b"\n\n") < s["sent"] + 1:
                more = slow.recv(1 << 20)
                if not more:
                    break
                data += more
        except socket.timeout:
            pass
        body = data.split(b"\r\n\r\n", 1)[1]
        msgs = [m for m in body.split(b"\n\n") if m and not m.startswith(b":")]
        assert all(m.startswith(b"data: {") for m in msgs)
        assert len(msgs) == s["sent"]
        # with room again, the next events come after a note of what was lost
        h = Helper("opener", "-c", comm, workdir, 10)
        h.go()
        h.result()
        data = b""
        try:
            while data.count(b"\n\n") < 11:
                more = slow.recv(1 << 20)
                if not more:
                    break
                data += more
        except socket.timeout:
            pass
        msgs = [m for m in data.split(b"\n\n") if m and not m.startswith(b":")]
        assert msgs[0] == b'event: lost\ndata: {"lost":%d}' % s["lost"], msgs[:2]
        assert len(msgs) == 11 and all(m.startswith(b"data: {") for m in msgs[1:])
        slow.close()
        time.sleep(1.5)     # an interval: the page has the count
        _, page = get(port, "/metrics")
        assert "ksight_api_events_lost_total %d\n" % s["lost"] in page
        assert st["losses"]["open"]["lost"] == 0
    finally:
        k.stop()


def test_json_file_rotation(tmp_path):
    """-o json,event,rotate=64K,keep=50:FILE: the agent's event file rotates into FILE.1,
    FILE.2, ... each under 64 KiB, every line valid JSON, and the N execs and N exits of a
    program are each there exactly once, in order across the files; keep=2 keeps two."""
    n, comm = 500, "kr%s" % UNIQ
    path = str(tmp_path / "ev.jsonl")
    k = Ksight(["run", "--modules", "exec", "--listen", "none", "-o", "table",
                "-o", "json,event,rotate=64K,keep=50:" + path])
    k.wait_ready()
    _, pids = exec_copies(tmp_path, comm, [[comm, "x" * (i % 50)] for i in range(n)])
    assert k.stop() == 0, k.stderr
    files = sorted((f for f in os.listdir(str(tmp_path)) if f.startswith("ev.jsonl")),
                   key=lambda f: -int(f.rsplit(".", 1)[1]) if f[-1].isdigit() else 0)
    # 500 execs and exits of ours alone are over 200 KiB: three rotations at least
    assert len(files) >= 4 and files[-1] == "ev.jsonl", files
    assert files[:-1] == ["ev.jsonl.%d" % i for i in range(len(files) - 1, 0, -1)]
    recs = []
    for f in files:
        p = os.path.join(str(tmp_path), f)
        assert os.path.getsize(p) <= 64 * 1024
        assert os.stat(p).st_mode & 0o777 == 0o600
        with open(p, "rb") as fh:
            data = fh.read()
        assert data.endswith(b"\n")
        recs += [json.loads(line) for line in data.split(b"\n") if line]
    mine = [r for r in recs if r.get("comm") == comm]
    assert [r["pid"] for r in mine if r["type"] == "exec"] == pids
    assert [r["pid"] for r in mine if r["type"] == "exit"] == pids
    # keep=2: the two newest rotated files and the current one, no more
    path2 = str(tmp_path / "k2.jsonl")
    k = Ksight(["run", "--modules", "exec", "--listen", "none", "-o", "table",
                "-o", "json,event,rotate=4K,keep=2:" + path2])
    k.wait_ready()
    exec_copies(tmp_path, comm, [[comm]] * 100)
    assert k.stop() == 0, k.stderr
    assert sorted(f for f in os.listdir(str(tmp_path)) if f.startswith("k2.jsonl")) == [
        "k2.jsonl", "k2.jsonl.1", "k2.jsonl.2"]


@pytest.mark.parametrize("spec,word", [
    ("json,rotate=abc:F", "rotate=abc: not a size"),
    ("json,rotate=1K:F", "not a size"),
    ("json,keep=3:F", "keep= without rotate=SIZE"),
    ("json,rotate=1M", "are for a file"),
    ("json,rotate=1M,keep=0:F", "keep=0: not a number of files"),
])
def test_rotation_bad_specs_exit_2(tmp_path, spec, word):
    r = run_ksight(["run", "--listen", "none", "-o", spec.replace("F", str(tmp_path / "f"))])
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr
