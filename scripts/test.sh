#!/usr/bin/env bash
# Sets up, builds and runs every test: unit and golden tests, the command-line tests, the same
# under address/undefined-behaviour sanitizers, the end-to-end runs of the sample apps, and a
# short libFuzzer run over the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh build
scripts/setup.sh build-sanitize -DAWAITIFY_SANITIZE=ON -DAWAITIFY_E2E=OFF -DCMAKE_BUILD_TYPE=Debug
# Only the fuzzer (the engine under clang's sanitizers): about 4 minutes on 2 cores.
AWAITIFY_BUILD_TARGET=awaitify_fuzz scripts/setup.sh build-fuzz -DAWAITIFY_FUZZ=ON -DAWAITIFY_TESTS=OFF \
  -DAWAITIFY_E2E=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14

echo "== sanitizer build: unit, golden and command-line tests" >&2
ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
echo "== fuzzing the engine for ${AWAITIFY_FUZZ_SECONDS:-60} s (libFuzzer, address and undefined-behaviour sanitizers)" >&2
tests/fuzz/run_fuzz.sh build-fuzz/tests/fuzz/awaitify_fuzz "${AWAITIFY_FUZZ_SECONDS:-60}"
echo "== release build: every test, end to end included" >&2
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 3000
