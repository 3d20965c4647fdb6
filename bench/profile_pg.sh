#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How long ksight profile takes to name the stacks of a minute of PostgreSQL under
# pgbench: the server (its own cgroup, a private cluster, bench/pg_common.sh) profiled with
# `ksight profile --cgroup CG --duration SECS --json` while pgbench runs SECS seconds; the
# figure is the summary's symbolize_ns (every binary parsed from cold caches, kallsyms
# included) and the share of samples named.
#
#   [ROUNDS=5] [SECS=60] [CLIENTS=4] [SCALE=10] bench/profile_pg.sh [BUILD]
# shellcheck source=SCRIPTDIR/rw_common.sh
. "$(dirname "$0")/rw_common.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-60}
CLIENTS=${CLIENTS:-4}
SCALE=${SCALE:-10}
rw_init profile_pg "ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS SCALE=$SCALE" postgresql
# shellcheck source=SCRIPTDIR/pg_common.sh
. "$(dirname "$0")/pg_common.sh"
pg_setup

MS=()
for ((r = 1; r <= ROUNDS; r++)); do
	out="$TMP/profile.$r.json"
	"$KSIGHT" profile --cgroup "$CG" --duration "$((SECS + 2))" --json >"$out" \
		2>"$TMP/profile.$r.err" &
	k=$!
	for ((i = 0; i < 100; i++)); do
		grep -q " ready in " "$TMP/profile.$r.err" && break
		sleep 0.1
	done
	pg_tps "ksight profile"
	wait "$k" || bench_fail "ksight profile exited $?: $(tail -1 "$TMP/profile.$r.err")"
	read -r ms samples named pct bins < <(python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = [r for r in s if r["type"] == "profile_summary"][-1]
print(s["symbolize_ns"] / 1e6, s["samples"], s["symbolized"], s["symbolized_pct"], s["binaries"])
' "$out")
	echo "round $r: $PG_TPS tps; $samples samples, $named named (${pct}%), $bins binaries," \
		"symbolized in $ms ms"
	MS+=("$ms")
done
echo
echo "symbolization, median of $ROUNDS: $(printf '%s\n' "${MS[@]}" | sort -n |
	awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }') ms"
[ ${#FAILS[@]} = 0 ]
