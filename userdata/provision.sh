# --- gems worker provisioning (shared by EC2 user-data and the Dockerfile) ---
# Installs only what is missing, so a re-run (or a local boot in the embedded stack) is fast.
# Inputs: GEMS_WORKER_SOURCE: "local" (use GEMS_PYTHON as is), a directory, or a pip spec/URL
#         of the gems wheel; GEMS_VENV (default /opt/gems/venv).
set -euo pipefail
: "${GEMS_VENV:=/opt/gems/venv}"
: "${GEMS_WORKER_SOURCE:=local}"
gems_log() { echo "[gems-provision] $*" >&2; }

if [[ "$GEMS_WORKER_SOURCE" == "local" && -n "${GEMS_PYTHON:-}" ]] && "$GEMS_PYTHON" -c "import workers, pysam, mappy" 2>/dev/null; then
  gems_log "worker environment already present ($GEMS_PYTHON), skipping installs"
else
  if ! command -v python3.11 >/dev/null && ! command -v python3 >/dev/null; then
    gems_log "installing Python"
    if command -v dnf >/dev/null; then dnf install -y -q python3.11 python3.11-pip
    elif command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq python3 python3-venv
    fi
  fi
  PYBIN=$(command -v python3.11 || command -v python3)
  if [[ ! -x "$GEMS_VENV/bin/python" ]]; then
    gems_log "creating $GEMS_VENV"
    "$PYBIN" -m venv "$GEMS_VENV"
  fi
  if ! "$GEMS_VENV/bin/python" -c "import workers, pysam, mappy" 2>/dev/null; then
    gems_log "installing the gems worker from $GEMS_WORKER_SOURCE"
    "$GEMS_VENV/bin/python" -m pip install -q --upgrade pip
    if [[ -d "$GEMS_WORKER_SOURCE" ]]; then
      "$GEMS_VENV/bin/python" -m pip install -q -r "$GEMS_WORKER_SOURCE/requirements/worker.txt"
      "$GEMS_VENV/bin/python" -m pip install -q --no-deps "$GEMS_WORKER_SOURCE"
    else
      "$GEMS_VENV/bin/python" -m pip install -q "$GEMS_WORKER_SOURCE"
    fi
  fi
  GEMS_PYTHON="$GEMS_VENV/bin/python"
fi
export GEMS_PYTHON
# --- end of provisioning ---
