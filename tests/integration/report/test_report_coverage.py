"""CoverageStep on a small hand-made BAM whose depth is known base by base."""

from __future__ import annotations

import re
from pathlib import Path

import pysam
import pytest

from gems.errors import InputError
from workers.pipeline import coverage as coverage_module
from workers.pipeline.artifacts import Artifact
from workers.pipeline.coverage import CoverageStep, coverage, read_bed
from workers.pipeline.framework import Pipeline, PipelineOptions, SampleContext, StepSkipped


def _bam(tmp: Path) -> Path:
    """Contig c1 (1000 bp) and c2 (500 bp). Reads (0-based starts):
    r1 100 50M; r2 120 20M10D20M (no depth over the deletion 140-149); r3 130 50M duplicate;
    r4 130 50M secondary; r5 900 100M; r6 on c2 at 0 30M; r7 unmapped without position.
    """
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": "c1", "LN": 1000}, {"SN": "c2", "LN": 500}],
    }
    path, unsorted = tmp / "s.bam", tmp / "u.bam"
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for name, ref, pos, cigar, flag in [
            ("r1", 0, 100, "50M", 0),
            ("r2", 0, 120, "20M10D20M", 0),
            ("r3", 0, 130, "50M", 0x400),
            ("r4", 0, 130, "50M", 0x100),
            ("r5", 0, 900, "100M", 0),
            ("r6", 1, 0, "30M", 0),
            ("r7", -1, -1, None, 0x4),
        ]:
            a = pysam.AlignedSegment(out.header)
            a.query_name, a.flag = name, flag
            a.reference_id, a.reference_start = ref, pos
            if cigar:
                a.cigarstring, a.mapping_quality = cigar, 60
            n = sum(int(x) for x in re.findall(r"(\d+)[MI]", cigar or "10M"))
            a.query_sequence, a.query_qualities = "A" * n, pysam.qualitystring_to_array("I" * n)
            out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


def test_depth_over_targets(tmp_path):
    bam = _bam(tmp_path)
    bed = tmp_path / "t.bed"
    # 100-160 on c1 (60 bp) + overlapping 150-170 (merged to 100-170), and c2 0-10
    bed.write_text("track name=t\nc1\t100\t160\nc1\t150\t170\nc2\t0\t10\n")
    m = coverage(bam, bed)
    # c1 100-120: r1 only (1x); 120-140: r1+r2 (2x); 140-150: r1 (r2 deleted); 150-170: r2 (r1 ends at 150)
    expected = [1] * 20 + [2] * 20 + [1] * 10 + [1] * 20 + [1] * 10
    assert m["bases"] == 80 and m["regions"] == 2
    assert m["mean_depth"] == round(sum(expected) / 80, 2)
    assert m["fraction_at_least"] == {"1x": 1.0, "10x": 0.0, "20x": 0.0, "30x": 0.0}
    assert m["median_depth"] == 1
    assert m["over"] == "targets"
    bins = m["profile"]["bins"]
    assert len(bins) == 80 and bins[0] == ["c1", 101, 1.0] and bins[25] == ["c1", 126, 2.0]
    assert bins[-1] == ["c2", 10, 1.0]
    assert m["mapped_reads"] == 6 and m["unmapped_reads"] == 1


def test_whole_reference_bins(tmp_path):
    m = coverage(_bam(tmp_path))
    assert m["bases"] == 1500 and m["over"] == "whole reference"
    assert m["mean_depth"] == round((50 + 40 + 100 + 30) / 1500, 2)
    assert len(m["profile"]["bins"]) == 500 and m["profile"]["bin_bases"] == 3
    # covered: c1 100-170 and 900-1000, c2 0-30
    assert m["fraction_at_least"]["1x"] == round((70 + 100 + 30) / 1500, 4)


@pytest.mark.parametrize(
    "text,message",
    [
        ("c1\t10\n", "line 1: expected chrom, start and end"),
        ("c1\tx\t20\n", "line 1: start/end 'x'/'20' are not integers"),
        ("c1\t10\t20\nc9\t1\t5\n", "line 2: contig 'c9' is not in the alignment's reference"),
        ("c1\t30\t20\n", "line 1: bad interval 30-20"),
        ("# only a comment\n", "no target intervals"),
    ],
)
def test_bad_bed(tmp_path, text, message):
    bed = tmp_path / "t.bed"
    bed.write_text(text)
    with pytest.raises(InputError, match=message):
        read_bed(bed, {"c1": 1000})


class _NoReference:
    """Alignment without a reference: it skips, and no BAM is made."""

    name = "align"
    reads = ()
    writes = (Artifact.BAM,)

    def __call__(self, ctx):
        raise StepSkipped("no reference given")


def test_step_skips_without_bam_and_runs_with_one(tmp_path):
    ctx = SampleContext("s", tmp_path / "a", tmp_path / "b", tmp_path / "out", PipelineOptions())
    report = Pipeline([_NoReference(), CoverageStep()]).run(ctx)
    assert report["steps"]["coverage"]["status"] == "skipped"
    ctx = SampleContext("s", tmp_path / "a", tmp_path / "b", tmp_path / "out2", PipelineOptions())
    ctx.artifacts["bam"] = _bam(tmp_path)
    report = Pipeline([CoverageStep()]).run(ctx)
    assert report["coverage"]["bases"] == 1500


@pytest.mark.parametrize("targets", [None, "c1\t100\t160\nc1\t150\t170\nc1\t880\t1000\nc2\t0\t10\n"])
def test_coverage_measured_in_child_processes_adds_up_to_one_pass(tmp_path, monkeypatch, targets):
    """Windows of 7 bases, so bins, reads and targets straddle the children's shares."""
    monkeypatch.setattr(coverage_module, "WINDOW", 7)
    bam = _bam(tmp_path)
    bed = None
    if targets:
        bed = tmp_path / "t.bed"
        bed.write_text(targets)
    one = coverage(bam, bed)
    assert coverage(bam, bed, threads=3) == one
    assert one["mean_depth"] > 0
