"""The cohort data lake: every finished sample's variants, HLA calls and QC as partitioned Parquet.

schema (tables, versions, migrations), store (S3 or a local folder), manifest (partitions with
checksums), writer, engine (DuckDB on one machine), questions (the canned queries), athena and
glue (at scale), spark_job (PySpark) and cli (`gems lake ...`). See docs/lake.md.
"""
