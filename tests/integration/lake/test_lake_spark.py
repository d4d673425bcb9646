"""The PySpark job in local mode agrees with the embedded engine (needs a JDK; see docs/lake.md)."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest
from lakehelpers import context, hla_sets, sample_out

from lake.engine import Engine
from lake.questions import hla_frequencies
from lake.spark_run import run_spark_job
from lake.store import LocalStore
from lake.writer import write_sample
from workers.pipeline.lake import sample_tables

pytestmark = pytest.mark.slow


def test_spark_frequencies_match_duckdb(tmp_path):
    assert shutil.which("java"), "a JDK is needed: apt-get install -y openjdk-17-jre-headless"
    store = LocalStore(tmp_path / "lake")
    hla = hla_sets()
    for i, (job, source) in enumerate((("j1", "NA12878"), ("j1", "HG002"), ("j2", "NA12878"))):
        out = sample_out(tmp_path / job, source, f"S{i}")
        write_sample(store, job, f"S{i}", sample_tables(context(out, f"S{i}", hla[i], {})))
    assert run_spark_job(store, str(tmp_path / "spark"), "local[2]") == 0

    spark_af = pq.read_table(tmp_path / "spark" / "allele_frequencies").to_pylist()
    engine = Engine(store)
    duck = engine.query(
        "SELECT chrom, pos, ref, alt, sum(alt_count) AS ac, count(*) AS carriers FROM variants "
        "WHERE filter = 'PASS' AND alt_count > 0 GROUP BY ALL"
    ).records()
    assert len(spark_af) == len(duck) > 100
    want = {(r["chrom"], r["pos"], r["ref"], r["alt"]): r for r in duck}
    for r in spark_af:
        d = want[(r["chrom"], r["pos"], r["ref"], r["alt"])]
        assert (r["allele_count"], r["carriers"], r["allele_number"]) == (d["ac"], d["carriers"], 6)
        assert r["allele_frequency"] == pytest.approx(d["ac"] / 6)

    spark_hla = pq.read_table(tmp_path / "spark" / "hla_frequencies").to_pylist()
    q = hla_frequencies()
    duck_hla = engine.query(q.sql, list(q.params)).records()
    key = lambda r: (r["gene"], r["allele"])  # noqa: E731
    assert sorted(map(key, spark_hla)) == sorted(map(key, duck_hla)) and len(spark_hla) > 10
    got = {key(r): r["frequency"] for r in spark_hla}
    for r in duck_hla:
        assert got[key(r)] == pytest.approx(r["frequency"])
