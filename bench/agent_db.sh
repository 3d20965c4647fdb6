#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Throughput a write-heavy database loses while the agent runs: pgbench (TPC-B-like) against
# a private PostgreSQL cluster (bench/pg_common.sh, the machinery of rw_db.sh), with no
# tracer, under `ksight run` (every module at its defaults, system-wide: not just the
# server's cgroup), the libbpf-tools set and the bpftrace set (bench/agent_common.sh says
# which tools and how), floortrace's empty sys_exit program (what attaching any syscall
# tracer costs here), and `ksight run` with every module and every output at work
# (agent_common.sh's "everything" row).
#
#   [ROUNDS=5] [SECS=10] [CLIENTS=4] [SCALE=10] [SETTLE=1] [PEER_PROBE_SECS=20]
#   [MODULE_ROWS=0] [RESOURCE_ROWS=0] [EVERY_SECS=2] [EVERY_MODULES=all] bench/agent_db.sh [BUILD]
#
# pgbench -c CLIENTS -j 2 -T SECS, scale SCALE, on the cluster's unix socket. Each round is
# untraced, then every traced configuration (the order rotates from round to round), each
# followed by untraced again; a traced run's loss is taken against the mean of the untraced
# runs either side. Prints median tps and the median of those per-round losses.
# shellcheck source=SCRIPTDIR/agent_common.sh
. "$(dirname "$0")/agent_common.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-4}
SCALE=${SCALE:-10}
agent_init agent_db "ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS SCALE=$SCALE SETTLE=$SETTLE\
 PEER_PROBE_SECS=$PEER_PROBE_SECS MODULE_ROWS=$MODULE_ROWS RESOURCE_ROWS=$RESOURCE_ROWS\
 EVERY_SECS=$EVERY_SECS\
 EVERY_MODULES=$EVERY_MODULES" postgresql
# shellcheck source=SCRIPTDIR/pg_common.sh
. "$(dirname "$0")/pg_common.sh"
pg_setup

NAMES=("untraced" "ksight run" "$(set_label lt)" "$(set_label bt)"
	"floor: empty sys_exit program" "ksight run, every module and output")
module_rows
resource_rows
declare -a TPS LOST

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2.$RANDOM"
	LAST_TPS=-
	case $i in
	1) start_ksight "$err" run ;;
	2) set_start lt ;;
	3) set_start bt ;;
	4) start_floor "$err" attach -c "$CG" ;;
	5) everything_start "$err" ;;
	"$RESOURCE_FLOOR_ROW") resource_floor_start "$err" ;;
	[6-9] | [1-9][0-9]) start_ksight "$err" run --modules "${ROW_MODULES[$i]}" ;;
	esac || return
	pg_tps "${NAMES[$i]}"
	TPS[$i]+=" $PG_TPS"
	LAST_TPS=$PG_TPS
	[ "$i" = "$RESOURCE_FLOOR_ROW" ] && resource_floor_stop "$err"
	row_stop "$i" "$err"
	printf '  round %d  %-50s %10s tps%s\n' "$r" "${NAMES[$i]}" "$PG_TPS" "$ROW_NOTE"
}

pg_rounds
pg_table
printf 'target ksight run: tps loss %s%% <= 5%%: %s  (libbpf-tools set %s%%, bpftrace set %s%%, floor %s%%)\n' \
	"${MLOSS[1]:--}" "$(verdict "${MLOSS[1]:--}" "<=" 5)" "${MLOSS[2]:--}" "${MLOSS[3]:--}" \
	"${MLOSS[4]:--}"
printf 'target every module and output: tps loss %s%% <= 5%%: %s\n' "${MLOSS[5]:--}" \
	"$(verdict "${MLOSS[5]:--}" "<=" 5)"
if [ -n "$RESOURCE_ROW" ]; then
	printf 'target the resource modules on top: tps loss %s%% <= 5%%: %s  (their floor %s%%)\n' \
		"${MLOSS[$RESOURCE_ROW]:--}" "$(verdict "${MLOSS[$RESOURCE_ROW]:--}" "<=" 5)" \
		"${MLOSS[$RESOURCE_FLOOR_ROW]:--}"
fi
rw_finish
