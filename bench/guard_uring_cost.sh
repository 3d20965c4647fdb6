#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight guard` (every default rule, machine-wide) costs an io_uring request it does
# not alert on (a 1-byte read of /dev/zero, 32 per io_uring_enter): its programs on
# io_uring_submit_req (once per process image) and io_uring_complete (the opcode looked
# at: writes and opens go further), against no tracer and a bpftrace peer doing the same
# job (one line per process's first request, the opcode read at every completion).
#
#   [ROUNDS=5] [REPS=3] [N=300000] [BATCH=32] [CPU=1] bench/guard_uring_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotates): uringloop pinned to CPU
# makes N requests REPS times over (the fastest repetition counts). Prints the median ns
# per request of each configuration over ROUNDS and its ratio to the untraced one.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-300000}
BATCH=${BATCH:-32}
LOOP=$BUILD/bench/helpers/uringloop
[ -x "$LOOP" ] || { echo "guard_uring_cost: $LOOP missing: run 'make helpers'" >&2; exit 1; }
bench_init guard_uring_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N BATCH=$BATCH CPU=$CPU"

NAMES=("untraced" "ksight guard" "bpftrace (first request, opcode at completion)")
BPFTRACE_URING='tracepoint:io_uring:io_uring_submit_req /!@u[pid]/ {
		@u[pid] = 1; printf("io_uring %d %s\n", pid, comm); }
	tracepoint:io_uring:io_uring_complete {
		$op = ((struct io_kiocb *)args->req)->opcode;
		if ($op == 2 || $op == 23 || $op == 18) { printf("%d %d\n", pid, $op); } }'
declare -a NS

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2" ns note=""
	case $i in
	1) start_tracer ksight "$err" "$KSIGHT" guard || return ;;
	2) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_URING" || return ;;
	esac
	coproc LOOPP { taskset -c "$CPU" "$LOOP" -b "$BATCH" -r "$REPS" "$N"; }
	local pid
	read -r _ pid <&"${LOOPP[0]}"
	echo go >&"${LOOPP[1]}"
	read -r _ ns <&"${LOOPP[0]}"
	wait "$LOOPP_PID" 2>/dev/null
	NS[$i]+=" ${ns:--}"
	case $i in
	1)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		note="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	2) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	printf '  round %d  %-48s %8s ns/request%s\n' "$r" "${NAMES[$i]}" "${ns:--}" "$note"
}

rotate_rounds run_config

echo
echo "1-byte io_uring read of /dev/zero ($BATCH per io_uring_enter), ns per request," \
	"median of $ROUNDS rounds (CPU $CPU)"
median_table tracer ns/request
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
[ ${#FAILS[@]} -eq 0 ] || { printf 'FAILED: %s\n' "${FAILS[@]}"; exit 1; }
