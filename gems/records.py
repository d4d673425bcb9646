"""The durable job record in S3, which outlives the instances (EC2 forgets terminated ones).

The state bucket's job objects, their keys made here only (docs/state-bucket.md tables the
whole bucket). One writer per object, or conditional writes where two may write:
  jobs/<key>/job.json              the request and the plan          (API, at submission)
  jobs/<key>/manifests/<i>.json    worker i's samples and read keys  (API, at submission)
  jobs/<key>/workers/<i>.json      worker i's status and its samples (worker i; the API when it
                                   stops or gives up on it; both If-Match the version they read)
  jobs/<key>/logs/<i>.log          worker i's log                    (worker i)
  jobs/<key>/summary.json          the finished job, as GET shows it (API, once: If-None-Match)
  jobs/<key>/retries.json          the jobs that retried this one    (API, POST .../retry)
  locks/<hash>.json                one running job per bucket/prefix/class (API)
A replayed Idempotency-Key needs no object of its own: the session key is derived from it.
"""

from __future__ import annotations

import hashlib

from gems.aws import s3 as S3


def job_key(session_key: str) -> str:
    return f"jobs/{session_key}/job.json"


def worker_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/workers/{index}.json"


def manifest_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/manifests/{index}.json"


def retries_key(session_key: str) -> str:
    return f"jobs/{session_key}/retries.json"


def summary_key(session_key: str) -> str:
    return f"jobs/{session_key}/summary.json"


def log_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/logs/{index}.log"


def lock_key(bucket: str, prefix: str, hla_class) -> str:
    digest = hashlib.sha256(f"{bucket}\0{prefix}\0{hla_class}".encode()).hexdigest()[:32]
    return f"locks/{digest}.json"


def results_prefix(prefix: str, session_key: str, sample: str | None = None) -> str:
    base = f"{prefix.rstrip('/')}/results/{session_key}/"
    return base + (f"{sample}/" if sample else "")


def read_job(s3, bucket: str, session_key: str) -> dict | None:
    return S3.get_json(s3, bucket, job_key(session_key))


def read_workers(s3, bucket: str, session_key: str, n_workers: int) -> list[dict | None]:
    return [S3.get_json(s3, bucket, worker_key(session_key, i)) for i in range(n_workers)]


def read_summary(s3, bucket: str, session_key: str) -> dict | None:
    return S3.get_json(s3, bucket, summary_key(session_key))


def list_session_keys(s3, bucket: str) -> list[str]:
    return [p.split("/")[1] for p in S3.list_prefixes(s3, bucket, "jobs/")]
