"""Pipeline step "coverage": depth over the targets (BED) or the whole reference, from the BAM.

Depth counts aligned bases (deletions and skips excluded) of reads that are mapped, primary, not
QC-failed and not duplicates (the filter mosdepth uses by default: flag 1796). Each read adds
to a difference array over a window of at most WINDOW bases, so memory stays small on whole
chromosomes and the per-base work is numpy, not Python.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from gems.errors import InputError
from workers.genomics import children
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

WINDOW = 1_000_000
MAX_BINS = 500
THRESHOLDS = (1, 10, 20, 30)
EXCLUDE_FLAGS = 0x4 | 0x100 | 0x200 | 0x400  # unmapped, secondary, QC fail, duplicate
HIST_CAP = 10_000  # depths above are counted in the last histogram cell (median only)


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 0-based
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start


def read_bed(path: Path, contigs: dict[str, int]) -> list[Region]:
    """Merged, sorted BED intervals clipped to the contigs; InputError naming the line if malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"targets {path} does not exist")
    raw: list[Region] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                cols = line.rstrip("\r\n").split("\t")
                where = f"{path.name} line {n}"
                if len(cols) < 3:
                    raise InputError(f"{where}: expected chrom, start and end separated by tabs")
                try:
                    start, end = int(cols[1]), int(cols[2])
                except ValueError:
                    raise InputError(f"{where}: start/end {cols[1]!r}/{cols[2]!r} are not integers") from None
                if start < 0 or end < start:
                    raise InputError(f"{where}: bad interval {start}-{end}")
                if cols[0] not in contigs:
                    raise InputError(f"{where}: contig {cols[0]!r} is not in the alignment's reference")
                end = min(end, contigs[cols[0]])
                if end > start:
                    raw.append(Region(cols[0], start, end))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not a text BED file") from None
    if not raw:
        raise InputError(f"{path.name}: no target intervals")
    order = {c: i for i, c in enumerate(contigs)}
    raw.sort(key=lambda r: (order[r.chrom], r.start, r.end))
    merged = [raw[0]]
    for r in raw[1:]:
        last = merged[-1]
        if r.chrom == last.chrom and r.start <= last.end:
            merged[-1] = Region(last.chrom, last.start, max(last.end, r.end))
        else:
            merged.append(r)
    return merged


def window_depth(bam: pysam.AlignmentFile, chrom: str, start: int, end: int) -> tuple[np.ndarray, int]:
    """Per-base depth over [start, end) and the number of reads counted."""
    diff = np.zeros(end - start + 1, dtype=np.int32)
    starts: list[int] = []
    ends: list[int] = []
    reads = 0
    for read in bam.fetch(chrom, start, end):
        if read.flag & EXCLUDE_FLAGS:
            continue
        reads += 1
        for s, e in read.get_blocks():
            starts.append(s)
            ends.append(e)
    if starts:
        s = np.clip(np.asarray(starts) - start, 0, end - start)
        e = np.clip(np.asarray(ends) - start, 0, end - start)
        diff += np.bincount(s, minlength=len(diff)).astype(np.int32)
        diff -= np.bincount(e, minlength=len(diff)).astype(np.int32)
    return np.cumsum(diff[:-1]), reads


