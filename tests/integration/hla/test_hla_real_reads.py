"""Real reads with paralogs beside each gene (1000 Genomes WGS and exome slices, tests/data/hla):
paralog reads never become an allele, and the calls agree with SpecHLA and T1K (issue 28)."""

import json
from pathlib import Path

import pytest

from workers.hla import names, typer


def _type(data: Path, stem: str) -> typer.TypingResult:
    return typer.type_sample(
        data / f"{stem}_R1.fastq.gz", data / f"{stem}_R2.fastq.gz", list(names.CLASS_II), threads=2
    )


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("stem", "golden"),
    [("hg00118_class2", "golden_hg00118_class2.hla.tsv"), ("na19141_dqa1", "golden_na19141_dqa1.hla.tsv")],
)
def test_real_slices_match_their_golden_calls(tmp_path, hla_data, stem, golden):
    from workers.hla.step import HlaStep
    from workers.pipeline.framework import PipelineOptions, SampleContext

    ctx = SampleContext(
        sample=stem,
        r1=hla_data / f"{stem}_R1.fastq.gz",
        r2=hla_data / f"{stem}_R2.fastq.gz",
        out=tmp_path / "out",
        options=PipelineOptions(hla_class="2", threads=2),
    )
    ctx.out.mkdir(parents=True)
    HlaStep()(ctx)
    assert _rows(ctx.out / "hla.tsv") == _rows(hla_data / golden)


def test_whole_genome_paralog_reads_are_set_aside_not_called(hla_data):
    # HG00118 is DR15-DQ6 homozygous (SpecHLA and T1K agree); before the support check the
    # typer called DRB1*01:02, DQA1*04:01 and DQB1*06:01 beside the true alleles, flagged ok.
    calls = {c.gene: c for c in _type(hla_data, "hg00118_class2").calls}
    expected = {"DRB1": "DRB1*15:01", "DQA1": "DQA1*01:02", "DQB1": "DQB1*06:02"}
    for gene_name, allele in expected.items():
        c = calls[gene_name]
        assert (c.allele1, c.allele2) == (allele, allele), c
        assert c.set_aside > 0 and c.set_aside_as, c
        assert all(a["sites"] >= 3 for a in c.set_aside_as)
        assert c.flag == "ok"  # the reads left are the gene's own and fit the call
    dqa1 = calls["DQA1"]
    assert dqa1.set_aside_as[0]["allele"].startswith("DQA1*04:01")  # DQA2 has no sequence in 3.32.0


def test_an_exome_heterozygote_is_found_once_paralog_reads_are_set_aside(hla_data, tmp_path):
    # NA19141 DQA1 is 01:02/01:03 (SpecHLA, T1K); DQA2 reads made it 01:02/04:01 before.
    result = _type(hla_data, "na19141_dqa1")
    (dqa1,) = [c for c in result.calls if c.gene == "DQA1"]
    assert (dqa1.allele1, dqa1.allele2) == ("DQA1*01:02", "DQA1*01:03")
    assert dqa1.set_aside >= 300
    from workers.hla.output import write

    write(result, tmp_path, "NA19141", ["r1.fq.gz", "r2.fq.gz"])
    evidence = json.loads((tmp_path / "hla.json").read_text())
    (shown,) = [c for c in evidence["calls"] if c["gene"] == "DQA1"]
    assert shown["set_aside"] == dqa1.set_aside and len(shown["support"]) == 2


def test_the_dr51_haplotypes_carry_drb5_twice_and_no_drb3_or_drb4(hla_data):
    # DRB1*15:01 homozygous: DR51 on both haplotypes, so DRB5 x2; DRB3 and DRB4 reads are
    # paralogs' (they disagree with every DRB3/DRB4 allele at the same sites), so both are absent.
    calls = {c.gene: c for c in _type(hla_data, "hg00118_class2").calls}
    assert (calls["DRB5"].allele1, calls["DRB5"].copies, calls["DRB5"].flag) == ("DRB5*01:01", 2, "ok")
    for gene_name in ("DRB3", "DRB4"):
        c = calls[gene_name]
        assert (c.flag, c.copies, c.allele1) == ("absent", 0, None), c
        assert "as DRB1 DRB1*15:01/DRB1*15:01 implies" in c.note and "another sequence" in c.note
    assert (calls["DPA1"].allele1, calls["DPA1"].allele2) == ("DPA1*01:03", "DPA1*01:03")  # SpecHLA's call
