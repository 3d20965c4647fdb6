#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Throughput redis loses while `ksight req` follows its requests: redis-benchmark GET and
# SET against Debian's redis-server on loopback, untraced, under `ksight req` (system-wide:
# every read and write of the machine looked at), under `ksight req --port PORT` (the
# kernel's port check first), under a bpftrace peer that times each read-to-write on a
# thread (the least a request-latency script can do: no socket or protocol check), and
# under floortrace's empty sys_exit program (bench/helpers/floortrace.c: what attaching
# any syscall tracer costs here).
#
#   [ROUNDS=5] [REQUESTS=100000] [CLIENTS=50] [KEYS=100000] [SERVER_CPU=0] [CLIENT_CPU=1]
#   [PORT=16389] [SETTLE=1] bench/req_cost.sh [BUILD]
#
# A private redis-server (no persistence, 127.0.0.1:PORT, its files in a temporary
# directory) pinned to SERVER_CPU; redis-benchmark pinned to CLIENT_CPU, CLIENTS
# connections, REQUESTS SETs then REQUESTS GETs on KEYS random keys, no pipelining. Each
# round is untraced, then every traced configuration (the order rotates from round to
# round), each followed by untraced again; a traced run's loss is taken against the mean
# of the untraced runs either side. Prints median requests/s and the median of the
# per-round losses, GET and SET; ksight's requests counted must be the benchmark's.
# shellcheck source=SCRIPTDIR/rw_common.sh
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-50}
KEYS=${KEYS:-100000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-16389}
REDIS_JOB=
BT_REQ='tracepoint:syscalls:sys_exit_read,tracepoint:syscalls:sys_exit_recvfrom
/args->ret > 0/ { @start[tid] = nsecs; }
tracepoint:syscalls:sys_exit_write,tracepoint:syscalls:sys_exit_sendto
/args->ret > 0 && @start[tid]/ { @us = hist((nsecs - @start[tid]) / 1000); delete(@start[tid]); }'

redis_cleanup()
{
	if [ -n "$REDIS_JOB" ]; then
		redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill -TERM "$REDIS_JOB"
		wait "$REDIS_JOB" 2>/dev/null
	fi
}
RW_CLEANUP=redis_cleanup

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "req_cost: something already answers on 127.0.0.1:$PORT: set PORT" >&2
	exit 1
fi
rw_init req_cost "ROUNDS=$ROUNDS REQUESTS=$REQUESTS CLIENTS=$CLIENTS KEYS=$KEYS\
 SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU PORT=$PORT SETTLE=$SETTLE" \
	redis-server redis-tools
echo "other tracers running: $(other_tracers)"

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
	"-t set,get -P 1, CPU $CLIENT_CPU"

# bench_run: one redis-benchmark run; sets LAST_SET and LAST_GET (requests/s, "-" if none).
bench_run()
{
	local out
	out=$(taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$PORT" -t set,get \
		-n "$REQUESTS" -c "$CLIENTS" -r "$KEYS" -P 1 --csv 2>&1)
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

NAMES=("untraced" "ksight req" "ksight req --port $PORT" "bpftrace read-to-write latency"
	"floor: empty sys_exit program")
declare -a GET SET LOSS_GET LOSS_SET NOTE

# check_counts ERR: ksight's JSON report must count the server's GETs and SETs exactly.
check_counts()
{
	local got
	got=$(python3 -c '
import json, sys
n = {"GET": 0, "SET": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "req" and r.get("role") == "server" and r.get("method") in n:
        n[r["method"]] += r["requests"]
print(n["GET"], n["SET"])' "$1.json")
	[ "$got" = "$REQUESTS $REQUESTS" ] ||
		bench_fail "ksight req counted GET SET '$got', redis-benchmark sent $REQUESTS each"
}

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2.$RANDOM"
	LAST_SET=-
	LAST_GET=-
	ROW_NOTE=
	case $i in
	1) start_ready "$err" " ready in " 60 "$KSIGHT" req -o "json:$err.json" ;;
	2) start_ready "$err" " ready in " 60 "$KSIGHT" req -o "json:$err.json" --port "$PORT" ;;
	3) start_peer "$err" 4 "$BPFTRACE" -e "$BT_REQ" ;;
	4) start_floor "$err" attach -p "$REDIS_JOB" ;;
	esac || return
	bench_run
	GET[$i]+=" $LAST_GET"
	SET[$i]+=" $LAST_SET"
	case $i in
	1 | 2)
		stop_ksight "$TRACER" "$err"
		check_counts "$err"
		ROW_NOTE="  ($KS_LOST lost)"
		;;
	3) stop_peer "$TRACER" "$err" bpftrace ;;
	4)
		stop_floor "$TRACER" "$err"
		ROW_NOTE="  ($FL_RECORDS records, $FL_LOST lost)"
		;;
	esac
	printf '  round %d  %-40s GET %10s/s  SET %10s/s%s\n' "$r" "${NAMES[$i]}" "$LAST_GET" \
		"$LAST_SET" "$ROW_NOTE"
}

redis_rounds "$ROUNDS" "${#NAMES[@]}"

echo
echo "redis-benchmark requests per second, median of $ROUNDS rounds; loss against the" \
	"untraced runs either side, median over rounds"
echo
row tracer "GET req/s" "GET loss" "GET loss per round" "SET req/s" "SET loss" \
	"SET loss per round"
row --- ---: ---: --- ---: ---: ---
declare -a LG LS
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	{
		mg=$(median ${GET[$i]:-})
		ms=$(median ${SET[$i]:-})
	}
	if [ "$i" = 0 ]; then
		row "${NAMES[$i]}" "$mg" - - "$ms" - -
		continue
	fi
	# shellcheck disable=SC2086
	{
		LG[$i]=$(median ${LOSS_GET[$i]:-})
		LS[$i]=$(median ${LOSS_SET[$i]:-})
		row "${NAMES[$i]}" "$mg" "${LG[$i]}%" "$(echo ${LOSS_GET[$i]:-} | sed 's/ /, /g')" \
			"$ms" "${LS[$i]}%" "$(echo ${LOSS_SET[$i]:-} | sed 's/ /, /g')"
	}
done
echo
for i in 1 2; do
	printf 'target %s: GET loss %s%%, SET loss %s%% <= 3%%: %s / %s  (bpftrace %s / %s, floor %s / %s)\n' \
		"${NAMES[$i]}" "${LG[$i]:--}" "${LS[$i]:--}" "$(verdict "${LG[$i]:--}" "<=" 3)" \
		"$(verdict "${LS[$i]:--}" "<=" 3)" "${LG[3]:--}" "${LS[3]:--}" "${LG[4]:--}" "${LS[4]:--}"
done
rw_finish
