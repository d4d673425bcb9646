"""The Lambda package, built once per run as a deployment builds it (scripts/package_lambda.sh)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lambda") / "gems-lambda.zip"
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "package_lambda.sh"), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def unzipped(package, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lambda-root")
    zipfile.ZipFile(package).extractall(folder)
    return folder
