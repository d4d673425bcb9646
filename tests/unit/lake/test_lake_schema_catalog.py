"""Schemas and migrations, the Glue/Athena DDL, and the Athena runner (Stubber, no network)."""

from __future__ import annotations

import boto3
import pyarrow as pa
import pytest
from botocore.stub import ANY, Stubber

from gems.errors import InputError, UnavailableError, ValidationError
from lake.athena import literal, run_query
from lake.glue import ddl
from lake.schema import TABLES, conform, file_version, upgrade


def _v1_variants(genotypes):
    cols = {
        n: [None] * len(genotypes)
        for n in TABLES["variants"].names
        if n not in ("alt_count", "schema_version")
    }
    cols["genotype"] = genotypes
    return pa.table(cols)


def test_variants_v1_gets_alt_count_from_the_genotype():
    out = upgrade("variants", _v1_variants(["0/1", "1/1", "1|1", "1/2", "0/0", "./.", None, "0|2"]), 1, "p")
    assert out.column("alt_count").to_pylist() == [1, 2, 2, 1, 0, 0, 0, 1]
    assert out.schema.names == TABLES["variants"].names
    assert set(out.column("schema_version").to_pylist()) == {1}  # the version the rows were written with
    assert file_version(out.schema) == TABLES["variants"].version


def test_hla_v1_margin_moves_to_margin_and_the_flag_is_unknown():
    v1 = ("gene", "allele1", "allele2", "confidence", "reads1", "reads2", "pairs", "note", "imgt_release")
    table = pa.table(
        {n: ["A", "A*01:01", "A*02:01", 13.8, 10, 12, 22, "", "3.32.0"][i : i + 1] for i, n in enumerate(v1)}
    )
    table = table.set_column(3, "confidence", pa.array([13.8], type=pa.float64()))
    for k in (4, 5, 6):
        table = table.set_column(k, v1[k], pa.array(table.column(k).to_pylist(), type=pa.int32()))
    out = upgrade("hla", table, 1, "p")
    assert out.schema.names == TABLES["hla"].names
    row = out.to_pylist()[0]
    # a v1 margin is not a posterior: it moves, and what v1 could not say stays unknown
    assert row["margin"] == 13.8 and row["confidence"] is None and row["flag"] is None
    assert row["allele1"] == "A*01:01" and row["schema_version"] == 1


def test_newer_or_unmigratable_versions_are_refused_with_the_partition_named():
    qc = conform("qc", pa.table({n: [None] for n in TABLES["qc"].names if n != "schema_version"}))
    with pytest.raises(InputError, match=r"s3://b/qc/x: written with qc schema v7, newer .*upgrade gems"):
        upgrade("qc", qc, 7, "s3://b/qc/x")
    with pytest.raises(InputError, match="no migration to v1"):
        upgrade("qc", qc, 0, "s3://b/qc/x")


def test_conform_refuses_a_writer_that_drifted_from_the_schema():
    cols = {n: [1] for n in ("gene", "allele1")}
    with pytest.raises(ValueError, match="missing"):
        conform("hla", pa.table(cols))
    with pytest.raises(InputError, match="unknown lake table"):
        conform("samples", pa.table(cols))


def test_ddl_is_generated_from_the_schema():
    text = ddl(TABLES["variants"], "my-lake")
    for name in TABLES["variants"].names:
        assert f"`{name}` " in text
    assert "`pos` bigint" in text and "`alt_count` tinyint" in text and "`qual` double" in text
    assert "PARTITIONED BY (`job` string, `sample` string)" in text
    assert "STORED AS PARQUET" in text and "LOCATION 's3://my-lake/variants/'" in text


def test_athena_literals_are_quoted():
    assert [literal(v) for v in ("O'Neil", 12, 0.5, True)] == ["'O''Neil'", "12", "0.5", "true"]
    with pytest.raises(ValidationError):
        literal(None)


@pytest.fixture
def athena():
    client = boto3.client("athena", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub


def _start(stub, params):
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q"},
        {
            "QueryString": ANY,
            "QueryExecutionContext": ANY,
            "ResultConfiguration": ANY,
            "ExecutionParameters": params,
        },
    )


def test_athena_results_are_typed_and_the_header_row_dropped(athena):
    client, stub = athena
    _start(stub, ["'chr1'", "10"])
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})
    info = [
        {"Name": "chrom", "Type": "varchar"},
        {"Name": "ac", "Type": "bigint"},
        {"Name": "af", "Type": "double"},
    ]
    rows = [["chrom", "ac", "af"], ["chr1", "3", "0.25"], ["chr1", "1", None]]
    data = [{"Data": [{"VarCharValue": v} if v is not None else {} for v in r]} for r in rows]
    stub.add_response(
        "get_query_results", {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": info}, "Rows": data}}
    )
    cols, got = run_query(
        client, "SELECT ...", ("chr1", 10), database="d", output="s3://b/r/", sleep=lambda s: None
    )
    assert cols == ["chrom", "ac", "af"] and got == [("chr1", 3, 0.25), ("chr1", 1, None)]


def test_athena_failures_and_timeouts_are_one_line_errors(athena):
    client, stub = athena
    _start(stub, ["1"])
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: qcx"}}},
    )
    with pytest.raises(ValidationError, match="athena: TABLE_NOT_FOUND"):
        run_query(client, "SELECT", (1,), database="d", output="s3://b/r/", sleep=lambda s: None)
    _start(stub, ["1"])
    for _ in range(3):
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q"})
    with pytest.raises(UnavailableError, match="took over"):
        run_query(
            client,
            "SELECT",
            (1,),
            database="d",
            output="s3://b/r/",
            timeout_s=1,
            poll_s=0.5,
            sleep=lambda s: None,
        )
