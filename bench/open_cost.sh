#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost per open+close under each tracer, against no tracer and against the peers.
#
#   [ROUNDS=7] [N=500000] [NPPID=2000000] [CPU=1] [SETTLE=1] bench/open_cost.sh [BUILD]
#
# Each round starts every tracer in turn (the order rotates each round), waits until it is
# attached, runs oploop pinned to CPU: N open+close pairs of one existing file, then NPPID
# getppid calls (what the tracer costs syscalls it does not watch), and stops the tracer.
# Tracers write to /dev/null. Prints each tracer's median ns per operation over ROUNDS,
# the ratios, and ksight's lost count (from its "N events, M lost" line).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-7}
N=${N:-500000}
NPPID=${NPPID:-2000000}
bench_init open_cost "ROUNDS=$ROUNDS N=$N NPPID=$NPPID CPU=$CPU SETTLE=$SETTLE"

NAMES=("untraced" "ksight open" "ksight open --count" "opensnoop" "bpftrace")
KINDS=(none ksight ksight peer:2 peer:2)
declare -a OPEN PPID_NS LOST EVENTS

# run_config I ROUND: one measurement of tracer I.
run_config()
{
	local i=$1 err="$TMP/err.$1.$2" res ppid
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" open || return ;;
	2) start_tracer ksight "$err" "$KSIGHT" open --count || return ;;
	3) start_tracer peer:2 "$err" "$OPENSNOOP" || return ;;
	4) start_tracer peer:2 "$err" "$BPFTRACE" -e "$BPFTRACE_OPEN" || return ;;
	esac
	run_loop res -n "$N" open "$TMP/file"
	run_loop ppid -n "$NPPID" getppid
	case ${KINDS[$i]} in
	ksight)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
		EVENTS[$i]+=" $KS_EVENTS"
		;;
	peer:*)
		stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	esac
	OPEN[$i]+=" $(cut -d' ' -f3 <<<"$res")"
	PPID_NS[$i]+=" $(cut -d' ' -f3 <<<"$ppid")"
	printf '  round %d  %-20s open+close %8s ns  getppid %6s ns%s\n' "$2" "${NAMES[$i]}" \
		"$(cut -d' ' -f3 <<<"$res")" "$(cut -d' ' -f3 <<<"$ppid")" \
		"$([ "${KINDS[$i]}" = ksight ] && echo "  ($KS_EVENTS events, $KS_LOST lost)")"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

declare -a MED MEDP
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	MED[$i]=$(median ${OPEN[$i]:-})
	# shellcheck disable=SC2086
	MEDP[$i]=$(median ${PPID_NS[$i]:-})
done
# lost_total I: ksight's losses summed over tracer I's runs, "-" if unknown or no run.
lost_total()
{
	local l t=0
	[ -n "${LOST[$1]:-}" ] || { echo -; return; }
	for l in ${LOST[$1]}; do
		[ "$l" = - ] && { echo -; return; }
		t=$((t + l))
	done
	echo "$t"
}

echo
echo "open+close and getppid, ns per operation, median of $ROUNDS runs (oploop on CPU $CPU)"
echo
row tracer "open+close ns" "x untraced" "added ns" "getppid ns" "x untraced" "runs" "ksight lost"
row --- ---: ---: ---: ---: ---: ---: ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	added=$(awk -v a="${MED[$i]}" -v b="${MED[0]}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f\n", a - b }')
	runs=$(wc -w <<<"${OPEN[$i]:-}")
	lost=-
	[ "${KINDS[$i]}" = ksight ] && lost=$(lost_total "$i")
	row "${NAMES[$i]}" "$(fmt "${MED[$i]}")" "$(ratio "${MED[$i]}" "${MED[0]}")" "$added" \
		"$(fmt "${MEDP[$i]}")" "$(ratio "${MEDP[$i]}" "${MEDP[0]}")" "$runs" "$lost"
done
echo
r1=$(ratio "${MED[1]}" "${MED[0]}")
r2=$(ratio "${MED[2]}" "${MED[0]}")
echo "ksight open / opensnoop:         $(ratio "${MED[1]}" "${MED[3]}")"
echo "ksight open / bpftrace:          $(ratio "${MED[1]}" "${MED[4]}")"
echo "ksight open --count / opensnoop: $(ratio "${MED[2]}" "${MED[3]}")"
echo "target ksight open <= 1.5x untraced:         $r1  $(verdict "$r1" "<=" 1.5)"
echo "target ksight open --count <= 1.3x untraced: $r2  $(verdict "$r2" "<=" 1.3)"
echo "target ksight lost == 0:                     $(lost_total 1) + $(lost_total 2)" \
	"$(verdict "$(($(lost_total 1 | tr - 1) + $(lost_total 2 | tr - 1)))" == 0)"
bench_finish
