"""The durable job record in S3, which outlives the instances (EC2 forgets terminated ones).

Layout in the state bucket, one writer per object so no read-modify-write races:
  jobs/<key>/job.json              the request and the plan          (API, at submission)
  jobs/<key>/manifests/<i>.json    worker i's samples and read keys  (API, at submission)
  jobs/<key>/workers/<i>.json      worker i's status and its samples (worker i; the API on stop)
  jobs/<key>/logs/<i>.log          worker i's log                    (worker i)
  jobs/<key>/summary.json          the finished job, as GET shows it (last worker, or stop)
  locks/<hash>.json                one running job per bucket/prefix/class
  idempotency/<hash>.json          Idempotency-Key -> session key
"""

from __future__ import annotations

import hashlib

from gems.aws import s3 as S3


def job_key(session_key: str) -> str:
    return f"jobs/{session_key}/job.json"


def worker_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/workers/{index}.json"


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
