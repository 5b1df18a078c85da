#!/usr/bin/env bash
# qw-test: serial (timing budgets or a CPU-heavy browser/container: runs alone)
# The dashboard in a real browser: Debian chromium driven by npm
# playwright-core (tests/js/dash_e2e.mjs), first against `quotewatch live`
# connected to the simulator (saves build/dashboard.png), then against
# `quotewatch replay --dashboard` of the real capture: feed-time axes, hover,
# zoom, warm-up text, 390 px layout, the page's subscription, model-quality
# panel, CSV/PNG exports and lake query (saves build/dashboard-1440.png,
# build/dashboard-390.png and build/dashboard-quality.png, referenced by
# docs/DASHBOARD.md); then a 60 s soak of live + simulator at 10x (10 min of
# feed time): no console errors. QW_NO_SOAK=1 skips the soak.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || die "chromium missing (scripts/install-deps.sh installs it)"
[ -f "$REAL" ] || skip_test "real capture missing: $REAL"
[ -d "$QW_ROOT/tests/js/node_modules/playwright-core" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
cd "$QW_ROOT/tests/js" && node dash_e2e.mjs "$QW_BIN" "$QW_ROOT/build/dashboard.png" "$REAL" "$QW_ROOT/build"
