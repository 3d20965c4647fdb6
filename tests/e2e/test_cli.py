# SPDX-License-Identifier: GPL-2.0
"""Bad input everywhere: exit 2 and exactly one line on stderr naming what was wrong,
nothing on stdout, nothing loaded. --help of every command: exit 0, Usage and Examples."""
import pytest

from conftest import run_ksight

COMMANDS = ["exec", "open", "biolat", "run", "status"]
# commands that take [INTERVAL [COUNT]]
POSITIONAL = ["open", "biolat", "run"]

# (arguments, text the one line must contain); every command takes these options
COMMON_BAD = [
    (["--bogus"], "--bogus"),
    (["-q"], "-q"),
    (["-p"], "-p"),
    (["--hooks"], "--hooks"),
    (["--ringbuf-size"], "--ringbuf-size"),
    (["-p", "0"], "-p"),
    (["-p", "abc"], "-p"),
    (["-p", "-5"], "-p"),
    (["-p", "12x"], "-p"),
    (["-p", ""], "-p"),
    (["--pid="], "-p"),
    (["-p", "99999999"], "-p"),
    (["-p", "4194304"], "no such process"),   # in range, never a pid (pid_max <= 2^22)
    (["-t", "0"], "-t"),
    (["-t", "4194304"], "no such thread"),
    (["-u", "-1"], "-u"),
    (["-u", "4294967295"], "-u"),
    (["-n", ""], "--comm"),
    (["--hooks", "bogus"], "--hooks"),
    (["--hooks=bogus"], "--hooks"),
    (["--ringbuf-size", "5000"], "--ringbuf-size"),
    (["--ringbuf-size", "1K"], "--ringbuf-size"),
    (["--ringbuf-size", "0"], "--ringbuf-size"),
    (["--ringbuf-size", "2G"], "--ringbuf-size"),
    (["--ringbuf-size", "8X"], "--ringbuf-size"),
    (["--duration", "0"], "--duration"),
    (["--duration", "-1"], "--duration"),
    (["--duration", "abc"], "--duration"),
    (["--json=yes"], "--json"),
    (["-o"], "-o"),
    (["-o", ""], "--output"),
]

# -o's checks; `status` takes -o with --live only
OUTPUT_BAD = [
    (["-o", "xml"], "unknown format 'xml'"),
    (["-o", "json,evnt"], "unknown record kind 'evnt'"),
    (["-o", "json:"], "no file after the colon"),
    (["-o", "table:/tmp/ksight-e2e-x"], "terminal only"),
    (["-o", "json:/nonexistent/ksight-e2e/x"], "No such file or directory"),
    (["--json", "-o", "table"], "stdout is taken"),
    (["-o", "json:/proc/ksight-e2e-x"], "-o json:/proc/ksight-e2e-x"),
]

CASES = [(c, a, w) for c in COMMANDS for a, w in COMMON_BAD]
CASES += [(c, a, w) for c in COMMANDS if c != "status" for a, w in OUTPUT_BAD]
CASES += [("status", ["--live"] + a, w) for a, w in OUTPUT_BAD]
CASES += [("status", ["-o", "json:/tmp/ksight-e2e-never-made"], "-o applies to --live only")]
CASES += [(c, ["0"], "interval") for c in POSITIONAL]
CASES += [(c, ["abc"], "interval") for c in POSITIONAL]
CASES += [(c, ["1", "0"], "count") for c in POSITIONAL]
CASES += [(c, ["1", "x"], "count") for c in POSITIONAL]
CASES += [(c, ["1", "2", "3"], "'3'") for c in POSITIONAL]
CASES += [
    ("exec", ["extra"], "'extra'"),
    ("exec", ["1"], "'1'"),
    ("status", ["extra"], "'extra'"),
    ("status", ["--live", "0"], "interval"),
    ("status", ["--live", "abc"], "interval"),
    ("status", ["--live", "1", "0"], "count"),
    ("exec", ["--max-args", "0"], "--max-args"),
    ("exec", ["--max-args", "21"], "--max-args"),
    ("open", ["5"], "interval"),                 # an interval needs --count
    ("open", ["--top", "0"], "--top"),
    ("open", ["--name", ""], "--name"),
    ("open", ["--name", "a" * 16], "--name"),
    ("open", ["--count", "--top"], "--top"),
    ("biolat", ["-d", "ksight-e2e-nodisk"], "ksight-e2e-nodisk"),
    ("biolat", ["-d", "../sda"], "-d"),
    ("biolat", ["-d"], "-d"),
]


def case_id(c):
    return " ".join([c[0]] + [a if a else "''" for a in c[1]])


def assert_one_line(r, what):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and r.stderr.endswith("\n"), r.stderr
    assert what in lines[0], lines[0]
    assert "ready" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("cmd,args,what", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input(cmd, args, what):
    line = assert_one_line(run_ksight([cmd] + args), what)
    assert line.startswith("ksight %s: " % cmd), line




@pytest.mark.parametrize("path", ["/nonexistent/ksight-e2e", "/tmp"])
def test_bad_cgroup_is_usage_error(path):
    assert_one_line(run_ksight(["open", "--cgroup", path, "--duration", "1"]), "--cgroup")


def test_no_command():
    r = run_ksight([])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("Usage: ksight COMMAND")
    for c in COMMANDS:
        assert "\n  %s " % c in r.stderr


@pytest.mark.parametrize("cmd", ["bogus", "-p", "--bogus", "OPEN"])
def test_unknown_command(cmd):
    r = run_ksight([cmd])
    assert_one_line(r, "'%s'" % cmd)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help(cmd):
    for flag in ("--help", "-h"):
        r = run_ksight([cmd, flag])
        assert r.returncode == 0 and r.stderr == ""
        assert r.stdout.startswith("Usage: ksight %s" % cmd)
        assert "\nExamples:\n" in r.stdout and "\nOptions:\n" in r.stdout
        for opt in ("--pid", "--hooks", "--json", "--help"):
            assert opt in r.stdout


def test_top_level_help():
    r = run_ksight(["--help"])
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("Usage: ksight COMMAND")
    for c in COMMANDS:
        assert "\n  %s " % c in r.stdout

