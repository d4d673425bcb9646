"""Align step: the minimap2 program (short-read preset, paired) to a sorted, duplicate-marked BAM.

`minimap2 -t T -ax sr --MD -R @RG... | samtools fixmate -m | samtools sort | samtools markdup
--write-index`: the field's usual line, and the bare command line's speed. minimap2 writes the
read group, NM and MD tags and supplementary alignments with SA tags; fixmate adds the mates'
MC and ms tags that markdup reads. In the pipeline QC streams the reads into minimap2 as it
reads them (`open_stream`, `workers.genomics.readfeed`); on its own the step reads the files. The counts
the report gives come from one pass over the finished BAM (`workers.genomics.bamstats`).
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

from gems.errors import InputError
from workers.genomics import bamstats, minimap2
from workers.genomics.bamfile import SHARD_STAGES, TOOLS, BamWriter
from workers.genomics.fastq import iter_pair_chunks
from workers.genomics.readfeed import ReadFeed
from workers.genomics.reference import Reference, prepare_reference
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# minimap2's progress goes to its stderr as "[M::worker_pipeline::...] mapped N sequences".
_PROGRESS_EVERY_S = 2.0


def _last_error(log: Path) -> str:
    """minimap2's last warning or error (colour codes removed), else its last line."""
    try:
        text = _ANSI.sub("", log.read_text(errors="replace"))
    except OSError:
        return "no message"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    problems = [ln for ln in lines if ln.startswith(("[W::", "[E::", "[ERROR]")) or "error" in ln.lower()]
    return ((problems or lines or ["no message"])[-1])[:300]


def expected_pairs(ctx: SampleContext, r1: Path, r2: Path) -> int:
    """The read pairs minimap2 must map: QC's count, or a validating pass when QC did not run.

    minimap2 maps what it can read and says nothing of a truncated gzip or a malformed record,
    so the BAM is checked against a count taken by a reader that does.
    """
    qc = ctx.report.get("qc") or {}
    if isinstance(qc.get("pairs_used"), int):
        return qc["pairs_used"]
    return sum(len(chunk) for chunk in iter_pair_chunks(r1, r2))


def _watch_progress(ctx: SampleContext, log: Path, expected: int | None, done: threading.Event) -> None:
    """Report mapping progress from the sequences minimap2 says it has mapped (two per pair)."""
    while not done.wait(_PROGRESS_EVERY_S):
        mapped = 0
        try:
            for ln in log.read_text(errors="replace").splitlines():
                if "mapped" in ln and "sequences" in ln:
                    mapped += int(ln.rsplit("mapped", 1)[1].split()[0])
        except (OSError, ValueError, IndexError):
            continue
        ctx.progress(min(mapped / (2 * expected), 0.99) * 0.8 if expected else None)


def alignment_report(
    bam: Path,
    dup: dict,
    ref: Reference,
    binary: Path,
    threads: int,
    counts: bamstats.AlignmentCounts | None = None,
) -> dict:
    """What the report says of a finished, duplicate-marked BAM (one run's or a gather's)."""
    counts = counts or bamstats.count(bam, threads)
    dups = int(dup.get("DUPLICATE TOTAL", 0))
    examined = int(dup.get("EXAMINED", 0)) or counts.mapped
    return {
        "aligner": "minimap2",
        "aligner_version": minimap2.version(binary),
        "preset": minimap2.PRESET,
        "threads": threads,
        "reads": counts.reads,
        "mapped": counts.mapped,
        "mapping_rate": round(counts.mapped / counts.reads, 4) if counts.reads else 0.0,
        "properly_paired": counts.proper,
        "properly_paired_rate": round(counts.proper / counts.reads, 4) if counts.reads else 0.0,
        "mapq0_reads": counts.mapq0,
        "supplementary": counts.supplementary,
        "duplicates": dups,
        "duplicate_rate": round(dups / examined, 4) if examined else 0.0,
        "insert_size_median": counts.insert_median(),
        "reference": ref.to_report(),
        "bam": bam.name,
    }


