"""The one function that writes a worker's state: its EC2 tags and its S3 record, together."""

from __future__ import annotations

import logging
from typing import Any

from gems import tags as T
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from gems.records import worker_key
from gems.states import SampleStatus, WorkerStatus

log = logging.getLogger(__name__)


def new_worker_record(session_key: str, index: int, instance_id: str, samples: list[str]) -> dict[str, Any]:
    now = T.now_iso()
    return {
        "session_key": session_key,
        "instance_index": index,
        "instance_id": instance_id,
        "status": WorkerStatus.PENDING.value,
        "step": "",
        "reason": "",
        "started": now,
        "updated": now,
        "samples": {
            s: {"status": SampleStatus.QUEUED.value, "step": "", "reason": "", "steps": {}} for s in samples
        },
    }


def record_status(
    ec2,
    s3,
    *,
    state_bucket: str,
    record: dict[str, Any],
    status: WorkerStatus | None = None,
    step: str | None = None,
    reason: str | None = None,
    sample: str | None = None,
    sample_status: SampleStatus | None = None,
    sample_fields: dict | None = None,
    write_s3: bool = True,
    version: str | None = None,
) -> str | None:
    """Apply a change to a worker record and write it through: S3 first (durable), then tags.

    Tags are best effort (an instance may be going away); the S3 record is not. `version` is the
    ETag of the record as the caller last read or wrote it ("" : it had none): the write then
    happens only if nobody wrote in between, else ConflictError and neither S3 nor the tags
    change. The worker and the service (stopping or losing it) both write this way, so a
    worker's last heartbeat can never undo a STOPPED, nor a stop a COMPLETE. Returns the new ETag.
    """
    now = T.now_iso()
    if status is not None:
        record["status"] = WorkerStatus(status).value
    if step is not None:
        record["step"] = step
    if reason is not None:
        record["reason"] = reason
    if sample is not None:
        entry = record["samples"].setdefault(sample, {"status": SampleStatus.QUEUED.value, "steps": {}})
        if sample_status is not None:
            entry["status"] = SampleStatus(sample_status).value
        entry.update(sample_fields or {})
    record["updated"] = now
    done = sum(1 for s in record["samples"].values() if SampleStatus(s["status"]).finished)
    etag = None
    if write_s3:
        key = worker_key(record["session_key"], record["instance_index"])
        guard = {} if version is None else {"if_match": version} if version else {"if_none_match": True}
        etag = S3.put_json(s3, state_bucket, key, record, **guard)["ETag"]
    tags = {
        T.STATUS: record["status"],
        T.STEP: T.clean_value(record["step"]) or "-",
        T.UPDATED: now,
        T.HEARTBEAT: now,
        T.PROGRESS: f"{done}/{len(record['samples'])}",
    }
    if record["reason"]:
        tags[T.REASON] = T.clean_value(record["reason"])
    try:
        EC2.create_tags(ec2, [record["instance_id"]], tags)
    except Exception as exc:  # noqa: BLE001 - the S3 record is the durable truth
        log.warning("could not tag %s: %s", record["instance_id"], exc)
    return etag


def heartbeat(ec2, instance_id: str) -> None:
    EC2.create_tags(ec2, [instance_id], {T.HEARTBEAT: T.now_iso()})
