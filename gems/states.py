"""Job, worker and sample states. Everything that stores a state goes through these Enums."""

from __future__ import annotations

from enum import StrEnum


class WorkerStatus(StrEnum):
    PENDING = "PENDING"  # launched, user-data not yet reporting
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"  # stopped by a user before it finished

    @property
    def finished(self) -> bool:
        return self in (WorkerStatus.COMPLETE, WorkerStatus.FAILED, WorkerStatus.STOPPED)


class SampleStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (SampleStatus.COMPLETE, SampleStatus.FAILED)


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.STOPPED)


def overall_status(workers: list[WorkerStatus]) -> JobStatus:
    """Derive a job's status from its workers: any FAILED wins, then STOPPED, then all COMPLETE."""
    if not workers:
        return JobStatus.PENDING
    if any(w is WorkerStatus.FAILED for w in workers):
        return JobStatus.FAILED
    if all(w.finished for w in workers) and any(w is WorkerStatus.STOPPED for w in workers):
        return JobStatus.STOPPED
    if all(w is WorkerStatus.COMPLETE for w in workers):
        return JobStatus.COMPLETE
    if all(w is WorkerStatus.PENDING for w in workers):
        return JobStatus.PENDING
    return JobStatus.RUNNING
