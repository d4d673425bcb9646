"""The gather's windows see enough of their neighbourhood to mark duplicates as one pass does.

Two copies of a pair whose reverse reads share their unclipped 5' end, but not their alignment:
one copy's read is clipped at its 3' end and aligned before a window's start, ending before it,
the other's starts inside the window. markdup compares the two (same template ends), so the
window must see a read that does not overlap it: its margin. Without the margin the window keeps
the lower-scoring copy unmarked; with it, the window marks as `merge | markdup` over the whole.
"""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest
from window_gather import gather, reference_for

from workers.genomics import windows

LENGTH = 10_000
SEQ = ("ACGTTGCAAGCT" * 13)[:150]
RG = "@RG\tID:r\tSM:s"  # as the pipeline's reads carry: calls name their sample from it


def _pair(name: str, rev_pos: int, rev_cigar: str, qual: str) -> list[str]:
    """A proper FR pair: the forward mate at 4,701 (1-based), the reverse one at `rev_pos`."""
    return [
        f"{name}\t99\tc\t4701\t60\t150M\t=\t{rev_pos}\t0\t{SEQ}\t{qual * 150}\tRG:Z:r",
        f"{name}\t147\tc\t{rev_pos}\t60\t{rev_cigar}\t=\t4701\t0\t{SEQ}\t{qual * 150}\tRG:Z:r",
    ]


