#!/usr/bin/env bash
# tools/check_sz.sh: no size (qw_sz, 128-bit e8: core/dec.h) is silently
# narrowed to a 64-bit integer anywhere in src/ or bench/. The project does
# not build with -Wconversion (too noisy for the rest), so this runs GCC's
# -Wconversion on every file and fails on the warnings that name qw_sz or
# __int128. A deliberate narrowing must be an explicit cast after a
# qw_sz_fits64() check. Run by tests/e2e/test_lint.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
CFLAGS=$(pkg-config --cflags jansson libzstd libwebsockets sqlite3 libpq libcurl 2>/dev/null)
bad=0
for f in $(find src bench -name '*.c' | sort); do
  out=$(${CC:-cc} -std=c17 -D_GNU_SOURCE -Isrc $CFLAGS -fsyntax-only -Wconversion "$f" 2>&1 \
        | grep -E "warning: conversion from .(qw_sz|__int128)" || true)
  if [ -n "$out" ]; then echo "$out"; bad=1; fi
done
[ $bad = 0 ] && echo "check_sz: no size narrowed"
exit $bad
