"""A sharded sample's lead: split the reads into shards, and gather the shards' alignments.

In place of the align step, the lead of a sample with `options.shards` > 1 runs `SplitStep`
(cut the QC'd reads into shards of whole minimap2 batches, hand each to the store as soon as it
is cut) and `GatherStep` (the store hands back each shard's sorted BAM once it is aligned; merge
them and mark duplicates once over all of them into `sample.bam`, in windows of the reference
at once: workers.genomics.windows). The store is where the lead
meets the shards' workers: on EC2 the state bucket (workers.program.shardstore), and in
`gems run-sample --shards N` this machine, which aligns the shards itself (`LocalShards`).
Everything after the gather is the single-worker pipeline, unchanged.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from gems.errors import InputError
from workers.genomics import minimap2, windows
from workers.genomics.reference import prepare_reference
from workers.genomics.shards import Shard, check_split, load_split, split_pairs
from workers.hla import shardmap
from workers.pipeline import variants, windowphase
from workers.pipeline.align import AlignStep, alignment_report
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import PipelineOptions, SampleContext, StepSkipped
from workers.pipeline.qc import QcStep, merged_metrics
from workers.pipeline.qcstats import SAMTOOLS_STATS


class ShardStore(Protocol):
    def existing(self) -> list[Shard] | None:
        """The shards of an earlier split of this sample (a relaunched lead), else None."""

    def planned(self) -> list[windows.Window] | None:
        """The windows an earlier split planned (a relaunched lead), else None."""

    def put(self, shard: Shard, folder: Path) -> None:
        """Hand over one cut shard (its files in `folder`)."""

    def finish_split(self, shards: list[Shard], planned: list[windows.Window]) -> None:
        """Every shard is cut and handed over; the windows the shards' workers will work."""

    def windows(self, shards: list[Shard], planned: list[windows.Window], dest: Path) -> WindowsDone:
        """Every window's parts once worked (workers.pipeline.windowphase; InputError when a shard
        or a window failed for good)."""

    def qc(self, shards: list[Shard]) -> list[dict]:
        """Each non-empty shard's QC counts (`QcStep.tally`), once `windows` has returned."""

    def hla(self, shards: list[Shard]) -> list[bytes]:
        """Each non-empty shard's HLA mapping (workers.hla.shardmap), once mapped (InputError when a
        shard failed for good)."""


@dataclass(frozen=True)
class WindowsDone:
    """The windows' parts, and the shards' BAMs (`inputs`: paths, or S3 URLs read with
    `extra_env`) for the reads with no position, which the lead adds."""

    parts: list[windowphase.WindowParts]
    inputs: list[str]
    extra_env: dict[str, str] | None = None


class SplitStep:
    name = "split"
    reads: tuple[Artifact, ...] = (Artifact.READS_R1, Artifact.READS_R2)
    writes: tuple[Artifact, ...] = (Artifact.SHARDS,)

    def __call__(self, ctx: SampleContext) -> dict:
        if ctx.options.reference is None:
            raise StepSkipped("no reference given")
        store: ShardStore = ctx.options.shard_store
        work = Path(ctx.out) / "work" / "shards"
        shards = store.existing()
        planned = store.planned()
        reused = shards is not None and planned is not None
        if shards is None or planned is None:
            r1 = Path(ctx.artifacts.get(Artifact.READS_R1, ctx.r1))
            r2 = Path(ctx.artifacts.get(Artifact.READS_R2, ctx.r2))
            qc = ctx.report.get("qc") or {}
            expected = qc.get("pairs_used") if isinstance(qc.get("pairs_used"), int) else None
            shards = split_pairs(
                r1, r2, work, ctx.options.shards, ctx.options.batch_bases, total_pairs=expected,
                on_shard=lambda shard: store.put(shard, work),
            )  # fmt: skip
            check_split(shards, expected)
            # the windows the shards' workers mark, keep and call (each worker the same share)
            contigs = prepare_reference(ctx.options.reference).contigs
            threads = max(1, int(ctx.options.threads or 1))
            planned = windowphase.plan(contigs, sum(s.pairs for s in shards), len(shards), threads)
            store.finish_split(shards, planned)
        manifest = work / "split.json"
        work.mkdir(parents=True, exist_ok=True)
        manifest.write_text(
            json.dumps({"shards": [s.to_dict() for s in shards], "windows": [w.to_dict() for w in planned]})
        )
        ctx.artifacts[Artifact.SHARDS] = manifest
        return {
            "shards": len(shards),
            "pairs": sum(s.pairs for s in shards),
            "pairs_per_shard": [s.pairs for s in shards],
            "batch_bases": ctx.options.batch_bases,
            "reused": reused,
            "windows": len(planned),
        }


