"""The typer on small real slices (golden hla.tsv) and on bad inputs, through the pipeline step."""

import gzip
import json
import shutil
from pathlib import Path

import pytest

from gems.errors import InputError
from workers.hla import reference
from workers.hla.step import HlaStep
from workers.pipeline.framework import Pipeline, PipelineOptions, SampleContext, SampleFailed


def _ctx(tmp_path: Path, data: Path, stem: str, hla_class: str | None, **opts) -> SampleContext:
    return SampleContext(
        sample=stem,
        r1=data / f"{stem}_R1.fastq.gz",
        r2=data / f"{stem}_R2.fastq.gz",
        out=tmp_path / "out",
        options=PipelineOptions(hla_class=hla_class, threads=2, **opts),
    )


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "stem,hla_class,golden",
    [
        ("sim_na12878_dqa1_dpb1", "2", "golden_sim_na12878_dqa1_dpb1.hla.tsv"),
        ("crc81n", "1", "golden_crc81n_class1.hla.tsv"),
    ],
)
def test_step_matches_golden(tmp_path, hla_data, stem, hla_class, golden):
    ctx = _ctx(tmp_path, hla_data, stem, hla_class)
    progress = []
    ctx.on_progress = lambda step, f: progress.append(f)
    ctx.out.mkdir(parents=True)
    metrics = HlaStep()(ctx)
    assert _rows(ctx.out / "hla.tsv") == _rows(hla_data / golden)
    assert ctx.artifacts["hla_tsv"] == ctx.out / "hla.tsv"
    evidence = json.loads(ctx.artifacts["hla_json"].read_text())
    assert evidence["imgt_release"] == metrics["imgt_release"] == "3.32.0"
    assert metrics["hla_reads"] > 0
    assert progress and progress[-1] == pytest.approx(1.0)
    assert not list(ctx.out.glob(".*tmp*"))


def test_golden_calls_match_truth(hla_data):
    rows = {r[0]: r for r in _rows(hla_data / "golden_sim_na12878_dqa1_dpb1.hla.tsv")[1:]}
    assert rows["DQA1"][1:3] == ["DQA1*01:01", "DQA1*05:01"]
    assert rows["DPB1"][1:3] == ["DPB1*04:01", "DPB1*04:01"]  # homozygote written twice
    rows = {r[0]: r for r in _rows(hla_data / "golden_crc81n_class1.hla.tsv")[1:]}
    assert rows["B"][1:3] == ["B*40:01", "B*51:01"]


def test_no_hla_reads_gives_no_call(tmp_path, hla_data):
    ctx = _ctx(tmp_path, hla_data, "hg002_chr20", "both")
    ctx.out.mkdir(parents=True)
    metrics = HlaStep()(ctx)
    assert metrics["hla_reads"] == 0
    assert metrics["called_genes"] == 0
    for call in metrics["calls"]:
        assert call["allele1"] is None and call["note"] == "no HLA reads"


def test_too_few_reads_is_insufficient_coverage(tmp_path, hla_data):
    ctx = _ctx(tmp_path, hla_data, "sim_na12878_dqa1_sparse", "2")
    ctx.out.mkdir(parents=True)
    metrics = HlaStep()(ctx)
    dqa1 = next(c for c in metrics["calls"] if c["gene"] == "DQA1")
    assert dqa1["allele1"] is None
    assert dqa1["note"].startswith("insufficient coverage")


