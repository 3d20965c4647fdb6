#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Throughput a write-heavy database loses while its server's reads and writes are traced:
# pgbench (TPC-B-like: three UPDATEs, an INSERT and a SELECT per transaction) against a
# private PostgreSQL cluster in its own cgroup, with no tracer, with ksight, with peers and
# with floortrace (bench/helpers/floortrace.c: the least a syscall tracer can do here).
#
#   [ROUNDS=5] [SECS=10] [CLIENTS=4] [SCALE=10] bench/rw_db.sh [BUILD]
#
# The cluster lives in a temporary directory (unix socket only, synchronous_commit=off so
# the server is CPU-bound, where tracing shows), its processes in a cgroup v2 directory the
# script creates; every tracer filters on that cgroup and writes to /dev/null. Each round
# runs every traced configuration in turn (the order rotates), each between two untraced
# runs. Prints the median transactions per second and the median loss against the untraced
# runs either side. Everything is removed at the end.
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-4}
SCALE=${SCALE:-10}
rw_init rw_db "ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS SCALE=$SCALE" postgresql \
	libbpf-tools util-linux

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
CG2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
CG=$CG2/ksight-rw-bench.$$
PGDATA=$TMP/pg
SOCK=$TMP/sock
PG_JOB=

db_cleanup()
{
	if [ -n "$PG_JOB" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1
		wait "$PG_JOB" 2>/dev/null
	fi
	[ -d "$CG" ] && rmdir "$CG"
}
RW_CLEANUP=db_cleanup

mkdir "$CG" || { echo "rw_db: cannot create a cgroup under $CG2" >&2; exit 1; }
mkdir "$PGDATA" "$SOCK"
chown postgres: "$PGDATA" "$SOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust >"$TMP/initdb.log" 2>&1 ||
	{ cat "$TMP/initdb.log"; exit 1; }
# the server and every backend it forks live in $CG; pgbench (the client) does not
sh -c "echo \$\$ > $CG/cgroup.procs && exec runuser -u postgres -- $PGBIN/postgres \
	-D $PGDATA -k $SOCK -c listen_addresses= -c synchronous_commit=off \
	-c shared_buffers=128MB -c max_connections=32" >"$TMP/pg.log" 2>&1 &
PG_JOB=$!
for ((i = 0; i < 100; i++)); do
	"$PGBIN/pg_isready" -q -h "$SOCK" && break
	sleep 0.1
done
"$PGBIN/pg_isready" -q -h "$SOCK" || { cat "$TMP/pg.log"; exit 1; }
"$PGBIN/pgbench" -q -i -s "$SCALE" -h "$SOCK" -U postgres postgres >"$TMP/init.log" 2>&1 ||
	{ cat "$TMP/init.log"; exit 1; }
echo "server:  PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), pgbench -c" \
	"$CLIENTS -j 2 -T $SECS, scale $SCALE, cgroup $CG"

# read/write calls per (pid, fd) with their bytes and a latency histogram, like
# rw --summary, for the server's cgroup
CALLS="read write pread64 pwrite64 sendto recvfrom"
BT_RW=""
for c in $CALLS; do
	BT_RW+="${BT_RW:+,}tracepoint:syscalls:sys_enter_$c"
done
BT_RW+=" /cgroup == cgroupid(\"$CG\")/ { @s[tid] = nsecs; @fd[tid] = args->fd; }
"
for c in $CALLS; do
	BT_RW+="tracepoint:syscalls:sys_exit_$c,"
done
BT_RW="${BT_RW%,} /@s[tid]/ { @ops[pid, @fd[tid]] = count(); @bytes[pid, @fd[tid]] = sum(args->ret);
	@lat = hist(nsecs - @s[tid]); delete(@s[tid]); delete(@fd[tid]); }"

NAMES=("untraced" "ksight rw --summary 1" "ksight rw (every call)" "ksight syscount"
	"libbpf-tools syscount -L" "bpftrace rw per fd + latency"
	"ksight rw --summary --no-latency 1" "floor: empty sys_exit program"
	"floor: stream each call, timed")
