#!/bin/sh
# Unpack Debian's prometheus package (the server and promtool) under BUILD, once:
#   scripts/fetch-prometheus.sh BUILD
# The tests scrape the agent with a real Prometheus and lint its page with promtool
# (test_prometheus_server.py). The package is downloaded, never installed: installing it
# would enable and start a system service (and its postinst expects systemd). Both binaries
# are static Go programs that need only libc; the web UI's assets (the libjs-* packages
# it depends on) matter to the UI alone, not to the HTTP API the tests query.
#   BUILD/prometheus/cache/prometheus_*.deb   the package, kept
#   BUILD/prometheus/usr/bin/{prometheus,promtool}
# A later run with both binaries there does nothing. Exit 0, or 1 with one line.
set -eu
build=${1:?usage: fetch-prometheus.sh BUILD}
dir=$build/prometheus
cache=$dir/cache
say() { echo "fetch-prometheus: $*" >&2; }

[ -x "$dir/usr/bin/prometheus" ] && [ -x "$dir/usr/bin/promtool" ] && exit 0
mkdir -p "$cache"
# as root, apt's download sandbox user (_apt) could not write into the build tree
opts="-o APT::Sandbox::User=root -qq"
deb=$(ls "$cache"/prometheus_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
	say "downloading Debian's prometheus package (unpacked, not installed)"
	# shellcheck disable=SC2086
	if ! (cd "$cache" && apt-get $opts download prometheus >&2); then
		# no package lists yet (a fresh machine) or stale ones: update, retry once
		if [ "$(id -u)" != 0 ]; then
			say "apt-get download prometheus failed; run as root to update the package lists"
			exit 1
		fi
		say "apt-get update, then retry"
		# shellcheck disable=SC2086
		apt-get $opts update >&2 || { say "apt-get update failed"; exit 1; }
		# shellcheck disable=SC2086
		(cd "$cache" && apt-get $opts download prometheus >&2) ||
			{ say "apt-get download prometheus failed"; exit 1; }
	fi
	deb=$(ls "$cache"/prometheus_*.deb 2>/dev/null | sort -V | tail -1 || true)
	[ -n "$deb" ] || { say "apt-get download prometheus left no .deb in $cache"; exit 1; }
fi
rm -rf "$dir/tmp"
dpkg-deb -x "$deb" "$dir/tmp" || { say "dpkg-deb -x $deb failed"; exit 1; }
rm -rf "$dir/usr"
mv "$dir/tmp/usr" "$dir/usr"
rm -rf "$dir/tmp"
for b in prometheus promtool; do
	[ -x "$dir/usr/bin/$b" ] || { say "$deb has no usr/bin/$b"; exit 1; }
done
