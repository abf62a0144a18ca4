#!/usr/bin/env bash
# Runs the libFuzzer target for a while, seeded with every Python file under fixtures/.
#   tests/fuzz/run_fuzz.sh FUZZER [SECONDS]      (default 60 s)
# The corpus libFuzzer grows is kept beside the binary (fuzz-work/corpus) for the next run; a
# failing input is written to fuzz-work/artifacts/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzzer=$(realpath "$1")
seconds=${2:-60}
work=${AWAITIFY_FUZZ_DIR:-$(dirname "$fuzzer")/fuzz-work}
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
find fixtures -name '*.py' -size -64k -print0 |
  while IFS= read -r -d '' file; do
    cp "$file" "$work/seeds/$(sha1sum <"$file" | cut -c1-16).py"
  done
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds from fixtures/, $(ls "$work/corpus" | wc -l) inputs kept, ${seconds} s" >&2
# -detect_leaks=0: the engine keeps per-process caches (the tests phase's model), so libFuzzer's
# leak check after each input would run on nearly every input, ten times slower; leaks are still
# looked for once, when the run exits (LeakSanitizer's own check).
exec "$fuzzer" -max_total_time="$seconds" -max_len=16384 -timeout=30 -rss_limit_mb=4096 -detect_leaks=0 \
  -dict=tests/fuzz/python.dict -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" "$work/seeds"
