"""How a job's workers end: stopped by a user, lost or interrupted and relaunched, finished.

`Lifecycle` is the part of gems.jobs.service.JobService that ends things, one of its collaborators: it
is given the config, the clients, the tag snapshot, the callbacks, the price book and the
service's read path (`JobReads`). Every path ends in `finish`, which writes the summary once
nothing more will run and frees the bucket/prefix lock:

  user stop / the last worker's POST /stop_instances -> terminate -> finish
  runner or sweep finds a worker gone or silent       -> mark_lost -> recover -> finish
  a worker's spot interruption notice (POST /relaunch_instances)    -> recover -> finish
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

import gems.tags
from gems import records, recovery, statekeys
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from gems.billing.cost import job_cost
from gems.deploy.wheel import worker_code
from gems.errors import ConflictError, ForbiddenError, NotFoundError
from gems.jobs import jobview, shards
from gems.jobs.launch import launch_all, record_launches, write_manifests
from gems.plan import JobRequest, plan_worker
from gems.states import WorkerStatus
from gems.status import new_worker_record, record_status
from gems.volumes import Volume

if TYPE_CHECKING:
    from gems.billing.pricebook import PriceBook
    from gems.callbacks.notify import Callbacks
    from gems.config import Config
    from gems.jobs.readcache import TagSnapshot

log = logging.getLogger(__name__)


class _Flight:
    """One job's recovery in progress in this process, the only one of that job here: callers
    arriving meanwhile mark it to look once more and wait for it, so a wave of interrupted
    workers asking together costs two passes, not one each. Across processes the job record's
    If-Match decides."""

    def __init__(self) -> None:
        self.again = False
        self.done = threading.Event()


_flights: dict[str, _Flight] = {}
_flights_lock = threading.Lock()


def over_budget(job: records.JobRecord, view: dict, table: dict | None = None) -> str:
    """Why the job may spend no more (its cost reached max_cost_usd), or ""."""
    if job.max_cost_usd is None:
        return ""
    spent = job_cost(view["workers"], table=table)["usd"]
    if spent < job.max_cost_usd:
        return ""
    return f"the job's cost (${spent:.2f}) reached its max_cost_usd (${job.max_cost_usd:.2f})"


class JobReads(Protocol):
    """What the lifecycle reads through the jobs service."""

    def from_s3(self, session_key: str) -> dict | None: ...  # the job from its records

    def get(self, session_key: str) -> dict: ...  # the job from its live tags


class Lifecycle:
    def __init__(
        self,
        config: Config,
        ec2: Any,
        s3: Any,
        keys: Any,  # gems.auth: worker tokens
        tags: TagSnapshot,
        callbacks: Callbacks,
        pricebook: PriceBook,
        reads: JobReads,
    ):
        self.config = config
        self.ec2 = ec2
        self.s3 = s3
        self.keys = keys
        self.tags = tags
        self.callbacks = callbacks
        self.pricebook = pricebook
        self.reads = reads

    # ---- stop -----------------------------------------------------------------------------
    def stop(self, session_key: str, token: str) -> dict:
        """Terminate one job's instances (never another's); unfinished workers become STOPPED.
        Once the job's summary is written (nothing more runs) this only makes sure its instances
        end: workers finishing together all ask, and each ask must stay cheap."""
        self._check_token(session_key, token)
        if done := records.read_summary(self.s3, self.config.state_bucket, session_key):
            live = EC2.read_gems_tags(self.ec2, session_key)
            EC2.terminate(
                self.ec2, [iid for iid, tags in live.items() if tags.get(gems.tags.SESSION) == session_key]
            )
            self.tags.invalidate()
            return done
        return self.terminate(session_key)

    def _check_token(self, session_key: str, token: str) -> None:
        if not self.keys.check_worker_token(session_key, token):
            raise ForbiddenError("this token does not belong to that job", field="token")

    def terminate(self, session_key: str, reason: str = "stopped before it finished") -> dict:
        """Stop a job for an authorised caller (a user with an API key, or the job's own token).
        A worker owed a relaunch is STOPPED too: a stopped job relaunches nothing."""
        job = records.read_job(self.s3, self.config.state_bucket, session_key)
        if job is None:
            raise NotFoundError(f"no job with session_key {session_key!r}", field="session_key")
        live = EC2.read_gems_tags(self.ec2, session_key)
        mine = [iid for iid, tags in live.items() if tags.get(gems.tags.SESSION) == session_key]
        replaced = job.replaced()  # their records stay as the platform left them
        for plan in job.workers:
            if plan.instance_id and plan.index not in replaced:
                self._end_worker(session_key, plan, WorkerStatus.STOPPED, reason, over_relaunch=True)
        EC2.terminate(self.ec2, mine)
        self.tags.invalidate()
        return self.finish(session_key)

    def finish(self, session_key: str) -> dict:
        """Write the summary once nothing more will run and free the bucket/prefix lock.

        Returns the summary, or {} while some worker is still going or owed a relaunch (a
        FAILED worker does not stop the others: they finish their own samples).
        """
        try:
            return self._finish(session_key)
        finally:
            self.callbacks.check(session_key)  # whatever called this may have changed the status

    def _finish(self, session_key: str) -> dict:
        view = self.reads.from_s3(session_key)
        if view and jobview.is_settled(view):
            bucket = self.config.state_bucket
            view = dict(view, finished=gems.tags.now_iso())
            view["cost"] = job_cost(view["workers"], table=self.pricebook.table(view["workers"]))
            try:
                S3.put_json(self.s3, bucket, statekeys.summary_key(session_key), view, if_none_match=True)
            except ConflictError:
                view = records.read_summary(self.s3, bucket, session_key) or view
            lock = statekeys.lock_key(view["bucket"], view["prefix"], view["hla_class"])
            held = S3.get_json(self.s3, bucket, lock)
            if held and held["session_key"] == session_key:
                S3.delete_key(self.s3, bucket, lock)
            shards.remove_work(self.s3, bucket, session_key)  # results are in the job's bucket by now
            return view
        return {}

    def _end_worker(
        self,
        session_key: str,
        plan: records.WorkerPlan,
        status: WorkerStatus,
        reason: str,
        *,
        fail_samples: bool = False,
        over_relaunch: bool = False,
    ) -> None:
        """Record an unfinished worker as ended (STOPPED, LOST or FAILED); a finished one keeps
        its state, except one owed a relaunch when `over_relaunch` (a stop, a relaunch given up).
        Written only over the version read, so a worker finishing meanwhile is never overwritten."""
        for _ in range(5):
            rec, etag = records.WorkerRecord.read(self.s3, self.config.state_bucket, session_key, plan.index)
            rec = rec or new_worker_record(session_key, plan.index, plan.instance_id, plan.samples)
            if rec.status.finished and not (over_relaunch and rec.status.awaits_relaunch):
                return
            if rec.status.awaits_relaunch and rec.reason not in reason:
                reason = f"{reason} (it was {rec.status.value}: {rec.reason})"
            try:
                record_status(
                    self.ec2, self.s3, state_bucket=self.config.state_bucket, record=rec, status=status,
                    reason=reason, fail_unfinished=fail_samples, version=etag,
                )  # fmt: skip
                return
            except ConflictError:
                continue  # the worker wrote in between: look again
        log.warning("worker %s of %s kept changing; not recorded %s", plan.index, session_key, status)

    def enforce_cost_cap(self, session_key: str) -> str:
        """Stop a running job whose cost reached its max_cost_usd (the sweep asks); the reason, or ""."""
        job = records.read_job(self.s3, self.config.state_bucket, session_key)
        view = self.reads.from_s3(session_key) if job and job.max_cost_usd is not None else None
        why = (
            over_budget(job, view, self.pricebook.table(view["workers"]))
            if job and view and not jobview.is_settled(view)
            else ""
        )
        if why:
            log.warning("job %s: %s; stopping it", session_key, why)
            self.terminate(session_key, reason=f"stopped: {why}")
        return why

    # ---- lost and interrupted workers -------------------------------------------------------
    def mark_lost(
        self, session_key: str, instance_id: str, why: str, status: WorkerStatus = WorkerStatus.LOST
    ) -> None:
        """A worker that stopped or went silent without finishing (instance runner, sweep): it is
        recorded LOST and its instance terminated, so a hung machine does not bill on; then its
        unfinished samples are relaunched while the job's system retries last. With `status`
        FAILED (the embedded runner, for a disk that outgrew its volume, where EC2 would fail the
        sample's writes) its samples are failed with `why` and not relaunched."""
        job = records.read_job(self.s3, self.config.state_bucket, session_key)
        if job is None:
            return
        for plan in job.workers:
            if plan.instance_id == instance_id:
                self._end_worker(session_key, plan, status, why, fail_samples=True)
        try:
            EC2.terminate(self.ec2, [instance_id])
        except Exception as exc:  # noqa: BLE001 - recorded LOST either way; the next sweep tries again
            log.warning("could not terminate lost worker %s: %s", instance_id, exc)
        self.tags.invalidate()
        self.recover(session_key)

    def status_changed(self, session_key: str, token: str) -> dict:
        """POST /status_changed: a worker of this job (its token) started or ended."""
        self._check_token(session_key, token)
        self.callbacks.check(session_key)
        return self.reads.get(session_key)  # the tag view: every worker calls this, so no record reads

    def relaunch_for(self, session_key: str, token: str) -> dict:
        """POST /relaunch_instances: a worker of this job (its token) was interrupted."""
        self._check_token(session_key, token)
        self.recover(session_key)
        return self.reads.get(session_key)  # the tag view: all the worker needs, without every record

    def recover(self, session_key: str) -> list[int]:
        """Relaunch what the platform took from this job (gems.recovery decides), record the rest
        FAILED, then finish if nothing more will run. Idempotent: a job already finished, or a
        worker already relaunched, is left alone. Returns the new workers' indexes (none for a
        caller whose ask was folded into a recovery already running)."""
        with _flights_lock:
            running = _flights.get(session_key)
            if running is not None:
                running.again = True
            else:
                flight = _flights[session_key] = _Flight()
        if running is not None:
            running.done.wait(timeout=300)
            return []
        new: list[int] = []
        try:
            while True:
                flight.again = False
                new += self._recover_once(session_key)
                with _flights_lock:  # no one may join between this look and the flight's end
                    if not flight.again:
                        _flights.pop(session_key, None)
                        break
        finally:
            with _flights_lock:
                if _flights.get(session_key) is flight:  # ended by an error
                    del _flights[session_key]
            flight.done.set()
        return new

    def _recover_once(self, session_key: str) -> list[int]:
        bucket = self.config.state_bucket
        if records.read_summary(self.s3, bucket, session_key):
            return []
        job, version = records.read_job_version(self.s3, bucket, session_key)
        view = self.reads.from_s3(session_key)
        if job is None or view is None:
            return []
        relaunch, give_up = recovery.decide(
            job, view["workers"], blocked=over_budget(job, view, self.pricebook.table(view["workers"]))
        )
        plans = {w.index: w for w in job.workers}
        for g in give_up:
            self._end_worker(session_key, plans[g.index], g.status, g.reason, over_relaunch=True)
        for r in relaunch:  # a worker read as lost (silent) is recorded so, and its machine ended
            self._end_worker(session_key, plans[r.replaces], WorkerStatus.LOST, r.reason, fail_samples=True)
        new = self._relaunch(job, version, relaunch) if relaunch else []
        self.tags.invalidate()
        if new:  # a relaunched job is not finished: only its callback may be owed something
            self.callbacks.check(session_key)
        else:
            self.finish(session_key)
        return new

    def _relaunch(self, job: records.JobRecord, version: str, relaunch: list[recovery.Relaunch]) -> list[int]:
        bucket = self.config.state_bucket
        request = JobRequest(
            bucket=job.bucket,
            prefix=job.prefix,
            hla_class=job.hla_class,
            reference=job.reference,
            options=job.options,
            capacity=job.capacity or None,
        )
        token = self.keys.worker_token(job.session_key)
        config = worker_code(self.config, self.s3)
        now = gems.tags.now_iso()
        planned = []
        for n, r in enumerate(relaunch):
            index = len(job.workers) + n
            was = job.workers[r.replaces].volume
            planned.append(
                plan_worker(
                    config,
                    request,
                    session_key=job.session_key,
                    created=job.created,
                    token=token,
                    index=index,
                    samples=r.samples,
                    attempt=r.attempt,
                    replaces=r.replaces,
                    launched=now,
                    volume=Volume.from_dict(was) if was else None,
                )  # fmt: skip
            )
        old_ids = [job.workers[r.replaces].instance_id for r in relaunch]
        manifests = [S3.get_json(self.s3, bucket, job.workers[r.replaces].manifest) or {} for r in relaunch]
        for w, manifest in zip(planned, manifests, strict=True):
            pairs = {s: manifest.get("samples", {}).get(s, []) for s in w.samples}
            write_manifests(self.s3, bucket, job.session_key, job.bucket, [w], pairs, manifest.get("shards"))
            job.workers.append(
                records.WorkerPlan(
                    w.index,
                    w.samples,
                    w.manifest_key,
                    attempt=w.attempt,
                    replaces=w.replaces,
                    capacity=w.capacity.value,
                    volume=w.volume.to_dict() if w.volume else None,
                )  # fmt: skip
            )
        try:  # claims the relaunch: another process that read the same version loses here
            version = job.write(self.s3, bucket, version=version or None, first=not version)
        except ConflictError:
            log.info("job %s: another process relaunched first", job.session_key)
            return []
        EC2.terminate(self.ec2, [i for i in old_ids if i])
        launched, error = launch_all(self.ec2, planned)
        record_launches(job, launched)
        new_indexes = {p.index for p in planned}
        for entry in job.workers:
            if entry.index in new_indexes and entry.index not in launched:
                entry.status, entry.reason = WorkerStatus.FAILED, f"relaunch failed: {error}"
        job.write(self.s3, bucket)
        for r, w in zip(relaunch, planned, strict=True):
            log.warning(
                "job %s: worker %d relaunched as worker %d (attempt %d, %d samples)",
                job.session_key, r.replaces, w.index, w.attempt, len(w.samples),
            )  # fmt: skip
        return [w.index for w in planned if w.index in launched]
