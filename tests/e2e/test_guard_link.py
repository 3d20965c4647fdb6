# SPDX-License-Identifier: GPL-2.0
"""ksight guard and new names: hard links and symlinks that give a watched file another name
or put one at a watched name, directories made under a watched one, extended attributes of a
watched file (link, linkat, symlink, symlinkat, mkdir, mkdirat, set/removexattr and their l
and f forms), by the default rules, exactly once each, with their exact paths, beside benign
twins that must not alert; and the same through io_uring (LINKAT, SYMLINKAT, MKDIRAT, at
submission). The host's /etc is never touched: the acts run in a private mount namespace
where /etc is a bind mount of the test's own directory (or a tmpfs over /etc/ssh). The
reference: each call's own result (ctypes: the syscall's return and errno), and strace's
view of coreutils' ln and mkdir."""
import errno
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import pytest

from conftest import helper_path
from test_guard import guard, of
from test_guard_uring import SSH_TMPFS

NS_SCRIPT = r'''
import ctypes, errno, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = dict(link=86, symlink=88, mkdir=83, setxattr=188, lsetxattr=189, fsetxattr=190,
          removexattr=197, lremovexattr=198, fremovexattr=199, mkdirat=258, linkat=265,
          symlinkat=266)
AT_FDCWD = -100
subprocess.run(["mount", "--bind", sys.argv[1], "/etc"], check=True)
etc = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
units = os.open("/etc/systemd/system", os.O_RDONLY | os.O_DIRECTORY)
shadow = os.open("/etc/shadow", os.O_RDONLY)
print("ready", flush=True)
sys.stdin.readline()
out = []


def call(name, *args):
    a = [ctypes.c_long(x) if isinstance(x, int) else ctypes.c_char_p(x.encode())
         for x in args]
    r = libc.syscall(ctypes.c_long(NR[name]), *a)
    out.append((name, r if r >= 0 else -ctypes.get_errno()))


# watched: a second name, a symlink of a watched file or at a watched name, new directories
call("link", "/etc/shadow", "/etc/keep/s2")
call("linkat", AT_FDCWD, "/etc/keep/evil", AT_FDCWD, "/etc/cron.d/evil", 0)
call("symlink", "/etc/shadow", "/etc/keep/sl")
call("symlinkat", "/etc/keep/evil.so", etc, "ld.so.preload")
call("symlink", "../shadow", "/etc/sudoers.d/rel")
call("mkdir", "/etc/sudoers.d/evil.d", 0o755)
call("mkdirat", units, "evil.service.d", 0o755)
os.chdir("/etc/cron.d")
call("mkdir", "sub", 0o755)
call("setxattr", "/etc/shadow", "trusted.guardtest", "1", 1, 0)
call("fsetxattr", shadow, "trusted.guardtest", "2", 1, 0)
call("lsetxattr", "/etc/ld.so.preload", "trusted.guardtest", "3", 1, 0)
call("removexattr", "/etc/shadow", "trusted.guardtest")
# benign twins: the same calls on unwatched names
os.chdir("/etc/keep")
call("link", "/etc/keep/a", "/etc/keep/b")
call("linkat", AT_FDCWD, "a", AT_FDCWD, "c", 0)
call("symlink", "/etc/keep/a", "/etc/keep/d")
call("symlinkat", "../keep/a", AT_FDCWD, "e")
call("mkdir", "/etc/keep/f", 0o755)
call("mkdirat", AT_FDCWD, "g", 0o755)
call("setxattr", "/etc/keep/a", "trusted.guardtest", "1", 1, 0)
call("removexattr", "/etc/keep/a", "trusted.guardtest")
print(json.dumps(out), flush=True)
'''

# the rule, event, path, path2 each watched call must raise, in order (xattrs: the rule,
# the attribute); a relative symlink target is joined with the link's directory, so
# /etc/sudoers.d/rel -> ../shadow names /etc/shadow too (passwd-change as well)
WANT = [
    ("passwd-change", "link", "/etc/shadow", "/etc/keep/s2"),
    ("crontab-change", "link", "/etc/keep/evil", "/etc/cron.d/evil"),
    ("passwd-change", "symlink", "/etc/shadow", "/etc/keep/sl"),
    ("ld-preload-change", "symlink", "/etc/keep/evil.so", "/etc/ld.so.preload"),
    ("passwd-change", "symlink", "/etc/shadow", "/etc/sudoers.d/rel"),
    ("sudoers-change", "symlink", "/etc/shadow", "/etc/sudoers.d/rel"),
    ("sudoers-change", "mkdir", "/etc/sudoers.d/evil.d", None),
    ("systemd-unit-change", "mkdir", "/etc/systemd/system/evil.service.d", None),
    ("crontab-change", "mkdir", "/etc/cron.d/sub", None),
    ("passwd-change", "xattr", "/etc/shadow", None),
    ("passwd-change", "xattr", "/etc/shadow", None),
    ("ld-preload-change", "xattr", "/etc/ld.so.preload", None),
    ("passwd-change", "xattr", "/etc/shadow", None),
]
# which call each alert comes from (an index into the script's calls)
FROM = [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11]


