"""`gems run-sample` argument handling (no files touched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gems.errors import ValidationError
from workers.cli import _parser, default_sample_name, options_from_args


@pytest.mark.parametrize(
    "name,sample",
    [
        ("HG002_chr20_10Mb_R1.fastq.gz", "HG002_chr20_10Mb"),
        ("S1_L001_R1_001.fastq.gz", "S1_L001"),
        ("x_1.fq.gz", "x"),
        ("reads.fastq", "reads"),
        ("NA12878.R1.fq", "NA12878"),
    ],
)
def test_default_sample_name(name, sample):
    assert default_sample_name(Path("/data") / name) == sample


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