def _shard(folder: Path, lines: list[str]) -> Path:
    """A shard's BAM as the shards' line leaves it: fixmate -m, coordinate-sorted."""
    folder.mkdir(parents=True)
    sam = folder / "reads.sam"
    sam.write_text(f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:c\tLN:{LENGTH}\n{RG}\n" + "\n".join(lines) + "\n")
    fixed = folder / "fixed.bam"
    pysam.samtools.fixmate("-m", str(sam), str(fixed), catch_stdout=False)
    out = folder / "shard.bam"
    pysam.samtools.sort("-o", str(out), str(fixed), catch_stdout=False)
    return out


def _marks(bam: Path) -> dict[tuple[str, int], bool]:
    with pysam.AlignmentFile(str(bam)) as fh:
        return {(r.query_name, r.flag & 0xC0): r.is_duplicate for r in fh.fetch(until_eof=True)}


@pytest.fixture
def shards(tmp_path):
    # The better copy (qualities 'I'): its reverse read 70M80S at 4,926, aligned to 4,995, its
    # unclipped 5' end at 5,075. The worse one ('5'): 80S70M at 5,006, the same unclipped end.
    # The second of two windows over the contig starts at 5,001 (1-based).
    better = _shard(tmp_path / "s0", _pair("better", 4926, "70M80S", "I"))
    worse = _shard(tmp_path / "s1", _pair("worse", 5006, "80S70M", "5"))
    whole = tmp_path / "whole.bam"
    merged = tmp_path / "merged.bam"
    pysam.samtools.merge("-c", "-p", "-o", str(merged), str(better), str(worse), catch_stdout=False)
    pysam.samtools.markdup(str(merged), str(whole), catch_stdout=False)
    return [better, worse], whole


def test_windows_mark_what_one_pass_marks(shards, tmp_path):
    bams, whole = shards
    assert [w.intervals for w in windows.plan({"c": LENGTH}, 2)] == [
        (("c", 0, 5000),),
        (("c", 5000, LENGTH),),
    ]
    gather(bams, tmp_path / "sample.bam", tmp_path / "work", reference_for(tmp_path, {"c": LENGTH}), 2)
    expected = _marks(whole)
    assert expected[("worse", 0x80)] and expected[("worse", 0x40)]  # the worse copy, both reads
    assert _marks(tmp_path / "sample.bam") == expected


def test_without_its_margin_a_window_misses_a_duplicate(shards, tmp_path, monkeypatch):
    bams, whole = shards
    monkeypatch.setattr(windows, "MARGIN", 0)
    gather(bams, tmp_path / "sample.bam", tmp_path / "work", reference_for(tmp_path, {"c": LENGTH}), 2)
    got = _marks(tmp_path / "sample.bam")
    assert got[("worse", 0x40)] and not got[("worse", 0x80)]  # the second window never saw `better`
    assert got != _marks(whole)


def test_a_window_spanning_contigs_keeps_only_its_own_reads():
    contigs = {"a": 1_000, "b": 500, "c": 1_000}
    planned = windows.plan(contigs, 2)
    assert [w.intervals for w in planned] == [
        (("a", 0, 1000), ("b", 0, 250)),
        (("b", 250, 500), ("c", 0, 1000)),
    ]
    first, second = planned
    assert first.bed(contigs, margin=100) == "a\t0\t1000\nb\t0\t350\n"
    assert second.bed(contigs, margin=100) == "b\t150\t500\nc\t0\t1000\n"
    assert first.own() == '!((rname == "a" && pos <= 0) || (rname == "b" && pos > 250))'
    assert second.own() == '!((rname == "b" && pos <= 250) || (rname == "c" && pos > 1000))'


def test_windows_across_contigs_and_unplaced_reads_keep_every_read_in_order(tmp_path):
    """Pairs (and copies of them) on three contigs and a pair with no position: windows that cut
    contigs and span them give the one pass's records, in its order."""
    lines = {0: [], 1: []}
    for i, (contig, pos) in enumerate([("a", 100), ("a", 600), ("b", 40), ("b", 200), ("c", 5), ("c", 700)]):
        for copy in (0, 1):
            q = "I5"[copy]
            lines[copy] += [
                f"p{i}.{copy}\t99\t{contig}\t{pos}\t60\t150M\t=\t{pos + 100}\t0\t{SEQ}\t{q * 150}\tRG:Z:r",
                f"p{i}.{copy}\t147\t{contig}\t{pos + 100}\t60\t150M\t=\t{pos}\t0\t{SEQ}\t{q * 150}\tRG:Z:r",
            ]
    lines[1] += [
        f"u\t77\t*\t0\t0\t*\t*\t0\t0\t{SEQ}\t{'I' * 150}\tRG:Z:r",
        f"u\t141\t*\t0\t0\t*\t*\t0\t0\t{SEQ}\t{'I' * 150}\tRG:Z:r",
    ]
    header = f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:a\tLN:1000\n@SQ\tSN:b\tLN:500\n@SQ\tSN:c\tLN:1000\n{RG}\n"
    bams = []
    for copy in (0, 1):
        folder = tmp_path / f"s{copy}"
        folder.mkdir()
        (folder / "reads.sam").write_text(header + "\n".join(lines[copy]) + "\n")
        pysam.samtools.fixmate("-m", str(folder / "reads.sam"), str(folder / "fixed.bam"), catch_stdout=False)
        pysam.samtools.sort("-o", str(folder / "shard.bam"), str(folder / "fixed.bam"), catch_stdout=False)
        bams.append(folder / "shard.bam")
    pysam.samtools.merge("-c", "-p", "-o", str(tmp_path / "merged.bam"), *map(str, bams), catch_stdout=False)
    pysam.samtools.markdup(str(tmp_path / "merged.bam"), str(tmp_path / "whole.bam"), catch_stdout=False)

    def records(bam: Path) -> list[tuple]:  # tags as a set: samtools merge writes RG:Z last
        with pysam.AlignmentFile(str(bam)) as fh:
            return [
                (*(f := r.to_string().split("\t"))[:11], frozenset(f[11:])) for r in fh.fetch(until_eof=True)
            ]

    expected = records(tmp_path / "whole.bam")
    assert sum(int(r[1]) & 0x400 > 0 for r in expected) == 12  # every copy's reads
    ref = reference_for(tmp_path / "ref", {"a": 1000, "b": 500, "c": 1000})
    for n, units in ((1, 1), (2, 1), (3, 2), (5, 3)):
        out = tmp_path / f"sample-{n}.bam"
        gather(bams, out, tmp_path / f"work-{n}", ref, n, units)
        assert records(out) == expected, n
