#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What `ksight net` costs a bulk transfer: one TCP connection sends SIZE_MB MiB from this
# network namespace through a veth pair into a namespace the script makes, untraced and
# under `ksight net` (TC on the veth's host end, and the cgroup view on the cgroup v2
# root), alternating (the order too), ROUNDS times each. Prints each round's throughput and the medians,
# the loss against untraced, and the target (<= 3% loss, issue 15).
#
#   [ROUNDS=5] [SIZE_MB=2048] [ARGS=] bench/net_cost.sh [BUILD]
#
# ARGS are added to ksight's (e.g. "--by interface", "--payload 64 --port 5201").
# The sender and the receiver are small Python loops around sendall()/recv_into() of 1 MiB
# buffers: the kernel's copy and TCP stack are what is measured, not Python.
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
SIZE_MB=${SIZE_MB:-2048}
ARGS=${ARGS:-}
PORT=5201
bench_init net_cost "ROUNDS=$ROUNDS SIZE_MB=$SIZE_MB ARGS=\"$ARGS\""

NS=ksbench$$
HOST=ksbh$$
PEER=ksbp$$
HOST_IP=10.252.$(($$ % 250)).1
PEER_IP=10.252.$(($$ % 250)).2

net_cleanup()
{
	ip link del "$HOST" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	bench_cleanup
}
trap net_cleanup EXIT

ip netns add "$NS" &&
	ip link add "$HOST" type veth peer name "$PEER" &&
	ip link set "$PEER" netns "$NS" &&
	ip addr add "$HOST_IP/24" dev "$HOST" &&
	ip link set "$HOST" up &&
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER" &&
	ip -n "$NS" link set "$PEER" up &&
	ip -n "$NS" link set lo up || { echo "net_cost: cannot make the veth pair" >&2; exit 1; }

RECV='
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(1)
print("listening", flush=True)
c, _ = ls.accept()
buf = bytearray(1 << 20)
total = 0
while True:
    n = c.recv_into(buf)
    if not n:
        break
    total += n
print(total, flush=True)'

SEND='
import socket, sys, time
total = int(sys.argv[3]) << 20
buf = b"\0" * (1 << 20)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
t0 = time.monotonic()
left = total
while left:
    n = min(left, len(buf))
    s.sendall(buf[:n] if n < len(buf) else buf)
    left -= n
s.shutdown(socket.SHUT_WR)
s.recv(1)
print("%.1f" % (total / (1 << 20) / (time.monotonic() - t0)), flush=True)'

# transfer OUTVAR: one connection of SIZE_MB MiB; stores MiB/s, or "-" on failure.
transfer()
{
	local __var=$1 got rate
	ip netns exec "$NS" python3 -c "$RECV" "$PEER_IP" "$PORT" >"$TMP/recv" 2>&1 &
	local rpid=$!
	if ! wait_line "$TMP/recv" listening "$rpid" 10; then
		bench_fail "receiver did not start: $(cat "$TMP/recv")"
		printf -v "$__var" '%s' -
		return 1
	fi
	rate=$(python3 -c "$SEND" "$PEER_IP" "$PORT" "$SIZE_MB" 2>&1)
	wait "$rpid"
	got=$(tail -1 "$TMP/recv")
	if [ "$got" != $((SIZE_MB << 20)) ]; then
		bench_fail "transfer: received $got bytes of $((SIZE_MB << 20)) ($rate)"
		rate=-
	fi
	printf -v "$__var" '%s' "$rate"
}

declare -a PLAIN TRACED LOST
transfer warm	# the first connection pays for page cache and Python start-up
for ((r = 1; r <= ROUNDS; r++)); do
	# the order alternates: even rounds run the traced transfer first
	[ $((r % 2)) = 1 ] && transfer plain
	err=$TMP/err.$r
	# shellcheck disable=SC2086
	if start_tracer ksight "$err" "$KSIGHT" net -i "$HOST" $ARGS; then
		transfer traced
		stop_ksight "$TRACER_PID" "$err" "ksight net"
	else
		traced=-
		KS_LOST=-
	fi
	[ $((r % 2)) = 0 ] && transfer plain
	PLAIN+=("$plain")
	TRACED+=("$traced")
	LOST+=("$KS_LOST")
	printf '  round %d: untraced %s MiB/s, ksight net %s MiB/s (%s lost)\n' \
		"$r" "$plain" "$traced" "$KS_LOST"
done

mp=$(median "${PLAIN[@]}")
mt=$(median "${TRACED[@]}")
loss=$(awk -v a="$mp" -v b="$mt" 'BEGIN {
	if (a == "-" || b == "-" || a + 0 == 0) print "-"; else printf "%.1f\n", (a - b) * 100 / a }')
echo
row "configuration" "MiB/s (median of $ROUNDS)" "loss vs untraced" "target" "verdict"
row "---" "---" "---" "---" "---"
row "untraced" "$(fmt "$mp" %.1f)" "" "" ""
row "ksight net -i veth $ARGS" "$(fmt "$mt" %.1f)" "$loss%" "<= 3%" "$(verdict "$loss" '<=' 3)"
bench_finish
