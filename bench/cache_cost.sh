#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight cache` costs a read-heavy workload, against libbpf-tools cachestat.
#
#   [ROUNDS=5] [REPS=3] [MIB=64] [BS=16384] [PASSES=4] [CPU=1] [SETTLE=1] \
#       bench/cache_cost.sh [BUILD]
#
# The workload: bench/helpers/cacheread reads a MIB MiB file, already in the page cache,
# PASSES times in BS reads, pinned to CPU, and reports its own CPU time per page read (user
# + system: what a page-cache tracer adds runs in the reader; other load on this shared
# machine disturbs it far less than the wall time). The round keeps the
# fastest of REPS runs. Each round runs every configuration in turn (the order
# rotates): start the tracer, wait until it says it is attached, let it settle, run, stop
# it with SIGINT and check it counted the pages read (so it really was tracing). Prints
# each configuration's median over ROUNDS (and the range), what it adds per page, and
# ksight's added cost as a ratio of the peer's. A peer that cannot attach on this kernel
# (cachestat needs fentry or kprobes) is reported as such, with its message.
# Needs root; installs libbpf-tools if missing (Debian 12).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
READER=$BUILD/bench/helpers/cacheread
PEER=/usr/sbin/cachestat
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-3}
MIB=${MIB:-64}
BS=${BS:-16384}
PASSES=${PASSES:-4}
CPU=${CPU:-1}
SETTLE=${SETTLE:-1}
TRACER=
TMP=

if [ "$(id -u)" != 0 ]; then
	echo "cache_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ] || [ ! -x "$READER" ]; then
	echo "cache_cost: $KSIGHT or $READER missing: run 'make all helpers'" >&2
	exit 1
fi
"$ROOT/scripts/install-deps.sh" libbpf-tools util-linux coreutils || exit 1

cleanup()
{
	[ -n "$TRACER" ] && kill -KILL "$TRACER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
TMP=$(mktemp -d /var/tmp/ksight-bench.XXXXXX)	# a disk file system: tmpfs has no page cache adds
trap cleanup EXIT
trap 'exit 130' INT TERM
FILE=$TMP/data
dd if=/dev/urandom of="$FILE" bs=1M count="$MIB" status=none
cat "$FILE" >/dev/null
PAGES=$((MIB * 256 * PASSES))	# per run

NAMES=("untraced" "ksight cache" "ksight cache --files" "ksight cache --hooks tp"
       "libbpf-tools cachestat")
PEER_I=4
declare -a NS
FAILS=0
PEER_ERR=

# start I OUT ERR: start configuration I in the background (TRACER = its pid) and wait
# until it is attached. Returns 1 if it died or never got ready.
start()
{
	local i=$1 out=$2 err=$3 ready file t
	case $i in
	0) return 0 ;;
	1) "$KSIGHT" cache --json --top 0 >"$out" 2>"$err" & ready=" ready in "; file=$err ;;
	2) "$KSIGHT" cache --json --top 0 --files >"$out" 2>"$err" & ready=" ready in "
	   file=$err ;;
	3) "$KSIGHT" cache --json --top 0 --hooks tp >"$out" 2>"$err" & ready=" ready in "
	   file=$err ;;
	# it prints its header once attached; interval 1000 s: its only report comes at SIGINT
	4) stdbuf -oL "$PEER" 1000 >"$out" 2>"$err" & ready="HITS"; file=$out ;;
	esac
	TRACER=$!
	for ((t = 0; t < 600; t++)); do
		grep -q "$ready" "$file" 2>/dev/null && { sleep "$SETTLE"; return 0; }
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	[ "$i" = "$PEER_I" ] && PEER_ERR=$(grep -v '^libbpf: *$' "$err" | tail -3 | paste -sd' ' | head -c 300)
	[ "$i" = "$PEER_I" ] || echo "FAIL: ${NAMES[$i]} did not start: $(head -c 300 "$err")" >&2
	kill -KILL "$TRACER" 2>/dev/null
	wait "$TRACER" 2>/dev/null
	TRACER=
	return 1
}

stop()
{
	[ -n "$TRACER" ] || return 0
	kill -INT "$TRACER"
	wait "$TRACER"
	TRACER=
}

# counted I OUT: the pages configuration I saw accessed (hits + misses; 0 if none)
counted()
{
	local i=$1 out=$2
	case $i in
	0) echo $((REPS * PAGES)); return ;;
	1 | 2 | 3) grep '"type":"cache_interval"' "$out" | tail -1 |
	       sed -n 's/.*"hits":\([0-9]*\),"misses":\([0-9]*\).*/\1 \2/p' | awk '{ print $1 + $2 }' ;;
	*) awk '$1 ~ /^[0-9]+$/ { s += $1 + $2 } END { print s + 0 }' "$out" ;;
	esac | head -1 | grep . || echo 0
}

# one run: CPU ns per page
pass()
{
	local out
	out=$(taskset -c "$CPU" "$READER" "$FILE" "$BS" "$PASSES") || return 1
	set -- $out
	echo "$4"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		out=$TMP/out.$i.$r
		err=$TMP/err.$i.$r
		start "$i" "$out" "$err" || { [ "$i" = "$PEER_I" ] || FAILS=$((FAILS + 1)); continue; }
		ns=
		for ((j = 0; j < REPS; j++)); do
			res=$(pass) || { echo "FAIL: $READER" >&2; FAILS=$((FAILS + 1)); res=0; }
			ns=$(printf '%s\n' $ns "$res" | sort -g | head -1)
		done
		stop
		seen=$(counted "$i" "$out")
		if [ "$seen" -lt $((REPS * PAGES)) ]; then
			echo "FAIL: ${NAMES[$i]} counted $seen pages, fewer than $((REPS * PAGES)):" \
			     "$(tail -c 300 "$err")" >&2
			FAILS=$((FAILS + 1))
		fi
		NS[$i]+=" $ns"
		printf '  round %d  %-24s %8s CPU ns/page  (counted %s)\n' "$r" "${NAMES[$i]}" "$ns" "$seen"
	done
done

median()
{
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "command: ROUNDS=$ROUNDS REPS=$REPS MIB=$MIB BS=$BS PASSES=$PASSES CPU=$CPU SETTLE=$SETTLE" \
	"bench/cache_cost.sh $(realpath --relative-to="$ROOT" "$BUILD")"
echo "kernel:  $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
method=$(grep -h '"type":"cache_interval"' "$TMP"/out.1.* 2>/dev/null | head -1 |
	 sed -n 's/.*"method":"\([^"]*\)".*/\1/p')
echo "ksight method: ${method:-?}"
printf '%-24s %10s %16s %10s %8s\n' "configuration" "CPU ns/pg" "range" "added ns" "ratio"
U=$(median <<<"${NS[0]:-}")
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	if [ -z "${NS[$i]:-}" ]; then
		printf '%-24s %s\n' "${NAMES[$i]}" "did not run: ${PEER_ERR:-failed}"
		continue
	fi
	m=$(median <<<"${NS[$i]}")
	rg=$(tr ' ' '\n' <<<"${NS[$i]}" | grep . | sort -g | sed -n '1p;$p' | paste -sd-)
	awk -v n="${NAMES[$i]}" -v m="$m" -v u="$U" -v rg="$rg" 'BEGIN {
		printf "%-24s %10.1f %16s %10.1f %7.3fx\n", n, m, rg, m - u, m / u }'
done
echo "(CPU ns per page read, median of the rounds' best runs; ratio: over the untraced run's)"
[ "$FAILS" = 0 ] || { echo "$FAILS measurement(s) failed" >&2; exit 1; }
