"""AnnotateStep inside a Pipeline: skips, failures and outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workers.pipeline.annotate import AnnotateStep
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import Pipeline, PipelineOptions, SampleContext, SampleFailed, StepSkipped

DATA = Path(__file__).resolve().parents[2] / "data" / "annotation"
CONTIG = "chr22_16570000_16610000"


class _GivesVcf:
    """Stands in for the variant caller: registers a copy of the truth VCF."""

    name = "variants"
    reads = ()
    writes = (Artifact.VCF,)

    def __call__(self, ctx):
        vcf = ctx.out / "variants.vcf.gz"
        shutil.copy(DATA / "NA12878_GIAB_truth.local.vcf.gz", vcf)
        shutil.copy(DATA / "NA12878_GIAB_truth.local.vcf.gz.tbi", str(vcf) + ".tbi")
        ctx.artifacts["vcf"] = vcf
        return None


class _NoReference:
    """The variant caller without a reference: it skips, and writes nothing."""

    name = "variants"
    reads = ()
    writes = (Artifact.VCF,)

    def __call__(self, ctx):
        raise StepSkipped("no reference given")


def _ctx(tmp_path: Path, **options) -> SampleContext:
    return SampleContext(
        "s1", tmp_path / "r1.fq", tmp_path / "r2.fq", tmp_path / "out", PipelineOptions(**options)
    )


def test_annotates_and_registers_the_tsv(tmp_path):
    ctx = _ctx(tmp_path, annotation=DATA / f"{CONTIG}.ensembl.gff3", reference=DATA / f"{CONTIG}.fa")
    report = Pipeline([_GivesVcf(), AnnotateStep()]).run(ctx)
    assert report["steps"]["annotate"]["status"] == "done"
    m = report["annotate"]
    assert m["by_consequence"]["missense_variant"] == 1 and m["by_type"] == {
        "deletion": 8,
        "insertion": 5,
        "snv": 70,
    }
    assert "CCT8L2" in m["genes_hit"] and m["codons_from_reference"] is True
    assert ctx.artifacts["variants_tsv"] == ctx.out / "variants.tsv"
    assert sorted(p.name for p in ctx.out.iterdir()) == [
        "variants.tsv",
        "variants.vcf.gz",
        "variants.vcf.gz.tbi",
    ]


def test_without_reference_locates_but_does_not_translate(tmp_path):
    ctx = _ctx(tmp_path, annotation=DATA / f"{CONTIG}.ensembl.gff3")
    report = Pipeline([_GivesVcf(), AnnotateStep()]).run(ctx)
    assert report["annotate"]["by_consequence"].get("missense_variant") is None
    assert report["annotate"]["by_consequence"]["coding_sequence_variant"] == 2


def test_skips_without_annotation_or_calls(tmp_path):
    report = Pipeline([_GivesVcf(), AnnotateStep()]).run(_ctx(tmp_path))
    assert report["steps"]["annotate"]["status"] == "skipped"
    assert "no gene annotation" in report["steps"]["annotate"]["reason"]
    report = Pipeline([_NoReference(), AnnotateStep()]).run(
        _ctx(tmp_path / "b", annotation=DATA / f"{CONTIG}.ensembl.gff3")
    )
    assert report["steps"]["annotate"]["reason"] == "no variant calls to annotate"


def test_bad_gff_fails_the_sample_and_leaves_the_calls_alone(tmp_path):
    bad = tmp_path / "bad.gff3"
    lines = (DATA / f"{CONTIG}.ensembl.gff3").read_text().splitlines()
    lines[4] = lines[4].replace("\t3045\t", "\tthree\t")
    bad.write_text("\n".join(lines) + "\n")
    ctx = _ctx(tmp_path, annotation=bad, reference=DATA / f"{CONTIG}.fa")
    with pytest.raises(SampleFailed) as err:
        Pipeline([_GivesVcf(), AnnotateStep()]).run(ctx)
    assert err.value.step == "annotate"
    assert err.value.reason == "bad.gff3 line 5: start 'three' is not an integer"
    assert (ctx.out / "variants.vcf.gz").read_bytes() == (
        DATA / "NA12878_GIAB_truth.local.vcf.gz"
    ).read_bytes()
    assert not (ctx.out / "variants.tsv").exists()
