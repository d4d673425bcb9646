"""Done-when: three demo jobs' samples in the lake (moto S3); `gems lake` answers the cohort allele
frequency of a variant and the HLA allele frequencies, checked against a hand count of the inputs."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from lakehelpers import DATA, SOURCES, context, hla_sets, sample_out, vcf_genotypes
from moto import mock_aws

from gems.cli.main import main as gems_main
from workers.pipeline.lake import LakeStep, LakeTarget

BUCKET = "lab-lake"
# job -> [(sample name, which real output it is)]
JOBS = {
    "job-aaa": [("P01", "NA12878"), ("P02", "HG002")],
    "job-bbb": [("P03", "NA12878"), ("P04", "NA12878")],
    "job-ccc": [("P05", "HG002"), ("P06", "NA12878"), ("P07", "HG002")],
}


@pytest.fixture
def cohort(tmp_path, monkeypatch):
    import boto3

    monkeypatch.setenv("GEMS_HOME", str(tmp_path / "home"))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)  # the stage's lake bucket
        hla = hla_sets()
        inputs = {}
        i = 0
        for job, samples in JOBS.items():
            for name, source in samples:
                out = sample_out(tmp_path / job, source, name)
                calls = hla[i % len(hla)]
                i += 1
                ctx = context(out, name, calls, {})
                metrics = LakeStep(LakeTarget.on_s3(s3, BUCKET, job))(ctx)
                assert metrics["lake"] == f"s3://{BUCKET}" and metrics["job"] == job
                inputs[(job, name)] = (out / "variants.vcf.gz", calls)
        yield inputs


def ask(capsys, *args) -> dict:
    rc = gems_main(["lake", *args, "--lake", f"s3://{BUCKET}", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def test_cohort_allele_frequency_matches_a_hand_count(cohort, capsys):
    per_sample = {k: vcf_genotypes(vcf) for k, (vcf, _) in cohort.items()}
    # a variant some samples carry and others do not: the first hom-alt site of NA12878
    na = next(v for k, v in per_sample.items() if k[1] == "P01")
    variant = next(site for site, (gt, _) in na.items() if gt == "1/1")
    ac = sum(
        sum(1 for a in calls[variant][0].replace("|", "/").split("/") if a == str(calls[variant][1]))
        for calls in per_sample.values()
        if variant in calls
    )
    carriers = sum(1 for calls in per_sample.values() if variant in calls)
    n = len(per_sample)
    assert 0 < carriers < n  # the HG002 samples are on another chromosome
    text = ":".join(str(x) for x in variant)
    body = ask(capsys, "query", (
        "SELECT sum(alt_count) AS ac, count(DISTINCT sample) AS carriers FROM variants "
        f"WHERE chrom = '{variant[0]}' AND pos = {variant[1]} AND filter = 'PASS' AND alt_count > 0"
    ))  # fmt: skip
    assert body["rows"] == [{"ac": ac, "carriers": carriers}]
    assert body["snapshot"]["variants"]["partitions"] == n
    af = ask(capsys, "af", text)["rows"][0]
    assert (af["allele_count"], af["allele_number"], af["carriers"], af["samples"]) == (
        ac,
        2 * n,
        carriers,
        n,
    )
    assert af["allele_frequency"] == pytest.approx(ac / (2 * n))
    assert af["homozygous"] == carriers  # a hom-alt site in NA12878, present only in NA12878 copies


def test_cohort_hla_frequencies_match_a_hand_count(cohort, capsys):
    counts: Counter = Counter()
    for _, calls in cohort.values():
        for c in calls:
            counts[(c["gene"], c["allele1"])] += 1
            counts[(c["gene"], c["allele2"])] += 1
    per_gene: Counter = Counter()
    for (gene, _), k in counts.items():
        per_gene[gene] += k
    rows = ask(capsys, "hla-frequencies")["rows"]
    got = {(r["gene"], r["allele"]): (r["allele_count"], r["frequency"]) for r in rows}
    assert set(got) == set(counts)
    for key, k in counts.items():
        assert got[key][0] == k and got[key][1] == pytest.approx(k / per_gene[key[0]])
    only_a = ask(capsys, "hla-frequencies", "--gene", "A")["rows"]
    assert {r["gene"] for r in only_a} == {"A"} and sum(r["frequency"] for r in only_a) == pytest.approx(1.0)


def test_qc_and_carriers_questions(cohort, capsys):
    body = ask(capsys, "query", "SELECT count(*) AS n, count(DISTINCT job) AS jobs FROM qc")
    assert body["rows"] == [{"n": 7, "jobs": 3}]
    depth = {s: json.loads((DATA / s / "report.json").read_text())["coverage"]["mean_depth"] for s in SOURCES}
    cut = (depth["NA12878"] + depth["HG002"]) / 2  # between the two real samples' coverage
    fails = ask(capsys, "qc-fails", "--min-coverage", str(cut), "--min-fraction-20x", "0")["rows"]
    low = min(depth, key=depth.get)
    assert {r["sample"] for r in fails} == {n for s in JOBS.values() for n, src in s if src == low}
    assert all(r["fails"] == "coverage" for r in fails)
    hits = ask(capsys, "carriers", "--gene", "AP000547.1", "--consequence", "splice_donor_variant")["rows"]
    assert {r["sample"] for r in hits} == {n for s in JOBS.values() for n, src in s if src == "NA12878"}
    assert all("splice_donor_variant" in r["consequence"].split("&") for r in hits)


def test_cli_errors_are_one_line(cohort, capsys):
    for sql, words in (
        ("DELETE FROM qc", "only SELECT/WITH"),
        ("SELECT * FROM patients", "unknown table 'patients'"),
    ):
        rc = gems_main(["lake", "query", sql, "--lake", f"s3://{BUCKET}"])
        err = capsys.readouterr().err.strip()
        assert rc == 1 and words in err and len(err.splitlines()) == 1
