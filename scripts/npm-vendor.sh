#!/bin/sh
# Install the npm packages pinned by SRC/package-lock.json into DEST/node_modules, once:
#   scripts/npm-vendor.sh SRC DEST
# Nothing is done when DEST/node_modules matches the lock already, so a second build needs
# no network. No install scripts run and no browser is downloaded (Playwright's is Debian's
# chromium). When npm cannot reach its registry, one line says so and the build stops.
set -eu
src=$1 dest=$2
stamp=$dest/node_modules/.ksight-lock
if [ -f "$stamp" ] && cmp -s "$src/package-lock.json" "$stamp"; then
	touch "$stamp"	# newer than package.json, for make
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "ksight: npm is not installed (run make deps): it fetches $src/package-lock.json's packages" >&2
	exit 1
fi
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
log=$dest/npm.log
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if ! (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier \
		--fetch-retries=1 --fetch-timeout=20000) >"$log" 2>&1; then
	reg=$(cd "$dest" && npm config get registry 2>/dev/null || echo "its registry")
	if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|socket hang up' "$log"; then
		echo "ksight: npm cannot reach its registry $reg to fetch $src/package-lock.json's packages into $dest/node_modules (needed once; details in $log)" >&2
	else
		echo "ksight: npm ci failed for $src/package-lock.json: $(grep -m1 'npm error' "$log" || tail -n1 "$log") (details in $log)" >&2
	fi
	exit 1
fi
cp "$src/package-lock.json" "$stamp"
