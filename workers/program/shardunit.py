"""A shard worker's unit: align its shard and hand it back, then work its share of the sample's
windows (workers.pipeline.windowphase).

Once its shard is aligned and handed back, the worker waits for the lead's window plan
(`windows.json`, written before `split.json`) and for every shard's BAM, then works the windows
it owns: each reads every shard's stretch of the window from S3 by range (htslib, through the
indexes fetched here once), marks, keeps, counts and calls it, and is uploaded as soon as it is
done: `window-<w>.bam`, `.bcf` when it called, and its summary `.json` last, which is what the
lead waits for. A relaunched worker works only the windows whose summaries are not in S3.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from gems import sharding, statekeys
from gems.aws import htslib
from gems.aws import s3 as S3
from workers.pipeline.framework import PipelineOptions, SampleContext
from workers.program.shardstore import POLL_S, WINDOWS, ShardWorker, await_keys, wait_for_shard, window_name

if TYPE_CHECKING:
    from workers.pipeline.windowphase import WindowParts

log = logging.getLogger("gems.worker")


def work_my_windows(
    worker: ShardWorker, unit: sharding.Unit, options: PipelineOptions, workdir: Path, poll_s: float = POLL_S
) -> dict:
    """Unit `unit`'s windows, worked and uploaded; a summary of what it did."""
    from workers.genomics.reference import prepare_reference  # the analysis stack loads only here
    from workers.genomics.shards import Shard
    from workers.genomics.windows import Window
    from workers.pipeline import variants, windowphase

    assert unit.shard is not None
    s3, bucket = worker.clients.s3, worker.bucket
    named = functools.partial(statekeys.shard_key, worker.session_key, unit.sample)
    lead = {0: unit.sample}
    await_keys(s3, bucket, worker.session_key, {0: named("split.json")}, lead, poll_s)
    split = S3.get_json(s3, bucket, named("split.json")) or {}
    shards = [Shard.from_dict(d) for d in split.get("shards", [])]
    plan = S3.get_json(s3, bucket, named(WINDOWS)) or {}
    planned = [Window.from_dict(d) for d in plan.get("windows", [])]
    mine = windowphase.owned(planned, len(shards), unit.shard)
    done = {o["Key"] for o in S3.list_keys(s3, bucket, named("window-"))}
    todo = [w for w in mine if named(window_name(w.index, ".json")) not in done]
    summary = {"windows": len(mine), "windows_worked": len(todo)}
    if not todo:
        return summary
    placed = [s.index for s in shards if s.pairs]
    owners = {i: sharding.unit_name(unit.sample, i) for i in placed}
    worker.status(
        step=f"{unit.name}: waiting for every shard", sample=unit.name, sample_fields={"step": "wait"}
    )
    await_keys(
        s3, bucket, worker.session_key, {i: named(f"shard-{i:03d}.bam") for i in placed}, owners, poll_s
    )
    indexes = workdir / "indexes"
    indexes.mkdir(parents=True, exist_ok=True)
    access = htslib.access(worker.clients.config)
    inputs = []
    for i in placed:  # each index fetched once here, not by every window's samtools
        local = S3.download(s3, bucket, named(f"shard-{i:03d}.bam.bai"), indexes / f"shard-{i:03d}.bam.bai")
        inputs.append(f"{access.url(bucket, named(f'shard-{i:03d}.bam'))}##idx##{local}")
    ref = prepare_reference(options.reference)  # type: ignore[arg-type]  # a sharded job has one
    wanted = variants.target_intervals(options.targets, ref) if options.targets else None
    progress = worker._progress(unit.name)
    finished, lock = 0, threading.Lock()  # the windows' threads finish at once

    def upload(parts: WindowParts) -> None:
        nonlocal finished
        S3.upload(s3, parts.bam, bucket, named(window_name(parts.index, ".bam")))
        if parts.calls is not None:
            S3.upload(s3, parts.calls, bucket, named(window_name(parts.index, ".bcf")))
        S3.put_bytes(s3, bucket, named(window_name(parts.index, ".json")), parts.summary().encode())
        for path in (parts.bam, parts.calls):
            if path is not None:
                path.unlink(missing_ok=True)
        with lock:
            finished += 1
            progress("windows", finished / len(todo))

    threads = max(1, int(options.threads or 1))
    windowphase.work_windows(
        todo, inputs, ref.contigs, ref, workdir / "windows", threads, wanted, access.env, on_done=upload
    )
    log.info("%s: %d window(s) worked and uploaded", unit.name, len(todo))
    return summary


def align_shard(worker: ShardWorker, unit: sharding.Unit, options: PipelineOptions, workdir: Path) -> dict:
    """A shard worker's unit: wait for the shard, QC and align it, hand the counts and the BAM
    (indexed) back, then work its share of the sample's windows (`work_my_windows`);
    its summary. A relaunch whose shard is already handed back goes straight to its windows."""
    from workers.pipeline.scatter import run_shard  # the analysis stack loads only here

    name, s3 = unit.name, worker.clients.s3
    assert unit.shard is not None
    shard = wait_for_shard(s3, worker.bucket, worker.session_key, unit)
    summary: dict = {"pairs": shard.pairs}
    named = functools.partial(statekeys.shard_key, worker.session_key, unit.sample)
    bam_key = named(f"shard-{unit.shard:03d}.bam")
    handed = S3.listed(s3, worker.bucket, bam_key)
    summary["reused"] = handed
    if shard.pairs and not handed:
        from workers.genomics.windows import index_inputs

        reads = []
        for file_name in (shard.r1, shard.r2):
            key = statekeys.shard_key(worker.session_key, unit.sample, file_name)
            reads.append(S3.download(s3, worker.bucket, key, workdir / file_name))
        ctx = SampleContext(unit.sample, reads[0], reads[1], workdir / "out", options)
        ctx.on_progress = worker._progress(name)
        work = run_shard(ctx)
        summary["qc_pairs"] = work.qc["stats"]["pairs"]
        worker.status(step=f"{name}: upload", sample=name, sample_fields={"step": "upload"})
        index_inputs([work.bam], int(options.threads or 1))  # the windows read it by range
        # the BAM last: every worker's windows, and the lead's QC sums, start once all BAMs are in
        S3.put_json(s3, worker.bucket, named(f"shard-{unit.shard:03d}.qc.json"), work.qc)
        if work.hla is not None:
            S3.put_bytes(s3, worker.bucket, named(f"shard-{unit.shard:03d}.hla.npz"), work.hla)
        S3.upload(s3, Path(str(work.bam) + ".bai"), worker.bucket, bam_key + ".bai")
        S3.upload(s3, work.bam, worker.bucket, bam_key)
        for path in (work.bam, Path(str(work.bam) + ".bai"), *reads):
            path.unlink(missing_ok=True)  # the disk is the windows' now
    summary.update(work_my_windows(worker, unit, options, workdir / "windows"))
    return summary
