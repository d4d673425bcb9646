#!/usr/bin/env bash
# Regenerate requirements/lock.txt: every package a developer or CI installs, pinned with what
# pulls it in, resolved from requirements.txt by pip-tools. scripts/setup.sh and the Dockerfile
# install with `-c requirements/lock.txt`, so a fresh machine gets the versions CI tested.
# Run it after changing any file under requirements/, and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3.11 -m venv "$tools"
"$tools/bin/python" -m pip install -q pip-tools==7.6.2
"$tools/bin/pip-compile" --quiet --strip-extras --allow-unsafe --no-emit-find-links --no-emit-index-url \
  --output-file=requirements/lock.txt requirements.txt
echo "lock: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) pins)"
