"""The `gems` command against a running embedded stack, as a bioinformatician uses it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema
from e2e_helpers import RunningStack

pytestmark = pytest.mark.slow
HML_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "hml" / "hml-1.0.1.xsd"


def submit_demo(sample: str) -> list[str]:
    """`gems submit` of one demo sample with the demo reference."""
    return [
        "submit",
        "--bucket",
        "gems-demo",
        "--prefix",
        "demo/",
        "--hla-class",
        "1",
        "--samples",
        sample,
        "--reference",
        "s3://gems-demo/references/demo.fa",
    ]


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory):
    """One stack for the quick error cases (each would otherwise pay a start-up)."""
    running = RunningStack(tmp_path_factory.mktemp("gems-cli")).start()
    yield running
    running.stop()


def gems(stack, *args, timeout=600) -> subprocess.CompletedProcess:
    env = dict(stack.env())
    return subprocess.run(
        [sys.executable, "-m", "gems.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_submit_wait_status_results_logs(stack, tmp_path):
    assert gems(stack, "status").stdout.strip() == "no jobs"
    run = gems(
        stack, *submit_demo("NA12878"), "--option", "annotation=s3://gems-demo/references/demo.gff3", "--wait"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "COMPLETE" in run.stdout and "[####################] 1/1" in run.stdout
    key = run.stdout.split()[1]
    listed = json.loads(gems(stack, "status", "--json").stdout)
    assert [j["session_key"] for j in listed] == [key]
    table = gems(stack, "status", key).stdout
    assert "NA12878" in table and "COMPLETE" in table
    got = gems(stack, "results", key, "--out", str(tmp_path / "res"))
    assert got.returncode == 0, got.stderr
    names = {p.name for p in (tmp_path / "res" / "NA12878").iterdir()}
    assert {"report.json", "report.html", "sample.bam", "variants.vcf.gz", "hla.miring.json"} <= names
    xml = (tmp_path / "res" / "hla.xml").read_bytes()  # the job's HML, valid against NMDP's schema
    xmlschema.XMLSchema(str(HML_SCHEMA)).validate(xml)
    assert b'<sample id="NA12878">' in xml and "HML: " in got.stdout
    report = json.loads((tmp_path / "res" / "NA12878" / "report.json").read_text())
    assert report["status"] == "COMPLETE"
    assert "summary.tsv (1 samples: 1 COMPLETE)" in got.stdout
    header, line = (tmp_path / "res" / "summary.tsv").read_text().splitlines()
    row = dict(zip(header.split("\t"), line.split("\t"), strict=True))
    assert (row["sample"], row["status"]) == ("NA12878", "COMPLETE")
    assert int(row["read_pairs"]) == report["summary"]["read_pairs"] > 0
    assert float(row["mapping_rate"]) == report["summary"]["mapping_rate"]
    for call in report["hla"]["calls"]:  # each gene's two alleles, as the report has them
        assert row[f"{call['gene']} allele1"] == (call["allele1"] or "")
    assert row["report_url"].startswith("http")
    counts = report["summary"]["variant_counts"]  # the caller's own: SNP, MNP, INDEL
    assert int(row["snvs"]) + int(row["indels"]) == sum(v for k, v in counts.items() if k != "OTHER") > 0
    logs = gems(stack, "logs", key)
    assert logs.returncode == 0 and "worker 0" in logs.stdout and "NA12878" in logs.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["submit", "--bucket", "no-such-bucket", "--prefix", "demo/", "--hla-class", "1"], "bucket"),
        (["submit", "--bucket", "gems-demo", "--prefix", "../etc/", "--hla-class", "1"], "prefix"),
        (["status", "0000"], "no job"),
        (["results", "0000", "--out", "/tmp/x"], "no job"),
    ],
)
def test_errors_are_one_line_and_non_zero(shared_stack, args, needle):
    run = gems(shared_stack, *args)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], run.stderr


def test_unreachable_api_is_one_line(shared_stack):
    env = dict(shared_stack.env(), GEMS_API="http://127.0.0.1:9")
    run = subprocess.run(
        [sys.executable, "-m", "gems.cli.main", "status"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "cannot reach" in run.stderr
    assert os.environ.get("GEMS_API") != "http://127.0.0.1:9"


def test_predict_a_csv_of_patients_and_stop_a_job(tmp_path_factory, tmp_path):
    stack = RunningStack(tmp_path_factory.mktemp("gems-cli-model"), model=True).start()
    try:
        patients = tmp_path / "patients.csv"
        patients.write_text(
            "patient_id,mutated_genes,age_at_diagnosis,sex\n"
            "p1,IDH1 ATRX TP53,38,male\n"
            "p2,VHL;PBRM1;SETD2,61,female\n"
        )
        out = tmp_path / "predictions.csv"
        run = gems(stack, "predict", str(patients), "--out", str(out))
        assert run.returncode == 0, run.stderr
        rows = list(csv.DictReader(out.open()))
        assert [r["patient_id"] for r in rows] == ["p1", "p2"]
        assert rows[0]["predicted_site"] == "Brain"  # IDH1 + ATRX + TP53 in a young adult: a glioma
        assert {f"p_{r['predicted_site']}" for r in rows} <= set(rows[0])
        total = sum(float(v) for k, v in rows[0].items() if k.startswith("p_"))
        assert abs(total - 1) < 0.01
        bad = tmp_path / "bad.csv"
        bad.write_text("patient_id,mutated_genes\np1,TP53 NOTAGENE1\n")
        run = gems(stack, "predict", str(bad))
        assert run.returncode == 1 and "NOTAGENE1" in run.stderr and run.stderr.count("\n") == 1

        submitted = gems(stack, *submit_demo("HG002"))
        key = submitted.stdout.split()[1]
        stopped = gems(stack, "stop", key)
        assert stopped.returncode == 0 and stopped.stdout.strip() == f"job {key} STOPPED", (
            stopped.stdout + stopped.stderr
        )
        assert json.loads(gems(stack, "status", key, "--json").stdout)["overall_status"] == "STOPPED"
    finally:
        stack.stop()
