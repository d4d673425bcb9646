"""The one function that writes a worker's state: its EC2 tags and its S3 record, together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gems.tags
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from gems.records import WorkerRecord
from gems.states import SampleStatus, WorkerStatus

log = logging.getLogger(__name__)


def new_worker_record(session_key: str, index: int, instance_id: str, samples: list[str]) -> WorkerRecord:
    return WorkerRecord.new(session_key, index, instance_id, samples, gems.tags.now_iso())


def record_status(
    ec2,
    s3,
    *,
    state_bucket: str,
    record: WorkerRecord,
    status: WorkerStatus | None = None,
    step: str | None = None,
    reason: str | None = None,
    sample: str | None = None,
    sample_status: SampleStatus | None = None,
    sample_fields: dict[str, Any] | None = None,
    fail_unfinished: bool = False,
    version: str | None = None,
    tags: bool = True,
    tag_attempts: int = 6,
    untagged: Callable[[], None] | None = None,
) -> str | None:
    """Apply a change to a worker record (`WorkerRecord.set_status`) and write it through: S3
    first (durable), then tags.

    Tags are best effort (an instance may be going away); the S3 record is not. With `tags`
    False only the record is written: a worker's step changes often, and reach its tags within
    the fleet's CreateTags budget (gems.tagrate) instead; a worker tries them once
    (`tag_attempts`) and, throttled, is told by `untagged` to write them again later (its
    beacon) rather than wait. `version` is the
    ETag of the record as the caller last read or wrote it ("" : it had none): the write then
    happens only if nobody wrote in between, else ConflictError and neither S3 nor the tags
    change. The worker and the service (stopping or losing it) both write this way, so a
    worker's last heartbeat can never undo a STOPPED, nor a stop a COMPLETE. Returns the new ETag.
    """
    now = gems.tags.now_iso()
    record.set_status(
        now, status=status, step=step, reason=reason, sample=sample, sample_status=sample_status,
        sample_fields=sample_fields, fail_unfinished=fail_unfinished,
    )  # fmt: skip
    guard = {} if version is None else {"if_match": version} if version else {"if_none_match": True}
    etag = S3.put_json(s3, state_bucket, record.key, record.to_dict(), **guard)["ETag"]
    if not tags:
        return etag
    try:
        EC2.create_tags(ec2, [record.instance_id], state_tags(record, now), attempts=tag_attempts)
    except Exception as exc:  # noqa: BLE001 - the S3 record is the durable truth
        log.warning("could not tag %s: %s", record.instance_id, exc)
        if untagged is not None:
            untagged()
    return etag


def state_tags(record: WorkerRecord, now: str) -> dict[str, str]:
    """What a worker's tags say of its record."""
    values = {
        gems.tags.STATUS: record.status.value,
        gems.tags.STEP: gems.tags.clean_value(record.step) or "-",
        gems.tags.UPDATED: now,
        gems.tags.HEARTBEAT: now,
        gems.tags.PROGRESS: record.progress,
    }
    if record.reason:
        values[gems.tags.REASON] = gems.tags.clean_value(record.reason)
    if record.status.finished:
        values[gems.tags.ENDED] = record.status.value
    return values


def tag_state(ec2, record: WorkerRecord) -> None:
    """The record's state in its worker's tags again, once (a write that was throttled)."""
    EC2.create_tags(ec2, [record.instance_id], state_tags(record, gems.tags.now_iso()), attempts=1)


def record_progress(ec2, instance_id: str, step: str) -> None:
    """Which step runs and how far it has got, in the tags only: a step's percentage changes
    every few seconds on every worker of a fleet, and its record (and so every reader's cache of
    it) need not. One attempt: the next write supersedes it. A change of a worker's or a
    sample's state goes through record_status."""
    now = gems.tags.now_iso()
    tags = {
        gems.tags.STEP: gems.tags.clean_value(step) or "-",
        gems.tags.UPDATED: now,
        gems.tags.HEARTBEAT: now,
    }
    EC2.create_tags(ec2, [instance_id], tags, attempts=1)


def heartbeat(ec2, instance_id: str) -> None:
    EC2.create_tags(ec2, [instance_id], {gems.tags.HEARTBEAT: gems.tags.now_iso()}, attempts=1)
