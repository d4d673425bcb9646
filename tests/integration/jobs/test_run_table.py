"""The run on one page against moto: GET /job/<key>/summary.json and .tsv give one row per
sample from the workers' records and each finished sample's report.json; the key is required."""

from __future__ import annotations

import csv
import io
import json

import pytest
from jobhelpers import LAB, bearer
from motostack import use_pipeline

from workers.program.worker import Worker

JOB = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 1}
CALLS = {
    "S1": [("A", "A*01:01", "A*02:01", 0.99), ("B", "B*08:01", "B*44:02", 0.97)],
    "S2": [("A", "A*03:01", "A*03:01", 0.61), ("B", "B*07:02", "B*15:01", 0.95)],
}


@pytest.fixture
def pipeline(monkeypatch):
    def run_sample(sample, r1, r2, out, options, on_progress=None):
        if sample == "S3":
            raise RuntimeError("bad\tinput in the aligner")
        out.mkdir(parents=True, exist_ok=True)
        report = {
            "sample": sample,
            "summary": {
                "read_pairs": 2000,
                "mapping_rate": 0.98,
                "mean_coverage": 31.5,
                "variants": 7,
                "variant_counts": {"snv": 5, "mnv": 1, "deletion": 1},
            },
            "hla": {
                "calls": [
                    {"gene": g, "allele1": a1, "allele2": a2, "confidence": c}
                    for g, a1, a2, c in CALLS[sample]
                ]
            },
        }
        (out / "report.json").write_text(json.dumps(report))
        (out / "report.html").write_text("<html></html>")
        return report

    use_pipeline(monkeypatch, run_sample)


def _run(services, config, client, tmp_path) -> str:
    key = client.post("/job", json=JOB, headers=bearer()).json["session_key"]
    iid = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    w = Worker(config, services.clients, key, 0, services.keys.worker_token(key), iid)
    w.call_api = lambda path, within_s=0: client.post(path, json={"session_key": key, "token": w.token})
    w.run(tmp_path)
    w.hand_over()
    return key


def test_one_row_per_sample_with_figures_hla_and_report_link(client, services, config, pipeline, tmp_path):
    key = _run(services, config, client, tmp_path)
    got = client.get(f"/job/{key}/summary.json", headers=bearer())
    assert got.status_code == 200
    t = got.json
    assert t["overall_status"] == "FAILED" and t["hla_genes"] == ["A", "B"]
    s1, s2, s3 = t["samples"]
    assert (s1["sample"], s1["status"], s1["read_pairs"], s1["mapping_rate"]) == (
        "S1",
        "COMPLETE",
        2000,
        0.98,
    )
    assert (s1["variants"], s1["snvs"], s1["indels"]) == (7, 6, 1)
    assert s1["hla"]["A"] == {"allele1": "A*01:01", "allele2": "A*02:01", "confidence": 0.99}
    assert s2["hla"]["A"]["confidence"] == 0.61
    assert s1["report_url"].startswith("https://") and "report.html" in s1["report_url"]
    assert s3["status"] == "FAILED" and "in the aligner" in s3["reason"]
    assert s3["read_pairs"] is None and s3["hla"] == {}
    assert abs(sum(r["cost_usd"] for r in t["samples"]) - t["cost"]["usd"]) < 0.001  # shares add up

    tsv = client.get(f"/job/{key}/summary.tsv", headers=bearer())
    assert tsv.status_code == 200 and tsv.mimetype == "text/tab-separated-values"
    assert f"gems-{key}-summary.tsv" in tsv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(tsv.get_data(as_text=True)), delimiter="\t"))
    assert [r["sample"] for r in rows] == ["S1", "S2", "S3"]
    assert rows[0]["A allele1"] == "A*01:01" and rows[0]["B allele2"] == "B*44:02"
    assert rows[1]["A confidence"] == "0.61" and rows[2]["A allele1"] == ""
    assert rows[2]["reason"] == s3["reason"].replace("\t", "\\x09")  # a tab in a reason moves no column
    assert "A flag" not in rows[0]  # the typer gave no flag


def test_the_summary_needs_the_owners_key(client, services, config, pipeline, tmp_path):
    key = _run(services, config, client, tmp_path)
    assert client.get(f"/job/{key}/summary.json").status_code == 401
    assert client.get(f"/job/{key}/summary.tsv", headers=bearer("bob")).status_code == 404
    assert (
        client.get("/job/0123456789abcdef0123456789abcdef/summary.json", headers=bearer()).status_code == 404
    )
