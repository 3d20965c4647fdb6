#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Start-up: launch to attached.
#
#   [LAUNCHES=10] bench/startup.sh [BUILD]
#
# 1. For `ksight open`, `ksight exec`, `ksight biolat` and `ksight run`: the wall time from
#    exec to the "ready in" line on stderr (bench/helpers/readytime), and the figure ksight
#    prints in that line itself; median of LAUNCHES launches, in rotating order.
# 2. Launch to the first traced event, for the open tracers and their peers: readytime -e
#    opens a marker file every millisecond and stops the clock when the tracer's output shows
#    it. This is what a user waits for; ksight's reader wakes on a timer (<= 100 ms), not on
#    every event, which this includes. opensnoop runs under stdbuf -oL (stdio to a pipe).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
LAUNCHES=${LAUNCHES:-10}
bench_init startup "LAUNCHES=$LAUNCHES"
MARKER=$TMP/startup-marker

TOOLS=(open exec biolat run)
TARGETS=(100 100 100 1000)
PEERS=("ksight open" "opensnoop" "bpftrace")
declare -a WALL SELF FIRST

for ((l = 1; l <= LAUNCHES; l++)); do
	for ((k = 0; k < ${#TOOLS[@]}; k++)); do
		i=$(((k + l - 1) % ${#TOOLS[@]}))
		if ! out=$("$HELPERS/readytime" "$KSIGHT" "${TOOLS[$i]}" 2>&1); then
			bench_fail "ksight ${TOOLS[$i]}: $out"
			continue
		fi
		out=$(tail -1 <<<"$out")
		wall=$(awk '{ print $2 }' <<<"$out")
		self=$(sed -n 's/.* ready in \([0-9.]*\) ms.*/\1/p' <<<"$out")
		WALL[$i]+=" $wall"
		SELF[$i]+=" ${self:--}"
		printf '  launch %2d  ksight %-7s wall %8s ms  self-reported %5s ms\n' "$l" \
			"${TOOLS[$i]}" "$wall" "${self:--}"
	done
	for ((k = 0; k < ${#PEERS[@]}; k++)); do
		i=$(((k + l - 1) % ${#PEERS[@]}))
		case $i in
		0) cmd=("$KSIGHT" open) ;;
		1) cmd=(stdbuf -oL "$OPENSNOOP") ;;
		2) cmd=("$BPFTRACE" -e "$BPFTRACE_OPEN") ;;
		esac
		if ! out=$("$HELPERS/readytime" -t 60000 -e "$MARKER" "${cmd[@]}" 2>&1); then
			bench_fail "${PEERS[$i]} (first event): $out"
			continue
		fi
		wall=$(tail -1 <<<"$out" | awk '{ print $2 }')
		FIRST[$i]+=" $wall"
		printf '  launch %2d  %-13s first traced open after %8s ms\n' "$l" "${PEERS[$i]}" \
			"$wall"
	done
done

spread()
{
	# shellcheck disable=SC2086
	printf '%s\n' $1 | grep -v '^-$' | sort -g | sed -n '1p;$p' | tr '\n' ' ' |
		awk '{ if (NF) printf "%.0f-%.0f\n", $1, $2; else print "-" }'
}

echo
echo "launch to \"ready in\" line, ms, median of $LAUNCHES launches"
echo
row command "wall ms (median)" "wall min-max" "self-reported ms (median)" target verdict
row --- ---: ---: ---: ---: ---
for ((i = 0; i < ${#TOOLS[@]}; i++)); do
	# shellcheck disable=SC2086
	w=$(median ${WALL[$i]:-})
	# shellcheck disable=SC2086
	row "ksight ${TOOLS[$i]}" "$(fmt "$w" %.1f)" "$(spread "${WALL[$i]:-}")" \
		"$(fmt "$(median ${SELF[$i]:-})")" "<= ${TARGETS[$i]} ms" \
		"$(verdict "$w" "<=" "${TARGETS[$i]}")"
done
echo
echo "launch to first traced open shown, ms, median of $LAUNCHES launches"
echo
row tracer "ms (median)" "min-max" "x ksight open"
row --- ---: ---: ---:
# shellcheck disable=SC2086
k0=$(median ${FIRST[0]:-})
for ((i = 0; i < ${#PEERS[@]}; i++)); do
	# shellcheck disable=SC2086
	f=$(median ${FIRST[$i]:-})
	row "${PEERS[$i]}" "$(fmt "$f" %.1f)" "$(spread "${FIRST[$i]:-}")" "$(ratio "$f" "$k0")"
done
bench_finish
