"""Writer and reader on moto S3: atomic partitions, reruns, manifests, checksums, old schemas."""

from __future__ import annotations

import hashlib
import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lakehelpers import context, hla_sets, sample_out
from moto import mock_aws

from gems.errors import InputError, ValidationError
from lake import manifest
from lake.engine import Engine
from lake.schema import TABLES
from lake.store import S3Store
from lake.writer import partition_key, write_partition, write_sample
from workers.pipeline.lake import sample_tables

BUCKET = "lake-test"


@pytest.fixture
def store():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield S3Store(s3, BUCKET)


@pytest.fixture
def tables(tmp_path):
    out = sample_out(tmp_path, "NA12878", "S1")
    return sample_tables(context(out, "S1", hla_sets()[0], {}))


def count(store, table="variants", where="TRUE") -> int:
    return Engine(store).query(f"SELECT count(*) FROM {table} WHERE {where}").rows[0][0]


def test_partition_layout_manifest_and_checksums(store, tables):
    written = write_sample(store, "job1", "S1", tables)
    keys = set(store.keys(""))
    for t in ("variants", "hla", "qc"):
        assert partition_key(t, "job1", "S1") in keys
        m = manifest.read(store, t)
        entry = m["partitions"]["job=job1/sample=S1"]
        blob = store.get(entry["key"])
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest() == written[t]["sha256"]
        assert entry["rows"] == tables[t].num_rows and m["version"] == 1
        assert manifest.read(store, t, version=1) == m  # the frozen copy a report can cite
        schema = pq.read_schema(io.BytesIO(blob))
        assert (
            schema.metadata[b"gems.lake.schema_version"] and schema.metadata[b"gems.lake.table"] == t.encode()
        )
        assert schema.equals(TABLES[t].arrow_schema())  # every type comes back as written
    assert not [k for k in keys if k.startswith("_tmp/")]
    assert count(store) == tables["variants"].num_rows


def test_rerun_replaces_the_partition_and_never_duplicates(store, tables):
    write_sample(store, "job1", "S1", tables)
    write_sample(store, "job1", "S1", tables)  # same bytes: same manifest version
    assert count(store) == tables["variants"].num_rows and manifest.read(store, "variants")["version"] == 1
    fewer = tables["variants"].slice(0, 10)
    write_partition(store, "variants", "job1", "S1", fewer)
    assert count(store) == 10
    m = manifest.read(store, "variants")
    assert m["version"] == 2 and manifest.read(store, "variants", version=1)["digest"] != m["digest"]


def test_rerun_interrupted_midway_leaves_the_old_partition_whole(store, tables):
    write_sample(store, "job1", "S1", tables)
    before = manifest.read(store, "variants")
    with pytest.raises(OSError):
        write_partition(
            store, "variants", "job1", "S1", tables["variants"].slice(0, 5), fail_before_publish=True
        )
    assert manifest.read(store, "variants") == before
    assert count(store) == tables["variants"].num_rows  # the old rows, all of them, once
    assert not [k for k in store.keys("") if k.startswith("_tmp/")]
    write_partition(store, "variants", "job1", "S1", tables["variants"].slice(0, 5))  # the rerun finishes
    assert count(store) == 5


def test_a_partition_that_does_not_match_its_checksum_is_refused(store, tables):
    write_sample(store, "job1", "S1", tables)
    key = partition_key("qc", "job1", "S1")
    store.s3.put_object(Bucket=BUCKET, Key=key, Body=store.get(partition_key("hla", "job1", "S1")))
    with pytest.raises(InputError, match="does not match the sha256"):
        count(store, "qc")


def _v1_partition(store, data: pa.Table) -> None:
    """A variants partition as the v1 writer left it: no alt_count column, metadata version 1."""
    old = data.drop_columns(["alt_count"])
    old = old.append_column("schema_version", pa.array([1] * old.num_rows, pa.int16()))
    old = old.replace_schema_metadata({b"gems.lake.schema_version": b"1", b"gems.lake.table": b"variants"})
    buf = io.BytesIO()
    pq.write_table(old, buf)
    blob = buf.getvalue()
    key = partition_key("variants", "job0", "OLD")
    store.put_atomic(key, blob)
    entry = {
        "key": key,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "rows": old.num_rows,
        "schema_version": 1,
    }
    manifest.update(store, "variants", {"job=job0/sample=OLD": entry})