def make_etc(tmp_path):
    """The namespace's /etc: the test's own files, made before ksight starts."""
    etc = str(tmp_path / "etc")
    for d in ("keep", "cron.d", "sudoers.d", "systemd/system"):
        os.makedirs(os.path.join(etc, d))
    for f in ("shadow", "keep/evil", "keep/evil.so", "keep/a"):
        with open(os.path.join(etc, f), "w") as fh:
            fh.write("guardtest\n")
    return etc


def listing(d):
    return sorted(os.path.relpath(os.path.join(r, n), d) for r, ds, fs in os.walk(d)
                  for n in ds + fs)


def ns_run(args, stdin="go\n", timeout=120):
    """Run @args in a private mount namespace: its pid and output after the go."""
    got = {}
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private"] + args,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    assert first.startswith("ready"), first
    out, _ = p.communicate(stdin, timeout=timeout)
    assert p.returncode == 0, out
    got["pid"], got["out"] = p.pid, out
    return got


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", [None, "tp", "fentry"])
def test_links_dirs_xattrs_of_critical_files(tmp_path, hooks, kernel_hooks):
    """Each watched link, symlink, mkdir and xattr call raises its default rule's alert
    exactly once, with its exact names and the call's own result; the twins raise none."""
    kernel_hooks.require("guard", hooks)
    host = listing("/etc") if os.path.isdir("/etc/sudoers.d") else None
    etc = make_etc(tmp_path)
    got = {}

    def act():
        got.update(ns_run([sys.executable, "-c", NS_SCRIPT, etc]))

    alerts = guard(["--hooks", hooks] if hooks else [], act)
    calls = json.loads(got["out"].splitlines()[-1])
    # every name call succeeded (the files are ours); xattrs: whatever the file system says
    assert [c[1] for c in calls if "xattr" not in c[0]] == [0] * 14, calls
    assert os.stat(etc + "/keep/s2").st_ino == os.stat(etc + "/shadow").st_ino
    assert os.readlink(etc + "/ld.so.preload") == "/etc/keep/evil.so"
    assert os.path.isdir(etc + "/systemd/system/evil.service.d")
    assert os.path.isdir(etc + "/cron.d/sub")
    if host is not None:
        assert listing("/etc") == host
    mine = of(alerts, got["pid"])
    # the script's own open of /etc/shadow (for fsetxattr) is a read; mount: a namespace one
    assert [a["rule"] for a in mine if a["event"] == "read"] == ["shadow-read"]
    mine = [a for a in mine if a["rule"] not in ("namespace-change", "shadow-read")]
    assert [(a["rule"], a["event"], a["path"], a.get("path2")) for a in mine] == WANT, mine
    # each alert carries its call's result, the syscall path, and for xattrs the attribute
    assert [a["ret"] for a in mine] == [calls[i][1] for i in FROM], (mine, calls)
    assert {a["via"] for a in mine} == {"syscall"}
    assert [a.get("xattr") for a in mine if a["event"] == "xattr"] == ["trusted.guardtest"] * 4
    assert [a["arg0"] for a in mine if a["event"] == "xattr"] == [0, 0, 0, 1]
    assert [a["arg0"] for a in mine if a["event"] == "mkdir"] == [0o755] * 3
    assert mine[0]["message"] == "link /etc/shadow -> /etc/keep/s2 by %s (%d, uid 0)" % (
        mine[0]["comm"], got["pid"])
    assert "link/linkat, symlink/symlinkat" in mine[0]["sees"]
    assert "hard links under other names" not in mine[0]["blind"]


LN_SCRIPT = r'''
set -e
mount --bind "$1" /etc
echo ready
read go
cd /etc
ln /etc/shadow keep/copy
ln -s /etc/shadow keep/sl
ln -s ../keep/evil.so cron.d/job
mkdir sudoers.d/a sudoers.d/a/b
ln keep/a keep/b
ln -s /etc/keep/a keep/c
mkdir keep/x keep/x/y
'''

TRACED = ("link", "linkat", "symlink", "symlinkat", "mkdir", "mkdirat")
# the default rules' globs the script's acts can hit
WATCHED = ("/etc/shadow", "/etc/cron.d/*", "/etc/sudoers.d/*")


