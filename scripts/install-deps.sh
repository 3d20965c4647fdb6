#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# Quiet and quick when nothing is missing; runs `apt-get update` before installing.
set -eu
# what installed packages provide counts as installed: NodeSource's nodejs provides npm
# (and conflicts with Debian's)
provided=$(dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null |
	sed -n 's/^install ok installed|//p' | tr ',' '\n' | sed 's/([^)]*)//; s/ //g')
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) printf '%s\n' "$provided" | grep -qx "$p" || missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "ksight: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "ksight: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
