#!/usr/bin/env bash
# pyenv.sh - build (once) a Debian trixie root with FastAPI & friends for running
# the sample apps' pytest suites, and print its path on stdout.  Logs go to stderr.
#
#   ROOT=$(bash tests/e2e/pyenv.sh)
#
# Environment:
#   AWAITIFY_PYENV_DIR    cache directory (default /var/cache/awaitify/pyenv)
#   AWAITIFY_DEBIAN_MIRROR  mirror (default http://deb.debian.org/debian)
#
# The root lives in $AWAITIFY_PYENV_DIR/trixie-<hash>, where <hash> is the first
# 12 hex digits of sha256(sorted package list + script version).  It is built in
# a temporary directory beside it and renamed when complete and verified, so a
# half-built root is never used.  Concurrent callers are serialised with flock.
set -euo pipefail

SCRIPT_VERSION=1
SUITE=trixie
MIRROR=${AWAITIFY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=${AWAITIFY_PYENV_DIR:-/var/cache/awaitify/pyenv}

# package -> python module imported to verify it
declare -A MODULES=(
  [python3-sqlmodel]=sqlmodel
  [python3]=sys
  [python3-fastapi]=fastapi
  [python3-starlette]=starlette
  [python3-sqlalchemy]=sqlalchemy
  [python3-pydantic]=pydantic
  [python3-httpx]=httpx
  [python3-aiofiles]=aiofiles
  [python3-aiosqlite]=aiosqlite
  [python3-pytest]=pytest
  [python3-pytest-asyncio]=pytest_asyncio
  [python3-anyio]=anyio
  [python3-asgi-lifespan]=asgi_lifespan
  [python3-respx]=respx
  [python3-requests]=requests
  [python3-python-multipart]=python_multipart
)

log() { printf 'pyenv: %s\n' "$*" >&2; }
die() { printf 'pyenv: error: %s\n' "$*" >&2; exit 1; }

mapfile -t PACKAGES < <(printf '%s\n' "${!MODULES[@]}" | LC_ALL=C sort)
MODLIST=$(for p in "${PACKAGES[@]}"; do printf '%s\n' "${MODULES[$p]}"; done | paste -sd, -)
HASH=$(printf '%s\n' "${PACKAGES[@]}" "version=$SCRIPT_VERSION" | sha256sum | cut -c1-12)
ROOT="$BASE/$SUITE-$HASH"
MARKER=".awaitify-pyenv"

is_complete() { [[ -f "$1/$MARKER" && -x "$1/usr/bin/python3" ]]; }

if is_complete "$ROOT"; then
  printf '%s\n' "$ROOT"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root to build $ROOT (debootstrap and chroot need root); run: sudo bash $0"
command -v flock >/dev/null || die "flock is missing (package util-linux)"

mkdir -p "$BASE"
exec 9>"$BASE/.lock-$SUITE-$HASH"
if ! flock -n 9; then
  log "another process is building $ROOT; waiting for it"
  flock -w 3600 9 || die "timed out waiting for the lock $BASE/.lock-$SUITE-$HASH"
fi
if is_complete "$ROOT"; then   # built by whoever held the lock
  printf '%s\n' "$ROOT"
  exit 0
fi

# --- debootstrap -----------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  command -v apt-get >/dev/null || die "debootstrap is missing and apt-get is not available to install it"
  log "installing debootstrap"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update -q >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 \
      || die "debootstrap is missing and could not be installed with apt-get"
  fi
  command -v debootstrap >/dev/null || die "debootstrap is missing and could not be installed"
fi
[[ -e /usr/share/debootstrap/scripts/$SUITE ]] \
  || die "this debootstrap has no script for '$SUITE'; upgrade the debootstrap package"

# --- build into a temp dir beside ROOT ---------------------------------------
TMP=""
unmount_under() {  # unmount everything mounted under $1, deepest first
  local dir=$1 m
  [[ -d "$dir" ]] || return 0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r)
}
cleanup() {
  local rc=$?
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    unmount_under "$TMP"
    if awk -v d="$TMP" 'index($2, d "/") == 1 {f=1} END {exit !f}' /proc/mounts; then
      log "leaving $TMP in place: something is still mounted under it"
    else
      rm -rf --one-file-system "$TMP"
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stale temp dirs from killed builds (we hold the lock, so nobody else uses them)
for old in "$BASE/.$SUITE-$HASH".tmp.*; do
  [[ -d "$old" ]] || continue
  log "removing stale $old"
  unmount_under "$old"
  rm -rf --one-file-system "$old" || true
done

TMP=$(mktemp -d "$BASE/.$SUITE-$HASH.tmp.XXXXXX")
chmod 755 "$TMP"   # it becomes a /
INCLUDE=$(printf '%s\n' "${PACKAGES[@]}" | paste -sd, -)
log "building $SUITE root in $TMP (takes a few minutes)"
log "packages: $INCLUDE"
start=$SECONDS
if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$TMP" "$MIRROR" >&2 9>&-; then
  [[ -f "$TMP/debootstrap/debootstrap.log" ]] && tail -n 30 "$TMP/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (see above)"
fi
unmount_under "$TMP"

# small and quiet: drop the downloaded .debs and apt lists
rm -f "$TMP"/var/cache/apt/archives/*.deb
rm -rf "$TMP"/var/lib/apt/lists/*_Packages* 2>/dev/null || true

log "verifying imports: $MODLIST"
chroot "$TMP" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  python3 -c "import $MODLIST; print('imports ok')" >&2 \
  || die "the new root cannot import: $MODLIST"

{
  echo "suite=$SUITE"
  echo "script_version=$SCRIPT_VERSION"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "seconds=$((SECONDS - start))"
  echo "packages=$INCLUDE"
  echo "# installed versions"
  chroot "$TMP" dpkg-query -W "${PACKAGES[@]}" 2>/dev/null || true
} > "$TMP/$MARKER"

mv -T "$TMP" "$ROOT"
TMP=""
log "built $ROOT in $((SECONDS - start))s"
printf '%s\n' "$ROOT"
