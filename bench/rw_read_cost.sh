#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost of a 1-byte read() while every read of the process is streamed, against no tracer,
# bpftrace printing each read of the pid, and floortrace (bench/helpers/floortrace.c: the
# least a tracer on the syscall tracepoints can do, so the floor of this kernel shows in
# the same run); and what a pid-filtered tracer costs another process's syscalls (getppid).
#
#   [ROUNDS=5] [REPS=3] [N=1000000] [NPPID=1000000] [CPU=1] bench/rw_read_cost.sh [BUILD]
#
# Each round runs every configuration in turn (the order rotates): rwloop pinned to CPU
# reads /dev/zero 1 byte at a time, N times, REPS times over (the fastest run counts: the
# one least disturbed by other load), with the tracer watching its pid and writing to
# /dev/null; then, with the same tracer still attached, another rwloop makes NPPID getppid
# calls, REPS times likewise. Prints the median ns per call of each configuration over
# ROUNDS.
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
N=${N:-1000000}
NPPID=${NPPID:-1000000}
rw_init rw_read_cost "ROUNDS=$ROUNDS REPS=$REPS N=$N NPPID=$NPPID CPU=$CPU"

NAMES=("untraced" "ksight rw -p PID" "ksight rw --summary -p PID" "ksight rw --no-latency -p PID"
	"bpftrace (printf each read)" "floor: empty sys_exit program" "floor: stream each read"
	"floor: stream each read, timed")
declare -a READ PPID_NS LOST

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2" prog
	loop_start -c "$CPU" -n "$N" -r "$REPS" zero
	case $i in
	1) start_ksight "$err" rw -p "$LOOP_PID" || return ;;
	2) start_ksight "$err" rw --summary -p "$LOOP_PID" || return ;;
	3) start_ksight "$err" rw --no-latency -p "$LOOP_PID" || return ;;
	5) start_floor "$err" attach -p "$LOOP_PID" || return ;;
	6) start_floor "$err" stream -p "$LOOP_PID" || return ;;
	7) start_floor "$err" latency -p "$LOOP_PID" || return ;;
	4)
		prog="tracepoint:syscalls:sys_exit_read /pid == $LOOP_PID/ {
			printf(\"%d %d %s %d\\n\", pid, tid, comm, args->ret); }"
		start_peer "$err" 1 "$BPFTRACE" -e "$prog" || return
		;;
	esac
	loop_run
	READ[$i]+=" $LOOP_NS"
	local read_ns=$LOOP_NS
	loop_start -c "$CPU" -n "$NPPID" -r "$REPS" getppid
	loop_run
	PPID_NS[$i]+=" $LOOP_NS"
	local note=""
	case $i in
	1 | 2 | 3)
		stop_ksight "$TRACER" "$err"
		LOST[$i]+=" $KS_LOST"
		note="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	4)
		stop_tracer "$TRACER"
		grep -i lost "$err" | tail -1
		;;
	5 | 6 | 7)
		stop_floor "$TRACER" "$err"
		LOST[$i]+=" $FL_LOST"
		note="  ($FL_RECORDS records, $FL_LOST lost)"
		;;
	esac
	printf '  round %d  %-32s read %7s ns  getppid %6s ns%s\n' "$r" "${NAMES[$i]}" "$read_ns" \
		"$LOOP_NS" "$note"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

echo
echo "1-byte read() of /dev/zero and another process's getppid(), ns per call, median of" \
	"$ROUNDS rounds (CPU $CPU)"
echo
row tracer "read ns" "x untraced" "getppid ns" "added ns" "lost"
row --- ---: ---: ---: ---: ---:
# shellcheck disable=SC2086
base=$(median ${READ[0]:-})
# shellcheck disable=SC2086
pbase=$(median ${PPID_NS[0]:-})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	m=$(median ${READ[$i]:-})
	# shellcheck disable=SC2086
	p=$(median ${PPID_NS[$i]:-})
	lost=-
	# shellcheck disable=SC2086
	[ -n "${LOST[$i]:-}" ] && lost=$(printf '%s\n' ${LOST[$i]} | awk '{ s += $1 } END { print s }')
	row "${NAMES[$i]}" "$m" "$(ratio "$m" "$base")" "$p" \
		"$(awk -v a="$p" -v b="$pbase" 'BEGIN { if (a == "-" || b == "-") print "-";
			else printf "%+.0f\n", a - b }')" "$lost"
done
echo
echo "targets: ksight rw <= 2.0x untraced; getppid of another process <= +100 ns"
rw_finish
