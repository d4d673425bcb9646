"""The registry of trained versions, in S3 (the embedded stack's moto S3 locally).

    s3://BUCKET/models/VERSION/model.tar.gz     the SageMaker artifact (ml.sagemaker.package)
    s3://BUCKET/models/VERSION/manifest.json    for listing without downloading the model
    s3://BUCKET/models/registry.json            {"production", "candidate", "previous": [...], "history": [...]}

Every function takes a boto3 S3 client, so tests hand it a moto one. `promote` pushes the old
production version onto `previous`; `rollback` pops it back.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from botocore.exceptions import ClientError

from gems.errors import ConflictError, NotFoundError
from ml import artifacts, sagemaker

PREFIX = "models/"
STATE_KEY = PREFIX + "registry.json"
KEEP_PREVIOUS = 10


def tarball_key(version: str) -> str:
    return f"{PREFIX}{version}/model.tar.gz"


def tarball_url(bucket: str, version: str) -> str:
    return f"s3://{bucket}/{tarball_key(version)}"


def _ensure_bucket(s3, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def _get_json(s3, bucket: str, key: str) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            return None
        raise


def state(s3, bucket: str) -> dict:
    return _get_json(s3, bucket, STATE_KEY) or {
        "production": None,
        "candidate": None,
        "previous": [],
        "history": [],
    }


def _put_state(s3, bucket: str, value: dict) -> dict:
    s3.put_object(
        Bucket=bucket,
        Key=STATE_KEY,
        Body=json.dumps(value, indent=1).encode(),
        ContentType="application/json",
    )
    return value


def publish(s3, bucket: str, model_dir: Path) -> str:
    """Upload a model directory as its version; publishing the same version twice is refused."""
    manifest = artifacts.read_manifest(model_dir)
    version = manifest["version"]
    _ensure_bucket(s3, bucket)
    if _get_json(s3, bucket, f"{PREFIX}{version}/manifest.json") is not None:
        raise ConflictError(f"version {version} is already in the registry", field="version")
    with tempfile.TemporaryDirectory() as tmp:
        tarball = sagemaker.package(Path(model_dir), Path(tmp) / "model.tar.gz")
        s3.upload_file(str(tarball), bucket, tarball_key(version))
    # The manifest goes last: a version is listed only once its tarball is complete.
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}{version}/manifest.json", Body=json.dumps(manifest).encode())
    return version


def versions(s3, bucket: str) -> list[dict]:
    """Manifests of every published version, oldest first."""
    found = []
    paginator = s3.get_paginator("list_objects_v2")
    try:
        pages = list(paginator.paginate(Bucket=bucket, Prefix=PREFIX))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return []
        raise
    for page in pages:
        for item in page.get("Contents", []):
            if item["Key"].endswith("/manifest.json"):
                manifest = _get_json(s3, bucket, item["Key"])
                if manifest:
                    found.append(manifest)
    return sorted(found, key=lambda m: (m.get("created", ""), m["version"]))


def require(s3, bucket: str, version: str) -> dict:
    manifest = _get_json(s3, bucket, f"{PREFIX}{version}/manifest.json")
    if manifest is None:
        raise NotFoundError(
            f"version {version} is not in the registry (s3://{bucket}/{PREFIX})", field="version"
        )
    return manifest


def mark_candidate(s3, bucket: str, version: str) -> dict:
    require(s3, bucket, version)
    current = state(s3, bucket)
    current["candidate"] = version
    current["history"] = [
        *current.get("history", []),
        {"action": "candidate", "version": version, "at": artifacts.now().isoformat()},
    ]
    return _put_state(s3, bucket, current)


def promote(s3, bucket: str, version: str) -> dict:
    """Make `version` production; the old production version becomes the rollback target."""
    require(s3, bucket, version)
    current = state(s3, bucket)
    if current.get("production") == version:
        return current
    if current.get("production"):
        current["previous"] = [*current.get("previous", []), current["production"]][-KEEP_PREVIOUS:]
    current["production"] = version
    if current.get("candidate") == version:
        current["candidate"] = None
    current["history"] = [
        *current.get("history", []),
        {"action": "promote", "version": version, "at": artifacts.now().isoformat()},
    ]
    return _put_state(s3, bucket, current)


def rollback(s3, bucket: str) -> dict:
    """Serve the version that was production before the last promote."""
    current = state(s3, bucket)
    previous = list(current.get("previous", []))
    if not previous:
        raise ConflictError("nothing to roll back to: no previous production version")
    current["production"] = previous.pop()
    current["previous"] = previous
    current["history"] = [
        *current.get("history", []),
        {"action": "rollback", "version": current["production"], "at": artifacts.now().isoformat()},
    ]
    return _put_state(s3, bucket, current)


def fetch(s3, bucket: str, version: str, dest: Path) -> Path:
    """Download and unpack a version into `dest` (replaced whole, never half-written)."""
    require(s3, bucket, version)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        tarball = work / "model.tar.gz"
        s3.download_file(bucket, tarball_key(version), str(tarball))
        unpacked = work / "model"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(unpacked, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest
