#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost per io_uring request (a 1-byte read of /dev/zero, 32 per io_uring_enter) with rw
# attached, against no tracer and a bpftrace peer that does the same job (the request kept
# from submission to completion, one line printed per completion).
#
#   [ROUNDS=5] [REPS=3] [N=1000000] [BATCH=32] [CPU=1] bench/uring_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotates): uringloop pinned to CPU
# makes N requests REPS times over (the fastest repetition counts) with the tracer
# watching its pid (-p) and writing to /dev/null. Prints the median ns per request of each
# configuration over ROUNDS and its ratio to the untraced one.
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-1000000}
BATCH=${BATCH:-32}
LOOP=$BUILD/bench/helpers/uringloop
[ -x "$LOOP" ] || { echo "uring_cost: $LOOP missing: run 'make helpers'" >&2; exit 1; }
bench_init uring_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N BATCH=$BATCH CPU=$CPU"

NAMES=("untraced" "ksight rw -p PID" "ksight rw --summary --no-latency -p PID"
	"ksight run --modules rw -p PID" "bpftrace (submit->complete, printf each)")
declare -a NS

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2" out="$TMP/out.$1.$2" prog ns note=""
	coproc LOOPP { taskset -c "$CPU" "$LOOP" -b "$BATCH" -r "$REPS" "$N"; }
	local pid
	read -r _ pid <&"${LOOPP[0]}"
	case $i in
	1) start_tracer ksight "$err" "$KSIGHT" rw -p "$pid" --ringbuf-size 64M ;;
	2) start_tracer ksight "$err" "$KSIGHT" rw --summary --no-latency -p "$pid" ;;
	3) start_tracer ksight "$err" "$KSIGHT" run --modules rw -p "$pid" 1 ;;
	4)
		prog="tracepoint:io_uring:io_uring_submit_req /pid == $pid/ {
			@s[args->req] = nsecs; }
		tracepoint:io_uring:io_uring_complete /@s[args->req]/ {
			printf(\"%d %d %d\\n\", pid, args->res, nsecs - @s[args->req]);
			delete(@s[args->req]); }"
		start_tracer peer:2 "$err" "$BPFTRACE" -e "$prog"
		;;
	esac
	echo go >&"${LOOPP[1]}"
	read -r _ ns <&"${LOOPP[0]}"
	wait "$LOOPP_PID" 2>/dev/null
	NS[$i]+=" ${ns:--}"
	case $i in
	1 | 2 | 3)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		note="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	4) stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}" ;;
	esac
	printf '  round %d  %-44s %8s ns/request%s\n' "$r" "${NAMES[$i]}" "${ns:--}" "$note"
}

rotate_rounds run_config

echo
echo "1-byte io_uring read of /dev/zero ($BATCH per io_uring_enter), ns per request," \
	"median of $ROUNDS rounds (CPU $CPU)"
median_table tracer ns/request
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
[ ${#FAILS[@]} -eq 0 ] || { printf 'FAILED: %s\n' "${FAILS[@]}"; exit 1; }
