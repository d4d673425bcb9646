"""A sharded sample's windows, worked where the shards were aligned, and put together by its lead.

The gather (workers.genomics.windows) marks duplicates window by window; so can the fleet. Once
every shard's BAM is in the store, each shard's worker takes its share of the windows of the
reference (`owned`) and, for each, reads every shard's reads in the window and its margins (by
range, through the BAMs' indexes), marks duplicates, and leaves:

- the window's own reads (`view -e own`), a part of the sample's BAM, counted (bamstats) and
  with its `samtools stats` (workers.genomics.samstats adds those up);
- the raw calls of the window's regions (mpileup | call over the marked reads with their
  margins: every read that overlaps a region is there, with the marks one pass gives it), which
  concatenated in order are the calls of one pass (workers.pipeline.variants).

The lead then concatenates the parts and the reads with no position into `sample.bam`, adds up
the counts and stats, and concatenates the calls (`assemble`): no pass over the whole sample
is left to it but what follows calling. A window's work is independent of every other's, so a
lost worker's windows are worked again by its relaunch alone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pysam import bcftools

from workers.genomics import bamstats, children, regions, samstats, windows
from workers.genomics.bamfile import COMPRESSION_LEVEL, WINDOW_STAGES, BamWriter
from workers.genomics.reference import Reference
from workers.pipeline import variants

# The marked reads with margins are read twice more on this worker (own reads, calling): fast
# to write, and never uploaded.
MARGIN_LEVEL = 1


@dataclass(frozen=True)
class WindowParts:
    """What one window leaves: `bam` (its own reads), `calls` (raw BCF, None when it holds no
    region to call), `counts` and `stats` of its own reads."""

    index: int
    bam: Path
    calls: Path | None
    counts: bamstats.AlignmentCounts
    stats: str

    def summary(self) -> str:
        """The counts and stats as the store keeps them beside the files."""
        counts = json.loads(self.counts.to_json())
        return json.dumps(
            {"index": self.index, "called": self.calls is not None, "counts": counts, "stats": self.stats}
        )

    @classmethod
    def from_summary(cls, text: str, bam: Path, calls: Path | None) -> WindowParts:
        data = json.loads(text)
        counts = bamstats.AlignmentCounts.from_json(json.dumps(data["counts"]))
        return cls(int(data["index"]), bam, calls, counts, data["stats"])


def plan(contigs: dict[str, int], pairs: int, units: int, threads: int) -> list[windows.Window]:
    """The sample's windows: as many for each of its `units` workers as one worker's gather of its
    share would use (workers.genomics.windows.windows_for), every one the same on every worker."""
    return windows.plan(contigs, units * windows.windows_for(max(1, pairs // max(1, units)), threads))


def owned(planned: list[windows.Window], units: int, unit: int) -> list[windows.Window]:
    """Unit `unit`'s windows of `units`: every units-th, so that no worker holds only one stretch
    of the genome (its depth, its repeats) while another holds only the next."""
    return [w for w in planned if w.index % units == unit]


def call_regions(w: windows.Window, wanted: list[regions.Interval] | None) -> list[regions.Interval]:
    """The window's stretch of the regions calling covers (the targets, or all of it)."""
    if wanted is None:
        return list(w.intervals)
    out: list[regions.Interval] = []
    for c, s, e in w.intervals:
        out.extend((c, max(s, ws), min(e, we)) for wc, ws, we in wanted if wc == c and ws < e and we > s)
    return out


