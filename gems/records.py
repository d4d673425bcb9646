"""The durable job record in S3, which outlives the instances (EC2 forgets terminated ones).

Every object's key is made in gems.statekeys (docs/state-bucket.md tables the whole bucket).

The two records with states are types here (rq's `Job`): `JobRecord` (job.json, with one
`WorkerPlan` per worker) and `WorkerRecord` (workers/<i>.json, with one `SampleRecord` per
sample). Each owns its key and its JSON shape (`to_dict`/`from_dict`, unknown fields kept), and
every state change of either goes through its one `set_status`; `gems.status.record_status`
writes a worker's change through to S3 and its tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gems.aws import s3 as S3
from gems.safetext import without_local_paths
from gems.statekeys import job_key, summary_key, worker_index, worker_key, workers_prefix
from gems.states import SampleStatus, WorkerStatus


def progress(statuses: Iterable[SampleStatus]) -> str:
    """Samples finished / total, e.g. "1/3": the one count the tags, the views and the CLI show."""
    seen = list(statuses)
    return f"{sum(1 for s in seen if s.done)}/{len(seen)}"


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
        "session_key", "instance_index", "instance_id", "samples", "status", "step", "reason", "started", "updated",
    )  # fmt: skip

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
        yet finished ends with `reason`: INTERRUPTED when the platform took the worker (owed a
        relaunch), else FAILED. Reasons are kept without the worker's local paths: every job
        view shows them."""
        if reason is not None:
            reason = without_local_paths(reason)
        if sample_fields and isinstance(sample_fields.get("reason"), str):
            sample_fields = dict(sample_fields, reason=without_local_paths(sample_fields["reason"]))
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
            # A worker the platform took leaves its samples to a later attempt; any other end fails them.
            ended = SampleStatus.INTERRUPTED if self.status.awaits_relaunch else SampleStatus.FAILED
            for entry in self.samples.values():
                if not entry.status.finished:
                    entry.status, entry.reason = ended, reason or ""
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
    attempt: int = 1  # 2, 3, ... when it reruns what a lost or interrupted worker left
    replaces: int | None = None  # that worker's index
    capacity: str = ""  # as launched: spot or on-demand
    capacity_note: str = ""  # why not what the job asked for (spot refused)
    launched: str = ""  # when RunInstances answered
    instance_type: str = ""
    volume: dict | None = None  # its root volume as planned (gems.volumes.Volume); a relaunch keeps it

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "samples": self.samples, "manifest": self.manifest}
        body["instance_id"] = self.instance_id
        if self.status is not None:
            body["status"], body["reason"] = self.status.value, self.reason
        body |= {"attempt": self.attempt, "capacity": self.capacity, "launched": self.launched}
        if self.instance_type:
            body["instance_type"] = self.instance_type
        if self.replaces is not None:
            body["replaces"] = self.replaces
        if self.capacity_note:
            body["capacity_note"] = self.capacity_note
        if self.volume is not None:
            body["volume"] = self.volume
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerPlan:
        status = data.get("status")
        replaces = data.get("replaces")
        return cls(
            index=int(data["index"]),
            samples=list(data["samples"]),
            manifest=data.get("manifest", ""),
            instance_id=data.get("instance_id", ""),
            status=WorkerStatus(status) if status else None,
            reason=data.get("reason", ""),
            attempt=int(data.get("attempt", 1)),
            replaces=int(replaces) if replaces is not None else None,
            capacity=data.get("capacity", ""),
            capacity_note=data.get("capacity_note", ""),
            launched=data.get("launched", ""),
            instance_type=data.get("instance_type", ""),
            volume=dict(data["volume"]) if isinstance(data.get("volume"), dict) else None,
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
    capacity: str = ""  # what the job asked for (each worker says what it got)
    system_retries: int = 0  # relaunches each lost or interrupted worker's work may have
    max_cost_usd: float | None = None  # the job's cost cap: no relaunch past it, and the job stops
    callback_url: str = ""  # POSTed the job's JSON on each status change (gems.callbacks.notify)
    shards: dict[str, int] = field(default_factory=dict)  # the sharded samples' shard counts (gems.sharding)
    shards_requested: int | None = None  # what the request asked for (None: by size), for a retry
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = (
        "session_key", "bucket", "prefix", "hla_class", "created", "workers", "reference", "options",
        "submitted_by", "idempotency_key", "capacity", "system_retries", "max_cost_usd", "callback_url",
        "shards", "shards_requested",
    )  # fmt: skip

    @property
    def key(self) -> str:
        return job_key(self.session_key)

    def replaced(self) -> set[int]:
        """Indexes of workers a relaunch took over from: no longer part of the job's status."""
        return {w.replaces for w in self.workers if w.replaces is not None}

    def set_launch_failed(self, reason: str) -> None:
        for w in self.workers:
            w.status, w.reason = WorkerStatus.FAILED, reason

    def to_dict(self) -> dict[str, Any]:
        return (
            {
                "session_key": self.session_key,
                "bucket": self.bucket,
                "prefix": self.prefix,
                "hla_class": self.hla_class,
                "reference": self.reference,
                "options": self.options,
                "created": self.created,
                "submitted_by": self.submitted_by,
                "idempotency_key": self.idempotency_key,
                "capacity": self.capacity,
                "system_retries": self.system_retries,
                "max_cost_usd": self.max_cost_usd,
                "callback_url": self.callback_url,
                "workers": [w.to_dict() for w in self.workers],
            }
            | self._sharding()
            | self.extra
        )

    def _sharding(self) -> dict[str, Any]:
        """Written only for a job that asked for shards or got some: older records stay as they were."""
        if not self.shards and self.shards_requested is None:
            return {}
        return {"shards": self.shards, "shards_requested": self.shards_requested}

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
            capacity=data.get("capacity", ""),
            system_retries=int(data.get("system_retries", 0)),
            max_cost_usd=data.get("max_cost_usd"),
            callback_url=data.get("callback_url") or "",
            shards={str(k): int(v) for k, v in (data.get("shards") or {}).items()},
            shards_requested=data.get("shards_requested"),
            extra=_split(data, cls._FIELDS),
        )

    def write(self, s3, bucket: str, *, first: bool = False, version: str | None = None) -> str:
        """`first`: only if no record exists (If-None-Match), as at submission; `version`: only
        over that ETag (If-Match), as a relaunch does. Returns the new ETag."""
        guard = {"if_match": version} if version else {"if_none_match": first}
        return S3.put_json(s3, bucket, self.key, self.to_dict(), **guard)["ETag"]


