#!/usr/bin/env bash
# install-npm.sh DIR...: `npm ci` from the pinned package-lock.json in each
# DIR whose node_modules is missing or older than its lock file. Only the npm
# registry is used. Run by `make deps` after install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
for d in "$@"; do
  [ -f "$d/package-lock.json" ] || continue
  stamp="$d/node_modules/.qw-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$d/package-lock.json" ]; then continue; fi
  echo "install-npm: npm ci in $d" >&2
  (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
done
