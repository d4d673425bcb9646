"""`gems lake ...`: query the cohort lake, its canned questions, manifests, Glue and the Spark job.

The lake is `--lake s3://BUCKET` or `--lake DIR` (a local lake, e.g. run-sample's OUT/lake);
by default `s3://$GEMS_LAKE_BUCKET` (gems-lake) at AWS_ENDPOINT_URL (the embedded stack's moto).
"""

from __future__ import annotations

import argparse
import sys

from gems.config import Config
from lake.output import FORMATS, render


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gems lake", description="Query the cohort data lake (docs/lake.md).")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str, fmt: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--lake", help="s3://BUCKET or a local folder (default s3://$GEMS_LAKE_BUCKET)")
        sp.add_argument("--no-cache", action="store_true", help="do not use or fill the local table cache")
        if fmt:
            sp.add_argument(
                "--format", choices=FORMATS, default="table", help="output format (default table)"
            )
        return sp

    q = add("query", "run one SELECT over the views variants, hla and qc")
    q.add_argument("sql")
    af = add("af", "cohort allele frequency of a variant")
    af.add_argument("variant", help="CHROM:POS:REF:ALT")
    c = add("carriers", "samples carrying a variant, or any variant in a gene (with a consequence)")
    c.add_argument("--gene")
    c.add_argument("--consequence", help="an SO term, e.g. missense_variant, stop_gained")
    c.add_argument("--variant", help="CHROM:POS:REF:ALT")
    h = add("hla-frequencies", "HLA allele frequencies across the cohort")
    h.add_argument("--gene", help="one HLA gene, e.g. A or DRB1")
    f = add("qc-fails", "samples failing QC thresholds")
    f.add_argument("--min-mapping-rate", type=float)
    f.add_argument("--max-duplicate-rate", type=float)
    f.add_argument("--min-coverage", type=float)
    f.add_argument("--min-fraction-20x", type=float)
    m = add("manifest", "a table's manifest: version, digest and partitions with checksums", fmt=False)
    m.add_argument("--table", default="variants")
    m.add_argument("--version", type=int, help="a past version (default: current)")
    d = sub.add_parser("ddl", help="print the Athena/Hive DDL of the tables")
    d.add_argument("--bucket", help="lake bucket (default $GEMS_LAKE_BUCKET)")
    r = add(
        "register", "create the Glue database and tables and add every partition in the manifests", fmt=False
    )
    r.add_argument("--database", default=None)
    s = add(
        "spark-job",
        "cohort allele and HLA frequencies with PySpark (local mode here, EMR at scale)",
        fmt=False,
    )
    s.add_argument("--out", required=True, help="output folder for the Parquet/CSV results")
    s.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    return p


def _store(args, config: Config):
    from lake.store import open_store

    location = args.lake or f"s3://{config.lake_bucket}"
    s3 = None
    if location.startswith("s3://"):
        from gems.aws.clients import client

        s3 = client(config, "s3")
    return open_store(location, s3)


def _engine(args, config: Config):
    from lake.engine import Engine

    cache = None if args.no_cache else config.home / "lake-cache"
    return Engine(_store(args, config), cache_dir=cache)


def _ask(args, config: Config, sql: str, params=()) -> int:
    result = _engine(args, config).query(sql, list(params))
    print(render(result.columns, result.rows, args.format, result.snapshot))
    return 0


def main(argv: list[str]) -> int:
    from lake import questions

    args = _parser().parse_args(argv)
    config = Config.from_env()
    cmd = args.command
    if cmd == "query":
        return _ask(args, config, args.sql)
    if cmd in ("af", "carriers", "hla-frequencies", "qc-fails"):
        if cmd == "af":
            q = questions.allele_frequency(args.variant)
        elif cmd == "carriers":
            q = questions.carriers(gene=args.gene, consequence=args.consequence, variant=args.variant)
        elif cmd == "hla-frequencies":
            q = questions.hla_frequencies(args.gene)
        else:
            q = questions.qc_fails(
                min_mapping_rate=args.min_mapping_rate,
                max_duplicate_rate=args.max_duplicate_rate,
                min_coverage=args.min_coverage,
                min_fraction_20x=args.min_fraction_20x,
            )
        return _ask(args, config, q.sql, q.params)
    if cmd == "manifest":
        import json

        from lake import manifest
        from lake.schema import spec

        spec(args.table)
        m = manifest.read(_store(args, config), args.table, args.version)
        print(manifest.cite(m), file=sys.stderr)
        print(json.dumps(m, indent=1, sort_keys=True))
        return 0
    if cmd == "ddl":
        from lake.glue import ddl
        from lake.schema import TABLES

        print("\n\n".join(ddl(t, args.bucket or config.lake_bucket) for t in TABLES.values()))
        return 0
    if cmd == "register":
        from gems.aws.clients import client
        from lake.glue import DATABASE, register

        store = _store(args, config)
        if not hasattr(store, "bucket"):
            print("gems lake register: Glue registers S3 lakes only (--lake s3://BUCKET)", file=sys.stderr)
            return 2
        added = register(client(config, "glue"), store, args.database or DATABASE)
        print(", ".join(f"{t}: {n} new partitions" for t, n in added.items()))
        return 0
    from lake.spark_run import run_spark_job

    return run_spark_job(_store(args, config), args.out, args.master)
