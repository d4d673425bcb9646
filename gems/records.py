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

The two records with states are types here (rq's `Job`): `JobRecord` (job.json, with one
`WorkerPlan` per worker) and `WorkerRecord` (workers/<i>.json, with one `SampleRecord` per
sample). Each owns its key and its JSON shape (`to_dict`/`from_dict`, unknown fields kept), and
every state change of either goes through its one `set_status`; `gems.status.record_status`
writes a worker's change through to S3 and its tags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gems.aws import s3 as S3
from gems.states import SampleStatus, WorkerStatus


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


def progress(statuses: Iterable[SampleStatus]) -> str:
    """Samples finished / total, e.g. "1/3": the one count the tags, the views and the CLI show."""
    seen = list(statuses)
    return f"{sum(1 for s in seen if s.finished)}/{len(seen)}"


def _split(data: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in known}


@dataclass
class SampleRecord:
    """One sample in its worker's record; `extra` keeps what the worker adds (results, summary)."""

    status: SampleStatus = SampleStatus.QUEUED
    step: str = ""
    reason: str = ""
    steps: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = ("status", "step", "reason", "steps")

    def to_dict(self) -> dict[str, Any]:
        body = {"status": self.status.value, "step": self.step, "reason": self.reason, "steps": self.steps}
        return body | self.extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleRecord:
        return cls(
            status=SampleStatus(data.get("status", SampleStatus.QUEUED.value)),
            step=data.get("step", ""),
            reason=data.get("reason", ""),
            steps=dict(data.get("steps") or {}),
            extra=_split(data, cls._FIELDS),
        )


@dataclass
class WorkerRecord:
    """workers/<i>.json: one worker's state and its samples', written by the worker and, when it
    ends or loses the worker, by the service (both If-Match, through gems.status.record_status)."""

    session_key: str
    instance_index: int
    instance_id: str
    samples: dict[str, SampleRecord]
    status: WorkerStatus = WorkerStatus.PENDING
    step: str = ""
    reason: str = ""
    started: str = ""
    updated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = (
        "session_key",
        "instance_index",
        "instance_id",
        "samples",
        "status",
        "step",
        "reason",
        "started",
        "updated",
    )

    @classmethod
    def new(
        cls, session_key: str, index: int, instance_id: str, samples: list[str], now: str
    ) -> WorkerRecord:
        return cls(
            session_key, index, instance_id, {s: SampleRecord() for s in samples}, started=now, updated=now
        )

    @property
    def key(self) -> str:
        return worker_key(self.session_key, self.instance_index)

    @property
    def progress(self) -> str:
        return progress(s.status for s in self.samples.values())

    def failed_samples(self) -> list[str]:
        return [name for name, s in self.samples.items() if s.status is SampleStatus.FAILED]

    def set_status(
        self,
        now: str,
        *,
        status: WorkerStatus | None = None,
        step: str | None = None,
        reason: str | None = None,
        sample: str | None = None,
        sample_status: SampleStatus | None = None,
        sample_fields: dict[str, Any] | None = None,
        fail_unfinished: bool = False,
    ) -> None:
        """The one change of a worker's or a sample's state. `fail_unfinished`: every sample not
        yet finished becomes FAILED with `reason` (a worker lost with its samples)."""
        if status is not None:
            self.status = WorkerStatus(status)
        if step is not None:
            self.step = step
        if reason is not None:
            self.reason = reason
        if sample is not None:
            entry = self.samples.setdefault(sample, SampleRecord())
            if sample_status is not None:
                entry.status = SampleStatus(sample_status)
            for name, value in (sample_fields or {}).items():
                if name in SampleRecord._FIELDS[1:]:
                    setattr(entry, name, value)
                else:
                    entry.extra[name] = value
        if fail_unfinished:
            for entry in self.samples.values():
                if not entry.status.finished:
                    entry.status, entry.reason = SampleStatus.FAILED, reason or ""
        self.updated = now

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_key": self.session_key,
            "instance_index": self.instance_index,
            "instance_id": self.instance_id,
            "status": self.status.value,
            "step": self.step,
            "reason": self.reason,
            "started": self.started,
            "updated": self.updated,
            "samples": {name: s.to_dict() for name, s in self.samples.items()},
        } | self.extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerRecord:
        return cls(
            session_key=data["session_key"],
            instance_index=int(data["instance_index"]),
            instance_id=data.get("instance_id", ""),
            samples={name: SampleRecord.from_dict(s) for name, s in (data.get("samples") or {}).items()},
            status=WorkerStatus(data.get("status", WorkerStatus.PENDING.value)),
            step=data.get("step", ""),
            reason=data.get("reason", ""),
            started=data.get("started", ""),
            updated=data.get("updated", ""),
            extra=_split(data, cls._FIELDS),
        )

    @classmethod
    def read(cls, s3, bucket: str, session_key: str, index: int) -> tuple[WorkerRecord | None, str]:
        """The record and its ETag ("" when there is none yet)."""
        data, etag = S3.get_json_etag(s3, bucket, worker_key(session_key, index))
        return (cls.from_dict(data) if data else None), etag or ""


