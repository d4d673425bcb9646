#!/usr/bin/env bash
# The whole check: lint, then every test tier (unit, moto integration, end-to-end, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -50; exit 1; }
# The stage template (gems deploy): CloudFormation's own linter, errors and warnings.
.venv/bin/cfn-lint gems/deploy/template.yaml
# Types of the rooms the service runs on (gems/, app/, workers/; settings in pyproject.toml).
# No cache: an incremental cache once hid an error that a clean checkout (CI) reports.
.venv/bin/mypy --cache-dir /dev/null
exec .venv/bin/python -m pytest "$@"
