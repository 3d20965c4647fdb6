# SPDX-License-Identifier: GPL-2.0
"""The session's reader: it raises its own scheduling weight from the default nice so the
kernel's wakeups reach it in time under a flood, and leaves a nice the user chose alone."""
import os

from conftest import Ksight


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
