# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, bash). Starting and stopping tracers, waiting
# until they are attached, medians, the failure list and the summary table.
#
# Every script takes the build directory as its first argument (default: build) and its
# knobs from environment variables, which it prints back as the exact command.

# shellcheck disable=SC2034 # the variables are for the scripts that source this
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
HELPERS=$BUILD/bench/helpers
CPU=${CPU:-1}		# the CPU the measured loop is pinned to
SETTLE=${SETTLE:-1}	# seconds between "attached" and measuring
OPENSNOOP=/usr/sbin/opensnoop
BPFTRACE=/usr/bin/bpftrace
# The bpftrace peer: every openat with its path, like opensnoop (pointer saved at entry,
# string read at exit).
BPFTRACE_OPEN='tracepoint:syscalls:sys_enter_openat { @path[tid] = args->filename; }
tracepoint:syscalls:sys_exit_openat /@path[tid]/ {
	printf("%d %s %d %s\n", pid, comm, args->ret, str(@path[tid])); delete(@path[tid]); }'

FAILS=()
TMP=

# bench_fail MSG: something did not run as it should; the script exits 1 at the end.
bench_fail()
{
	FAILS+=("$*")
	echo "FAIL: $*" >&2
}

# On exit: stop what this shell started and still runs (its own jobs, by pid), remove TMP.
bench_cleanup()
{
	local p
	for p in $(jobs -pr); do
		kill -INT "$p" 2>/dev/null
		sleep 1
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}

# Other processes with tracing BPF attachments (links of tracing types, or perf events
# per `bpftool perf show`): they tax every measurement, "untraced" included.
other_tracers()
{
	bpftool -j perf show 2>/dev/null | python3 -c '
import json, os, sys
kinds = {"raw_tracepoint", "tracing", "perf_event", "kprobe", "kprobe_multi", "uprobe_multi"}
try:
    pids = {e["pid"] for e in json.load(sys.stdin)}
except ValueError:
    pids = set()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        for fd in os.listdir("/proc/%s/fd" % pid):
            p = "/proc/%s/fd/%s" % (pid, fd)
            if os.readlink(p) == "anon_inode:bpf_link" and any(
                    l.split()[1:2] and l.split()[1] in kinds for l in
                    open("/proc/%s/fdinfo/%s" % (pid, fd)) if l.startswith("link_type:")):
                pids.add(int(pid))
                break
    except OSError:
        pass
out = []
for pid in sorted(pids):
    try:
        out.append("%d %s" % (pid, open("/proc/%d/comm" % pid).read().strip()))
    except OSError:
        pass
print(", ".join(out) or "none")'
}

# bench_init NAME "KNOB=value ...": checks, packages, a private temporary directory, and
# the header: what ran, where and when.
bench_init()
{
	BENCH_NAME=$1
	if [ "$(id -u)" != 0 ]; then
		echo "$BENCH_NAME: must run as root (it loads BPF programs)" >&2
		exit 1
	fi
	if [ ! -x "$KSIGHT" ] || [ ! -x "$HELPERS/oploop" ] || [ ! -x "$HELPERS/readytime" ]; then
		echo "$BENCH_NAME: $KSIGHT or $HELPERS/* missing: run 'make all helpers'" >&2
		exit 1
	fi
	"$ROOT/scripts/install-deps.sh" libbpf-tools bpftrace bpftool util-linux procps \
		python3 || exit 1
	TMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "x" >"$TMP/file"
	echo "== $BENCH_NAME"
	echo "command: $2 bench/$BENCH_NAME.sh $(realpath --relative-to="$ROOT" "$BUILD")"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel:  $(uname -r)"
	echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
		"x $(nproc)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
	echo "ksight:  $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
	OTHERS=$(other_tracers)
	echo "other tracers running: $OTHERS"
	[ "$OTHERS" = none ] ||
		echo "WARNING: other tracers are attached: every figure, untraced included, pays for them"
}

# Wait until FILE has a line containing TEXT, PID dies, or SECS pass. Returns 0 if found.
wait_line()
{
	local file=$1 text=$2 pid=$3 secs=$4 i
	for ((i = 0; i < secs * 20; i++)); do
		grep -q -- "$text" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q -- "$text" "$file" 2>/dev/null
}

