"""The service's side of sharded samples (gems.sharding): what it checks before launching one,
how the job view shows its shards, and the work files it removes when the job ends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gems import sharding, statekeys
from gems.aws import s3 as S3
from gems.config import Config
from gems.errors import ValidationError
from gems.plan import JobPlan, JobRequest, inputs, plan_job
from gems.states import SampleStatus


def plan(s3, config: Config, request: JobRequest, pairs: dict, **keys: str) -> JobPlan:
    """`gems.plan.plan_job`, where shards chosen by each sample's size give way to one worker per
    sample when the reference is not indexed in S3 (that worker indexes it for the next job)."""
    planned = plan_job(config, request, pairs, **keys)
    if planned.shards and not reference_indexed(s3, config, request, asked=request.shards):
        planned = plan_job(config, replace(request, shards=1), pairs, **keys)
    return planned


def reference_indexed(s3, config: Config, request: JobRequest, *, asked: int | None) -> bool:
    """Whether the reference's indexes are in S3 beside it. A sharded sample's N + 1 workers all
    start from them: without them each would build a genome's minimap2 index on its own (many
    minutes, N + 1 times). Shards the request `asked` for get a 400 naming what is missing;
    shards chosen by size give way (False), and the sample runs on one worker, which indexes it."""
    try:
        check_reference_indexed(s3, config, request)
        return True
    except ValidationError:
        if asked is not None:
            raise
        return False


def check_reference_indexed(s3, config: Config, request: JobRequest) -> None:
    """ValidationError (field `reference`) unless the reference's indexes are in S3 beside it."""
    found = {f: (bucket, key) for f, bucket, key in inputs(config, request)}
    if "reference" not in found:
        raise ValidationError(
            "shards split a sample's alignment: the job needs a reference", field="reference"
        )
    bucket, key = found["reference"]
    have = {obj["Key"] for obj in S3.list_keys(s3, bucket, key + ".")}
    missing = [key + suffix for suffix in sharding.REFERENCE_INDEXES if key + suffix not in have]
    if missing:
        raise ValidationError(
            f"a sharded job's reference needs its indexes next to it in S3; missing: {', '.join(missing)}. "
            "Run any job with shards 1 on this reference once (its worker leaves them there), or upload "
            "`samtools faidx` and `minimap2 -x sr -d` output under those names",
            field="reference",
        )


def sample_shards(shards: dict[str, int], workers: Iterable[dict]) -> dict[str, dict]:
    """Per sharded sample: its shard count, and each shard's state and worker as the view reads them
    (the current worker of each unit: a relaunch replaces the one it took over from)."""
    out: dict[str, dict] = {s: {"shards": n, "units": {}} for s, n in shards.items()}
    for w in workers:
        states = w.get("sample_status") or {}
        for name in w.get("samples") or []:
            unit = sharding.parse(name)
            if unit.sample not in out:
                continue
            status = (states.get(name) or {}).get("status", SampleStatus.QUEUED.value)
            entry = {"status": status, "worker": w.get("instance_index"), "attempt": w.get("attempt", 1)}
            key = "lead" if unit.shard is None else f"{unit.shard:03d}"
            out[unit.sample]["units"][key] = entry  # a later worker (a relaunch) wins
    for view in out.values():
        units = view["units"]
        shard_states = [units[k]["status"] for k in units if k != "lead"]
        view["complete"] = sum(st == SampleStatus.COMPLETE.value for st in shard_states)
    return out


def remove_work(s3, state_bucket: str, session_key: str) -> int:
    """Delete the job's shard reads and shard BAMs (a genome's are hundreds of GB); the number removed."""
    keys = [obj["Key"] for obj in S3.list_keys(s3, state_bucket, statekeys.shards_prefix(session_key))]
    for key in keys:
        S3.delete_key(s3, state_bucket, key)
    return len(keys)
