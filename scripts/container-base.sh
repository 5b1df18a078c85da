#!/usr/bin/env bash
# container-base.sh: makes the Dockerfile's base image (debian:bookworm-slim)
# available to podman without a registry, from the Debian mirror apt already
# uses: debootstrap --variant=minbase, apt caches removed, imported as
# localhost/debian:bookworm-slim and tagged docker.io/library/debian:bookworm-slim
# so the unmodified `FROM ${BASE}` resolves locally. Cached: a second run
# with the image present returns at once. Needs root (debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/container-env.sh
TAG=docker.io/library/debian:bookworm-slim
if podman image exists "$TAG"; then exit 0; fi
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do # deb822
  [ -e "$f" ] || continue
  mirror=$(awk '/^URIs:/{print $2; exit}' "$f"); [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then # one-line format
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$3 ~ /^bookworm$/ {print $2; exit}')
fi
[ -n "$mirror" ] || { echo "container-base: no Debian mirror found in /etc/apt" >&2; exit 1; }
root="$QW_CACHE/rootfs.$$"
trap 'rm -rf "$root"' EXIT
echo "container-base: debootstrap bookworm (minbase) from the configured mirror" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$QW_CACHE/debootstrap.log" 2>&1 || {
  tail -20 "$QW_CACHE/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar --numeric-owner -C "$root" -c . | podman import - localhost/debian:bookworm-slim >/dev/null
podman tag localhost/debian:bookworm-slim "$TAG"
echo "container-base: $TAG ready" >&2
