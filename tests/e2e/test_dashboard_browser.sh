#!/usr/bin/env bash
# The dashboard in a real browser: Debian chromium driven by npm
# playwright-core (tests/js/dash_e2e.mjs) against `quotewatch live`
# connected to the simulator; saves build/dashboard.png.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || die "chromium missing (scripts/install-deps.sh installs it)"
[ -d "$QW_ROOT/tests/js/node_modules/playwright-core" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
cd "$QW_ROOT/tests/js" && node dash_e2e.mjs "$QW_BIN" "$QW_ROOT/build/dashboard.png"
