#!/usr/bin/env bash
# House rules (tools/checksrc.sh): banned functions, purpose comments,
# file length, include direction, thin commands in src/app.
ROOT="${QW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
exec "$ROOT/tools/checksrc.sh"
