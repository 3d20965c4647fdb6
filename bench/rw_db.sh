#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Throughput a write-heavy database loses while its server's reads and writes are traced:
# pgbench (TPC-B-like: three UPDATEs, an INSERT and a SELECT per transaction) against a
# private PostgreSQL cluster in its own cgroup (bench/pg_common.sh), with no tracer, with
# ksight, with peers and with floortrace (bench/helpers/floortrace.c: the least a syscall
# tracer can do here).
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

# shellcheck source=SCRIPTDIR/pg_common.sh
. "$(dirname "$0")/pg_common.sh"
pg_setup

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
	pg_tps "${NAMES[$i]}"
	tps=$PG_TPS
	TPS[$i]+=" $tps"
	LAST_TPS=$tps
	local note=""
	case $i in
	1 | 2 | 3 | 6)
		stop_ksight "$TRACER" "$err"
		LOST[$i]+=" $KS_LOST"
		note="  ($KS_EVENTS events, $KS_LOST lost)"
		;;
	4 | 5) stop_tracer "$TRACER" ;;
	7 | 8)
		stop_floor "$TRACER" "$err"
		LOST[$i]+=" $FL_LOST"
		note="  ($FL_RECORDS records, $FL_LOST lost)"
		;;
	esac
	printf '  round %d  %-34s %10s tps%s\n' "$r" "${NAMES[$i]}" "$tps" "$note"
}

pg_rounds
pg_table
echo "target: ksight rw --summary and ksight syscount lose <= 2%"
rw_finish