def strace_calls(trace):
    """(event, [path, path2], result) of each traced call, its names as the kernel takes
    them: relative ones from /etc (the script's cwd), a relative symlink target from the
    link's directory."""
    calls = []
    pat = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+= (-?\d+)(?: (E[A-Z]+))?')
    for line in open(trace):
        m = pat.match(line)
        if not m or m.group(1) not in TRACED:
            continue
        q = re.findall(r'"([^"]*)"', m.group(2))
        names = [n if n.startswith("/") else "/etc/" + n for n in q]
        if m.group(1).startswith("symlink"):
            names[0] = os.path.normpath(os.path.join(os.path.dirname(names[1]), q[0]))
        if not names[-1].startswith("/etc/"):
            continue  # mount(8)'s own, before the acts
        event = m.group(1)[:-2] if m.group(1).endswith("at") else m.group(1)
        ret = -getattr(errno, m.group(4)) if m.group(4) else int(m.group(3))
        calls.append((event, names, ret))
    return calls


def test_coreutils_ln_and_mkdir_as_strace_sees_them(tmp_path):
    """ln, ln -s and mkdir (coreutils: whichever of the calls they choose) under strace:
    every traced call that names a watched path raises one alert, with strace's names and
    result, in strace's order; the others none."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    etc = make_etc(tmp_path)
    trace = str(tmp_path / "strace.out")
    got = {}

    def act():
        got.update(ns_run(["strace", "-f", "-qq", "-o", trace, "-e",
                           "trace=" + ",".join(TRACED), "sh", "-c", LN_SCRIPT, "sh", etc]))

    alerts = guard([], act)
    calls = strace_calls(trace)
    assert [c[0] for c in calls] == ["link", "symlink", "symlink", "mkdir", "mkdir", "link",
                                     "symlink", "mkdir", "mkdir"], calls
    want = [c for c in calls if any(fnmatch.fnmatch(n, w) for n in c[1] for w in WATCHED)]
    assert len(want) == 5, calls
    mine = [a for a in alerts if a["rule"] != "namespace-change" and a.get("via") == "syscall"
            and a["comm"] in ("ln", "mkdir")]
    assert [(a["event"], [a["path"]] + ([a["path2"]] if a.get("path2") else []), a["ret"])
            for a in mine] == want, (mine, calls)
    assert [a["rule"] for a in mine] == ["passwd-change", "passwd-change", "crontab-change",
                                         "sudoers-change", "sudoers-change"], mine


LINKS_SCRIPT = "set -e\n" + SSH_TMPFS + r'''
cd /etc/ssh
mkdir sshd_config.d other
echo old > sshd_config
echo a > other/a
exec "$0" links /etc/ssh 0
'''

# guarduring `links`: (opcode, event, path, path2) of the watched requests; the twins none
URING = [("linkat", "link", "/etc/ssh/sshd_config", "/etc/ssh/other/copy"),
         ("symlinkat", "symlink", "/etc/ssh/sshd_config", "/etc/ssh/other/sl"),
         ("symlinkat", "symlink", "/etc/ssh/other/evil", "/etc/ssh/sshd_config.d/evil.conf"),
         ("mkdirat", "mkdir", "/etc/ssh/sshd_config.d/sub", None)]


@pytest.mark.kernels
def test_uring_links_and_mkdir_of_critical_files():
    """sshd-config-change sees io_uring LINKAT (the watched file given a second name),
    SYMLINKAT (of the watched file; at a watched name) and MKDIRAT (under a watched
    directory, relative to a dfd) once each at their submission, with the opcode; the same
    requests on unwatched names raise nothing. /etc/ssh is a tmpfs of a private mount
    namespace. An opcode the kernel lacks (IORING_REGISTER_PROBE: 5.10's io_uring has none
    of the three) is left out, with a warning."""
    before = sorted(os.listdir("/etc/ssh")) if os.path.isdir("/etc/ssh") else None
    got = {}

    def act():
        got.update(ns_run(["sh", "-c", LINKS_SCRIPT, helper_path("guarduring")]))

    alerts = guard([], act)
    if before is not None:
        assert sorted(os.listdir("/etc/ssh")) == before
    out = [line.split() for line in got["out"].splitlines()]
    missing = [w[1] for w in out if w[0] == "unsupported"]
    for op in missing:
        warnings.warn("%s: io_uring has no %s here (IORING_REGISTER_PROBE): not tested" %
                      (os.uname().release, op.upper()))
    plan = ["linkat", "symlinkat", "symlinkat", "mkdirat", "linkat", "symlinkat", "mkdirat"]
    assert [w for w in out if w[0] != "unsupported"] == \
        [[op, "0"] for op in plan if op not in missing] + [["done"]], out
    mine = [a for a in of(alerts, got["pid"]) if a.get("via") == "io_uring" and
            a["rule"] != "io-uring-use"]
    assert [(a["opcode"], a["event"], a["path"], a.get("path2")) for a in mine] == \
        [u for u in URING if u[0] not in missing], mine
    assert all((a["rule"], a["severity"], a["result_known"], a["ret"]) ==
               ("sshd-config-change", "high", False, 0) for a in mine), mine
    if "mkdirat" not in missing:
        assert mine[-1]["arg0"] & 0o777 == 0o755
        assert "io_uring RENAMEAT/UNLINKAT/LINKAT/SYMLINKAT/MKDIRAT" in mine[-1]["sees"]
