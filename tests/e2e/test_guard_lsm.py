# SPDX-License-Identifier: GPL-2.0
"""ksight guard --enforce: rules with `action: deny` enforced by BPF LSM programs, on a
tmpfs the test mounts (never a real system file). Where BPF LSM cannot run (this host:
programs refused; a kernel without bpf among its active LSMs) --enforce is refused with one
line and exit 1, and the enforcement test skips with that line as its reason."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import bpfprobe
from conftest import SLOW, UNIQ, Ksight, bpftool_json, run_ksight

# The acts, each in a fresh python process so its errno is its own; prints one JSON line.
ACTS = r'''
import errno, json, os, subprocess, sys
d = sys.argv[1]
def err(f, *a):
    try:
        f(*a)
        return 0
    except OSError as e:
        return e.errno
def write(p):
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"more\n")
    os.close(fd)
def run(p):
    subprocess.run([p], check=True)
out = {
    "write": err(write, d + "/secret"),
    "truncate": err(os.truncate, d + "/secret", 0),
    "unlink": err(os.unlink, d + "/secret"),
    "rename": err(os.rename, d + "/secret", d + "/moved"),
    "exec": err(run, d + "/ww/true"),
    "twin_write": err(write, d + "/twin"),
    "twin_exec": err(run, d + "/ok/true"),
}
out["pid"] = os.getpid()
print(json.dumps(out), flush=True)
'''

RULES = """rules:
  - name: lsm-secret-{u}
    event: [write, truncate, unlink, rename]
    path: {d}/secret
    action: deny
    severity: high
  - name: lsm-ww-exec-{u}
    event: exec
    path: {d}/ww/*
    action: deny
"""


@pytest.fixture
def arena(tmp_path):
    """A tmpfs of the test's own: secret and twin files, a world-writable directory with a
    copy of true, another directory with one."""
    d = tmp_path / "arena"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "ksight-lsm-test", str(d)],
                   check=True)
    try:
        for name in ("secret", "twin"):
            (d / name).write_bytes(b"original\n")
        for sub, mode in (("ww", 0o1777), ("ok", 0o755)):
            (d / sub).mkdir()
            os.chmod(d / sub, mode)
            shutil.copy2("/bin/true", d / sub / "true")
        rules = tmp_path / "deny.yaml"
        rules.write_text(RULES.format(u=UNIQ, d=d))
        yield str(d), str(rules)
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def acts(d):
    r = subprocess.run([sys.executable, "-c", ACTS, d], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60 * SLOW)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    return got, got.pop("pid")


def ours_of(k):
    return [a for a in k.records("alert") if a["rule"].endswith(UNIQ)]


def lsm_progs():
    """guard's BPF LSM programs loaded now (names cut to 15 bytes by the kernel)."""
    return [p for p in bpftool_json("prog", "show") if p.get("name", "").startswith("guard__lsm")]


# the LSM hooks guard's deny rules use (bpf/guard_lsm.bpf.h)
HOOKS = ("file_open", "path_mknod", "path_truncate", "path_unlink", "path_rmdir",
         "path_rename", "path_chmod", "path_chown", "bprm_creds_for_exec")


def lsm_runs(bpf_lsm):
    """The test's own answer: bpf is an active LSM and a BPF LSM program loads on every
    hook guard needs (bpf(2) through ctypes; Debian's 5.10 refuses path_chown, EINVAL)."""
    for hook in HOOKS:
        i = bpfprobe.btf_id(bpfprobe.BTF_KIND_FUNC, "bpf_lsm_" + hook)
        if not (bpf_lsm and i is not None and
                bpfprobe._result(bpfprobe._load(29, 27, i)) == 0):  # LSM, BPF_LSM_MAC
            return False
    return True


def enforce_refusal(rules):
    """--enforce's one line where it cannot run (exit 1)."""
    r = run_ksight(["guard", "-r", rules, "--enforce", "--duration", "1"], timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    return r.stderr.strip()


@pytest.mark.kernels
def test_deny_write_and_exec_then_gone_after_kill(arena, bpf_lsm):
    d, rules = arena
    if not lsm_runs(bpf_lsm):
        pytest.skip(enforce_refusal(rules))
    k = Ksight(["guard", "-r", rules, "--enforce", "--json"])
    k.wait_ready(timeout=60)
    try:
        got, pid = acts(d)
        assert got == {"write": errno.EPERM, "truncate": errno.EPERM, "unlink": errno.EPERM,
                       "rename": errno.EPERM, "exec": errno.EPERM, "twin_write": 0,
                       "twin_exec": 0}, got
        assert lsm_progs(), "no guard LSM program loaded while enforcing"
        # the alerts stream as they come: all five before the kill (none after: SIGKILL)
        deadline = time.time() + 20 * SLOW
        while len(ours_of(k)) < 5 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        k.stop(signal.SIGKILL)
    with open(d + "/secret", "rb") as f:
        assert f.read() == b"original\n"
    with open(d + "/twin", "rb") as f:
        assert f.read() == b"original\nmore\n"
    ours = ours_of(k)
    seen = sorted((a["rule"], a["event"], a["hook"], a["path"]) for a in ours)
    assert seen == sorted([
        ("lsm-secret-" + UNIQ, "write", "file_open", d + "/secret"),
        ("lsm-secret-" + UNIQ, "truncate", "path_truncate", d + "/secret"),
        ("lsm-secret-" + UNIQ, "unlink", "path_unlink", d + "/secret"),
        ("lsm-secret-" + UNIQ, "rename", "path_rename", d + "/secret"),
        ("lsm-ww-exec-" + UNIQ, "exec", "bprm_creds_for_exec", d + "/ww/true"),
    ]), "\n".join(json.dumps(a) for a in ours)
    for a in ours:
        assert a["blocked"] is True and a["via"] == "lsm" and a["ret"] == -errno.EPERM, a
        assert a["message"].startswith("blocked (%s): " % a["hook"]), a
    rename = [a for a in ours if a["event"] == "rename"][0]
    assert rename["path2"] == d + "/moved"
    for a in ours:
        if a["event"] == "exec":     # subprocess's child, before its exec
            assert a["ppid"] == pid and a["severity"] == "medium", a
        else:
            assert a["pid"] == pid and a["severity"] == "high", a
    # SIGKILL: no exit handler ran; the links were the process's fds (programs are
    # freed by the kernel a moment after their last link)
    deadline = time.time() + 10 * SLOW
    while lsm_progs() and time.time() < deadline:
        time.sleep(0.1)
    assert lsm_progs() == [], lsm_progs()
    got, _ = acts(d)
    assert got == {"write": 0, "truncate": 0, "unlink": 0, "rename": errno.ENOENT,
                   "exec": 0, "twin_write": 0, "twin_exec": 0}, got


def test_enforce_refused_here(arena, bpf_lsm):
    """Where BPF LSM programs cannot run, --enforce is one line naming it, exit 1 (a
    missing kernel feature, docs/ARCHITECTURE.md); never alert-only in silence."""
    d, rules = arena
    if lsm_runs(bpf_lsm):
        pytest.skip("BPF LSM runs here: test_deny_write_and_exec_then_gone_after_kill runs")
    refused = enforce_refusal(rules)
    assert len(refused.splitlines()) == 1 and "BPF LSM" in refused and "guard" in refused, \
        refused
    assert not bpf_lsm or "refused" in refused


@pytest.mark.parametrize("text,where,what", [
    ("rules:\n  - name: a\n    path: /x\n    action: denyy\n", "4:13", "bad action 'denyy'"),
    ("rules:\n  - name: a\n    event: write\n    path: /x/*.conf\n    action: deny\n", "2:5",
     "action: deny takes a whole path, DIR/* or */NAME"),
    ("rules:\n  - name: a\n    event: ptrace\n    path: /x\n    action: deny\n", "2:5",
     "action: deny cannot deny 'ptrace'"),
    ("rules:\n  - name: a\n    event: write\n    comm: sh\n    path: /x\n    action: deny\n",
     "2:5", "no 'comm'"),
    ("rules:\n  - name: a\n    path: /x\n    action: deny\n", "2:5", "needs 'event'"),
])
def test_bad_deny_rules(tmp_path, text, where, what):
    f = tmp_path / "r.yaml"
    f.write_text(text)
    r = run_ksight(["guard", "-r", str(f), "--list-rules"])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "%s:%s: " % (f, where) in r.stderr and what in r.stderr, r.stderr


def test_enforce_needs_a_deny_rule_and_no_hooks(arena):
    d, rules = arena
    r = run_ksight(["guard", "--enforce"])
    assert r.returncode == 2 and r.stderr.strip() == \
        "ksight guard: --enforce: no enabled rule has 'action: deny'", r.stderr
    r = run_ksight(["guard", "-r", rules, "--enforce", "--hooks", "tp"])
    assert r.returncode == 2 and "--enforce cannot be combined with --hooks" in r.stderr
    r = run_ksight(["guard", "-r", rules, "--list-rules", "--json"])
    acts_of = {j["rule"]: j["action"] for j in map(json.loads, r.stdout.splitlines())}
    assert acts_of["lsm-secret-" + UNIQ] == "deny" and acts_of["passwd-change"] == "alert"
