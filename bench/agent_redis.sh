#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Throughput a small key-value server loses while the agent runs: redis-benchmark GET and
# SET against Debian's redis-server on loopback, with no tracer, under `ksight run` (every
# module at its defaults, system-wide), the libbpf-tools set and the bpftrace set
# (bench/agent_common.sh says which tools and how), floortrace's empty sys_exit program
# (bench/helpers/floortrace.c: what attaching any syscall tracer costs here), and `ksight
# run` with every module and every output at work (agent_common.sh's "everything" row).
#
#   [ROUNDS=7] [REQUESTS=200000] [CLIENTS=50] [KEYS=100000] [SERVER_CPU=0] [CLIENT_CPU=1]
#   [PORT=16379] [SETTLE=1] [PEER_PROBE_SECS=20] [MODULE_ROWS=0] [EVERY_SECS=2]
#   [EVERY_MODULES=all] bench/agent_redis.sh [BUILD]
#
# A private redis-server (no persistence, 127.0.0.1:PORT, its files in a temporary
# directory) pinned to SERVER_CPU; redis-benchmark pinned to CLIENT_CPU, CLIENTS
# connections, REQUESTS SETs then REQUESTS GETs on KEYS random keys (filled once before the
# rounds), no pipelining. Throughput drifts on a VM, so each round is untraced, then every
# traced configuration (the order rotates from round to round), each followed by untraced
# again, and a traced run's loss is taken against the mean of the untraced runs either
# side. Prints median requests/s and the median of those per-round losses, GET and SET.
# shellcheck source=SCRIPTDIR/agent_common.sh
. "$(dirname "$0")/agent_common.sh"
ROUNDS=${ROUNDS:-7}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
KEYS=${KEYS:-100000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-16379}
REDIS_JOB=

redis_cleanup()
{
	if [ -n "$REDIS_JOB" ]; then
		redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill -TERM "$REDIS_JOB"
		wait "$REDIS_JOB" 2>/dev/null
	fi
}
RW_CLEANUP=redis_cleanup

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "agent_redis: something already answers on 127.0.0.1:$PORT: set PORT" >&2
	exit 1
fi
agent_init agent_redis "ROUNDS=$ROUNDS REQUESTS=$REQUESTS CLIENTS=$CLIENTS KEYS=$KEYS\
 SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU PORT=$PORT SETTLE=$SETTLE\
 PEER_PROBE_SECS=$PEER_PROBE_SECS MODULE_ROWS=$MODULE_ROWS EVERY_SECS=$EVERY_SECS\
 EVERY_MODULES=$EVERY_MODULES" redis-server redis-tools

mkdir "$TMP/redis"
taskset -c "$SERVER_CPU" redis-server --port "$PORT" --bind 127.0.0.1 --save "" \
	--appendonly no --dir "$TMP/redis" --logfile "$TMP/redis.log" --daemonize no &
REDIS_JOB=$!
for ((i = 0; i < 100; i++)); do
	redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$PORT" ping >/dev/null 2>&1 || { cat "$TMP/redis.log"; exit 1; }
echo "server:  redis-server $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') on" \
	"127.0.0.1:$PORT, CPU $SERVER_CPU; redis-benchmark -c $CLIENTS -n $REQUESTS -r $KEYS" \
	"-t set,get, CPU $CLIENT_CPU"

