"""gems eval-vcf on a hand-made truth/calls pair with hand-computed answers."""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from gems.cli.main import main as gems_main
from workers.evaluation.evalvcf import main

# 1-based: 2 C | 7 G, 8-13 TTTTTT, 14 G | 27 C | 35 C | 38 G | 44 C | 46 G | 63 C 64 A 65 G 66 T | 77 C 78 T
REF = "ACGTACGTTTTTTGCAGCAGCAGTTACGATCGAACCGGTTAACCGGTTAACCGGTTAACAGTCAGTCCATGACTGACTGA"
HEADER = """##fileformat=VCFv4.2
##contig=<ID=c1,length=80>
##FILTER=<ID=LowQual,Description="low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS
"""
TRUTH = [
    ("2", "C", "T", "0/1"),  # matched exactly
    ("7", "GT", "G", "0/1"),  # left-aligned deletion of one T
    ("27", "C", "A,G", "1/2"),  # multi-allelic, ALTs in the other order in the calls
    ("38", "G", "A", "1/1"),  # missed: FN
    ("44", "C", "T", "1/1"),  # called het: genotype error (FP + FN)
    ("63", "CA", "C", "1/1"),  # deletion + SNP on one haplotype ...
    ("66", "T", "G", "1/1"),  # ... written by the caller as one complex record
    ("77", "C", "G", "0/1"),  # outside the regions: ignored
]
CALLS = [
    ("2", "C", "T", "0/1", "PASS"),
    ("12", "TT", "T", "0/1", "PASS"),  # same deletion, written at the right end of the run
    ("27", "C", "G,A", "1/2", "PASS"),
    ("35", "C", "T", "0/1", "PASS"),  # FP
    ("44", "C", "T", "0/1", "PASS"),
    ("46", "G", "C", "0/1", "LowQual"),  # filtered: not a call
    ("64", "AGT", "GG", "1/1", "PASS"),
    ("78", "T", "A", "0/1", "PASS"),  # outside the regions
]


def _vcf(path: Path, rows) -> Path:
    lines = [
        f"c1\t{pos}\t.\t{ref}\t{alt}\t50\t{row[4] if len(row) > 4 else 'PASS'}\t.\tGT\t{gt}"
        for row in rows
        for pos, ref, alt, gt in [row[:4]]
    ]
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


@pytest.fixture
def files(tmp_path):
    fa = tmp_path / "ref.fa"
    fa.write_text(f">c1\n{REF}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "r.bed"
    bed.write_text("c1\t0\t75\n")
    return _vcf(tmp_path / "truth.vcf", TRUTH), _vcf(tmp_path / "calls.vcf", CALLS), bed, fa


def test_hand_computed_scores(files, capsys):
    truth, calls, bed, fa = files
    args = [
        "--truth",
        str(truth),
        "--calls",
        str(calls),
        "--regions",
        str(bed),
        "--reference",
        str(fa),
        "--json",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    snp, indel = out["SNP"], out["INDEL"]
    # SNP truth: 2, 27>A, 27>G, 38, 44, 66. TP 2, 27 x2 (exact), 66 (haplotype); FN 38, 44.
    # SNP calls: 2, 27 x2 (TP); 35 (FP), 44 het (FP, genotype error).
    assert (snp["truth_total"], snp["tp"], snp["fn"]) == (6, 4, 2)
    assert (snp["tp_calls"], snp["fp"], snp["genotype_mismatch"]) == (3, 2, 1)
    assert snp["precision"] == 0.6 and snp["recall"] == pytest.approx(0.6667, abs=1e-4)
    assert snp["f1"] == pytest.approx(2 * 0.6 * (4 / 6) / (0.6 + 4 / 6), abs=1e-4)
    # indels: the shifted deletion matches after left-alignment, the complex record by haplotype
    assert (indel["truth_total"], indel["tp"], indel["fn"], indel["fp"], indel["tp_calls"]) == (2, 2, 0, 0, 2)
    assert indel["f1"] == 1.0


def test_table_output_and_all_calls(files, capsys):
    truth, calls, bed, fa = files
    assert main(["--truth", str(truth), "--calls", str(calls), "--reference", str(fa), "--all-calls"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["type", "truth_total", "tp", "fp"]
    snp = lines[1].split()
    # no regions: truth 77 counts (FN); all calls: 46 (LowQual) and 78 count as FPs
    assert snp[0] == "SNP" and (int(snp[1]), int(snp[2]), int(snp[3])) == (7, 4, 4)


def test_missing_file_is_one_line_and_nonzero(files, capsys):
    truth, _, bed, fa = files
    rc = gems_main(["eval-vcf", "--truth", str(truth), "--calls", "/nope.vcf.gz", "--reference", str(fa)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "not found" in err[0]
