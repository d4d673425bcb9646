# --- gems worker provisioning (shared by EC2 user-data and the Dockerfile) ---
# Installs only what is missing, so a re-run (or a local boot in the embedded stack) is fast.
# Inputs: GEMS_WORKER_SOURCE: "local" (use GEMS_PYTHON as is), a directory holding the gems
#         source, or the gems wheel (a path or an https/pre-signed URL) or another pip spec;
#         GEMS_VENV (default /opt/gems/venv). The wheel declares its dependencies: the
#         `worker` extra is what a worker needs, fetched from the package registry.
set -euo pipefail
: "${GEMS_VENV:=/opt/gems/venv}"
: "${GEMS_WORKER_SOURCE:=local}"
gems_log() { echo "[gems-provision] $*" >&2; }

# The first Python 3.11 or newer on this machine, installed when the image has none (Amazon
# Linux 2023's python3 is 3.9; its python3.11 package is the one to use).
gems_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# (-I above: an import check must not find the source tree it runs in, as the image build's
# WORKDIR /src would.) mappy (minimap2's binding) has no wheel on PyPI: pip compiles it, which needs a C compiler, the
# Python headers and zlib's; the minimap2 program needs make as well. A bare image (Amazon Linux, Debian minbase) has none of them.
gems_build_tools() {
  local headers
  headers=$("$1" -c 'import os, sysconfig; print(os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))')
  if command -v cc >/dev/null && command -v make >/dev/null && [[ $headers == True ]]; then return 0; fi
  gems_log "installing a C compiler and headers (mappy and minimap2 are built from source)"
  if command -v dnf >/dev/null; then dnf install -y -q gcc make python3.11-devel zlib-devel
  elif command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc make libc6-dev python3-dev zlib1g-dev
  fi
}

# The minimap2 program, next to the venv's python: the align step pipes it into samtools. It is
# built from mappy's own source release (which carries minimap2's main.c and Makefile), so the
# program and the binding that builds the index are the same minimap2 release.
gems_minimap2() {
  local bin version src
  bin="$(dirname "$1")/minimap2"
  version=$("$1" -I -c 'import mappy; print(mappy.__version__)')
  if [[ -x $bin ]] && [[ $("$bin" --version 2>/dev/null) == "$version"-* ]]; then return 0; fi
  gems_build_tools "$1"
  gems_log "building minimap2 $version from mappy's source release"
  src=$(mktemp -d)
  # Only mappy as source; the tools pip builds it with come as wheels (`--no-binary :all:`
  # compiled Cython from source too: 3 of a fresh machine's 5 minutes of setup).
  "$1" -m pip download -q --no-deps --no-binary mappy -d "$src" "mappy==$version"
  tar -xzf "$src"/mappy-*.tar.gz -C "$src"
  local arch=()
  [[ $(uname -m) == aarch64 || $(uname -m) == arm64 ]] && arch=(aarch64=1)
  make -s -C "$src/mappy-$version" -j "$(nproc 2>/dev/null || echo 2)" "${arch[@]}" minimap2 >/dev/null 2>&1 ||
    { gems_log "building minimap2 failed"; rm -rf "$src"; return 1; }
  install -m 0755 "$src/mappy-$version/minimap2" "$bin.part" && mv "$bin.part" "$bin"
  rm -rf "$src"
}

if [[ "$GEMS_WORKER_SOURCE" == "local" && -n "${GEMS_PYTHON:-}" ]] && "$GEMS_PYTHON" -I -c "import workers, pysam, mappy" 2>/dev/null \
  && [[ -x "$(dirname "$GEMS_PYTHON")/minimap2" ]]; then
  gems_log "worker environment already present ($GEMS_PYTHON), skipping installs"
else
  if ! PYBIN=$(gems_python); then
    gems_log "installing Python 3.11"
    if command -v dnf >/dev/null; then dnf install -y -q python3.11 python3.11-pip
    elif command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq python3 python3-venv
    fi
    PYBIN=$(gems_python) || { gems_log "no Python 3.11 or newer could be installed"; exit 1; }
  fi
  if [[ ! -x "$GEMS_VENV/bin/python" ]]; then
    gems_log "creating $GEMS_VENV with $PYBIN ($("$PYBIN" --version 2>&1))"
    "$PYBIN" -m venv "$GEMS_VENV"
  fi
  if ! "$GEMS_VENV/bin/python" -I -c "import workers, pysam, mappy" 2>/dev/null; then
    gems_build_tools "$GEMS_VENV/bin/python"
    source_shown=${GEMS_WORKER_SOURCE%%\?*}  # never log a pre-signed URL's signature
    gems_log "installing the gems worker from $source_shown"
    "$GEMS_VENV/bin/python" -m pip install -q --upgrade pip
    case "$GEMS_WORKER_SOURCE" in
      *://*.whl | *://*.whl\?*) spec="gems[worker] @ $GEMS_WORKER_SOURCE" ;;  # a wheel URL
      local) gems_log "GEMS_WORKER_SOURCE=local, but this machine has no worker installed"; exit 1 ;;
      *) if [[ -e "$GEMS_WORKER_SOURCE" ]]; then spec="$GEMS_WORKER_SOURCE[worker]"; else spec="$GEMS_WORKER_SOURCE"; fi ;;
    esac
    "$GEMS_VENV/bin/python" -m pip install -q "$spec"
  fi
  gems_minimap2 "$GEMS_VENV/bin/python"
  GEMS_PYTHON="$GEMS_VENV/bin/python"
fi
export GEMS_PYTHON
# --- end of provisioning ---
