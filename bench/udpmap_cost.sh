#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the map's UDP edges cost the agent (docs/map.md, "UDP edges"): a UDP ping-pong over
# loopback (udpio, the e2e helper: N datagrams each answered), untraced, under another
# build's agent (MAIN, e.g. main's, which counts per process), under this build's (per
# flow, a udp_flow row per flow and interval into the store), and under bpftrace counting
# the same calls per process and peer port.
#
#   [ROUNDS=5] [N=20000] [CPU=1] [SETTLE=1] MAIN=/work/main/build/ksight \
#       bench/udpmap_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates), runs the exchange with both
# helpers pinned to CPU, and stops the tracer. Prints per tracer the median wall ns per
# round trip, its ratio to untraced, and for the agents the CPU time the ksight process
# used (every thread) per datagram; then this build's udp_flow rows for the exchange.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
MAIN=${MAIN:-/work/main/build/ksight}
UDPIO=$BUILD/tests/e2e/helpers/udpio
PORT=${PORT:-24711}
BPFTRACE_UDP='tracepoint:syscalls:sys_exit_sendto, tracepoint:syscalls:sys_exit_recvfrom
	{ @[pid, probe] = count(); }'
NAMES=("untraced" "agent (MAIN's build)" "agent (this build)" "bpftrace")

bench_init udpmap_cost "ROUNDS=$ROUNDS N=$N CPU=$CPU SETTLE=$SETTLE MAIN=$MAIN"
[ -x "$UDPIO" ] || bench_fail "$UDPIO missing: make helpers"
[ -x "$MAIN" ] || bench_fail "MAIN=$MAIN missing"
"$ROOT/scripts/install-deps.sh" sqlite3 || exit 1

cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# exchange: N datagrams of 100 bytes from a client to a server on loopback, each answered.
exchange()
{
	local srv cli
	taskset -c "$CPU" "$UDPIO" server 127.0.0.1 "$PORT" "$N" 100 >"$TMP/srv.out" &
	srv=$!
	wait_line "$TMP/srv.out" "ready" "$srv" 10 || bench_fail "udpio server not ready"
	coproc CLI { taskset -c "$CPU" "$UDPIO" client 127.0.0.1 "$PORT" "$N" 100 sendto; }
	cli=$CLI_PID
	read -r _ <&"${CLI[0]}"
	T0=$(date +%s%N)
	echo go >&"${CLI[1]}"
	read -r _ <&"${CLI[0]}"
	T1=$(date +%s%N)
	wait "$cli" "$srv"
}

one()
{
	local i=$1 err=$TMP/err.$1 c0 c1
	NS=-
	OP_CPU=-
	case $i in
	0) TRACER_PID= ;;
	1) rm -f "$TMP"/m.db*
	   start_tracer ksight "$err" "$MAIN" run --modules udp --store "$TMP/m.db" \
		   --listen none || return ;;
	2) rm -f "$TMP"/k.db*
	   start_tracer ksight "$err" "$KSIGHT" run --modules udp --store "$TMP/k.db" \
		   --listen none || return ;;
	3) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_UDP" || return ;;
	esac
	[ -n "$TRACER_PID" ] && c0=$(cpu_ns "$TRACER_PID")
	exchange
	[ -n "$TRACER_PID" ] && c1=$(cpu_ns "$TRACER_PID")
	NS=$(((T1 - T0) / N))
	case $i in
	1 | 2)
		sleep 1.5	# the interval's collect, in the CPU figure
		c1=$(cpu_ns "$TRACER_PID")
		OP_CPU=$(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.0f\n", (b - a) / (2 * n) }')
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	3) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	if [ "$i" = 2 ]; then
		ROWS=$(sqlite3 "$TMP/k.db" "SELECT count(*) || ' rows, ' || \
sum(json_extract(json, '$.tx_datagrams')) || ' datagrams sent' FROM events WHERE \
type = 'udp_flow' AND comm = 'udpio'")
	fi
}

wall_cpu_rounds
wall_cpu_table "ns per round trip" "ksight CPU ns per datagram"
echo
echo "this build's store, last round: $ROWS (udp_flow rows of udpio)"
bench_finish
