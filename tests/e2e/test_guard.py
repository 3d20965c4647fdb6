# SPDX-License-Identifier: GPL-2.0
"""ksight guard: each default rule triggered for real, exactly once per act, beside a benign
twin that must not alert; the host's files are never changed (critical files are bind
mounts inside a private mount namespace); custom rule files, bad ones (exit 2 with
file:line:column), --list-rules."""
import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import Helper, Ksight, helper_path, run_ksight

DEFAULT_RULES = [
    "passwd-change", "sudoers-change", "sshd-config-change", "authorized-keys-change",
    "ld-preload-change", "crontab-change", "systemd-unit-change", "boot-change",
    "shadow-read", "exec-world-writable", "exec-memfd", "exec-deleted", "setuid-exec",
    "setid-root", "capset-nonroot", "ptrace-attach", "module-load", "bpf-load",
    "perf-event-open", "namespace-change", "reverse-shell", "reverse-shell-dup",
    "shell-unix-stdio", "shell-from-service", "memory-write", "io-uring-use", "login-record",
    "login-failed", "login-ok", "session-open",
]


def guard(args, act):
    """Run `ksight guard --json ARGS` around act(); returns ksight's alert records."""
    k = Ksight(["guard", "--json"] + list(args))
    k.wait_ready()
    try:
        act()
    finally:
        rc = k.stop()
    assert rc == 0, k.stderr
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st
    return k.records("alert")


def of(alerts, pid, rule=None):
    return [a for a in alerts if a.get("pid") == pid and (rule is None or a["rule"] == rule)]


def digest(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), st.st_mode, st.st_uid, st.st_gid


NS_SCRIPT = r'''
import os, subprocess, sys
tmp = sys.argv[1]
missing = [d for d in ("/etc/cron.d", "/etc/ssh") if not os.path.isdir(d)]
if missing:
    # a minimal machine (no cron, no ssh): this namespace's /etc is an overlay on the
    # host's, so that the directories exist here and nowhere else
    for d in ("/etc.up", "/etc.work"):
        os.mkdir(tmp + d)
    subprocess.run(["mount", "-t", "overlay", "guardtest", "-o", "lowerdir=/etc,upperdir=%s"
                    "/etc.up,workdir=%s/etc.work" % (tmp, tmp), "/etc"], check=True)
    for d in missing:
        os.makedirs(d, exist_ok=True)
subprocess.run(["mount", "--bind", tmp + "/passwd.src", "/etc/passwd"], check=True)
subprocess.run(["mount", "--bind", tmp + "/shadow.src", "/etc/shadow"], check=True)
for d in ("/etc/cron.d", "/etc/ssh", "/root"):
    subprocess.run(["mount", "-t", "tmpfs", "guardtest", d], check=True)
print("ready", flush=True)
sys.stdin.readline()
with open("/etc/passwd", "a") as f:
    f.write("x\n")
os.chmod("/etc/passwd", 0o600)
os.chown("/etc/passwd", 0, 0)
os.truncate("/etc/passwd", 0)
with open("/etc/shadow") as f:
    f.read()
with open("/etc/cron.d/guardtest", "w") as f:
    f.write("x")
os.rename("/etc/cron.d/guardtest", "/etc/cron.d/guardtest2")
os.unlink("/etc/cron.d/guardtest2")
with open("/etc/ssh/sshd_config", "w") as f:
    f.write("x")
os.mkdir("/root/.ssh")
with open("/root/.ssh/authorized_keys", "w") as f:
    f.write("x")
# the benign twins: the same acts on files of the same names elsewhere
twin = tmp + "/twin"
with open(twin + "/passwd", "a") as f:
    f.write("x\n")
os.chmod(twin + "/passwd", 0o600)
os.truncate(twin + "/passwd", 0)
with open(twin + "/shadow") as f:
    f.read()
os.rename(twin + "/passwd", twin + "/sudoers")
os.unlink(twin + "/sudoers")
print("done", flush=True)
'''


