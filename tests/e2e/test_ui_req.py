# SPDX-License-Identifier: GPL-2.0
"""The web UI's map with the requests on its edges (docs/ui.md): test_map_req's workload
(an HTTP server in a watched unit in one network namespace; from another, a client the
agent does not watch and one in a watched unit), and Debian's chromium driven by
Playwright (tests/ui/drive.js): each of the two edges into the server is labelled with its
port and, on a second line, its requests per second over the map's window, their p99 and how many failed,
exactly what /api/map says of it; the watched client's page lists the requests (and
how many failed) and their p99 on its edge out."""
import json
import urllib.request

from conftest import Ksight, free_port
from tcp_util import PORT, nspair  # noqa: F401 (a fixture)
from test_map_req import (E_BOTH, E_REMOTE, N_BOTH, N_REMOTE, SERVER, Tree, client, in_ns,
                          stop_all)
from test_ui import Browser


def js_fmt(v, digits):
    """web/common.js's fmt()."""
    return str(round(v)) if abs(v) >= 100 or v == int(v) else "%.*f" % (digits, v)


def js_ns(ns):
    """web/common.js's fmtNs()."""
    return ("%.2f s" % (ns / 1e9) if ns >= 1e9 else "%.2f ms" % (ns / 1e6) if ns >= 1e6
            else "%.1f µs" % (ns / 1e3) if ns >= 1e3 else "%d ns" % ns)


def test_edges_requests_in_chromium(nspair, tmp_path):
    t = Tree()
    srv = k = b = None
    port, lport = PORT + 22, free_port()
    base = "http://127.0.0.1:%d" % lport
    a_addr, b_addr = nspair.ip4
    try:
        k = Ksight(["run", "--modules", "tcplife,req", "--cgroup", t.top.path, "--listen",
                    "127.0.0.1:%d" % lport, "--store", str(tmp_path / "k.db"), "1"])
        k.wait_ready()
        srv = in_ns(nspair.b, SERVER, b_addr, port, cgroup=t.srv)
        assert srv.stdout.readline().strip() == "ready"
        client(nspair.a, b_addr, port, N_REMOTE, E_REMOTE)
        client(nspair.a, b_addr, port, N_BOTH, E_BOTH, cgroup=t.cli)
        srv.kill()
        srv.wait()
        b = Browser(base + "/")
        b.do("open")
        got = {}
        for cli, n in ((a_addr, N_REMOTE), (t.cli.name, N_BOTH)):
            got[cli] = b.do("map_edge", client=cli, server=t.srv.name, port=port, reqs=n)
        b.do("screenshot", name="map-requests")
        with urllib.request.urlopen(base + "/api/map", timeout=30) as h:
            m = json.loads(h.read())
        for cli, errs in ((a_addr, E_REMOTE), (t.cli.name, E_BOTH)):
            e = [x for x in m["edges"] if (x["client"], x["server"], x["port"]) ==
                 (cli, t.srv.name, port)][0]
            assert e["request_errors"] == errs, e
            want = ":%d\n%s req/s, p99 %s, %d failed" % (
                port, js_fmt(e["requests"] / m["secs"], 3), js_ns(e["request_p99_ns"]), errs)
            assert (got[cli]["label"], got[cli]["drawn"], got[cli]["req_p99"]) == \
                (want, want, e["request_p99_ns"]), (got[cli], e)
        # the watched client's page: its edge out with the requests and their p99
        page = b.do("service", name=t.cli.name, server=t.srv.name, all_cells=True)
        e = [x for x in m["edges"] if x["client"] == t.cli.name][0]
        out = [x for x in page["edges_out"] if x["server"] == t.srv.name]
        assert len(out) == 1 and out[0]["cells"][14:17] == [
            "0", "%d (%d failed)" % (N_BOTH, E_BOTH), js_ns(e["request_p99_ns"])], page
    finally:
        if b:
            b.close()
        stop_all(srv, k, t)
