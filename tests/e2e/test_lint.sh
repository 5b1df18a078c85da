#!/usr/bin/env bash
# House rules (tools/checksrc.sh): banned functions, purpose comments,
# file length, include direction, thin commands in src/app; and no 128-bit
# size silently narrowed to 64 bits (tools/check_sz.sh).
ROOT="${QW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
"$ROOT/tools/checksrc.sh" || exit 1
exec "$ROOT/tools/check_sz.sh"
