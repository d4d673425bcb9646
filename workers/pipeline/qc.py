"""QC step: validate the read pair, measure it, and optionally trim it.

One streaming pass over both files. Statistics are computed per chunk of a few thousand pairs
with a few vectorised numpy passes (no per-read Python work beyond parsing), so 200k pairs take
about 0.7 s of CPU. When trimming (or when old Phred+64 qualities must be converted), the reads
the later steps must use are written to `ctx.out/work/` under temporary names and renamed when
complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import dnaio
import numpy as np

from gems.errors import InputError
from workers.genomics.fastq import PairChunk, check_bases, detect_encoding, iter_pair_chunks, join_bytes
from workers.genomics.readfeed import ReadFeed
from workers.genomics.trimming import PairTrimmer, TrimSettings
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext

_MAX_LEN = 100_000
# Translation table turning Phred+64 characters into Phred+33 ones.
_P64_TO_P33 = bytes(max(c - 31, 33) if c >= 64 else c for c in range(256))


# After check_bases only ACGTN remain, either case; masking bits 0x20 (case) and 0x04 leaves
# 0x43 for C, G, c and g and something else for A, T, N, a, t and n.
_GC_MASK, _GC_VALUE = 0xDB, 0x43
# Quality characters at Q30 and up in either encoding (the offset is known only after the first chunk).
_Q30_CHAR = {33: 33 + 30, 64: 64 + 30}


class _Stats:
    """Running read statistics, a few vectorised passes per chunk (no per-read Python work)."""

    def __init__(self) -> None:
        self.pairs = 0
        self.bases = [0, 0]
        self.gc = 0
        self.qual_chars = 0  # sum of quality characters (offset removed in `summary`)
        self.q30 = dict.fromkeys(_Q30_CHAR, 0)
        self.lo, self.hi = 255, 0
        self.len_hist = np.zeros(_MAX_LEN + 1, dtype=np.int64)

    def add(self, chunk: PairChunk, where: tuple[str, str]) -> np.ndarray:
        """Add a chunk; return the shorter mate's length of each pair."""
        self.pairs += len(chunk)
        shorter: np.ndarray | None = None
        for mate, records in enumerate((chunk.r1, chunk.r2)):
            seqs, quals = join_bytes(records)
            check_bases(seqs, where[mate])
            self.bases[mate] += len(seqs)
            s = np.frombuffer(seqs, dtype=np.uint8)
            self.gc += int(np.count_nonzero((s & _GC_MASK) == _GC_VALUE))
            q = np.frombuffer(quals, dtype=np.uint8)
            if len(q):
                self.qual_chars += int(q.sum(dtype=np.uint64))
                self.lo, self.hi = min(self.lo, int(q.min())), max(self.hi, int(q.max()))
                for offset, char in _Q30_CHAR.items():
                    self.q30[offset] += int(np.count_nonzero(q >= char))
            lengths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
            self.len_hist += np.bincount(np.minimum(lengths, _MAX_LEN), minlength=_MAX_LEN + 1)
            shorter = lengths if shorter is None else np.minimum(shorter, lengths)
        assert shorter is not None  # two mates
        return shorter

    def char_range(self) -> tuple[int, int]:
        return self.lo, self.hi

    def to_dict(self) -> dict:
        """Every count, to be added to another part's (a sharded sample's shards)."""
        lengths = np.nonzero(self.len_hist)[0]
        return {
            "pairs": self.pairs, "bases": list(self.bases), "gc": self.gc, "qual_chars": self.qual_chars,
            "q30": {str(k): v for k, v in self.q30.items()}, "lo": self.lo, "hi": self.hi,
            "len_hist": {str(int(n)): int(self.len_hist[n]) for n in lengths},
        }  # fmt: skip

    @classmethod
    def merged(cls, parts: list[dict]) -> _Stats:
        out = cls()
        for part in parts:
            out.pairs += part["pairs"]
            out.bases = [a + b for a, b in zip(out.bases, part["bases"], strict=True)]
            out.gc += part["gc"]
            out.qual_chars += part["qual_chars"]
            for k, v in part["q30"].items():
                out.q30[int(k)] += v
            out.lo, out.hi = min(out.lo, part["lo"]), max(out.hi, part["hi"])
            for n, count in part["len_hist"].items():
                out.len_hist[int(n)] += count
        return out

    def summary(self, offset: int) -> dict:
        total = self.bases[0] + self.bases[1]
        qsum = self.qual_chars - offset * total
        q30 = self.q30.get(offset, 0)
        lens = np.nonzero(self.len_hist)[0]
        n = int(self.len_hist.sum())
        cum = np.cumsum(self.len_hist)
        median = int(np.searchsorted(cum, (n + 1) // 2))
        return {
            "pairs": self.pairs,
            "reads": 2 * self.pairs,
            "bases": total,
            "bases_r1": self.bases[0],
            "bases_r2": self.bases[1],
            "mean_quality": round(qsum / total, 2) if total else 0.0,
            "q30_fraction": round(q30 / total, 4) if total else 0.0,
            "gc_fraction": round(self.gc / total, 4) if total else 0.0,
            "read_length": {
                "min": int(lens[0]) if len(lens) else 0,
                "max": int(lens[-1]) if len(lens) else 0,
                "mean": round(total / n, 1) if n else 0.0,
                "median": median,
            },
        }


def _extra(ctx: SampleContext, key: str, default):
    return ctx.options.extra.get(key, default) if ctx.options.extra else default


class _PairWriter:
    """Writes the reads later steps use; temporary names until `commit`."""

    def __init__(self, out: Path):
        work = out / "work"
        work.mkdir(parents=True, exist_ok=True)
        self.final = (work / "reads_R1.fastq", work / "reads_R2.fastq")
        self.tmp = tuple(p.with_name(p.name + ".part") for p in self.final)
        self._w = dnaio.open(self.tmp[0], self.tmp[1], mode="w", fileformat="fastq")

    def write(self, a: dnaio.SequenceRecord, b: dnaio.SequenceRecord) -> None:
        self._w.write(a, b)

    def commit(self) -> tuple[Path, Path]:
        self._w.close()
        for tmp, final in zip(self.tmp, self.final, strict=True):
            tmp.replace(final)
        return self.final

    def abort(self) -> None:
        self._w.close()
        for tmp in self.tmp:
            tmp.unlink(missing_ok=True)


class ReadConsumer(Protocol):
    """A later step that can take the reads as QC reads them (`workers.pipeline.align.AlignStep`)."""

    name: str

    def open_stream(self, ctx: SampleContext) -> ReadFeed | None: ...

    def cancel_stream(self, ctx: SampleContext) -> None: ...


class QcStep:
    """Validates the FASTQ pair, reports read statistics, trims when `ctx.options.trim`.

    With `stream_to`, the reads go on to that step as they are read (unless they must be
    rewritten first: trimming, Phred+64), so the aligner maps while QC measures and the files
    are decompressed once. QC's time then includes waiting for the aligner to take the reads.
    """

    name = "qc"
    reads: tuple[Artifact, ...] = ()
    writes: tuple[Artifact, ...] = (Artifact.READS_R1, Artifact.READS_R2)

    def __init__(
        self, stream_to: ReadConsumer | None = None, *, defer: bool = False, offset: int | None = None
    ):
        self.stream_to = stream_to
        # A sharded sample's lead: QC's figures are sums, so its shards measure their own reads
        # (`offset` given: the lead's encoding) and the gather adds them up (`merged_metrics`).
        # The lead checks the head of the files and the encoding, and measures the whole only
        # when it must rewrite the reads (trimming, Phred+64) before the split.
        self.defer, self.offset = defer, offset
        self.tally: dict | None = None  # the counts of the last run, for `merged_metrics`

    def __call__(self, ctx: SampleContext) -> dict:
        min_len = max(int(ctx.options.min_read_length or 0), 0)
        names = (Path(ctx.r1).name, Path(ctx.r2).name)
        stats = _Stats()
        trimmer: PairTrimmer | None = None
        writer: _PairWriter | None = None
        offset: int | None = None
        kept = short = 0
        kept_bases = 0
        stream_to = None if ctx.options.trim else self.stream_to
        feed = stream_to.open_stream(ctx) if stream_to is not None else None
        try:
            for chunk in iter_pair_chunks(ctx.r1, ctx.r2, opener=feed.opener if feed else None):
                shorter = stats.add(chunk, names)
                lo, hi = stats.char_range()
                if offset is None:
                    offset = detect_encoding(lo, hi) if self.offset is None else self.offset
                    detect_encoding(lo, hi)  # in range, whatever the encoding
                    if self.defer and not ctx.options.trim and offset == 33:
                        ctx.artifacts[Artifact.READS_R1], ctx.artifacts[Artifact.READS_R2] = (
                            Path(ctx.r1),
                            Path(ctx.r2),
                        )
                        return {
                            "deferred_to_shards": True,
                            "quality_encoding": "phred+33",
                            "min_read_length": min_len,
                        }
                    if ctx.options.trim or offset == 64:
                        if feed is not None and stream_to is not None:
                            # The aligner must read the rewritten files, not these reads.
                            stream_to.cancel_stream(ctx)
                            feed = None
                        settings = TrimSettings(
                            quality_cutoff=int(_extra(ctx, "trim_quality", 20)),
                            adapter=str(_extra(ctx, "adapter", TrimSettings.adapter)),
                            two_colour=bool(_extra(ctx, "two_colour", False)),
                        )
                        trimmer = PairTrimmer(settings) if ctx.options.trim else None
                        writer = _PairWriter(Path(ctx.out))
                elif offset == 64 and lo < 64:
                    raise InputError("quality characters mix Phred+64 and Phred+33 encodings")
                else:
                    detect_encoding(lo, hi)
                if writer is None:
                    # Nothing to rewrite: count short pairs without a Python loop.
                    short += int((shorter < min_len).sum())
                    continue
                for a, b in zip(chunk.r1, chunk.r2, strict=True):
                    if offset == 64:
                        a.qualities = a.qualities_as_bytes().translate(_P64_TO_P33).decode()
                        b.qualities = b.qualities_as_bytes().translate(_P64_TO_P33).decode()
                    if trimmer is not None:
                        a, b = trimmer(a, b)
                    if len(a) < min_len or len(b) < min_len:
                        short += 1
                        continue
                    kept_bases += len(a) + len(b)
                    kept += 1
                    writer.write(a, b)
                ctx.progress(None)
            if short == stats.pairs:
                raise InputError(
                    f"all {stats.pairs} read pairs are shorter than the minimum length {min_len}"
                    + (" after trimming" if trimmer else "")
                )
            if feed is not None:
                feed.end()
        except BaseException:
            if writer is not None:
                writer.abort()
            if feed is not None and stream_to is not None:
                stream_to.cancel_stream(ctx)
            raise
        self.tally = {"stats": stats.to_dict(), "short": short}
        streamed = stream_to.name if feed is not None and stream_to is not None else None
        if writer is not None:
            r1, r2 = writer.commit()
            ctx.artifacts[Artifact.READS_R1], ctx.artifacts[Artifact.READS_R2] = r1, r2
            metrics = _metrics(
                stats, offset or 33, min_len, short, trimmer is not None, streamed, kept, kept_bases
            )
            if trimmer is not None:
                c = trimmer.counts
                metrics["trimming"] = {
                    "tool": "cutadapt",
                    "quality_cutoff": int(_extra(ctx, "trim_quality", 20)),
                    "adapter": str(_extra(ctx, "adapter", TrimSettings.adapter)),
                    "adapters_found_r1": c.adapters_r1,
                    "adapters_found_r2": c.adapters_r2,
                    "bases_removed": c.bases_removed,
                    "pairs_dropped_short": short,
                }
        else:
            ctx.artifacts[Artifact.READS_R1], ctx.artifacts[Artifact.READS_R2] = Path(ctx.r1), Path(ctx.r2)
            metrics = _metrics(stats, offset or 33, min_len, short, False, streamed)
        ctx.progress(1.0)
        return metrics


def merged_metrics(tallies: list[dict], min_len: int) -> dict:
    """QC's figures for a sample from its shards' counts (`QcStep.tally`): what one pass over the
    whole sample would report (its encoding Phred+33, its reads unchanged)."""
    stats = _Stats.merged([t["stats"] for t in tallies])
    short = sum(t["short"] for t in tallies)
    if stats.pairs and short == stats.pairs:
        raise InputError(f"all {stats.pairs} read pairs are shorter than the minimum length {min_len}")
    return _metrics(stats, 33, min_len, short, False)


def _metrics(
    stats: _Stats, offset: int, min_len: int, short: int, trimmed: bool, streamed_to: str | None = None,
    pairs_used: int | None = None, bases_used: int | None = None,
) -> dict:  # fmt: skip
    """QC's figures: the reads' statistics, then what became of them (`*_used`: the reads the later
    steps use, when QC rewrote them; else every read)."""
    metrics = stats.summary(offset)
    if streamed_to is not None:
        metrics["streamed_to"] = streamed_to
    metrics.update(
        quality_encoding=f"phred+{offset}", min_read_length=min_len, pairs_below_min_length=short, trimmed=trimmed,
        pairs_used=stats.pairs if pairs_used is None else pairs_used,
        bases_used=metrics["bases"] if bases_used is None else bases_used,
    )  # fmt: skip
    return metrics
