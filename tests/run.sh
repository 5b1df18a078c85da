#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed".
#  - unit tests (release build) and again under ASan+UBSan
#  - tests/e2e/test_*.sh: each script is one test (exit 0 = pass)
#  - fuzz corpora replayed through the libFuzzer targets (ASan+UBSan)
# Usage: tests/run.sh [FILTER]   (FILTER: substring of a suite/test name)
set -u
cd "$(dirname "$0")/.."
export QW_ROOT="$PWD"
export QW_BIN="$PWD/build/quotewatch"
export QW_ASAN_BIN="$PWD/build/asan/quotewatch"
export QW_SHARED="${QW_SHARED:-$(cd .. && pwd)/shared}"
export PY=/usr/bin/python3
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
filter="${1:-}"
passed=0; failed=0; failures=(); skipped=()
logdir=$(mktemp -d /tmp/qwtest.XXXXXX)
# scikit-learn fixtures for the model equivalence unit test
export QW_SKLEARN_FIXTURE_DIR="$logdir/sklearn"
"$PY" tests/ref/sklearn_oracle.py "$QW_SKLEARN_FIXTURE_DIR" >"$logdir/sklearn_oracle.log" 2>&1 \
  || { echo "sklearn_oracle.py failed:"; tail -5 "$logdir/sklearn_oracle.log"; }

suite() { # name cmd... : the command prints "N passed, N failed"
  local name=$1; shift
  [[ -n "$filter" && "$name" != *"$filter"* ]] && return
  local log="$logdir/$name.log"
  echo "== $name"
  "$@" >"$log" 2>&1; local rc=$?
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [[ -n "$line" ]]; then
    local p f; p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    if (( f > 0 || rc != 0 )); then
      (( f == 0 )) && failed=$((failed + 1))
      failures+=("$name"); grep -E '^FAIL|^    ' "$log" | head -40; tail -5 "$log"
    fi
  else
    failed=$((failed + 1)); failures+=("$name"); tail -30 "$log"
  fi
  echo "   $line (rc=$rc)"
}

single() { # name cmd... : one test, exit 0 = pass
  local name=$1; shift
  [[ -n "$filter" && "$name" != *"$filter"* ]] && return
  local log="$logdir/$name.log" t0=$SECONDS rc=0
  timeout 600 "$@" >"$log" 2>&1 || rc=$?
  if (( rc == 0 )); then
    passed=$((passed + 1)); echo "ok   $name ($((SECONDS - t0))s)"
  elif (( rc == 77 )); then # tests/e2e/lib.sh skip(): neither passed nor failed
    skipped+=("$name"); echo "SKIP $name: $(grep -m1 '^SKIPPED:' "$log")"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"; tail -30 "$log"
  fi
}

suite unit build/test_unit
suite unit-asan build/asan/test_unit
for t in tests/e2e/test_*.sh; do
  [ -e "$t" ] || continue
  single "$(basename "$t" .sh)" bash "$t"
done
for f in build/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  n=$(basename "$f")
  [ -d "fuzz/corpus/$n" ] || continue
  single "corpus-$n" "$f" -runs=0 "fuzz/corpus/$n"
done

if (( ${#failures[@]} )); then echo "failed: ${failures[*]}"; fi
if (( ${#skipped[@]} )); then echo "skipped (not counted): ${skipped[*]}"; fi
echo "logs: $logdir"
echo "$passed passed, $failed failed"
(( failed == 0 ))
