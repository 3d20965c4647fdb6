#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What one interval's OTLP export costs the agent's reader thread: the registry rendered
# as OTLP JSON and protobuf (and Prometheus text, for comparison) with SERIES counter
# series and SERIES/10 histograms; medians of ROUNDS. No BPF, no root needed.
#   bench/otlp_cost.sh [BUILD]          SERIES=10000 ROUNDS=9
set -e
BUILD=${1:-build}
SERIES=${SERIES:-10000}
ROUNDS=${ROUNDS:-9}
make --no-print-directory "$BUILD/libksight.a" >/dev/null
mkdir -p "$BUILD/bench/helpers"
cc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -I"$BUILD" bench/otlp_render.c \
	"$BUILD/libksight.a" -Wl,-Bstatic -lbpf -Wl,-Bdynamic -ldw -lelf -lz -lmicrohttpd \
	-lsqlite3 -lyaml -lpthread -lm -o "$BUILD/bench/helpers/otlp_render"
echo "# SERIES=$SERIES ROUNDS=$ROUNDS bench/otlp_cost.sh $BUILD   $(date -u +%FT%TZ)"
echo "# $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bench/helpers/otlp_render" "$SERIES" "$ROUNDS"
