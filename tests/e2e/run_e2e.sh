#!/usr/bin/env bash
# run_e2e.sh - end-to-end check of awaitify on the sample apps in fixtures/apps.
#
#   bash tests/e2e/run_e2e.sh --awaitify build/awaitify [--apps crud_app,...]
#        [--phases db,http,...] [--steps baseline,cumulative,single,module,closure,static,verify,idempotent]
#        [--keep] [--root DIR] [--logs DIR]
#
# See tests/e2e/README.md for what each step checks.  Exit status: 0 when every
# step passed (or failed as expected), 1 when a step failed, 2 on a usage error.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
ALL_PHASES=(db http files services routes middleware lifespan tests)
ALL_STEPS=(baseline cumulative single module closure static verify idempotent)

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { printf 'run_e2e: error: %s\n' "$*" >&2; exit 2; }
say() { printf 'run_e2e: %s\n' "$*" >&2; }

AWAITIFY=""
APPS_ARG=""
PHASES_ARG=""
STEPS_ARG=""
KEEP=${AWAITIFY_E2E_KEEP:-0}
ROOT=${AWAITIFY_PYENV_ROOT:-}
LOGS=${AWAITIFY_E2E_LOGS:-}
APPS_DIR=${AWAITIFY_E2E_APPS_DIR:-$REPO/fixtures/apps}
SUITE_TIMEOUT=${AWAITIFY_E2E_TIMEOUT:-600}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --awaitify) [[ $# -ge 2 ]] || usage; AWAITIFY=$2; shift 2 ;;
    --awaitify=*) AWAITIFY=${1#*=}; shift ;;
    --apps) [[ $# -ge 2 ]] || usage; APPS_ARG=$2; shift 2 ;;
    --apps=*) APPS_ARG=${1#*=}; shift ;;
    --phases) [[ $# -ge 2 ]] || usage; PHASES_ARG=$2; shift 2 ;;
    --phases=*) PHASES_ARG=${1#*=}; shift ;;
    --steps) [[ $# -ge 2 ]] || usage; STEPS_ARG=$2; shift 2 ;;
    --steps=*) STEPS_ARG=${1#*=}; shift ;;
    --root) [[ $# -ge 2 ]] || usage; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --logs) [[ $# -ge 2 ]] || usage; LOGS=$2; shift 2 ;;
    --logs=*) LOGS=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# ---------------------------------------------------------------- arguments
[[ -n "$AWAITIFY" ]] || die "--awaitify PATH is required"
[[ -f "$AWAITIFY" && -x "$AWAITIFY" ]] || die "not an executable file: $AWAITIFY"
AWAITIFY=$(cd "$(dirname "$AWAITIFY")" && pwd -P)/$(basename "$AWAITIFY")
[[ $(id -u) -eq 0 ]] || die "must run as root (the suites run in a chroot)"

in_list() { local x=$1; shift; local y; for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done; return 1; }

PHASES=()
if [[ -n "$PHASES_ARG" ]]; then
  IFS=, read -r -a wanted <<< "$PHASES_ARG"
  for p in "${wanted[@]}"; do in_list "$p" "${ALL_PHASES[@]}" || die "unknown phase '$p' (phases: ${ALL_PHASES[*]})"; done
  for p in "${ALL_PHASES[@]}"; do in_list "$p" "${wanted[@]}" && PHASES+=("$p"); done   # SPEC order
else
  PHASES=("${ALL_PHASES[@]}")
fi
STEPS=()
if [[ -n "$STEPS_ARG" ]]; then
  IFS=, read -r -a wanted <<< "$STEPS_ARG"
  for s in "${wanted[@]}"; do in_list "$s" "${ALL_STEPS[@]}" || die "unknown step '$s' (steps: ${ALL_STEPS[*]})"; done
  for s in "${ALL_STEPS[@]}"; do in_list "$s" "${wanted[@]}" && STEPS+=("$s"); done
  in_list baseline "${STEPS[@]}" || STEPS=(baseline "${STEPS[@]}")   # everything compares with it
else
  STEPS=("${ALL_STEPS[@]}")
fi

APPS=()
if [[ -n "$APPS_ARG" ]]; then
  IFS=, read -r -a APPS <<< "$APPS_ARG"
  for a in "${APPS[@]}"; do
    [[ -f "$APPS_DIR/$a/e2e.conf" ]] || die "no app '$a' with an e2e.conf in $APPS_DIR"
  done
else
  for d in "$APPS_DIR"/*/; do
    [[ -f "$d/e2e.conf" ]] && APPS+=("$(basename "$d")")
  done
fi
[[ ${#APPS[@]} -gt 0 ]] || die "no app with an e2e.conf in $APPS_DIR"

if [[ -z "$ROOT" ]]; then
  ROOT=$(bash "$HERE/pyenv.sh") || die "could not get the python root (tests/e2e/pyenv.sh failed)"
fi
[[ -x "$ROOT/usr/bin/python3" ]] || die "not a python root: $ROOT"
ROOT=$(cd "$ROOT" && pwd -P)
INROOT=(bash "$HERE/inroot.sh" "$ROOT")

STATIC_TOOLS=""
if in_list static "${STEPS[@]}"; then
  STATIC_TOOLS=$(bash "$HERE/statictools.sh") || die "could not get the static checkers (tests/e2e/statictools.sh failed)"
fi

[[ -n "$LOGS" ]] || LOGS=$(mktemp -d /tmp/awaitify-e2e-logs.XXXXXX)
mkdir -p "$LOGS"
LOGS=$(cd "$LOGS" && pwd -P)

mkdir -p "$ROOT/tmp/awaitify-e2e"
RUN_IN=/tmp/awaitify-e2e/run-$$-$(date +%s)   # path inside the root
RUN=$ROOT$RUN_IN                                # same directory seen from the host
mkdir -p "$RUN/junit"

# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local rc=$?
  if [[ "$KEEP" == 1 ]]; then
    say "work directories kept in $RUN"
  elif [[ -d "$RUN" ]]; then
    rm -rf --one-file-system "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- helpers
# fresh copy of an app, without caches
fresh_copy() {  # APP NAME -> prints the host path of the copy
  local src=$APPS_DIR/$1 dst=$RUN/$1-$2
  rm -rf "$dst"
  cp -a "$src" "$dst"
  find "$dst" \( -name __pycache__ -o -name .pytest_cache -o -name '*.pyc' \) -prune -exec rm -rf {} +
  printf '%s\n' "$dst"
}

# awaitify apply on the host, from the copy's directory. Returns apply's status.
apply_phases() {  # WORK LOG TARGET PHASE...
  local work=$1 log=$2 target=$3; shift 3
  local args=() p rc=0
  # `cd ""` stays where it is: never run apply on anything but a work copy.
  [[ -n "$work" && -d "$work" && "$work" != "$REPO"* ]] || die "internal error: no work copy to apply to ('$work')"
  for p in "$@"; do args+=(--phase "$p"); done
  echo "\$ awaitify apply ${args[*]} $target" >> "$log"
  (cd "$work" && timeout -k 10 "$SUITE_TIMEOUT" "$AWAITIFY" apply "${args[@]}" "$target") >> "$log" 2>&1 || rc=$?
  echo "[apply exit $rc]" >> "$log"
  return "$rc"
}

py_compile_all() {  # WORK LOG
  local rc=0
  echo "\$ python3 -m py_compile (every .py file)" >> "$2"
  "${INROOT[@]}" "${1#"$ROOT"}" /bin/sh -c \
    'find . -name "*.py" -not -path "*/__pycache__/*" -print0 | xargs -0 -r python3 -m py_compile' \
    >> "$2" 2>&1 || rc=$?
  echo "[py_compile exit $rc]" >> "$2"
  return "$rc"
}

JUNIT_PARSER='
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
skipped = []
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
    for tc in su.iter("testcase"):
        if tc.find("skipped") is not None:
            skipped.append(tc.get("classname", "") + "::" + tc.get("name", ""))
print(t, f, e, s)
with open(sys.argv[2], "w") as out:
    out.write("".join(x + "\n" for x in sorted(skipped)))
'

# run the suite; sets S_RC S_TESTS S_FAIL S_ERR S_SKIP S_PASSED S_NEVER S_SKIPS S_HAVE_XML
run_suite() {  # WORK LOG ID
  local work=$1 log=$2 id=$3
  local xml_in=$RUN_IN/junit/$id.xml
  S_RC=0; S_TESTS=0; S_FAIL=0; S_ERR=0; S_SKIP=0; S_PASSED=0; S_NEVER=0; S_HAVE_XML=0
  S_SKIPS=$LOGS/$id.skipped
  : > "$S_SKIPS"
  rm -f "$ROOT$xml_in"
  local suite_log=$RUN/junit/$id.out
  echo "\$ python3 -m pytest -q -p no:cacheprovider --junitxml=$xml_in" >> "$log"
  timeout -k 10 "$SUITE_TIMEOUT" "${INROOT[@]}" "${work#"$ROOT"}" \
    python3 -m pytest -q -p no:cacheprovider -W always::RuntimeWarning \
    --junitxml="$xml_in" > "$suite_log" 2>&1 || S_RC=$?
  cat "$suite_log" >> "$log"
  echo "[pytest exit $S_RC]" >> "$log"
  if grep -Eq 'was never awaited|PytestUnhandledCoroutineWarning' "$suite_log"; then S_NEVER=1; fi
  if [[ -s "$ROOT$xml_in" ]]; then
    cp "$ROOT$xml_in" "$LOGS/$id.junit.xml"
    local counts
    if counts=$("${INROOT[@]}" / python3 -c "$JUNIT_PARSER" "$xml_in" "$RUN_IN/junit/$id.skipped" 2>>"$log"); then
      read -r S_TESTS S_FAIL S_ERR S_SKIP <<< "$counts"
      cp "$RUN/junit/$id.skipped" "$S_SKIPS"
      S_HAVE_XML=1
    fi
  fi
  S_PASSED=$((S_TESTS - S_FAIL - S_ERR - S_SKIP))
  return 0
}

save_diff() {  # APP WORK ID
  diff -ruN -x __pycache__ -x .pytest_cache -x '*.pyc' "$APPS_DIR/$1" "$2" > "$LOGS/$3.diff" 2>&1 || true
}

# ---------------------------------------------------------------- static checks
# pyright (coroutines never awaited or used as values) and ruff's ASYNC rules (blocking calls
# inside async functions), on the host with node. Each app's final copy is queued under
# $STATIC/apps/APP; at the end one pyright run checks them all with the self-test (one
# execution environment per app): pyright spends most of its time reading FastAPI,
# SQLAlchemy and pydantic, so one run costs about what one app costs alone.
STATIC=$RUN/static
STATIC_APPS=()

# writes the checks' config for the trees under $STATIC (apps/APP..., selftest)
static_config() {  # NAME...
  local pyver envs="" include="" name
  pyver=$("${INROOT[@]}" / python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') || return 1
  # pyright reads the root's packages as a virtual environment's: it runs no interpreter
  mkdir -p "$STATIC/env/lib/python$pyver"
  ln -sfn "$ROOT/usr/lib/python3/dist-packages" "$STATIC/env/lib/python$pyver/site-packages"
  for name in "$@"; do
    # each tree's own directory on its import path, as the apps' pytest.ini `pythonpath = .`
    envs+="${envs:+, }{\"root\": \"$name\", \"extraPaths\": [\"$name\"]}"
    include+="${include:+, }\"$name\""
  done
  cat > "$STATIC/pyrightconfig.json" <<EOF
{
  "include": [$include],
  "executionEnvironments": [$envs],
  "venvPath": ".",
  "venv": "env",
  "pythonVersion": "$pyver",
  "pythonPlatform": "Linux",
  "typeCheckingMode": "standard",
  "reportUnusedCoroutine": "error",
  "reportUnnecessaryComparison": "error",
  "reportMissingImports": "error"
}
EOF
  STATIC_RUFF_TARGET=py${pyver/./}
}

# Both checkers over the trees NAME... under $STATIC. Findings, one a line (`NAME/file:line:col:
# rule message`), go to $STATIC/findings (failing) and $STATIC/notes (pyright's other errors);
# everything the checkers print goes to LOG. Returns 0 when both ran, 2 when one did not.
static_checks() {  # LOG NAME...
  local log=$1 prc=0 frc=0 rrc=0 files=(); shift
  : > "$STATIC/findings"; : > "$STATIC/notes"
  static_config "$@" || { echo "could not read the root's python version" >> "$log"; return 2; }
  echo "\$ pyright --outputjson -p $STATIC/pyrightconfig.json | pyright_findings.js" >> "$log"
  (cd "$STATIC" && timeout -k 10 "$SUITE_TIMEOUT" node "$STATIC_TOOLS/node_modules/pyright/index.js" \
     --outputjson -p pyrightconfig.json) > "$STATIC/pyright.json" 2>> "$log" || prc=$?
  node "$HERE/static/pyright_findings.js" "$STATIC" < "$STATIC/pyright.json" > "$STATIC/pyright.out" 2>> "$log" || frc=$?
  cat "$STATIC/pyright.out" >> "$log"
  echo "[pyright exit $prc, pyright_findings exit $frc]" >> "$log"
  grep -v -e '^note ' -e '^pyright ' "$STATIC/pyright.out" >> "$STATIC/findings" || true
  sed -n 's/^note ([^)]*): //p' "$STATIC/pyright.out" >> "$STATIC/notes"

  mapfile -d '' -t files < <(cd "$STATIC" && find "$@" -name '*.py' -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z)
  echo "\$ ruff_async.js (select = [\"ASYNC\"]) on ${#files[@]} files" >> "$log"
  (cd "$STATIC" && timeout -k 10 "$SUITE_TIMEOUT" node "$HERE/static/ruff_async.js" "$STATIC_TOOLS" \
     "$STATIC_RUFF_TARGET" . "${files[@]}") > "$STATIC/ruff.out" 2>> "$log" || rrc=$?
  cat "$STATIC/ruff.out" >> "$log"
  echo "[ruff_async exit $rrc]" >> "$log"
  grep -v '^ruff ' "$STATIC/ruff.out" >> "$STATIC/findings" || true

  # pyright: 1 = errors (notes included); 2 and up = it did not run
  if [[ $prc -gt 1 || $frc -gt 1 || $rrc -gt 1 || ${#files[@]} -eq 0 ]]; then return 2; fi
  return 0
}

# the lines of FILE about tree NAME, with the NAME/ prefix dropped
static_lines() {  # FILE NAME
  local prefix=$2/
  awk -v p="$prefix" 'index($0, p) == 1 { print substr($0, length(p) + 1) }' "$1"
}

# a table note for the findings in FILE: how many, and the first two as file:line rule
findings_note() {  # FILE
  local n shown
  n=$(wc -l < "$1")
  shown=$(head -n 2 "$1" | awk '{ split($1, a, ":"); printf "%s%s:%s %s", (NR > 1 ? ", " : ""), a[1], a[2], $2 }')
  printf '%s static finding(s): %s%s' "$n" "$shown" "$([[ $n -le 2 ]] || echo ', ...')"
}

# queue an app's final copy for the checks (or record why it cannot be checked)
static_queue() {  # APP WORK APPLY_OK
  local app=$1 work=$2
  if [[ "$3" -ne 0 ]]; then
    record "$app" static FAIL - - "apply exit $CUM_APPLY_RC (see $app/static.log)"
    return
  fi
  mkdir -p "$STATIC/apps"
  cp -a "$work" "$STATIC/apps/$app"
  STATIC_APPS+=("$app")
}

# Runs the checks over the queued apps and the self-test, and records a row for each. The
# self-test, a copy of tests/e2e/static_selftest, must fail with exactly the findings in its
# expected.txt (file:line rule): checkers that see nothing must not pass every app.
static_run() {
  local start log=$LOGS/static.log rc=0 problems=() got want app findings f names=(selftest)
  start=$(now); : > "$log"
  rm -rf "$STATIC/selftest"
  cp -a "$HERE/static_selftest" "$STATIC/selftest"
  for app in "${STATIC_APPS[@]}"; do names+=("apps/$app"); done
  static_checks "$log" "${names[@]}" || rc=$?
  local took; took=$(elapsed "$start")

  mkdir -p "$LOGS/harness"
  static_lines "$STATIC/findings" selftest > "$LOGS/harness/static-selftest.findings"
  [[ $rc -eq 0 ]] || problems+=("a checker did not run (see static.log)")
  got=$(awk '{ split($1, a, ":"); print a[1] ":" a[2], $2 }' "$LOGS/harness/static-selftest.findings" | LC_ALL=C sort)
  want=$(grep -v -e '^#' -e '^$' "$HERE/static_selftest/expected.txt" | LC_ALL=C sort)
  if [[ "$got" != "$want" ]]; then
    {
      echo "self-test findings (file:line rule) differ from static_selftest/expected.txt (< expected, > got):"
      diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") || true
    } >> "$log"
    problems+=("findings differ from expected.txt (see static.log)")
  fi
  if [[ ${#problems[@]} -eq 0 ]]; then
    record harness "static self-test" PASS - "$took" "$(wc -l < "$LOGS/harness/static-selftest.findings") expected findings; one run for ${#STATIC_APPS[@]} apps"
  else
    record harness "static self-test" FAIL - "$took" "$(IFS=';'; echo "${problems[*]}")"
  fi

  for app in "${STATIC_APPS[@]}"; do
    findings=$LOGS/$app/static.findings
    static_lines "$STATIC/findings" "apps/$app" > "$findings"
    {
      echo "(checked with the other apps in one run: see ../static.log)"
      sed 's/^/finding: /' "$findings"
      static_lines "$STATIC/notes" "apps/$app" | sed 's/^/note (not about coroutines, not failing): /'
    } >> "$LOGS/$app/static.log"
    if [[ $rc -ne 0 ]]; then
      record "$app" static FAIL - - "a checker did not run (see static.log)"
    elif [[ -s "$findings" ]]; then
      while IFS= read -r f; do say "$app: $f"; done < "$findings"
      record "$app" static FAIL - - "$(findings_note "$findings")"
    else
      record "$app" static PASS - - ""
    fi
  done
}

# ---------------------------------------------------------------- results
ROWS=()
FAILED=0
record() {  # APP STEP RESULT TESTS SECONDS NOTE
  ROWS+=("$1|$2|$3|$4|$5|$6")
  [[ "$3" == FAIL ]] && FAILED=1
  local seconds=$5
  [[ "$seconds" == - ]] || seconds+=s
  printf 'run_e2e: %-14s %-22s %-5s %7s %7s %s\n' "$1" "$2" "$3" "$4" "$seconds" "$6" >&2
}

# does the suite have to pass after this step?  (BASELINE=fail apps pass only
# once one of FIXED_BY's phases is applied; per-module: MODULE_EXPECT)
expect_pass() {  # MODE PHASE...
  local mode=$1; shift
  [[ "$BASELINE" == pass ]] && return 0
  if [[ "$mode" == module ]]; then
    [[ "${MODULE_EXPECT:-fail}" == pass ]]
    return
  fi
  local p f
  for p in "$@"; do
    for f in $FIXED_BY; do [[ "$p" == "$f" ]] && return 0; done
  done
  return 1
}

# judge a step after apply/py_compile/suite have run
judge() {  # APP STEP ID START APPLY_RC COMPILE_RC MUST_PASS
  local app=$1 step=$2 id=$3 start=$4 apply_rc=$5 compile_rc=$6 must_pass=$7
  local problems=() newskips
  [[ "$apply_rc" -eq 0 ]] || problems+=("apply exit $apply_rc")
  [[ "$compile_rc" -eq 0 ]] || problems+=("py_compile failed")
  if [[ "$S_HAVE_XML" -ne 1 ]]; then
    problems+=("no junit xml (pytest exit $S_RC)")
  else
    [[ "$S_TESTS" -eq "$BASE_TESTS" ]] || problems+=("ran $S_TESTS tests, baseline $BASE_TESTS")
    newskips=$(LC_ALL=C comm -13 "$BASE_SKIPS" "$S_SKIPS" | wc -l)
    [[ "$newskips" -eq 0 ]] || problems+=("$newskips newly skipped")
  fi
  # "never awaited" is always a failure, except in a step that may still fail
  # and whose baseline already showed it (a BASELINE=fail app's known breakage)
  if [[ "$S_NEVER" -ne 0 ]] && ! [[ "$must_pass" -eq 0 && "$BASE_NEVER" -ne 0 ]]; then
    problems+=("coroutine never awaited")
  fi
  local suite_ok=0
  if [[ "$S_HAVE_XML" -eq 1 && "$S_RC" -eq 0 && $((S_FAIL + S_ERR)) -eq 0 \
        && "$S_PASSED" -eq $((BASE_TESTS - BASE_SKIP)) ]]; then
    suite_ok=1
  fi
  local result=PASS
  if [[ "$must_pass" -eq 1 && "$suite_ok" -eq 0 ]]; then
    problems+=("suite: $S_PASSED/$((BASE_TESTS - BASE_SKIP)) passed, pytest exit $S_RC")
  elif [[ "$must_pass" -eq 0 && "$suite_ok" -eq 0 ]]; then
    result=XFAIL
  fi
  [[ ${#problems[@]} -eq 0 ]] || result=FAIL
  local note=""
  [[ ${#problems[@]} -eq 0 ]] || note=$(IFS=';'; echo "${problems[*]}")
  [[ "$result" == XFAIL ]] && note="expected failure (BASELINE=fail)"
  record "$app" "$step" "$result" "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "$note"
}

# The cumulative copy with every phase applied, for the steps that look at the end result:
# done by the cumulative step, or here in one run when that step is not selected.
all_phases_applied() {  # WORK LOG
  if [[ "$CUM_APPLIED" -eq 0 ]]; then
    CUM_APPLY_RC=0; apply_phases "$1" "$2" . "${PHASES[@]}" || CUM_APPLY_RC=$?
    CUM_APPLIED=1
  fi
  [[ "$CUM_APPLY_RC" -eq 0 ]]
}

# ---------------------------------------------------------------- one app
run_app() {
  local app=$1
  BASELINE=pass; FIXED_BY=middleware; ROUTER_MODULE=""; MODULE_EXPECT=""; SEED_ASYNC=""; SEED_MUST_CHANGE=""
  VERIFY_EXPECT=()
  # shellcheck disable=SC1090
  source "$APPS_DIR/$app/e2e.conf"
  [[ "$BASELINE" == pass || "$BASELINE" == fail ]] || { record "$app" config FAIL - 0 "BASELINE must be pass or fail"; return; }
  [[ -n "$MODULE_EXPECT" ]] || MODULE_EXPECT=$BASELINE
  mkdir -p "$LOGS/$app" "$RUN/junit/$app"
  local start work log id rc

  # (a) baseline
  start=$(now); id=$app/baseline; log=$LOGS/$id.log; : > "$log"
  work=$(fresh_copy "$app" baseline)
  run_suite "$work" "$log" "$id"
  BASE_TESTS=$S_TESTS; BASE_SKIP=$S_SKIP; BASE_NEVER=$S_NEVER; BASE_SKIPS=$LOGS/$app/baseline.skipped
  local ok=0
  [[ "$S_HAVE_XML" -eq 1 && "$S_TESTS" -gt 0 ]] || ok=2
  if [[ $ok -eq 0 ]]; then
    if [[ "$S_RC" -eq 0 && $((S_FAIL + S_ERR)) -eq 0 && "$S_NEVER" -eq 0 ]]; then
      [[ "$BASELINE" == pass ]] || ok=3
    else
      [[ "$BASELINE" == fail ]] || ok=4
    fi
  fi
  case $ok in
    0) if [[ "$BASELINE" == pass ]]; then record "$app" baseline PASS "$S_PASSED/$S_TESTS" "$(elapsed "$start")" ""
       else record "$app" baseline XFAIL "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "expected failure (BASELINE=fail)"; fi ;;
    2) record "$app" baseline FAIL "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "no tests ran (pytest exit $S_RC)" ;;
    3) record "$app" baseline FAIL "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "passes, but e2e.conf says BASELINE=fail" ;;
    4) record "$app" baseline FAIL "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "suite fails before any change (pytest exit $S_RC$([[ $S_NEVER -eq 0 ]] || echo ', coroutine never awaited'))" ;;
  esac
  if [[ $ok -ne 0 ]]; then
    say "$app: baseline is broken; skipping its other steps"
    return
  fi

  local apply_rc compile_rc p must
  # (b) cumulative
  local cum="" done_phases=()
  CUM_APPLIED=0; CUM_APPLY_RC=0
  if in_list cumulative "${STEPS[@]}" || in_list static "${STEPS[@]}" || in_list verify "${STEPS[@]}" ||
     in_list idempotent "${STEPS[@]}"; then
    cum=$(fresh_copy "$app" cumulative)
  fi
  if in_list cumulative "${STEPS[@]}"; then
    for p in "${PHASES[@]}"; do
      start=$(now); id=$app/cumulative-$p; log=$LOGS/$id.log; : > "$log"
      done_phases+=("$p")
      apply_rc=0; apply_phases "$cum" "$log" . "$p" || apply_rc=$?
      compile_rc=0; py_compile_all "$cum" "$log" || compile_rc=$?
      run_suite "$cum" "$log" "$id"
      save_diff "$app" "$cum" "$id"
      must=0; expect_pass cumulative "${done_phases[@]}" && must=1
      judge "$app" "+$p" "$id" "$start" "$apply_rc" "$compile_rc" "$must"
    done
    CUM_APPLIED=1
  fi

  # (c) each phase alone
  if in_list single "${STEPS[@]}"; then
    for p in "${PHASES[@]}"; do
      start=$(now); id=$app/single-$p; log=$LOGS/$id.log; : > "$log"
      work=$(fresh_copy "$app" "single-$p")
      apply_rc=0; apply_phases "$work" "$log" . "$p" || apply_rc=$?
      compile_rc=0; py_compile_all "$work" "$log" || compile_rc=$?
      run_suite "$work" "$log" "$id"
      save_diff "$app" "$work" "$id"
      must=0; expect_pass single "$p" && must=1
      judge "$app" "only $p" "$id" "$start" "$apply_rc" "$compile_rc" "$must"
      [[ "$KEEP" == 1 ]] || rm -rf "$work"
    done
  fi

  # (d) per-module
  if in_list module "${STEPS[@]}"; then
    start=$(now); id=$app/module; log=$LOGS/$id.log; : > "$log"
    if [[ -z "$ROUTER_MODULE" || ! -f "$APPS_DIR/$app/$ROUTER_MODULE" ]]; then
      record "$app" "module" FAIL - "$(elapsed "$start")" "ROUTER_MODULE '${ROUTER_MODULE}' missing in e2e.conf or the app"
    else
      work=$(fresh_copy "$app" module)
      apply_rc=0; apply_phases "$work" "$log" "$ROUTER_MODULE" "${PHASES[@]}" || apply_rc=$?
      compile_rc=0; py_compile_all "$work" "$log" || compile_rc=$?
      run_suite "$work" "$log" "$id"
      save_diff "$app" "$work" "$id"
      must=0; expect_pass module "${PHASES[@]}" && must=1
      judge "$app" "module $(basename "$ROUTER_MODULE")" "$id" "$start" "$apply_rc" "$compile_rc" "$must"
      [[ "$KEEP" == 1 ]] || rm -rf "$work"
    fi
  fi

  # (f) closure: one function deep in the service layer made async by hand (as a later phase
  # would), then --phase services must make every caller await it and the suite still pass.
  if in_list closure "${STEPS[@]}" && [[ -n "$SEED_ASYNC" ]]; then
    start=$(now); id=$app/closure; log=$LOGS/$id.log; : > "$log"
    work=$(fresh_copy "$app" closure)
    local seed_file=${SEED_ASYNC%%:*} seed_name=${SEED_ASYNC##*:} problems=()
    sed -i -E "s/^([[:space:]]*)def ${seed_name}\(/\1async def ${seed_name}(/" "$work/$seed_file"
    grep -q "async def ${seed_name}(" "$work/$seed_file" || problems+=("SEED_ASYNC $SEED_ASYNC not found")
    (cd "$work" && "$AWAITIFY" plan --phase services .) >> "$log" 2>&1 || true
    apply_rc=0; apply_phases "$work" "$log" . services || apply_rc=$?
    compile_rc=0; py_compile_all "$work" "$log" || compile_rc=$?
    run_suite "$work" "$log" "$id"
    save_diff "$app" "$work" "$id"
    local changed
    for changed in $SEED_MUST_CHANGE; do
      cmp -s "$APPS_DIR/$app/$changed" "$work/$changed" && problems+=("$changed did not change")
    done
    if [[ ${#problems[@]} -gt 0 ]]; then
      record "$app" "closure $seed_name" FAIL "$S_PASSED/$S_TESTS" "$(elapsed "$start")" "$(IFS=';'; echo "${problems[*]}")"
    else
      must=0; [[ "$BASELINE" == pass ]] && must=1
      judge "$app" "closure $seed_name" "$id" "$start" "$apply_rc" "$compile_rc" "$must"
    fi
    [[ "$KEEP" == 1 ]] || rm -rf "$work"
  fi

  # (g) static checks of the result of every phase: queued here, run for every app at the end
  if in_list static "${STEPS[@]}"; then
    id=$app/static; log=$LOGS/$id.log; : > "$log"
    local apply_ok=0
    all_phases_applied "$cum" "$log" || apply_ok=1
    static_queue "$app" "$cum" "$apply_ok"
  fi

  # (h) after every phase, `awaitify verify` finds nothing left sync: every path operation and
  # dependency is async def, every coroutine awaited, nothing blocking in async code
  if in_list verify "${STEPS[@]}" && [[ ${#PHASES[@]} -eq ${#ALL_PHASES[@]} ]]; then
    start=$(now); id=$app/verify; log=$LOGS/$id.log; : > "$log"
    local vproblems=()
    all_phases_applied "$cum" "$log" || vproblems+=("apply exit $CUM_APPLY_RC")
    echo "\$ awaitify verify ." >> "$log"
    rc=0
    local vout=$LOGS/$id.stdout
    (cd "$cum" && "$AWAITIFY" verify .) > "$vout" 2>> "$log" || rc=$?
    cat "$vout" >> "$log"
    # What is left is exactly what the app's e2e.conf expects (VERIFY_EXPECT="file:line RULE ..."):
    # refusals the engine reports on purpose, never anything new.
    local got want
    got=$(sed -n 's/^\([^ :]*\):\([0-9]*\):[0-9]*: \(AWV[0-9]*\) .*/\1:\2 \3/p' "$vout" | LC_ALL=C sort -u)
    want=$(printf '%s\n' "${VERIFY_EXPECT[@]}" | grep -v '^$' | LC_ALL=C sort -u || true)
    if [[ "$got" != "$want" ]]; then
      { echo "verify findings (file:line rule) differ from VERIFY_EXPECT in e2e.conf (< expected, > got):"
        diff <(echo "$want") <(echo "$got") || true; } >> "$log"
      vproblems+=("verify findings differ from e2e.conf's VERIFY_EXPECT (see $id.log)")
    elif [[ $rc -gt 1 ]]; then
      vproblems+=("verify exit $rc (see $id.log)")
    fi
    if [[ ${#vproblems[@]} -eq 0 ]]; then
      record "$app" verify PASS - "$(elapsed "$start")" "$([[ ${#VERIFY_EXPECT[@]} -eq 0 ]] || echo "${#VERIFY_EXPECT[@]} expected refusal(s)")"
    else
      record "$app" verify FAIL - "$(elapsed "$start")" "$(IFS=';'; echo "${vproblems[*]}")"
    fi
  fi

  # (e) idempotence: after every phase, diff shows nothing
  if in_list idempotent "${STEPS[@]}"; then
    start=$(now); id=$app/idempotent; log=$LOGS/$id.log; : > "$log"
    local problems=()
    all_phases_applied "$cum" "$log" || problems+=("apply exit $CUM_APPLY_RC")
    local dargs=() out=$LOGS/$id.stdout
    if [[ ${#PHASES[@]} -ne ${#ALL_PHASES[@]} ]]; then
      for p in "${PHASES[@]}"; do dargs+=(--phase "$p"); done
    fi
    echo "\$ awaitify diff ${dargs[*]} ." >> "$log"
    rc=0
    (cd "$cum" && timeout -k 10 "$SUITE_TIMEOUT" "$AWAITIFY" diff "${dargs[@]}" .) > "$out" 2>> "$log" || rc=$?
    cat "$out" >> "$log"
    echo "[diff exit $rc]" >> "$log"
    [[ "$rc" -eq 0 ]] || problems+=("diff exit $rc")
    [[ ! -s "$out" ]] || problems+=("diff printed $(wc -l < "$out") lines")
    if [[ ${#problems[@]} -eq 0 ]]; then
      record "$app" idempotent PASS - "$(elapsed "$start")" ""
    else
      record "$app" idempotent FAIL - "$(elapsed "$start")" "$(IFS=';'; echo "${problems[*]}")"
    fi
  fi
  [[ "$KEEP" == 1 || -z "$cum" ]] || rm -rf "$cum"
  [[ "$KEEP" == 1 ]] || rm -rf "$RUN/$app-baseline"
}

say "awaitify: $AWAITIFY"
say "root:     $ROOT"
say "apps:     ${APPS[*]}"
say "phases:   ${PHASES[*]}"
say "steps:    ${STEPS[*]}"
say "logs:     $LOGS"
T0=$(now)
for app in "${APPS[@]}"; do
  run_app "$app"
done
in_list static "${STEPS[@]}" && static_run

# ---------------------------------------------------------------- table
W=7   # harness
for app in "${APPS[@]}"; do [[ ${#app} -le $W ]] || W=${#app}; done
row() { printf '%-*s  %-22s %-6s %-9s %8s  %s\n' "$W" "$@"; }
{
  echo
  row APP STEP RESULT TESTS SECONDS NOTE
  row "$(printf '%*s' "$W" '' | tr ' ' -)" ---------------------- ------ --------- -------- ----
  for r in "${ROWS[@]}"; do
    IFS='|' read -r a s res t sec note <<< "$r"
    row "$a" "$s" "$res" "$t" "$sec" "$note"
  done
  printf '\ntotal %ss; ' "$(elapsed "$T0")"
  if [[ $FAILED -eq 0 ]]; then echo "all steps passed"; else echo "SOME STEPS FAILED"; fi
  echo "logs: $LOGS"
} | tee "$LOGS/summary.txt"
exit $FAILED
