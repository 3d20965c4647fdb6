# SPDX-License-Identifier: GPL-2.0
"""The session: its reader raises its own scheduling weight from the default nice so the
kernel's wakeups reach it in time under a flood, and leaves a nice the user chose alone;
-p says when the process has children it does not follow."""
import os
import subprocess
import sys

from conftest import Ksight, run_ksight


def nice_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def run_with_nice(prefix):
    k = Ksight(["open", "-p", str(os.getpid())], preexec=prefix)
    try:
        k.wait_ready()
        return nice_of(k.proc.pid)
    finally:
        k.stop()


def test_reader_boosted_from_default_nice():
    assert os.nice(0) == 0, "run the tests at nice 0"
    assert run_with_nice(None) == -5


def test_user_nice_respected():
    assert run_with_nice(lambda: os.nice(3)) == 3


def test_pid_with_children_noted():
    """-p filters on one process in the kernel: a forking server's children would look
    idle, so the start says how many there are (2 here), and says nothing without any."""
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys; kids = [subprocess.Popen(['sleep', '60']) for _ in range(2)];"
        "print('ready', flush=True); sys.stdin.read(); [k.kill() for k in kids]")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lone = subprocess.Popen(["sleep", "60"])
    try:
        assert parent.stdout.readline() == "ready\n"
        r = run_ksight(["open", "-p", str(parent.pid), "--duration", "1"])
        assert r.returncode == 0, r.stderr
        assert ("ksight open: note: -p %d is that process only, not its 2 child processes "
                "(--cgroup or -n takes them in)\n" % parent.pid) in r.stderr
        r = run_ksight(["open", "-p", str(lone.pid), "--duration", "1"])
        assert r.returncode == 0 and "note:" not in r.stderr, r.stderr
    finally:
        parent.communicate(timeout=10)    # closes its stdin: it kills its children
        lone.kill()
        lone.wait()
