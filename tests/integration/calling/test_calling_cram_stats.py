"""The alignments kept as CRAM (same records as the BAM, the reference's MD5s in the header) and the
field's QC files (`samtools stats`, `bcftools stats`) on a real slice."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pysam
import pytest
from na12878_slice import R1, R2, copy_reference

from workers.genomics import windows
from workers.pipeline.framework import PipelineOptions
from workers.pipeline.sample import run_sample


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    ref = copy_reference(tmp_path_factory.mktemp("ref"))
    out = {}
    for fmt in ("bam", "cram"):
        folder = tmp_path_factory.mktemp(fmt)
        opts = PipelineOptions(reference=ref, threads=2, alignment_format=fmt)
        out[fmt] = (folder, run_sample("NA12878", R1, R2, folder, opts))
    out["ref"] = ref
    return out


def _records(path: Path, ref: Path) -> list[tuple]:
    """Every record, its tags as a set: CRAM stores no MD, NM or RG tag but remakes them on reading,
    after the others."""
    with pysam.AlignmentFile(str(path), reference_filename=str(ref)) as fh:
        return [
            (*(fields := r.to_string().split("\t"))[:11], frozenset(fields[11:]))
            for r in fh.fetch(until_eof=True)
        ]


def test_cram_holds_the_bams_records_and_the_references_checksums(runs):
    (bam_dir, _), (cram_dir, report) = runs["bam"], runs["cram"]
    assert not (cram_dir / "sample.bam").exists() and (cram_dir / "sample.cram.crai").exists()
    assert _records(cram_dir / "sample.cram", runs["ref"]) == _records(bam_dir / "sample.bam", runs["ref"])
    seq = "".join(line.strip() for line in runs["ref"].read_text().splitlines()[1:]).upper()
    md5 = hashlib.md5(seq.encode()).hexdigest()  # noqa: S324 - the SAM spec's M5 is an MD5
    with pysam.AlignmentFile(str(cram_dir / "sample.cram"), reference_filename=str(runs["ref"])) as fh:
        assert [sq["M5"] for sq in fh.header.to_dict()["SQ"]] == [md5]
    cram = report["cram"]
    assert (
        cram["reference"]["md5"] == {"chr22_16570000_16610000": md5}
        and len(cram["reference"]["sha256"]) == 64
    )
    assert 0 < cram["ratio_to_bam"] < 0.8  # well under the BAM's size
    assert "cram" not in runs["bam"][1]["steps"]  # a BAM run has no cram step at all


def test_samtools_and_bcftools_stats_agree_with_the_pipelines_own_counts(runs):
    folder, report = runs["bam"]
    stats = report["stats"]
    assert stats["started_early"]  # samtools stats ran alongside calling and coverage
    assert stats["sequences"] == report["align"]["reads"]
    assert stats["reads_mapped"] == report["align"]["mapped"]
    assert stats["reads_duplicated"] == report["align"]["duplicates"]
    text = (folder / "samtools.stats.txt").read_text()
    assert text.startswith("# This file was produced by samtools stats") and "\nGCD\t" in text
    bcf = (folder / "bcftools.stats.txt").read_text()
    records = next(
        int(line.split("\t")[3]) for line in bcf.splitlines() if line.startswith("SN\t0\tnumber of records:")
    )
    with pysam.VariantFile(str(folder / "variants.vcf.gz")) as fh:
        assert records == sum(1 for _ in fh) > 0


def test_cram_converted_in_windows_holds_the_bams_records_in_order(runs, tmp_path):
    bam = runs["bam"][0] / "sample.bam"
    cram = tmp_path / "sample.cram"
    windows.to_cram(bam, runs["ref"], cram, tmp_path / "work", threads=2, windows=7)
    assert _records(cram, runs["ref"]) == _records(bam, runs["ref"])
    assert (tmp_path / "sample.cram.crai").exists() and not list((tmp_path / "work").glob("*.cram"))


def test_a_sample_that_fails_after_its_bam_stops_the_early_samtools_stats(tmp_path, monkeypatch):
    from workers.pipeline import qcstats
    from workers.pipeline.framework import SampleFailed
    from workers.pipeline.variants import VariantStep

    def fail(self, ctx):
        raise RuntimeError("calling broke")

    cancelled = []
    cancel = qcstats._Background.cancel

    def recorded(self):
        cancel(self)
        cancelled.append(self.proc.returncode)

    monkeypatch.setattr(VariantStep, "__call__", fail)
    monkeypatch.setattr(qcstats._Background, "cancel", recorded)
    out = tmp_path / "out"
    with pytest.raises(SampleFailed, match="calling broke"):
        run_sample("NA12878", R1, R2, out, PipelineOptions(reference=copy_reference(tmp_path), threads=2))
    assert len(cancelled) == 1 and cancelled[0] is not None  # started after align, stopped and reaped
    assert not (out / "work").exists() and not (out / "samtools.stats.txt").exists()