# Number of tracepoint/raw tracepoint attachments PID owns (bpftool perf show).
perf_attachments()
{
	bpftool -j perf show 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e.get("pid") == int(sys.argv[1])))' "$1"
}

# Number of perf event descriptors PID holds (counters opened by perf_event_open).
perf_fds()
{
	find "/proc/$1/fd" -lname 'anon_inode:\[perf_event\]' 2>/dev/null | wc -l
}

# start_tracer KIND ERRFILE CMD...: start a tracer with stdout on /dev/null and stderr in
# ERRFILE, wait until it is attached, then SETTLE seconds. KIND "ksight" waits for its
# "ready in" line, "floor" for floortrace's "floortrace: ready"; "peer:N" waits until the
# process owns N perf attachments (opensnoop and bpftrace print their header on stdout,
# which is /dev/null here); "fds:N" until it holds N perf event descriptors (perf stat:
# counters, no BPF). Sets TRACER_PID;
# returns 1 (and records a failure) if it died or did not attach within 60 s.
start_tracer()
{
	local kind=$1 err=$2 i text
	shift 2
	"$@" >/dev/null 2>"$err" &
	TRACER_PID=$!
	case $kind in
	ksight | floor)
		text=" ready in "
		[ "$kind" = floor ] && text="floortrace: ready"
		if ! wait_line "$err" "$text" "$TRACER_PID" 60; then
			bench_fail "not ready: $* ($(tail -3 "$err" | tr '\n' ' '))"
			stop_tracer "$TRACER_PID"
			return 1
		fi
		;;
	peer:* | fds:*)
		for ((i = 0; i < 600; i++)); do
			kill -0 "$TRACER_PID" 2>/dev/null || break
			if [ "${kind%%:*}" = fds ]; then
				[ "$(perf_fds "$TRACER_PID")" -ge "${kind#fds:}" ] && break
			else
				[ "$(perf_attachments "$TRACER_PID")" -ge "${kind#peer:}" ] && break
			fi
			sleep 0.1
		done
		if ! kill -0 "$TRACER_PID" 2>/dev/null || [ "$i" -ge 600 ]; then
			bench_fail "not attached: $* ($(tail -3 "$err" | tr '\n' ' '))"
			stop_tracer "$TRACER_PID"
			return 1
		fi
		;;
	esac
	sleep "$SETTLE"
}

# stop_tracer PID: SIGINT (what a user does), then again, then SIGKILL. Sets STOP_STATUS
# to the exit status; returns 1 if it took SIGKILL. Not in $(...): it must wait for PID.
stop_tracer()
{
	local pid=$1 i sig
	for sig in INT INT KILL; do
		kill -"$sig" "$pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$pid" 2>/dev/null || break
		echo "note: pid $pid still running 10 s after SIG$sig" >&2
	done
	wait "$pid" 2>/dev/null
	STOP_STATUS=$?
	[ "$sig" != KILL ]
}

# stop_ksight PID ERRFILE WHAT: stop a ksight started by start_tracer; it must exit 0 with
# a consistent "N events, M lost" line. Sets KS_EVENTS and KS_LOST ("-" if unknown).
stop_ksight()
{
	local pid=$1 err=$2 what=$3 line
	stop_tracer "$pid"
	line=$(grep -E '^[0-9]+ events, [0-9]+ lost' "$err" | tail -1)
	if [ "$STOP_STATUS" != 0 ] || [ -z "$line" ]; then
		bench_fail "$what exited $STOP_STATUS: $(tail -3 "$err" | tr '\n' ' ')"
	elif grep -q 'accounting mismatch\|malformed' <<<"$line"; then
		bench_fail "$what: $line"
	fi
	[ -n "$line" ] || line="- events, - lost"
	read -r KS_EVENTS _ KS_LOST _ <<<"$line"
}

# stop_floor PID ERRFILE: stop floortrace (bench/helpers/floortrace.c); it must exit 0 with
# its "N records, M lost" line. Sets FL_RECORDS and FL_LOST ("-" when unknown).
stop_floor()
{
	local line
	stop_tracer "$1"
	line=$(grep -E '^floortrace [a-z]+: [0-9]+ records, [0-9]+ lost' "$2" | tail -1)
	[ "$STOP_STATUS" = 0 ] && [ -n "$line" ] ||
		bench_fail "floortrace exited $STOP_STATUS: $(tail -2 "$2" | tr '\n' ' ')"
	[ -n "$line" ] || line="floortrace x: - records, - lost"
	read -r _ _ FL_RECORDS _ FL_LOST _ <<<"$line"
}

