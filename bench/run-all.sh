#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every benchmark, one after the other (`make bench` runs this). Run it on a quiet machine.
#
#   [QUICK=1] [ONLY="agent_cost agent_redis ..."] bench/run-all.sh [BUILD]
#
# QUICK=1 gives short defaults for a smoke run (figures not for publishing); any knob set in
# the environment (ROUNDS, N, SECS, ...) wins over both. ONLY runs those benchmarks alone. The whole output is also written
# to BUILD/bench/run-all.log. Exits 1 if any benchmark failed to run.
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
if [ "${QUICK:-0}" = 1 ]; then
	export ROUNDS=${ROUNDS:-5} N=${N:-50000} NPPID=${NPPID:-200000} SECS=${SECS:-5} \
		LOAD_SECS=${LOAD_SECS:-3} LAUNCHES=${LAUNCHES:-5} RUN_LOAD_SECS=${RUN_LOAD_SECS:-5} \
		REQUESTS=${REQUESTS:-20000} PEER_PROBE_SECS=${PEER_PROBE_SECS:-10}
fi
# every package any benchmark needs, installed before the first one runs (no apt-get
# between measurements)
"$BENCH/../scripts/install-deps.sh" libbpf-tools bpftrace bpftool util-linux procps python3 \
	postgresql redis-server redis-tools linux-perf time valgrind || exit 1
mkdir -p "$BUILD/bench"
LOG=$BUILD/bench/run-all.log
: >"$LOG"

names=(open_cost open_saturation memory startup hook_families syscount_cost rw_read_cost
	rw_throughput rw_db files_cost proc_cost sched_cost sched_progstats pmc_cost bio_cost cache_cost
	agent_cost agent_redis agent_db profile_cost profile_pg offcpu_cost store_cost req_cost map_build
	uring_cost guard_rules_cost)
# shellcheck disable=SC2206 # a list of words
[ -n "${ONLY:-}" ] && names=($ONLY)
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
