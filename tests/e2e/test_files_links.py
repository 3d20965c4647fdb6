# SPDX-License-Identifier: GPL-2.0
"""ksight files: a change made through one of the process's fd links (/proc/self/fd/N and
its spellings) names the file the fd holds, as the kernel resolved it, checked against
inotify and strace. GNU tar, extracting as root, chmods its directories that way."""
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from conftest import UNIQ, Ksight
from inotify import (IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO,
                     Inotify)
from test_files import fentry_refused, run_fileops

# `fileops fdlink` opens DIR/sub, DIR/sub/f and an O_TMPFILE file on the first free fds
# (pytest's helpers inherit only 0, 1 and 2)
D, F, T = 3, 4, 5


def expected_fdlink(w, pid, ino, devfd):
    """(event, path, path_arg, fields) of `fileops fdlink`, in order (@devfd: whether it
    had /dev/fd, which a bare devtmpfs lacks)."""
    sub, lk = w + "/sub", lambda fd: "/proc/self/fd/%d" % fd
    return [e for e in [
        ("chmod", sub, lk(D), {"mode": 0o701, "syscall": "chmod"}),
        ("chmod", sub, "/proc/thread-self/fd/%d" % D, {"mode": 0o702}),
        ("chmod", sub, "/proc/%d/fd/%d" % (pid, D), {"mode": 0o703}),
        ("chmod", sub, "/dev/fd/%d" % D, {"mode": 0o704}),
        ("create", sub + "/f", lk(D) + "/f", {"mode": 0o600, "syscall": "openat"}),
        ("chmod", sub + "/f", lk(F), {"mode": 0o640, "syscall": "fchmodat"}),
        ("chown", sub + "/f", lk(F), {"uid": 1234, "gid": 5678}),
        ("truncate", sub + "/f", lk(F), {"size": 3, "syscall": "truncate"}),
        ("rename", sub + "/f", lk(D) + "/f", {"new_path": sub + "/g",
                                              "new_path_arg": lk(D) + "/g"}),
        ("link", sub + "/#" + ino, lk(T), {"new_path": sub + "/h", "flags": 0x400}),
        # failures keep the path as passed: unlink does not follow the link (it names
        # the link itself), procfs takes no leading zero, the fd was closed
        ("unlink", lk(F), lk(F), {"err": "EPERM"}),
        ("chmod", "/proc/self/fd/0%d" % D, "/proc/self/fd/0%d" % D, {"err": "ENOENT"}),
        ("chmod", lk(T), lk(T), {"err": "ENOENT"}),
        ("unlink", sub + "/g", lk(D) + "/g", {}),
        ("unlink", sub + "/h", "h", {"dirfd": D}),
    ] if devfd or e[2] != "/dev/fd/%d" % D]


def as_inotify(recs):
    """What inotify reports for @recs (successful changes), consecutive repeats merged as
    inotify merges them."""
    out = []
    for r in recs:
        if "err" in r:
            continue
        ev = {"chmod": [("attrib", r["path"])], "chown": [("attrib", r["path"])],
              "create": [("create", r["path"])], "truncate": [("modify", r["path"])],
              "rename": [("moved_from", r["path"]), ("moved_to", r.get("new_path"))],
              "link": [("create", r.get("new_path"))],
              "unlink": [("delete", r["path"])]}[r["event"]]
        out += [e for e in ev if not out or out[-1] != e]
    return out


# fentry where trampolines work: the kernel matrix's guests (the same handler as the others,
# which test_files.py::test_sequence_exactly_once already runs there on every family)
@pytest.mark.parametrize("hooks", [None, "raw_tp", "tp",
                                   pytest.param("fentry", marks=pytest.mark.kernels)])
