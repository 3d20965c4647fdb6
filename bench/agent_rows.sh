# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by bench/agent_common.sh: the agent benchmarks' rows beyond the default agent,
# the peer sets and the floor: the agent with every module and output at work, (with
# MODULE_ROWS=1) the default agent with one opt-in module more, one row per module, and
# (with RESOURCE_ROWS=1) the default agent with every resource module and its floor.

# The "everything" row: `ksight run` with every module it has (those that only run when
# named too; EVERY_MODULES=LIST for others, to tell the modules' cost from the outputs')
# and every output working while it is measured: a summary each EVERY_SECS (2 s, not
# the default 10, so each output works several times in one measured run), the
# store in TMP, every event as JSON lines to a file, the metrics pushed to an OTLP/HTTP
# receiver (a python one that reads each body and answers 200), /metrics scraped each
# second and /api/events held open by an SSE client, both with curl.
EVERY_SECS=${EVERY_SECS:-2}
EVERY_MODULES=${EVERY_MODULES:-all}	# or a --modules list, to tell modules from outputs
EVERYTHING_PORT=${EVERYTHING_PORT:-19464}
OTLP_PORT=${OTLP_PORT:-14318}
EVERYTHING_PIDS=()

# every_module [default|optin]: the names of the agent's modules (those it runs by
# default, or the opt-in ones; all without an argument), comma-separated, from its own
# --help (a --no-NAME per module, "(opt-in: ...)" after the opt-in ones').
every_module()
{
	local keep=.
	[ "${1:-}" = default ] && keep=' out$'
	[ "${1:-}" = optin ] && keep='(opt-in'
	"$KSIGHT" run --help | grep -- "$keep" |
		sed -n 's/^ *--no-\([a-z0-9_]*\) *leave [a-z0-9_]* out.*/\1/p' | paste -sd,
}

# everything_start ERR: the receivers, then the agent, then the scraper and the SSE
# client once it is ready. Sets TRACER (the agent).
everything_start()
{
	local err=$1 k
	python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$OTLP_PORT" \
		2>>"$err.otlp" &
	EVERYTHING_PIDS=($!)
	for ((k = 0; k < 100; k++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$OTLP_PORT") 2>/dev/null && break
		sleep 0.1
	done
	rm -f "$TMP/everything.db"* "$TMP/everything.jsonl"
	local mods=$EVERY_MODULES
	[ "$mods" = all ] && mods=$(every_module)
	start_ksight "$err" run "$EVERY_SECS" --modules "$mods" \
		--listen "127.0.0.1:$EVERYTHING_PORT" --store "$TMP/everything.db" \
		--otlp "http://127.0.0.1:$OTLP_PORT/v1/metrics" \
		-o table -o "json,event:$TMP/everything.jsonl" || {
		kill "${EVERYTHING_PIDS[@]}" 2>/dev/null
		wait "${EVERYTHING_PIDS[@]}" 2>/dev/null
		return 1
	}
	curl -sN "http://127.0.0.1:$EVERYTHING_PORT/api/events" >/dev/null 2>&1 &
	EVERYTHING_PIDS+=($!)
	while :; do
		curl -s "http://127.0.0.1:$EVERYTHING_PORT/metrics" >/dev/null 2>&1
		sleep 1
	done &
	EVERYTHING_PIDS+=($!)
}

# everything_stop ERR: the scraper and the SSE client, then the agent (as row 1's; its
# last interval is exported as it exits), then the receiver.
everything_stop()
{
	kill "${EVERYTHING_PIDS[@]:1}" 2>/dev/null
	wait "${EVERYTHING_PIDS[@]:1}" 2>/dev/null
	stop_ksight "$TRACER" "$1"
	kill "${EVERYTHING_PIDS[0]}" 2>/dev/null
	wait "${EVERYTHING_PIDS[0]}" 2>/dev/null
	EVERYTHING_PIDS=()
	grep -q 'otlp.*\(fail\|error\|refused\)' "$1" &&
		bench_fail "the OTLP export failed: $(grep -m1 'otlp' "$1")"
}

# module_rows: with MODULE_ROWS=1, a row per opt-in module: the agent's default modules
# and that one (what each adds, to tell which make the everything row costlier); with
# MODULE_ROWS=LIST (opt-in modules, comma separated), those only. Appends to NAMES and sets
# ROW_MODULES[I] (the --modules list of row I).
MODULE_ROWS=${MODULE_ROWS:-0}
declare -a ROW_MODULES
module_rows()
{
	local m def list
	[ "$MODULE_ROWS" = 0 ] && return 0
	def=$(every_module default)
	list=$MODULE_ROWS
	[ "$list" = 1 ] && list=$(every_module optin)
	for m in ${list//,/ }; do
		# shellcheck disable=SC2034 # read by agent_redis.sh and agent_db.sh
		ROW_MODULES[${#NAMES[@]}]="$def,$m"
		NAMES+=("ksight run + $m")
	done
}

# resource_rows: with RESOURCE_ROWS=1, two rows more: the default agent with the resource
# modules (issue 12's "on top of the rest": runqlat, sched, mem, biotop, pmc, cache,
# offcpu), and the floor under it: floortrace's empty sys_exit program (the default
# agent's floor) together with its empty sched_switch, sched_wakeup and sched_wakeup_new
# programs, machine-wide (what any tracer on the scheduler's hooks pays). Appends to NAMES
# and sets RESOURCE_ROW and RESOURCE_FLOOR_ROW (their indices, else empty).
RESOURCE_ROWS=${RESOURCE_ROWS:-0}
RESOURCE_MODULES=runqlat,sched,mem,biotop,pmc,cache,offcpu
RESOURCE_ROW= RESOURCE_FLOOR_ROW= FLOOR2=
resource_rows()
{
	[ "$RESOURCE_ROWS" = 1 ] || return 0
	RESOURCE_ROW=${#NAMES[@]}
	# shellcheck disable=SC2034 # read by agent_db.sh
	ROW_MODULES[$RESOURCE_ROW]="$(every_module default),$RESOURCE_MODULES"
	NAMES+=("ksight run + the resource modules")
	RESOURCE_FLOOR_ROW=${#NAMES[@]}
	NAMES+=("floor: empty sys_exit and scheduler programs")
}

# resource_floor_start ERR: the two floortraces of the resource floor row (the second's
# pid in FLOOR2; TRACER the first's).
resource_floor_start()
{
	start_floor "$1.sched" sched || return
	FLOOR2=$TRACER
	start_floor "$1" attach -c "$CG" || { stop_floor "$FLOOR2" "$1.sched"; FLOOR2=; return 1; }
}

# resource_floor_stop: the scheduler floortrace (row_stop stops the other).
resource_floor_stop()
{
	[ -n "$FLOOR2" ] && stop_floor "$FLOOR2" "$1.sched"
	FLOOR2=
}
