#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What naming remote nodes by DNS costs the agent (docs/map.md, "DNS names"): N DNS
# lookups over loopback in a private network namespace (bench/dns_pingpong.py: a client
# sends an A query, a responder answers with a CNAME and two A records; the client waits
# for each answer), untraced, under another build's agent (MAIN, e.g. main's, which
# captures no DNS), under this build's (the kernel copies each response received from
# port 53 into the ring buffer, the agent decodes it and puts its addresses in the name
# table), and under bpftrace counting the same calls per process.
#
#   [ROUNDS=5] [N=20000] [CPU=1] MAIN=/work/main/build/ksight bench/dnsnames_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates), runs the lookups with both
# processes pinned to CPU, and stops the tracer. Prints per tracer the median wall ns per
# lookup, its ratio to untraced, and for the agents the CPU time the ksight process used
# (every thread) per lookup.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
MAIN=${MAIN:-/work/main/build/ksight}
PINGPONG=$ROOT/bench/dns_pingpong.py
BPFTRACE_UDP='tracepoint:syscalls:sys_exit_sendto, tracepoint:syscalls:sys_exit_recvfrom
	{ @[pid, probe] = count(); }'
NAMES=("untraced" "agent (MAIN's build)" "agent (this build)" "bpftrace")

bench_init dnsnames_cost "ROUNDS=$ROUNDS N=$N CPU=$CPU MAIN=$MAIN"
[ -x "$MAIN" ] || bench_fail "MAIN=$MAIN missing"

cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# lookups: N queries answered, in a network namespace of their own (port 53 on its lo).
lookups()
{
	local out
	out=$(unshare -n sh -c 'ip link set lo up && exec taskset -c "$0" python3 "$1" "$2"' \
		"$CPU" "$PINGPONG" "$N") || bench_fail "dns_pingpong: $out"
	NS=${out%% *}
}

one()
{
	local i=$1 err=$TMP/err.$1 c0 c1
	NS=-
	OP_CPU=-
	case $i in
	0) TRACER_PID= ;;
	1) start_tracer ksight "$err" "$MAIN" run --modules udp --no-store --listen none || return ;;
	2) start_tracer ksight "$err" "$KSIGHT" run --modules udp --no-store --listen none || return ;;
	3) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_UDP" || return ;;
	esac
	[ -n "$TRACER_PID" ] && c0=$(cpu_ns "$TRACER_PID")
	lookups
	case $i in
	1 | 2)
		sleep 1.5	# the interval's collect, in the CPU figure
		c1=$(cpu_ns "$TRACER_PID")
		OP_CPU=$(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.0f\n", (b - a) / n }')
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	3) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
}

wall_cpu_rounds
wall_cpu_table "ns per lookup" "ksight CPU ns per lookup"
bench_finish
