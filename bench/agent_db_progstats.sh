#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where the agent's cost on pgbench goes, module by module, by the kernel's own count of
# the time spent in each BPF program (the statistics held on by `ksight status --live`
# for the runs, as lib.sh's prog_costs does: nothing changed in sysctl, nothing left on) and the agent process's own CPU time: figures that other load on a
# shared machine barely moves, unlike the tps of bench/agent_db.sh, whose per-module rows
# (MODULE_ROWS=1) need a quiet machine and many rounds to tell a few points apart.
#
#   [ROUNDS=3] [SECS=10] [CLIENTS=4] [SCALE=10] [MODULES=all] bench/agent_db_progstats.sh [BUILD]
#
# The cluster and load are bench/pg_common.sh's (pgbench -c CLIENTS -j 2 -T SECS against a
# private PostgreSQL in a cgroup of its own). Configurations: `ksight run` with its default
# modules, then the defaults and one opt-in module (each of MODULES, comma separated; all:
# every opt-in module of the agent's --help). Each round runs them in turn; per
# configuration the medians over ROUNDS of: tps, each module's programs' run time per
# transaction (programs are named MODULE__hook) and all of them together, the added
# module's share of the machine's CPU, and the agent's user+system CPU in % of one CPU.
# Per transaction, because tps itself moves with the machine's other load.
# shellcheck source=SCRIPTDIR/rw_common.sh
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-4}
SCALE=${SCALE:-10}
MODULES=${MODULES:-all}
LISTEN=127.0.0.1:19465

rw_init agent_db_progstats "ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS SCALE=$SCALE\
 MODULES=$MODULES" postgresql
# shellcheck source=SCRIPTDIR/pg_common.sh
. "$(dirname "$0")/pg_common.sh"
STATS=
RW_CLEANUP=stats_cleanup
stats_cleanup()
{
	[ -n "$STATS" ] && stop_tracer "$STATS"
	pg_cleanup
}
pg_setup
BENCH_NAME=$NAME