class _Mapping:
    """minimap2 writing into the samtools line (`BamWriter`), running from construction until
    `finish` or `cancel`. Its reads are files, or pipes an earlier pass feeds (`pass_fds`).
    A shard's mapping stops after the sort (`shard.bam`); the gather marks duplicates."""

    def __init__(
        self,
        ctx: SampleContext,
        reads: tuple[Path, Path],
        pass_fds: tuple[int, ...] = (),
        shard: bool = False,
    ):
        self.ref = prepare_reference(ctx.options.reference)  # type: ignore[arg-type]  # checked by callers
        self.binary = minimap2.program()
        self.threads = max(int(ctx.options.threads or 1), 1)
        self.shard = shard
        self.out = Path(ctx.out)
        self.bam = self.out / ("shard.bam" if shard else "sample.bam")
        work = self.out / "work"
        work.mkdir(parents=True, exist_ok=True)
        self.log = work / "minimap2.log"
        cmd = minimap2.command(
            self.binary, self.ref.mmi, reads[0], reads[1], self.threads, ctx.sample, ctx.options.batch_bases
        )
        with open(self.log, "wb") as log_fh:
            self.mapper = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_fh, pass_fds=pass_fds)
        assert self.mapper.stdout is not None  # stdout=PIPE
        try:
            stages = SHARD_STAGES if shard else TOOLS
            self.writer = BamWriter(self.mapper.stdout, self.bam, work, threads=self.threads, stages=stages)
        except BaseException:
            self.mapper.kill()
            self.mapper.wait()
            raise
        finally:
            self.mapper.stdout.close()  # the fixmate child reads it now

    def cancel(self) -> None:
        if self.mapper.poll() is None:
            self.mapper.kill()
        self.mapper.wait()
        self.writer.abort()

    def finish(self, ctx: SampleContext, expected: int) -> dict:
        """Wait for the BAM, check it holds every read pair, and measure it."""
        done = threading.Event()
        watcher = threading.Thread(target=_watch_progress, args=(ctx, self.log, expected, done), daemon=True)
        watcher.start()
        try:
            rc = self.mapper.wait()
            if rc != 0:
                raise RuntimeError(f"minimap2 failed (exit {rc}): {_last_error(self.log)}")
            ctx.progress(0.85)
            dup = self.writer.close()
        except BaseException:
            self.cancel()
            raise
        finally:
            done.set()
            watcher.join()
        bam = self.bam
        counts = bamstats.count(bam, self.threads)
        if counts.reads != 2 * expected:
            for stale in (bam, Path(str(bam) + ".bai")):
                stale.unlink(missing_ok=True)
            raise InputError(
                f"minimap2 read {counts.reads} reads where the FASTQ pair holds {2 * expected}: "
                f"{_last_error(self.log)}"
            )
        self.log.unlink(missing_ok=True)
        if self.shard:
            ctx.artifacts[Artifact.SHARD_BAM] = bam
            return {"reads": counts.reads, "mapped": counts.mapped, "bam": bam.name}
        ctx.artifacts[Artifact.BAM] = bam
        return alignment_report(bam, dup, self.ref, self.binary, self.threads, counts)


class _Streamed:
    """A mapping fed by an earlier pass over the reads, kept in `ctx.running` until this step."""

    def __init__(self, mapping: _Mapping, feed: ReadFeed):
        self.mapping, self.feed = mapping, feed

    def cancel(self) -> None:
        self.mapping.cancel()
        self.feed.stop()


class AlignStep:
    """Maps the (QC'd) read pair to `ctx.options.reference`; writes `sample.bam` + `.bai`.

    QC can hand it the reads as it reads them (`open_stream`): minimap2 then maps from pipes
    while QC validates and measures, and the gzipped reads are decompressed once, not twice.
    `AlignStep(shard=True)` maps one shard of a sample into a sorted `shard.bam` whose
    duplicates the shards' windows mark (workers.pipeline.windowphase).
    """

    def __init__(self, shard: bool = False):
        self.shard = shard
        self.name = "align_shard" if shard else "align"
        self.reads: tuple[Artifact, ...] = (Artifact.READS_R1, Artifact.READS_R2)
        self.writes: tuple[Artifact, ...] = (Artifact.SHARD_BAM,) if shard else (Artifact.BAM,)

    def open_stream(self, ctx: SampleContext) -> ReadFeed | None:
        """Start mapping reads an earlier pass will feed; None when this step will not run."""
        if ctx.options.reference is None:
            return None
        feed = ReadFeed()
        try:
            mapping = _Mapping(ctx, feed.paths, pass_fds=feed.fds, shard=self.shard)
        except Exception:  # noqa: BLE001 - the reason belongs to this step: it says so when it runs
            # A missing reference or minimap2 program is this step's failure, not QC's: QC makes
            # its own pass and this step, run on the files, reports what is wrong.
            feed.stop()
            return None
        except BaseException:
            feed.stop()
            raise
        feed.consumer_started()
        ctx.running[self.name] = _Streamed(mapping, feed)
        return feed

    def cancel_stream(self, ctx: SampleContext) -> None:
        streamed = ctx.running.pop(self.name, None)
        if streamed is not None:
            streamed.cancel()

    def __call__(self, ctx: SampleContext) -> dict:
        if ctx.options.reference is None:
            raise StepSkipped("no reference given")
        r1 = Path(ctx.artifacts.get(Artifact.READS_R1, ctx.r1))
        r2 = Path(ctx.artifacts.get(Artifact.READS_R2, ctx.r2))
        streamed = ctx.running.pop(self.name, None)
        try:
            expected = expected_pairs(ctx, r1, r2)  # without QC's count, a validating pass first
        except BaseException:
            if streamed is not None:
                streamed.cancel()
            raise
        mapping = streamed.mapping if streamed is not None else _Mapping(ctx, (r1, r2), shard=self.shard)
        return mapping.finish(ctx, expected)
