"""Jobs: submit (plan, lock, record, launch), read (one batched tag read + S3), stop.

AWS is reached only through gems.aws wrappers; the clients come in with the JobService.
"""

from __future__ import annotations

import logging
import threading

import gems.records
import gems.tags
from gems import sharding, statekeys, tagrate
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from gems.billing.cost import job_cost
from gems.billing.pricebook import PriceBook
from gems.callbacks.notify import Callbacks
from gems.callbacks.rules import check_url
from gems.config import Config
from gems.deploy.wheel import worker_code
from gems.errors import ConflictError, NotFoundError, ValidationError
from gems.jobs import hml, jobview, shards
from gems.jobs.inputs import check_inputs_exist
from gems.jobs.launch import launch_all, record_launches, write_manifests
from gems.jobs.lifecycle import Lifecycle
from gems.jobs.readcache import ImmutableCache, RecordCache, TagSnapshot
from gems.jobs.run_table import run_table
from gems.plan import (
    JobPlan,
    JobRequest,
    capacity_of,
    check_prefix,
    check_reach,
    check_request,
    discover_pairs,
    new_session_key,
    retries_of,
)
from gems.recovery import current as current_workers
from gems.scopes import Reach
from gems.states import SampleStatus, WorkerStatus

log = logging.getLogger(__name__)
_submit_lock = threading.Lock()  # S3 conditional writes decide on AWS; this covers moto's non-atomic ones


