"""Glue Data Catalog registration against moto: tables from the schema, partitions from the writer."""

from __future__ import annotations

import boto3
import pytest
from lakehelpers import context, hla_sets, sample_out
from moto import mock_aws

from lake.glue import DATABASE, ensure_tables, register
from lake.schema import TABLES
from lake.store import S3Store
from lake.writer import write_sample
from workers.pipeline.lake import LakeStep, LakeTarget, sample_tables

BUCKET = "glue-lake"


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("glue", region_name="us-east-1")


def test_tables_are_generated_from_the_schema(aws):
    _, glue = aws
    assert ensure_tables(glue, BUCKET) == list(TABLES)
    ensure_tables(glue, BUCKET)  # again: updated in place, no error
    for name, spec in TABLES.items():
        t = glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
        sd = t["StorageDescriptor"]
        assert [c["Name"] for c in sd["Columns"]] == spec.names
        assert [k["Name"] for k in t["PartitionKeys"]] == ["job", "sample"]
        assert sd["Location"] == f"s3://{BUCKET}/{name}/"
        assert "Parquet" in sd["SerdeInfo"]["SerializationLibrary"]
        assert t["Parameters"]["gems.lake.schema_version"] == str(spec.version)


def test_the_writer_adds_partitions_and_register_repairs_the_rest(aws, tmp_path):
    s3, glue = aws
    ensure_tables(glue, BUCKET)
    out = sample_out(tmp_path, "NA12878", "S1")
    LakeStep(LakeTarget.on_s3(s3, BUCKET, "j1", glue=glue))(context(out, "S1", hla_sets()[0], {}))
    parts = glue.get_partitions(DatabaseName=DATABASE, TableName="variants")["Partitions"]
    assert [p["Values"] for p in parts] == [["j1", "S1"]]
    assert parts[0]["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/variants/job=j1/sample=S1/"
    # a sample written without a Glue client: register adds it (and only it) from the manifests
    out2 = sample_out(tmp_path, "HG002", "S2")
    write_sample(S3Store(s3, BUCKET), "j2", "S2", sample_tables(context(out2, "S2", None, {})))
    assert register(glue, S3Store(s3, BUCKET)) == {"variants": 1, "hla": 1, "qc": 1}
    assert register(glue, S3Store(s3, BUCKET)) == {"variants": 0, "hla": 0, "qc": 0}
    values = sorted(
        p["Values"] for p in glue.get_partitions(DatabaseName=DATABASE, TableName="qc")["Partitions"]
    )
    assert values == [["j1", "S1"], ["j2", "S2"]]