def read_job(s3, bucket: str, session_key: str) -> JobRecord | None:
    data = S3.get_json(s3, bucket, job_key(session_key))
    return JobRecord.from_dict(data) if data else None


def read_job_version(s3, bucket: str, session_key: str) -> tuple[JobRecord | None, str]:
    """The job record and its ETag, for a write that must not cross another (a relaunch)."""
    data, etag = S3.get_json_etag(s3, bucket, job_key(session_key))
    return (JobRecord.from_dict(data) if data else None), etag or ""


def read_workers(
    s3, bucket: str, session_key: str, n_workers: int, only: list[int] | None = None
) -> list[WorkerRecord | None]:
    """Every worker's record (or those of `only`, in its order), read 16 at a time: one GET each,
    and a 67-worker job read one after another would cost seconds of S3 latency per view."""
    keys = [worker_key(session_key, i) for i in (range(n_workers) if only is None else only)]
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(keys)))) as pool:
        found = list(pool.map(lambda key: S3.get_json(s3, bucket, key), keys))
    return [WorkerRecord.from_dict(data) if data else None for data in found]


def worker_versions(s3, bucket: str, session_key: str) -> dict[int, str]:
    """Every worker record's ETag, from one listing (a page per 1,000 workers): which records
    changed since a reader last read them, without reading any."""
    out = {}
    for obj in S3.list_keys(s3, bucket, workers_prefix(session_key)):
        if (i := worker_index(session_key, obj["Key"])) is not None:
            out[i] = obj["ETag"]
    return out


def read_workers_versioned(
    s3, bucket: str, session_key: str, only: list[int]
) -> list[tuple[WorkerRecord | None, str | None]]:
    """The records of `only`, each with the ETag it was read at, 16 at a time."""
    keys = [worker_key(session_key, i) for i in only]
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(keys)))) as pool:
        found = list(pool.map(lambda key: S3.get_json_etag(s3, bucket, key), keys))
    return [(WorkerRecord.from_dict(data) if data else None, etag) for data, etag in found]


def read_summary(s3, bucket: str, session_key: str) -> dict | None:
    return S3.get_json(s3, bucket, summary_key(session_key))


def list_session_keys(s3, bucket: str) -> list[str]:
    return [p.split("/")[1] for p in S3.list_prefixes(s3, bucket, "jobs/")]