# stop_peer PID ERRFILE WHAT: stop opensnoop or bpftrace; it must exit 0 on SIGINT.
stop_peer()
{
	stop_tracer "$1" || bench_fail "$3 did not stop on SIGINT"
	[ "$STOP_STATUS" = 0 ] || bench_fail "$3 exited $STOP_STATUS: $(tail -3 "$2" | tr '\n' ' ')"
}

# run_loop OUTVAR ARGS...: oploop pinned to $CPU; stores "ops secs ns_per_op ops_per_s".
run_loop()
{
	local __var=$1 out
	shift
	if ! out=$(taskset -c "$CPU" "$HELPERS/oploop" "$@" 2>&1); then
		bench_fail "oploop $*: $out"
		printf -v "$__var" '%s' "- - - -"
		return 1
	fi
	printf -v "$__var" '%s' "$(awk '{print $2, $4, $6, $8}' <<<"$out")"
}

# median VALUES...: the median of the numeric values ("-" values are skipped), or "-".
median()
{
	printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | grep -v '^-$' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# loss A B C: A against the mean of B and C, in %, or "-" if any is missing.
loss()
{
	awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN {
		if (a == "-" || b == "-" || c == "-") print "-";
		else printf "%.1f\n", (1 - 2 * a / (b + c)) * 100 }'
}

# redis_rounds ROUNDS NCONF: ROUNDS rounds of the caller's `run_config I ROUND` (which sets
# LAST_GET and LAST_SET) over configurations 1..NCONF-1, each between two untraced runs
# (configuration 0), in an order that turns each round; each one's loss against the
# untraced runs either side is appended to LOSS_GET[I] and LOSS_SET[I].
redis_rounds()
{
	local r k i n=$(($2 - 1)) pget pset cget cset

	for ((r = 1; r <= $1; r++)); do
		run_config 0 "$r"
		pget=$LAST_GET
		pset=$LAST_SET
		for ((k = 0; k < n; k++)); do
			i=$(((k + r - 1) % n + 1))
			run_config "$i" "$r"
			cget=$LAST_GET
			cset=$LAST_SET
			run_config 0 "$r"
			LOSS_GET[$i]+=" $(loss "$cget" "$pget" "$LAST_GET")"
			LOSS_SET[$i]+=" $(loss "$cset" "$pset" "$LAST_SET")"
			pget=$LAST_GET
			pset=$LAST_SET
		done
	done
}

# ratio A B [FORMAT]: A / B, or "-" if either is missing.
ratio()
{
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf f "\n", a / b }'
}

# fmt NUMBER [FORMAT]: format a number, keeping "-".
fmt()
{
	awk -v a="$1" -v f="${2:-%.0f}" 'BEGIN { if (a == "-") print "-"; else printf f "\n", a }'
}

# verdict VALUE OP LIMIT: PASS or MISS against a target (OP is <= or ==), "-" if unknown.
verdict()
{
	awk -v a="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (a == "-") { print "-"; exit }
		ok = (op == "<=") ? a + 0 <= l + 0 : a + 0 == l + 0
		print ok ? "PASS" : "MISS" }'
}

# row CELLS...: one markdown table row.
row()
{
	local out="|" c
	for c in "$@"; do
		out+=" $c |"
	done
	echo "$out"
}

# netns_pair A B VA VB A_IP B_IP: network namespaces A and B joined by a veth pair (VA in
# A, VB in B), each end addressed /24 and up; A reuses TIME_WAIT ports over a wide range
# (for connection loops). Fails (non-zero) at the first step that does.
netns_pair()
{
	ip netns add "$1" && ip netns add "$2" &&
		ip link add "$3" netns "$1" type veth peer name "$4" netns "$2" &&
		ip -n "$1" addr add "$5/24" dev "$3" && ip -n "$1" link set "$3" up &&
		ip -n "$2" addr add "$6/24" dev "$4" && ip -n "$2" link set "$4" up &&
		ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.ip_local_port_range="1024 65000"
}

# "id name run_cnt run_time_ns" of every loaded BPF program.
bpf_progs()
{
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    print(p["id"], p.get("name", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0))'
}

