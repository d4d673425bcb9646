"""The job as the API shows it, built from live tags or from the durable S3 records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from gems.records import JobRecord, WorkerRecord, progress
from gems.recovery import current
from gems.safetext import without_local_paths
from gems.statekeys import results_prefix
from gems.states import JobStatus, SampleStatus, WorkerStatus, overall_status, settled
from gems.tags import WorkerTags


def _age_s(stamp: str, now: datetime) -> float | None:
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    return (now - then).total_seconds()


def effective_status(status: WorkerStatus, heartbeat: str, reason: str, timeout_s: int, now: datetime):
    """A running worker that stopped sending heartbeats is LOST (owed a relaunch), not RUNNING
    forever."""
    if status.finished:
        return status, reason
    age = _age_s(heartbeat, now)
    if age is not None and age > timeout_s:
        return WorkerStatus.LOST, f"worker lost: no heartbeat for {int(age)} s (timeout {timeout_s} s)"
    return status, reason


@dataclass
class WorkerView:
    """One worker as GET /job shows it, from its live tags or from its S3 records. What only
    the records know (when and how it launched, each sample's state) is None from tags, and
    left out of the answer."""

    instance_id: str
    instance_index: int
    samples: list[str]
    status: str
    step: str
    updated: str
    progress: Any
    reason: str
    attempt: int
    replaces: int | None
    capacity: str
    capacity_note: str | None = None
    launched: str | None = None
    instance_type: str | None = None
    sample_status: dict | None = None
    volume: dict | None = None  # its root volume as planned (gems.volumes), which the cost counts

    def to_dict(self) -> dict[str, Any]:
        optional = ("capacity_note", "launched", "instance_type", "sample_status", "volume")
        return {k: v for k, v in asdict(self).items() if not (k in optional and v is None)}


def record_is_newer(shown: dict, record: WorkerRecord) -> bool:
    """Whether a worker's record says more about its step than its tags: written later, or in
    the same second with a step the tags do not report progress of (stamps are to the second)."""
    if record.updated != shown.get("updated", ""):
        return record.updated > shown.get("updated", "")
    return not str(shown.get("step", "")).startswith(record.step)


def is_settled(job: dict) -> bool:
    """Nothing more will run for this job (every current worker finished, no relaunch owed)."""
    return settled([WorkerStatus(w["status"]) for w in current(job["workers"])])


def job_view(
    *, session_key: str, bucket: str, prefix: str, hla_class: Any, created: str, views: list[WorkerView]
) -> dict[str, Any]:
    workers = [v.to_dict() for v in sorted(views, key=lambda v: v.instance_index)]
    now_on = current(workers)
    status = overall_status([WorkerStatus(w["status"]) for w in now_on])
    if status is JobStatus.PENDING and len(now_on) < len(workers):
        status = JobStatus.RUNNING  # a relaunch is booting: the job itself began long ago
    try:
        hla = int(hla_class)
    except (TypeError, ValueError):
        hla = None
    return {
        "session_key": session_key,
        "bucket": bucket,
        "prefix": prefix,
        "hla_class": hla,
        "overall_status": status.value,
        "created": created,
        "results_prefix": results_prefix(prefix, session_key),
        "workers": workers,
    }


def from_tags(workers: list[WorkerTags], samples_of, timeout_s: int, now: datetime | None = None) -> dict:
    """`samples_of(worker)` resolves a manifest when the samples did not fit in a tag."""
    now = now or datetime.now(UTC)
    first = workers[0]
    rows = []
    for w in workers:
        status, reason = effective_status(w.status, w.heartbeat or w.updated, w.reason, timeout_s, now)
        rows.append(
            WorkerView(
                instance_id=w.instance_id,
                instance_index=w.index,
                samples=w.samples if w.samples is not None else samples_of(w),
                status=status.value,
                step=w.step,
                updated=w.updated,
                progress=w.progress,
                reason=reason,
                attempt=w.attempt,
                replaces=w.replaces,
                capacity=w.capacity,
            )
        )
    return job_view(
        session_key=first.session_key,
        bucket=first.bucket,
        prefix=first.prefix,
        hla_class=first.hla_class,
        created=first.created,
        views=rows,
    )


def _launched(plan, **row: Any) -> WorkerView:
    """A worker's view with what its launch gave (the job record's WorkerPlan)."""
    return WorkerView(
        attempt=plan.attempt,
        replaces=plan.replaces,
        capacity=plan.capacity,
        capacity_note=plan.capacity_note,
        launched=plan.launched,
        instance_type=plan.instance_type,
        volume=plan.volume,
        **row,
    )


def from_records(
    job: JobRecord, worker_records: list[WorkerRecord | None], timeout_s: int, now: datetime | None = None
) -> dict:
    """The view from S3 alone, for jobs whose instances EC2 has already forgotten."""
    now = now or datetime.now(UTC)
    rows = []
    for plan in job.workers:
        rec = worker_records[plan.index] if plan.index < len(worker_records) else None
        if rec is None:
            # The worker never reported: judge it by its launch (or the submission) time.
            since = plan.launched or job.created
            status, reason = effective_status(
                plan.status or WorkerStatus.PENDING, since, plan.reason, timeout_s, now
            )
            rows.append(
                _launched(
                    plan,
                    instance_id=plan.instance_id,
                    instance_index=plan.index,
                    samples=plan.samples,
                    status=status.value,
                    step="",
                    updated=since,
                    progress=progress(SampleStatus.QUEUED for _ in plan.samples),
                    reason=reason,
                )
            )
            continue
        status, reason = effective_status(rec.status, rec.updated, rec.reason, timeout_s, now)
        rows.append(
            _launched(
                plan,
                instance_id=rec.instance_id,
                instance_index=rec.instance_index,
                samples=list(rec.samples),
                status=status.value,
                step=rec.step,
                updated=rec.updated,
                progress=rec.progress,
                reason=reason,
                sample_status=rec.to_dict()["samples"],
            )
        )
    return job_view(
        session_key=job.session_key,
        bucket=job.bucket,
        prefix=job.prefix,
        hla_class=job.hla_class,
        created=job.created,
        views=rows,
    )


# What anyone may read of a sample when reads are open: its state, never its figures or where
# its results are (those are the owner's, through the same route with their key).
PUBLIC_SAMPLE_FIELDS = ("status", "step", "reason", "steps")


def public(job: dict) -> dict:
    """The job as shown to a caller who is not its owner or an admin (reasons without local
    paths, which records written before they were cut may still hold)."""
    out = dict(job, workers=[dict(w) for w in job.get("workers") or []])
    for w in out["workers"]:
        if w.get("reason"):
            w["reason"] = without_local_paths(w["reason"])
        if "sample_status" in w:
            w["sample_status"] = {s: _public_sample(st or {}) for s, st in (w["sample_status"] or {}).items()}
    return out


def _public_sample(state: dict) -> dict:
    out = {k: v for k, v in state.items() if k in PUBLIC_SAMPLE_FIELDS}
    if isinstance(out.get("reason"), str):
        out["reason"] = without_local_paths(out["reason"])
    return out
