"""The Lambda package, built as a deployment builds it: small, walled, loadable on Amazon Linux 2."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest

pytestmark = pytest.mark.slow
# Lambda's python3.11 runtime is Amazon Linux 2: glibc 2.26.
_TAG = re.compile(r"manylinux_(\d+)_(\d+)_x86_64|manylinux(2014|2010|1)_x86_64")
_LEGACY = {"2014": (2, 17), "2010": (2, 12), "1": (2, 5)}


def _glibc(tag: str) -> tuple[int, int] | None:
    m = _TAG.search(tag)
    if not m:
        return None
    return (int(m[1]), int(m[2])) if m[1] else _LEGACY[m[3]]


def test_package_is_small_and_walled(package):
    z = zipfile.ZipFile(package)
    names = z.namelist()
    unzipped = sum(i.file_size for i in z.infolist())
    assert unzipped < 250 * 2**20, f"{unzipped / 2**20:.0f} MiB unzipped"
    tops = {n.split("/")[0] for n in names}
    for banned in (
        "catboost",
        "pysam",
        "mappy",
        "cutadapt",
        "pandas",
        "sklearn",
        "moto",
        "workers",
        "embedded",
        "tests",
    ):
        assert banned not in tops, banned
    for needed in (
        "app/wsgi.py",
        "app/events.py",
        "gems/jobs/service.py",
        "userdata/worker.sh",
        "userdata/provision.sh",
        "ml/features.py",
    ):
        assert needed in names, needed


def test_compiled_wheels_load_on_lambdas_glibc(package):
    z = zipfile.ZipFile(package)
    for name in z.namelist():
        if not name.endswith(".dist-info/WHEEL"):
            continue
        tags = [
            line.split(": ", 1)[1] for line in z.read(name).decode().splitlines() if line.startswith("Tag:")
        ]
        if all(t.endswith("-any") for t in tags):
            continue
        best = min(g for g in map(_glibc, tags) if g is not None)
        assert best <= (2, 26), f"{name}: {tags}"


def test_the_app_imports_from_the_package_alone(unzipped, tmp_path):
    code = "import os; os.environ.setdefault('AWS_DEFAULT_REGION','us-east-1'); import app.wsgi; print(sorted(r.rule for r in app.wsgi.app.url_map.iter_rules())[:3])"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(unzipped)!r}); {code}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