def test_reference_missing_a_gene_is_reported_not_fatal(tmp_path, hla_data):
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    # a reference holding DQA1 alleles only (plus the decoys): DRB1, DQB1, DPB1 are missing
    with gzip.open(reference.DEFAULT_REFERENCE / "hla_nuc.IMGT-3.32.0.fasta.gz", "rt") as src:
        text = src.read()
    records = [">" + r for r in text.split(">")[1:] if r.split()[1].startswith("DQA1*")]
    (ref_dir / "hla_nuc.IMGT-3.32.0.fasta").write_text("".join(records))
    shutil.copy(reference.DEFAULT_REFERENCE / "hla_other_nuc.IMGT-3.32.0.fasta.gz", ref_dir)
    ctx = _ctx(tmp_path, hla_data, "sim_na12878_dqa1_dpb1", "2", hla_reference=ref_dir)
    ctx.out.mkdir(parents=True)
    metrics = HlaStep(cache=tmp_path / "cache")(ctx)
    by_gene = {c["gene"]: c for c in metrics["calls"]}
    assert (by_gene["DQA1"]["allele1"], by_gene["DQA1"]["allele2"]) == ("DQA1*01:01", "DQA1*05:01")
    for gene in ("DRB1", "DQB1", "DPB1"):
        assert by_gene[gene]["allele1"] is None
        assert f"no HLA-{gene} sequences" in by_gene[gene]["note"]
    assert metrics["imgt_release"] == "3.32.0"


def test_malformed_fastq_fails_the_sample_with_a_reason(tmp_path, hla_data):
    bad = tmp_path / "bad_R1.fastq"
    bad.write_text("@r1\nACGT\n+\nII\n")  # 4 bases, 2 qualities
    good = tmp_path / "bad_R2.fastq"
    good.write_text("@r1\nACGT\n+\nIIII\n")
    ctx = SampleContext("bad", bad, good, tmp_path / "out", PipelineOptions(hla_class="1"))
    with pytest.raises(InputError, match="line 4: Length of sequence and qualities differ"):
        ctx.out.mkdir(parents=True)
        HlaStep()(ctx)
    with pytest.raises(SampleFailed) as info:
        Pipeline([HlaStep()]).run(ctx)
    assert info.value.step == "hla"
    assert ctx.report["steps"]["hla"]["status"] == "failed"
    assert not (ctx.out / "hla.tsv").exists()


def test_unpaired_files_are_rejected(tmp_path, hla_data):
    r1 = tmp_path / "x_R1.fastq"
    r1.write_text("@a/1\nACGT\n+\nIIII\n@b/1\nACGT\n+\nIIII\n")
    r2 = tmp_path / "x_R2.fastq"
    r2.write_text("@a/2\nACGT\n+\nIIII\n")
    ctx = SampleContext("x", r1, r2, tmp_path / "out", PipelineOptions(hla_class="2"))
    ctx.out.mkdir(parents=True)
    with pytest.raises(InputError, match="R1/R2 do not pair: .*more reads in file 1 than in file 2"):
        HlaStep()(ctx)


def test_no_hla_class_skips_the_step(tmp_path, hla_data):
    ctx = _ctx(tmp_path, hla_data, "crc81n", None)
    report = Pipeline([HlaStep()]).run(ctx)
    assert report["steps"]["hla"]["status"] == "skipped"


def test_unusable_reference_is_reported_per_gene(tmp_path, hla_data):
    empty = tmp_path / "empty_ref"
    empty.mkdir()
    ctx = _ctx(tmp_path, hla_data, "crc81n", "1", hla_reference=empty)
    ctx.out.mkdir(parents=True)
    metrics = HlaStep(cache=tmp_path / "cache")(ctx)
    assert [c["allele1"] for c in metrics["calls"]] == [None, None, None]
    assert all("no IMGT coding-sequence file" in c["note"] for c in metrics["calls"])
    assert (ctx.out / "hla.tsv").exists()


def test_truncated_gzip_is_an_input_error(tmp_path, hla_data):
    data = (hla_data / "crc81n_R1.fastq.gz").read_bytes()
    r1 = tmp_path / "t_R1.fastq.gz"
    r1.write_bytes(data[: len(data) // 2])
    ctx = SampleContext(
        "t", r1, hla_data / "crc81n_R2.fastq.gz", tmp_path / "out", PipelineOptions(hla_class="1")
    )
    ctx.out.mkdir(parents=True)
    with pytest.raises(InputError, match="t_R1.fastq.gz"):
        HlaStep()(ctx)
