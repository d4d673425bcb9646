"""`gems run-sample` argument handling (no files touched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gems.errors import ValidationError
from workers.pipeline.cli import _parser, default_sample_name, options_from_args


@pytest.mark.parametrize(
    "name,sample",
    [
        ("HG002_chr20_10Mb_R1.fastq.gz", "HG002_chr20_10Mb"),
        ("S1_L001_R1_001.fastq.gz", "S1_L001"),
        ("HG002_S1_L001_R1_001.fastq.gz", "HG002"),  # as a job names it (gems.names)
        ("x_1.fq.gz", "x"),
        ("reads.fastq", "reads"),
        ("NA12878.R1.fq", "NA12878"),
    ],
)
def test_default_sample_name(name, sample):
    assert default_sample_name(Path("/data") / name) == sample


@pytest.mark.parametrize(
    "r1,r2",
    [
        ("HG002_S1_L001_R1_001.fastq.gz", "HG002_S1_L001_R2_001.fastq.gz"),
        ("NA12878_R1.fastq.gz", "NA12878_R2.fastq.gz"),
        ("x_1.fq.gz", "x_2.fq.gz"),
        ("S7_S3_L002_R1_001.fastq.gz", "S7_S3_L002_R2_001.fastq.gz"),
    ],
)
def test_run_sample_and_a_job_name_reads_alike(r1, r2):
    from gems.plan import discover_pairs

    (job_name,) = discover_pairs([{"Key": "run/" + r1}, {"Key": "run/" + r2}], "run/")
    assert default_sample_name(Path(r1)) == job_name


def test_a_bad_sample_name_is_refused_before_anything_runs(tmp_path):
    from workers.pipeline.cli import run_sample

    with pytest.raises(ValidationError, match="sample"):
        run_sample(
            [
                "--r1",
                "a_R1.fastq.gz",
                "--r2",
                "a_R2.fastq.gz",
                "--out",
                str(tmp_path / "o"),
                "--sample",
                "../x",
            ]
        )
    assert not (tmp_path / "o").exists()


def test_options():
    args = _parser().parse_args(
        [
            "--r1",
            "a.fq.gz",
            "--r2",
            "b.fq.gz",
            "--reference",
            "ref.fa",
            "--out",
            "o",
            "--threads",
            "2",
            "--trim",
        ]
    )
    o = options_from_args(args)
    assert (o.reference, o.threads, o.trim, o.hla_class, o.hla_reference, o.annotation) == (
        Path("ref.fa"),
        2,
        True,
        None,
        None,
        None,
    )
    assert o.extra == {}


def test_hla_reference_alone_types_both_classes():
    args = _parser().parse_args(["--r1", "a", "--r2", "b", "--out", "o", "--hla-reference", "imgt"])
    o = options_from_args(args)
    assert (o.hla_class, o.reference) == ("both", None)
    args = _parser().parse_args(
        ["--r1", "a", "--r2", "b", "--out", "o", "--hla-reference", "imgt", "--hla-class", "1"]
    )
    assert options_from_args(args).hla_class == "1"


def test_bad_options():
    with pytest.raises(ValidationError) as err:
        options_from_args(_parser().parse_args(["--r1", "a", "--r2", "b", "--out", "o", "--threads", "0"]))
    assert err.value.field == "threads"
    with pytest.raises(SystemExit):
        _parser().parse_args(["--r1", "a", "--r2", "b", "--out", "o", "--hla-class", "3"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["--r1", "a", "--out", "o"])  # --r2 is required
