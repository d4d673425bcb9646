"""Where the lake lives: an S3 bucket, or a local folder (`gems run-sample` without a job).

Both offer the same few operations. Writes of data are atomic for readers: the bytes go to a
temporary key outside every table's prefix, then are copied onto the final key and the temporary
one deleted (S3 has no rename; a copy lands whole or not at all), or renamed locally. Manifests
are updated with a compare-and-swap (S3 conditional writes on the ETag, a file lock locally).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import uuid
from pathlib import Path

from botocore.exceptions import ClientError

from gems.aws import s3 as S3
from gems.errors import ConflictError, NotFoundError, ValidationError

_OBJECT_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_OBJECT_LOCKS_GUARD = threading.Lock()

TMP_PREFIX = "_tmp/"  # never under a table's prefix, so no reader (Athena, Spark, us) lists it


class S3Store:
    def __init__(self, s3, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _missing_bucket(self, exc: ClientError) -> None:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            raise NotFoundError(
                f"the lake bucket {self.bucket} does not exist (no sample written to it yet, or "
                "GEMS_LAKE_BUCKET / AWS_ENDPOINT_URL point elsewhere)"
            ) from None

    def get(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            self._missing_bucket(exc)
            raise

    def put_atomic(self, key: str, data: bytes, *, fail_before_publish: bool = False) -> None:
        tmp = f"{TMP_PREFIX}{uuid.uuid4().hex}/{key}"
        self.s3.put_object(Bucket=self.bucket, Key=tmp, Body=data)
        try:
            if fail_before_publish:  # tests: a worker killed between the upload and the copy
                raise OSError("interrupted before publishing")
            self.s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": tmp})
        finally:
            S3.delete_key(self.s3, self.bucket, tmp)

    def delete(self, key: str) -> None:
        S3.delete_key(self.s3, self.bucket, key)

    def keys(self, prefix: str) -> list[str]:
        return [o["Key"] for o in S3.list_keys(self.s3, self.bucket, prefix)]

    def read_json(self, key: str) -> tuple[dict | None, str | None]:
        try:
            return S3.get_json_etag(self.s3, self.bucket, key)
        except ClientError as exc:
            self._missing_bucket(exc)
            raise

    def swap_json(self, key: str, data: dict, expected: str | None) -> None:
        """Write `data` only if the object is still the one read (ETag `expected`, None: absent)."""
        S3.put_json(self.s3, self.bucket, key, data, if_none_match=expected is None, if_match=expected)

    def write_json(self, key: str, data: dict) -> None:
        S3.put_json(self.s3, self.bucket, key, data)

    @contextlib.contextmanager
    def locked(self, key: str):
        """Across processes the conditional write in swap_json decides, as S3 makes it atomic.
        Writers in one process (a worker's threads, the tests') also take a mutex per object:
        moto's conditional writes are not atomic across threads, and it costs AWS nothing."""
        with _OBJECT_LOCKS_GUARD:
            lock = _OBJECT_LOCKS.setdefault((self.bucket, key), threading.Lock())
        with lock:
            yield


class LocalStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def url(self, key: str) -> str:
        return str(self.root / key)

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def put_atomic(self, key: str, data: bytes, *, fail_before_publish: bool = False) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            if fail_before_publish:
                raise OSError("interrupted before publishing")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.exists():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def read_json(self, key: str) -> tuple[dict | None, str | None]:
        raw = self.get(key)
        if raw is None:
            return None, None
        return json.loads(raw), hashlib.sha256(raw).hexdigest()

    def swap_json(self, key: str, data: dict, expected: str | None) -> None:
        _, current = self.read_json(key)
        if current != expected:
            raise ConflictError(f"{self.url(key)} was written by someone else")
        self.write_json(key, data)

    def write_json(self, key: str, data: dict) -> None:
        self.put_atomic(key, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())

    @contextlib.contextmanager
    def locked(self, key: str):
        """Serialise local writers of one manifest (several run-sample processes into one folder)."""
        lock = self.root / f".{key.replace('/', '_')}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


Store = S3Store | LocalStore


def open_store(location: str, s3=None) -> Store:
    """`s3://bucket` (with an S3 client) or a local folder."""
    if location.startswith("s3://"):
        bucket = location[5:].strip("/")
        if not bucket or "/" in bucket:
            raise ValidationError("a lake on S3 is a whole bucket: s3://BUCKET", field="lake")
        if s3 is None:
            raise ValidationError("an S3 lake needs an S3 client", field="lake")
        return S3Store(s3, bucket)
    return LocalStore(Path(location).expanduser())
