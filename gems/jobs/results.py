"""A job's result files in S3, grouped by sample, with pre-signed download links."""

from __future__ import annotations

from gems.aws import s3 as S3
from gems.statekeys import results_prefix


def list_results(s3, job: dict, expires: int = 3600) -> dict:
    base = results_prefix(job["prefix"], job["session_key"])
    samples: dict[str, list[dict]] = {}
    for obj in S3.list_keys(s3, job["bucket"], base):
        rel = obj["Key"][len(base) :]
        sample, _, name = rel.partition("/")
        if not name:
            continue
        samples.setdefault(sample, []).append(
            {
                "name": name,
                "key": obj["Key"],
                "size": obj["Size"],
                "url": S3.presigned_get(s3, job["bucket"], obj["Key"], expires),
            }
        )
    for files in samples.values():
        files.sort(key=lambda f: f["name"])
    return {"session_key": job["session_key"], "bucket": job["bucket"], "prefix": base, "samples": samples}
