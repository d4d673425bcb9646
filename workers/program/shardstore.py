"""Where a sharded sample's lead and its shard workers meet: the state bucket's
jobs/<key>/shards/<sample>/ (gems.statekeys), written and polled by the workers themselves.

The lead uploads each shard's reads as the split cuts it, then `shard-<i>.json` (so a shard's
worker starts before the split ends), then `windows.json` (the windows of the reference the
shards' workers share out) and `split.json` once all are cut (so a relaunched lead does not
split again). Shard i's worker uploads `shard-<i>.bam` (+ .bai), then works its windows
(workers.program.shardunit) and uploads each one's `window-<w>.bam`, `.bcf` and, last, its
summary `.json`; the lead downloads each window's parts as they appear. Each side reads the other's record while it waits: a unit that failed for good (its
worker FAILED, or COMPLETE without it) ends the wait with the reason; a unit whose worker was
interrupted or lost waits for its relaunch, within the job's system_retries.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gems.records
from gems import sharding, statekeys
from gems.aws import s3 as S3
from gems.aws.htslib import S3Access
from gems.errors import InputError
from gems.states import SampleStatus, WorkerStatus


class ShardWorker(Protocol):
    """What a shard's unit needs of the worker running it (workers.program.worker.Worker)."""

    clients: Any
    bucket: str
    session_key: str

    def status(self, **change: Any) -> None: ...

    def _progress(self, sample: str) -> Callable[[str, float | None], None]: ...


if TYPE_CHECKING:
    from workers.genomics.shards import Shard
    from workers.genomics.windows import Window
    from workers.pipeline.scatter import WindowsDone

log = logging.getLogger("gems.worker")
POLL_S = 5.0
WINDOWS = "windows.json"  # the windows the lead planned, which the shards' workers share out
FAILURE_EVERY = 6  # polls between reads of the records of the units a wait is owed by


def unit_failure(s3, bucket: str, session_key: str, unit: str) -> str | None:
    """Why `unit` failed for good, or None while it may still finish (queued, running, or its
    worker taken and owed a relaunch)."""
    return unit_failures(s3, bucket, session_key, [unit]).get(unit)


def unit_failures(s3, bucket: str, session_key: str, units: list[str]) -> dict[str, str]:
    """Why each of `units` that failed for good did (the job's record read once, each unit's
    current worker's record once)."""
    job = gems.records.read_job(s3, bucket, session_key)
    if job is None:
        return dict.fromkeys(units, "the job's record is gone")
    out: dict[str, str] = {}
    records: dict[int, Any] = {}
    for unit in units:
        mine = [i for i, plan in enumerate(job.workers) if unit in plan.samples]
        if not mine:
            out[unit] = f"no worker runs {unit}"
            continue
        index = mine[-1]  # a relaunch is appended: the last worker of the unit is its current one
        if index not in records:
            records[index] = gems.records.WorkerRecord.read(s3, bucket, session_key, index)[0]
        record = records[index]
        if record is None or not record.status.finished or record.status.awaits_relaunch:
            continue
        state = record.samples.get(unit)
        if state is not None and state.status is SampleStatus.COMPLETE:
            continue
        if record.status is WorkerStatus.COMPLETE and state is None:
            continue
        out[unit] = (
            state.reason if state is not None and state.reason else record.reason
        ) or record.status.value.lower()
    return out


