#!/usr/bin/env bash
# web/build.sh [OUT]: the dashboard page into OUT (default build/web):
# our files plus uPlot from web/node_modules (pinned in package-lock.json,
# installed by scripts/install-npm.sh), with .gz variants the server sends
# to clients that accept gzip. No CDN: the page works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/web}
u=web/node_modules/uplot/dist
if [ ! -f "$u/uPlot.iife.min.js" ]; then
  scripts/install-npm.sh web
fi
mkdir -p "$out"
cp web/index.html web/app.js web/style.css "$u/uPlot.iife.min.js" "$u/uPlot.min.css" "$out/"
for f in "$out"/*.html "$out"/*.js "$out"/*.css; do gzip -9 -n -c "$f" > "$f.gz"; done
