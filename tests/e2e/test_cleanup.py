# SPDX-License-Identifier: GPL-2.0
"""Nothing outlives ksight: the BPF programs, links, maps and BTF it loaded are gone once it
exits, by Ctrl-C or by SIGKILL, and nothing is pinned. Only the ids held by the ksight
process under test are checked: other ksight instances may run on this machine."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import KSIGHT, Ksight, bpf_ids, bpftool_ids

KINDS = ("prog", "link", "map", "btf")
COMMANDS = {"open": ["open", "-p", "{self}"], "run": ["run", "-p", "{self}"]}


def start(name):
    k = Ksight([a.replace("{self}", str(os.getpid())) for a in COMMANDS[name]])
    k.wait_ready()
    return k


def wait_gone(ids, timeout=30):
    """Wait until none of @ids is loaded; returns what is left per kind. The kernel frees
    them after RCU grace periods, which a loaded machine (a qemu guest beside) stretches."""
    deadline = time.monotonic() + timeout
    while True:
        left = {kind: ids[kind] & bpftool_ids(kind) for kind in KINDS}
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def held(k):
    ids = bpf_ids(k.proc.pid)
    attached = int(re.search(r"\((\d+) programs attached\)", k.stderr).group(1))
    assert attached >= 3
    assert len(ids["link"]) == attached, (ids, k.stderr)
    assert len(ids["prog"]) >= attached and ids["map"] and ids["btf"]
    for kind in KINDS:    # they really are loaded, as the kernel lists them
        assert ids[kind] <= bpftool_ids(kind), kind
    return ids


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_everything_freed_at_exit(name, sig):
    k = start(name)
    try:
        ids = held(k)
    finally:
        rc = k.stop(sig)
    assert rc == (0 if sig == signal.SIGINT else -signal.SIGKILL), k.stderr
    if sig == signal.SIGINT:
        assert re.match(r"^\d+ events, \d+ lost", k.stderr.splitlines()[-1]), k.stderr
    assert wait_gone(ids) == {kind: set() for kind in KINDS}


def pinned_ids(root="/sys/fs/bpf"):
    """(path, kind, id) of every object pinned under @root."""
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            for kind in ("prog", "map", "link"):
                r = subprocess.run(["bpftool", "-j", kind, "show", "pinned", path],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                if r.returncode == 0 and r.stdout.strip().startswith("{"):
                    out.append((path, kind, json.loads(r.stdout)["id"]))
                    break
    return out


def assert_none_pinned(ids):
    names = set()
    for _, dirs, files in os.walk("/sys/fs/bpf"):
        names.update(dirs + files)
    assert not [n for n in names if "ksight" in n or n.startswith(("ks_", "core__", "open__"))]
    for path, kind, oid in pinned_ids():
        assert oid not in ids[kind], "%s pins our %s %d" % (path, kind, oid)


def test_nothing_pinned():
    k = start("open")
    try:
        ids = held(k)
        assert_none_pinned(ids)
    finally:
        assert k.stop() == 0
    assert_none_pinned(ids)


def test_sigterm_stops_cleanly():
    k = start("open")
    assert k.stop(signal.SIGTERM) == 0
    assert re.match(r"^\d+ events, \d+ lost", k.stderr.splitlines()[-1]), k.stderr


def blocked_in_write(pid, fd):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            words = f.read().split()
    except OSError:
        return False
    return len(words) > 1 and words[0] == "1" and int(words[1], 16) == fd


def test_sigint_right_after_ready_line():
    """Hold ksight inside the write of its ready line (stderr is a full pipe), send SIGINT
    there, then let it go: a tool that said it is ready must stop cleanly."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"." * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)    # the flag is shared with ksight's copy
    p = subprocess.Popen([KSIGHT, "open", "-p", str(os.getpid())], stdout=subprocess.DEVNULL,
                         stderr=w)
    os.close(w)
    drained = []
    try:
        deadline = time.monotonic() + 20
        while not blocked_in_write(p.pid, 2):
            assert p.poll() is None and time.monotonic() < deadline, "never wrote its ready line"
            time.sleep(0.005)
        p.send_signal(signal.SIGINT)
        t = threading.Thread(target=lambda: drained.append(b"".join(iter(
            lambda: os.read(r, 65536), b""))), daemon=True)
        t.start()
        rc = p.wait(20)
        t.join(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)
    err = drained[0].lstrip(b".").decode() if drained else ""
    assert rc == 0, "ksight ended with %d: %r" % (rc, err)
    assert re.search(r"^\d+ events, \d+ lost", err, re.M), err
