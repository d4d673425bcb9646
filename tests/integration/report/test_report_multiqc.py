"""The job's MultiQC report (workers.program.jobqc): built from the results of two real samples in
(moto) S3, it names both, carries samtools and bcftools stats and gems' own table, and lands in
the job's results; a job with no finished sample gets none, and nothing raises."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "calling"))
from na12878_slice import R1, R2, copy_reference  # noqa: E402

from gems.statekeys import MULTIQC_REPORT  # noqa: E402
from workers.pipeline.framework import PipelineOptions  # noqa: E402
from workers.pipeline.sample import run_sample  # noqa: E402
from workers.program import jobqc  # noqa: E402

BUCKET = "lab"
RESULTS = "run1/results/k1/"


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    ref = copy_reference(tmp_path_factory.mktemp("ref"))
    out = tmp_path_factory.mktemp("NA12878")
    run_sample("NA12878", R1, R2, out, PipelineOptions(reference=ref, threads=2))
    return out


@pytest.fixture
def s3(sample_out, tmp_path):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        for sample in ("NA12878", "NA12878-again"):
            for name in ("samtools.stats.txt", "bcftools.stats.txt", "report.json"):
                body = (sample_out / name).read_bytes()
                client.put_object(Bucket=BUCKET, Key=f"{RESULTS}{sample}/{name}", Body=body)
        yield client


def test_the_report_covers_every_sample_and_lands_in_the_results(s3, tmp_path):
    key = jobqc.build(s3, BUCKET, RESULTS, tmp_path)
    assert key == RESULTS + MULTIQC_REPORT
    html = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    data = json.loads(s3.get_object(Bucket=BUCKET, Key=RESULTS + "multiqc/multiqc_data.json")["Body"].read())
    assert "gems: per-sample figures" in html
    assert {"Samtools", "Bcftools"} <= set(data["report_data_sources"])
    for tool in ("samtools", "bcftools"):  # each sample by its own name, from each tool
        assert set(data["report_data_sources"][tool.title()]["stats"]) == {"NA12878", "NA12878-again"}


def test_no_finished_sample_no_report_and_a_failure_never_raises(s3, tmp_path, monkeypatch):
    assert jobqc.build(s3, BUCKET, "run1/results/empty/", tmp_path) is None
    monkeypatch.setattr(jobqc, "TIMEOUT_S", 0.001)  # MultiQC cannot finish: said in the log, not raised
    jobqc.build_quietly(s3, BUCKET, RESULTS)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_gems_row_reads_a_sharded_samples_gather():
    row = jobqc.gems_row(
        {
            "status": "COMPLETE",
            "qc": {"pairs_used": 10},
            "gather": {"mapping_rate": 0.99},
            "split": {"shards": 4},
        }
    )
    assert row == {"status": "COMPLETE", "read pairs": 10, "mapping rate": 0.99, "shards": 4}
