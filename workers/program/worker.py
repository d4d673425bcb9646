"""The worker program: run this instance's share of a job, sample by sample, then hand over.

One catch-all at the sample boundary records FAILED with a short reason and goes on with the
next sample; one at the job boundary makes sure a crashing worker never stays RUNNING.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import gems.records
from gems import logs, names, sharding, statekeys
from gems.alignments import chosen_format
from gems.aws import htslib
from gems.aws import s3 as S3
from gems.aws.clients import Clients, credential_source
from gems.capacity import Capacity
from gems.config import Config
from gems.errors import ConflictError, NotFoundError
from gems.states import SampleStatus, WorkerStatus, settled
from gems.status import new_worker_record, record_status
from workers.pipeline.framework import PipelineOptions
from workers.program import jobqc
from workers.program.api_call import post_job_call
from workers.program.beacon import Beacon
from workers.program.fetch import fetch_pairs
from workers.program.instance import instance_id
from workers.program.joboptions import job_options
from workers.program.shardstore import S3ShardStore
from workers.program.shardunit import align_shard
from workers.program.spot import SpotWatch, is_spot

log = logging.getLogger("gems.worker")
EXIT_INTERRUPTED = 4
# How long each call to the API is tried: the last worker's stop ends its job now rather than at
# the sweep; a relaunch must be asked within EC2's two-minute spot notice; a status change is
# also sent by the sweep, so it is not worth holding the worker for.
STOP_CALL_S = 600.0
RELAUNCH_CALL_S = 90.0
STATUS_CALL_S = 10.0


class Superseded(Exception):  # noqa: N818 - a state, not a failure
    """The service ended this worker (a user stopped the job, or the sweep gave it up as lost)
    while it ran: the worker writes nothing more, so it cannot undo that."""


class Worker:
    def __init__(self, config: Config, clients: Clients, session_key: str, index: int, token: str, iid: str):
        self.config, self.clients = config, clients
        self.session_key, self.index, self.token, self.instance_id = session_key, index, token, iid
        self.bucket = config.state_bucket
        self.record: gems.records.WorkerRecord | None = None
        self._lock = threading.Lock()
        self.beacon = Beacon(  # liveness and progress in the tags, paced once the job is read
            clients.ec2,
            iid,
            fleet=1,
            writes_per_s=config.tag_writes_per_s,
            silenced=lambda: bool(self._ended),
        )
        self._stop = threading.Event()
        self._version: str | None = None  # the record's ETag as this worker last wrote it
        self._ended = ""  # set when the service ended this worker (stopped, lost) meanwhile
        # What an interruption does once recorded: end the process (EC2 takes the machine anyway).
        self.halt = lambda: os._exit(EXIT_INTERRUPTED)

    # ---- status, always through gems.status.record_status ----------------------------------
    def status(self, **change) -> None:
        with self._lock:
            if self._ended:
                raise Superseded(self._ended)
            assert self.record is not None, "status before the record was read"
            # A change of state reaches the tags at once; a step alone only the record, and the
            # tags by the beacon, within the fleet's CreateTags budget (gems.tagrate).
            # Throttled, it is the beacon's to write again: a worker never waits on EC2's limits.
            tags = "status" in change or "sample_status" in change
            beacon, record = self.beacon, self.record
            try:
                self._version = record_status(
                    self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=record,
                    version=self._version, tags=tags, tag_attempts=1, untagged=lambda: beacon.owe(record),
                    **change,
                )  # fmt: skip
            except ConflictError:
                now, _ = gems.records.WorkerRecord.read(
                    self.clients.s3, self.bucket, self.session_key, self.index
                )
                self._ended = (
                    f"recorded {now.status.value} by the service ({now.reason or 'no reason'})"
                    if now
                    else "its record was removed"
                )
                raise Superseded(self._ended) from None
            if tags:
                beacon.wrote()
            else:
                beacon.step(record.step)

    def _progress(self, sample: str):
        def report(step: str, fraction: float | None) -> None:
            text = f"{sample}: {step}" + (f" {int(fraction * 100)}%" if fraction is not None else "")
            changed = self.record is None or self.record.samples[sample].step != step
            if changed:  # a new step: the record
                log.info("sample %s: %s", sample, step)
                self.status(step=text, sample=sample, sample_fields={"step": step})
            elif self._ended:
                raise Superseded(self._ended)
            else:  # how far it has got: the tags only, when the beacon may
                self.beacon.step(text)

        return report

    def interrupt(self, notice: dict) -> None:
        """EC2 will reclaim this spot instance: record INTERRUPTED (unfinished samples too) so
        nothing after this is written or uploaded, keep the log, ask the API for a relaunch of
        what is left, and stop."""
        with self._lock:
            if self._ended or self.record is None or self.record.status.finished:
                return
            reason = (
                f"spot interruption notice: {notice.get('action', 'terminate')} at {notice.get('time', '?')}"
            )
            # ConflictError: the service ended it first (stopped, lost), and its record stands.
            with contextlib.suppress(ConflictError):
                self._version = record_status(
                    self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=self.record,
                    status=WorkerStatus.INTERRUPTED, reason=reason, fail_unfinished=True, version=self._version,
                )  # fmt: skip
            self._ended = f"interrupted ({reason})"
        log.warning("%s: unfinished samples are left to a relaunch", reason)
        self._stop.set()
        self.upload_log()
        self.call_api("/relaunch_instances", within_s=RELAUNCH_CALL_S)
        self.halt()

    # ---- the job ----------------------------------------------------------------------------
    def run(self, workdir: Path) -> WorkerStatus:
        s3 = self.clients.s3
        job = gems.records.read_job(s3, self.bucket, self.session_key)
        if job is None:  # deleted behind the fleet's back: nothing to run, said in the worker's log
            raise NotFoundError(f"job {self.session_key} has no record in s3://{self.bucket}")
        plan = job.workers[self.index]
        manifest = S3.get_json(s3, self.bucket, plan.manifest)
        if manifest is None:
            raise NotFoundError(f"job {self.session_key} has no manifest at {plan.manifest}")
        found, self._version = gems.records.WorkerRecord.read(s3, self.bucket, self.session_key, self.index)
        self.record = found or new_worker_record(self.session_key, self.index, self.instance_id, plan.samples)
        self.record.instance_id = self.instance_id
        self.status(status=WorkerStatus.RUNNING, step="preparing references")
        if job.callback_url:  # the job may have just become RUNNING: the API tells its receiver
            self.call_api("/status_changed", within_s=STATUS_CALL_S)
        self.beacon.pace(len(job.workers))
        self.beacon.start(self._stop)
        if job.capacity == Capacity.SPOT and is_spot():  # asked for spot, and EC2 says it got it
            SpotWatch(self.config.spot_poll_s, self.interrupt).start()
        options = job_options(self.config, self.clients, job, self.session_key, workdir / "refs")
        shards = manifest.get("shards") or {}
        for name in plan.samples:  # work units: samples, or shards of one (gems.sharding)
            if self.record.samples[name].status.finished:
                continue  # a rerun of this worker keeps what is already done
            unit = sharding.parse(name)
            # a sample's name becomes a folder and a key: never trust a record
            if why := names.sample_problem(unit.sample):
                self.status(sample=name, sample_status=SampleStatus.FAILED, sample_fields={"reason": why})
                continue
            if unit.shard is not None:
                self._run_shard(unit, options, workdir / name)
                continue
            pairs = manifest["samples"][name]
            size = sum(int(p.get("size") or 0) for p in pairs)
            mine = replace(options, alignment_format=chosen_format(job.options.get("alignment_format"), size))
            if shards.get(name, 1) > 1:  # this worker leads a sharded sample: it splits and gathers
                store = S3ShardStore(
                    s3,
                    self.bucket,
                    self.session_key,
                    name,
                    access=functools.partial(htslib.access, self.config),
                )
                mine = replace(mine, shards=shards[name], shard_store=store)
            self._run_sample(job, name, pairs, mine, workdir / name)
        if failed := self.record.failed_samples():
            reason = f"{len(failed)} of {len(self.record.samples)} samples failed: " + "; ".join(
                f"{s}: {self.record.samples[s].reason}" for s in failed[:3]
            )
            self.status(status=WorkerStatus.FAILED, step="done", reason=reason[:500])
            return WorkerStatus.FAILED
        self.status(status=WorkerStatus.COMPLETE, step="done")
        return WorkerStatus.COMPLETE

    def _run_sample(
        self,
        job: gems.records.JobRecord,
        sample: str,
        pairs: list[dict],
        options: PipelineOptions,
        workdir: Path,
    ) -> None:
        results = statekeys.results_prefix(job.prefix, self.session_key, sample)
        out = workdir / "out"
        log.info("sample %s: fetching %d read pair(s)", sample, len(pairs))
        started = time.monotonic()
        self.status(step=f"{sample}: fetch", sample=sample, sample_status=SampleStatus.RUNNING)
        try:
            from workers.pipeline.sample import (
                run_sample,  # the analysis stack (pysam, mappy) loads only here
            )

            r1, r2 = fetch_pairs(self.clients.s3, job.bucket, pairs, workdir / "reads")
            report = run_sample(sample, r1, r2, out, options, on_progress=self._progress(sample))
            self.status(step=f"{sample}: upload", sample=sample, sample_fields={"step": "upload"})
            self._upload(out, job.bucket, results)
            self.status(
                sample=sample,
                sample_status=SampleStatus.COMPLETE,
                sample_fields={
                    "step": "done",
                    "results": f"s3://{job.bucket}/{results}",
                    "summary": _brief(report),
                },
            )
            took = time.monotonic() - started
            log.info(
                "sample %s: COMPLETE in %.1f s, results in s3://%s/%s", sample, took, job.bucket, results
            )
        except Superseded:
            raise  # ended by the service: nothing more is uploaded or recorded
        except Exception as exc:  # noqa: BLE001 - the sample boundary: record FAILED and go on
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            log.exception("sample %s failed", sample)
            try:  # the failure report is uploaded too, so the user can read why
                if out.exists():
                    self._upload(out, job.bucket, results, only=("report.json", "report.html"))
            except Exception as up:  # noqa: BLE001
                log.warning("could not upload the failure report: %s", up)
            self.status(
                sample=sample, sample_status=SampleStatus.FAILED, sample_fields={"reason": str(reason)[:300]}
            )
        finally:
            # its results are in S3: the next sample on this worker gets the disk its volume was
            # sized for (gems.volumes sizes for the largest sample, not for all of them at once)
            shutil.rmtree(workdir, ignore_errors=True)
            self.upload_log()

    def _run_shard(self, unit: sharding.Unit, options: PipelineOptions, workdir: Path) -> None:
        """Align one shard of a sample its lead splits (workers.program.shardstore); the same
        boundary as a sample: a failure is recorded FAILED with its reason, which the lead reads."""
        name = unit.name
        self.status(step=f"{name}: waiting for its shard", sample=name, sample_status=SampleStatus.RUNNING)
        try:
            summary = align_shard(self, unit, options, workdir)
            done = {"step": "done", "summary": {"align_shard": summary}}
            self.status(sample=name, sample_status=SampleStatus.COMPLETE, sample_fields=done)
        except Superseded:
            raise
        except Exception as exc:  # noqa: BLE001 - the unit boundary: record FAILED and go on
            log.exception("%s failed", name)
            why = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self.status(
                sample=name, sample_status=SampleStatus.FAILED, sample_fields={"reason": str(why)[:300]}
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            self.upload_log()

    def upload_log(self) -> None:
        """The worker's log goes next to its record, so `gems logs` works after the instance is gone."""
        path = self.config.worker.log_path
        if path.is_file():
            try:
                S3.upload(
                    self.clients.s3,
                    path,
                    self.bucket,
                    statekeys.log_key(self.session_key, self.index),
                    attempts=2,
                )
            except Exception as exc:  # noqa: BLE001 - logs are a convenience, never a reason to fail
                log.warning("could not upload the log: %s", exc)

    def _upload(self, out: Path, bucket: str, prefix: str, only: tuple[str, ...] | None = None) -> None:
        """Upload every result file; report.json goes last so its presence means 'all uploaded'."""
        files = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.endswith((".tmp", ".part")))
        files.sort(key=lambda p: p.name == "report.json")
        for path in files:
            if only and path.name not in only:
                continue
            if self._ended:  # interrupted or stopped mid-upload: no partial result goes on
                raise Superseded(self._ended)
            S3.upload(self.clients.s3, path, bucket, prefix + path.relative_to(out).as_posix())

    # ---- hand over --------------------------------------------------------------------------
    def hand_over(self) -> None:
        """If every worker is finished, build the job's MultiQC report and ask the API to stop the
        fleet (the API writes the summary and frees the lock: a worker writes only its own)."""
        self._stop.set()
        self.upload_log()
        job = gems.records.read_job(self.clients.s3, self.bucket, self.session_key)
        if job is None:
            return
        records = gems.records.read_workers(self.clients.s3, self.bucket, self.session_key, len(job.workers))
        replaced = job.replaced()
        mine = [r for i, r in enumerate(records) if i not in replaced]
        if not all(mine) or not settled([r.status for r in mine if r]):
            log.info("other workers are still running (or owed a relaunch); leaving the fleet up")
            if job.callback_url:  # this worker's end may have changed the job's status (FAILED)
                self.call_api("/status_changed", within_s=STATUS_CALL_S)
            return
        results = statekeys.results_prefix(job.prefix, self.session_key)
        jobqc.build_quietly(self.clients.s3, job.bucket, results)
        self.stop_fleet()

    def stop_fleet(self) -> None:
        self.call_api("/stop_instances")

    def call_api(self, path: str, within_s: float = STOP_CALL_S) -> None:
        """POST `path` for this job with its token, tried again for up to `within_s` seconds."""
        post_job_call(f"{self.config.api_url}{path}", self.session_key, self.token, within_s=within_s)


