"""Writing one sample's partitions: Parquet bytes, atomic publish, manifest, Glue partition.

A sample's partition of a table is one object, `<table>/job=<key>/sample=<id>/part-0.parquet`.
Rewriting it (a rerun) replaces the object whole, so rows never duplicate; a writer that dies
before the copy leaves the previous partition (or none) in place and only a stray object under
`_tmp/`, which no reader lists. The manifest is updated after the object is in place.
"""

from __future__ import annotations

import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from gems.errors import ValidationError
from lake import manifest
from lake.schema import TABLES, conform

PART = "part-0.parquet"
STATISTICS = {"variants": ["chrom", "pos", "gene"]}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(value: str, what: str) -> str:
    """Job keys and sample names become path segments (`job=<key>`); keep them plain."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(
            f"{what} {value!r} cannot name a lake partition (letters, digits, '.', '_', '-'; at most 128)",
            field=what,
        )
    return value


def partition_key(table: str, job: str, sample: str) -> str:
    return f"{table}/{manifest.partition_id(job, sample)}/{PART}"


def parquet_bytes(table: str, data) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    data = conform(table, data)
    # zstd + dictionaries: gene/consequence/genotype columns repeat a handful of values. Statistics
    # only where engines prune on them (a region or gene of variants); on a one-row qc partition
    # they were half the file. The Arrow schema is not stored (Parquet's logical types already give
    # back every column's type, checked in the tests); the version keys are written explicitly.
    stats = STATISTICS.get(table, False)
    writer = pq.ParquetWriter(
        buf, data.schema, compression="zstd", use_dictionary=True, write_statistics=stats, store_schema=False
    )
    writer.write_table(data)
    writer.add_key_value_metadata(data.schema.metadata)
    writer.close()
    return buf.getvalue()


def _publish(store, table: str, job: str, sample: str, data, **publish) -> tuple[str, dict]:
    check_name(job, "job")
    check_name(sample, "sample")
    if table not in TABLES:
        raise ValidationError(f"unknown lake table {table!r}", field="table")
    blob = parquet_bytes(table, data)
    key = partition_key(table, job, sample)
    store.put_atomic(key, blob, **publish)
    entry = {
        "key": key,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "rows": data.num_rows,
        "bytes": len(blob),
        "schema_version": TABLES[table].version,
        "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return manifest.partition_id(job, sample), entry


def write_partition(store, table: str, job: str, sample: str, data, **publish) -> dict:
    """Publish one partition and record it in the table's manifest; returns its manifest entry."""
    pid, entry = _publish(store, table, job, sample, data, **publish)
    new = manifest.update(store, table, {pid: entry})
    return dict(new["partitions"][pid], manifest_version=new["version"])


def write_samples(store, job: str, samples: dict[str, dict], threads: int = 8) -> dict[str, dict]:
    """Backfill many samples of one job (sample -> table name -> rows): partitions published in
    parallel, then one manifest update per table instead of one per sample."""
    jobs = [(t, s, data) for s, tables in samples.items() for t, data in tables.items()]
    with ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(lambda a: (a[0], *_publish(store, a[0], job, a[1], a[2])), jobs))
    result = {}
    for table in TABLES:
        changes = {pid: entry for t, pid, entry in done if t == table}
        if changes:
            result[table] = manifest.update(store, table, changes)
    return result


def write_sample(
    store, job: str, sample: str, tables: dict, *, glue=None, database: str | None = None
) -> dict:
    """Write every table given for one sample (name -> pyarrow Table); with a Glue client, register
    each new partition so Athena sees it without a crawler."""
    written = {}
    for name, data in tables.items():
        written[name] = write_partition(store, name, job, sample, data)
    if glue is not None and hasattr(store, "bucket"):
        from lake.glue import DATABASE, add_partitions

        for name in tables:
            add_partitions(glue, database or DATABASE, name, store.bucket, [(job, sample)])
    return written


def remove_sample(store, job: str, sample: str, tables=tuple(TABLES)) -> None:
    """Take a sample out of the lake (e.g. a retracted consent): manifest first, then the objects."""
    for name in tables:
        manifest.update(store, name, {manifest.partition_id(job, sample): None})
        store.delete(partition_key(name, job, sample))
