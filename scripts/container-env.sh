#!/usr/bin/env bash
# container-env.sh: sourced. Podman settings that work on this project's
# machines without touching /etc: runc instead of crun (crun refuses
# hybrid cgroups), cgroupfs, file events, explicit ulimits (the defaults
# try to raise NOFILE/NPROC past what the VM allows), and image storage
# under a cache directory that outlives a checkout (QW_CACHE, default
# /var/tmp/quotewatch-cache) so the base image is built once per machine.
QW_CACHE="${QW_CACHE:-/var/tmp/quotewatch-cache}"
mkdir -p "$QW_CACHE/containers/storage" "$QW_CACHE/containers/run"
cat > "$QW_CACHE/containers/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat > "$QW_CACHE/containers/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$QW_CACHE/containers/storage"
runroot = "$QW_CACHE/containers/run"
CONF
export CONTAINERS_CONF="$QW_CACHE/containers/containers.conf"
export CONTAINERS_STORAGE_CONF="$QW_CACHE/containers/storage.conf"