# bench_run: one redis-benchmark run; sets LAST_SET and LAST_GET (requests/s, "-" if none).
bench_run()
{
	local out
	out=$(taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$PORT" -t set,get \
		-n "$REQUESTS" -c "$CLIENTS" -r "$KEYS" --csv 2>&1)
	LAST_SET=$(awk -F'"' '$2 == "SET" { print $4 }' <<<"$out")
	LAST_GET=$(awk -F'"' '$2 == "GET" { print $4 }' <<<"$out")
	if [ -z "$LAST_SET" ] || [ -z "$LAST_GET" ]; then
		bench_fail "redis-benchmark gave no figure: $(tail -2 <<<"$out" | tr '\n' ' ')"
		LAST_SET=${LAST_SET:--}
		LAST_GET=${LAST_GET:--}
	fi
}
bench_run	# fills the keys GET reads
[ ${#FAILS[@]} = 0 ] || rw_finish

NAMES=("untraced" "ksight run" "$(set_label lt)" "$(set_label bt)"
	"floor: empty sys_exit program" "ksight run, every module and output")
module_rows
declare -a GET SET LOST LOSS_GET LOSS_SET

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2.$RANDOM"
	LAST_SET=-
	LAST_GET=-
	case $i in
	0) ;;
	1) start_ksight "$err" run ;;
	2) set_start lt ;;
	3) set_start bt ;;
	4) start_floor "$err" attach -p "$REDIS_JOB" ;;
	5) everything_start "$err" ;;
	*) start_ksight "$err" run --modules "${ROW_MODULES[$i]}" ;;
	esac || return
	bench_run
	GET[$i]+=" $LAST_GET"
	SET[$i]+=" $LAST_SET"
	row_stop "$i" "$err"
	printf '  round %d  %-50s GET %10s/s  SET %10s/s%s\n' "$r" "${NAMES[$i]}" "$LAST_GET" \
		"$LAST_SET" "$ROW_NOTE"
}

redis_rounds "$ROUNDS" "${#NAMES[@]}"

echo
echo "redis-benchmark requests per second, median of $ROUNDS rounds; loss against the" \
	"untraced runs either side, median over rounds"
echo
row tracer "GET req/s" "GET loss" "GET loss per round" "SET req/s" "SET loss" \
	"SET loss per round" "lost"
row --- ---: ---: --- ---: ---: --- ---:
declare -a LG LS
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	[ -n "${GET[$i]:-}" ] || { row "${NAMES[$i]}" "not run" - - - - - -; continue; }
	lost=-
	# shellcheck disable=SC2086
	[ -n "${LOST[$i]:-}" ] && lost=$(printf '%s\n' ${LOST[$i]} | awk '
		$1 == "-" { u = 1 } { s += $1 } END { print u ? "-" : s }')
	# shellcheck disable=SC2086
	{
		mg=$(fmt "$(median ${GET[$i]})")
		ms=$(fmt "$(median ${SET[$i]})")
	}
	if [ "$i" = 0 ]; then
		row "${NAMES[$i]}" "$mg" - - "$ms" - - "$lost"
		continue
	fi
	# shellcheck disable=SC2086
	{
		LG[$i]=$(median ${LOSS_GET[$i]:-})
		LS[$i]=$(median ${LOSS_SET[$i]:-})
		row "${NAMES[$i]}" "$mg" "${LG[$i]}%" "$(echo ${LOSS_GET[$i]:-} | sed 's/ /, /g')" \
			"$ms" "${LS[$i]}%" "$(echo ${LOSS_SET[$i]:-} | sed 's/ /, /g')" "$lost"
	}
done
echo
printf 'target ksight run: GET loss %s%% <= 5%%: %s  (libbpf-tools set %s%%, bpftrace set %s%%, floor %s%%)\n' \
	"${LG[1]:--}" "$(verdict "${LG[1]:--}" "<=" 5)" "${LG[2]:--}" "${LG[3]:--}" "${LG[4]:--}"
printf 'target ksight run: SET loss %s%% <= 5%%: %s  (libbpf-tools set %s%%, bpftrace set %s%%, floor %s%%)\n' \
	"${LS[1]:--}" "$(verdict "${LS[1]:--}" "<=" 5)" "${LS[2]:--}" "${LS[3]:--}" "${LS[4]:--}"
printf 'target every module and output: GET loss %s%% <= 5%%: %s, SET loss %s%% <= 5%%: %s\n' \
	"${LG[5]:--}" "$(verdict "${LG[5]:--}" "<=" 5)" "${LS[5]:--}" "$(verdict "${LS[5]:--}" "<=" 5)"
rw_finish