# prog_costs NAME LOAD BIN ARGS...: `BIN ARGS` (a ksight) started, and once it is ready
# LOAD (a command) run once with the kernel's BPF run-time statistics on (held by `ksight
# status --live`, nothing changed in sysctl): a row (NAME, program, runs, ns per run) for
# each of BIN's programs that ran. Less sensitive to the machine's load than wall times.
prog_costs()
{
	local name=$1 load=$2 bin=$3 err=$TMP/prog.err stats pid
	shift 3
	"$bin" "$@" >/dev/null 2>"$err" &
	pid=$!
	if ! wait_line "$err" " ready in " "$pid" 60; then
		bench_fail "$name not ready: $(tail -2 "$err" | tr '\n' ' ')"
		stop_tracer "$pid"
		return
	fi
	grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print $2 }' |
		sort -u >"$TMP/mine"
	"$KSIGHT" status --live 1 1000000 >/dev/null 2>&1 &
	stats=$!
	sleep 1
	bpf_progs | sort >"$TMP/p1"
	$load
	bpf_progs | sort >"$TMP/p2"
	stop_tracer "$stats"
	stop_ksight "$pid" "$err" "$name"
	join "$TMP/p1" "$TMP/p2" | while read -r id n c1 t1 _ c2 t2; do
		grep -qx "$id" "$TMP/mine" || continue
		[ $((c2 - c1)) -gt 0 ] || continue
		row "$name" "$n" $((c2 - c1)) \
			"$(awk -v a=$((t2 - t1)) -v b=$((c2 - c1)) 'BEGIN { printf "%.0f", a / b }')"
	done
}


# rotate_rounds FUNC: FUNC I R for each configuration I of NAMES in each round R of ROUNDS,
# the order rotating from round to round (a drift in the machine falls on every one).
rotate_rounds()
{
	local r k
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < ${#NAMES[@]}; k++)); do
			"$1" $(((k + r - 1) % ${#NAMES[@]})) "$r"
		done
	done
}

# median_table WHAT UNIT: a row per configuration of NAMES: the median of its NS values,
# its ratio to the first configuration's (untraced), and every round's value.
median_table()
{
	local i m base
	echo "| $1 | $2 | vs untraced | rounds |"
	echo "| --- | ---: | ---: | --- |"
	# shellcheck disable=SC2086
	base=$(median ${NS[0]})
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		# shellcheck disable=SC2086
		m=$(median ${NS[$i]})
		echo "| ${NAMES[$i]} | $m | $(ratio "$m" "$base")x |${NS[$i]} |"
	done
}

# wall_cpu_rounds: ROUNDS rounds of `one I` (the script's) for each configuration I of
# NAMES, the order rotating from round to round; after each, the NS (wall time per
# operation) and OP_CPU (ksight's CPU per operation, - untraced) it set are kept in the
# word lists WALL[I] and CPUS[I].
wall_cpu_rounds()
{
	local r k i
	declare -gA WALL CPUS
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#NAMES[@]}; k++)); do
			i=$(((k + r) % ${#NAMES[@]}))
			one "$i"
			WALL[$i]+=" $NS"
			CPUS[$i]+=" $OP_CPU"
		done
		echo "round $((r + 1)): done"
	done
}

# wall_cpu_table WALLWHAT CPUWHAT: a row per configuration of NAMES: the median of WALL,
# its ratio to the first configuration's (untraced), the median of CPUS.
wall_cpu_table()
{
	local i m c base
	echo
	echo "| tracer | $1 (median) | x untraced | $2 (median) |"
	echo "| --- | ---: | ---: | ---: |"
	# shellcheck disable=SC2086 # word lists on purpose
	base=$(median ${WALL[0]})
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		# shellcheck disable=SC2086
		m=$(median ${WALL[$i]})
		# shellcheck disable=SC2086
		c=$(median ${CPUS[$i]})
		row "${NAMES[$i]}" "$(fmt "$m")" "$(ratio "$m" "$base")" "$c"
	done
}

# bench_finish: the failure list and the exit status.
bench_finish()
{
	if [ ${#FAILS[@]} -ne 0 ]; then
		echo
		echo "$BENCH_NAME: ${#FAILS[@]} failure(s):"
		printf '  - %s\n' "${FAILS[@]}"
		exit 1
	fi
	echo
	echo "$BENCH_NAME: everything ran"
	exit 0
}
