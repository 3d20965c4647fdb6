#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every benchmark, one after the other (`make bench` runs this). Run it on a quiet machine.
#
#   [QUICK=1] bench/run-all.sh [BUILD]
#
# QUICK=1 gives short defaults for a smoke run (figures not for publishing); any knob set in
# the environment (ROUNDS, N, SECS, ...) wins over both. The whole output is also written
# to BUILD/bench/run-all.log. Exits 1 if any benchmark failed to run.
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
if [ "${QUICK:-0}" = 1 ]; then
	export ROUNDS=${ROUNDS:-5} N=${N:-50000} NPPID=${NPPID:-200000} SECS=${SECS:-5} \
		LOAD_SECS=${LOAD_SECS:-3} LAUNCHES=${LAUNCHES:-5}
fi
mkdir -p "$BUILD/bench"
LOG=$BUILD/bench/run-all.log
: >"$LOG"

names=(open_cost open_saturation memory startup hook_families syscount_cost rw_read_cost
	rw_throughput rw_db files_cost proc_cost)
status=()
for b in "${names[@]}"; do
	start=$SECONDS
	"$BENCH/$b.sh" "$BUILD" 2>&1 | tee -a "$LOG"
	status+=("${PIPESTATUS[0]} $((SECONDS - start))")
	echo | tee -a "$LOG"
done

{
	echo "== run-all: $(date -u '+%Y-%m-%d %H:%M UTC')${QUICK:+ (QUICK=$QUICK)}"
	echo "| benchmark | exit | seconds |"
	echo "| --- | ---: | ---: |"
	for i in "${!names[@]}"; do
		read -r st secs <<<"${status[$i]}"
		echo "| ${names[$i]} | $st | $secs |"
	done
	echo "log: $LOG"
} | tee -a "$LOG"
for s in "${status[@]}"; do
	[ "${s%% *}" = 0 ] || exit 1
done
exit 0
