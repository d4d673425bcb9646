"""qc + align + variants on a real slice (NA12878, 40 kb of chr22) against golden calls."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest
from na12878_slice import CONTIG, DATA, R1, R2, copy_reference, truncated_r1

from gems.errors import InputError
from workers.evaluation.evalvcf import evaluate
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext, StepSkipped
from workers.pipeline.qc import QcStep
from workers.pipeline.variants import VariantStep


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return copy_reference(tmp_path_factory.mktemp("ref"))


@pytest.fixture(scope="module", params=["streamed", "separate passes"])
def run(request, tmp_path_factory, reference):
    # The product streams QC's reads into minimap2; QC can also make its own pass first.
    out = tmp_path_factory.mktemp("sample")
    ctx = SampleContext("NA12878", R1, R2, out, PipelineOptions(reference=reference, threads=2))
    metrics = {}
    align = AlignStep()
    qc = QcStep(stream_to=align) if request.param == "streamed" else QcStep()
    for step in (qc, align, VariantStep()):
        ctx.current_step = step.name
        metrics[step.name] = ctx.report[step.name] = step(ctx)
    return ctx, metrics


def test_bam_is_sorted_indexed_with_read_group_and_duplicates(run):
    ctx, metrics = run
    bam = ctx.out / "sample.bam"
    assert ctx.artifacts["bam"] == bam and Path(str(bam) + ".bai").exists()
    with pysam.AlignmentFile(str(bam)) as fh:
        assert fh.header["HD"]["SO"] == "coordinate"
        assert fh.header["RG"] == [{"ID": "NA12878", "SM": "NA12878", "LB": "NA12878", "PL": "ILLUMINA"}]
        last, dups, n = -1, 0, 0
        for read in fh.fetch(CONTIG):  # fetch needs the index
            assert read.reference_start >= last
            last = read.reference_start
            assert read.get_tag("RG") == "NA12878"
            if not read.is_unmapped:
                assert read.has_tag("MD") and read.has_tag("NM")
            dups += read.is_duplicate
            n += 1
    a = metrics["align"]
    assert n >= a["mapped"]
    assert dups == a["duplicates"] > 0
    assert a["reads"] == 2 * 4949 and a["mapping_rate"] > 0.98 and a["properly_paired_rate"] > 0.95
    assert 300 < a["insert_size_median"] < 600
    assert a["reference"]["contigs"] == 1 and len(a["reference"]["sha256"]) == 64


def test_supplementary_alignments_carry_sa_tags_and_mates_carry_mc(run):
    ctx, metrics = run
    with pysam.AlignmentFile(str(ctx.out / "sample.bam")) as fh:
        reads = list(fh.fetch(CONTIG))
    supp = [r for r in reads if r.is_supplementary]
    assert len(supp) == metrics["align"]["supplementary"] > 0
    for r in supp:
        primary = [p for p in reads if p.query_name == r.query_name and not p.is_supplementary]
        assert r.has_tag("SA") and any(p.has_tag("SA") for p in primary)
    paired = [r for r in reads if not r.is_unmapped and not r.mate_is_unmapped and not r.is_supplementary]
    assert paired and all(r.has_tag("MC") and r.has_tag("ms") for r in paired)
    assert not any(r.is_secondary for r in reads)


def test_a_pair_count_minimap2_did_not_read_fails_and_leaves_no_bam(reference, tmp_path):
    # minimap2 maps what it can read and stays silent; QC's count is the check.
    ctx = SampleContext("s", R1, R2, tmp_path, PipelineOptions(reference=reference))
    ctx.report["qc"] = {"pairs_used": 4949 + 1}
    with pytest.raises(InputError, match="minimap2 read 9898 reads where the FASTQ pair holds 9900"):
        AlignStep()(ctx)
    assert not list(tmp_path.glob("sample.bam*"))


def test_a_worker_without_the_minimap2_program_says_so(reference, tmp_path, monkeypatch):
    from workers.genomics import minimap2

    minimap2.program.cache_clear()
    monkeypatch.setattr(minimap2, "_bin_dir", lambda: tmp_path)
    ctx = SampleContext("s", R1, R2, tmp_path / "out", PipelineOptions(reference=reference))
    try:
        with pytest.raises(RuntimeError, match="minimap2 program is not installed"):
            AlignStep()(ctx)
        fake = tmp_path / "minimap2"
        fake.write_text("#!/bin/sh\necho 2.24-r1122\n")
        fake.chmod(0o755)
        with pytest.raises(RuntimeError, match="is not mappy's release"):
            minimap2.program()
    finally:
        minimap2.program.cache_clear()


def test_calls_match_the_golden_file(run):
    ctx, metrics = run
    vcf = ctx.out / "variants.vcf.gz"
    assert ctx.artifacts["vcf"] == vcf and Path(str(vcf) + ".tbi").exists()
    with pysam.VariantFile(str(vcf)) as fh:
        got = [
            "\t".join(
                [
                    r.chrom,
                    str(r.pos),
                    r.ref,
                    ",".join(r.alts),
                    "/".join(map(str, r.samples[0]["GT"])),
                    ";".join(r.filter.keys()) or ".",
                ]
            )  # fmt: skip
            for r in fh.fetch(CONTIG)  # fetch needs the .tbi
        ]
        assert all(len(r.alts) == 1 for r in fh.fetch(CONTIG))  # multi-allelics split
        assert {"GQ", "DP", "AD"} <= set(fh.header.formats.keys())
    golden = (DATA / "NA12878_golden_calls.tsv").read_text().splitlines()
    assert got == golden
    v = metrics["variants"]
    assert v["by_type"]["SNP"] + v["by_type"]["INDEL"] == v["total"]
    assert v["total"] + v["filtered"] == len(golden)


def test_calls_score_well_against_the_truth(run):
    ctx, _ = run
    scores = evaluate(
        DATA / "NA12878_truth.vcf.gz",
        ctx.out / "variants.vcf.gz",
        DATA / f"{CONTIG}.fa",
        DATA / "NA12878_eval_window.bed",
    )
    assert scores["SNP"]["recall"] > 0.95 and scores["SNP"]["precision"] > 0.85
    assert scores["INDEL"]["recall"] > 0.85


def test_no_partial_files_left(run):
    ctx, _ = run
    names = sorted(p.name for p in ctx.out.iterdir())
    assert names == ["sample.bam", "sample.bam.bai", "variants.vcf.gz", "variants.vcf.gz.tbi", "work"]
    assert not list((ctx.out / "work").iterdir())


def test_targets_restrict_the_calls(run, reference, tmp_path):
    ctx, _ = run
    bed = tmp_path / "t.bed"
    bed.write_text(f"{CONTIG}\t10000\t20000\n")
    sub = SampleContext(
        "NA12878", R1, R2, tmp_path / "out", PipelineOptions(reference=reference, targets=bed)
    )
    sub.artifacts["bam"] = ctx.artifacts["bam"]
    m = VariantStep()(sub)
    with pysam.VariantFile(str(sub.out / "variants.vcf.gz")) as fh:
        positions = [r.pos for r in fh]
    assert positions and all(10000 < p <= 20000 for p in positions)
    assert m["targets"] == "t.bed"
    bed.write_text("chrUnknown\t1\t100\n")
    with pytest.raises(InputError, match="no usable intervals"):
        VariantStep()(sub)
    assert not (sub.out / "variants.vcf.gz").exists()


def test_steps_skip_without_reference(tmp_path):
    ctx = SampleContext("s", R1, R2, tmp_path, PipelineOptions())
    with pytest.raises(StepSkipped):
        AlignStep()(ctx)
    with pytest.raises(StepSkipped):
        VariantStep()(ctx)


def test_bad_reads_leave_no_bam(reference, tmp_path):
    ctx = SampleContext(
        "s", truncated_r1(tmp_path), R2, tmp_path / "out", PipelineOptions(reference=reference)
    )
    with pytest.raises(InputError, match="truncated"):
        AlignStep()(ctx)
    left = [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [n for n in left if "bam" in n], left


def test_missing_reference_fails_the_step(tmp_path):
    ctx = SampleContext("s", R1, R2, tmp_path, PipelineOptions(reference=tmp_path / "missing.fa"))
    with pytest.raises(InputError, match="not found"):
        AlignStep()(ctx)