def test_fd_links_name_the_file(workdir, hooks):
    if hooks == "fentry" and fentry_refused():
        pytest.skip("this kernel refuses fentry (see test_files.py::test_fentry_refused_here)")
    w = os.path.realpath(workdir)
    os.mkdir(w + "/sub")
    ino = Inotify()
    try:
        ino.watch(w + "/sub", IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM |
                  IN_MOVED_TO)
        k, pid, res = run_fileops(w, "fdlink", [],
                                  ["--json", "-x"] + (["--hooks", hooks] if hooks else []),
                                  pid_filter=True)
        ref = [(what, os.fsdecode(p)) for what, p in ino.events()]
    finally:
        ino.close()
    assert res[0] == "done"
    recs = k.records("files")
    exp = expected_fdlink(w, pid, res[1], res[2] == "devfd")
    assert [(r["event"], r["path"], r["path_arg"]) for r in recs] == \
        [(e, p, a) for e, p, a, _ in exp]
    for r, (event, _, _, fields) in zip(recs, exp):
        assert r["pid"] == pid and r["path_truncated"] is False, r
        for key, val in fields.items():
            assert r[key] == val, (event, key, r)
    assert as_inotify(recs) == ref
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True


# The archive: every directory and file with a mode of its own, so that a mode names it.
TREE = [("top", 0o750), ("top/a", 0o705), ("top/a/b", 0o701), ("top/a/b/f", 0o640),
        ("top/c", 0o711), ("top/c/g", 0o604), ("top/e", 0o755)]


def strace_chmods(path):
    """[(syscall, path, mode)] of the chmods in `strace -y` output: the path of an fd
    comes from strace's own decoding of the fd that openat returned, or of fchmod's."""
    fds, out = {}, []
    opened = re.compile(r'^openat\(.*\) = (\d+)<(.*)>$')
    via_link = re.compile(r'^chmod\("/proc/self/fd/(\d+)", (0\d+)\) += 0$')
    by_fd = re.compile(r'^fchmod\(\d+<(.*)>, (0\d+)\) += 0$')
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = opened.match(line)
            if m:
                fds[int(m.group(1))] = m.group(2)
            elif via_link.match(line):
                m = via_link.match(line)
                out.append(("chmod", fds[int(m.group(1))], int(m.group(2), 8)))
            elif by_fd.match(line):
                m = by_fd.match(line)
                out.append(("fchmod", m.group(1), int(m.group(2), 8)))
    return out


def test_gnu_tar_extract_names_directories(tmp_path):
    tmp = os.path.realpath(str(tmp_path))
    src, dest = tmp + "/src", tmp + "/dest"
    for name, mode in TREE:
        p = os.path.join(src, name)
        if name.endswith(("f", "g")):
            with open(p, "w") as f:
                f.write(name)
        else:
            os.makedirs(p)
        os.chmod(p, mode)
    with tarfile.open(tmp + "/tree.tar.gz", "w:gz") as t:
        t.add(src + "/top", arcname="top")
    os.mkdir(dest)
    # a copy of GNU tar under a name of this run, so that -n follows this extraction only
    # (strace is its parent, and other test runs may extract at the same time)
    tar = tmp + "/kt" + UNIQ
    shutil.copy2(shutil.which("tar"), tar)
    assert b"GNU tar" in subprocess.run([tar, "--version"], stdout=subprocess.PIPE).stdout
    k = Ksight(["files", "--json", "-n", os.path.basename(tar)])
    try:
        k.wait_ready()
        subprocess.run(["strace", "-qq", "-y", "-e", "signal=none", "-e",
                        "trace=openat,chmod,fchmod,fchmodat", "-o", tmp + "/trace",
                        tar, "-xzf", tmp + "/tree.tar.gz", "-C", dest], check=True,
                       timeout=60)
        assert k.stop() == 0, k.stderr
    finally:
        k.stop()
    for name, mode in TREE:
        assert os.stat(dest + "/" + name).st_mode & 0o7777 == mode, name
    recs = k.records("files")
    chmods = [(r["syscall"], r["path"], r["mode"]) for r in recs if r["event"] == "chmod"]
    ref = strace_chmods(tmp + "/trace")
    # the case this test is about: tar named its directories through /proc/self/fd
    dirs = {dest + "/" + n: m for n, m in TREE if not n.endswith(("f", "g"))}
    assert sorted((p, m) for s, p, m in ref if s == "chmod") == sorted(dirs.items())
    assert chmods == ref
    via = [r for r in recs if r["event"] == "chmod" and r["syscall"] == "chmod"]
    assert all(r["path_arg"].startswith("/proc/self/fd/") for r in via)
    assert sorted(r["path"] for r in recs if r["event"] == "mkdir") == sorted(dirs)
    assert not [r for r in recs if "/proc/" in r["path"]]
    assert k.stats()["lost"] == 0
