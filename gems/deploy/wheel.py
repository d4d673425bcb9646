"""The worker wheel: built from this checkout, published to the state bucket, fetched by user-data.

A worker boots from nothing: its user-data installs `gems[worker] @ <URL>` with pip, and the
wheel's declared dependencies come from the package registry (pyproject.toml reads them from the
pinned files under requirements/). The URL is pre-signed, so the instance needs no S3 rights to
fetch it; on AWS the instance role may read `dist/` instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gems.aws import s3 as S3
from gems.config import REPO_ROOT, Config
from gems.errors import GemsError

DIST_PREFIX = "dist/"
URL_LIFETIME_S = 7 * 24 * 3600  # SigV4's longest
# A deployment names its wheel as s3://...; each launch hands workers a URL that outlives a slow
# (spot, capacity-starved) boot but not the job's day.
LAUNCH_URL_LIFETIME_S = 6 * 3600


def build(out_dir: Path, source: Path = REPO_ROOT) -> Path:
    """`pip wheel` of the gems package alone (its dependencies stay declared, not bundled)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("gems-*.whl"):
        old.unlink()
    result = subprocess.run(  # noqa: S603 - pip on our own source tree
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out_dir), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = sorted(out_dir.glob("gems-*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise GemsError(f"could not build the worker wheel: {(result.stderr or result.stdout)[-500:]}")
    return wheels[0]


def publish(s3, bucket: str, wheel: Path) -> tuple[str, str]:
    """Upload the wheel to s3://bucket/dist/<wheel name>; returns (key, pre-signed URL)."""
    key = DIST_PREFIX + wheel.name
    S3.upload(s3, wheel, bucket, key)
    return key, S3.presigned_get(s3, bucket, key, expires=URL_LIFETIME_S)


def worker_code(config: Config, s3) -> Config:
    """The config a launch plans with: an `s3://` worker source becomes a fresh pre-signed URL,
    because pip on a bare instance cannot fetch s3:// and a URL signed at deploy time would expire."""
    source = config.worker_source
    if not source.startswith("s3://"):
        return config
    bucket, _, key = source[len("s3://") :].partition("/")
    return config.with_(worker_source=S3.presigned_get(s3, bucket, key, expires=LAUNCH_URL_LIFETIME_S))