@pytest.mark.kernels
def test_critical_files_in_a_private_mount_namespace(tmp_path):
    host = {p: digest(p) for p in ("/etc/passwd", "/etc/shadow")}
    dirs = ("/etc/cron.d", "/etc/ssh", "/root")
    host_dirs = {d: sorted(os.listdir(d)) if os.path.isdir(d) else None for d in dirs}
    tmp = str(tmp_path)
    os.makedirs(tmp + "/twin")
    # sources named otherwise: the kernel must name them by their mountpoints
    for name in ("passwd.src", "shadow.src", "twin/passwd", "twin/shadow"):
        with open(os.path.join(tmp, name), "w") as f:
            f.write("guardtest\n")
    procs = []

    def act():
        p = subprocess.Popen(["unshare", "-m", sys.executable, "-c", NS_SCRIPT, tmp],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline() == "ready\n"
        out, _ = p.communicate("go\n", timeout=60)
        assert p.returncode == 0 and out == "done\n"

    alerts = guard([], act)
    pid = procs[0].pid
    # the host's files are as they were
    assert {p: digest(p) for p in host} == host
    assert {d: sorted(os.listdir(d)) if os.path.isdir(d) else None for d in dirs} == host_dirs
    mine = of(alerts, pid)
    got = [(a["rule"], a["event"], a["path"], a.get("path2")) for a in mine
           if a["rule"] != "namespace-change"]
    assert got == [
        ("passwd-change", "write", "/etc/passwd", None),
        ("passwd-change", "chmod", "/etc/passwd", None),
        ("passwd-change", "chown", "/etc/passwd", None),
        ("passwd-change", "truncate", "/etc/passwd", None),
        ("shadow-read", "read", "/etc/shadow", None),
        ("crontab-change", "write", "/etc/cron.d/guardtest", None),
        ("crontab-change", "rename", "/etc/cron.d/guardtest", "/etc/cron.d/guardtest2"),
        ("crontab-change", "unlink", "/etc/cron.d/guardtest2", None),
        ("sshd-config-change", "write", "/etc/ssh/sshd_config", None),
        ("authorized-keys-change", "write", "/root/.ssh/authorized_keys", None),
    ], mine
    for a in mine:
        if a["rule"] != "namespace-change":
            assert (a["comm"], a["uid"], a["pid"]) == ("python3", 0, pid)
    sev = {a["rule"]: a["severity"] for a in mine}
    assert sev == {"passwd-change": "high", "shadow-read": "high", "crontab-change": "medium",
                   "sshd-config-change": "high", "authorized-keys-change": "high",
                   "namespace-change": "low"}
    w = [a for a in mine if a["rule"] == "passwd-change"][0]
    assert w["message"] == "write /etc/passwd by python3 (%d, uid 0)" % pid
    # seen by its syscall; io_uring was watched too (test_guard_uring.py)
    assert w["via"] == "syscall" and "io_uring WRITE/WRITEV/WRITE_FIXED" in w["sees"]
    ren = [a for a in mine if a["event"] == "rename"]
    assert [a["message"] for a in ren] == [
        "rename /etc/cron.d/guardtest -> /etc/cron.d/guardtest2 by python3 (%d, uid 0)" % pid]
    # unshare(1) itself, by the same pid before it ran python: unshare(CLONE_NEWNS), then
    # mount("none", "/", NULL, MS_REC | MS_PRIVATE)
    ns = of(alerts, pid, "namespace-change")
    assert [(a["event"], a["comm"], a["arg0"], a["path"]) for a in ns] == \
        [("unshare", "unshare", 0x20000, ""), ("mount", "unshare", 0x44000, "/")]
    # nothing for anyone else's twin paths
    assert not [a for a in alerts if tmp in a["path"]]


def run_copy(dirpath, name="gtrue"):
    path = os.path.join(dirpath, name)
    shutil.copy("/usr/bin/true", path)
    os.chmod(path, 0o755)
    return path


def test_exec_from_world_writable_places():
    dirs = [tempfile.mkdtemp(prefix="ksight-guard-", dir=d) for d in ("/dev/shm", "/tmp", "/var/tmp")]
    pids = {}
    try:
        paths = [run_copy(d) for d in dirs]

        def act():
            for p in paths + ["/usr/bin/true"]:
                r = subprocess.Popen([p])
                r.wait()
                assert r.returncode == 0
                pids[p] = r.pid

        alerts = guard([], act)
        for p in paths:
            got = of(alerts, pids[p])
            assert [(a["rule"], a["event"], a["path"], a["comm"], a["uid"], a["severity"])
                    for a in got] == [("exec-world-writable", "exec", os.path.realpath(p),
                                       "gtrue", 0, "high")], got
        # the benign twin: the same binary where it belongs
        assert of(alerts, pids["/usr/bin/true"]) == []
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def test_memfd_exec_is_fileless():
    h = Helper("guardops", "memfd", "/usr/bin/sleep", "1")
    comm = []

    def act():
        h.go()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if os.readlink("/proc/%d/exe" % h.pid).startswith("/memfd:guardtest"):
                    with open("/proc/%d/comm" % h.pid) as f:
                        comm.append(f.read().strip())
                    break
            except OSError:
                pass
            time.sleep(0.01)
        h.result()

    try:
        alerts = guard([], act)
    finally:
        h.kill()
    assert comm, "the helper never ran from its memfd"
    got = of(alerts, h.pid)
    assert [(a["rule"], a["path"], a["memfd"], a["comm"], a["uid"], a["severity"]) for a in got] \
        == [("exec-memfd", "memfd:guardtest", True, comm[0], 0, "critical")], got


def test_ptrace_attach():
    target = subprocess.Popen(["sleep", "30"])
    h = Helper("guardops", "ptrace", target.pid)
    try:
        alerts = guard([], lambda: (h.go(), h.result()))
    finally:
        h.kill()
        target.kill()
        target.wait()
    assert h.out == "attach 0\n"
    got = of(alerts, h.pid)
    assert [(a["rule"], a["event"], a["comm"], a["arg0"], a["arg1"], a["ret"]) for a in got] == \
        [("ptrace-attach", "ptrace", "guardops", 16, target.pid, 0)], got
    assert of(alerts, target.pid) == []


def test_setuid_binary_and_setuid_root(pubdir):
    path = os.path.join(pubdir, "guardsu")
    shutil.copy(helper_path("guardops"), path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    procs = []

    def act():
        p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              path, "setuid"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        procs.append(p)
        assert p.stdout.readline().startswith("ready ")
        out, _ = p.communicate("go\n", timeout=30)
        assert out == "setuid 0 0 0\n", out

    alerts = guard([], act)
    pid = procs[0].pid
    got = sorted((a["rule"], a["event"], a["uid"], a["euid"]) for a in of(alerts, pid))
    # setpriv, already uid 65534, still holds every capability when it sets them (capset)
    assert got == [("capset-nonroot", "capset", 65534, 65534),
                   ("exec-world-writable", "exec", 65534, 0),
                   ("setid-root", "setid", 0, 0),
                   ("setuid-exec", "exec", 65534, 0)], of(alerts, pid)
    su = of(alerts, pid, "setuid-exec")[0]
    assert su["path"] == path and su["setuid"] is True and su["comm"] == "guardsu"
    assert su["message"] == "setuid binary %s run by uid 65534 (guardsu, %d)" % (path, pid)
    sid = of(alerts, pid, "setid-root")[0]
    assert (sid["arg0"], sid["ret"]) == (0, 0)
    assert sid["message"] == "guardsu (%d) (started as uid 65534) asked for root with a set*id call" % pid


def test_module_load_attempt_is_seen_when_it_fails(tmp_path):
    junk = str(tmp_path / "junk.ko")
    with open(junk, "wb") as f:
        f.write(b"\0" * 4096)
    script = ("import ctypes, os, sys\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
              "r = libc.syscall(313, fd, b'', 0)\n"
              "print(r, ctypes.get_errno())\n")
    res = []

    def act():
        p = subprocess.Popen([sys.executable, "-c", script, junk], stdout=subprocess.PIPE,
                             text=True)
        res.append((p.pid, p.communicate(timeout=30)[0]))

    alerts = guard([], act)
    pid, out = res[0]
    r, err = map(int, out.split())
    assert r == -1 and err > 0
    got = [(a["rule"], a["event"], a["path"], a["ret"], a["comm"], a["severity"])
           for a in of(alerts, pid)]
    assert got == [("module-load", "module", junk, -err, "python3", "high")], got


RULES = """\
rules:
  - name: test-dat-writes
    event: write
    path: "{dir}/*.dat"
    severity: low
    message: "{{comm}} wrote {{path}}"
  - name: exec-world-writable
    enabled: false
"""


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", [None, "fentry", "tp_btf", "raw_tp", "tp"])
def test_custom_rule_counts_exact_writes(tmp_path, hooks, kernel_hooks):
    kernel_hooks.require("guard", hooks)
    d = str(tmp_path / "w")
    os.makedirs(d)
    rules = str(tmp_path / "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES.format(dir=d))
    n = 7
    script = ("import sys\n"
              "d, n = sys.argv[1], int(sys.argv[2])\n"
              "for i in range(n):\n"
              "    open('%s/f%d.dat' % (d, i), 'w').write('x')\n"
              "for i in range(5):\n"
              "    open('%s/f%d.txt' % (d, i), 'w').write('x')\n"
              "for i in range(n):\n"
              "    open('%s/f%d.dat' % (d, i)).read()\n")
    exe = run_copy(str(tmp_path))
    res = []

    def act():
        res.append(subprocess.run([sys.executable, "-c", script, d, str(n)], timeout=30).returncode)
        res.append(subprocess.Popen([exe]))
        res[-1].wait()

    alerts = guard(["--rules", rules] + (["--hooks", hooks] if hooks else []), act)
    assert res[0] == 0
    got = [a for a in alerts if a["rule"] == "test-dat-writes"]
    assert sorted(a["path"] for a in got) == sorted("%s/f%d.dat" % (d, i) for i in range(n))
    assert {(a["comm"], a["severity"], a["event"], a["uid"]) for a in got} == \
        {("python3", "low", "write", 0)}
    assert sorted(a["message"] for a in got) == \
        sorted("python3 wrote %s/f%d.dat" % (d, i) for i in range(n))
    # the default rule switched off by the file: the exec from a tmp dir passes
    assert of(alerts, res[1].pid) == []


@pytest.mark.parametrize("text,where", [
    ("rules:\n  - name: a\n    pth: /x\n", "3:5: unknown field 'pth' (name, event, path, "
     "comm, exe, parent, uid, flags, user, ruser, pam_service, rhost, result, not, severity, "
     "message, description, enabled)"),
    ("rules:\n  - name: a\n    event: [write, explode]\n", "3:20: unknown event 'explode'"),
    ("rules:\n  - name: a\n    event: write\n    path: '/etc/[abc'\n",
     "4:11: bad glob '/etc/[abc' in 'path': '[' is not closed"),
    ("rules:\n  - name: a\n    path: etc/passwd\n",
     "3:11: bad glob 'etc/passwd' in 'path': paths are absolute"),
    ("rules:\n  - name: a\n    severity: dire\n", "3:15: bad severity 'dire'"),
    ("rules:\n  - event: write\n", "2:5: a rule needs a name"),
    ("rules:\n  - name: nosuch\n    enabled: false\n", "2:5: no rule named 'nosuch' to disable"),
    ("rules:\n  - name: a\n    message: '{who}'\n",
     "3:14: unknown field {who} in the message (rule, severity, event, comm, pid, uid, path, "
     "path2, exe, parent, ret, peer, target, how, user, rhost, pam_service, ruser, login)"),
    ("rules:\n  - name: a\n    not: { cmd: x }\n",
     "3:12: unknown field 'cmd' in 'not' (path, comm, exe, parent, uid, flags, user, "
     "ruser, pam_service, rhost)"),
    # the login's remote host: addresses, CIDRs, host name globs
    ("rules:\n  - name: a\n    event: auth\n    rhost: [10.0.0.0/8, 10.0.0.0/33]\n",
     "4:25: bad CIDR '10.0.0.0/33' in 'rhost': the prefix length is 0 to 32"),
    ("rules:\n  - name: a\n    rhost: '2001:db8::1/32'\n",
     "3:12: bad CIDR '2001:db8::1/32' in 'rhost': address bits set after the /32 prefix"),
    ("rules:\n  - name: a\n    not:\n      rhost: 192.0.2/24\n",
     "4:14: bad CIDR '192.0.2/24' in 'rhost': '192.0.2' is no IPv4 or IPv6 address"),
    ("rules:\n  - name: a\n    rhost: 256.1.1.1\n", "3:12: bad address '256.1.1.1' in 'rhost'"),
    ("rules:\n  - name: a\n    rhost: 'web[12.example'\n",
     "3:12: bad glob 'web[12.example' in 'rhost': '[' is not closed"),
    ("rules:\n  - name: a\n    event: [write\n",
     "4:1: did not find expected ',' or ']' while parsing a flow sequence"),
    ("rules:\n  - name: a\n  - name: a\n", "3:5: rule 'a' is defined twice"),
])
def test_bad_rule_file_is_refused_with_line_and_column(tmp_path, text, where):
    path = str(tmp_path / "bad.yaml")
    with open(path, "w") as f:
        f.write(text)
    r = run_ksight(["guard", "--rules", path])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "ksight guard: %s:%s\n" % (path, where)


def test_read_rule_needs_a_literal_file_name(tmp_path):
    path = str(tmp_path / "r.yaml")
    with open(path, "w") as f:
        f.write("rules:\n  - name: reads\n    event: read\n    path: '/etc/*'\n")
    r = run_ksight(["guard", "--rules", path])
    assert r.returncode == 2
    assert r.stderr == ("ksight guard: rule 'reads' (%s:2): a read rule's paths must end in a "
                        "literal file name shorter than 64 bytes, not '/etc/*'\n" % path)


def test_missing_rule_file():
    r = run_ksight(["guard", "--rules", "/nonexistent/rules.yaml"])
    assert (r.returncode, r.stderr) == (2, "ksight guard: /nonexistent/rules.yaml: No such file "
                                           "or directory\n")


def test_list_rules(tmp_path):
    r = run_ksight(["guard", "--list-rules"])
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    rows = [l.split() for l in lines[1:] if not l.startswith("    ")]
    assert lines[0].split() == ["RULE", "SEVERITY", "ON", "EVENTS", "FROM"]
    assert [row[0] for row in rows] == DEFAULT_RULES
    assert all(row[2] == "yes" for row in rows)
    assert sum(l.startswith("    sees: ") for l in lines) == len(DEFAULT_RULES)
    assert sum(l.startswith("    not seen: ") for l in lines) == len(DEFAULT_RULES)
    # every file rule says what it sees of io_uring (this kernel has its tracepoints)
    assert sum(l.startswith("    sees: ") and "; io_uring WRITE/WRITEV/WRITE_FIXED" in l
               for l in lines) == 10
    rules = str(tmp_path / "r.yaml")
    with open(rules, "w") as f:
        f.write(RULES.format(dir="/srv"))
    r = run_ksight(["guard", "--rules", rules, "--list-rules", "--json"])
    assert r.returncode == 0
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert [x["rule"] for x in recs] == DEFAULT_RULES + ["test-dat-writes"]
    on = {x["rule"]: x["enabled"] for x in recs}
    assert on["exec-world-writable"] is False and on["test-dat-writes"] is True
    assert sum(on.values()) == len(DEFAULT_RULES)
    assert recs[-1]["events"] == "write" and recs[-1]["severity"] == "low"


FLOOD = """\
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
print("ready %d" % os.getpid(), flush=True)
sys.stdin.readline()
for i in range(n):
    os.close(os.open(d + ".other/plain", os.O_WRONLY | os.O_CREAT))
    os.close(os.open(d + ".other/plain", os.O_RDONLY))
os.close(os.open(d + "/hit.dat", os.O_WRONLY | os.O_CREAT))
"""


def test_unwatched_opens_never_leave_the_kernel(tmp_path):
    """20,000 write and 20,000 read opens of an unwatched file and one watched write by one
    process (-p): exactly one record crosses the ring, one alert. (A file in the watched
    directory itself would go up: a glob's wildcard last component is filtered in user
    space, docs/guard.md.)"""
    d = str(tmp_path / "w")
    os.makedirs(d)
    os.makedirs(d + ".other")
    rules = str(tmp_path / "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES.format(dir=d))
    p = subprocess.Popen([sys.executable, "-c", FLOOD, d, "20000"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline().split()[1])
        k = Ksight(["guard", "--json", "--rules", rules, "-p", str(pid)])
        k.wait_ready()
        p.communicate("go\n", timeout=120)
        assert k.stop() == 0, k.stderr
    finally:
        p.kill()
        p.wait()
    assert p.returncode == 0
    alerts = k.records("alert")
    assert [(a["rule"], a["path"], a["pid"]) for a in alerts] == \
        [("test-dat-writes", d + "/hit.dat", pid)]
    st = k.stats()
    assert st["types"]["guard"] == {"events": 1, "lost": 0} and st["consistent"] is True
