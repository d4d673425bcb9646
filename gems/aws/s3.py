"""S3: JSON records with conditional writes, listing, uploads and presigned URLs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from botocore.exceptions import ClientError

from gems.errors import ConflictError, NotFoundError, ValidationError


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def bucket_exists(s3, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchBucket", "403", "400"):
            return False
        raise


def ensure_bucket(s3, bucket: str, region: str) -> None:
    if bucket_exists(s3, bucket):
        return
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **kwargs)
    except ClientError as exc:
        if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def list_keys(s3, bucket: str, prefix: str) -> Iterator[dict]:
    """Every object under a prefix (paginated): dicts with Key, Size, LastModified."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def listed(s3, bucket: str, key: str) -> bool:
    """Whether exactly `key` is in the bucket, by listing (s3:ListBucket, not s3:GetObject)."""
    return any(obj["Key"] == key for obj in list_keys(s3, bucket, key))


def list_prefixes(s3, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out


def get_json(s3, bucket: str, key: str) -> dict | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)


def get_text(s3, bucket: str, key: str) -> str | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode(errors="replace")
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None
        raise


def get_bytes(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def put_bytes(s3, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/octet-stream")


def get_json_etag(s3, bucket: str, key: str) -> tuple[dict | None, str | None]:
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None, None
        raise
    return json.loads(obj["Body"].read()), obj["ETag"]


def put_json(
    s3, bucket: str, key: str, data: dict, *, if_none_match: bool = False, if_match: str | None = None
):
    """Write a JSON object; with a condition, raise ConflictError when another writer won."""
    kwargs = {}
    if if_none_match:
        kwargs["IfNoneMatch"] = "*"
    if if_match:
        kwargs["IfMatch"] = if_match
    body = json.dumps(data, indent=1, sort_keys=True, default=str).encode()
    try:
        return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **kwargs)
    except ClientError as exc:
        if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
            raise ConflictError(f"s3://{bucket}/{key} was written by someone else") from exc
        raise


def delete_key(s3, bucket: str, key: str) -> None:
    s3.delete_object(Bucket=bucket, Key=key)


def download(s3, bucket: str, key: str, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        s3.download_file(bucket, key, str(tmp))
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            raise NotFoundError(f"s3://{bucket}/{key} does not exist") from exc
        raise
    tmp.replace(dest)
    return dest


_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}


def content_type(name: str) -> str:
    """So a pre-signed link to report.html opens in the browser instead of downloading."""
    for suffix, kind in _CONTENT_TYPES.items():
        if name.endswith(suffix):
            return kind
    return "application/octet-stream"


def upload(s3, path: Path, bucket: str, key: str, *, attempts: int = 4, backoff: float = 0.5) -> None:
    """Upload one file, retrying transient failures; raises after the last attempt."""
    extra = {"ContentType": content_type(path.name)}
    for attempt in range(1, attempts + 1):
        try:
            s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
            return
        except (ClientError, OSError):
            if attempt == attempts:
                raise
            time.sleep(backoff * 2 ** (attempt - 1))


def presigned_get(
    s3, bucket: str, key: str, expires: int = 3600, *, content_type: str | None = None, inline: bool = False
) -> str:
    """A GET URL for one object; `content_type`/`inline` make a browser show it (a report page)."""
    params = {"Bucket": bucket, "Key": key}
    if content_type:
        params["ResponseContentType"] = content_type
    if inline:
        params["ResponseContentDisposition"] = "inline"
    return s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)


def parse_s3_url(url: str, default_bucket: str | None = None, field: str = "reference") -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); a bare key means `default_bucket`."""
    if url.startswith("s3://"):
        bucket, _, key = url[5:].partition("/")
        if not bucket or not key:
            raise ValidationError(f"{field} must look like s3://bucket/key", field=field)
        return bucket, key
    if default_bucket and url and not url.startswith("/"):
        return default_bucket, url
    raise ValidationError(f"{field} must be an s3:// URL or a key in the job's bucket", field=field)


def object_count(s3, bucket: str, ignore_prefix: str = "") -> int:
    """Objects (current versions) in the bucket, not counting those under `ignore_prefix`."""
    return sum(
        1
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if not (ignore_prefix and obj["Key"].startswith(ignore_prefix))
    )


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker (a versioned bucket cannot be deleted
    before); returns how many were removed."""
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i : i + 1000], "Quiet": True})
        removed += len(doomed)
    return removed
