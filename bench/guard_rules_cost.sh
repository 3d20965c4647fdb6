#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What matching one event against guard's rules costs as the rules grow: the 29 default
# rules plus N generated ones (bench/helpers/guardrules.c: a realistic mix, one in fifty a
# glob that starts with a wildcard), a fixed stream of EVENTS synthetic events (the same for
# every N; mostly misses, about 5% hits), matched by walking every rule ("walk": what guard
# did before its index) and through the index (guard_index.c).
#
#   [NS="10 100 1000"] [EVENTS=10000] [RUNS=5] bench/guard_rules_cost.sh [BUILD]
#
# Counted, not timed: instructions executed inside the matching (callgrind, collection on
# in run_stream() only), divided by EVENTS. The count does not depend on the machine's
# load, so a shared, busy machine gives the same figures as a quiet one (RUNS repeat it to
# show that: the spread column). Both ways must find the same alerts (count and checksum of
# the matching rules, in order), else the script fails.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
HELPER=$BUILD/bench/helpers/guardrules
NS=${NS:-10 100 1000}
EVENTS=${EVENTS:-10000}
RUNS=${RUNS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAIL=0

if [ ! -x "$HELPER" ] || ! command -v valgrind >/dev/null; then
	echo "needs $HELPER (make helpers) and valgrind" >&2
	exit 2
fi

# count N MODE: the median over RUNS of the instructions per event; sets LINE, SPREAD
count()
{
	local n=$1 mode=$2 r ir vals=()
	for ((r = 0; r < RUNS; r++)); do
		LINE=$(valgrind --tool=callgrind --toggle-collect=run_stream \
			--callgrind-out-file="$TMP/cg" "$HELPER" "$n" "$mode" "$EVENTS" \
			2>"$TMP/vg") || { cat "$TMP/vg" >&2; return 1; }
		ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$TMP/cg")
		[ -n "$ir" ] || { echo "no totals in callgrind's output" >&2; return 1; }
		vals+=("$ir")
	done
	mapfile -t vals < <(printf '%s\n' "${vals[@]}" | sort -n)
	SPREAD=$(( vals[RUNS - 1] - vals[0] ))
	MEDIAN=$(( vals[RUNS / 2] / EVENTS ))
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

echo "# NS=\"$NS\" EVENTS=$EVENTS RUNS=$RUNS bench/guard_rules_cost.sh"
echo "# instructions per event (callgrind, median of $RUNS; spread: max-min of the totals)"
printf '%-6s %-6s %12s %12s %8s %10s %10s %8s %s\n' "N" "rules" "walk" "index" "ratio" \
	"tried/ev" "alerts" "spread" "filed path/exe/comm/walked"
for n in $NS; do
	count "$n" linear || exit 1
	walk=$MEDIAN wline=$LINE wspread=$SPREAD
	count "$n" index || exit 1
	idx=$MEDIAN
	if [ "$(field matches "$wline")/$(field checksum "$wline")" != \
	     "$(field matches "$LINE")/$(field checksum "$LINE")" ]; then
		echo "FAIL: N=$n: the walk and the index found different rules:" >&2
		printf '  %s\n  %s\n' "$wline" "$LINE" >&2
		FAIL=1
	fi
	printf '%-6s %-6s %12s %12s %7sx %10s %10s %8s %s\n' "$n" "$(field rules "$LINE")" \
		"$walk" "$idx" "$(awk -v a="$walk" -v b="$idx" 'BEGIN { printf "%.1f", a / b }')" \
		"$(field checked_per_event "$LINE")" "$(field matches "$LINE")" \
		"$((wspread + SPREAD))" \
		"$(field filed_path "$LINE")/$(field filed_exe "$LINE")/$(field filed_comm "$LINE")/$(field linear "$LINE")"
done
exit $FAIL
