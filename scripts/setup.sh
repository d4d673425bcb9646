#!/usr/bin/env bash
# Set gems up on a fresh Debian machine with Python 3.11: system tools, then a local .venv.
# Safe to rerun: every step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

# Debian packages: headless Chromium (+driver) for the browser tests; podman (runc runtime) and
# debootstrap to build and run the images (tests/images). Skipped when present or not root.
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})) && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "setup: installing ${need[*]} from Debian"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.gems-requirements
want=$(cat requirements.txt requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing Python packages into .venv (a few minutes the first time)"
  # The lock pins every package, transitive ones and pip too: a fresh machine gets what CI tested.
  .venv/bin/python -m pip install -q -c requirements/lock.txt --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt -c requirements/lock.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" >"$stamp"
fi
# The minimap2 program the align step runs, built once from mappy's source release by the same
# function an EC2 worker's provisioning uses.
source <(sed -n '/^gems_log()/p;/^gems_build_tools()/,/^}/p;/^gems_minimap2()/,/^}/p' userdata/provision.sh)
gems_minimap2 .venv/bin/python
echo "setup: done (.venv/bin/gems --help)"
