#!/usr/bin/env bash
# statictools.sh - install (once) the pinned static checkers the end-to-end run uses on
# migrated apps, pyright and ruff (its wasm build, @astral-sh/ruff-wasm-nodejs), and print
# the directory that holds their node_modules on stdout.  Logs go to stderr.
#
#   TOOLS=$(bash tests/e2e/statictools.sh)
#
# Environment:
#   AWAITIFY_STATIC_DIR   cache directory (default /var/cache/awaitify/static-tools)
#
# The versions are pinned in tests/e2e/static/package.json and package-lock.json (with their
# sha512); `npm ci` installs exactly those into $AWAITIFY_STATIC_DIR/<hash of the lock file>,
# in a temporary directory renamed when complete.  node and npm come from Debian
# (scripts/setup.sh installs them).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SPEC=$HERE/static
BASE=${AWAITIFY_STATIC_DIR:-/var/cache/awaitify/static-tools}

log() { printf 'statictools: %s\n' "$*" >&2; }
die() { printf 'statictools: error: %s\n' "$*" >&2; exit 1; }

HASH=$(cat "$SPEC/package.json" "$SPEC/package-lock.json" | sha256sum | cut -c1-12)
DIR="$BASE/$HASH"
MARKER=".awaitify-static-tools"

is_complete() {
  [[ -f "$1/$MARKER" && -f "$1/node_modules/pyright/index.js" \
     && -f "$1/node_modules/@astral-sh/ruff-wasm-nodejs/ruff_wasm.js" ]]
}

command -v node >/dev/null || die "node is missing (Debian package nodejs; scripts/setup.sh installs it)"
if is_complete "$DIR"; then
  printf '%s\n' "$DIR"
  exit 0
fi
command -v npm >/dev/null || die "npm is missing (Debian package npm; scripts/setup.sh installs it)"
command -v flock >/dev/null || die "flock is missing (package util-linux)"
if ! mkdir -p "$BASE" 2>/dev/null || [[ ! -w "$BASE" ]]; then
  die "cannot write $BASE (run as root, or set AWAITIFY_STATIC_DIR to a writable directory)"
fi

exec 9>"$BASE/.lock-$HASH"
if ! flock -n 9; then
  log "another process is installing $DIR; waiting for it"
  flock -w 900 9 || die "timed out waiting for the lock $BASE/.lock-$HASH"
fi
if is_complete "$DIR"; then
  printf '%s\n' "$DIR"
  exit 0
fi

TMP=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local rc=$?
  [[ -z "$TMP" || ! -d "$TMP" ]] || rm -rf --one-file-system "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for old in "$BASE/.$HASH".tmp.*; do
  [[ -d "$old" ]] || continue
  log "removing stale $old"
  rm -rf --one-file-system "$old" || true
done
TMP=$(mktemp -d "$BASE/.$HASH.tmp.XXXXXX")
chmod 755 "$TMP"
cp "$SPEC/package.json" "$SPEC/package-lock.json" "$TMP/"
log "installing pyright and ruff-wasm-nodejs into $DIR (npm ci)"
start=$SECONDS
# no install scripts: neither package has one, and none should run as root
if ! (cd "$TMP" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
        --cache "$TMP/.npm-cache" >&2 9>&-); then
  die "npm ci failed (needs the npm registry, https://registry.npmjs.org)"
fi
rm -rf "$TMP/.npm-cache"
{
  echo "installed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "node=$(node --version)"
  echo "npm=$(npm --version)"
  node -e 'for (const p of ["pyright", "@astral-sh/ruff-wasm-nodejs"])
             console.log(p + "=" + require(process.argv[1] + "/node_modules/" + p + "/package.json").version)' "$TMP"
} > "$TMP/$MARKER"
is_complete "$TMP" || die "npm ci finished but the checkers are not in $TMP/node_modules"
mv -T "$TMP" "$DIR"
TMP=""
log "installed $DIR in $((SECONDS - start))s"
printf '%s\n' "$DIR"
