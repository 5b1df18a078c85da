#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed".
#  - unit tests (release build) and again under ASan+UBSan
#  - tests/e2e/test_*.sh: each script is one test (exit 0 = pass); they and
#    the fuzz corpora run QW_TEST_JOBS at a time (see "pooled" below)
#  - fuzz corpora replayed through the libFuzzer targets (ASan+UBSan)
#  - a test that cannot run here says so: the unit runner counts it as
#    skipped, an e2e script exits 77 after printing "SKIPPED: reason";
#    skipped tests are listed with their reasons, never counted as passed
# Usage: tests/run.sh [FILTER...]   (FILTER: substring of a suite/test name;
#        several filters select the union). Single tests: docs in README.
set -u
cd "$(dirname "$0")/.."
export QW_ROOT="$PWD"
export QW_BIN="$PWD/build/quotewatch"
export QW_ASAN_BIN="$PWD/build/asan/quotewatch"
export QW_SHARED="${QW_SHARED:-$(cd .. && pwd)/shared}"
export PY=/usr/bin/python3
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
filters=("$@")
passed=0; failed=0; skipped=0; failures=(); skips=()
logdir=$(mktemp -d /tmp/qwtest.XXXXXX)
# model_sklearn_equivalence needs scikit-learn fixtures: the unit suites skip
# it, tests/e2e/test_model_sklearn.sh generates them and runs it.
unset QW_SKLEARN_FIXTURE_DIR

selected() { # name: does the filter select it?
  (( ${#filters[@]} == 0 )) && return 0
  local f; for f in "${filters[@]}"; do [[ "$1" == *"$f"* ]] && return 0; done
  return 1
}

suite() { # name cmd... : the command prints "N passed, N failed"
  local name=$1; shift
  selected "$name" || return 0
  local log="$logdir/$name.log"
  echo "== $name"
  "$@" >"$log" 2>&1; local rc=$?
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [[ -n "$line" ]]; then
    local p f k=0; p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    [[ "$line" == *skipped* ]] && { k=${line#*failed, }; k=${k%% skipped*}; }
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
    local s; while read -r s; do skips+=("$name/${s#skip }"); done < <(grep -E '^skip ' "$log")
    if (( f > 0 || rc != 0 )); then
      (( f == 0 )) && failed=$((failed + 1))
      failures+=("$name"); grep -E '^FAIL|^    ' "$log" | head -40; tail -5 "$log"
    fi
  else
    failed=$((failed + 1)); failures+=("$name"); tail -30 "$log"
  fi
  echo "   $line (rc=$rc)"
}

# One test's outcome from its log and exit status (rc 77 + "SKIPPED: " = skip).
record() { # name rc seconds
  local name=$1 rc=$2 secs=$3 log="$logdir/$1.log"
  if (( rc == 0 )); then
    passed=$((passed + 1)); echo "ok   $name (${secs}s)"
  elif (( rc == 77 )) && grep -q '^SKIPPED: ' "$log"; then
    skipped=$((skipped + 1)); skips+=("$name: $(grep -m1 '^SKIPPED: ' "$log" | cut -c10-)")
    echo "skip $name: $(grep -m1 '^SKIPPED: ' "$log" | cut -c10-)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name (rc=$rc, ${secs}s)"; tail -30 "$log"
  fi
}

# The e2e scripts and fuzz corpora run QW_TEST_JOBS at a time (default: the
# number of CPUs, at most 4): most of them wait on sockets, timers and child
# processes rather than compute. A script whose header has the line
# "# qw-test: serial" (timing budgets, CPU-heavy browsers/containers) runs
# alone after the pool, with the machine to itself.
jobs_max=${QW_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
(( jobs_max < 1 )) && jobs_max=1
(( jobs_max > 4 )) && jobs_max=4
declare -A running=() started=()
# interrupted: stop the pooled tests too (timeout passes the signal on)
trap 'kill -TERM "${!running[@]}" 2>/dev/null; exit 130' INT TERM
reap() { # wait for one running test and record it
  local pid rc=0
  wait -n -p pid "${!running[@]}" || rc=$?
  local name=${running[$pid]}
  unset "running[$pid]"
  record "$name" "$rc" $((SECONDS - ${started[$name]}))
}
pooled() { # name cmd... : one test in the pool, exit 0 = pass
  local name=$1; shift
  selected "$name" || return 0
  while (( ${#running[@]} >= jobs_max )); do reap; done
  started[$name]=$SECONDS
  timeout 600 "$@" >"$logdir/$name.log" 2>&1 </dev/null &
  running[$!]=$name
}
single() { # name cmd... : one test alone, exit 0 = pass
  local name=$1; shift
  selected "$name" || return 0
  local t0=$SECONDS rc=0
  timeout 600 "$@" >"$logdir/$name.log" 2>&1 </dev/null || rc=$?
  record "$name" "$rc" $((SECONDS - t0))
}

suite unit build/test_unit
suite unit-asan build/asan/test_unit
serial=()
for t in tests/e2e/test_*.sh; do
  [ -e "$t" ] || continue
  if grep -qm1 '^# qw-test: serial' "$t"; then serial+=("$t"); continue; fi
  pooled "$(basename "$t" .sh)" bash "$t"
done
for f in build/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  n=$(basename "$f")
  [ -d "fuzz/corpus/$n" ] || continue
  pooled "corpus-$n" "$f" -runs=0 "fuzz/corpus/$n"
done
while (( ${#running[@]} )); do reap; done
for t in "${serial[@]}"; do
  single "$(basename "$t" .sh)" bash "$t"
done

if (( ${#failures[@]} )); then echo "failed: ${failures[*]}"; fi
for s in "${skips[@]}"; do echo "skipped: $s"; done
echo "logs: $logdir"
if (( skipped )); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
(( failed == 0 ))
