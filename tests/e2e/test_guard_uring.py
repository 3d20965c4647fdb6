# SPDX-License-Identifier: GPL-2.0
"""ksight guard and io_uring: a process's io_uring work is seen although it makes none of the
syscalls the file rules watch. The io-uring-use rule fires exactly once per process image
(not per request, not per thread; again after an exec), never for a process without
io_uring; io_uring writes and opens for writing of a watched file alert like the syscalls'
(exactly one alert per request, saying io_uring and the opcode), reads of it do not. Files
are the test's own (a temp dir its rules watch; the default rules in a private mount
namespace): the host's are never touched."""
import os
import socket
import subprocess
import sys
import warnings

import pytest

from conftest import Helper, Ksight, helper_path
from test_guard import guard, of

# 5.10's io_uring_complete has no request: writes are taken at their submission (no
# result), opens not at all (docs/guard.md, io_uring)
OLD = os.uname().release.startswith("5.")

RULES = """\
rules:
  - name: test-uring-writes
    event: write
    path: ['{dir}/*']
    severity: medium
    message: '{{comm}} wrote {{path}} ({{how}})'
  - name: test-uring-reads
    event: read
    path: ['{dir}/watched']
    severity: low
    message: '{{comm}} read {{path}} ({{how}})'
"""


def rules_file(tmp_path, d):
    path = str(tmp_path / "rules.yaml")
    with open(path, "w") as f:
        f.write(RULES.format(dir=d))
    return path