def test_an_older_schema_version_is_read_through_its_migration(store, tables):
    write_sample(store, "job1", "S1", tables)
    _v1_partition(store, tables["variants"])
    sql = (
        "SELECT a.genotype, a.alt_count AS new, b.alt_count AS migrated, b.schema_version FROM variants a "
        "JOIN variants b USING (chrom, pos, ref, alt) WHERE a.sample = 'S1' AND b.sample = 'OLD'"
    )
    rows = Engine(store).query(sql).rows
    assert len(rows) == tables["variants"].num_rows
    assert all(r[3] == 1 for r in rows)
    biallelic = [r for r in rows if "2" not in r[0]]
    assert biallelic and all(r[1] == r[2] for r in biallelic)


def test_a_newer_schema_version_is_refused_with_a_reason(store, tables):
    write_sample(store, "job1", "S1", tables)
    data = tables["qc"].replace_schema_metadata({b"gems.lake.schema_version": b"99"})
    buf = io.BytesIO()
    pq.write_table(data, buf)
    key = partition_key("qc", "job9", "NEW")
    store.put_atomic(key, buf.getvalue())
    sha = hashlib.sha256(buf.getvalue()).hexdigest()
    manifest.update(
        store, "qc", {"job=job9/sample=NEW": {"key": key, "sha256": sha, "rows": 1, "schema_version": 99}}
    )
    with pytest.raises(InputError, match="schema v99, newer than this gems reads"):
        count(store, "qc")


def test_bad_partition_names_are_refused(store, tables):
    for job, sample in (("job/1", "S1"), ("job1", "../x"), ("job1", "S 1"), ("", "S1")):
        with pytest.raises(ValidationError):
            write_partition(store, "qc", job, sample, tables["qc"])


def test_the_first_reader_shares_a_snapshot_that_later_readers_use(store, tables, tmp_path):
    write_sample(store, "job1", "S1", tables)
    write_sample(store, "job1", "S2", tables)
    assert count(store) == 2 * tables["variants"].num_rows
    snaps = [k for k in store.keys("_snapshots/") if k.startswith("_snapshots/variants-")]
    assert len(snaps) == 1 and f"-v{2}-" in snaps[0]
    got = []
    original = store.get
    store.get = lambda key: got.append(key) or original(key)
    engine = Engine(store, cache_dir=tmp_path / "cache")
    assert engine.query("SELECT count(*) FROM variants").rows == [(2 * tables["variants"].num_rows,)]
    assert [k for k in got if k.startswith("variants/")] == []  # one snapshot object, no partitions
    got.clear()
    assert Engine(store, cache_dir=tmp_path / "cache").query("SELECT count(*) FROM variants").rows[0][0] > 0
    assert not [k for k in got if not k.startswith("_manifests/")]  # the local cache answers
    store.get = original
    write_partition(store, "variants", "job1", "S2", tables["variants"].slice(0, 3))  # a rerun changes it
    assert count(store) == tables["variants"].num_rows + 3
    now = [k for k in store.keys("_snapshots/") if k.startswith("_snapshots/variants-")]
    assert len(now) == 1 and now != snaps  # the stale snapshot is gone


def test_a_missing_lake_bucket_is_named_not_a_stack_trace(store):
    from gems.errors import NotFoundError

    with pytest.raises(NotFoundError, match="lake bucket no-such-lake does not exist"):
        Engine(S3Store(store.s3, "no-such-lake")).query("SELECT count(*) FROM qc")


@pytest.mark.parametrize("where", ["s3", "local"])
def test_concurrent_writers_all_land_in_the_manifest(store, tables, tmp_path, where):
    from concurrent.futures import ThreadPoolExecutor

    from lake.store import LocalStore

    target = store if where == "s3" else LocalStore(tmp_path / "lake")
    names = [f"S{i}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: write_partition(target, "qc", "job1", s, tables["qc"]), names))
    m = manifest.read(target, "qc")
    assert sorted(m["partitions"]) == [f"job=job1/sample={s}" for s in names]
    assert m["version"] == 8 and count(target, "qc") == 8
