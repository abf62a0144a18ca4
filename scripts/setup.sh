#!/usr/bin/env bash
# Installs what awaitify needs to build and test on Debian, then configures and builds it.
#   [AWAITIFY_BUILD_TARGET=target] scripts/setup.sh [BUILD_DIR] [extra cmake arguments...]
# Packages are installed only when missing. The tree-sitter-python grammar is fetched by CMake
# from the npm registry (pinned version, checked against its sha512). node and npm run the
# end-to-end run's static checkers (tests/e2e/statictools.sh installs pinned pyright and ruff).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${1:-build}
shift || true
PACKAGES=(cmake make g++ pkg-config patch git ca-certificates
          libtree-sitter-dev libcli11-dev libspdlog-dev libdtl-dev libgtest-dev
          python3 clang-14 libclang-rt-14-dev)
# commands from Debian packages, when no other package (nodesource's nodejs, say) provides them
declare -A COMMANDS=([node]=nodejs [npm]=npm)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
for command in node npm; do
  command -v "$command" >/dev/null || missing+=("${COMMANDS[$command]}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
# AWAITIFY_BUILD_TARGET builds one target only (the fuzz build needs just its fuzzer).
cmake --build "$BUILD_DIR" -j "$(nproc)" ${AWAITIFY_BUILD_TARGET:+--target "$AWAITIFY_BUILD_TARGET"} >&2
