"""Windows of the reference: a sharded sample's duplicates marked, kept and called window by window.

`samtools markdup` decides a read's mark from the reads whose unclipped 5' ends lie within its
maximum read length (`-l`, 300 bases) of the read's own, keyed by the two ends of its template
as the read's MC tag gives them: it never needs the mate's record, and it writes reads in the
order it reads them. So a window of the reference can be marked apart from the rest, exactly as
one pass over the whole sample marks it, when markdup sees the window's reads with enough of
their neighbourhood (`MARGIN` bases on each side, far more than a short read, its clips and its
deletions span) and only the window's own reads are kept. Kept windows, concatenated in the
reference's order, then the reads with no position (unmapped pairs, in shard order), are the
records of `samtools merge | samtools markdup` over all shards, in the same order with the
same marks (tests/integration/calling/test_calling_shards.py holds us to it on real reads).

This module plans the windows (pure) and holds what works on them on any machine: the shards'
workers mark and call them (workers.pipeline.windowphase), and the CRAM conversion reads a BAM
window by window (`to_cram`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pysam

from gems.errors import InputError
from workers.genomics import children, regions

MARGIN = 10_000
WINDOWS_PER_THREAD = 4  # windows differ in depth; more of them than threads keeps every thread busy
# A window's tools cost about 0.3 CPU-seconds to start (benchmarks.genome): a window of fewer
# pairs than this would spend more than a tenth of its time starting.
MIN_WINDOW_PAIRS = 250_000
CRAM_WINDOW_BYTES = 25_000_000  # of BAM: a window's conversion then outweighs starting its samtools


@dataclass(frozen=True)
class Window:
    """Consecutive intervals of the reference (a piece of one contig, or the end of one, whole
    contigs and the start of another) whose reads one line marks and keeps."""

    index: int
    intervals: tuple[regions.Interval, ...]

    def to_dict(self) -> dict:
        return {"index": self.index, "intervals": [list(i) for i in self.intervals]}

    @classmethod
    def from_dict(cls, data: dict) -> Window:
        return cls(int(data["index"]), tuple((str(c), int(s), int(e)) for c, s, e in data["intervals"]))

    def bed(self, contigs: dict[str, int], margin: int | None = None) -> str:
        """The reads markdup must see: the intervals with `margin` (MARGIN) bases either side."""
        margin = MARGIN if margin is None else margin
        return "".join(
            f"{c}\t{max(0, s - margin)}\t{min(contigs[c], e + margin)}\n" for c, s, e in self.intervals
        )

    def own(self) -> str:
        """A samtools filter expression true for the window's own reads (by 1-based `pos`): every
        read it was given except those of the margins, which lie before its first interval or
        after its last (the intervals between are whole contigs)."""
        first, last = self.intervals[0], self.intervals[-1]
        return f'!((rname == "{first[0]}" && pos <= {first[1]}) || (rname == "{last[0]}" && pos > {last[2]}))'


def plan(contigs: dict[str, int], n: int) -> list[Window]:
    """About `n` windows of equal bases over every contig, in the reference's order."""
    for name in contigs:
        if '"' in name or "\\" in name:  # it would end the filter expression's string
            raise InputError(f"reference contig name {name!r} holds a quote or a backslash")
    groups = regions.scatter(regions.whole(contigs), max(1, n))
    return [Window(i, tuple(group)) for i, group in enumerate(groups)]


# pysam's samtools runs in this process, holding the GIL and this process's stdout: one call at a
# time, from one thread, each with htslib's own threads.


def index_inputs(bams: list[Path], threads: int) -> None:
    """Index the shard BAMs that have no index yet (the windows read them by region)."""
    todo = [str(b) for b in bams if not Path(str(b) + ".bai").exists()]
    if todo:
        pysam.samtools.index("-M", "-@", str(threads), *todo, catch_stdout=False)


def concatenate(parts: list[Path], final: Path, threads: int, index: str = ".bai") -> None:
    """`samtools cat` of BAMs or CRAMs (blocks and containers copied, not recompressed), indexed
    (`index`: .bai or .crai); index first, alignments last."""
    part = Path(str(final) + ".part")
    idx = Path(str(part) + index)
    try:
        children.samtools("cat", "--no-PG", "-o", str(part), *map(str, parts))
        children.samtools("index", "-@", str(threads), "-o", str(idx), str(part))
        idx.replace(Path(str(final) + index))
        part.replace(final)
    finally:
        part.unlink(missing_ok=True)
        idx.unlink(missing_ok=True)


def to_cram(
    bam: Path, fasta: Path, final: Path, work: Path, threads: int = 1, windows: int | None = None
) -> None:
    """`samtools view -C` of an indexed BAM into `final` (+ .crai), `threads` windows at once
    (`windows` of them; unless given, one per CRAM_WINDOW_BYTES of BAM, WINDOWS_PER_THREAD a
    thread at most): each window's own reads into a CRAM of their own, then the reads with no
    position; the parts concatenated in order (`samtools cat`) hold the BAM's records in its order."""
    threads = max(1, threads)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    with pysam.AlignmentFile(str(bam)) as fh:
        contigs = dict(zip(fh.references, fh.lengths, strict=True))
    if windows is None:
        windows = min(threads * WINDOWS_PER_THREAD, Path(bam).stat().st_size // CRAM_WINDOW_BYTES)
    planned = plan(contigs, max(1, windows))
    parts = [work / f"window-{w.index:04d}.cram" for w in planned] + [work / "unplaced.cram"]
    to_cram_args = ["-C", "--no-PG", "-T", str(fasta)]

    def convert(w: Window) -> None:
        bed = work / f"window-{w.index:04d}.bed"
        bed.write_text(w.bed(contigs, margin=0))
        children.samtools(
            "view", *to_cram_args, "-L", str(bed), "-e", w.own(), "-o", str(parts[w.index]), str(bam)
        )

    try:
        with ThreadPoolExecutor(threads) as pool:  # each thread waits on its window's samtools
            list(pool.map(convert, planned))
        children.samtools("view", *to_cram_args, "-o", str(parts[-1]), str(bam), "*")
        concatenate(parts, final, threads, index=".crai")
    finally:
        for p in parts:
            p.unlink(missing_ok=True)


def windows_for(pairs: int, threads: int) -> int:
    """How many windows a gather of `pairs` read pairs uses on `threads` threads: enough to keep
    every thread busy, never so many that starting the tools outweighs their work."""
    return max(1, min(threads * WINDOWS_PER_THREAD, pairs // MIN_WINDOW_PAIRS))
