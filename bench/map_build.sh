#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What building the service map costs: `ksight map --since 1h --json` over a store holding
# CONNS loopback connections (both ends each, SERVICES services) spread over the last hour,
# made up with Python's sqlite3 in the agent's schema. Prints the median wall time and the
# median peak RSS of ROUNDS runs, and the same for a 10-minute window (the live map's).
#
#   [ROUNDS=5] [CONNS=360000] [SERVICES=20] bench/map_build.sh [BUILD]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$ROOT/build}")
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-360000}
SERVICES=${SERVICES:-20}
TMP=$(mktemp -d /tmp/ksight-map-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

echo "ROUNDS=$ROUNDS CONNS=$CONNS SERVICES=$SERVICES bench/map_build.sh $BUILD"
# an empty store in the agent's schema: the agent makes it (no module needs to see anything)
KSIGHT_STORE=none "$BUILD/ksight" run --modules tcplife --listen none --store "$TMP/k.db" \
	--duration 1 >/dev/null 2>&1
python3 - "$TMP/k.db" "$CONNS" "$SERVICES" <<'PY'
import json, random, sqlite3, sys, time
db, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(db)
now = time.time_ns()
base = {"type": "tcplife", "family": "ipv4", "duration_ns": 500000, "retrans": 0,
        "srtt_ns": 50000, "connect_ns": 60000, "reason": "fin"}
def rows():
    rnd = random.Random(1)
    for i in range(n):
        c = rnd.randrange(k); s = (c + 1 + rnd.randrange(5)) % k
        cport, sport = 1024 + i % 60000, 8000 + s
        ts = now - int(3590e9 * (n - i) / n)
        yield (ts, "web%d.service" % c, json.dumps(dict(base, side="client",
               laddr="127.0.0.1", lport=cport, raddr="127.0.0.1", rport=sport,
               tx_bytes=1000, rx_bytes=200)))
        yield (ts + 1000, "web%d.service" % s, json.dumps(dict(base, side="server",
               laddr="127.0.0.1", lport=sport, raddr="127.0.0.1", rport=cport,
               tx_bytes=200, rx_bytes=1000)))
with con:
    con.executemany("INSERT INTO events(ts, type, pid, comm, service, json) VALUES"
                    "(?, 'tcplife', 1, 'x', ?, ?)", rows())
PY
for since in 1h 10m; do
	: > "$TMP/t"
	for _ in $(seq "$ROUNDS"); do
		/usr/bin/time -f "%e %M" -a -o "$TMP/t" "$BUILD/ksight" map --db "$TMP/k.db" \
			--since "$since" --json >/dev/null
	done
	wall=$(sort -n -k1 "$TMP/t" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $1 }')
	rss=$(sort -n -k2 "$TMP/t" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $2 }')
	printf -- "--since %-4s wall %.2f s, peak RSS %.0f MB (medians of %d)\n" "$since" \
		"$wall" "$((rss / 1024))" "$ROUNDS"
done
