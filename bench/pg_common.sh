# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by the pgbench benchmarks (bench/rw_db.sh, bench/agent_db.sh; sourced, bash, after
# rw_init or agent_init): a private PostgreSQL cluster in a cgroup of its own, pgbench
# against it, and the paired rounds (every traced run between two untraced ones).
#
# The cluster lives in the temporary directory (unix socket only, synchronous_commit=off so
# the server is CPU-bound, where tracing shows), its processes in a cgroup v2 directory
# created here (CG); pgbench (the client) is not in it. Everything is removed on exit.

# pg_setup: the cluster, started and filled (pgbench -i -s SCALE); exits 1 if it cannot.
pg_setup()
{
	local i
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	CG2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	CG=$CG2/ksight-$NAME.$$
	PGDATA=$TMP/pg
	SOCK=$TMP/sock
	PG_JOB=
	# shellcheck disable=SC2034 # rw_cleanup (rw_common.sh) calls it
	RW_CLEANUP=pg_cleanup
	mkdir "$CG" || { echo "$NAME: cannot create a cgroup under $CG2" >&2; exit 1; }
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
	"$PGBIN/pgbench" -q -i -s "$SCALE" -h "$SOCK" -U postgres postgres >"$TMP/init.log" \
		2>&1 || { cat "$TMP/init.log"; exit 1; }
	echo "server:  PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), pgbench -c" \
		"$CLIENTS -j 2 -T $SECS, scale $SCALE, cgroup $CG"
}

pg_cleanup()
{
	if [ -n "${PG_JOB:-}" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1
		wait "$PG_JOB" 2>/dev/null
	fi
	[ -n "${CG:-}" ] && [ -d "$CG" ] && rmdir "$CG"
}

# pg_tps WHAT: one pgbench run of SECS s; sets PG_TPS ("-" and a failure if none).
pg_tps()
{
	PG_TPS=$("$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECS" -h "$SOCK" -U postgres \
		postgres 2>&1 | awk '/^tps = .*without initial/ { print $3 }')
	[ -n "$PG_TPS" ] || { bench_fail "pgbench under $1 gave no tps"; PG_TPS=-; }
}

# pg_rounds: ROUNDS rounds over NAMES (0 = untraced) with the caller's `run_config I ROUND`,
# which sets LAST_TPS. Throughput here drifts by 10% and more from minute to minute, more
# than the losses measured. So each traced run sits between two untraced ones and its loss
# is taken against their mean: each round is untraced, then every traced configuration
# (rotating order), each followed by untraced again. Fills LOSS[I] with per-round losses.
pg_rounds()
{
	local r k i prev cur
	declare -g -a LOSS
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
}

# pg_table: the summary table from TPS[I], LOSS[I] and LOST[I]; MLOSS[I] the median losses.
pg_table()
{
	local i m lost
	declare -g -a MLOSS
	echo
	echo "pgbench transactions per second, median of $ROUNDS rounds of $SECS s runs; loss" \
		"against the untraced runs either side, median over rounds"
	echo
	row tracer "tps" "loss vs untraced" "loss per round" "lost"
	row --- ---: ---: --- ---:
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		[ -n "${TPS[$i]:-}" ] || { row "${NAMES[$i]}" "not run" - - -; continue; }
		# shellcheck disable=SC2086
		m=$(fmt "$(median ${TPS[$i]})")
		lost=-
		# shellcheck disable=SC2086
		[ -n "${LOST[$i]:-}" ] &&
			lost=$(printf '%s\n' ${LOST[$i]} | awk '{ s += $1 } END { print s }')
		if [ "$i" = 0 ]; then
			row "${NAMES[$i]}" "$m" "-" "-" "$lost"
			continue
		fi
		# shellcheck disable=SC2086
		MLOSS[$i]=$(median ${LOSS[$i]})
		# shellcheck disable=SC2086
		row "${NAMES[$i]}" "$m" "${MLOSS[$i]}%" "$(echo ${LOSS[$i]} | sed 's/ /, /g')" "$lost"
	done
	echo
}
