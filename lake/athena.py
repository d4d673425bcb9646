"""The canned questions on AWS: Athena over the Glue tables (boto3 only, so Lambda can carry it).

The web app on Lambda cannot carry DuckDB and pyarrow comfortably (about 100 MB together, next to
a 250 MB limit that the app already uses a good part of), and a Lambda's memory would bound the
cohort anyway; Athena reads the same Parquet through the Glue catalogue (lake.glue). Results go
to `s3://<lake bucket>/_athena-results/`, outside every table's prefix.
"""

from __future__ import annotations

import time

from gems.errors import UnavailableError, ValidationError

RESULTS_PREFIX = "_athena-results/"
_TYPES = {
    "tinyint": int,
    "smallint": int,
    "integer": int,
    "bigint": int,
    "double": float,
    "float": float,
    "real": float,
    "decimal": float,
    "boolean": lambda v: v.lower() == "true",
}


def literal(value) -> str:
    """An Athena execution parameter: a SQL literal, strings quoted with '' escaping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValidationError(f"cannot pass {type(value).__name__} to Athena")


def _convert(value: str | None, kind: str):
    if value is None:
        return None
    fn = _TYPES.get(kind.lower())
    return fn(value) if fn else value


def run_query(
    athena,
    sql: str,
    params=(),
    *,
    database: str,
    output: str,
    workgroup: str | None = None,
    timeout_s: float = 50.0,
    poll_s: float = 0.25,
    sleep=time.sleep,
) -> tuple[list[str], list[tuple]]:
    """Start the query, wait for it (under Lambda's timeout), and return (columns, rows)."""
    kwargs = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "ResultConfiguration": {"OutputLocation": output},
    }
    if params:
        kwargs["ExecutionParameters"] = [literal(p) for p in params]
    if workgroup:
        kwargs["WorkGroup"] = workgroup
    qid = athena.start_query_execution(**kwargs)["QueryExecutionId"]
    waited = 0.0
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("StateChangeReason") or state.lower()
            raise ValidationError(f"athena: {reason}", field="sql")
        if waited >= timeout_s:
            athena.stop_query_execution(QueryExecutionId=qid)
            raise UnavailableError(f"athena query {qid} took over {timeout_s:.0f} s; stopped")
        sleep(poll_s)
        waited += poll_s
    columns: list[str] = []
    kinds: list[str] = []
    rows: list[tuple] = []
    first = True
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        rs = page["ResultSet"]
        if not columns:
            info = rs.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            columns = [c["Name"] for c in info]
            kinds = [c.get("Type", "varchar") for c in info]
        data = rs.get("Rows", [])
        if first and data:  # a SELECT's first row repeats the column names
            data = data[1:]
        first = False
        for r in data:
            values = [d.get("VarCharValue") for d in r.get("Data", [])]
            rows.append(tuple(_convert(v, k) for v, k in zip(values, kinds, strict=False)))
    return columns, rows
