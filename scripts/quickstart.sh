#!/usr/bin/env bash
# Sets up, builds, and shows what awaitify would change in the bundled sync example app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
echo "== awaitify list" >&2
build/awaitify list
echo "== awaitify diff fixtures/apps/crud_app" >&2
status=0
build/awaitify diff fixtures/apps/crud_app || status=$?
# 1 means "the diff is not empty": that is the point of the demo.
[[ $status -le 1 ]]
