#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Saturation: two threads opening as fast as they can, under each tracer writing to
# /dev/null. What is delivered, what is lost, and what the tracer itself costs in CPU.
#
#   [ROUNDS=5] [SECS=30] [THREADS=2] [SETTLE=1] bench/open_saturation.sh [BUILD]
#
# Each round runs, in turn (the order rotates): no tracer; `ksight open`; `ksight open -p
# PID` (the flood's pid); `opensnoop`; `opensnoop -p PID`; `ksight open --ringbuf-size 1M`
# (what a ring buffer an eighth of the default would lose; see memory.sh). The flood is
# oploop -t THREADS -d SECS (not pinned: it takes every CPU it can). CPU is the tracer's
# utime+stime from /proc/PID/stat over the flood (plus 0.3 s to drain), as % of one core.
# Delivered/s is ksight's event count over the flood's duration; without -p it includes
# the rest of the machine's opens. With -p the exact check is: delivered + lost = opens + 1
# (the +1 is the flood's own exit, a core proc_exit record ksight counts as an event).
# opensnoop's losses are its "Lost N events on CPU" lines.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-30}
THREADS=${THREADS:-2}
bench_init open_saturation "ROUNDS=$ROUNDS SECS=$SECS THREADS=$THREADS SETTLE=$SETTLE"
HZ=$(getconf CLK_TCK)

NAMES=("untraced" "ksight open" "ksight open -p PID" "opensnoop" "opensnoop -p PID"
	"ksight open --ringbuf-size 1M")
KINDS=(none ksight ksight peer:2 peer:2 ksight)
declare -a RATE DELIV LOSTS CPUS HWM EXACT

cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# run_config I ROUND
run_config()
{
	local i=$1 err="$TMP/err.$1.$2" out="$TMP/flood.$1.$2" fpid c0 c1 res ops secs rate
	local deliv=- lost=- cpu=- hwm=- exact=-

	"$HELPERS/oploop" -w -t "$THREADS" -d "$SECS" open "$TMP/file" >"$out" 2>&1 &
	fpid=$!
	if ! wait_line "$out" "^ready " "$fpid" 10; then
		bench_fail "oploop did not start: $(cat "$out")"
		return
	fi
	case $i in
	1) start_tracer ksight "$err" "$KSIGHT" open ;;
	2) start_tracer ksight "$err" "$KSIGHT" open -p "$fpid" ;;
	3) start_tracer peer:2 "$err" "$OPENSNOOP" ;;
	4) start_tracer peer:2 "$err" "$OPENSNOOP" -p "$fpid" ;;
	5) start_tracer ksight "$err" "$KSIGHT" open --ringbuf-size 1M ;;
	esac || { kill -KILL "$fpid"; wait "$fpid"; return; }
	[ "$i" != 0 ] && c0=$(cpu_ticks "$TRACER_PID")
	kill -USR1 "$fpid"
	wait "$fpid" || bench_fail "oploop flood failed: $(cat "$out")"
	res=$(tail -1 "$out")
	read -r _ ops _ secs _ _ _ rate <<<"$res"
	if [ "$i" != 0 ]; then
		sleep 0.3
		c1=$(cpu_ticks "$TRACER_PID")
		cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v s="$secs" \
			'BEGIN { printf "%.1f\n", 100 * d / hz / s }')
		hwm=$(awk '/^VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$TRACER_PID/status")
	fi
	case ${KINDS[$i]} in
	ksight)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		lost=$KS_LOST
		deliv=$(awk -v e="$KS_EVENTS" -v s="$secs" \
			'BEGIN { if (e == "-") print "-"; else printf "%.0f\n", e / s }')
		# with -p, ksight sees exactly the flood's opens and its exit
		if [ "$i" = 2 ] && [ "$KS_EVENTS" != - ]; then
			exact=ok
			[ $((KS_EVENTS + KS_LOST)) = $((ops + 1)) ] ||
				exact="MISMATCH($KS_EVENTS+$KS_LOST!=$ops+1)"
		fi
		;;
	peer:*)
		stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
		lost=$(awk '/^Lost [0-9]+ events/ { n += $2 } END { print n + 0 }' "$err")
		;;
	esac
	RATE[$i]+=" $rate"
	DELIV[$i]+=" $deliv"
	LOSTS[$i]+=" $lost"
	CPUS[$i]+=" $cpu"
	HWM[$i]+=" $hwm"
	EXACT[$i]+=" $exact"
	printf '  round %d  %-20s opens/s %8s  delivered/s %8s  lost %8s  cpu %5s%%  hwm %s MB\n' \
		"$2" "${NAMES[$i]}" "$rate" "$deliv" "$lost" "$cpu" "$hwm"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

echo
echo "$THREADS threads opening for $SECS s, median of $ROUNDS runs"
echo
row tracer "opens/s" "x untraced" "delivered/s" "lost (median)" "lost (max)" "tracer CPU %" \
	"VmHWM MB"
row --- ---: ---: ---: ---: ---: ---: ---:
# shellcheck disable=SC2086
base=$(median ${RATE[0]:-})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	rate=$(median ${RATE[$i]:-})
	# shellcheck disable=SC2086
	maxlost=$(printf '%s\n' ${LOSTS[$i]:-} | grep -v '^-$' | sort -g | tail -1)
	# shellcheck disable=SC2086
	row "${NAMES[$i]}" "$(fmt "$rate")" "$(ratio "$rate" "$base")" \
		"$(fmt "$(median ${DELIV[$i]:-})")" "$(fmt "$(median ${LOSTS[$i]:-})")" \
		"${maxlost:--}" "$(median ${CPUS[$i]:-})" "$(median ${HWM[$i]:-})"
done
echo
# shellcheck disable=SC2086
cpu1=$(median ${CPUS[1]:-})
# shellcheck disable=SC2086
lost1=$(printf '%s\n' ${LOSTS[1]:-} ${LOSTS[2]:-} | grep -v '^-$' | sort -g | tail -1)
exact=$(tr ' ' '\n' <<<"${EXACT[2]:-}" | grep -c .)
bad=$(tr ' ' '\n' <<<"${EXACT[2]:-}" | grep -v '^ok$' | grep . | tr '\n' ' ')
ok=MISS
[ -z "$bad" ] && [ "$exact" -gt 0 ] && ok=PASS
echo "exact (ksight -p: delivered + lost == opens + 1):       $((exact)) runs checked," \
	"${bad:-no mismatch}  $ok"
echo "target ksight open lost == 0 (max, default ring buffer): ${lost1:--}" \
	"$(verdict "${lost1:--}" == 0)"
echo "target ksight open CPU <= 30% of a core:                $cpu1  $(verdict "$cpu1" "<=" 30)"
bench_finish
