#!/usr/bin/env bash
# inroot.sh ROOT DIR CMD [ARGS...] - run CMD inside the chroot ROOT with cwd DIR.
#
# DIR is a path inside the root (/tmp/x) or a host path under ROOT (ROOT/tmp/x).
# The environment is reset (PATH, HOME=/tmp, LANG=C.UTF-8, PYTHONDONTWRITEBYTECODE=1);
# pass more with `env NAME=VALUE` as CMD.  The exit status is CMD's.
#
# No mounts are needed for python3/pytest (the root has its own /dev nodes).
# With AWAITIFY_INROOT_MOUNTS=1, /proc and /dev are mounted in a private mount
# namespace (unshare), so they disappear with the command, even when it fails
# or is killed, and are never visible on the host.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: inroot.sh ROOT DIR CMD [ARGS...]" >&2
  exit 2
fi
ROOT=$(cd "$1" && pwd -P)
DIR=$2
shift 2

if [[ $(id -u) -ne 0 ]]; then
  echo "inroot.sh: error: must run as root (chroot needs root)" >&2
  exit 2
fi
[[ -x "$ROOT/usr/bin/python3" ]] || { echo "inroot.sh: error: $ROOT is not a pyenv root" >&2; exit 2; }

case "$DIR" in
  "$ROOT"/*) DIR=${DIR#"$ROOT"} ;;
  "$ROOT") DIR=/ ;;
esac
[[ "$DIR" == /* ]] || { echo "inroot.sh: error: DIR must be absolute: $DIR" >&2; exit 2; }
[[ -d "$ROOT$DIR" ]] || { echo "inroot.sh: error: no such directory in the root: $DIR" >&2; exit 2; }

ENVV=(/usr/bin/env -i -C "$DIR"
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/tmp LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1)

if [[ "${AWAITIFY_INROOT_MOUNTS:-0}" == 1 ]]; then
  # shellcheck disable=SC2016  # expanded by the inner shell
  exec unshare --mount --propagation private -- /bin/sh -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" "$@"' inroot "$ROOT" "${ENVV[@]}" "$@"
fi
exec chroot "$ROOT" "${ENVV[@]}" "$@"
