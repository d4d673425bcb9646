"""The embedded engine: DuckDB over the lake's Parquet, on one machine.

A query loads only the tables it names. A table is the partitions its manifest lists (a
consistent snapshot even while workers write), each read back, checked against the manifest's
sha256, brought to the current schema through lake.schema's migrations, and given its `job` and
`sample` columns from its partition. Reads go through boto3 (threads in parallel) rather than
pyarrow's S3 filesystem, so the same code reads real S3, the embedded moto server and moto's
in-process mock in tests, and every byte is checked against the manifest.

Loaded tables are cached under `cache_dir`: each partition by its checksum (a growing cohort only
downloads new partitions) and each table by its manifest digest (a repeated question on an
unchanged lake opens one local file). The first reader of a new manifest version also shares the
consolidated table in the lake (`_snapshots/<table>-v<schema>-<digest>.parquet`, outside every
table's prefix), so the next cold reader downloads one object instead of one per sample. DuckDB then runs the SQL on the Arrow tables in memory, with
file access disabled.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

import lake.manifest
from gems.errors import InputError, ValidationError
from lake.readonly import check_read_only
from lake.schema import PARTITION_KEYS, TABLES, file_version, upgrade

THREADS = 16  # parallel partition downloads; S3 latency, not CPU, bounds a cold load
SNAPSHOT_PREFIX = "_snapshots/"
log = logging.getLogger(__name__)


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    snapshot: dict[str, dict] = field(default_factory=dict)  # table -> {version, digest, partitions}

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def _parse_pid(pid: str) -> tuple[str, str]:
    job, sample = (seg.split("=", 1)[1] for seg in pid.split("/"))
    return job, sample


class Engine:
    def __init__(self, store, cache_dir: Path | None = None, snapshots: bool = True):
        self.store = store
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.snapshots = snapshots  # read and share consolidated tables under _snapshots/
        self._manifests: dict[str, dict] = {}
        self._tables: dict[str, object] = {}

    # -- loading ---------------------------------------------------------------------------
    def manifest(self, table: str) -> dict:
        if table not in self._manifests:
            self._manifests[table] = lake.manifest.read(self.store, table)
        return self._manifests[table]

    def _cache(self, name: str) -> Path | None:
        return self.cache_dir / name if self.cache_dir else None

    def _write_cache(self, path: Path | None, data: bytes) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs the next query a download
        finally:
            tmp.unlink(missing_ok=True)

    def _partition_bytes(self, table: str, pid: str, entry: dict) -> bytes:
        cached = self._cache(f"parts/{entry['sha256']}.parquet")
        if cached is not None and cached.exists():
            return cached.read_bytes()
        blob = self.store.get(entry["key"])
        if blob is None or hashlib.sha256(blob).hexdigest() != entry["sha256"]:
            # rewritten since the manifest was read (a rerun), or damaged: re-read the manifest once
            fresh = lake.manifest.read(self.store, table)["partitions"].get(pid)
            blob = self.store.get(entry["key"]) if fresh else None
            if fresh is None or blob is None or hashlib.sha256(blob).hexdigest() != fresh["sha256"]:
                raise InputError(
                    f"{self.store.url(entry['key'])} does not match the sha256 in the {table} manifest "
                    "(damaged, or written outside the lake writer)"
                )
        self._write_cache(cached, blob)
        return blob

    def _read_partition(self, table: str, pid: str, entry: dict):
        import pyarrow as pa
        import pyarrow.parquet as pq

        blob = self._partition_bytes(table, pid, entry)
        data = pq.read_table(io.BytesIO(blob))
        version = file_version(data.schema) or entry.get("schema_version")
        if version is None:
            raise InputError(f"{self.store.url(entry['key'])} does not say its schema version")
        data = upgrade(table, data, int(version), self.store.url(entry["key"]))
        job, sample = _parse_pid(pid)
        n = data.num_rows
        return data.append_column("job", pa.array([job] * n, pa.string())).append_column(
            "sample", pa.array([sample] * n, pa.string())
        )

    def _empty(self, table: str):
        import pyarrow as pa

        schema = TABLES[table].arrow_schema()
        for k in PARTITION_KEYS:
            schema = schema.append(pa.field(k, pa.string()))
        return schema.empty_table()

    def _snapshot_key(self, table: str, m: dict) -> str:
        # the schema version is in the name: a gems that reads a newer schema must not reuse it
        return f"{SNAPSHOT_PREFIX}{table}-v{TABLES[table].version}-{m['digest'][:32]}.parquet"

    def _shared_snapshot(self, table: str, m: dict):
        """The consolidated table another reader already built for this manifest digest, if any."""
        import pyarrow.parquet as pq

        try:
            blob = self.store.get(self._snapshot_key(table, m))
        except (ClientError, OSError) as exc:
            log.info("lake: no shared snapshot of %s (%s)", table, exc)
            return None
        if blob is None:
            return None
        data = pq.read_table(io.BytesIO(blob))
        if data.num_rows != sum(e["rows"] for e in m["partitions"].values()):
            return None  # not what the manifest lists: rebuild from the partitions
        return data

    def _publish_snapshot(self, table: str, m: dict, blob: bytes) -> None:
        key = self._snapshot_key(table, m)
        try:
            self.store.put_atomic(key, blob)
            for old in self.store.keys(f"{SNAPSHOT_PREFIX}{table}-"):
                if old != key:
                    self.store.delete(old)
        except (ClientError, OSError) as exc:  # a reader without write access still answers
            log.info("lake: could not share the %s snapshot (%s)", table, exc)

    def table(self, table: str):
        """The whole table as a pyarrow Table (the manifest's partitions, migrated, with job/sample)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if table in self._tables:
            return self._tables[table]
        m = self.manifest(table)
        cached = self._cache(self._snapshot_key(table, m).removeprefix(SNAPSHOT_PREFIX))
        if cached is not None and cached.exists():
            data = pq.read_table(cached)
        else:
            data = self._shared_snapshot(table, m) if self.snapshots and m["partitions"] else None
            built = data is None
            if built:
                parts = sorted(m["partitions"].items())
                if not parts:
                    data = self._empty(table)
                else:
                    with ThreadPoolExecutor(THREADS) as pool:
                        pieces = list(pool.map(lambda p: self._read_partition(table, *p), parts))
                    data = pa.concat_tables(pieces)
            if cached is not None or (built and self.snapshots and m["partitions"]):
                buf = io.BytesIO()
                pq.write_table(data, buf, compression="zstd")
                self._write_cache(cached, buf.getvalue())
                if built and self.snapshots and m["partitions"]:
                    self._publish_snapshot(table, m, buf.getvalue())
        self._tables[table] = data
        return data

    # -- querying --------------------------------------------------------------------------
    def query(self, sql: str, params: list | None = None) -> Result:
        import duckdb

        sql = check_read_only(sql)
        con = duckdb.connect(config={"enable_external_access": False})
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise ValidationError(f"query: {_first_line(exc)}", field="sql") from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise ValidationError("only one SELECT/WITH statement is allowed", field="sql")
        named = [t for t in TABLES if re.search(rf"\b{t}\b", sql, re.I)]
        for t in named:
            con.register(t, self.table(t))
        try:
            cur = con.execute(sql, params or [])
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
        except duckdb.CatalogException as exc:
            msg = _first_line(exc)
            m = re.search(r"with name (\S+) does not exist", msg)
            if m:
                raise ValidationError(
                    f"unknown table {m.group(1)!r}: the lake has {', '.join(TABLES)}", field="sql"
                ) from None
            raise ValidationError(f"query: {msg}", field="sql") from None
        except duckdb.Error as exc:
            raise ValidationError(f"query: {_first_line(exc)}", field="sql") from None
        finally:
            con.close()
        snapshot = {
            t: {
                "version": self.manifest(t)["version"],
                "digest": self.manifest(t)["digest"],
                "partitions": len(self.manifest(t)["partitions"]),
            }
            for t in named
        }
        return Result(columns, rows, snapshot)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for prefix in ("Catalog Error: ", "Parser Error: ", "Binder Error: "):
        text = text.replace(prefix, "")
    return text.splitlines()[0] if text else type(exc).__name__
