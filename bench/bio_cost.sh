#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost per block request under each disk-I/O tracer, against no tracer and the peers.
#
#   [ROUNDS=5] [N=20000] [BS=4096] [CPU=1] [SETTLE=1] [BASE=DIR] bench/bio_cost.sh [BUILD]
#
# A 256 MiB loop device on a file in memory (/dev/shm), without an I/O scheduler. Each
# round starts every tracer in turn (the order rotates each round), waits until it is
# attached, then times, pinned to CPU, `dd iflag=direct` reading N blocks of BS bytes and
# `dd oflag=direct` writing N (one request each: O_DIRECT, synchronous), and stops the
# tracer. Tracers write to /dev/null.
# Prints each tracer's median ns per request over ROUNDS, the ratios, and ksight's lost
# count. The peers: libbpf-tools biotop and biosnoop (they need a kprobe or fentry on
# blk_account_io_start: where the kernel refuses both they are reported as not running,
# not as a failure) and bpftrace summing bytes and time per process and disk on the
# same tracepoints as ksight biotop. Also ksight biolat with a filter (-n dd: the only
# biolat that marks each request at block_io_start, 6.5+). BASE=DIR: ksight's rows again
# for the build in DIR, in the same rounds (an A/B of a change).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-20000}
BS=${BS:-4096}
BASE=${BASE:+$(readlink -f "$BASE")}
bench_init bio_cost "ROUNDS=$ROUNDS N=$N BS=$BS CPU=$CPU SETTLE=$SETTLE${BASE:+ BASE=$BASE}"

BIOTOP=/usr/sbin/biotop
BIOSNOOP=/usr/sbin/biosnoop
BPFTRACE_BIO='tracepoint:block:block_bio_queue { @who[args->dev, args->sector] = pid; }
tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs;
	@owner[args->dev, args->sector] = @who[args->dev, args->sector];
	delete(@who[args->dev, args->sector]); @len[args->dev, args->sector] = args->bytes; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
	$p = @owner[args->dev, args->sector];
	@ops[$p, args->dev] = count(); @bytes[$p, args->dev] = sum(@len[args->dev, args->sector]);
	@ns[$p, args->dev] = sum(nsecs - @start[args->dev, args->sector]);
	delete(@start[args->dev, args->sector]); delete(@owner[args->dev, args->sector]);
	delete(@len[args->dev, args->sector]); }
interval:s:1 { clear(@ops); clear(@bytes); clear(@ns); }'

# the backing file in memory where it can be: the host's disk (other sessions' I/O, its
# writeback) is not what is measured
IMGDIR=$TMP
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
	IMGDIR=$(mktemp -d /dev/shm/ksight-bench.XXXXXX)
[ "$(stat -f -c %T "$IMGDIR")" = tmpfs ] ||
	echo "note: $IMGDIR is not in memory: the disk's noise is measured too"
truncate -s 256M "$IMGDIR/backing.img"
LOOP=$(losetup --find --show "$IMGDIR/backing.img") ||
	{ echo "bio_cost: losetup failed" >&2; exit 1; }
DISK=${LOOP#/dev/}
SCHED=/sys/block/$DISK/queue/scheduler
OLDSCHED=$(sed 's/.*\[\(.*\)\].*/\1/' "$SCHED")
trap 'echo "$OLDSCHED" >"$SCHED"; losetup -d "$LOOP"; [ "$IMGDIR" = "$TMP" ] ||
	rm -rf "$IMGDIR"; bench_cleanup' EXIT
echo none >"$SCHED"	# requests straight to the driver, as the tests have them
echo "device:  $LOOP (backing file in $IMGDIR, $(stat -f -c %T "$IMGDIR"))," \
	"scheduler $(cat "$SCHED")"

NAMES=("untraced" "ksight biotop" "ksight biosnoop" "libbpf biotop" "libbpf biosnoop" "bpftrace"
	"ksight biolat -n dd")
KINDS=(none ksight ksight peer:2 peer:2 peer:3 ksight)
if [ -n "$BASE" ]; then
	NAMES+=("BASE biotop" "BASE biosnoop" "BASE biolat -n dd")
	KINDS+=(ksight ksight ksight)
fi
declare -a NS LOST EVENTS NOTRUN

# peer_runs CMD...: whether a peer attaches on this kernel at all (a 2-second try).
peer_runs()
{
	timeout -s INT 2 "$@" >/dev/null 2>"$TMP/peer.err"
	! grep -q 'failed to load\|failed to attach\|failed to create' "$TMP/peer.err"
}
peer_runs "$BIOTOP" -C 1 || NOTRUN[3]="$(grep -m1 'failed' "$TMP/peer.err")"
peer_runs "$BIOSNOOP" || NOTRUN[4]="$(grep -m1 'failed' "$TMP/peer.err")"

# io_ns: ns per request of N direct reads then N direct writes on the loop device.
io_ns()
{
	local t0 t1
	t0=$(date +%s%N)
	taskset -c "$CPU" dd if="$LOOP" of=/dev/null bs="$BS" count="$N" iflag=direct status=none &&
		taskset -c "$CPU" dd if=/dev/zero of="$LOOP" bs="$BS" count="$N" oflag=direct \
			conv=notrunc status=none || { bench_fail "dd on $LOOP"; echo -; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / (2 * N)))
}

