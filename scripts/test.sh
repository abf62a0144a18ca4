#!/usr/bin/env bash
# Sets up, builds and runs every test: unit and golden tests, the command-line tests, the same
# under address/undefined-behaviour sanitizers, and the end-to-end runs of the sample apps.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh build
scripts/setup.sh build-sanitize -DAWAITIFY_SANITIZE=ON -DAWAITIFY_E2E=OFF -DCMAKE_BUILD_TYPE=Debug

echo "== sanitizer build: unit, golden and command-line tests" >&2
ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
echo "== release build: every test, end to end included" >&2
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 3000
