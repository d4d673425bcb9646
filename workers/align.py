"""Align step: minimap2 (mappy, short-read preset, paired) to a sorted, duplicate-marked BAM.

Mapping runs in `threads` forked processes sharing the index copy-on-write (mappy holds the
GIL while it maps, so threads would not help); this process parses the FASTQ and turns their
hits into SAM text, overlapping with them the way minimap2's own I/O thread does. The text goes
to a samtools child (`workers.bamfile.BamSink`) that sorts while we map, then marks duplicates
and indexes.
"""

from __future__ import annotations

import multiprocessing
import statistics
from collections import deque
from pathlib import Path

import dnaio
import mappy

from gems.errors import InputError
from workers.bamfile import BamSink, sam_header
from workers.fastq import reader_error
from workers.pipeline import SampleContext, StepSkipped
from workers.reference import Reference, prepare_reference
from workers.samrecord import (
    MAX_FRAG_LEN,
    PairStats,
    hit_tuples,
    mate_scores,
    pair_to_sam,
    strip_mate_suffix,
)

CHUNK_PAIRS = 4096
_ALIGNERS: dict[str, mappy.Aligner] = {}
# Set in the parent before forking mapping processes, read by `_map_chunk` in the children.
_STATE: dict = {}


def reference_for(fasta: Path) -> Reference:
    """The prepared reference (prepare_reference remembers it per process)."""
    return prepare_reference(Path(fasta))


def aligner_for(ref: Reference) -> mappy.Aligner:
    key = str(ref.mmi)
    if key not in _ALIGNERS:
        aligner = mappy.Aligner(key, preset="sr")
        if not aligner:
            raise InputError(f"cannot load the minimap2 index {ref.mmi.name}")
        _ALIGNERS[key] = aligner
    return _ALIGNERS[key]


def _map_seqs(seqs: tuple[list[str], list[str]]) -> list[list]:
    """In a mapping process: hits of each pair as plain tuples (the parent writes the SAM)."""
    aligner = _STATE["aligner"]
    buf = _STATE.setdefault("buf", mappy.ThreadBuffer())
    return [hit_tuples(aligner.map(s1, s2, buf=buf, MD=True)) for s1, s2 in zip(*seqs, strict=True)]


def _format(chunk, hits: list[list], rg_tag: str, stats: PairStats) -> str:
    names, s1, q1, s2, q2 = chunk
    ms1, ms2 = mate_scores(q1), mate_scores(q2)
    return "".join(
        [
            pair_to_sam(n, (a, b), (qa, qb), h, rg_tag, stats, MAX_FRAG_LEN, (m1, m2))
            for n, a, qa, b, qb, h, m1, m2 in zip(names, s1, q1, s2, q2, hits, ms1, ms2, strict=True)
        ]
    )


def _mapped_chunks(r1: Path, r2: Path, threads: int):
    """Yield (chunk, hits) in input order; `threads` mapping processes, a bounded window in flight."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(threads) as pool:
        window: deque = deque()
        for chunk in _chunks(r1, r2):
            window.append((chunk, pool.apply_async(_map_seqs, ((chunk[1], chunk[3]),))))
            if len(window) > 2 * threads + 1:
                done, res = window.popleft()
                yield done, res.get()
        while window:
            done, res = window.popleft()
            yield done, res.get()


def _chunks(r1: Path, r2: Path):
    names, s1, q1, s2, q2 = [], [], [], [], []
    try:
        with dnaio.open(r1, r2, fileformat="fastq") as reader:
            for a, b in reader:
                names.append(strip_mate_suffix(a.id))
                s1.append(a.sequence)
                q1.append(a.qualities)
                s2.append(b.sequence)
                q2.append(b.qualities)
                if len(names) == CHUNK_PAIRS:
                    yield names, s1, q1, s2, q2
                    names, s1, q1, s2, q2 = [], [], [], [], []
    except (dnaio.FileFormatError, EOFError, OSError, ValueError) as exc:
        raise reader_error(exc, Path(r1), Path(r2)) from exc
    if names:
        yield names, s1, q1, s2, q2


def _sample_name(sample: str) -> str:
    # Read-group IDs end up in SAM tag values: no tabs/newlines, no spaces.
    cleaned = "".join(c if c.isprintable() and not c.isspace() else "_" for c in sample)
    return cleaned or "sample"


class AlignStep:
    """Maps the (QC'd) read pair to `ctx.options.reference`; writes `sample.bam` + `.bai`."""

    name = "align"

    def __call__(self, ctx: SampleContext) -> dict:
        if ctx.options.reference is None:
            raise StepSkipped("no reference given")
        ref = reference_for(ctx.options.reference)
        aligner = aligner_for(ref)
        r1 = Path(ctx.artifacts.get("r1", ctx.r1))
        r2 = Path(ctx.artifacts.get("r2", ctx.r2))
        threads = max(int(ctx.options.threads or 1), 1)
        sample = _sample_name(ctx.sample)
        program = {"ID": "minimap2", "PN": "minimap2", "VN": f"{mappy.__version__} (mappy)", "CL": "-ax sr"}
        expected = (ctx.report.get("qc") or {}).get("pairs_used")
        out = Path(ctx.out)
        sink = BamSink(out / "sample.bam", out / "work", threads=threads)
        _STATE.update(aligner=aligner)
        stats = PairStats()
        try:
            sink.write(sam_header(ref.contigs, sample, program))
            rg_tag = f"RG:Z:{sample}"
            for chunk, hits in _mapped_chunks(r1, r2, threads):
                sink.write(_format(chunk, hits, rg_tag, stats))
                if expected:
                    ctx.progress(min(stats.pairs / expected, 0.99) * 0.8)
            ctx.progress(0.85)
            dup = sink.close()
        except BaseException:
            sink.abort()
            raise
        if stats.pairs == 0:
            raise InputError("no read pairs to align")
        ctx.artifacts["bam"] = out / "sample.bam"
        reads = 2 * stats.pairs
        dups = int(dup.get("DUPLICATE TOTAL", 0))
        examined = int(dup.get("EXAMINED", 0)) or stats.mapped
        return {
            "aligner": "minimap2",
            "aligner_version": mappy.__version__,
            "preset": "sr",
            "threads": threads,
            "reads": reads,
            "mapped": stats.mapped,
            "mapping_rate": round(stats.mapped / reads, 4),
            "properly_paired": stats.proper,
            "properly_paired_rate": round(stats.proper / reads, 4),
            "mapq0_reads": stats.mapq0,
            "supplementary": stats.supplementary,
            "duplicates": dups,
            "duplicate_rate": round(dups / examined, 4) if examined else 0.0,
            "insert_size_median": statistics.median(stats.inserts) if stats.inserts else None,
            "reference": ref.to_report(),
            "bam": "sample.bam",
        }
