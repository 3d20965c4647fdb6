#!/bin/bash
# Fetch and unpack one Debian kernel, once; print the unpacked tree's directory.
#   scripts/kernels/fetch.sh SERIES CACHE     SERIES: 5.10 | 6.1 | 6.12
# The newest linux-image-<SERIES>...-amd64 (not -cloud-, which has no 9p; not -rt-) comes
# from Debian 12 (the host's apt sources) or, for 5.10, Debian 11 through a private sources
# list, lists and cache under CACHE/apt, so the host's package set is untouched.
# CACHE/<package>.deb and CACHE/<package>/ (dpkg-deb -x) are kept: a later run with the
# same cache downloads nothing. KSIGHT_KERNELS_REFRESH=1 looks for a newer package.
# Env: KSIGHT_DEBIAN_MIRROR (http://deb.debian.org), used for Debian 11 only.
# Exit: 0 with the directory on stdout; 1 with a message naming what failed.
set -euo pipefail
series=${1:?usage: fetch.sh SERIES CACHE}
cache=${2:?usage: fetch.sh SERIES CACHE}
mirror=${KSIGHT_DEBIAN_MIRROR:-http://deb.debian.org}
say() { echo "test-kernels: $*" >&2; }

case $series in
5.10) suite=bullseye ;;
6.1 | 6.12) suite=host ;;
*) say "unknown kernel series $series (5.10, 6.1, 6.12)"; exit 1 ;;
esac
# linux-image-6.1.0-27-amd64, linux-image-6.12.41+deb12-amd64, linux-image-5.10.0-35-amd64
pattern="^linux-image-${series//./\\.}(\\.0-[0-9]+|\\.[0-9]+\\+deb[0-9]+)-amd64\$"
mkdir -p "$cache"

apt_opts=(-o APT::Sandbox::User=root)
if [ "$suite" != host ]; then
	adir=$cache/apt/$suite
	mkdir -p "$adir/lists/partial" "$adir/cache/archives/partial"
	cat > "$adir/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror/debian $suite main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror/debian-security $suite-security main
EOF
	apt_opts+=(-o Dir::Etc::sourcelist="$adir/sources.list" -o Dir::Etc::sourceparts=-
		   -o Dir::State::Lists="$adir/lists" -o Dir::Cache="$adir/cache"
		   -o Debug::NoLocking=1)
fi

# The cached package for this series, if any (the newest one already unpacked).
cached() {
	local d best=
	for d in "$cache"/linux-image-"$series"*-amd64; do
		[ -d "$d/boot" ] || continue
		basename "$d" | grep -Eq "$pattern" || continue
		best=$(printf '%s\n%s\n' "$best" "$(basename "$d")" | sed '/^$/d' | sort -V | tail -1)
	done
	[ -n "$best" ] && echo "$best"
}

newest() {
	apt-cache "${apt_opts[@]}" search --names-only "$pattern" 2>/dev/null | awk '{print $1}' |
		grep -Ev -- '-(cloud|rt)-' | sort -V | tail -1
}

pkg=
[ -z "${KSIGHT_KERNELS_REFRESH:-}" ] && pkg=$(cached || true)
if [ -z "$pkg" ]; then
	pkg=$(newest || true)
	if [ -z "$pkg" ] || [ -n "${KSIGHT_KERNELS_REFRESH:-}" ]; then
		say "apt-get update ($([ "$suite" = host ] && echo "host sources" || echo "$suite, private lists"))"
		apt-get "${apt_opts[@]}" -qq update >&2 || { say "apt-get update failed"; exit 1; }
		pkg=$(newest || true)
	fi
	[ -n "$pkg" ] || { say "no package matches $pattern"; exit 1; }
fi

tree=$cache/$pkg
if [ ! -d "$tree/boot" ]; then
	deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$deb" ]; then
		say "downloading $pkg"
		if ! (cd "$cache" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2); then
			# stale lists name a package the mirror no longer has: update, retry once
			say "apt-get update, then retry"
			apt-get "${apt_opts[@]}" -qq update >&2 || { say "apt-get update failed"; exit 1; }
			pkg=$(newest || true)
			[ -n "$pkg" ] || { say "no package matches $pattern"; exit 1; }
			tree=$cache/$pkg
			(cd "$cache" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2) ||
				{ say "apt-get download $pkg failed"; exit 1; }
		fi
		deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1 || true)
		[ -n "$deb" ] || { say "apt-get download $pkg left no .deb"; exit 1; }
	fi
	say "unpacking $(basename "$deb")"
	rm -rf "$tree.tmp"
	dpkg-deb -x "$deb" "$tree.tmp"
	mv "$tree.tmp" "$tree"
fi
ls "$tree"/boot/vmlinuz-* >/dev/null 2>&1 || { say "$tree has no boot/vmlinuz-*"; exit 1; }
echo "$tree"
