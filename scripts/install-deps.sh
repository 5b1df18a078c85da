#!/usr/bin/env bash
# Install what QuoteWatch needs from Debian 12 packages (and npm, later),
# only when something is missing. Safe to run repeatedly; used by
# `make run`, `make test` and `make bench`.
set -euo pipefail

PKGS=(
  build-essential pkg-config clang llvm libclang-rt-14-dev clang-format bear
  libjansson-dev libzstd-dev zstd libwebsockets-dev libssl-dev openssl
  libsnappy-dev libsqlite3-dev libpq-dev zlib1g-dev libcurl4-openssl-dev
  postgresql-15 chromium ca-certificates curl jq
  python3 python3-sklearn python3-numpy python3-prometheus-client python3-yaml
  podman runc debootstrap uidmap
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js + npm (dashboard build, browser and lake-reader tests): Debian's
# packages unless a node is already on PATH.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
