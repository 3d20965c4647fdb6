#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-event cost of each hook family this kernel allows, same module (`ksight open`, output
# to /dev/null) in one run: what backs the default choice.
#
#   [ROUNDS=7] [N=500000] [NPPID=2000000] [CPU=1] [SETTLE=1] [FAMILIES="fentry kprobe
#    tp_btf raw_tp tp"] bench/hook_families.sh [BUILD]
#
# A family ksight refuses here (exit 1, naming the missing feature) is listed and skipped.
# Each round measures, in rotating order, no tracer and `ksight open --hooks F` for each
# allowed F: oploop pinned to CPU, N open+close pairs then NPPID getppid calls (a syscall
# the open module does not watch, which still pays for the syscall hook).
# Then, unmeasured, one pass per family with BPF statistics on (`ksight status --live`
# running) gives the ns per run of each of that ksight's programs (bench/progstats.py)
# under 3 s of open+close.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-7}
N=${N:-500000}
NPPID=${NPPID:-2000000}
FAMILIES=${FAMILIES:-fentry kprobe tp_btf raw_tp tp}
bench_init hook_families "ROUNDS=$ROUNDS N=$N NPPID=$NPPID CPU=$CPU SETTLE=$SETTLE" \
	"FAMILIES=\"$FAMILIES\""

NAMES=(untraced)
SKIPPED=()
for f in $FAMILIES; do
	out=$(timeout 60 "$KSIGHT" open --hooks "$f" --duration 1 2>&1 >/dev/null)
	case $? in
	0) NAMES+=("$f") ;;
	1) SKIPPED+=("$f: $(head -1 <<<"$out")") ;;
	*) bench_fail "ksight open --hooks $f: $out" ;;
	esac
done
echo "families allowed here: ${NAMES[*]:1}"
for s in "${SKIPPED[@]}"; do
	echo "skipped $s"
done
declare -a OPEN PPID_NS LOST

run_config()
{
	local i=$1 err="$TMP/err.$1.$2" res ppid
	if [ "$i" != 0 ]; then
		start_tracer ksight "$err" "$KSIGHT" open --hooks "${NAMES[$i]}" || return
	fi
	run_loop res -n "$N" open "$TMP/file"
	run_loop ppid -n "$NPPID" getppid
	if [ "$i" != 0 ]; then
		stop_ksight "$TRACER_PID" "$err" "ksight open --hooks ${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
	fi
	OPEN[$i]+=" $(cut -d' ' -f3 <<<"$res")"
	PPID_NS[$i]+=" $(cut -d' ' -f3 <<<"$ppid")"
	printf '  round %d  %-9s open+close %8s ns  getppid %6s ns\n' "$2" "${NAMES[$i]}" \
		"$(cut -d' ' -f3 <<<"$res")" "$(cut -d' ' -f3 <<<"$ppid")"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

# The unmeasured pass: ns per run of each program, statistics on.
declare -a PROGS
for ((i = 1; i < ${#NAMES[@]}; i++)); do
	err="$TMP/err.stats.$i"
	start_tracer ksight "$err" "$KSIGHT" open --hooks "${NAMES[$i]}" || continue
	"$KSIGHT" status --live 60 1 >/dev/null 2>"$TMP/live.$i" &
	live=$!
	sleep 0.5
	taskset -c "$CPU" "$HELPERS/oploop" -d 3.5 open "$TMP/file" >/dev/null &
	loop=$!
	sleep 0.25
	if ! p=$("$BENCH_DIR/progstats.py" "$TRACER_PID" 3 2>&1); then
		bench_fail "progstats: $p"
		p=
	fi
	wait "$loop" || bench_fail "oploop during the statistics pass"
	stop_tracer "$live"
	stop_ksight "$TRACER_PID" "$err" "ksight open --hooks ${NAMES[$i]} (statistics pass)"
	PROGS[$i]=$(awk '$7 != "-" && $5 + 0 >= 1 { printf "%s%s %s ns (%.1fk/s)", s, $2, $7,
		$5 / 1000; s = ", " }' <<<"$p")
	echo "  ${NAMES[$i]}: ${PROGS[$i]}"
done

declare -a MED MEDP
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	MED[$i]=$(median ${OPEN[$i]:-})
	# shellcheck disable=SC2086
	MEDP[$i]=$(median ${PPID_NS[$i]:-})
done

echo
echo "ksight open per hook family, ns per operation, median of $ROUNDS runs (CPU $CPU)"
echo
row family "open+close ns" "x untraced" "added ns" "getppid ns" "x untraced" "added ns" \
	"runs" "lost" "programs: ns per run (runs/s), statistics pass"
row --- ---: ---: ---: ---: ---: ---: ---: ---: ---
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	add=$(awk -v a="${MED[$i]}" -v b="${MED[0]}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f\n", a - b }')
	addp=$(awk -v a="${MEDP[$i]}" -v b="${MEDP[0]}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f\n", a - b }')
	lost=$(tr ' ' '\n' <<<"${LOST[$i]:-}" | awk 'NF { if ($1 == "-") u = 1; t += $1 }
		END { if (!NR || u) print "-"; else print t }')
	[ "$i" = 0 ] && lost=-
	row "${NAMES[$i]}" "$(fmt "${MED[$i]}")" "$(ratio "${MED[$i]}" "${MED[0]}")" "$add" \
		"$(fmt "${MEDP[$i]}")" "$(ratio "${MEDP[$i]}" "${MEDP[0]}")" "$addp" \
		"$(wc -w <<<"${OPEN[$i]:-}")" "$lost" "${PROGS[$i]:--}"
done
echo
for s in "${SKIPPED[@]}"; do
	echo "not allowed here: $s"
done
# the default is the first allowed family in ksight's order; say whether it is the cheapest
cheapest=$(for ((i = 1; i < ${#NAMES[@]}; i++)); do echo "${MED[$i]} ${NAMES[$i]}"; done |
	grep -v '^- ' | sort -g | head -1 | cut -d' ' -f2)
default=$("$KSIGHT" status 2>/dev/null | awk '/^open/ { o = 1 } o && /see opens/ {
	gsub(/[()]/, ""); print $NF; exit }')
echo "default family for open (ksight status): ${default:--}; cheapest measured: ${cheapest:--}"
bench_finish
