"""QcStep on tiny FASTQ pairs: statistics, trimming, and every kind of bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import dnaio
import pytest
from calling_fastq_helpers import write_fastq

from gems.errors import InputError
from workers.pipeline.framework import PipelineOptions, SampleContext
from workers.pipeline.qc import QcStep

ADAPTER = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCAC"


def _pair(tmp_path: Path, r1, r2, suffix=".fastq.gz"):
    return write_fastq(tmp_path / f"r1{suffix}", r1), write_fastq(tmp_path / f"r2{suffix}", r2)


def _ctx(tmp_path: Path, r1: Path, r2: Path, **opts) -> SampleContext:
    return SampleContext("s1", r1, r2, tmp_path / "out", PipelineOptions(**opts))


def _reads(n, seq="ACGTACGTAC" * 4, qual="I" * 40, mate=""):
    return [(f"read{i}{mate}", seq, qual) for i in range(n)]


def test_statistics_of_a_good_pair(tmp_path):
    r1 = [("a/1", "GGCCAATT", "IIII####"), ("b/1", "ACGT", "IIII")]
    r2 = [("a/2", "AAAAAAAA", "55555555"), ("b/2", "CCGG", "IIII")]
    f1, f2 = _pair(tmp_path, r1, r2)
    ctx = _ctx(tmp_path, f1, f2, min_read_length=1)
    m = QcStep()(ctx)
    assert (m["pairs"], m["reads"], m["bases"]) == (2, 4, 24)
    # qualities: 8x40 ('I') + 4x2 ('#') + 8x20 ('5') + 4x40 = 648 over 24 bases
    assert m["mean_quality"] == pytest.approx(648 / 24, abs=0.01)
    assert m["gc_fraction"] == pytest.approx((4 + 2 + 0 + 4) / 24, abs=1e-4)
    assert m["q30_fraction"] == pytest.approx(12 / 24, abs=1e-4)
    assert m["read_length"] == {"min": 4, "max": 8, "mean": 6.0, "median": 4}
    assert m["quality_encoding"] == "phred+33"
    assert ctx.artifacts["r1"] == f1 and ctx.artifacts["r2"] == f2
    assert not (tmp_path / "out" / "work").exists()


def test_illumina_comments_and_mate_suffixes_pair(tmp_path):
    r1 = [("M1:1:FC:1:1:1:1 1:N:0:ACGT", "ACGT" * 10, "I" * 40)]
    r2 = [("M1:1:FC:1:1:1:1 2:N:0:ACGT", "ACGT" * 10, "I" * 40)]
    f1, f2 = _pair(tmp_path, r1, r2, suffix=".fastq")
    assert QcStep()(_ctx(tmp_path, f1, f2))["pairs"] == 1


def test_trimming_removes_adapters_and_drops_short_pairs(tmp_path):
    insert = "TTGACCTGAAGGCCTAGGATCCAAGTTCAGGACTTGGATC"  # 40 bases
    r1 = [("p1/1", insert + ADAPTER[:20], "I" * 60), ("p2/1", "ACGTTGCA" + ADAPTER + "A" * 18, "I" * 60)]
    r2 = [
        ("p1/2", insert[::-1] + ADAPTER[:20], "I" * 60),
        ("p2/2", "TGCAACGT" + ADAPTER + "A" * 18, "I" * 60),
    ]
    f1, f2 = _pair(tmp_path, r1, r2)
    ctx = _ctx(tmp_path, f1, f2, trim=True, min_read_length=30)
    m = QcStep()(ctx)
    assert m["trimmed"] and m["pairs"] == 2 and m["pairs_used"] == 1
    assert m["trimming"]["pairs_dropped_short"] == 1
    assert m["trimming"]["adapters_found_r1"] == 2
    with dnaio.open(ctx.artifacts["r1"], file2=ctx.artifacts["r2"]) as fh:
        kept = list(fh)
    assert [(a.name, a.sequence) for a, _ in kept] == [("p1/1", insert)]
    assert not list((tmp_path / "out" / "work").glob("*.part"))


def test_quality_trimming_cuts_low_quality_tails(tmp_path):
    seq = "ACGTTGCAAGGCTTACCGATAGCTAGGCTAGCATCGATCG"
    r1 = [("q/1", seq, "I" * 32 + "#" * 8)]
    r2 = [("q/2", seq, "I" * 40)]
    f1, f2 = _pair(tmp_path, r1, r2)
    ctx = _ctx(tmp_path, f1, f2, trim=True, min_read_length=20)
    QcStep()(ctx)
    with dnaio.open(ctx.artifacts["r1"]) as fh:
        assert len(next(iter(fh))) == 32


def test_phred64_is_detected_and_converted(tmp_path):
    qual64 = "h" * 30 + "J" * 10  # Q40 and Q10 in Phred+64
    f1, f2 = _pair(tmp_path, _reads(3, qual=qual64, mate="/1"), _reads(3, qual=qual64, mate="/2"))
    ctx = _ctx(tmp_path, f1, f2)
    m = QcStep()(ctx)
    assert m["quality_encoding"] == "phred+64"
    assert m["mean_quality"] == pytest.approx((30 * 40 + 10 * 10) / 40, abs=0.01)
    with dnaio.open(ctx.artifacts["r1"]) as fh:
        assert next(iter(fh)).qualities == "I" * 30 + "+" * 10


@pytest.mark.parametrize("trim", [False, True])
def test_truncated_gzip_is_an_input_error_and_leaves_nothing(tmp_path, trim):
    f1, f2 = _pair(tmp_path, _reads(20000, mate="/1"), _reads(20000, mate="/2"))
    data = f1.read_bytes()
    f1.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        QcStep()(_ctx(tmp_path, f1, f2, trim=trim))
    work = tmp_path / "out" / "work"
    assert not work.exists() or not list(work.iterdir())


def test_different_read_counts(tmp_path):
    f1, f2 = _pair(tmp_path, _reads(5, mate="/1"), _reads(4, mate="/2"))
    with pytest.raises(InputError, match="do not pair.*more reads"):
        QcStep()(_ctx(tmp_path, f1, f2))


def test_different_read_names(tmp_path):
    r2 = _reads(3, mate="/2")
    r2[1] = ("other/2", r2[1][1], r2[1][2])
    f1, f2 = _pair(tmp_path, _reads(3, mate="/1"), r2)
    with pytest.raises(InputError, match="do not pair.*other"):
        QcStep()(_ctx(tmp_path, f1, f2))


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is a text file\nnot reads\n",
        b">chr1\nACGT\n",
        b"@r1\nACGT\n+\nII\n",
        b"\x00\x01binary\xff\xfe",
    ],
    ids=["text", "fasta", "length-mismatch", "binary"],
)
def test_non_fastq(tmp_path, content):
    f1 = tmp_path / "r1.fastq"
    f1.write_bytes(content)
    f2 = write_fastq(tmp_path / "r2.fastq", _reads(1, mate="/2"))
    with pytest.raises(InputError, match="FASTQ|pair"):
        QcStep()(_ctx(tmp_path, f1, f2))


def test_invalid_base_characters(tmp_path):
    f1, f2 = _pair(tmp_path, [("a/1", "ACGTXZ", "IIIIII")], [("a/2", "ACGTAC", "IIIIII")])
    with pytest.raises(InputError, match="invalid base"):
        QcStep()(_ctx(tmp_path, f1, f2, min_read_length=1))


def test_empty_files(tmp_path):
    f1, f2 = tmp_path / "r1.fastq.gz", tmp_path / "r2.fastq.gz"
    f1.write_bytes(b"")
    f2.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        QcStep()(_ctx(tmp_path, f1, f2))
    # a valid gzip stream holding nothing is empty too
    for f in (f1, f2):
        with gzip.open(f, "wb"):
            pass
    with pytest.raises(InputError, match="no reads"):
        QcStep()(_ctx(tmp_path, f1, f2))


def test_missing_file(tmp_path):
    f2 = write_fastq(tmp_path / "r2.fastq", _reads(1, mate="/2"))
    with pytest.raises(InputError, match="not found"):
        QcStep()(_ctx(tmp_path, tmp_path / "nope.fastq", f2))


@pytest.mark.parametrize("trim", [False, True])
def test_all_reads_shorter_than_minimum(tmp_path, trim):
    f1, f2 = _pair(
        tmp_path, _reads(4, seq="ACGTACGTAC", qual="I" * 10), _reads(4, seq="ACGTACGTAC", qual="I" * 10)
    )
    with pytest.raises(InputError, match="shorter than the minimum length 30"):
        QcStep()(_ctx(tmp_path, f1, f2, trim=trim, min_read_length=30))
    work = tmp_path / "out" / "work"
    assert not work.exists() or not list(work.iterdir())
