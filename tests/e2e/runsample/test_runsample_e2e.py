"""`gems run-sample` end to end on a real slice: 2,000 NA12878 read pairs (tests/data/runsample,
the first pairs of the shared chr22 reads) against the 40 kb GRCh38 chr22 window, with the shared
Ensembl GFF3 (tests/data/annotation)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pysam
import pytest

from gems.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "data"
R1 = DATA / "runsample" / "NA12878_chr22_2k_R1.fastq.gz"
R2 = DATA / "runsample" / "NA12878_chr22_2k_R2.fastq.gz"
REF = DATA / "annotation" / "chr22_16570000_16610000.fa"
GFF = DATA / "annotation" / "chr22_16570000_16610000.ensembl.gff3"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One full run shared by the checks below (alignment + calling take a few seconds)."""
    tmp = tmp_path_factory.mktemp("run")
    ref = tmp / "ref.fa"  # a private copy: the reference step may write indexes beside it
    ref.write_bytes(REF.read_bytes())
    out = tmp / "out"
    rc = main(["run-sample", "--r1", str(R1), "--r2", str(R2), "--reference", str(ref), "--annotation", str(GFF),
               "--out", str(out), "--threads", "2"])  # fmt: skip
    return rc, out


def test_writes_every_file_and_no_hla_without_its_reference(run):
    rc, out = run
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"sample.bam", "sample.bam.bai", "variants.vcf.gz", "variants.vcf.gz.tbi", "variants.tsv",
            "report.json", "report.html"} <= names  # fmt: skip
    assert "hla.tsv" not in names and "work" not in names
    assert not [n for n in names if n.startswith(".") or n.endswith((".tmp", ".part"))]


def test_report_says_what_ran_and_what_was_skipped(run):
    _, out = run
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "COMPLETE" and report["sample"] == "NA12878_chr22_2k"
    assert [s["step"] for s in report["skipped"]] == ["hla"]
    assert "hla" in report["skipped"][0]["reason"].lower()
    for step in ("qc", "align", "variants", "annotate", "coverage"):
        assert report["steps"][step]["status"] == "done", (step, report["steps"][step])
    s = report["summary"]
    assert s["read_pairs"] == 2000 and s["mapping_rate"] > 0.9
    assert s["coverage_over"] == "whole reference" and s["mean_coverage"] > 5
    assert (
        report["checksums"]["reference"]["sha256"] and len(report["checksums"]["annotation"]["sha256"]) == 64
    )
    html = (out / "report.html").read_text()
    assert "COMPLETE" in html and "HLA typing did not run" in html and "<svg" in html


def test_vcf_is_annotated_and_indexed(run):
    _, out = run
    with pysam.VariantFile(str(out / "variants.vcf.gz")) as vf:
        assert "CSQ" in vf.header.info
        records = list(vf.fetch("chr22_16570000_16610000", 0, 40001))  # uses the rewritten .tbi
    assert records and all("CSQ" in r.info for r in records if r.alts and r.alts[0] != "*")
    rows = (out / "variants.tsv").read_text().splitlines()
    assert rows[0].startswith("chrom\tpos\tref\talt") and len(rows) - 1 >= len(records)


def test_bad_reads_fail_with_one_line_and_a_report(tmp_path, capsys):
    bad = tmp_path / "bad_R1.fastq.gz"
    bad.write_bytes(gzip.compress(b"@r1\nACGT\n+\nIIII\n" * 50)[:-20])  # a truncated gzip
    out = tmp_path / "out"
    rc = main(["run-sample", "--r1", str(bad), "--r2", str(R2), "--reference", str(REF), "--out", str(out)])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gems run-sample: sample bad FAILED at qc: ")
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "FAILED" and report["failure"]["step"] == "qc"
    assert "FAILED at step" in (out / "report.html").read_text()
    assert not (out / "sample.bam").exists()


def test_missing_reference_fails_at_align(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(
        [
            "run-sample",
            "--r1",
            str(R1),
            "--r2",
            str(R2),
            "--reference",
            str(tmp_path / "nope.fa"),
            "--out",
            str(out),
        ]
    )
    assert rc == 1
    assert "FAILED at align" in capsys.readouterr().err
    assert json.loads((out / "report.json").read_text())["failure"]["step"] == "align"


def test_hla_only_run(tmp_path):
    """No reference: only QC and HLA typing run (class I on 1,211 fished RNA-seq pairs, the shared
    HLA sample crc81n copied to tests/data/runsample), with the IMGT release shipped with gems."""
    hla = DATA / "runsample"
    out = tmp_path / "out"
    rc = main(["run-sample", "--r1", str(hla / "crc81n_R1.fastq.gz"), "--r2", str(hla / "crc81n_R2.fastq.gz"),
               "--hla-class", "1", "--out", str(out)])  # fmt: skip
    assert rc == 0
    rows = (out / "hla.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:4] == ["gene", "allele1", "allele2", "confidence"]
    assert [r.split("\t")[0] for r in rows[1:]] == ["A", "B", "C"]
    report = json.loads((out / "report.json").read_text())
    assert [s["step"] for s in report["skipped"]] == ["align", "variants", "annotate", "coverage", "stats"]
    assert [c["gene"] for c in report["summary"]["hla_calls"]] == ["A", "B", "C"]
    assert report["checksums"]["hla_reference"]["imgt_release"] == report["hla"]["imgt_release"]
    assert not (out / "sample.bam").exists()
    html = (out / "report.html").read_text()
    for row in rows[1:]:
        assert row.split("\t")[1] in html
