#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""progstats PID SECS: runs and ns per run of the BPF programs one process holds, over SECS.

Reads run_cnt and run_time_ns from /proc/PID/fdinfo of each BPF program fd at the start and
after SECS seconds; prints one line per program: "id NAME TYPE runs_per_s R ns_per_run N".
The kernel only counts while BPF statistics are on: run `ksight status --live` meanwhile
(it turns them on through a file descriptor, off again when it exits). Unlike `ksight
status --live`, which shows every ksight program on the machine, this is one process's.
Names are the kernel's (15 characters); TYPE is the program type number's name.
"""
import json
import os
import subprocess
import sys
import time

TYPES = {5: "tracepoint", 17: "raw_tracepoint", 26: "tracing", 2: "kprobe"}


def sample(pid):
    progs = {}
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        progs[int(info["prog_id"])] = (int(info["prog_type"]), int(info.get("run_cnt", 0)),
                                       int(info.get("run_time_ns", 0)))
    return progs


def main():
    pid, secs = int(sys.argv[1]), float(sys.argv[2])
    a = sample(pid)
    time.sleep(secs)
    b = sample(pid)
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    names = {p["id"]: p.get("name", "?") for p in json.loads(out)}
    for pid_, (typ, cnt, ns) in sorted(b.items()):
        if pid_ not in a:
            continue
        runs, t = cnt - a[pid_][1], ns - a[pid_][2]
        print("%d %s %s runs_per_s %.0f ns_per_run %s" % (
            pid_, names.get(pid_, "?"), TYPES.get(typ, str(typ)), runs / secs,
            "%.0f" % (t / runs) if runs else "-"))


if __name__ == "__main__":
    main()