def work_window(
    w: windows.Window, inputs: list[str], contigs: dict[str, int], ref: Reference, work: Path,
    targets: list[regions.Interval] | None, extra_env: dict[str, str] | None = None,
) -> WindowParts:  # fmt: skip
    """One window: `inputs` are the shards' sorted BAMs (paths, or S3 URLs with `extra_env`);
    `targets` merged (regions.merged), or None to call all of it."""
    folder = Path(work) / f"window-{w.index:04d}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    bed = folder / "window.bed"
    bed.write_text(w.bed(contigs))
    margin, part = folder / "margin.bam", Path(work) / f"window-{w.index:04d}.bam"
    BamWriter(
        None, margin, folder, stages=WINDOW_STAGES, inputs=tuple(inputs), bed=bed,
        extra_env=extra_env, level=MARGIN_LEVEL,
    ).close()  # fmt: skip
    children.samtools(
        "view", "-b", "--no-PG", "-e", w.own(), "--output-fmt-option", f"level={COMPRESSION_LEVEL}",
        "-o", str(part), str(margin),
    )  # fmt: skip
    counts = bamstats.count_apart(part)
    stats = children.samtools_output("stats", "-m", "1", "-r", str(ref.fasta), str(part))
    calls: Path | None = None
    called = call_regions(w, targets)
    if called:
        calls = Path(work) / f"window-{w.index:04d}.bcf"
        variants.call_region(ref, margin, called, targets, calls)
    shutil.rmtree(folder, ignore_errors=True)
    return WindowParts(w.index, part, calls, counts, stats)


def work_windows(
    mine: list[windows.Window], inputs: list[str], contigs: dict[str, int], ref: Reference, work: Path,
    threads: int, wanted: list[regions.Interval] | None, extra_env: dict[str, str] | None = None,
    on_done: Callable[[WindowParts], None] | None = None,
) -> list[WindowParts]:  # fmt: skip
    """`mine`, `threads` windows at once (each thread waits on its window's tools); `on_done` hears
    each window as it is done (in its thread: a worker uploads it while the others run)."""
    targets = regions.merged(wanted, contigs) if wanted is not None else None  # once, not per window

    def one(w: windows.Window) -> WindowParts:
        parts = work_window(w, inputs, contigs, ref, work, targets, extra_env)
        if on_done is not None:
            on_done(parts)
        return parts

    with ThreadPoolExecutor(max(1, threads)) as pool:
        return list(pool.map(one, mine))


@dataclass(frozen=True)
class Assembled:
    counts: bamstats.AlignmentCounts
    stats: str  # samtools stats of the whole BAM
    calls: Path | None  # raw calls of every window, in order (None: no window called)


def assemble(
    parts: list[WindowParts], inputs: list[str], planned: list[windows.Window], final: Path, work: Path,
    threads: int, ref: Reference, extra_env: dict[str, str] | None = None,
) -> Assembled:  # fmt: skip
    """The lead's end: `final` (+ .bai) from the windows' parts (in order) and each shard's reads
    with no position; the counts and stats of all of it; the calls concatenated."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    parts = sorted(parts, key=lambda p: p.index)
    if [p.index for p in parts] != [w.index for w in planned]:
        raise RuntimeError(f"{len(parts)} window parts for {len(planned)} windows")
    unplaced = [work / f"unplaced-{i:04d}.bam" for i in range(len(inputs))]
    texts, counts = [p.stats for p in parts], [p.counts for p in parts]
    for src, out in zip(inputs, unplaced, strict=True):
        children.samtools(
            "view", "-b", "--no-PG", "--output-fmt-option", f"level={COMPRESSION_LEVEL}", "-o", str(out), src, "*",
            extra_env=extra_env, cwd=work,
        )  # fmt: skip
        counts.append(bamstats.count(out))
        texts.append(children.samtools_output("stats", "-m", "1", "-r", str(ref.fasta), str(out)))
    try:
        windows.concatenate([p.bam for p in parts] + unplaced, final, threads)
    finally:
        for p in unplaced:
            p.unlink(missing_ok=True)
    spans = [sum(e - s for _, s, e in w.intervals) for w in planned] + [0] * len(inputs)
    command = f"stats -r {ref.fasta.name} {final.name} (gems: {len(texts)} windows' stats, merged)"
    calls = [p.calls for p in parts if p.calls is not None]
    joined: Path | None = None
    if calls:
        joined = work / "calls.bcf"
        variants.run_tool(bcftools.concat, "-Ou", "-o", str(joined), *map(str, calls))
    return Assembled(bamstats.AlignmentCounts.added(counts), samstats.merge(texts, command, spans), joined)