def _brief(report: dict) -> dict:
    """The few figures kept in the worker record (the full report is in S3); never this
    machine's file paths."""
    keep = {}
    for step in report.get("steps") or {}:  # the pipeline's own order
        if isinstance(report.get(step), dict):
            keep[step] = {
                k: v
                for k, v in report[step].items()
                if isinstance(v, int | float) or (isinstance(v, str) and not v.startswith("/"))
            }
    return keep


def main() -> int:
    logs.configure("worker")  # JSON lines carrying the session key and instance index
    config = Config.from_env()
    me = config.worker
    if me.pidfile:  # lets the embedded runner (and an operator) find the worker
        me.pidfile.write_text(f"{os.getpid()}\n")
    if not (me.session_key and me.instance_index is not None and me.job_token):
        raise SystemExit(
            "GEMS_SESSION_KEY, GEMS_INSTANCE_INDEX and GEMS_JOB_TOKEN must be set (the user-data sets them)"
        )
    clients = Clients(config)
    session_key = me.session_key
    worker = Worker(
        config,
        clients,
        session_key=session_key,
        index=me.instance_index,
        token=me.job_token,
        iid=instance_id(),
    )
    log.info("instance %s: AWS credentials from %s", worker.instance_id, credential_source())
    workdir = me.workdir or Path(tempfile.mkdtemp(prefix=f"gems-{session_key[:8]}-"))
    code = 0
    try:
        code = 0 if worker.run(workdir) is WorkerStatus.COMPLETE else 1
    except Superseded as ended:  # stopped or given up on: its record is the service's now
        log.warning("this worker was %s: stopping without writing its state", ended)
        code = 3
    except Exception as exc:  # noqa: BLE001 - the job boundary: never leave the worker RUNNING
        log.exception("worker failed")
        if worker.record:
            with contextlib.suppress(Superseded):  # ended by the service or interrupted meanwhile
                worker.status(status=WorkerStatus.FAILED, reason=f"{type(exc).__name__}: {exc}"[:300])
        code = 2
    worker.hand_over()
    return code