declare -a TPS LOST
SYSCOUNT_OK=0
"$KSIGHT" syscount --help 2>/dev/null | grep -q "not yet" || SYSCOUNT_OK=1

run_config()
{
	local i=$1 r=$2 err="$TMP/err.$1.$2.$RANDOM" tps
	LAST_TPS=-
	case $i in
	1) start_ksight "$err" rw --summary --cgroup "$CG" 1 || return ;;
	2) start_ksight "$err" rw --cgroup "$CG" || return ;;
	3)
		[ $SYSCOUNT_OK = 1 ] || return
		start_ksight "$err" syscount --cgroup "$CG" || return
		;;
	4) start_peer "$err" 2 /usr/sbin/syscount -L -c "$CG" || return ;;
	5) start_peer "$err" 12 "$BPFTRACE" -e "$BT_RW" || return ;;
	6) start_ksight "$err" rw --summary --no-latency --cgroup "$CG" 1 || return ;;
	7) start_floor "$err" attach -c "$CG" || return ;;
	8) start_floor "$err" latency -c "$CG" || return ;;
	esac
	tps=$("$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECS" -h "$SOCK" -U postgres postgres \
		2>&1 | awk '/^tps = .*without initial/ { print $3 }')
	[ -n "$tps" ] || { rw_fail "pgbench under ${NAMES[$i]} gave no tps"; tps=-; }
	TPS[$i]+=" $tps"
	LAST_TPS=$tps
	local note=""
	case $i in
	1 | 2 | 3 | 6)
		stop_ksight "$TRACER" "$err"
		LOST[$i]+=" $KS_LOST"
		note="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	4 | 5) stop_pid "$TRACER" ;;
	7 | 8)
		stop_floor "$TRACER" "$err"
		LOST[$i]+=" $FL_LOST"
		note="  ($FL_RECORDS records, $FL_LOST lost)"
		;;
	esac
	printf '  round %d  %-34s %10s tps%s\n' "$r" "${NAMES[$i]}" "$tps" "$note"
}

# Throughput here drifts by 10% and more from minute to minute, more than the losses
# measured. So each traced run sits between two untraced ones and its loss is taken against
# their mean: each round is untraced, then every traced configuration (rotating order),
# each followed by untraced again. The table gives medians of these per-round losses.
declare -a LOSS
for ((r = 1; r <= ROUNDS; r++)); do
	run_config 0 "$r"
	prev=$LAST_TPS
	for ((k = 0; k < ${#NAMES[@]} - 1; k++)); do
		i=$(((k + r - 1) % (${#NAMES[@]} - 1) + 1))
		run_config "$i" "$r"
		cur=$LAST_TPS
		run_config 0 "$r"
		LOSS[$i]+=" $(awk -v a="$cur" -v b="$prev" -v c="$LAST_TPS" 'BEGIN {
			if (a == "-" || b == "-" || c == "-") print "-";
			else printf "%.1f\n", (1 - 2 * a / (b + c)) * 100 }')"
		prev=$LAST_TPS
	done
done

echo
echo "pgbench transactions per second, median of $ROUNDS rounds of $SECS s runs; loss against" \
	"the untraced runs either side, median over rounds"
echo
row tracer "tps" "loss vs untraced" "loss per round" "lost"
row --- ---: ---: --- ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	[ -n "${TPS[$i]:-}" ] || { row "${NAMES[$i]}" "not run" - - -; continue; }
	# shellcheck disable=SC2086
	m=$(median ${TPS[$i]})
	lost=-
	# shellcheck disable=SC2086
	[ -n "${LOST[$i]:-}" ] && lost=$(printf '%s\n' ${LOST[$i]} | awk '{ s += $1 } END { print s }')
	if [ "$i" = 0 ]; then
		row "${NAMES[$i]}" "$m" "-" "-" "$lost"
		continue
	fi
	# shellcheck disable=SC2086
	row "${NAMES[$i]}" "$m" "$(median ${LOSS[$i]})%" "$(echo ${LOSS[$i]} | sed 's/ /, /g')" \
		"$lost"
done
echo
echo "target: ksight rw --summary and ksight syscount lose <= 2%"
rw_finish