class JobService:
    """Submit, read and retry jobs; ending and relaunching workers is its `lifecycle`'s part
    (gems.jobs.lifecycle): callers name it, `jobs.lifecycle.terminate(key)`."""

    def __init__(self, config: Config, ec2, s3, keys, pricing=None):
        self.config = config
        self.ec2 = ec2
        self.s3 = s3
        self.keys = keys
        self.cache = ImmutableCache()
        self.tags = TagSnapshot(ec2)
        self.records = RecordCache()
        self.callbacks = Callbacks(config, s3, keys, self)
        self.pricebook = PriceBook(config, ec2, pricing)  # pricing: the Price List API client
        self.lifecycle = Lifecycle(
            config, ec2, s3, keys, self.tags, self.callbacks, self.pricebook, reads=self
        )

    # ---- submit -------------------------------------------------------------------------
    def submit(
        self,
        request: JobRequest,
        *,
        user: str,
        reach: Reach,
        idempotency_key: str | None = None,
        before_write=None,
    ) -> tuple[dict, bool]:
        """Launch a job; returns (job, created). A replayed Idempotency-Key returns the first job.

        `reach` is the S3 data the submitter may run jobs on (gems.scopes). Every check of the
        request comes before the first write, so a refused request stores nothing;
        `before_write()` (TES: the task document) runs between the two.
        """
        request.prefix = check_prefix(request.prefix)
        if request.hla_class not in (1, 2):
            raise ValidationError("hla_class must be 1 or 2", field="hla_class")
        check_request(self.config, request)
        if request.callback_url is not None:  # the callbacks feature's rule, not the planner's
            check_url(request.callback_url, embedded=self.config.embedded, own_ports=self.config.own_ports)
        check_reach(self.config, request, reach)
        self.config.check_launch()
        bucket = self.config.state_bucket
        session_key = new_session_key(user, idempotency_key)
        if idempotency_key and (existing := gems.records.read_job(self.s3, bucket, session_key)):
            same = (existing.bucket, existing.prefix, existing.hla_class) == (
                request.bucket,
                request.prefix,
                request.hla_class,
            )
            if not same:
                raise ConflictError(
                    "this Idempotency-Key was used for another request (bucket, prefix or hla_class differ)",
                    field="Idempotency-Key",
                    details={"session_key": existing.session_key},
                )
            return self.get(existing.session_key), False
        if not S3.bucket_exists(self.s3, request.bucket):
            raise ValidationError(
                f"bucket {request.bucket!r} does not exist or is not readable", field="bucket"
            )
        check_inputs_exist(self.s3, self.config, request)
        objects = list(S3.list_keys(self.s3, request.bucket, request.prefix))
        pairs = discover_pairs(objects, request.prefix)
        created = gems.tags.now_iso()
        token = self.keys.worker_token(session_key)
        config = worker_code(self.config, self.s3)
        plan = shards.plan(
            self.s3, config, request, pairs, session_key=session_key, created=created, token=token
        )
        with _submit_lock:
            if idempotency_key and gems.records.read_job(self.s3, bucket, session_key):
                return self.get(session_key), False
            if before_write is not None:
                before_write()
            self._take_lock(request, session_key)
            try:
                job = self._write_records(plan, user, idempotency_key)
            except ConflictError:
                return self.get(session_key), False
        self._launch(plan, job)
        out = self.get(session_key)
        if request.callback_url:  # answered this once: never stored, never shown again
            out = dict(out, callback_secret=self.keys.callback_secret(session_key))
        return out, True

    def _take_lock(self, request: JobRequest, session_key: str) -> None:
        key = statekeys.lock_key(request.bucket, request.prefix, request.hla_class)
        bucket = self.config.state_bucket
        body = {"session_key": session_key, "created": gems.tags.now_iso()}
        try:
            S3.put_json(self.s3, bucket, key, body, if_none_match=True)
            return
        except ConflictError:
            pass
        held, etag = S3.get_json_etag(self.s3, bucket, key)
        if held and held["session_key"] != session_key:
            try:
                held_job = self.get(held["session_key"])
                running = not jobview.is_settled(held_job)
            except NotFoundError:
                running = False
            if running:
                raise ConflictError(
                    f"job {held['session_key']} is already running for this bucket, prefix and hla_class",
                    field="prefix",
                    details={"session_key": held["session_key"]},
                )
        S3.put_json(self.s3, bucket, key, body, if_match=etag)  # stale lock: take it over

    def _write_records(self, plan: JobPlan, user: str, idempotency_key: str | None) -> gems.records.JobRecord:
        bucket = self.config.state_bucket
        req = plan.request
        write_manifests(self.s3, bucket, plan.session_key, req.bucket, plan.workers, plan.pairs, plan.shards)
        job = gems.records.JobRecord(
            session_key=plan.session_key,
            bucket=req.bucket,
            prefix=req.prefix,
            hla_class=req.hla_class,
            reference=req.reference,
            options=req.options,
            created=plan.created,
            submitted_by=user,
            idempotency_key=idempotency_key,
            capacity=capacity_of(self.config, req).value,
            system_retries=retries_of(self.config, req),
            max_cost_usd=req.max_cost_usd,
            callback_url=req.callback_url or "",
            shards=plan.shards,
            shards_requested=req.shards,
            workers=[
                gems.records.WorkerPlan(
                    w.index, w.samples, w.manifest_key, volume=w.volume.to_dict() if w.volume else None
                )
                for w in plan.workers
            ],
        )
        job.write(self.s3, bucket, first=True)
        return job

    def _launch(self, plan: JobPlan, job: gems.records.JobRecord) -> None:
        """Launch every worker, then record their instance ids in the job record just written."""
        launched, error = launch_all(self.ec2, plan.workers)
        record_launches(job, launched)
        self.tags.invalidate()
        ids = [got.instance_id for got in launched.values()]
        if error is not None:
            # Tags first: until EC2 forgets them, these instances must not read as PENDING.
            if ids:
                EC2.create_tags(
                    self.ec2,
                    ids,
                    {
                        gems.tags.STATUS: WorkerStatus.FAILED.value,
                        gems.tags.ENDED: WorkerStatus.FAILED.value,
                        gems.tags.REASON: gems.tags.clean_value(f"launch failed: {error}"),
                    },
                )
            EC2.terminate(self.ec2, ids)
            job.set_launch_failed(f"launch failed: {error}")
            job.write(self.s3, self.config.state_bucket)
            self.lifecycle.finish(plan.session_key)
            raise error
        job.write(self.s3, self.config.state_bucket)

    def retry(self, session_key: str, *, user: str, reach: Reach) -> tuple[dict, bool]:
        """Rerun only the samples that did not complete, as a new job linked to this one (inside
        the retrying key's scopes of today)."""
        job = gems.records.read_job(self.s3, self.config.state_bucket, session_key)
        if job is None:
            raise NotFoundError(f"no job with session_key {session_key!r}", field="session_key")
        detail = self.detail(session_key)
        if not jobview.is_settled(detail):
            raise ConflictError(
                "the job is still running; retry it once every worker has finished", field="session_key"
            )
        done = {
            s
            for w in detail["workers"]
            for s, st in (w.get("sample_status") or {}).items()
            if st["status"] == SampleStatus.COMPLETE
        }
        # a sharded sample is retried whole: its lead unit is the sample, its shards go with it
        todo = {s for w in job.workers for s in w.samples if s not in done and not sharding.is_shard(s)}
        if not todo:
            raise ConflictError("nothing to retry: every sample of this job completed", field="session_key")
        retries_key = statekeys.retries_key(session_key)
        earlier = S3.get_json(self.s3, self.config.state_bucket, retries_key) or {"retries": []}
        request = JobRequest(
            bucket=job.bucket,
            prefix=job.prefix,
            hla_class=job.hla_class,
            samples=sorted(todo),
            reference=job.reference,
            options=dict(job.options, retry_of=session_key),
            capacity=job.capacity or None,
            system_retries=job.system_retries,
            max_cost_usd=job.max_cost_usd,
            callback_url=job.callback_url or None,
            shards=job.shards_requested,
        )
        # One retry per attempt number: a double click returns the same new job.
        new, created = self.submit(
            request, user=user, reach=reach, idempotency_key=f"retry:{session_key}:{len(earlier['retries'])}"
        )
        if created:
            earlier["retries"].append(new["session_key"])
            S3.put_json(self.s3, self.config.state_bucket, retries_key, earlier)
        return new, created

    # ---- read ---------------------------------------------------------------------------
    def lost_after_s(self, fleet: int) -> int:
        """How long a job's worker may be silent before it is LOST: its beats are spaced by the
        size of its fleet (gems.tagrate)."""
        c = self.config
        return tagrate.lost_after_s(fleet, c.tag_writes_per_s, c.heartbeat_timeout_s)

    def _samples_of(self, w: gems.tags.WorkerTags) -> list[str]:
        manifest = self.cache.get(self.s3, self.config.state_bucket, w.manifest) if w.manifest else None
        return sorted(manifest["samples"]) if manifest else []

    def from_s3(self, session_key: str) -> dict | None:
        bucket = self.config.state_bucket
        summary = self.cache.get(self.s3, bucket, statekeys.summary_key(session_key))
        if summary:
            return summary
        job = gems.records.read_job(self.s3, bucket, session_key)
        if job is None:
            return None
        workers = gems.records.read_workers(self.s3, bucket, session_key, len(job.workers))
        return jobview.from_records(job, workers, self.lost_after_s(len(job.workers)))

    def find(self, *, session_key=None, bucket=None, prefix=None, status=None) -> list[dict]:
        """All jobs, newest first: live ones from one DescribeTags loop, finished ones from S3."""
        by_session: dict[str, list[gems.tags.WorkerTags]] = {}
        live = EC2.read_gems_tags(self.ec2, session_key) if session_key else self.tags.read()
        for iid, tags in live.items():
            w = gems.tags.WorkerTags.parse(iid, tags)
            if w:
                by_session.setdefault(w.session_key, []).append(w)
        jobs = {}
        for key, workers in by_session.items():
            jobs[key] = jobview.from_tags(workers, self._samples_of, self.lost_after_s(len(workers)))
        keys = (
            [session_key]
            if session_key
            else gems.records.list_session_keys(self.s3, self.config.state_bucket)
        )
        for key in keys:
            if key not in jobs and (job := self.from_s3(key)):
                jobs[key] = job
        out = [
            j
            for j in jobs.values()
            if (bucket is None or j["bucket"] == bucket)
            and (prefix is None or j["prefix"].rstrip("/") == prefix.rstrip("/"))
            and (status is None or j["overall_status"] == status)
        ]
        return sorted(out, key=lambda j: (j["created"], j["session_key"]), reverse=True)

    def get(self, session_key: str) -> dict:
        found = self.find(session_key=session_key)
        if not found:
            raise NotFoundError(f"no job with session_key {session_key!r}", field="session_key")
        return found[0]

    def detail(self, session_key: str, *, with_callback: bool = True) -> dict:
        """One job with per-sample states from the workers' S3 records (and how its callbacks
        went, unless `with_callback` is False: the callback's own body leaves that out)."""
        job = dict(self.get(session_key))
        record = gems.records.read_job(self.s3, self.config.state_bucket, session_key)
        plans = {p.index: p for p in record.workers} if record else {}
        n = max([len(plans)] + [w["instance_index"] + 1 for w in job["workers"]])
        records = self.records.records(self.s3, self.config.state_bucket, session_key, n)
        job["workers"] = [dict(w) for w in job["workers"]]
        for w in job["workers"]:
            rec = records[w["instance_index"]] if w["instance_index"] < len(records) else None
            w["sample_status"] = rec.to_dict()["samples"] if rec else w.get("sample_status", {})
            if rec and jobview.record_is_newer(w, rec) and not WorkerStatus(w["status"]).finished:
                # a step change reaches the record at once and the tags within the fleet's budget
                w.update(step=rec.step, updated=rec.updated, progress=rec.progress)
            if plan := plans.get(w["instance_index"]):  # what its launch gave, which tags do not hold
                w.update(
                    capacity=plan.capacity or w.get("capacity", ""),
                    launched=plan.launched,
                    instance_type=plan.instance_type,
                )
                if plan.capacity_note:
                    w["capacity_note"] = plan.capacity_note
                if plan.volume:
                    w["volume"] = plan.volume
        job["cost"] = job_cost(job["workers"], table=self.pricebook.table(job["workers"]))
        if record and record.shards:
            job["shards"] = shards.sample_shards(record.shards, current_workers(job["workers"]))
        if with_callback and record and record.callback_url:
            job["callback"] = self.callbacks.view(session_key, record.callback_url)
        return job

    def hla_xml(self, session_key: str) -> str:
        """The job's HLA typing as an HML 1.0.1 document (gems.jobs.hml), from its finished samples."""
        detail = self.detail(session_key, with_callback=False)
        if detail.get("hla_class") in (None, ""):
            raise NotFoundError("this job types no HLA genes (no hla_class)", field="session_key")
        records = hml.read_records(self.s3, detail)
        if not records:
            raise ConflictError(hml.NOTHING_YET, field="session_key")
        return hml.document(session_key, records, today=gems.tags.now_iso()[:10])

    def run_table(self, session_key: str) -> dict:
        """One row per sample: status, figures, HLA types, report link (gems.jobs.run_table)."""
        return run_table(self.s3, self.cache, self.detail(session_key, with_callback=False))

    def check_owner(self, session_key: str, caller) -> gems.records.JobRecord:
        """The job's record when `caller` (a gems.auth.Caller) may act on it; else the 404 an
        unknown job gets, so a key cannot tell another user's job from no job."""
        job = gems.records.read_job(self.s3, self.config.state_bucket, session_key)
        if job is None or not caller.may_act_on(job.submitted_by):
            raise NotFoundError(f"no job with session_key {session_key!r}", field="session_key")
        return job

    def is_owner(self, session_key: str, caller) -> bool:
        try:
            self.check_owner(session_key, caller)
            return True
        except NotFoundError:
            return False

    def logs(self, session_key: str) -> dict[int, str]:
        """Each worker's uploaded log (the tail, at most 200 kB each)."""
        job = gems.records.read_job(self.s3, self.config.state_bucket, session_key)
        if job is None:
            raise NotFoundError(f"no job with session_key {session_key!r}", field="session_key")
        out = {}
        for w in job.workers:
            text = S3.get_text(self.s3, self.config.state_bucket, statekeys.log_key(session_key, w.index))
            out[w.index] = (text or "")[-200_000:]
        return out
