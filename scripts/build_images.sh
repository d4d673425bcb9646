#!/usr/bin/env bash
# Build the Dockerfile's targets with podman on this machine (Debian's podman, runc runtime).
# Usage: bash scripts/build_images.sh [TARGET...]   (default: api serve worker; images gems-TARGET)
#
# No image registry is reachable here, so the base image is made locally: a minimal Debian
# bookworm (python3 is 3.11) from debootstrap, imported as localhost/gems-base:bookworm once.
# GEMS_IMAGE_BASE names another base instead (python:3.11-slim where a registry answers).
# pip inside a build sees what pip here sees: the PIP_* settings, the pip.conf files and the
# certificate bundle (as any build behind a proxy needs), mounted read-only into each RUN.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
((${#targets[@]})) || targets=(api serve worker)
work=${GEMS_HOME:-.gems}/images
mkdir -p "$work"
# crun fails on this kind of machine's cgroups; runc with cgroupfs works.
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
export CONTAINERS_CONF=$PWD/$work/containers.conf

base=${GEMS_IMAGE_BASE:-localhost/gems-base:bookworm}
if [[ -z ${GEMS_IMAGE_BASE:-} ]] && ! podman image exists "$base"; then
  echo "build_images: making $base with debootstrap (about a minute)"
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
  tar -C "$work/rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

# As a pip.conf mounted over the image's /etc/pip.conf for the build's RUN steps only (an
# --env would be baked into the image). Settings that name paths of this machine are left out.
conf=$work/pip.conf
{
  echo "[global]"
  while IFS='=' read -r name value; do
    case $name in PIP_CERT | PIP_FIND_LINKS | PIP_CONSTRAINT | PIP_CONFIG_FILE) continue ;; esac
    key=${name#PIP_}
    key=${key,,}
    echo "${key//_/-} = $value"
  done < <(env | grep '^PIP_' || true)
  for key in index-url extra-index-url; do
    urls=$(pip config get "global.$key" 2>/dev/null | tr ' ' '\n' | grep -E '^https?://' | tr '\n' ' ' || true)
    [[ -n $urls ]] && echo "$key = ${urls% }"
  done
  echo "cert = /run/gems-host-ca.crt"
} >"$conf"
cert=${PIP_CERT:-$(pip config get global.cert 2>/dev/null || echo /etc/ssl/certs/ca-certificates.crt)}
pip_args=(-v "$PWD/$conf:/etc/pip.conf:ro" -v "$cert:/run/gems-host-ca.crt:ro")
for t in "${targets[@]}"; do
  echo "build_images: gems-$t (base $base)"
  start=$SECONDS
  podman build --format docker --network host --build-arg BASE="$base" --target "$t" -t "gems-$t" \
    "${pip_args[@]}" . >"$work/build-$t.log" 2>&1 || { tail -30 "$work/build-$t.log"; exit 1; }
  echo "build_images: gems-$t built in $((SECONDS - start)) s ($(podman image inspect -f '{{.Size}}' "gems-$t") bytes)"
done