class S3ShardStore:
    """The lead's side (workers.pipeline.scatter.ShardStore); `access` says how its samtools reads
    the shards' BAMs in S3 (gems.aws.htslib) for the reads with no position, asked when the
    windows are in (an instance role's credentials are renewed while the lead splits and waits)."""

    def __init__(
        self, s3, bucket: str, session_key: str, sample: str, poll_s: float = POLL_S,
        access: Callable[[], S3Access] | None = None,
    ):  # fmt: skip
        self.s3, self.bucket, self.session_key, self.sample = s3, bucket, session_key, sample
        self.poll_s, self.access = poll_s, access
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

    def planned(self) -> list[Window] | None:
        from workers.genomics.windows import Window

        found = S3.get_json(self.s3, self.bucket, self.key(WINDOWS))
        return [Window.from_dict(d) for d in found["windows"]] if found else None

    def finish_split(self, shards: list[Shard], planned: list[Window]) -> None:
        for done in self._pending:
            done.result()  # an upload that failed fails the split
        self._pending.clear()
        for shard in shards:  # an empty shard has no files: its worker learns it from its json
            if not shard.pairs:
                S3.put_json(self.s3, self.bucket, self.key(f"shard-{shard.index:03d}.json"), shard.to_dict())
        S3.put_json(self.s3, self.bucket, self.key(WINDOWS), {"windows": [w.to_dict() for w in planned]})
        # last: a relaunched lead that finds it splits no more, and the shards' workers start their windows
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

    def windows(self, shards: list[Shard], planned: list[Window], dest: Path) -> WindowsDone:
        """Every window's parts, downloaded as its summary appears (the summary is written last)."""
        from workers.pipeline.scatter import WindowsDone
        from workers.pipeline.windowphase import WindowParts

        dest.mkdir(parents=True, exist_ok=True)
        owners = {w.index: sharding.unit_name(self.sample, w.index % len(shards)) for w in planned}
        found = self._await_keys({w.index: self.key(window_name(w.index, ".json")) for w in planned}, owners)

        def fetch(index: int) -> WindowParts:
            summary = S3.get_text(self.s3, self.bucket, found[index]) or ""
            bam = S3.download(
                self.s3, self.bucket, self.key(window_name(index, ".bam")), dest / window_name(index, ".bam")
            )
            calls = None
            if json.loads(summary).get("called"):
                calls = dest / window_name(index, ".bcf")
                S3.download(self.s3, self.bucket, self.key(window_name(index, ".bcf")), calls)
            return WindowParts.from_summary(summary, bam, calls)

        with ThreadPoolExecutor(8) as pool:  # parallel downloads: S3 gives each connection its share
            parts = list(pool.map(fetch, sorted(found)))
        if self.access is None:
            raise RuntimeError("the lead has no S3 access for samtools")
        access = self.access()
        inputs = [access.url(self.bucket, self.key(f"shard-{s.index:03d}.bam")) for s in shards if s.pairs]
        return WindowsDone(parts, inputs, access.env)

    def hla(self, shards: list[Shard]) -> list[bytes]:
        found = self._await(shards, ".hla.npz")
        return [S3.get_bytes(self.s3, self.bucket, found[i]) for i in sorted(found)]

    def _await(self, shards: list[Shard], suffix: str) -> dict[int, str]:
        """The key of each non-empty shard's `shard-<i><suffix>` once every one is in S3; InputError
        as soon as a shard's unit failed for good."""
        wanted = {s.index: self.key(f"shard-{s.index:03d}{suffix}") for s in shards if s.pairs}
        owners = {s.index: sharding.unit_name(self.sample, s.index) for s in shards}
        return self._await_keys(wanted, owners)

    def _await_keys(self, wanted: dict[int, str], owners: dict[int, str]) -> dict[int, str]:
        return await_keys(self.s3, self.bucket, self.session_key, wanted, owners, self.poll_s)


def await_keys(
    s3, bucket: str, session_key: str, wanted: dict[int, str], owners: dict[int, str], poll_s: float,
    on_wait: Callable[[], None] = lambda: None,
) -> dict[int, str]:  # fmt: skip
    """`wanted` (keys, by index) once every one is in S3; InputError as soon as the unit that owes
    one (`owners`) failed for good."""
    prefixes = {key.rsplit("/", 1)[0] + "/" for key in wanted.values()}
    polls = 0
    while True:
        present = {o["Key"] for p in prefixes for o in S3.list_keys(s3, bucket, p)}
        missing = sorted(i for i, key in wanted.items() if key not in present)
        if not missing:
            return wanted
        # a fleet's workers all wait at once: its records are read every FAILURE_EVERY-th poll
        # (one listing a poll; a job record and the owing units' records every sixth)
        if polls % FAILURE_EVERY == 0:
            failed = unit_failures(s3, bucket, session_key, sorted({owners[i] for i in missing}))
            for unit, why in failed.items():
                what = wanted[next(i for i in missing if owners[i] == unit)].rsplit("/", 1)[-1]
                raise InputError(f"{unit} failed before it left {what}: {why}")
        polls += 1
        on_wait()
        time.sleep(poll_s)


def window_name(index: int, suffix: str) -> str:
    """A window's file in the shards' folder: `window-0007.bam`, `.bcf`, `.json` (its summary)."""
    return f"window-{index:04d}{suffix}"


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
