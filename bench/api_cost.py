#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""What /api/events costs the agent: its CPU per open event while a process opens N files,
with no stream, one stream taking every open (read as fast as it comes), 100 streams whose
filter matches nothing, and --json to /dev/null (the same formatting, to a pipe) -- in
rotating order within each round. Also each config's events delivered and lost.

  bench/api_cost.py BUILD        (knobs: ROUNDS=5 N=200000)
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
KSIGHT = os.path.join(BUILD, "ksight")
OPENER = os.path.join(BUILD, "tests", "e2e", "helpers", "opener")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
N = int(os.environ.get("N", "200000"))
CONFIGS = ["none", "stream1", "idle100", "json"]


def cpu_s(pid):
    """CPU time of every thread of @pid, in seconds (schedstat: ns)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream(port, query):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/events%s HTTP/1.0\r\n\r\n" % query.encode())
    buf = b""
    while b": ksight /api/events\n\n" not in buf:
        buf += s.recv(65536)
    return s, buf.split(b": ksight /api/events\n\n", 1)[1]


def drain(s, rest, out):
    tail = b"\n\n" + rest     # every message after the greeting starts after a blank line
    n = tail.count(b"\n\ndata: ")
    s.settimeout(3)
    try:
        while True:
            got = s.recv(1 << 20)
            if not got:
                break
            chunk = tail[-7:] + got
            n += chunk.count(b"\n\ndata: ")
            tail = got
    except socket.timeout:
        pass
    out.append(n)


def one(config, workdir):
    port = free_port()
    args = [KSIGHT, "run", "--modules", "open", "--listen", "127.0.0.1:%d" % port, "600"]
    if config == "json":
        args.append("--json")
    env = dict(os.environ, KSIGHT_STORE="none")
    k = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    line = b""
    while b" ready in " not in line:
        line = k.stderr.readline()
        if not line:
            raise SystemExit("ksight exited: %s" % k.wait())
    comm = "kbench%d" % os.getpid()
    socks, counts, readers = [], [], []
    if config == "stream1":
        s, rest = stream(port, "?type=open&comm=" + comm)
        t = threading.Thread(target=drain, args=(s, rest, counts))
        t.start()
        socks.append(s)
        readers.append(t)
    elif config == "idle100":
        for i in range(100):
            socks.append(stream(port, "?comm=nobody%d" % i)[0])
    h = subprocess.Popen([OPENER, "-c", comm, workdir, str(N)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    h.stdout.readline()
    time.sleep(0.3)
    c0 = cpu_s(k.pid)
    t0 = time.time()
    h.stdin.write(b"go\n")
    h.stdin.flush()
    h.communicate()
    time.sleep(1.0)         # the reader catches up
    c1 = cpu_s(k.pid)
    for t in readers:
        t.join(30)
    st = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/status" % port,
                                           timeout=10).read())
    for s in socks:
        s.close()
    k.send_signal(2)
    _, err = k.communicate(timeout=30)
    lost_line = [l for l in err.decode().splitlines() if " events, " in l]
    return {"ns_per_open": (c1 - c0) * 1e9 / N, "delivered": counts[0] if counts else None,
            "api_lost": st["api"]["events_lost"], "agent": lost_line[-1] if lost_line else "",
            "secs": time.time() - t0}


def main():
    print("command: ROUNDS=%d N=%d bench/api_cost.py %s" % (ROUNDS, N, BUILD))
    print("date: %s  kernel: %s  load: %s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                            time.gmtime()),
                                              os.uname().release, os.getloadavg()))
    print("ksight: %s" % subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                        stdout=subprocess.PIPE, text=True).stdout.strip())
    res = {c: [] for c in CONFIGS}
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "exists"), "w").close()
        for r in range(ROUNDS):
            order = CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]
            for c in order:
                x = one(c, d)
                res[c].append(x)
                print("round %d %-8s %7.1f ns/open  delivered %s  api lost %d  (%s)"
                      % (r, c, x["ns_per_open"], x["delivered"], x["api_lost"], x["agent"]))
    base = statistics.median(x["ns_per_open"] for x in res["none"])
    print("\n| config | agent CPU ns per open (median of %d) | vs no stream | delivered | "
          "lost by the API |" % ROUNDS)
    print("|---|---|---|---|---|")
    for c in CONFIGS:
        med = statistics.median(x["ns_per_open"] for x in res[c])
        dl = [x["delivered"] for x in res[c] if x["delivered"] is not None]
        print("| %s | %.0f | %.2fx | %s | %s |" % (
            c, med, med / base, "%d/%d" % (min(dl), N) if dl else "-",
            max(x["api_lost"] for x in res[c])))


main()
