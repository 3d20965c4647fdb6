#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What tcplife's DNAT view (src/modules/tcp_nat.c: one conntrack query per closed session)
# costs connection churn: short TCP connections (connect, one byte, close; bench/helpers/
# connloop.c) from a client in namespace A to a service address VIP:80 that an nftables
# DNAT rule in A sends to the server in namespace B, through a veth pair the script makes.
# Connections per second untraced, under `ksight tcplife --no-dnat` (no query) and under
# `ksight tcplife` (a query per session), ROUNDS rounds, the order rotating. Both must
# report every session from both ends (2 x (N + 1) records, 0 lost), and with the DNAT
# view every client end (N + 1) must carry the real server (real_daddr), without one
# "conntrack could not be asked" line. Also ksight's own CPU time (user + system, all its
# threads, /proc/PID/stat) over the run, per session: what the queries cost it, a figure
# the shared machine's load moves far less than the connection rate.
#
#   [ROUNDS=5] [N=10000] bench/nat_cost.sh [BUILD]
#
# Everything changed (the rule, tcp_tw_reuse) is in the script's two namespaces.
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
N=${N:-10000}
PORT=5203
LOOP=$BUILD/bench/helpers/connloop
bench_init nat_cost "ROUNDS=$ROUNDS N=$N"

A=ksnata$$
B=ksnatb$$
VA=ksnaa$$
VB=ksnab$$
A_IP=10.253.$(($$ % 250)).1
B_IP=10.253.$(($$ % 250)).2
VIP=10.253.$(($$ % 250)).100
SERVER=

nat_cleanup()
{
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	bench_cleanup
}
trap nat_cleanup EXIT

netns_pair "$A" "$B" "$VA" "$VB" "$A_IP" "$B_IP" &&
	ip netns exec "$A" nft -f - <<EOF || { echo "nat_cost: cannot make the namespaces" >&2; exit 1; }
table ip ksnat {
	chain out {
		type nat hook output priority -100;
		ip daddr $VIP tcp dport 80 counter dnat to $B_IP:$PORT
	}
}
EOF
ip netns exec "$B" "$LOOP" server "$B_IP" "$PORT" >"$TMP/server" 2>&1 &
SERVER=$!
wait_line "$TMP/server" listening "$SERVER" 10 || { echo "nat_cost: no server" >&2; exit 1; }

NAMES=("untraced" "ksight tcplife --no-dnat" "ksight tcplife (DNAT view)")
declare -a RATES CPUS
TCK=$(getconf CLK_TCK)

# cpu_ticks PID: utime + stime of process PID, in clock ticks
cpu_ticks()
{
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# one run of configuration $1: stores "conns/s seen dnat" in MRES
measure()
{
	local i=$1 out=$TMP/out.$1.$2 err=$TMP/err.$1.$2 rate seen=- dnat=- t0 cpu=-
	case $i in
	0) ;;
	1) start_tracer ksight "$err" "$KSIGHT" tcplife --no-dnat --addr "$A_IP" \
		-o "json:$out" || return 1 ;;
	2) start_tracer ksight "$err" "$KSIGHT" tcplife --addr "$A_IP" -o "json:$out" ||
		return 1 ;;
	esac
	[ "$i" != 0 ] && t0=$(cpu_ticks "$TRACER_PID")
	rate=$(ip netns exec "$A" "$LOOP" client "$VIP" 80 "$N" 2>&1 |
		sed -n 's/^conns [0-9]* per_sec \([0-9.]*\)$/\1/p')
	[ -n "$rate" ] || { bench_fail "client failed"; rate=-; }
	if [ "$i" != 0 ]; then
		sleep 0.5
		# us of ksight's CPU per session (2 per connection)
		cpu=$(awk -v a="$t0" -v b="$(cpu_ticks "$TRACER_PID")" -v t="$TCK" -v n=$((2 * N + 2)) \
			'BEGIN { printf "%.2f\n", (b - a) * 1e6 / t / n }')
		stop_ksight "$TRACER_PID" "$err" "${NAMES[$i]}"
		seen=$(grep -c '"type":"tcplife"' "$out")
		dnat=$(grep -c "\"real_daddr\":\"$B_IP\",\"real_dport\":$PORT" "$out")
		[ "$seen" = $((2 * N + 2)) ] && [ "$KS_LOST" = 0 ] ||
			bench_fail "${NAMES[$i]}: $seen sessions of $((2 * N + 2)), $KS_LOST lost"
		if [ "$i" = 2 ]; then
			[ "$dnat" = $((N + 1)) ] && ! grep -q 'conntrack could not' "$err" ||
				bench_fail "DNAT view: $dnat client ends with the real server of $((N + 1))"
		elif [ "$dnat" != 0 ]; then
			bench_fail "--no-dnat: $dnat ends with DNAT fields"
		fi
	fi
	MRES="$rate $seen $dnat $cpu"
}

echo
echo "-- connections per second ($N sequential connections to $VIP:80 per run, DNAT'd to"
echo "   $B_IP:$PORT in the client's namespace, through a veth pair)"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < ${#NAMES[@]}; k++)); do
		i=$(((k + r - 1) % ${#NAMES[@]}))
		measure "$i" "$r" || continue
		read -r rate seen dnat cpu <<<"$MRES"
		RATES[$i]+=" $rate"
		CPUS[$i]+=" $cpu"
		printf '  round %d  %-28s %9s conns/s  ksight CPU %s us/session  (sessions %s, with the real server %s)\n' \
			"$r" "${NAMES[$i]}" "$rate" "$cpu" "$seen" "$dnat"
	done
done
echo
# shellcheck disable=SC2086
base=$(median ${RATES[0]:-})
# shellcheck disable=SC2086
nodnat=$(median ${RATES[1]:-})
row "configuration" "median conns/s" "loss vs untraced" "vs --no-dnat" "ksight CPU us/session" "runs"
row "---" "---" "---" "---" "---" "---"
for ((i = 0; i < ${#NAMES[@]}; i++)); do
	# shellcheck disable=SC2086
	m=$(median ${RATES[$i]:-})
	l=$(awk -v a="$base" -v b="$m" 'BEGIN {
		if (a == "-" || b == "-" || a + 0 == 0) print "-"; else printf "%.1f%%\n", (a - b) * 100 / a }')
	d=$(awk -v a="$nodnat" -v b="$m" 'BEGIN {
		if (a == "-" || b == "-" || a + 0 == 0) print "-"; else printf "%.1f%%\n", (a - b) * 100 / a }')
	[ "$i" = 0 ] && l="" && d=""
	[ "$i" = 1 ] && d=""
	# shellcheck disable=SC2086
	c=$(median ${CPUS[$i]:-})
	[ "$i" = 0 ] && c=""
	row "${NAMES[$i]}" "$(fmt "$m" %.1f)" "$l" "$d" "$c" "${RATES[$i]# }"
done
bench_finish