# run_config I ROUND: one measurement of tracer I.
run_config()
{
	local i=$1 err="$TMP/err.$1.$2" ns
	[ -n "${NOTRUN[$i]:-}" ] && return
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" biotop -d "$DISK" 1 || return ;;
	2) start_tracer ksight "$err" "$KSIGHT" biosnoop -d "$DISK" || return ;;
	3) start_tracer peer:2 "$err" "$BIOTOP" -C 1 || return ;;
	4) start_tracer peer:2 "$err" "$BIOSNOOP" -d "$DISK" || return ;;
	5) start_tracer peer:3 "$err" "$BPFTRACE" -e "$BPFTRACE_BIO" || return ;;
	6) start_tracer ksight "$err" "$KSIGHT" biolat -d "$DISK" -n dd || return ;;
	7) start_tracer ksight "$err" "$BASE/ksight" biotop -d "$DISK" 1 || return ;;
	8) start_tracer ksight "$err" "$BASE/ksight" biosnoop -d "$DISK" || return ;;
	9) start_tracer ksight "$err" "$BASE/ksight" biolat -d "$DISK" -n dd || return ;;
	esac
	ns=$(io_ns)
	case ${KINDS[$i]} in
	ksight)
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		LOST[$i]+=" $KS_LOST"
		EVENTS[$i]+=" $KS_EVENTS"
		;;
	peer:*)
		stop_peer "$TRACER_PID" "$err" "${NAMES[$i]}"
		;;
	esac
	NS[$i]+=" $ns"
	printf '  round %d  %-16s %8s ns per request%s\n' "$2" "${NAMES[$i]}" "$ns" \
		"$([ "${KINDS[$i]}" = ksight ] && echo "  ($KS_EVENTS events, $KS_LOST lost)")"
}

io_ns >/dev/null	# warm-up: the backing file's blocks exist and are cached
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		run_config $(((k + r - 1) % ${#NAMES[@]})) "$r"
	done
done

declare -a MED
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	MED[$i]=$(median ${NS[$i]:-})
done
lost_total()
{
	local l t=0
	[ -n "${LOST[$1]:-}" ] || { echo -; return; }
	for l in ${LOST[$1]}; do
		[ "$l" = - ] && { echo -; return; }
		t=$((t + l))
	done
	echo "$t"
}

echo
echo "O_DIRECT $BS-byte requests on $DISK, ns per request, median of $ROUNDS runs (dd on CPU $CPU)"
echo
row tracer "ns per request" "x untraced" "added ns" "runs" "ksight lost"
row --- ---: ---: ---: ---: ---:
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	if [ -n "${NOTRUN[$i]:-}" ]; then
		row "${NAMES[$i]}" "does not run here: ${NOTRUN[$i]}" - - 0 -
		continue
	fi
	added=$(awk -v a="${MED[$i]}" -v b="${MED[0]}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.0f\n", a - b }')
	lost=-
	[ "${KINDS[$i]}" = ksight ] && lost=$(lost_total "$i")
	row "${NAMES[$i]}" "$(fmt "${MED[$i]}")" "$(ratio "${MED[$i]}" "${MED[0]}")" "$added" \
		"$(wc -w <<<"${NS[$i]:-}")" "$lost"
done
echo
echo "ksight biotop / libbpf biotop:     $(ratio "${MED[1]}" "${MED[3]:--}")"
echo "ksight biosnoop / libbpf biosnoop: $(ratio "${MED[2]}" "${MED[4]:--}")"
echo "ksight biotop / bpftrace:          $(ratio "${MED[1]}" "${MED[5]}")"
echo "ksight lost:                       $(lost_total 1) + $(lost_total 2) + $(lost_total 6)"
if [ -n "$BASE" ]; then
	echo "biotop / BASE biotop:              $(ratio "${MED[1]}" "${MED[7]}")"
	echo "biosnoop / BASE biosnoop:          $(ratio "${MED[2]}" "${MED[8]}")"
	echo "biolat -n dd / BASE biolat -n dd:  $(ratio "${MED[6]}" "${MED[9]}")"
fi

# one io_ns for prog_costs (lib.sh)
# shellcheck disable=SC2317 # invoked by prog_costs
io_once()
{
	io_ns >/dev/null
}

echo
echo "BPF programs during one run ($N reads, $N writes), ns per run:"
echo
row "tracer" "program" "runs" "ns/run"
row "---" "---" "---:" "---:"
prog_costs "ksight biotop" io_once "$KSIGHT" biotop -d "$DISK" 1
prog_costs "ksight biolat" io_once "$KSIGHT" biolat -d "$DISK"
prog_costs "ksight biolat -n dd" io_once "$KSIGHT" biolat -d "$DISK" -n dd
if [ -n "$BASE" ]; then
	prog_costs "BASE biotop" io_once "$BASE/ksight" biotop -d "$DISK" 1
	prog_costs "BASE biolat" io_once "$BASE/ksight" biolat -d "$DISK"
	prog_costs "BASE biolat -n dd" io_once "$BASE/ksight" biolat -d "$DISK" -n dd
fi
bench_finish
