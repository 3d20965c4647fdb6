#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lossless throughput of the shared ring buffer: two threads read /dev/zero 1 byte at a
# time as fast as they can while `ksight rw -p PID` streams every call to /dev/null.
#
#   [ROUNDS=5] [SECS=10] [THREADS=2] [ARGS=] bench/rw_throughput.sh [BUILD]
#
# ARGS are added to ksight's (e.g. "--json", "--ringbuf-size 64M"). Prints, per round and
# as medians: calls the threads made, events ksight delivered per second, events lost, and
# ksight's own CPU (user + system) as a share of one CPU. For comparison the same loop runs
# once untraced and once under bpftrace printing each read of the pid.
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
THREADS=${THREADS:-2}
ARGS=${ARGS:-}
rw_init rw_throughput "ROUNDS=$ROUNDS SECS=$SECS THREADS=$THREADS ARGS=\"$ARGS\""

declare -a RATE LOSTS CPUS

loop_start -t "$THREADS" -d "$SECS" zero
loop_run
untraced=$(awk -v c="$LOOP_CALLS" -v s="$LOOP_SECS" 'BEGIN { printf "%.0f\n", c / s }')
echo "  untraced: $LOOP_CALLS calls in $LOOP_SECS s ($untraced calls/s)"

for ((r = 1; r <= ROUNDS; r++)); do
	err=$TMP/err.$r
	loop_start -t "$THREADS" -d "$SECS" zero
	# shellcheck disable=SC2086
	start_ksight "$err" rw -p "$LOOP_PID" $ARGS || continue
	c0=$(cpu_ms "$TRACER")
	loop_run
	sleep 0.5	# the last wakeup
	c1=$(cpu_ms "$TRACER")
	stop_ksight "$TRACER" "$err"
	rate=$(awk -v e="$KS_EVENTS" -v s="$LOOP_SECS" 'BEGIN {
		if (e == "-") print "-"; else printf "%.0f\n", e / s }')
	cpu=$(awk -v a="$c0" -v b="$c1" -v s="$LOOP_SECS" 'BEGIN {
		printf "%.0f\n", (b - a) / (s * 10) }')
	RATE+=("$rate")
	LOSTS+=("$KS_LOST")
	CPUS+=("$cpu")
	printf '  round %d: %s calls, %s events delivered (%s/s), %s lost, ksight CPU %s%%\n' \
		"$r" "$LOOP_CALLS" "$KS_EVENTS" "$rate" "$KS_LOST" "$cpu"
done

loop_start -t "$THREADS" -d "$SECS" zero
prog="tracepoint:syscalls:sys_exit_read /pid == $LOOP_PID/ {
	printf(\"%d %d %s %d\\n\", pid, tid, comm, args->ret); }"
if start_peer "$TMP/bt.err" 1 "$BPFTRACE" -e "$prog"; then
	loop_run
	stop_tracer "$TRACER"
	bt_lost=$(grep -o 'Lost [0-9]* events' "$TMP/bt.err" | awk '{ s += $2 } END { print s + 0 }')
	printf '  bpftrace: %s calls in %s s, %s events lost (printed: calls - lost)\n' \
		"$LOOP_CALLS" "$LOOP_SECS" "$bt_lost"
else
	loop_run
fi

echo
row "" "delivered events/s" "lost" "ksight CPU % of one CPU" "untraced calls/s"
row --- ---: ---: ---: ---:
# shellcheck disable=SC2068
row "ksight rw -p PID $ARGS (median of $ROUNDS)" "$(median ${RATE[@]})" \
	"$(printf '%s\n' ${LOSTS[@]} | awk '{ s += $1 } END { print s + 0 }') (all rounds)" \
	"$(median ${CPUS[@]})" "$untraced"
echo
echo "target: >= 1,000,000 events/s delivered with 0 lost (stretch 2,000,000)"
rw_finish