def run_helper(*args):
    """The helper's pid and the fds its io_uring opens returned (the completions' res)."""
    h = Helper("guarduring", *args)
    h.go()
    words = h.result()
    assert words[-1] == "done" and words[:-1:2] == ["opened"] * (len(words) // 2), words
    return h.pid, [int(x) for x in words[1:-1:2]]


@pytest.mark.kernels
def test_uring_writes_alert_once_each_and_reads_do_not(tmp_path):
    d = str(tmp_path / "w")
    os.makedirs(d)
    target = d + "/watched"
    n = 6
    pids, fds = {}, {}

    def act():
        pids["write"], fds["write"] = run_helper("write", target, n)
        pids["read"], fds["read"] = run_helper("read", target, 4)
        # the benign twin of io-uring-use: the same file written by plain syscalls
        p = subprocess.Popen([sys.executable, "-c",
                              "import sys; open(sys.argv[1], 'a').write('x')", target])
        assert p.wait(timeout=30) == 0
        pids["plain"] = p.pid

    alerts = guard(["--rules", rules_file(tmp_path, d)], act)
    w = of(alerts, pids["write"], "test-uring-writes")
    got = [(a["event"], a["path"], a["via"], a["opcode"], a["ret"], a["result_known"])
           for a in w]
    # WRITE on the fd, WRITEV through the registered file, alternately; 10 bytes each
    writes = [("write", target, "io_uring", "write" if i % 2 == 0 else "writev",
               0 if OLD else 10, not OLD) for i in range(n)]
    if OLD:
        assert got == writes, w
    else:
        assert got == [("write", target, "io_uring", "openat", fds["write"][0], True)] + \
            writes, w
        # the open's flags as the helper gave them, O_WRONLY|O_CREAT, and the O_LARGEFILE
        # the kernel adds on 64-bit
        assert w[0]["arg0"] == os.O_WRONLY | os.O_CREAT | 0o100000
    # named by the process, even when an io-wq worker completed the request
    assert {(a["comm"], a["severity"], a["uid"]) for a in w} == {("guarduring", "medium", 0)}
    assert all("io_uring WRITE" in a["sees"] for a in w)
    assert w[-1]["message"] == "guarduring wrote %s (io_uring %s)" % (target, writes[-1][3])
    # the read: no write alert; the read rule sees its io_uring open (6.1+)
    assert of(alerts, pids["read"], "test-uring-writes") == []
    r = of(alerts, pids["read"], "test-uring-reads")
    assert [(a["event"], a["path"], a["opcode"], a["ret"]) for a in r] == \
        ([] if OLD else [("read", target, "openat", fds["read"][0])])
    # the syscall write: its alert says so
    s = of(alerts, pids["plain"], "test-uring-writes")
    assert [(a["path"], a["via"]) for a in s] == [(target, "syscall")]
    assert "opcode" not in s[0]
    # io-uring-use: once per io_uring process, none for the plain one
    use = [(a["pid"], a["event"], a["path"], a["opcode"], a["severity"]) for a in alerts
           if a["rule"] == "io-uring-use" and a["pid"] in pids.values()]
    exe = os.path.realpath(helper_path("guarduring"))
    assert sorted(use) == sorted([(pids["write"], "io_uring", exe, "openat", "low"),
                                  (pids["read"], "io_uring", exe, "openat", "low")])


def test_uring_use_once_per_process_image(tmp_path):
    """16 threads with a ring each submitting 20 NOPs at once: one alert. A process that
    execs and uses io_uring again: one alert per image."""
    d = str(tmp_path)
    pids = {}

    def act():
        pids["threads"] = run_helper("threads", d + "/unused", 16)[0]
        pids["exec"] = run_helper("exec", d + "/data", 2)[0]

    alerts = guard([], act)
    t = of(alerts, pids["threads"], "io-uring-use")
    assert [(a["comm"], a["opcode"]) for a in t] == [("guarduring", "nop")], t
    e = of(alerts, pids["exec"], "io-uring-use")
    # the second image was exec'd through /proc/self/exe: its comm is "exe"
    assert [(a["comm"], a["opcode"]) for a in e] == [("guarduring", "openat"),
                                                     ("exe", "openat")], e
    assert all(a["message"].endswith("exe " + os.path.realpath(helper_path("guarduring")))
               for a in t + e)


# /etc/ssh a tmpfs of the private mount namespace; on a machine without it (no openssh),
# /etc itself, with an empty ssh in it: the host's /etc is never written either way
SSH_TMPFS = ("if [ -d /etc/ssh ]; then mount -t tmpfs guardtest /etc/ssh; "
             "else mount -t tmpfs guardtest /etc && mkdir /etc/ssh; fi")

NS_SCRIPT = SSH_TMPFS + r''' && exec "$0" write /etc/ssh/sshd_config 3
'''


def test_default_rule_sees_uring_write_in_a_private_mount_namespace():
    """sshd-config-change, a default rule, by io_uring alone: /etc/ssh is a tmpfs of a
    private mount namespace."""
    before = sorted(os.listdir("/etc/ssh")) if os.path.isdir("/etc/ssh") else None
    procs = []

    def act():
        p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                              NS_SCRIPT, helper_path("guarduring")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline().startswith("ready ")
        out, _ = p.communicate("go\n", timeout=60)
        assert p.returncode == 0 and out.split()[0] == "opened" and out.endswith("done\n")

    alerts = guard([], act)
    assert (sorted(os.listdir("/etc/ssh")) if before is not None else None) == before
    mine = [(a["rule"], a["event"], a["path"], a["opcode"]) for a in of(alerts, procs[0].pid)
            if a["rule"] == "sshd-config-change"]
    path = "/etc/ssh/sshd_config"
    writes = [("sshd-config-change", "write", path, op) for op in ("write", "writev", "write")]
    assert mine == (writes if OLD else [("sshd-config-change", "write", path, "openat")] +
                    writes), mine


FILES_SCRIPT = "set -e\n" + SSH_TMPFS + r'''
cd /etc/ssh
( mkdir sshd_config.d; for f in evil sshd_config.d/a.conf sshd_config.d/c.conf x z w; do
    echo old > $f; done; echo 0123456789 > sshd_config.d/b.conf )
exec 3<>/etc/ssh/sshd_config.d/b.conf 4<>/etc/ssh/w
exec "$0" files /etc/ssh 0
'''

# what guarduring's `files` asks for (the opcode, the rule's event, path, path2, arg0), in
# order; the benign twins (renameat x -> y, unlinkat z, ftruncate w) must raise nothing
CRITICAL = [("renameat", "rename", "/etc/ssh/evil", "/etc/ssh/sshd_config", 0),
            ("unlinkat", "unlink", "/etc/ssh/sshd_config.d/a.conf", None, 0),
            ("renameat", "rename", "/etc/ssh/sshd_config.d/c.conf", "/etc/ssh/moved.conf", 0),
            ("ftruncate", "truncate", "/etc/ssh/sshd_config.d/b.conf", None, 5),
            ("ftruncate", "truncate", "/etc/ssh/sshd_config.d/b.conf", None, 3)]


def in_private_etc(script):
    """`ksight guard` while guarduring runs @script in a private mount namespace (its /etc/ssh
    a tmpfs there): (the alerts, {"pid": the helper's, "out": its result lines split}); the
    host's /etc/ssh is checked unchanged."""
    before = sorted(os.listdir("/etc/ssh")) if os.path.isdir("/etc/ssh") else None
    got = {}

    def act():
        p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                              script, helper_path("guarduring")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().startswith("ready ")
        out, _ = p.communicate("go\n", timeout=120)
        assert p.returncode == 0, out
        got["pid"], got["out"] = p.pid, [line.split() for line in out.splitlines()]

    alerts = guard([], act)
    assert (sorted(os.listdir("/etc/ssh")) if before is not None else None) == before
    return alerts, got


# how each is seen: (the opcode, result_known): at the submission, renames and unlinks (the
# result not known yet), FTRUNCATE with IOSQE_CQE_SKIP_SUCCESS (no completion traced);
# FTRUNCATE at its completion, its result known
SEEN = [("renameat", False), ("unlinkat", False), ("renameat", False), ("ftruncate", True),
        ("ftruncate", False)]


@pytest.mark.kernels
def test_uring_rename_unlink_truncate_of_critical_files():
    """sshd-config-change, a default rule, sees io_uring RENAMEAT (either name watched,
    absolute or relative to the cwd), UNLINKAT (relative to a dfd) and FTRUNCATE (also
    with IOSQE_CQE_SKIP_SUCCESS, whose success traces no completion) exactly once each,
    with the opcode; the same requests on unwatched names raise nothing. /etc/ssh
    is a tmpfs of a private mount namespace. An opcode the kernel lacks (its
    IORING_REGISTER_PROBE answer, e.g. FTRUNCATE before 6.9) is left out, with a warning."""
    alerts, got = in_private_etc(FILES_SCRIPT)
    out = got["out"]
    missing = [w[1] for w in out if w[0] == "unsupported"]
    done = [w for w in out if w[0] != "unsupported"]
    for op in missing:
        warnings.warn("%s: io_uring has no %s here (IORING_REGISTER_PROBE): not tested" %
                      (os.uname().release, op.upper()))
    # every request the kernel has completed with 0 (the helper checks), in this order
    plan = [c[0] for c in CRITICAL[:4]] + ["ftruncate-skip", "renameat", "unlinkat",
                                          "ftruncate"]
    assert done == [[op, "0"] for op in plan if op.split("-")[0] not in missing] + \
        [["done"]], out
    mine = [a for a in of(alerts, got["pid"]) if a["rule"] != "io-uring-use"]
    uring = [(a["opcode"], a["event"], a["path"], a.get("path2"), a["arg0"]) for a in mine
             if a["via"] == "io_uring"]
    assert uring == [c for c in CRITICAL if c[0] not in missing], mine
    # one rule, high; renames and unlinks are seen at their submission (result unknown),
    # FTRUNCATE at its completion (its result, 0)
    u = [a for a in mine if a["via"] == "io_uring"]
    assert {(a["rule"], a["severity"], a["comm"]) for a in u} <= \
        {("sshd-config-change", "high", "guarduring")}
    assert [(a["opcode"], a["result_known"], a["ret"]) for a in u] == \
        [(op, known, 0) for op, known in SEEN if op not in missing]
    assert all("io_uring RENAMEAT/UNLINKAT" in a["sees"] for a in u)
    if "renameat" not in missing:
        assert u[0]["message"] == "rename /etc/ssh/evil -> /etc/ssh/sshd_config by " \
            "guarduring (%d, uid 0)" % got["pid"]
    # the shell's open of b.conf for writing (the fd FTRUNCATE uses), a syscall
    # (besides its unshare and mount, which the namespace rules see)
    assert [(a["rule"], a["via"], a["event"], a["path"]) for a in mine
            if a["via"] != "io_uring" and a["event"] not in ("unshare", "mount")] == \
        [("sshd-config-change", "syscall", "write", "/etc/ssh/sshd_config.d/b.conf")], mine


SQ_RULES = """\
rules:
  - name: test-uring-names
    event: [rename, unlink]
    path: ['{dir}/new', '{dir}/gone', '{dir}/sub']
    message: '{{event}} {{path}}{{path2}}'
"""


def test_uring_names_from_an_sqpoll_ring(tmp_path):
    """Requests an SQPOLL ring's kernel thread submits (no io_uring_enter each), with names
    relative to the process's cwd: RENAMEAT onto a watched name, UNLINKAT of a file and
    (AT_REMOVEDIR) of a directory: one alert each, named by the process."""
    d = str(tmp_path / "w")
    os.makedirs(d + "/sub")
    for f in ("old", "gone"):
        open(os.path.join(d, f), "w").close()
    rules = str(tmp_path / "rules.yaml")
    with open(rules, "w") as f:
        f.write(SQ_RULES.format(dir=d))
    got = {}

    def act():
        h = Helper("guarduring", "sqpoll", d, 0)
        h.go()
        got["pid"], got["out"] = h.pid, h.result()

    alerts = guard(["--rules", rules], act)
    assert got["out"] == ["renameat", "0", "unlinkat", "0", "unlinkat", "0", "done"]
    assert sorted(os.listdir(d)) == ["new"]
    a = of(alerts, got["pid"], "test-uring-names")
    assert [(x["event"], x["path"], x.get("path2"), x["opcode"], x["arg0"], x["comm"])
            for x in a] == [("rename", d + "/old", d + "/new", "renameat", 0, "guarduring"),
                            ("unlink", d + "/gone", None, "unlinkat", 0, "guarduring"),
                            ("unlink", d + "/sub", None, "unlinkat", 0x200, "guarduring")], a
    assert {(x["via"], x["result_known"]) for x in a} == {("io_uring", False)}
    # submitted by the ring's kernel thread (iou-sqp-PID, a thread of the process)
    assert all(x["tid"] != got["pid"] for x in a), a


def test_uring_listen_makes_a_network_service():
    """A process that listens through IORING_OP_LISTEN (6.11+) is a network service: the
    shell its child runs alerts (shell-from-service); the twin, whose socket is bound but
    never listens, does not."""
    got = {}

    def act():
        for really in (1, 0):
            h = Helper("guarduring", "listen", "-", really)
            h.go()
            words = h.result()
            if words == ["nolisten"]:
                pytest.skip("this kernel has no IORING_OP_LISTEN (6.11+)")
            assert words[0] == "child", words
            got[really] = (h.pid, int(words[1]))

    alerts = guard([], act)
    (lpid, child), (tpid, twin) = got[1], got[0]
    s = of(alerts, child, "shell-from-service")
    assert [(a["target"], a["parent"], a["path"]) for a in s] == \
        [(lpid, "guarduring", os.path.realpath("/bin/sh"))], s
    assert of(alerts, twin, "shell-from-service") == []
    assert [a["opcode"] for a in of(alerts, lpid, "io-uring-use")] == ["listen"]
    assert [a["opcode"] for a in of(alerts, tpid, "io-uring-use")] == ["nop"]


def test_uring_connect_reverse_shell():
    """A shell whose stdin is a socket connected through IORING_OP_CONNECT (no connect(2),
    no dup2: the socket was made straight onto the freed fd 0): reverse-shell, with the
    peer; io-uring-use names the CONNECT."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def act():
        h = Helper("guarduring", "revshell", port, 0)
        h.go()
        conn, _ = srv.accept()
        assert h.result() == ["connected", "done"]
        conn.close()
        got["pid"] = h.pid

    try:
        alerts = guard([], act)
    finally:
        srv.close()
    pid = got["pid"]
    r = of(alerts, pid, "reverse-shell")
    assert [(a["path"], a["peer"], a["sockfds"]) for a in r] == \
        [(os.path.realpath("/bin/sh"), "127.0.0.1:%d" % port, 1)], r
    assert of(alerts, pid, "reverse-shell-dup") == []
    assert [a["opcode"] for a in of(alerts, pid, "io-uring-use")] == ["connect"]


def test_without_uring_tracepoints_no_alert_is_told_from_not_watching(tmp_path):
    """A kernel without the io_uring tracepoints (played by KSIGHT_TEST_ABSENT): guard runs,
    says on stderr that it does not see io_uring, an io_uring write raises nothing, and the
    syscall write's alert says io_uring was not watched."""
    d = str(tmp_path / "w")
    os.makedirs(d)
    target = d + "/watched"
    env = dict(os.environ)
    env["KSIGHT_TEST_ABSENT"] = "io_uring_submit_req,io_uring_submit_sqe,io_uring_complete"
    k = Ksight(["guard", "--json", "--rules", rules_file(tmp_path, d)], env=env)
    k.wait_ready()
    try:
        upid = run_helper("write", target, 3)[0]
        p = subprocess.Popen([sys.executable, "-c",
                              "import sys; open(sys.argv[1], 'a').write('x')", target])
        assert p.wait(timeout=30) == 0
    finally:
        assert k.stop() == 0, k.stderr
    assert "io_uring tracepoints absent: guard does not see io_uring requests" in k.stderr
    alerts = k.records("alert")
    assert [a for a in alerts if a["pid"] == upid] == []
    s = of(alerts, p.pid, "test-uring-writes")
    assert [(a["via"], a["path"]) for a in s] == [("syscall", target)]
    assert "io_uring (its tracepoints are absent)" in s[0]["blind"]
    assert "io_uring" not in s[0]["sees"]


XATTR_SCRIPT = "set -e\n" + SSH_TMPFS + r'''
cd /etc/ssh
mkdir other
echo old > sshd_config
echo a > other/a
exec "$0" xattrs /etc/ssh 0
'''

# guarduring `xattrs`: (via, opcode, xattr, arg1 the value's size, arg2 XATTR_CREATE) of each
# set on /etc/ssh/sshd_config, in order: three through io_uring, then the two syscalls
XATTRS = [("io_uring", "setxattr", "trusted.gt1", 2, 0),
          ("io_uring", "setxattr", "trusted.gt2", 4, 1),
          ("io_uring", "fsetxattr", "trusted.gt3", 6, 0),
          ("syscall", None, "trusted.gt4", 2, 0),
          ("syscall", None, "trusted.gt5", 4, 1)]


@pytest.mark.kernels
def test_uring_setxattr_of_a_critical_file_as_the_syscall():
    """sshd-config-change sees io_uring SETXATTR (an absolute and a cwd-relative name) and
    FSETXATTR (an fd's file) of /etc/ssh/sshd_config exactly once each, at the submission,
    with the attribute's name, size and flags, the same alert as setxattr(2) and
    fsetxattr(2) raise (but for via/opcode and the result not known); the same requests on
    an unwatched file raise nothing. /etc/ssh is a tmpfs of a private mount namespace. An
    opcode the kernel lacks (5.19+; IORING_REGISTER_PROBE) is left out, with a warning."""
    alerts, got = in_private_etc(XATTR_SCRIPT)
    out = got["out"]
    missing = [w[1] for w in out if w[0] == "unsupported"]
    for op in missing:
        warnings.warn("%s: io_uring has no %s here (IORING_REGISTER_PROBE): not tested" %
                      (os.uname().release, op.upper()))
    assert OLD or not missing, out  # 6.1+ has both
    # every request and call the kernel has done with 0 (the helper checks the requests)
    plan = ["setxattr", "setxattr", "fsetxattr", "syscall-setxattr", "syscall-fsetxattr",
            "setxattr", "fsetxattr"]
    assert [w for w in out if w[0] != "unsupported"] == \
        [[op, "0"] for op in plan if op not in missing] + [["done"]], out
    mine = [a for a in of(alerts, got["pid"]) if a["event"] == "xattr"]
    want = [x for x in XATTRS if x[1] not in missing]
    assert [(a["via"], a.get("opcode"), a.get("xattr"), a["arg1"], a["arg2"]) for a in mine] \
        == want, mine
    # one rule, one path, the same message either way; nothing for the twin's file
    assert {(a["rule"], a["severity"], a["path"], a["arg0"], a["ret"], a["message"])
            for a in mine} == {("sshd-config-change", "high", "/etc/ssh/sshd_config", 0, 0,
                                "xattr /etc/ssh/sshd_config by guarduring (%d, uid 0)"
                                % got["pid"])}, mine
    assert not [a for a in alerts if "/etc/ssh/other" in a["path"]]
    u = [a for a in mine if a["via"] == "io_uring"]
    assert all(a["result_known"] is False for a in u), u
    # what the coverage says: 5.10's io_uring has no xattrs at all
    assert all(("io_uring SETXATTR/FSETXATTR at submission" in a["sees"]) != OLD and
               ("xattrs" in a["blind"]) == OLD for a in mine), mine
