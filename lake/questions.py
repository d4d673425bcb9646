"""The canned cohort questions, as SQL that DuckDB and Athena (Trino) both run unchanged.

Each builder returns a Question: the SQL with `?` placeholders and its parameters. The CLI and
the embedded web app run it through lake.engine, the web app on AWS through lake.athena.

Counting conventions (docs/lake.md):
- The cohort is the samples in the `qc` table (every sample the writer took; all COMPLETE).
- Allele frequency counts PASS calls only, and a sample without a call at a site as homozygous
  reference (there is no gVCF to tell "no coverage" apart): AN = 2 x cohort samples.
- HLA allele frequency is over called alleles per gene (a no-call adds nothing; a homozygous call
  counts its allele twice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gems.errors import ValidationError


@dataclass(frozen=True)
class Question:
    name: str
    sql: str
    params: tuple = ()


_VARIANT = re.compile(r"^(?P<chrom>[^:\s]+):(?P<pos>\d+):(?P<ref>[ACGTNacgtn]+):(?P<alt>[ACGTNacgtn*]+)$")
_GENE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_TERM = re.compile(r"^[a-z0-9_]{1,64}$")
_HLA_GENE = re.compile(r"^[A-Za-z0-9]{1,10}$")


def parse_variant(text: str) -> tuple[str, int, str, str]:
    m = _VARIANT.match((text or "").strip())
    if not m:
        raise ValidationError(
            f"variant {text!r} must look like CHROM:POS:REF:ALT (e.g. chr22:1234:G:A)", field="variant"
        )
    return m["chrom"], int(m["pos"]), m["ref"].upper(), m["alt"].upper()


def allele_frequency(variant: str) -> Question:
    chrom, pos, ref, alt = parse_variant(variant)
    sql = """
WITH cohort AS (SELECT count(*) AS samples FROM qc),
calls AS (
  SELECT coalesce(sum(alt_count), 0) AS ac,
         count(*) AS carriers,
         coalesce(sum(CASE WHEN alt_count = 2 THEN 1 ELSE 0 END), 0) AS homozygous
  FROM variants
  WHERE chrom = ? AND pos = ? AND ref = ? AND alt = ? AND filter = 'PASS' AND alt_count > 0
)
SELECT ? AS variant, calls.ac AS allele_count, 2 * cohort.samples AS allele_number,
       CAST(calls.ac AS DOUBLE) / NULLIF(2 * cohort.samples, 0) AS allele_frequency,
       calls.carriers AS carriers, calls.homozygous AS homozygous, cohort.samples AS samples
FROM cohort CROSS JOIN calls"""
    return Question("af", sql.strip(), (chrom, pos, ref, alt, f"{chrom}:{pos}:{ref}:{alt}"))


def carriers(gene: str | None = None, consequence: str | None = None, variant: str | None = None) -> Question:
    """Samples carrying a variant, or any PASS variant in a gene (optionally with a consequence
    term among its '&'-joined terms)."""
    where, params = ["alt_count > 0", "filter = 'PASS'"], []
    if variant:
        chrom, pos, ref, alt = parse_variant(variant)
        where.append("chrom = ? AND pos = ? AND ref = ? AND alt = ?")
        params += [chrom, pos, ref, alt]
    if gene:
        if not _GENE.match(gene):
            raise ValidationError(f"gene {gene!r} is not a gene symbol or ID", field="gene")
        where.append("(gene = ? OR gene_id = ?)")
        params += [gene, gene]
    if consequence:
        if not _TERM.match(consequence):
            raise ValidationError(
                f"consequence {consequence!r} must be one SO term, e.g. missense_variant", field="consequence"
            )
        where.append("('&' || consequence || '&') LIKE ?")
        params.append(f"%&{consequence}&%")
    if not (variant or gene):
        raise ValidationError("carriers needs --gene or --variant", field="gene")
    sql = (
        "SELECT job, sample, chrom, pos, ref, alt, genotype, gene, consequence, protein_change\n"
        f"FROM variants\nWHERE {' AND '.join(where)}\nORDER BY chrom, pos, alt, job, sample"
    )
    return Question("carriers", sql, tuple(params))


def hla_frequencies(gene: str | None = None) -> Question:
    where, params = "", ()
    if gene:
        if not _HLA_GENE.match(gene):
            raise ValidationError(f"HLA gene {gene!r} is not a gene name like A or DRB1", field="gene")
        where, params = "WHERE gene = ?", (gene.upper().removeprefix("HLA-"),)
    sql = f"""
WITH alleles AS (
  SELECT gene, allele1 AS allele FROM hla WHERE allele1 IS NOT NULL
  UNION ALL
  SELECT gene, allele2 AS allele FROM hla WHERE allele2 IS NOT NULL
)
SELECT gene, allele, count(*) AS allele_count,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY gene) AS frequency
FROM alleles {where}
GROUP BY gene, allele
ORDER BY gene, allele_count DESC, allele"""
    return Question("hla-frequencies", sql.strip(), params)


# Defaults: the figures a lab would flag a short-read sample on (override per question).
QC_DEFAULTS = {
    "min_mapping_rate": 0.95,
    "max_duplicate_rate": 0.30,
    "min_coverage": 20.0,
    "min_fraction_20x": 0.80,
}


def qc_fails(**thresholds: float | None) -> Question:
    t = dict(QC_DEFAULTS)
    for k, v in thresholds.items():
        if v is None:
            continue
        if k not in t:
            raise ValidationError(f"unknown QC threshold {k!r}", field=k)
        t[k] = float(v)
    sql = """
SELECT job, sample, mapping_rate, duplicate_rate, mean_coverage, fraction_20x,
       concat_ws(', ',
         CASE WHEN coalesce(mapping_rate, -1) < ? THEN 'mapping rate' END,
         CASE WHEN coalesce(duplicate_rate, 2) > ? THEN 'duplicates' END,
         CASE WHEN coalesce(mean_coverage, -1) < ? THEN 'coverage' END,
         CASE WHEN coalesce(fraction_20x, -1) < ? THEN 'bases at 20x' END) AS fails
FROM qc
WHERE coalesce(mapping_rate, -1) < ? OR coalesce(duplicate_rate, 2) > ?
   OR coalesce(mean_coverage, -1) < ? OR coalesce(fraction_20x, -1) < ?
ORDER BY job, sample"""
    values = (t["min_mapping_rate"], t["max_duplicate_rate"], t["min_coverage"], t["min_fraction_20x"])
    return Question("qc-fails", sql.strip(), values + values)
