#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight run --rw-kinds` (rw's sums by kind of fd, docs/rw.md "Cost") adds per read
# and write, against the same agent without it and no agent at all.
#
#   [ROUNDS=5] [CALLS=2000000] [SETTLE=2] bench/rw_kinds_cost.sh [BUILD]
#
# The workload: dd copying /dev/zero to /dev/null 1 byte at a time, CALLS reads and CALLS
# writes of character devices, each needing the kind look-up (neither send/recv nor
# positioned I/O, whose kind the call tells). Each round runs the three configurations in
# turn (the order rotates): start `ksight run --modules rw 1` (with or without
# --rw-kinds), wait SETTLE seconds, time dd, stop the agent with SIGINT. Prints each
# configuration's median wall time over ROUNDS (and the range), and the medians'
# difference per call. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
KSIGHT=$BUILD/ksight
ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-2000000}
SETTLE=${SETTLE:-2}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "rw_kinds_cost: must run as root (it loads BPF programs)" >&2
	exit 1
fi
if [ ! -x "$KSIGHT" ]; then
	echo "rw_kinds_cost: $KSIGHT missing: run 'make all'" >&2
	exit 1
fi

# one_run CONF: dd's wall seconds under CONF (none, agent, kinds)
one_run()
{
	local pid= s e
	case $1 in
	agent) "$KSIGHT" run --modules rw 1 >/dev/null 2>"$TMP/err" & pid=$! ;;
	kinds) "$KSIGHT" run --modules rw --rw-kinds 1 >/dev/null 2>"$TMP/err" & pid=$! ;;
	esac
	[ -n "$pid" ] && sleep "$SETTLE"
	s=$(date +%s%N)
	dd if=/dev/zero of=/dev/null bs=1 count="$CALLS" 2>/dev/null
	e=$(date +%s%N)
	if [ -n "$pid" ]; then
		kill -INT "$pid"
		if ! wait "$pid"; then
			echo "rw_kinds_cost: the agent failed:" >&2
			cat "$TMP/err" >&2
			exit 1
		fi
	fi
	echo $(((e - s) / 1000))
}

confs=(none agent kinds)
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < 3; i++)); do
		c=${confs[$(((i + r) % 3))]}
		one_run "$c" >>"$TMP/$c"
	done
done
median() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for c in "${confs[@]}"; do
	printf '%-6s median %8.3f s  range %s-%s us\n' "$c" \
		"$(median "$TMP/$c" | awk '{print $1 / 1e6}')" \
		"$(sort -n "$TMP/$c" | head -1)" "$(sort -n "$TMP/$c" | tail -1)"
done
a=$(median "$TMP/agent")
k=$(median "$TMP/kinds")
n=$(median "$TMP/none")
echo "per call (2 x CALLS): agent +$(((a - n) * 1000 / (2 * CALLS))) ns," \
	"--rw-kinds +$(((k - a) * 1000 / (2 * CALLS))) ns more"