class _Accumulator:
    def __init__(self, total: int):
        self.total = total
        self.nbins = max(1, min(MAX_BINS, total))
        self.sums = np.zeros(self.nbins)
        self.counts = np.zeros(self.nbins)
        self.hist = np.zeros(HIST_CAP + 1, dtype=np.int64)
        self.depth_sum = 0
        self.at_least = dict.fromkeys(THRESHOLDS, 0)
        self.reads = 0
        self.bin_labels: list[tuple[str, int] | None] = [None] * self.nbins

    def add(self, chrom: str, start: int, depth: np.ndarray, offset: int) -> None:
        """The depth of the bases from `start` on `chrom`, the `offset`-th of all bases measured."""
        n = len(depth)
        idx = (offset + np.arange(n, dtype=np.int64)) * self.nbins // self.total
        self.sums += np.bincount(idx, weights=depth, minlength=self.nbins)
        self.counts += np.bincount(idx, minlength=self.nbins)
        for b in np.unique(idx):
            if self.bin_labels[b] is None:
                first = int(np.searchsorted(idx, b))
                self.bin_labels[b] = (chrom, start + first)
        self.hist += np.bincount(np.minimum(depth, HIST_CAP), minlength=HIST_CAP + 1)
        self.depth_sum += int(depth.sum())
        for t in THRESHOLDS:
            self.at_least[t] += int(np.count_nonzero(depth >= t))

    def merge(self, later: _Accumulator) -> None:
        """Add the figures of bases measured after this one's (a bin's label is its first base)."""
        self.sums += later.sums
        self.counts += later.counts
        self.hist += later.hist
        self.depth_sum += later.depth_sum
        self.reads += later.reads
        for t in THRESHOLDS:
            self.at_least[t] += later.at_least[t]
        self.bin_labels = [
            mine or theirs for mine, theirs in zip(self.bin_labels, later.bin_labels, strict=True)
        ]

    def to_json(self) -> str:
        return json.dumps({
            "sums": self.sums.tolist(), "counts": self.counts.tolist(), "hist": self.hist.tolist(),
            "depth_sum": self.depth_sum, "at_least": list(self.at_least.values()), "reads": self.reads,
            "labels": self.bin_labels,
        })  # fmt: skip

    @classmethod
    def from_json(cls, total: int, text: str) -> _Accumulator:
        data, acc = json.loads(text), cls(total)
        acc.sums, acc.counts = np.asarray(data["sums"]), np.asarray(data["counts"])
        acc.hist = np.asarray(data["hist"], dtype=np.int64)
        acc.depth_sum, acc.reads = int(data["depth_sum"]), int(data["reads"])
        acc.at_least = dict(zip(THRESHOLDS, map(int, data["at_least"]), strict=True))
        acc.bin_labels = [tuple(label) if label else None for label in data["labels"]]
        return acc

    def metrics(self) -> dict:
        cum = np.cumsum(self.hist)
        median = int(np.searchsorted(cum, (self.total + 1) / 2)) if self.total else 0
        means = np.divide(self.sums, self.counts, out=np.zeros_like(self.sums), where=self.counts > 0)
        bins = [
            [label[0], label[1] + 1, round(float(m), 2)]
            for label, m in zip(self.bin_labels, means, strict=True)
            if label is not None
        ]
        return {
            "bases": self.total,
            "mean_depth": round(self.depth_sum / self.total, 2) if self.total else 0.0,
            "median_depth": median,
            "fraction_at_least": {f"{t}x": round(self.at_least[t] / self.total, 4) for t in THRESHOLDS},
            "reads_counted": self.reads,
            "profile": {
                "bin_bases": -(-self.total // self.nbins),
                "columns": ["chrom", "start", "mean"],
                "bins": bins,
            },
        }


Chunk = tuple[str, int, int, int]  # chrom, start, end (at most WINDOW bases), offset among all bases


def _measure(bam_path: Path, chunks: list[Chunk], total: int, on_chunk=None) -> _Accumulator:
    acc = _Accumulator(total)
    with pysam.AlignmentFile(str(bam_path)) as bam:
        for chrom, start, end, offset in chunks:
            depth, reads = window_depth(bam, chrom, start, end)
            acc.add(chrom, start, depth, offset)
            acc.reads += reads
            if on_chunk:
                on_chunk(end - start)
    return acc


_CHILD = "from workers.pipeline.coverage import _child_main; _child_main()"


def _child_main() -> None:
    """Measure the chunks of argv (JSON: bam, chunks, total) in this child; JSON on stdout."""
    cfg = json.loads(sys.argv[1])
    chunks = [tuple(c) for c in cfg["chunks"]]
    sys.stdout.write(_measure(Path(cfg["bam"]), chunks, cfg["total"]).to_json())


def _measure_apart(bam_path: Path, chunks: list[Chunk], total: int) -> _Accumulator:
    cfg = json.dumps({"bam": str(bam_path), "chunks": chunks, "total": total})
    out = children.output(_CHILD, cfg, what=f"coverage of {chunks[0][0]}:{chunks[0][1]}")
    return _Accumulator.from_json(total, out.decode())


def coverage(bam_path: Path, targets: Path | None = None, on_progress=None, threads: int = 1) -> dict:
    """Coverage metrics of an indexed BAM over the targets (or every contig); with `threads` > 1
    the reference's windows are measured in as many child processes at once and added up in
    order, which gives the figures one pass gives."""
    with pysam.AlignmentFile(str(bam_path)) as bam:
        contigs = dict(zip(bam.references, bam.lengths, strict=True))
        stats = bam.get_index_statistics()
        unplaced = bam.nocoordinate
    regions = read_bed(targets, contigs) if targets else [Region(c, 0, n) for c, n in contigs.items()]
    total = sum(r.length for r in regions)
    chunks: list[Chunk] = []
    for r in regions:
        for ws in range(r.start, r.end, WINDOW):
            chunks.append((r.chrom, ws, min(ws + WINDOW, r.end), sum(c[2] - c[1] for c in chunks)))
    done = 0

    def heard(bases: int) -> None:
        nonlocal done
        done += bases
        if on_progress:
            on_progress(done / total if total else 1.0)

    if threads <= 1 or len(chunks) < 2:
        acc = _measure(bam_path, chunks, total, heard)
    else:
        n = min(len(chunks), threads * 4)  # consecutive groups, so that each adds to the ones before
        groups = [chunks[len(chunks) * i // n : len(chunks) * (i + 1) // n] for i in range(n)]
        acc = _Accumulator(total)
        with ThreadPoolExecutor(threads) as pool:  # each thread waits on its child
            for part, group in zip(
                pool.map(lambda g: _measure_apart(bam_path, g, total), groups), groups, strict=True
            ):
                acc.merge(part)
                heard(sum(c[2] - c[1] for c in group))
    out = acc.metrics()
    out["over"] = "targets" if targets else "whole reference"
    out["regions"] = len(regions)
    out["mapped_reads"] = sum(s.mapped for s in stats)
    out["unmapped_reads"] = sum(s.unmapped for s in stats) + unplaced
    out["read_filter"] = "mapped, primary, not QC-fail, not duplicate (flag 1796 excluded)"
    return out


class CoverageStep:
    """Depth over ctx.options.targets (or the whole reference) from ctx.artifacts[Artifact.BAM]."""

    name = "coverage"
    reads: tuple[Artifact, ...] = (Artifact.BAM,)
    writes: tuple[Artifact, ...] = ()

    def __call__(self, ctx: SampleContext) -> dict:
        bam = ctx.artifacts.get(Artifact.BAM)
        if bam is None or not Path(bam).exists():
            raise StepSkipped("no alignments (BAM) to measure")
        threads = max(1, int(ctx.options.threads or 1))
        metrics = coverage(Path(bam), ctx.options.targets, on_progress=ctx.progress, threads=threads)
        if ctx.options.targets:
            metrics["targets_bed"] = str(ctx.options.targets)
        return metrics
