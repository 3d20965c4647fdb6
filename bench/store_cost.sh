#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the agent's store costs on an exec-heavy load: the agent without a store, with one,
# against no tracer and the peers (execsnoop, bpftrace printing each exec).
#
#   [ROUNDS=5] [N=5000] [CPU=1] [SETTLE=1] bench/store_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates), waits until it is attached,
# runs a shell loop of N fork+exec of /bin/true pinned to CPU, and stops the tracer.
# Prints per tracer the median wall ns per exec cycle and its ratio to untraced, and for
# the agents the CPU time the ksight process used during the loop (every thread: reader,
# identity worker, store writer), per exec; then the store's size per exec kept.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-5000}
EXECSNOOP=/usr/sbin/execsnoop
BPFTRACE_EXEC='tracepoint:syscalls:sys_enter_execve { printf("%d %s %s\n", pid, comm,
	str(args->filename)); }'
NAMES=("untraced" "ksight run --no-store" "ksight run --store" "execsnoop" "bpftrace")

bench_init store_cost "ROUNDS=$ROUNDS N=$N CPU=$CPU SETTLE=$SETTLE"
[ -x "$EXECSNOOP" ] || bench_fail "$EXECSNOOP missing"
"$ROOT/scripts/install-deps.sh" sqlite3 || exit 1

# cpu_ns PID: the CPU time of every thread of PID so far, in ns (schedstat).
cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# one I: start tracer I, time the loop; sets NS (per exec) and OP_CPU (tracer, us per exec).
one()
{
	local i=$1 err=$TMP/err.$1 t0 t1 c0 c1
	NS=-
	OP_CPU=-
	case $i in
	0) TRACER_PID= ;;
	1) start_tracer ksight "$err" "$KSIGHT" run --no-store --listen none || return ;;
	2) rm -f "$TMP"/k.db*
	   start_tracer ksight "$err" "$KSIGHT" run --store "$TMP/k.db" --listen none || return ;;
	3) start_tracer peer:2 "$err" "$EXECSNOOP" || return ;;
	4) start_tracer peer:1 "$err" "$BPFTRACE" -e "$BPFTRACE_EXEC" || return ;;
	esac
	[ -n "$TRACER_PID" ] && c0=$(cpu_ns "$TRACER_PID")
	t0=$(date +%s%N)
	taskset -c "$CPU" sh -c 'i=0; while [ $i -lt '"$N"' ]; do /bin/true; i=$((i+1)); done'
	t1=$(date +%s%N)
	[ -n "$TRACER_PID" ] && c1=$(cpu_ns "$TRACER_PID")
	NS=$(((t1 - t0) / N))
	case $i in
	1 | 2)
		OP_CPU=$(awk -v a="$c0" -v b="$c1" -v n="$N" \
			'BEGIN { printf "%.2f\n", (b - a) / 1e3 / n }')
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	3 | 4) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	if [ "$i" = 2 ]; then
		KEPT=$(sqlite3 "$TMP/k.db" "SELECT count(*) FROM events WHERE comm = 'true'")
		SEEN=$(sqlite3 "$TMP/k.db" "SELECT sum(value) FROM rollups WHERE metric = \
'ksight_exec_execs_total' AND labels = '{\"comm\":\"true\"}'")
		BYTES=$(du -b "$TMP/k.db" | cut -f1)
		# the store holds every exec the agent counted (its registry's rollups); the agent
		# itself may miss the loop's first execs on a loaded machine, where its last
		# modules attach a little after "ready" and SETTLE
		[ "$KEPT" = "$SEEN" ] || bench_fail "the store kept $KEPT execs of true, the" \
			"agent counted $SEEN: $(grep -E 'lost|dropped' "$TMP/err.2" | tail -2 | tr '\n' ' ')"
		[ "$SEEN" -ge "$N" ] || echo "note: the agent counted $SEEN of the $N execs (loaded machine)"
		SIZES+=("$(awk -v b="$BYTES" -v k="$KEPT" 'BEGIN { printf "%.0f\n", b / k }')")
	fi
}

SIZES=()
wall_cpu_rounds
wall_cpu_table "ns per exec" "ksight CPU us per exec"
echo
# shellcheck disable=SC2086
echo "store: $(median "${SIZES[@]}") bytes of database per exec kept (median of ${#SIZES[@]})"
bench_finish
