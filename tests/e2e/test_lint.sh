#!/usr/bin/env bash
# House rules (tools/checksrc.sh): banned functions, purpose comments,
# file length, include direction.
exec "$QW_ROOT/tools/checksrc.sh"
