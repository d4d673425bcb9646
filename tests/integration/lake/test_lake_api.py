"""GET /lake/...: DuckDB in the embedded stack (moto S3), Athena on AWS; key required."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from lakehelpers import context, hla_sets, sample_out
from moto import mock_aws
from testconfig import TestConfig

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store
from workers.pipeline.lake import LakeStep, LakeTarget

KEY = "lake-test-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _app(tmp_path, embedded: bool):
    from app import create_app
    from app.services import Services

    config = TestConfig(embedded=embedded, lake_bucket="api-lake", home=tmp_path / "home")
    svc = Services.from_config(config)
    create_store(config)
    store = CredstashSecrets(config)
    auth.seed(store, {"lab": KEY}, admins=("lab",))
    svc.keys.secrets = store
    s3 = svc.clients.s3
    s3.create_bucket(Bucket="api-lake")  # the stage's lake (gems deploy or the embedded stack makes it)
    for i, (src, hla) in enumerate((("NA12878", hla_sets()[0]), ("HG002", hla_sets()[1]))):
        out = sample_out(tmp_path, src, f"S{i}")
        LakeStep(LakeTarget.on_s3(s3, "api-lake", "jobA"))(context(out, f"S{i}", hla, {}))
    return create_app(config, services=svc).test_client()


@pytest.fixture
def aws():
    with mock_aws():
        yield


def test_embedded_answers_with_duckdb(aws, tmp_path):
    client = _app(tmp_path, embedded=True)
    assert client.get("/lake/af?variant=chr22_16570000_16610000:1234:G:A").status_code == 401
    body = client.get("/lake/af?variant=chr22_16570000_16610000:1234:G:A", headers=AUTH).get_json()
    assert body["engine"] == "duckdb" and body["question"] == "af"
    assert body["rows"] == [{**body["rows"][0], "allele_count": 1, "allele_number": 4, "samples": 2}]
    assert body["snapshot"]["variants"]["partitions"] == 2
    hla = client.get("/lake/hla-frequencies?gene=A", headers=AUTH).get_json()["rows"]
    assert {r["allele"] for r in hla} == {
        c[k] for calls in hla_sets()[:2] for c in calls for k in ("allele1", "allele2") if c["gene"] == "A"
    }
    fails = client.get("/lake/qc-fails?min_coverage=31&min_fraction_20x=0", headers=AUTH).get_json()["rows"]
    assert [r["sample"] for r in fails] == ["S1"]  # HG002 at 30.4x
    bad = client.get("/lake/af?variant=chr22-1234-G-A", headers=AUTH)
    assert bad.status_code == 400 and bad.get_json()["field"] == "variant"
    assert client.get("/lake/qc-fails?min_coverage=lots", headers=AUTH).status_code == 400
    assert client.get("/lake/carriers", headers=AUTH).status_code == 400


def test_on_aws_the_question_goes_to_athena(aws, tmp_path, monkeypatch):
    client = _app(tmp_path, embedded=False)
    athena = boto3.client("athena", region_name="us-east-1")
    stub = Stubber(athena)
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": stub_any(),
            "QueryExecutionContext": {"Database": "gems_lake"},
            "ResultConfiguration": {"OutputLocation": "s3://api-lake/_athena-results/"},
            "ExecutionParameters": ["'A'"],
        },
    )
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})
    cols = [{"Name": n, "Type": t} for n, t in (("gene", "varchar"), ("allele", "varchar"), ("allele_count", "bigint"), ("frequency", "double"))]  # fmt: skip
    rows = [
        ["gene", "allele", "allele_count", "frequency"],
        ["A", "A*01:01", "3", "0.75"],
        ["A", "A*02:01", "1", "0.25"],
    ]
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "ResultSetMetadata": {"ColumnInfo": cols},
                "Rows": [{"Data": [{"VarCharValue": v} for v in r]} for r in rows],
            }
        },
    )
    monkeypatch.setattr("gems.aws.clients.client", lambda config, service: athena)
    with stub:
        body = client.get("/lake/hla-frequencies?gene=A", headers=AUTH).get_json()
    assert body["engine"] == "athena"
    assert body["rows"] == [
        {"gene": "A", "allele": "A*01:01", "allele_count": 3, "frequency": 0.75},
        {"gene": "A", "allele": "A*02:01", "allele_count": 1, "frequency": 0.25},
    ]


def stub_any():
    from botocore.stub import ANY

    return ANY
