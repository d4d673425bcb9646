#!/usr/bin/env bash
# Build the Lambda package of the web app with Zappa, from a slim virtualenv (.venv-lambda) that
# holds only requirements/app.txt and Zappa: no catboost, no pysam (Lambda allows 250 MB unzipped).
# Every compiled package is swapped for its manylinux2014 wheel, because pip on a newer machine
# picks wheels (e.g. cryptography's glibc 2.34 build) that do not load on Lambda's python3.11
# runtime (Amazon Linux 2, glibc 2.26).
# Usage: bash scripts/package_lambda.sh [OUT.zip]   (default dist/gems-lambda.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/gems-lambda.zip}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
venv=.venv-lambda
[[ -x $venv/bin/python ]] || "$PY" -m venv "$venv"
$venv/bin/python -m pip install -q -c requirements/lock.txt --upgrade pip
$venv/bin/python -m pip install -q -c requirements/lock.txt -r requirements/app.txt zappa==0.63.0
site=$($venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
compiled=$($venv/bin/python - "$site" <<'PY'
import sys
from importlib.metadata import distributions
names = set()
for dist in distributions(path=[sys.argv[1]]):
    if any(str(f).endswith(".so") for f in (dist.files or [])):
        names.add(f"{dist.metadata['Name']}=={dist.version}")
print(" ".join(sorted(names)))
PY
)
if [[ -n $compiled ]]; then
  echo "package_lambda: manylinux2014 wheels for: $compiled"
  # shellcheck disable=SC2086
  $venv/bin/python -m pip install -q --no-deps --upgrade --force-reinstall --target "$site" \
    --platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp $compiled
fi
mkdir -p "$(dirname "$out")"
VIRTUAL_ENV=$PWD/$venv PATH=$PWD/$venv/bin:$PATH AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} \
  $venv/bin/zappa package dev -o "$out"
ls -l "$out"
