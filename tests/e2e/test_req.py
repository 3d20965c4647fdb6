# SPDX-License-Identifier: GPL-2.0
"""ksight req against real requests on loopback: an HTTP/1.1 server and clients (helpers
httpsrv.py and httpcli.py, Python's http.server and http.client; curl), and Debian's
redis-server with redis-benchmark and redis-cli, each on a port of its own. The
references are what the clients got (httpcli's and curl's status codes), what the server
answered (httpsrv's counts), and Redis' own INFO commandstats and errorstats. Client and
server both run here: every request is counted twice, once for each role."""
import collections
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import SCALE, SLOW, Helper, Ksight, free_port, run_ksight

HERE = os.path.dirname(os.path.abspath(__file__))
PY_HELPERS = os.path.join(HERE, "helpers")


def req(args):
    k = Ksight(["req", "--json"] + [str(a) for a in args])
    k.wait_ready()
    return k


class HttpServer:
    """httpsrv.py on 127.0.0.1 (a port of the kernel's choice); stop() gives [answered,
    answered 500]."""

    def __init__(self):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(PY_HELPERS, "httpsrv.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        words = self.proc.stdout.readline().decode().split()
        assert words and words[0] == "ready", words
        self.pid, self.port = int(words[1]), int(words[2])

    def stop(self):
        out, _ = self.proc.communicate(timeout=30 * SLOW)
        return [int(x) for x in out.split()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def http_client(port, n, k):
    """httpcli.py (a Helper: go(), then result())."""
    return Helper(os.path.join(PY_HELPERS, "httpcli.py"), port, n, k)


def parse_counts(words):
    """httpcli's 'GET 2xx 7 POST 5xx 2 ... ns T' as ({(method, status): count}, T)."""
    assert words[-2] == "ns", words
    return ({(words[i], words[i + 1]): int(words[i + 2]) for i in range(0, len(words) - 2, 3)},
            int(words[-1]))


def rows(k, pid=None, role=None):
    return [r for r in k.records("req")
            if (pid is None or r["pid"] == pid) and (role is None or r["role"] == role)]


def by_method_status(recs):
    c = collections.Counter()
    for r in recs:
        c[(r["method"], r["status"])] += r["requests"]
    return dict(c)


def assert_no_loss(k):
    st = k.stats()
    assert st["lost"] == 0 and st["consistent"] is True, st


@pytest.mark.kernels
@pytest.mark.parametrize("hooks", ["fentry", "tp_btf", "raw_tp", "tp"])
def test_http_exact(kernel_hooks, hooks):
    """N requests on one connection, K of them answered 500: both roles count each
    request once, with its method and status class, exactly as the client got them and
    the server answered them; errors are the 5xx ones."""
    if hooks == "fentry" and not kernel_hooks.usable("req", "fentry"):
        pytest.skip("this kernel refuses fentry: test_fentry_refused_here")
    n, k_fail = max(30 // SCALE, 6), 4
    srv = HttpServer()
    cli = None
    try:
        k = req(["--port", srv.port, "--hooks", hooks])
        cli = http_client(srv.port, n, k_fail)
        cli.go()
        want, took = parse_counts(cli.result())
    finally:
        if cli:
            cli.kill()
        answered = srv.stop()
        srv.kill()
        assert k.stop() == 0, k.stderr
    assert sum(want.values()) == n and answered == [n, k_fail]
    assert sum(c for (m, s), c in want.items() if s == "5xx") == k_fail
    for role, pid in (("client", cli.pid), ("server", srv.pid)):
        recs = rows(k, pid, role)
        assert by_method_status(recs) == want, (role, recs)
        assert sum(r["errors"] for r in recs) == k_fail
        assert all(r["proto"] == "http" for r in recs)
        if role == "server":
            assert {(r["lport"], r["raddr"], r["rport"]) for r in recs} == {(srv.port, "-", 0)}
        else:
            assert {(r["raddr"], r["rport"]) for r in recs} == {("127.0.0.1", srv.port)}
        assert all(r["hist"]["count"] == r["requests"] for r in recs), recs
    # latency: the server's answer lies inside the client's wait, which lies inside the
    # client's whole loop; but the client's wait starts when its write returns, and the
    # server may have read the request and begun before that (5.10 under qemu: 1.6 ms over
    # 6 requests): a margin per request
    lat = {role: sum(r["latency_sum_ns"] for r in rows(k, None, role))
           for role in ("client", "server")}
    assert 0 < lat["server"] < lat["client"] + n * 200000 * SLOW, (lat, took)
    assert 0 < lat["client"] < took, (lat, took)
    assert {r["pid"] for r in rows(k)} == {cli.pid, srv.pid}
    assert_no_loss(k)


@pytest.mark.kernels
def test_fentry_refused_here(kernel_hooks):
    if kernel_hooks.usable("req", "fentry"):
        pytest.skip("this kernel allows fentry")
    r = run_ksight(["req", "--hooks", "fentry", "--duration", "1"])
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "fentry" in r.stderr, r.stderr


def test_curl_and_port_filter():
    """curl's requests (several URLs on one connection), counted as curl printed their
    codes; a second server's traffic on another port stays out with --port."""
    if not shutil.which("curl"):
        pytest.skip("curl is not installed (make deps)")
    n, k_fail = max(20 // SCALE, 4), 3
    srv, other = HttpServer(), HttpServer()
    try:
        k = req(["--port", srv.port])
        urls = ["http://127.0.0.1:%d/%s/%d" % (srv.port, "fail" if i < k_fail else "ok", i)
                for i in range(n)]
        cmd = ["curl", "-s", "-w", "%{http_code}\\n"]
        for u in urls:
            cmd += ["-o", "/dev/null", u]
        cp = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        out, _ = cp.communicate(timeout=60 * SLOW)
        codes = collections.Counter(out.decode().split())
        other_cp = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                   "http://127.0.0.1:%d/fail" % other.port],
                                  stdout=subprocess.PIPE, timeout=60 * SLOW)
        assert other_cp.stdout == b"500"
    finally:
        answered, other_answered = srv.stop(), other.stop()
        srv.kill()
        other.kill()
        assert k.stop() == 0, k.stderr
    assert codes == {"200": n - k_fail, "500": k_fail} and answered == [n, k_fail]
    assert other_answered == [1, 1]
    for role, pid in (("client", cp.pid), ("server", srv.pid)):
        recs = rows(k, pid, role)
        assert by_method_status(recs) == {("GET", "2xx"): n - k_fail, ("GET", "5xx"): k_fail}
        assert sum(r["errors"] for r in recs) == k_fail
    assert {r["pid"] for r in rows(k)} == {cp.pid, srv.pid}
    assert_no_loss(k)


def test_per_process_and_conn():
    """-P: one row per process, role, method and status, no endpoints; --conn: the other
    end too (the client's port on the server's rows, the server's on the client's)."""
    n, k_fail = max(12 // SCALE, 6), 3
    srv = HttpServer()
    cli = None
    try:
        kp = req(["-P", "--port", srv.port])
        kc = req(["--conn", "--port", srv.port])
        cli = http_client(srv.port, n, k_fail)
        cli.go()
        want, _ = parse_counts(cli.result())
    finally:
        if cli:
            cli.kill()
        srv.stop()
        srv.kill()
        assert kp.stop() == 0, kp.stderr
        assert kc.stop() == 0, kc.stderr
    for k in (kp, kc):
        for role, pid in (("client", cli.pid), ("server", srv.pid)):
            assert by_method_status(rows(k, pid, role)) == want
        assert_no_loss(k)
    assert all("lport" not in r and "raddr" not in r for r in kp.records("req"))
    srv_rows, cli_rows = rows(kc, srv.pid, "server"), rows(kc, cli.pid, "client")
    ends = {(r["lport"], r["rport"]) for r in srv_rows}
    assert len(ends) == 1 and ends.pop()[0] == srv.port
    cport = srv_rows[0]["rport"]
    assert {(r["lport"], r["raddr"], r["rport"]) for r in cli_rows} == \
        {(cport, "127.0.0.1", srv.port)}


def test_agent_metrics():
    """`ksight run --modules req -p SERVER`: the summaries' interval counts add up to the
    server's requests and 500s, and /metrics has them per method and status class."""
    import urllib.request
    n, k_fail = max(12 // SCALE, 6), 4
    srv = HttpServer()
    mport = free_port()
    cli = None
    try:
        k = Ksight(["run", "--modules", "req", "-p", str(srv.pid), "--json", "--listen",
                    "127.0.0.1:%d" % mport, "1"])
        k.wait_ready()
        cli = http_client(srv.port, n, k_fail)
        cli.go()
        want, _ = parse_counts(cli.result())
        time.sleep(1.5)     # an interval: the registry has the kernel's rows
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10) as f:
            text = f.read().decode()
    finally:
        if cli:
            cli.kill()
        srv.stop()
        srv.kill()
        assert k.stop() == 0, k.stderr
    summ = [r for r in k.records("summary") if r["module"] == "req"]
    assert sum(r["http_requests"] for r in summ) == n, summ
    assert sum(r["http_errors"] for r in summ) == k_fail, summ
    assert sum(r["redis_requests"] for r in summ) == 0
    metrics = {}
    for line in text.splitlines():
        if line.startswith("ksight_req_requests_total{"):
            labels, val = line.rsplit(" ", 1)
            metrics[labels] = int(float(val))
    assert metrics == {'ksight_req_requests_total{proto="http",method="%s",status_class="%s"}'
                       % (m, s): c for (m, s), c in want.items()}, text
    assert_no_loss(k)


def test_interval_and_count():
    """`ksight req 1 2`: two reports, then it ends by itself."""
    k = Ksight(["req", "--json", "--port", str(free_port()), "1", "2"])
    assert k.wait(30) == 0, k.stderr
    assert len(k.records("stats")) >= 1


class Redis:
    """Debian's redis-server on a free loopback port, its files in a temporary
    directory, nothing saved."""

    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp, "--logfile", os.path.join(tmp, "log")],
            stdout=subprocess.DEVNULL)
        self.pid = self.proc.pid
        for _ in range(200):
            if self.cli("ping", check=False).stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not answer")

    def cli(self, *args, check=True):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=check,
                              timeout=30 * SLOW)

    def info(self, section):
        """INFO @section as {name: {field: value}} ('cmdstat_get:calls=3,...')."""
        res = {}
        for line in self.cli("info", section).stdout.decode().splitlines():
            if ":" in line and not line.startswith("#"):
                name, vals = line.split(":", 1)
                res[name] = dict(kv.split("=", 1) for kv in vals.split(","))
        return res

    def stop(self):
        if self.proc.poll() is None:
            self.cli("shutdown", "nosave", check=False)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def redis():
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server/redis-tools not installed (make deps)")
    tmp = tempfile.mkdtemp(prefix="ksight-req-redis.")
    r = Redis(tmp)
    yield r
    r.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def test_redis_exact(redis):
    """redis-benchmark's N SETs and N GETs (no pipelining) and K unknown commands from
    redis-cli: the server's rows per command equal its INFO commandstats, its error rows
    its errorstats; the benchmark's client rows equal -n."""
    n, k_bad = max(2000 // SCALE, 100), 3
    k = req(["--port", redis.port, "--proto", "redis"])
    try:
        redis.cli("config", "resetstat")
        bench = subprocess.Popen(["redis-benchmark", "-p", str(redis.port), "-n", str(n),
                                  "-c", "4", "-P", "1", "-t", "get,set", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert bench.wait(120 * SLOW) == 0
        bad = [redis.cli("nosuchcommand", str(i)) for i in range(k_bad)]
        assert all(b.stdout.startswith(b"ERR unknown command") for b in bad), bad
        cmds = redis.info("commandstats")
        errs = redis.info("errorstats")
    finally:
        assert k.stop() == 0, k.stderr
    assert int(cmds["cmdstat_set"]["calls"]) == n and int(cmds["cmdstat_get"]["calls"]) == n
    assert int(errs["errorstat_ERR"]["count"]) == k_bad
    srv = rows(k, redis.pid, "server")
    got = by_method_status(srv)
    assert got[("SET", "ok")] == n and got[("GET", "ok")] == n
    # the name's first 8 letters, upper-cased
    assert got[("NOSUCHCO", "error")] == k_bad
    assert sum(c for (m, s), c in got.items() if s == "error") == k_bad
    assert sum(r["errors"] for r in srv) == k_bad
    assert all(r["proto"] == "redis" and r["lport"] == redis.port for r in srv)
    assert by_method_status(rows(k, bench.pid, "client")).get(("SET", "ok")) == n
    assert by_method_status(rows(k, bench.pid, "client")).get(("GET", "ok")) == n
    cli_err = [r for r in rows(k, None, "client") if r["comm"] == "redis-cli"
               and r["status"] == "error"]
    assert sum(r["requests"] for r in cli_err) == k_bad
    assert {r["method"] for r in cli_err} == {"NOSUCHCO"}
    assert_no_loss(k)


def pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return dirs[-1] if dirs else None


@pytest.fixture
def postgres():
    """Debian's PostgreSQL: a private cluster in a temporary directory, listening on a free
    loopback port, as the postgres user; yields (bin dir, port)."""
    import pwd
    bindir = pg_bin()
    if not bindir or not shutil.which("psql"):
        pytest.skip("postgresql is not installed (make deps)")
    pw = pwd.getpwnam("postgres")
    tmp = tempfile.mkdtemp(prefix="ksight-req-pg.")
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    data, port = os.path.join(tmp, "data"), free_port()
    subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(bindir, "initdb"), "-D",
                    data, "-A", "trust"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, timeout=120 * SLOW)
    srv = subprocess.Popen(["runuser", "-u", "postgres", "--", os.path.join(bindir, "postgres"),
                            "-D", data, "-k", tmp, "-c", "listen_addresses=127.0.0.1",
                            "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if subprocess.run([os.path.join(bindir, "pg_isready"), "-q", "-h", "127.0.0.1",
                               "-p", str(port)]).returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("postgres did not start")
        yield bindir, port
    finally:
        srv.terminate()
        srv.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def test_postgres_exact(postgres):
    """pgbench's N transactions of one prepared SELECT (per client: one Parse, then Bind/
    Execute runs) and K failing queries from psql: the Bind requests are pgbench's
    transactions on both roles, the errors psql's ERROR lines."""
    bindir, port = postgres
    n, clients, k_bad = max(200 // SCALE, 20), 2, 3
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write("SELECT 1;\n")
    script.close()
    k = req(["--port", port, "--proto", "postgres"])
    try:
        bench = subprocess.Popen([os.path.join(bindir, "pgbench"), "-h", "127.0.0.1", "-p",
                                  str(port), "-U", "postgres", "-n", "-f", script.name, "-t",
                                  str(n // clients), "-c", str(clients), "-M", "prepared",
                                  "postgres"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out, _ = bench.communicate(timeout=120 * SLOW)
        assert bench.returncode == 0
        done = int(re.search(rb"actually processed: (\d+)/", out).group(1))
        errors = 0
        for _ in range(k_bad):
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                "-c", "select * from nosuchtable", "postgres"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60 * SLOW)
            errors += r.stderr.count(b"ERROR:")
    finally:
        os.unlink(script.name)
        assert k.stop() == 0, k.stderr
    assert done == n and errors == k_bad
    cli = by_method_status(rows(k, bench.pid, "client"))
    assert cli == {("PARSE", "ok"): clients, ("BIND", "ok"): n}, cli
    srv = [r for r in rows(k, None, "server") if r["comm"] == "postgres"]
    got = by_method_status(srv)
    assert got[("BIND", "ok")] == n and got[("PARSE", "ok")] == clients, got
    assert got[("QUERY", "error")] == k_bad and sum(r["errors"] for r in srv) == k_bad, got
    assert all(r["proto"] == "postgres" and r["lport"] == port for r in srv)
    assert_no_loss(k)


def test_help():
    r = run_ksight(["req", "--help"])
    assert r.returncode == 0 and "ksight req --port 6379" in r.stdout and "--proto" in r.stdout


@pytest.mark.parametrize("args,word", [
    (["--port", "0"], "--port"),
    (["--port", "70000"], "--port"),
    (["--port", "http"], "--port"),
    (["--proto", "ftp"], "ftp"),
    (["--proto", "pg"], "pg"),
    (["--proto", "http,smtp"], "smtp"),
    (["--proto", ","], "--proto"),
    (["-P", "--conn"], "-P"),
    (["--bogus"], "--bogus"),
    (["1", "2", "3"], ""),
])
def test_bad_input(args, word):
    r = run_ksight(["req"] + args)
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], r.stderr
