#!/usr/bin/env bash
# test_model_sklearn.sh: the online model (src/model/) against scikit-learn.
# Generates the reference fixtures with Debian's python3-sklearn
# (tests/ref/sklearn_oracle.py) into a temp dir, then runs the unit test
# model_sklearn_equivalence with QW_SKLEARN_FIXTURE_DIR pointing there, on
# build/test_unit and, when it has been built, build/asan/test_unit.
# Exit 0 only if every run passes. Runs standalone or under tests/run.sh.
set -euo pipefail
ROOT="${QW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
PY="${PY:-/usr/bin/python3}"
cd "$ROOT"
die() { echo "FAIL: $*" >&2; exit 1; }

[ -x build/test_unit ] || die "build/test_unit missing: build it first (make all)"
"$PY" -c 'import sklearn, sys; sys.exit(0 if sklearn.__version__.startswith("1.2") else 1)' ||
  die "$PY does not have scikit-learn 1.2 (Debian python3-sklearn)"

T=$(mktemp -d /tmp/qw_sklearn.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$PY" tests/ref/sklearn_oracle.py "$T" || die "oracle failed"
[ -s "$T/index.txt" ] || die "oracle wrote no fixtures"

run() { # binary
  local out rc=0
  out=$(QW_SKLEARN_FIXTURE_DIR="$T" "$1" model_sklearn 2>&1) || rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] || die "$1 model_sklearn exited $rc"
  grep -qE '^1 passed, 0 failed$' <<<"$out" || die "$1: expected exactly one passing model_sklearn test"
}
run build/test_unit
if [ -x build/asan/test_unit ]; then
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" run build/asan/test_unit
fi
echo "ok: model matches scikit-learn"