# the agent's default and opt-in module lists, from its --help (as agent_rows.sh reads it)
modules_of()
{
	"$KSIGHT" run --help | grep -- "$1" |
		sed -n 's/^ *--no-\([a-z0-9_]*\) *leave [a-z0-9_]* out.*/\1/p' | paste -sd,
}
DEFAULTS=$(modules_of ' out$')
[ "$MODULES" = all ] && MODULES=$(modules_of '(opt-in')
CONFIGS=("$DEFAULTS")
for m in ${MODULES//,/ }; do
	CONFIGS+=("$DEFAULTS,$m")
done
echo "defaults: $DEFAULTS"

# prog_times PIDFILE-LIST OUT: "name run_time_ns" of the programs the agent holds
prog_times()
{
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
mine = set(open(sys.argv[1]).read().split())
for p in json.load(sys.stdin):
    if str(p["id"]) in mine:
        print(p["id"], p.get("name", "?"), p.get("run_time_ns", 0))' "$1" | sort >"$2"
}

# cpu_ticks PID: user + system clock ticks of PID
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# label I: configuration I's name
label()
{
	if [ "$1" = 0 ]; then echo defaults; else echo "+ ${CONFIGS[$1]##*,}"; fi
}

declare -A SAMPLES	# "config module" -> ns of BPF per transaction, one per round
declare -a TPSV AGENT
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# mid VALUES...: their median, unrounded (rw_common.sh's median keeps one decimal)
mid()
{
	printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# the kernel's run-time statistics, on while this holds them (BPF_ENABLE_STATS)
"$KSIGHT" status --live 1 100000000 >/dev/null 2>&1 &
STATS=$!
sleep 1
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < ${#CONFIGS[@]}; i++)); do
		err=$TMP/err.$i.$r
		start_ksight "$err" run 5 --modules "${CONFIGS[$i]}" --listen "$LISTEN" || continue
		grep -h '^prog_id:' /proc/"$TRACER"/fdinfo/* 2>/dev/null | awk '{ print $2 }' |
			sort -u >"$TMP/mine"
		prog_times "$TMP/mine" "$TMP/t1"
		c1=$(cpu_ticks "$TRACER")
		t0=$(date +%s.%N)
		pg_tps "${CONFIGS[$i]}"
		t1=$(date +%s.%N)
		c2=$(cpu_ticks "$TRACER")
		prog_times "$TMP/mine" "$TMP/t2"
		stop_ksight "$TRACER" "$err" "ksight run --modules ${CONFIGS[$i]}"
		[ "$PG_TPS" = - ] && continue
		TPSV[$i]+=" $PG_TPS"
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
		AGENT[$i]+=" $(awk -v c=$((c2 - c1)) -v hz="$HZ" -v w="$wall" \
			'BEGIN { printf "%.3f", 100 * c / hz / w }')"
		# per module: the growth of its programs' run time per transaction (tps x wall)
		while read -r mod ns; do
			SAMPLES["$i $mod"]+=" $ns"
		done < <(join "$TMP/t1" "$TMP/t2" | awk -v n="$(awk -v t="$PG_TPS" -v w="$wall" \
				'BEGIN { printf "%.0f", t * w }')" '
			{ split($2, p, "__"); ns[p[1]] += $5 - $3; all += $5 - $3 }
			END { for (m in ns) printf "%s %.1f\n", m, ns[m] / n
			      printf "ALL %.1f\n", all / n }')
		printf '  round %d  %-12s %10s tps, BPF %s ns per transaction, agent %s%% of a CPU\n' \
			"$r" "$(label "$i")" "$PG_TPS" "$(awk '{ print $NF }' <<<"${SAMPLES["$i ALL"]}")" \
			"$(awk '{ print $NF }' <<<"${AGENT[$i]}")"
	done
done

echo
echo "Medians of $ROUNDS rounds. BPF: the programs' run time per pgbench transaction; the"
echo "added module's share of the machine: its programs' time per transaction over the"
echo "machine's CPU time per transaction ($NCPU CPUs / tps, pgbench keeps them busy)."
echo
row "configuration" "tps" "BPF ns/transaction, all" "added module's programs, ns/tr" \
	"... % of the machine" "all programs' growth over the defaults, ns/tr" \
	"agent process, % of a CPU"
row "---" "---:" "---:" "---:" "---:" "---:" "---:"
# shellcheck disable=SC2086 # space separated samples
BASE_ALL=$(mid ${SAMPLES["0 ALL"]:-0})
for ((i = 0; i < ${#CONFIGS[@]}; i++)); do
	mod=${CONFIGS[$i]##*,}
	added=- share=- growth=-
	if [ "$i" -gt 0 ]; then
		# what the module makes other programs do too (req and mem work inside the
		# syscall dispatcher, core__*)
		# shellcheck disable=SC2086
		growth=$(awk -v a="$(mid ${SAMPLES["$i ALL"]:-0})" -v b="$BASE_ALL" \
			'BEGIN { printf "%.0f", a - b }')
		# a module's programs are named after its kernel object
		case $mod in
		biotop) key=bio ;;
		runqlat) key=runq ;;
		sched) key=cswitch ;;
		*) key=$mod ;;
		esac
		# shellcheck disable=SC2086 # space separated samples
		added=$(mid ${SAMPLES["$i $key"]:-0})
		# shellcheck disable=SC2086
		share=$(awk -v a="$added" -v t="$(mid ${TPSV[$i]})" -v c="$NCPU" \
			'BEGIN { printf "%.2f%%", 100 * a * t / (c * 1e9) }')
	fi
	# shellcheck disable=SC2086 # space separated samples
	row "$(label "$i")" "$(fmt "$(mid ${TPSV[$i]})" %.0f)" \
		"$(fmt "$(mid ${SAMPLES["$i ALL"]:-0})" %.0f)" "$(fmt "$added" %.0f)" "$share" \
		"$growth" "$(fmt "$(mid ${AGENT[$i]})" %.2f)"
done
echo
echo "Each module's programs, every configuration (median ns per transaction):"
for ((i = 0; i < ${#CONFIGS[@]}; i++)); do
	line=
	for k in "${!SAMPLES[@]}"; do
		[ "${k%% *}" = "$i" ] || continue
		[ "${k#* }" = ALL ] && continue
		# shellcheck disable=SC2086
		line+=" ${k#* }=$(fmt "$(mid ${SAMPLES[$k]})" %.0f)"
	done
	echo "  $(label "$i"):$(tr ' ' '\n' <<<"$line" | sort | paste -sd' ')"
done
bench_finish