class GatherStep:
    name = "gather"
    reads: tuple[Artifact, ...] = (Artifact.SHARDS,)
    writes: tuple[Artifact, ...] = (Artifact.BAM, Artifact.SAMTOOLS_STATS, Artifact.RAW_CALLS)

    def __call__(self, ctx: SampleContext) -> dict:
        shards = load_split(ctx.artifacts[Artifact.SHARDS])
        store: ShardStore = ctx.options.shard_store
        out = Path(ctx.out)
        ctx.progress(0.0)
        split = json.loads(Path(ctx.artifacts[Artifact.SHARDS]).read_text())
        planned = [windows.Window.from_dict(d) for d in split["windows"]]
        done = store.windows(shards, planned, out / "work" / "windows")  # worked where the shards are
        qc = ctx.report.get("qc") or {}
        if qc.get("deferred_to_shards"):  # QC's figures are the shards' counts added up
            metrics = merged_metrics(store.qc(shards), int(qc.get("min_read_length") or 0))
            if metrics["pairs"] != sum(s.pairs for s in shards):
                raise InputError(f"the shards' QC saw {metrics['pairs']} read pairs where the split cut "
                                 f"{sum(s.pairs for s in shards)}")  # fmt: skip
            ctx.report["qc"] = metrics  # as one pass over the whole sample would report them
        ctx.progress(0.5)
        threads = max(int(ctx.options.threads or 1), 1)
        bam = out / "sample.bam"
        ref = prepare_reference(ctx.options.reference)  # type: ignore[arg-type]  # the split needed it
        # the BAM, its counts (markdup's figures too: each window saw margins), its samtools stats
        # and the raw calls, put together from the windows
        made = windowphase.assemble(
            done.parts, done.inputs, planned, bam, out / "work" / "assemble", threads, ref, done.extra_env
        )
        for part in done.parts:
            for path in (part.bam, part.calls):
                if path is not None:
                    path.unlink(missing_ok=True)
        stats = out / SAMTOOLS_STATS
        stats.write_text(made.stats)
        ctx.artifacts[Artifact.BAM] = bam
        ctx.artifacts[Artifact.SAMTOOLS_STATS] = stats
        if made.calls is not None:
            ctx.artifacts[Artifact.RAW_CALLS] = made.calls
        report = alignment_report(bam, made.counts.markdup(), ref, minimap2.program(), threads, made.counts)
        report.update(
            shards=len(shards), shards_aligned=sum(1 for s in shards if s.pairs), gather_windows=len(planned)
        )
        return report


class LocalShards:
    """The store of `gems run-sample --shards N`: shards stay on this disk, and the first call for
    their results (`hla`, or `bams`) runs each here, `parallel` at a time, as a shard worker would
    (`run_shard`)."""

    def __init__(self, sample: str, options: PipelineOptions, parallel: int = 1):
        self.sample, self.options, self.parallel = sample, options, max(1, parallel)
        self.folder: Path | None = None
        self.done: dict[int, ShardWork] = {}

    def existing(self) -> list[Shard] | None:
        return None

    def planned(self) -> list[windows.Window] | None:
        return None

    def put(self, shard: Shard, folder: Path) -> None:
        self.folder = folder

    def finish_split(self, shards: list[Shard], planned: list[windows.Window]) -> None:
        return None

    def _run(self, shards: list[Shard]) -> list[ShardWork]:
        assert self.folder is not None, "no shard was cut"
        folder, todo = self.folder, [s for s in shards if s.pairs and s.index not in self.done]
        threads = max(1, int(self.options.threads or 1) // self.parallel)
        options = replace(self.options, threads=threads, shards=1, shard_store=None)

        def run(shard: Shard) -> None:
            out = folder / "done" / f"{shard.index:03d}"
            ctx = SampleContext(self.sample, folder / shard.r1, folder / shard.r2, out, options)
            self.done[shard.index] = run_shard(ctx)

        with ThreadPoolExecutor(self.parallel) as pool:  # each thread waits on its minimap2 and samtools
            list(pool.map(run, todo))
        return [self.done[s.index] for s in shards if s.pairs]

    def windows(self, shards: list[Shard], planned: list[windows.Window], dest: Path) -> WindowsDone:
        """Every window worked here, `threads` at once, as the shards' workers would share them."""
        inputs = [str(work.bam) for work in self._run(shards)]
        windows.index_inputs([Path(b) for b in inputs], int(self.options.threads or 1))
        ref = prepare_reference(self.options.reference)  # type: ignore[arg-type]  # the split needed it
        wanted = variants.target_intervals(self.options.targets, ref) if self.options.targets else None
        threads = max(1, int(self.options.threads or 1))
        parts = windowphase.work_windows(planned, inputs, ref.contigs, ref, dest, threads, wanted)
        return WindowsDone(parts, inputs)

    def qc(self, shards: list[Shard]) -> list[dict]:
        return [work.qc for work in self._run(shards)]

    def hla(self, shards: list[Shard]) -> list[bytes]:
        return [work.hla or b"" for work in self._run(shards)]


@dataclass(frozen=True)
class ShardWork:
    """What a shard's worker hands back: QC's counts, its HLA mapping (None when the job types no
    HLA, or trims), and its sorted BAM."""

    qc: dict
    hla: bytes | None
    bam: Path


def run_shard(ctx: SampleContext) -> ShardWork:
    """A shard worker's work: QC measures the shard's reads as they stream into its alignment
    (Phred+33: the lead converted any other encoding before the split; never trimmed: the lead
    trims before it), then the HLA typer maps them (its evidence is added up by the lead)."""
    map_hla = bool(ctx.options.hla_class) and not ctx.options.trim
    ctx.options = replace(ctx.options, trim=False)
    align = AlignStep(shard=True)
    qc = QcStep(stream_to=align, offset=33)
    ctx.current_step = "qc"
    qc(ctx)
    ctx.current_step = "align_shard"
    align(ctx)
    assert qc.tally is not None
    hla = None
    if map_hla:
        ctx.current_step = "hla_shard"
        o = ctx.options
        hla = shardmap.map_shard(
            ctx.r1, ctx.r2, str(o.hla_class), o.hla_reference, o.threads, o.index_store, ctx.progress
        )
    return ShardWork(qc.tally, hla, ctx.artifacts[Artifact.SHARD_BAM])
