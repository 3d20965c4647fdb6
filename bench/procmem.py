#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""procmem PID: the memory a tracer process holds, user and kernel side, on one line:

  rss_kb R hwm_kb H anon_kb A file_kb F bpfmap_rss_kb B maps M map_bytes MB progs P prog_bytes PB

rss/hwm/anon/file: VmRSS, VmHWM, RssAnon, RssFile from /proc/PID/status. bpfmap_rss_kb:
the part of VmRSS that is BPF maps mmap'ed into the process (a BPF ring buffer's data pages
are mapped twice, so an 8 MiB ring buffer shows as 16 MiB of RSS while using 8 MiB).
maps/map_bytes: the BPF maps the process holds a file descriptor to (map ids from
/proc/PID/fdinfo) and the sum of their "bytes_memlock" from `bpftool -j map show`, the
kernel memory they pin. progs/prog_bytes: the same for BPF programs. Debian 12's bpftool
is built without the "pids" feature, hence the fdinfo walk.
"""
import json
import os
import re
import subprocess
import sys


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out


def bpfmap_rss(pid):
    kb, name = 0, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                fields = line.split()
                name = fields[5] if len(fields) > 5 else ""
            elif line.startswith("Rss:") and name == "anon_inode:bpf-map":
                kb += int(line.split()[1])
    return kb


def held_ids(pid):
    """Map and program ids the process holds a file descriptor to."""
    maps, progs = set(), set()
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            target = os.readlink(os.path.join(d, fd))
            if target not in ("anon_inode:bpf-map", "anon_inode:bpf-prog"):
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        if "map_id" in info:
            maps.add(int(info["map_id"]))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return maps, progs


def memlock(kind, ids):
    out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                         check=True).stdout
    return sum(e.get("bytes_memlock", 0) for e in json.loads(out) if e["id"] in ids)


def main():
    pid = int(sys.argv[1])
    st = status(pid)
    maps, progs = held_ids(pid)
    print("rss_kb %d hwm_kb %d anon_kb %d file_kb %d bpfmap_rss_kb %d maps %d map_bytes %d "
          "progs %d prog_bytes %d" % (st["VmRSS"], st["VmHWM"], st["RssAnon"], st["RssFile"],
                                      bpfmap_rss(pid), len(maps), memlock("map", maps),
                                      len(progs), memlock("prog", progs)))


if __name__ == "__main__":
    main()
