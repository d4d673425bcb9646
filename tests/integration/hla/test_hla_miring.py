"""The MIRING record of real reads (workers.hla.miring, hla.miring.json): reference context,
GL String, each called allele's consensus over the exons the reads cover, and its read support.
The consensus of reads that fit an allele must be that allele's own IMGT sequence, base for
base; the record as a whole is held to a golden file."""

import json

import pytest

from workers.hla import reference
from workers.hla.step import HlaStep
from workers.pipeline.framework import PipelineOptions, SampleContext

STEMS = ("hg00118_class2", "na19141_dqa1")


@pytest.fixture(scope="module")
def records(hla_data, tmp_path_factory) -> dict[str, dict]:
    out = {}
    for stem in STEMS:
        ctx = SampleContext(
            sample=stem,
            r1=hla_data / f"{stem}_R1.fastq.gz",
            r2=hla_data / f"{stem}_R2.fastq.gz",
            out=tmp_path_factory.mktemp(stem),
            options=PipelineOptions(hla_class="2", threads=2),
        )
        HlaStep()(ctx)
        assert ctx.artifacts["hla_miring"] == ctx.out / "hla.miring.json"
        out[stem] = json.loads(ctx.artifacts["hla_miring"].read_text())
    return out


def _stable(record: dict) -> dict:
    """The record less what changes from run to run (when, and by which version)."""
    message = {k: v for k, v in record["message"].items() if k not in ("typed", "version")}
    return dict(record, message=message)


@pytest.mark.parametrize("stem", STEMS)
def test_the_record_matches_its_golden_file(records, hla_data, stem):
    golden = json.loads((hla_data / f"golden_{stem}.miring.json").read_text())
    assert _stable(records[stem]) == golden


def test_the_record_names_the_release_the_reads_and_each_allele_in_it(records):
    r = records["hg00118_class2"]
    assert r["format"] == "gems-miring/1"
    assert r["reference"] == {
        "database": "IPD-IMGT/HLA",
        "release": "3.32.0",
        "uri": "https://www.ebi.ac.uk/ipd/imgt/hla/",
    }
    assert r["message"]["sample"] == "hg00118_class2" and r["message"]["typed"].endswith("Z")
    assert r["reads"]["files"] == ["hg00118_class2_R1.fastq.gz", "hg00118_class2_R2.fastq.gz"]
    loci = {x["locus"]: x for x in r["loci"]}
    drb1 = loci["HLA-DRB1"]
    assert drb1["homozygous"] and [a["name"] for a in drb1["alleles"]] == ["DRB1*15:01:01:01"]
    assert drb1["alleles"][0]["accession"] == "HLA00865" and drb1["alleles"][0]["g_group"] == "DRB1*15:01:01G"
    assert loci["HLA-DRB3"]["flag"] == "absent" and loci["HLA-DRB3"]["alleles"] == []
    assert "HLA-DQA1*01:02:01G+HLA-DQA1*01:02:01G" in r["gl_string"]


def test_the_consensus_of_an_alleles_own_reads_is_its_imgt_sequence(records):
    ref = reference.load()
    cds = {a.name: a.seq for alleles in ref.nuc.values() for a in alleles}
    checked = 0
    for record in records.values():
        for locus in record["loci"]:
            for allele in locus["alleles"]:
                assert allele["variants"] == [], allele["name"]  # these reads fit their alleles
                own = cds[allele["name"]]
                for block in allele["blocks"]:
                    want = own[block["start"] : block["end"]]
                    got = block["sequence"]
                    assert len(got) == len(want)
                    assert all(g in ("N", w) for g, w in zip(got, want, strict=True)), block
                    assert block["min_depth"] >= 3
                    checked += block["end"] - block["start"]
    assert checked > 5000  # DRB1, DRB5, DQA1, DQB1, DPA1 and both NA19141 DQA1 alleles, whole
