#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Start-up: launch to attached.
#
#   [LAUNCHES=10] bench/startup.sh [BUILD]
#
# 1. For every tool (`ksight open`, `exec`, `biolat`, `syscount`, `rw`, `files`, `proc`)
#    and the agent `ksight run`: the wall time from exec to the "ready in" line on stderr
#    (bench/helpers/readytime), and the figure ksight prints in that line itself; median of
#    LAUNCHES launches, in rotating order. `ksight run` is also launched with
#    KSIGHT_LOAD_THREADS=1 (its modules' objects loaded one after the other instead of on
#    min(CPUs, 4) threads), in the same rotation: the A/B says whether parallel loading
#    helps, by the median of the per-launch differences.
# 2. Launch to the first traced event, for the open tracers and their peers: readytime -e
#    opens a marker file every millisecond and stops the clock when the tracer's output shows
#    it. This is what a user waits for; ksight's reader wakes on a timer (<= 100 ms), not on
#    every event, which this includes. opensnoop runs under stdbuf -oL (stdio to a pipe).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
LAUNCHES=${LAUNCHES:-10}
bench_init startup "LAUNCHES=$LAUNCHES"
MARKER=$TMP/startup-marker

TOOLS=(open exec biolat syscount rw files proc run run)
ENVS=("" "" "" "" "" "" "" "" KSIGHT_LOAD_THREADS=1)
LABELS=(open exec biolat syscount rw files proc run "run (KSIGHT_LOAD_THREADS=1)")
TARGETS=(60 60 60 60 60 60 60 250 -)	# issue 10; the foundation's were 100 and 1000
AB_DEFAULT=7	# the A/B: TOOLS[7] (default load threads) against TOOLS[8] (one)
PEERS=("ksight open" "opensnoop" "bpftrace")
declare -a WALL SELF FIRST

for ((l = 1; l <= LAUNCHES; l++)); do
	for ((k = 0; k < ${#TOOLS[@]}; k++)); do
		i=$(((k + l - 1) % ${#TOOLS[@]}))
		# shellcheck disable=SC2086 # ENVS: no assignment or one
		if ! out=$(env -u KSIGHT_LOAD_THREADS ${ENVS[$i]} "$HELPERS/readytime" "$KSIGHT" \
			"${TOOLS[$i]}" 2>&1); then
			bench_fail "ksight ${LABELS[$i]}: $out"
			WALL[$i]+=" -"
			continue
		fi
		out=$(tail -1 <<<"$out")
		wall=$(awk '{ print $2 }' <<<"$out")
		self=$(sed -n 's/.* ready in \([0-9.]*\) ms.*/\1/p' <<<"$out")
		WALL[$i]+=" $wall"
		SELF[$i]+=" ${self:--}"
		printf '  launch %2d  ksight %-28s wall %8s ms  self-reported %5s ms\n' "$l" \
			"${LABELS[$i]}" "$wall" "${self:--}"
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
	if [ "${TARGETS[$i]}" = - ]; then
		t=- v=-
	else
		t="<= ${TARGETS[$i]} ms" v=$(verdict "$w" "<=" "${TARGETS[$i]}")
	fi
	row "ksight ${LABELS[$i]}" "$(fmt "$w" %.1f)" "$(spread "${WALL[$i]:-}")" \
		"$(fmt "$(median ${SELF[$i]:-})")" "$t" "$v"
done
echo
# The A/B: launch l of each is in the same rotation, so pair them by launch.
# shellcheck disable=SC2086
paste <(printf '%s\n' ${WALL[$AB_DEFAULT]:-}) <(printf '%s\n' ${WALL[$((AB_DEFAULT + 1))]:-}) |
	awk 'NF == 2 && $1 != "-" && $2 != "-" { print $2 - $1 }' >"$TMP/ab"
# shellcheck disable=SC2046
dmed=$(median $(cat "$TMP/ab"))
threads=$(nproc)
[ "$threads" -gt 4 ] && threads=4
echo "A/B ksight run, parallel loading (the default: $threads threads here, min(CPUs, 4))" \
	"against KSIGHT_LOAD_THREADS=1: median per-launch difference $(fmt "$dmed" %+.1f) ms" \
	"(one thread minus parallel: positive means parallel loading is faster); parallel" \
	"faster in $(awk '$1 > 0' "$TMP/ab" | wc -l) of $(wc -l <"$TMP/ab") launches"
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
