#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight pmc` costs a scheduler-heavy load, against `perf stat` counting the same
# software events for the load's processes.
#
#   [ROUNDS=5] [N=100000] [CPU=1] [SETTLE=1] bench/pmc_cost.sh [BUILD]
#
# The load: `perf bench sched pipe -l N` pinned to CPU (two processes pass a byte back and
# forth through pipes: two context switches and four syscalls per round trip), usecs per
# round trip. Each round runs every configuration once, the order rotating:
#   untraced
#   ksight pmc            default counters (software ones only without a PMU), every
#                         process of the machine, per process; without a PMU read from
#                         the tasks each interval (--read tasks, 5.11+): no switch hook
#   ksight pmc --read switches
#                         the same read at every switch
#   ksight pmc -L         per thread
#   perf stat -e ...      the same software counters (page-faults, cs, migrations,
#                         cpu-clock, task-clock), counted by perf for the load's own
#                         processes only (per-task events, inherited by the child)
# Checks that each tracer counted at least 2 N switches of the load. Prints medians over
# ROUNDS, the range, and each configuration's slowdown against untraced. Then, less
# sensitive to a busy machine, what the switch hook costs per run (the kernel's run-time
# statistics, held on by `ksight status --live` meanwhile) during one load, for each hook
# family, and for `ksight sched`, whose switch hook only counts (no counter read); read
# from the tasks, the iterator's runs (one per task per reading) and the exit hook's.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-100000}
PERF=/usr/bin/perf
SWEV=page-faults,cs,migrations,cpu-clock,task-clock

bench_init pmc_cost "ROUNDS=$ROUNDS N=$N CPU=$CPU SETTLE=$SETTLE"
"$ROOT/scripts/install-deps.sh" linux-perf || exit 1
echo "load:    taskset -c $CPU perf bench sched pipe -l $N"

NAMES=("untraced" "ksight pmc" "ksight pmc --read switches" "ksight pmc -L" "perf stat -e $SWEV")
declare -a US

# load OUTVAR [PREFIX...]: run the load (under PREFIX), store usecs per round trip.
load()
{
	local __var=$1 out
	shift
	if ! out=$("$@" taskset -c "$CPU" "$PERF" bench sched pipe -l "$N" 2>&1); then
		bench_fail "load: $(tail -2 <<<"$out" | tr '\n' ' ')"
		printf -v "$__var" '%s' -
		return 1
	fi
	printf -v "$__var" '%s' "$(awk '/usecs\/op/ { print $1 }' <<<"$out" | tail -1)"
}

# ksight_switches FILE: the switches ksight counted for the load: its two rows with the
# most switches (its two processes, or threads with -L: 2 N switches, far above anything
# else; names do not tell, a row keeps the name its task had when the row was made).
ksight_switches()
{
	python3 -c '
import json, sys
n = sorted((r.get("context_switches", 0) for r in map(json.loads, open(sys.argv[1]))
            if r.get("type") == "pmc"), reverse=True)
print(sum(n[:2]))' "$1"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		out=$TMP/out.$i.$r
		err=$TMP/err.$i.$r
		us=-
		case $i in
		0) load us ;;
		1 | 2 | 3)
			args=()
			[ "$i" = 2 ] && args=(--read switches)
			[ "$i" = 3 ] && args=(-L)
			"$KSIGHT" pmc --json --top 0 "${args[@]}" >"$out" 2>"$err" &
			pid=$!
			if ! wait_line "$err" " ready in " "$pid" 60; then
				bench_fail "${NAMES[$i]} not ready: $(tail -2 "$err" | tr '\n' ' ')"
				stop_tracer "$pid"
				continue
			fi
			sleep "$SETTLE"
			load us
			stop_ksight "$pid" "$err" "${NAMES[$i]}"
			seen=$(ksight_switches "$out")
			[ "$seen" -ge $((2 * N)) ] ||
				bench_fail "${NAMES[$i]} counted $seen switches of the load, < $((2 * N))"
			;;
		4)
			load us "$PERF" stat -x, -o "$out" -e "$SWEV" --
			seen=$(awk -F, '$3 == "cs" || $3 == "context-switches" { print $1 }' "$out")
			[ "${seen:-0}" -ge $((2 * N)) ] 2>/dev/null ||
				bench_fail "perf stat counted ${seen:-?} switches, < $((2 * N))"
			;;
		esac
		US[$i]+=" $us"
	done
done

echo
row "configuration" "usecs per round trip (median of $ROUNDS)" "range" "vs untraced"
row "---" "---:" "---:" "---:"
base=$(median ${US[0]})
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	m=$(median ${US[$i]})
	# shellcheck disable=SC2086 # the values are space separated numbers
	rng="$(printf '%s\n' ${US[$i]} | sort -g | head -1)-$(printf '%s\n' ${US[$i]} | sort -g | tail -1)"
	row "${NAMES[$i]}" "$(fmt "$m" %.2f)" "$rng" "$(ratio "$m" "$base" %.3f)"
done

# one load for prog_costs (lib.sh)
# shellcheck disable=SC2317 # invoked by prog_costs
load_once()
{
	local us

	load us
}

echo
echo "BPF programs during one load ($N round trips), ns per run:"
echo
row "tracer" "program" "runs" "ns/run"
row "---" "---" "---:" "---:"
prog_costs "ksight pmc" load_once "$KSIGHT" pmc
prog_costs "ksight pmc -L" load_once "$KSIGHT" pmc -L
prog_costs "ksight pmc --read switches" load_once "$KSIGHT" pmc --read switches
prog_costs "ksight pmc --read switches --hooks raw_tp" load_once "$KSIGHT" pmc --read switches \
	--hooks raw_tp
prog_costs "ksight pmc --read switches --hooks tp" load_once "$KSIGHT" pmc --read switches \
	--hooks tp
prog_costs "ksight pmc -e task-clock --read switches" load_once "$KSIGHT" pmc -e task-clock \
	--read switches
prog_costs "ksight sched" load_once "$KSIGHT" sched
prog_costs "ksight sched --read switches" load_once "$KSIGHT" sched --read switches
bench_finish
