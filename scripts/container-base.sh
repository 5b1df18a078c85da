#!/usr/bin/env bash
# container-base.sh: makes the Dockerfile's base image (debian:bookworm-slim)
# available to podman without a registry, from the Debian mirror apt already
# uses: debootstrap --variant=minbase, apt caches removed, imported as
# localhost/debian:bookworm-slim and tagged docker.io/library/debian:bookworm-slim
# so the unmodified `FROM ${BASE}` resolves locally. Cached: a second run
# with the image present (made by this version of the script) returns at
# once. Like the registry's slim image, the rootfs carries no docs, man
# pages or translations, and apt keeps no package caches (the same dpkg
# path excludes and apt settings). Needs root (debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/container-env.sh
TAG=docker.io/library/debian:bookworm-slim
stamp="$QW_CACHE/base-image.sha256"
want=$(sha256sum "$0" | cut -d' ' -f1)
if podman image exists "$TAG" && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
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
cat > "$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
cat > "$root/etc/apt/apt.conf.d/slim-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/groff/* "$root"/usr/share/lintian/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
tar --numeric-owner -C "$root" -c . | podman import - localhost/debian:bookworm-slim >/dev/null
podman tag localhost/debian:bookworm-slim "$TAG"
echo "$want" > "$stamp"
echo "container-base: $TAG ready" >&2
