"""The lake in the AWS Glue Data Catalog, so Athena (and EMR/Spark with the Glue metastore) query it.

Table definitions are generated from lake.schema: the same columns, Hive types and descriptions,
partitioned by job and sample, Parquet SerDe. The writer adds each new partition as it lands
(`add_partitions`); `gems lake register` creates the database and tables and adds every partition
the manifests list (for a lake written without a Glue client, or after a schema change).
Only boto3 here: the web app imports it on Lambda.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from lake.manifest import read as read_manifest
from lake.schema import PARTITION_KEYS, TABLES, TableSpec

DATABASE = "gems_lake"
_PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


def location(bucket: str, table: str) -> str:
    return f"s3://{bucket}/{table}/"


def table_input(spec: TableSpec, bucket: str) -> dict:
    return {
        "Name": spec.name,
        "Description": spec.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            "gems.lake.schema_version": str(spec.version),
        },
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in PARTITION_KEYS],
        "StorageDescriptor": {
            "Columns": spec.hive_columns(),
            "Location": location(bucket, spec.name),
            **_PARQUET,
        },
    }


def ddl(spec: TableSpec, bucket: str, database: str = DATABASE) -> str:
    """The Athena/Hive DDL of one table (what `table_input` registers through the API)."""
    cols = ",\n".join(
        f"  `{c['Name']}` {c['Type']} COMMENT '{c['Comment'].replace(chr(39), '')}'"
        for c in spec.hive_columns()
    )
    parts = ", ".join(f"`{k}` string" for k in PARTITION_KEYS)
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{spec.name}` (\n{cols}\n)\n"
        f"COMMENT '{spec.description.replace(chr(39), '')}'\n"
        f"PARTITIONED BY ({parts})\nSTORED AS PARQUET\nLOCATION '{location(bucket, spec.name)}'\n"
        f"TBLPROPERTIES ('classification'='parquet', 'gems.lake.schema_version'='{spec.version}');"
    )


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def ensure_tables(glue, bucket: str, database: str = DATABASE) -> list[str]:
    """Create the database and every table, or update a table whose definition is older."""
    try:
        glue.create_database(DatabaseInput={"Name": database, "Description": "gems cohort data lake"})
    except ClientError as exc:
        if _code(exc) != "AlreadyExistsException":
            raise
    done = []
    for spec in TABLES.values():
        tin = table_input(spec, bucket)
        try:
            glue.create_table(DatabaseName=database, TableInput=tin)
        except ClientError as exc:
            if _code(exc) != "AlreadyExistsException":
                raise
            glue.update_table(DatabaseName=database, TableInput=tin)
        done.append(spec.name)
    return done


def _partition_input(bucket: str, table: str, job: str, sample: str) -> dict:
    sd = {
        "Columns": TABLES[table].hive_columns(),
        "Location": f"{location(bucket, table)}job={job}/sample={sample}/",
        **_PARQUET,
    }
    return {"Values": [job, sample], "StorageDescriptor": sd}


def add_partitions(glue, database: str, table: str, bucket: str, partitions: list[tuple[str, str]]) -> int:
    """Register partitions (job, sample); ones already there are fine. Returns how many were new."""
    new = 0
    for start in range(0, len(partitions), 100):  # BatchCreatePartition takes at most 100
        chunk = partitions[start : start + 100]
        resp = glue.batch_create_partition(
            DatabaseName=database,
            TableName=table,
            PartitionInputList=[_partition_input(bucket, table, j, s) for j, s in chunk],
        )
        errors = resp.get("Errors", [])
        bad = [e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if bad:
            detail = bad[0].get("ErrorDetail", {})
            raise RuntimeError(f"glue: cannot add {table} partition: {detail.get('ErrorMessage')}")
        new += len(chunk) - len(errors)
    return new


def register(glue, store, database: str = DATABASE) -> dict[str, int]:
    """Tables plus every partition the manifests list; returns partitions added per table."""
    ensure_tables(glue, store.bucket, database)
    added = {}
    for name in TABLES:
        parts = []
        for pid in read_manifest(store, name)["partitions"]:
            job, sample = (seg.split("=", 1)[1] for seg in pid.split("/"))
            parts.append((job, sample))
        added[name] = add_partitions(glue, database, name, store.bucket, parts)
    return added
