"""Executing a job's launch plan: manifests, RunInstances per worker (spot with its on-demand
fallback), and what each launch gave written into the job record. Submission and relaunch
both go through here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from gems import records, sharding
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from gems.plan import ReadPair, WorkerLaunch
from gems.tags import now_iso


def write_manifests(
    s3,
    state_bucket: str,
    session_key: str,
    job_bucket: str,
    workers: list[WorkerLaunch],
    pairs: dict,
    shards: dict[str, int] | None = None,
) -> None:
    """Each worker's units, their read keys (a shard unit has none) and the shard count of each
    sharded sample among them, before its instance exists."""
    for w in workers:
        mine = {sharding.parse(u).sample for u in w.samples}
        manifest = {
            "session_key": session_key,
            "index": w.index,
            "bucket": job_bucket,
            "samples": {s: [_pair(p) for p in pairs.get(s, [])] for s in w.samples},
            "shards": {s: n for s, n in (shards or {}).items() if s in mine},
        }
        S3.put_json(s3, state_bucket, w.manifest_key, manifest)


def _pair(p: ReadPair | dict) -> dict:
    return p if isinstance(p, dict) else asdict(p)


def launch_all(ec2, workers: list[WorkerLaunch]) -> tuple[dict[int, EC2.Launched], Exception | None]:
    """Launch every worker in parallel; (what launched, by index; the first error, if any)."""

    def one(w: WorkerLaunch):
        return w.index, EC2.launch(ec2, w.request)

    launched: dict[int, EC2.Launched] = {}
    error: Exception | None = None
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(workers)))) as pool:
        for fut in [pool.submit(one, w) for w in workers]:
            try:
                index, got = fut.result()
                launched[index] = got
            except Exception as exc:  # noqa: BLE001 - collected; the caller undoes the launch
                error = error or exc
    return launched, error


def record_launches(job: records.JobRecord, launched: dict[int, EC2.Launched]) -> None:
    """Each planned worker's instance, capacity as bought, and launch time, in the job record."""
    now = now_iso()
    for w in job.workers:
        got = launched.get(w.index)
        if got is not None and not w.instance_id:
            w.instance_id, w.capacity, w.capacity_note = got.instance_id, got.capacity.value, got.note
            w.launched, w.instance_type = now, got.instance_type
