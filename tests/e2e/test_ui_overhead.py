# SPDX-License-Identifier: GPL-2.0
"""The web UI's Overhead view (docs/ui.md) in Debian's chromium: what the agent costs and
what it lost, each number exactly the /metrics page the view drew, that page the agent's
own at that moment (CPU time and RSS against /proc of its pid), with --bpf-stats every
program's runs and run time; without them the view says how to get them. The browser and
its driver: test_ui.py."""
import os
import time

from prometheus_client.parser import text_string_to_metric_families

from conftest import SLOW, UNIQ, Helper, Ksight, free_port
from test_ui import Browser, get


def overhead_agent(*extra):
    port = free_port()
    k = Ksight(["run", "--modules", "open,exec", "--listen", "127.0.0.1:%d" % port]
               + list(extra) + ["1"])
    k.wait_ready()
    return k, port


def scrape(port):
    status, _, body = get("http://127.0.0.1:%d/metrics" % port)
    assert status == 200
    return body.decode()


def by_name(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append(s)
    return out


def drawn(b, port, enough):
    """The agent's page of /metrics now, and the Overhead view drawing that very page
    (the next interval may come between the two: then again with the next page), once
    the page has the agent's own series (its first interval's end brings them) and
    enough(view, families) holds. The view's answer and the page."""
    deadline = time.time() + 20 * SLOW     # intervals of 1 s: the counts need a few
    while True:
        text = scrape(port)
        got = b.do("overhead", text=text, timeout=3)
        m = by_name(text)
        if got["matched"] and "ksight_agent_cpu_seconds_total" in m and enough(got, m):
            return got, text
        if time.time() > deadline:
            raise AssertionError("the view never drew the agent's current page: %s" %
                                 got["note"])
        time.sleep(0.2)


def test_overhead_in_chromium(workdir):
    """The Overhead view shows exactly the page of /metrics it drew, and that page is the
    agent's own at that moment: events and lost per type (lost 0, none red), the outputs,
    the agent's CPU time and RSS (which agree with /proc of its pid), its CPU % and the
    chart, and with --bpf-stats every program's runs and run time."""
    n, comm = 2000, "koh%s" % UNIQ
    k, port = overhead_agent("--bpf-stats")
    b = Browser("http://127.0.0.1:%d/" % port)
    try:
        b.do("open")
        b.do("overview", pages=2)
        h = Helper("opener", "-c", comm, workdir, n)
        h.go()
        assert h.result() == ["done", str(n // 2), str(n // 2)]
        got, text = drawn(b, port, lambda got, m: got["cpu"] is not None and sum(
            s.value for s in m["ksight_events_total"] if s.labels["type"] == "open") >= n)
        assert got["text"] == text and got["visible"] and got["state"] == "ok", got["note"]
        m = by_name(text)
        ev = {s.labels["type"]: s.value for s in m["ksight_events_total"]}
        lost = {s.labels["type"]: s.value for s in m["ksight_events_lost_total"]}
        assert ev["open"] >= n
        assert {r["type"]: r["events"] for r in got["types"]} == \
            {t: ev.get(t, 0) for t in set(ev) | set(lost)}
        assert {r["type"]: r["lost"] for r in got["types"]} == \
            {t: lost.get(t, 0) for t in set(ev) | set(lost)}
        assert lost and all(v == 0 for v in lost.values()), lost
        assert not any(r["red"] for r in got["types"]) and got["lost"] == 0
        assert got["lost_shown"] == "0"
        assert {r["sink"]: r["records"] for r in got["sinks"]} == \
            {s.labels["sink"]: s.value for s in m.get("ksight_sink_records_total", [])}
        assert all(r["dropped"] == 0 for r in got["sinks"])

        # the agent's own cost: the page's values are the scrape's, and the scrape's
        # agree with what the kernel says of the agent's pid right after
        cpu = m["ksight_agent_cpu_seconds_total"][0].value
        rss = m["ksight_agent_resident_bytes"][0].value
        assert got["cpu_total"] == cpu and got["rss"] == rss
        with open("/proc/%d/stat" % k.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        assert 0 < cpu <= ticks + 0.05, (cpu, ticks)
        with open("/proc/%d/statm" % k.proc.pid) as f:
            now_rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        assert 0.5 * now_rss <= rss <= 2 * now_rss, (rss, now_rss)
        assert got["cpu"] is not None and 0 <= got["cpu"] <= 100 * os.cpu_count()
        assert got["chart"]

        # with --bpf-stats: the per-program table, each row the scrape's runs and time
        assert m["ksight_bpf_stats_enabled"][0].value == 1
        assert got["bpf_stats"] == "on" and not got["programs_hidden"]
        runs = {(s.labels["module"], s.labels["program"]): s.value
                for s in m["ksight_bpf_prog_runs_total"]}
        secs = {(s.labels["module"], s.labels["program"]): s.value
                for s in m["ksight_bpf_prog_run_seconds_total"]}
        assert {(p["module"], p["program"]): p["runs"] for p in got["programs"]} == runs
        assert {(p["module"], p["program"]): p["seconds"] for p in got["programs"]} == secs
        # each open ran a program at least once (open's handlers are tail calls: their
        # runs count in core's dispatcher, docs/run.md)
        assert sum(runs.values()) >= n and sum(secs.values()) > 0
        b.do("screenshot", name="overhead")
    finally:
        b.close()
        k.stop()


def test_overhead_says_bpf_stats_off():
    """Without --bpf-stats (and the sysctl off) the kernel counts no run time: the view
    says to run with --bpf-stats and shows no program table."""
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        assert f.read().strip() == "0", "kernel.bpf_stats_enabled is on for the machine"
    k, port = overhead_agent()
    b = Browser("http://127.0.0.1:%d/" % port)
    try:
        b.do("open")
        b.do("overview", pages=2)
        got, text = drawn(b, port, lambda got, m: True)
        m = by_name(text)
        assert m["ksight_bpf_stats_enabled"][0].value == 0
        assert got["bpf_stats"] == "off" and "run with --bpf-stats" in got["prog_note"]
        assert got["programs_hidden"] and got["programs"] == []
        assert got["state"] == "ok"
        b.do("screenshot", name="overhead-no-bpf-stats")
    finally:
        b.close()
        k.stop()