@dataclass
class WorkerPlan:
    """One worker as the job record plans it: its samples, its manifest, and its instance once
    launched (status and reason only when the launch itself failed)."""

    index: int
    samples: list[str]
    manifest: str
    instance_id: str = ""
    status: WorkerStatus | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "samples": self.samples, "manifest": self.manifest}
        body["instance_id"] = self.instance_id
        if self.status is not None:
            body["status"], body["reason"] = self.status.value, self.reason
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerPlan:
        status = data.get("status")
        return cls(
            index=int(data["index"]),
            samples=list(data["samples"]),
            manifest=data.get("manifest", ""),
            instance_id=data.get("instance_id", ""),
            status=WorkerStatus(status) if status else None,
            reason=data.get("reason", ""),
        )


@dataclass
class JobRecord:
    """job.json: the request and the plan, written by the API at submission and once more with
    the launched instance ids (or the launch's failure)."""

    session_key: str
    bucket: str
    prefix: str
    hla_class: Any
    created: str
    workers: list[WorkerPlan]
    reference: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    submitted_by: str | None = None
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = (
        "session_key", "bucket", "prefix", "hla_class", "created", "workers", "reference", "options",
        "submitted_by", "idempotency_key",
    )  # fmt: skip

    @property
    def key(self) -> str:
        return job_key(self.session_key)

    def set_launch_failed(self, reason: str) -> None:
        for w in self.workers:
            w.status, w.reason = WorkerStatus.FAILED, reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_key": self.session_key,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "hla_class": self.hla_class,
            "reference": self.reference,
            "options": self.options,
            "created": self.created,
            "submitted_by": self.submitted_by,
            "idempotency_key": self.idempotency_key,
            "workers": [w.to_dict() for w in self.workers],
        } | self.extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        return cls(
            session_key=data["session_key"],
            bucket=data["bucket"],
            prefix=data["prefix"],
            hla_class=data.get("hla_class"),
            created=data["created"],
            workers=[WorkerPlan.from_dict(w) for w in data["workers"]],
            reference=data.get("reference"),
            options=dict(data.get("options") or {}),
            submitted_by=data.get("submitted_by"),
            idempotency_key=data.get("idempotency_key"),
            extra=_split(data, cls._FIELDS),
        )

    def write(self, s3, bucket: str, *, first: bool = False) -> None:
        """`first`: only if no record exists (If-None-Match), as at submission."""
        S3.put_json(s3, bucket, self.key, self.to_dict(), if_none_match=first)


def read_job(s3, bucket: str, session_key: str) -> JobRecord | None:
    data = S3.get_json(s3, bucket, job_key(session_key))
    return JobRecord.from_dict(data) if data else None


def read_workers(s3, bucket: str, session_key: str, n_workers: int) -> list[WorkerRecord | None]:
    found = (S3.get_json(s3, bucket, worker_key(session_key, i)) for i in range(n_workers))
    return [WorkerRecord.from_dict(data) if data else None for data in found]


def read_summary(s3, bucket: str, session_key: str) -> dict | None:
    return S3.get_json(s3, bucket, summary_key(session_key))


def list_session_keys(s3, bucket: str) -> list[str]:
    return [p.split("/")[1] for p in S3.list_prefixes(s3, bucket, "jobs/")]
