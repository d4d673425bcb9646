"""Where a sharded sample's lead and its shard workers meet: the state bucket's
jobs/<key>/shards/<sample>/ (gems.statekeys), written and polled by the workers themselves.

The lead uploads each shard's reads as the split cuts it, then `shard-<i>.json` (so a shard's
worker starts before the split ends), then `split.json` once all are cut (so a relaunched lead
does not split again). Shard i's worker uploads `shard-<i>.bam`; the lead downloads each BAM as it
appears. Each side reads the other's record while it waits: a unit that failed for good (its
worker FAILED, or COMPLETE without it) ends the wait with the reason; a unit whose worker was
interrupted or lost waits for its relaunch, within the job's system_retries.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gems.records
from gems import sharding, statekeys
from gems.aws import s3 as S3
from gems.errors import InputError
from gems.states import SampleStatus, WorkerStatus
from workers.pipeline.framework import PipelineOptions, SampleContext


class ShardWorker(Protocol):
    """What a shard's unit needs of the worker running it (workers.program.worker.Worker)."""

    clients: Any
    bucket: str
    session_key: str

    def status(self, **change: Any) -> None: ...

    def _progress(self, sample: str) -> Callable[[str, float | None], None]: ...


if TYPE_CHECKING:
    from workers.genomics.shards import Shard

log = logging.getLogger("gems.worker")
POLL_S = 5.0


def unit_failure(s3, bucket: str, session_key: str, unit: str) -> str | None:
    """Why `unit` failed for good, or None while it may still finish (queued, running, or its
    worker taken and owed a relaunch)."""
    job = gems.records.read_job(s3, bucket, session_key)
    if job is None:
        return "the job's record is gone"
    mine = [i for i, plan in enumerate(job.workers) if unit in plan.samples]
    if not mine:
        return f"no worker runs {unit}"
    index = mine[-1]  # a relaunch is appended: the last worker of the unit is its current one
    record, _ = gems.records.WorkerRecord.read(s3, bucket, session_key, index)
    if record is None or not record.status.finished or record.status.awaits_relaunch:
        return None
    state = record.samples.get(unit)
    if state is not None and state.status is SampleStatus.COMPLETE:
        return None
    if record.status is WorkerStatus.COMPLETE and state is None:
        return None
    return (
        state.reason if state is not None and state.reason else record.reason
    ) or record.status.value.lower()


