"""PySpark job: cohort allele frequencies and HLA allele frequencies over the whole lake.

Self-contained (only pyspark), so it ships to a cluster as one file:

    spark-submit lake/spark_job.py --lake s3://gems-lake --out s3://gems-lake/_derived/run-1
    (on EMR, s3:// goes through EMRFS; elsewhere use s3a:// with hadoop-aws)

Writes `allele_frequencies/` and `hla_frequencies/` (Parquet) under --out. The counting
conventions are the same as lake/questions.py: PASS calls only, the cohort is the qc table's
samples, a sample without a call is homozygous reference; HLA frequencies over called alleles.
Partitions written with an older schema are migrated the same way lake/schema.py does it
(variants v1 had no alt_count; it is derived from the genotype).
"""

from __future__ import annotations

import argparse
import sys


def _table(spark, lake: str, name: str):
    root = f"{lake.rstrip('/')}/{name}"
    return spark.read.option("basePath", root).option("mergeSchema", "true").parquet(root)


def allele_frequencies(spark, lake: str):
    from pyspark.sql import functions as F

    variants = _table(spark, lake, "variants")
    if "alt_count" not in variants.columns:
        variants = variants.withColumn("alt_count", F.lit(None).cast("tinyint"))
    nonref = F.filter(
        F.split(F.regexp_replace(F.coalesce(F.col("genotype"), F.lit("")), r"\|", "/"), "/"),
        lambda a: ~a.isin("", ".", "0"),
    )
    derived = (
        F.when(F.size(nonref) == 0, 0)
        .when(F.size(F.array_distinct(nonref)) == 1, F.size(nonref))
        .otherwise(1)
    )
    variants = variants.withColumn("alt_count", F.coalesce(F.col("alt_count").cast("int"), derived))
    samples = _table(spark, lake, "qc").select("job", "sample").distinct().count()
    calls = variants.where((F.col("filter") == "PASS") & (F.col("alt_count") > 0))
    return (
        calls.groupBy("chrom", "pos", "ref", "alt")
        .agg(
            F.sum("alt_count").cast("long").alias("allele_count"),
            F.count(F.lit(1)).alias("carriers"),
            F.sum(F.when(F.col("alt_count") == 2, 1).otherwise(0)).cast("long").alias("homozygous"),
            F.first("gene", ignorenulls=True).alias("gene"),
        )
        .withColumn("allele_number", F.lit(2 * samples).cast("long"))
        .withColumn("allele_frequency", F.col("allele_count") / F.col("allele_number"))
        .orderBy("chrom", "pos", "ref", "alt")
    )


def hla_frequencies(spark, lake: str):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    hla = _table(spark, lake, "hla")
    alleles = hla.select("gene", F.col("allele1").alias("allele")).unionByName(
        hla.select("gene", F.col("allele2").alias("allele"))
    )
    counts = (
        alleles.where(F.col("allele").isNotNull())
        .groupBy("gene", "allele")
        .agg(F.count("*").alias("allele_count"))
    )
    per_gene = Window.partitionBy("gene")
    return counts.withColumn(
        "frequency", F.col("allele_count") / F.sum("allele_count").over(per_gene)
    ).orderBy("gene", F.desc("allele_count"), "allele")


def run(spark, lake: str, out: str) -> dict[str, int]:
    written = {}
    for name, frame in (
        ("allele_frequencies", allele_frequencies(spark, lake)),
        ("hla_frequencies", hla_frequencies(spark, lake)),
    ):
        frame.coalesce(1).write.mode("overwrite").parquet(f"{out.rstrip('/')}/{name}")
        written[name] = frame.count()
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="cohort allele and HLA frequencies over the gems lake")
    p.add_argument("--lake", required=True, help="lake root: s3://BUCKET (EMR), s3a://BUCKET or a folder")
    p.add_argument("--out", required=True, help="where the result tables go")
    p.add_argument("--master", help="Spark master (default: whatever spark-submit says)")
    args = p.parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("gems-lake-frequencies")
    if args.master:
        builder = builder.master(args.master)
    if (args.master or "").startswith("local"):
        # one machine: 200 shuffle partitions (the cluster default) would be 200 tiny tasks per stage
        builder = builder.config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        written = run(spark, args.lake, args.out)
    finally:
        spark.stop()
    print(", ".join(f"{k}: {v} rows" for k, v in written.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
