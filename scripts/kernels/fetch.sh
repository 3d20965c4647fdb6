#!/bin/bash
# Fetch and unpack one Debian kernel, once; print the unpacked tree's directory.
#   scripts/kernels/fetch.sh SERIES CACHE     SERIES: 5.10 | 6.1 | 6.12
#   scripts/kernels/fetch.sh --sources        the private sources list for Debian 11, only
# The newest linux-image-<SERIES>...-amd64 (not -cloud-, which has no 9p; not -rt-) comes
# from Debian 12 (the host's apt sources) or, for 5.10, Debian 11 through a private sources
# list, lists and cache under CACHE/apt, so the host's package set is untouched.
# CACHE/<package>.deb and CACHE/<package>/ (dpkg-deb -x) are kept: a later run with the
# same cache downloads nothing. KSIGHT_KERNELS_REFRESH=1 looks for a newer package.
# Debian 11 comes from the mirror the machine's own apt sources use for its release (the
# archive of the entry for bookworm, the security archive of bookworm-security), in either
# format: one-line sources.list and *.list, deb822 *.sources.
# Env: KSIGHT_DEBIAN_MIRROR (e.g. http://deb.debian.org: its /debian and /debian-security)
#      instead of the apt sources.
# Exit: 0 with the directory on stdout; 1 with a message naming what failed.
set -euo pipefail
say() { echo "test-kernels: $*" >&2; }

# Where the machine's apt sources are: apt-config knows if they were moved.
SL=/etc/apt/sources.list
SP=/etc/apt/sources.list.d
eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d 2>/dev/null)"
SP=${SP%/}

# "SUITE URI" for every enabled deb entry of the machine's apt sources.
apt_entries() {
	local f

	for f in "$SL" "$SP"/*.list; do
		[ -r "$f" ] || continue
		# deb [options] URI SUITE COMPONENT...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk '$1 == "deb" && NF >= 3 { print $3, $2 }'
	done
	for f in "$SP"/*.sources; do
		[ -r "$f" ] || continue
		# deb822 paragraphs: Types, URIs and Suites (lists, maybe folded), Enabled
		awk 'function flush(  i, j, nu, ns, u, s) {
			if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
				nu = split(uris, u, /[ \t]+/)
				ns = split(suites, s, /[ \t]+/)
				for (i = 1; i <= nu; i++)
					for (j = 1; j <= ns; j++)
						if (u[i] != "" && s[j] != "")
							print s[j], u[i]
			}
			types = uris = suites = enabled = key = ""
		}
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ {
			if (key == "uris") uris = uris " " $0
			else if (key == "suites") suites = suites " " $0
			next
		}
		{
			key = tolower($1); sub(/:.*/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "enabled") enabled = val
		}
		END { flush() }' "$f"
	done
}

# Sets archive and security: the Debian archive and security archive the apt sources give
# this machine's release and its -security suite (security may stay empty).
debian_mirror() {
	local release entries
	if [ -n "${KSIGHT_DEBIAN_MIRROR:-}" ]; then
		archive=${KSIGHT_DEBIAN_MIRROR%/}/debian
		security=${KSIGHT_DEBIAN_MIRROR%/}/debian-security
		return 0
	fi
	release=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	if [ -z "$release" ]; then
		say "no VERSION_CODENAME in /etc/os-release to find a Debian mirror by" \
			"(set KSIGHT_DEBIAN_MIRROR)"
		return 1
	fi
	entries=$(apt_entries | sed 's|/*$||')
	archive=$(awk -v s="$release" '$1 == s { print $2; exit }' <<< "$entries")
	security=$(awk -v s="$release-security" '$1 == s { print $2; exit }' <<< "$entries")
	if [ -z "$archive" ]; then
		say "no Debian mirror in the apt sources: no deb entry for $release in $SL" \
			"or $SP/ (*.list, *.sources); add one or set KSIGHT_DEBIAN_MIRROR"
		return 1
	fi
	[ -n "$security" ] || say "no $release-security entry in the apt sources: Debian 11" \
		"without bullseye-security (an older 5.10 kernel)"
}

# The sources list of an older Debian release @1, from debian_mirror's archives.
old_sources() {
	local key=/usr/share/keyrings/debian-archive-keyring.gpg

	echo "deb [signed-by=$key] $archive $1 main"
	[ -z "$security" ] || echo "deb [signed-by=$key] $security $1-security main"
}

if [ "${1:-}" = --sources ]; then
	debian_mirror || exit 1
	old_sources bullseye
	exit 0
fi
series=${1:?usage: fetch.sh SERIES CACHE}
cache=${2:?usage: fetch.sh SERIES CACHE}

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
	debian_mirror || exit 1
	adir=$cache/apt/$suite
	mkdir -p "$adir/lists/partial" "$adir/cache/archives/partial"
	old_sources "$suite" > "$adir/sources.list"
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
