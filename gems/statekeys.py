"""The state bucket's layout: every job object's key, made here only (docs/state-bucket.md tables the
whole bucket). One writer per object, or conditional writes where two may write:
  jobs/<key>/job.json              the request and the plan          (API, at submission)
  jobs/<key>/manifests/<i>.json    worker i's samples and read keys  (API, at submission)
  jobs/<key>/workers/<i>.json      worker i's status and its samples (worker i; the API when it
                                   stops or gives up on it; both If-Match the version they read)
  jobs/<key>/logs/<i>.log          worker i's log                    (worker i)
  jobs/<key>/summary.json          the finished job, as GET shows it (API, once: If-None-Match)
  jobs/<key>/retries.json          the jobs that retried this one    (API, POST .../retry)
  jobs/<key>/callback.json         callback deliveries owed and done (API, If-Match; gems.callbacks.notify)
  jobs/<key>/shards/<sample>/      a sharded sample's work: split.json and the shard reads (its lead),
                                   windows.json (its lead), shard-<i>.qc.json, .hla.npz, .bam and
                                   .bam.bai, window-<w>.bam, .bcf and .json (shard i's worker);
                                   removed by the API when the job ends
  callbacks/due/<key>              marks a job with a delivery owed  (API; the sweep lists them)
  locks/<hash>.json                one running job per bucket/prefix/class (API)
  cache/<kind>/<name>.tar.gz       built indexes shared by workers  (any worker; workers.program.indexstore)
A replayed Idempotency-Key needs no object of its own: the session key is derived from it.
"""

from __future__ import annotations

import hashlib


def job_key(session_key: str) -> str:
    return f"jobs/{session_key}/job.json"


def workers_prefix(session_key: str) -> str:
    return f"jobs/{session_key}/workers/"


def worker_key(session_key: str, index: int) -> str:
    return f"{workers_prefix(session_key)}{index}.json"


def worker_index(session_key: str, key: str) -> int | None:
    """The worker a key under workers_prefix names, or None for anything else there."""
    name = key.removeprefix(workers_prefix(session_key))
    stem = name.removesuffix(".json")
    return int(stem) if name != key and stem != name and stem.isdigit() else None


def manifest_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/manifests/{index}.json"


def retries_key(session_key: str) -> str:
    return f"jobs/{session_key}/retries.json"


def summary_key(session_key: str) -> str:
    return f"jobs/{session_key}/summary.json"


def callback_key(session_key: str) -> str:
    return f"jobs/{session_key}/callback.json"


CALLBACKS_DUE = "callbacks/due/"


def callback_due_key(session_key: str) -> str:
    return CALLBACKS_DUE + session_key


def log_key(session_key: str, index: int) -> str:
    return f"jobs/{session_key}/logs/{index}.log"


def lock_key(bucket: str, prefix: str, hla_class) -> str:
    digest = hashlib.sha256(f"{bucket}\0{prefix}\0{hla_class}".encode()).hexdigest()[:32]
    return f"locks/{digest}.json"


def index_cache_key(kind: str, name: str) -> str:
    return f"cache/{kind}/{name}.tar.gz"


# The job's MultiQC report, under its results prefix (workers.program.jobqc builds it)
MULTIQC_REPORT = "multiqc/multiqc_report.html"


def results_prefix(prefix: str, session_key: str, sample: str | None = None) -> str:
    base = f"{prefix.rstrip('/')}/results/{session_key}/"
    return base + (f"{sample}/" if sample else "")


def shards_prefix(session_key: str, sample: str | None = None) -> str:
    base = f"jobs/{session_key}/shards/"
    return base + (f"{sample}/" if sample else "")


def shard_key(session_key: str, sample: str, name: str) -> str:
    """A sharded sample's work file: `split.json`, `shard-007_R1.fastq.gz`, `shard-007.bam`."""
    return shards_prefix(session_key, sample) + name
