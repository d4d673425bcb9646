"""Job, worker and sample states. Everything that stores a state goes through these Enums."""

from __future__ import annotations

from enum import StrEnum


class WorkerStatus(StrEnum):
    PENDING = "PENDING"  # launched, user-data not yet reporting
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"  # stopped by a user before it finished
    # Ended by the platform, not by the analysis: the service relaunches its unfinished samples
    # on a new instance (a system retry) while the job's budget lasts, else records it FAILED.
    INTERRUPTED = "INTERRUPTED"  # EC2 reclaimed its spot instance (the two-minute notice)
    LOST = "LOST"  # its instance vanished, powered off early or went silent

    @property
    def finished(self) -> bool:
        """This worker does nothing more (its record is final unless the service ends it)."""
        return self is not WorkerStatus.PENDING and self is not WorkerStatus.RUNNING

    @property
    def awaits_relaunch(self) -> bool:
        """Finished by the platform, so its samples are owed a system retry."""
        return self in (WorkerStatus.INTERRUPTED, WorkerStatus.LOST)


class SampleStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"  # its worker was interrupted or lost first: a later attempt runs it

    @property
    def finished(self) -> bool:
        """Nothing more happens to it in this worker's record."""
        return self in (SampleStatus.COMPLETE, SampleStatus.FAILED, SampleStatus.INTERRUPTED)

    @property
    def done(self) -> bool:
        """Counted as done in a job's progress (an interrupted sample is still owed)."""
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


class CallbackEvent(StrEnum):
    """Why a job's callback was sent (X-Gems-Event)."""

    STATUS = "status"  # its overall status changed
    FINISHED = "finished"  # nothing more will run; sent once, with the final status


class DeliveryOutcome(StrEnum):
    """How a callback's last attempt went."""

    DELIVERED = "delivered"  # the receiver answered 2xx
    RETRYING = "retrying"  # it failed; tried again after a backoff
    GAVE_UP = "gave_up"  # it failed until GEMS_CALLBACK_RETRY_S ran out


def overall_status(workers: list[WorkerStatus]) -> JobStatus:
    """Derive a job's status from its current workers (a worker replaced by a relaunch is not
    one): any FAILED wins, then STOPPED, then all COMPLETE; a worker owed a relaunch keeps the
    job RUNNING."""
    if not workers:
        return JobStatus.PENDING
    if any(w is WorkerStatus.FAILED for w in workers):
        return JobStatus.FAILED
    if any(w.awaits_relaunch for w in workers):
        return JobStatus.RUNNING
    if all(w.finished for w in workers) and any(w is WorkerStatus.STOPPED for w in workers):
        return JobStatus.STOPPED
    if all(w is WorkerStatus.COMPLETE for w in workers):
        return JobStatus.COMPLETE
    if all(w is WorkerStatus.PENDING for w in workers):
        return JobStatus.PENDING
    return JobStatus.RUNNING


def settled(workers: list[WorkerStatus]) -> bool:
    """Nothing more will run: every current worker finished and none is owed a relaunch."""
    return all(w.finished and not w.awaits_relaunch for w in workers)