class S3ShardStore:
    """The lead's side (workers.pipeline.scatter.ShardStore)."""

    def __init__(self, s3, bucket: str, session_key: str, sample: str, poll_s: float = POLL_S):
        self.s3, self.bucket, self.session_key, self.sample = s3, bucket, session_key, sample
        self.poll_s = poll_s
        self._uploads = ThreadPoolExecutor(2)  # uploads overlap the split
        self._pending: list[Future] = []

    def key(self, name: str) -> str:
        return statekeys.shard_key(self.session_key, self.sample, name)

    def existing(self) -> list[Shard] | None:
        from workers.genomics.shards import Shard  # numpy and xopen load only where the split runs

        split = S3.get_json(self.s3, self.bucket, self.key("split.json"))
        return [Shard.from_dict(d) for d in split["shards"]] if split else None

    def _put(self, shard: Shard, folder: Path) -> None:
        for name in (shard.r1, shard.r2):
            S3.upload(self.s3, folder / name, self.bucket, self.key(name))
        S3.put_json(self.s3, self.bucket, self.key(f"shard-{shard.index:03d}.json"), shard.to_dict())
        for name in (shard.r1, shard.r2):  # in S3 now: a genome's shards need not fill the lead's disk
            (folder / name).unlink(missing_ok=True)

    def put(self, shard: Shard, folder: Path) -> None:
        self._pending.append(self._uploads.submit(self._put, shard, folder))

    def finish_split(self, shards: list[Shard]) -> None:
        for done in self._pending:
            done.result()  # an upload that failed fails the split
        self._pending.clear()
        for shard in shards:  # an empty shard has no files: its worker learns it from its json
            if not shard.pairs:
                S3.put_json(self.s3, self.bucket, self.key(f"shard-{shard.index:03d}.json"), shard.to_dict())
        S3.put_json(self.s3, self.bucket, self.key("split.json"), {"shards": [s.to_dict() for s in shards]})

    def qc(self, shards: list[Shard]) -> list[dict]:
        """The shards' QC counts, written by each shard's worker before its BAM."""
        out = []
        for shard in shards:
            if shard.pairs:
                found = S3.get_json(self.s3, self.bucket, self.key(f"shard-{shard.index:03d}.qc.json"))
                if found is None:
                    raise InputError(f"shard {shard.index} left no QC counts")
                out.append(found)
        return out

    def bams(self, shards: list[Shard], dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        wanted = {s.index: dest / f"shard-{s.index:03d}.bam" for s in shards if s.pairs}
        for index, key in self._await(shards, ".bam").items():
            S3.download(self.s3, self.bucket, key, wanted[index])
        return [wanted[i] for i in sorted(wanted)]

    def hla(self, shards: list[Shard]) -> list[bytes]:
        found = self._await(shards, ".hla.npz")
        return [S3.get_bytes(self.s3, self.bucket, found[i]) for i in sorted(found)]

    def _await(self, shards: list[Shard], suffix: str) -> dict[int, str]:
        """The key of each non-empty shard's `shard-<i><suffix>` once every one is in S3; InputError
        as soon as a shard's unit failed for good."""
        wanted = {s.index: self.key(f"shard-{s.index:03d}{suffix}") for s in shards if s.pairs}
        while True:
            present = {o["Key"] for o in S3.list_keys(self.s3, self.bucket, self.key("shard-"))}
            missing = sorted(i for i, key in wanted.items() if key not in present)
            if not missing:
                return wanted
            for index in missing:
                unit = sharding.unit_name(self.sample, index)
                if why := unit_failure(self.s3, self.bucket, self.session_key, unit):
                    raise InputError(f"shard {index} of {len(shards)} failed: {why}")
            time.sleep(self.poll_s)


def wait_for_shard(
    s3, bucket: str, session_key: str, unit: sharding.Unit, *, poll_s: float = POLL_S,
    on_wait: Callable[[], None] = lambda: None,
) -> Shard:  # fmt: skip
    """Shard `unit.shard`'s description once its lead has cut it; InputError when the lead failed."""
    assert unit.shard is not None
    from workers.genomics.shards import Shard

    key = statekeys.shard_key(session_key, unit.sample, f"shard-{unit.shard:03d}.json")
    while True:
        found = S3.get_json(s3, bucket, key)
        if found is not None:
            return Shard.from_dict(found)
        if why := unit_failure(s3, bucket, session_key, unit.sample):
            raise InputError(f"the sample's split failed: {why}")
        on_wait()
        time.sleep(poll_s)


def align_shard(worker: ShardWorker, unit: sharding.Unit, options: PipelineOptions, workdir: Path) -> dict:
    """A shard worker's unit: wait for the shard, QC and align it, hand the counts and the BAM
    back; its summary."""
    from workers.pipeline.scatter import run_shard  # the analysis stack loads only here

    name, s3 = unit.name, worker.clients.s3
    shard = wait_for_shard(s3, worker.bucket, worker.session_key, unit)
    summary: dict = {"pairs": shard.pairs}
    if shard.pairs:
        reads = []
        for file_name in (shard.r1, shard.r2):
            key = statekeys.shard_key(worker.session_key, unit.sample, file_name)
            reads.append(S3.download(s3, worker.bucket, key, workdir / file_name))
        ctx = SampleContext(unit.sample, reads[0], reads[1], workdir / "out", options)
        ctx.on_progress = worker._progress(name)
        work = run_shard(ctx)
        summary["qc_pairs"] = work.qc["stats"]["pairs"]
        worker.status(step=f"{name}: upload", sample=name, sample_fields={"step": "upload"})
        named = functools.partial(statekeys.shard_key, worker.session_key, unit.sample)
        # the BAM last: the gather reads the QC counts once it has every BAM
        S3.put_json(s3, worker.bucket, named(f"shard-{unit.shard:03d}.qc.json"), work.qc)
        if work.hla is not None:
            S3.put_bytes(s3, worker.bucket, named(f"shard-{unit.shard:03d}.hla.npz"), work.hla)
        S3.upload(s3, work.bam, worker.bucket, named(f"shard-{unit.shard:03d}.bam"))
    return summary
