"""Pipeline finalizer "lake": a COMPLETE sample's variants, HLA calls and QC into the cohort lake.

It runs after the report (so every metric is final) and only for a sample that completed: a
failed sample's partial results never reach the cohort tables. Where it writes is the step's
`LakeTarget`, given when the pipeline is built (`PipelineOptions.lake`):

- a job's worker gives the stage's lake (`LakeTarget.on_s3`, with the S3 client it was handed):
  `s3://<lake bucket>/<table>/job=<key>/sample=<id>/`, and on AWS a Glue client, with which the
  partitions are also registered for Athena;
- without one (`gems run-sample` on a laptop) the same tables go to a local lake under
  `<out>/lake/` with job `local`, which `gems lake query --lake <out>/lake` reads.

A failure to write fails the sample with the reason (a cohort silently missing a sample would
give wrong frequencies); a rerun replaces the sample's partitions.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gems.states import SampleStatus
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

LOCAL_JOB = "local"
_SKIP_ALLELES = {"*", ".", "<NON_REF>", "<*>"}
_TSV_COLUMNS = ("gene", "gene_id", "transcript", "consequence", "protein_change", "cdna_change")


def _int(value) -> int | None:
    try:
        return None if value in (None, "", ".") else int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return None if value in (None, "", ".") else float(value)
    except (TypeError, ValueError):
        return None


def _annotations(tsv: Path | None) -> dict[tuple, dict]:
    if tsv is None or not Path(tsv).exists():
        return {}
    with open(tsv, encoding="utf-8", newline="") as fh:
        return {
            (r["chrom"], int(r["pos"]), r["ref"], r["alt"]): r for r in csv.DictReader(fh, delimiter="\t")
        }


def variant_rows(vcf: Path, tsv: Path | None) -> dict[str, list]:
    """Columns of the variants table from the sample's VCF (genotype, GQ, DP, which alt a row is)
    joined with the most severe effect from variants.tsv (absent when annotation did not run)."""
    import pysam

    from workers.pipeline.annotate import allele_type

    notes = _annotations(tsv)
    cols: dict[str, list] = {
        k: []
        for k in (
            "chrom",
            "pos",
            "ref",
            "alt",
            "type",
            "filter",
            "qual",
            "genotype",
            "alt_count",
            "gq",
            "dp",
            *_TSV_COLUMNS,
        )
    }
    with pysam.VariantFile(str(vcf)) as vf:
        for rec in vf:
            ref = rec.ref or ""  # pysam types it optional; a VCF record always has one
            gt_idx: tuple = ()
            gt = ""
            gq = dp = None
            if rec.samples:
                s = rec.samples[0]
                gt_idx = tuple(s.get("GT") or ())
                if gt_idx:
                    gt = ("|" if s.phased else "/").join("." if a is None else str(a) for a in gt_idx)
                gq, dp = _int(s.get("GQ")), _int(s.get("DP"))
            if dp is None and "DP" in rec.header.info:
                dp = _int(rec.info.get("DP"))
            for index, alt in enumerate(rec.alts or (), start=1):
                if alt in _SKIP_ALLELES or alt.startswith("<"):
                    continue
                note = notes.get((rec.chrom, rec.pos, ref, alt), {})
                values = {
                    "chrom": rec.chrom,
                    "pos": rec.pos,
                    "ref": ref,
                    "alt": alt,
                    "type": allele_type(ref, alt),
                    "filter": ";".join(map(str, rec.filter.keys())) or ".",
                    "qual": rec.qual,
                    "genotype": gt,
                    "alt_count": sum(1 for a in gt_idx if a == index),
                    "gq": gq,
                    "dp": dp,
                }
                values.update({k: note.get(k, "") for k in _TSV_COLUMNS})
                for k, v in values.items():
                    cols[k].append(v)
    return cols


def hla_rows(report: dict) -> dict[str, list]:
    hla = report.get("hla") or {}
    release = hla.get("imgt_release")
    keys = ("gene", "allele1", "allele2", "confidence", "flag", "margin", "reads1", "reads2", "pairs", "note")
    groups = ("g_group1", "g_group2", "gl_string")
    cols: dict[str, list] = {k: [] for k in (*keys, *groups, "copies", "imgt_release")}
    for call in hla.get("calls") or []:
        if not isinstance(call, dict) or not call.get("gene"):
            continue
        cols["gene"].append(str(call["gene"]))
        cols["allele1"].append(call.get("allele1") or None)
        cols["allele2"].append(call.get("allele2") or None)
        cols["confidence"].append(_float(call.get("confidence")))
        cols["flag"].append(call.get("flag") or None)
        cols["margin"].append(_float(call.get("margin")))
        for k in ("reads1", "reads2", "pairs"):
            cols[k].append(_int(call.get(k)))
        cols["note"].append(str(call.get("note") or ""))
        for k in groups:
            cols[k].append(call.get(k) or None)
        cols["copies"].append(_int(call.get("copies")))
        cols["imgt_release"].append(None if release is None else str(release))
    return cols


def qc_row(report: dict, written: dict) -> dict[str, list]:
    qc, align = report.get("qc") or {}, report.get("align") or report.get("gather") or {}
    cov, var = report.get("coverage") or {}, report.get("variants") or {}
    hla = report.get("hla")
    by_type = var.get("by_type") or (report.get("annotate") or {}).get("by_type") or {}
    snvs = sum(v for k, v in by_type.items() if k.lower() in ("snp", "snv", "mnv"))
    indels = sum(v for k, v in by_type.items() if k.lower() in ("indel", "insertion", "deletion", "complex"))
    ref = (report.get("checksums") or {}).get("reference") or (align.get("reference") or {})
    row = {
        "status": report.get("status"),
        "generated_at": written.get("generated_at"),
        "read_pairs": _int(qc.get("pairs")),
        "mean_quality": _float(qc.get("mean_quality")),
        "q30_fraction": _float(qc.get("q30_fraction")),
        "mapping_rate": _float(align.get("mapping_rate")),
        "properly_paired_rate": _float(align.get("properly_paired_rate")),
        "duplicate_rate": _float(align.get("duplicate_rate")),
        "insert_size_median": _float(align.get("insert_size_median")),
        "mean_coverage": _float(cov.get("mean_depth")),
        "median_coverage": _float(cov.get("median_depth")),
        "fraction_20x": _float((cov.get("fraction_at_least") or {}).get("20x")),
        "coverage_over": cov.get("over"),
        "variants": _int(var.get("total")) if var else None,
        "variants_filtered": _int(var.get("filtered")) if var else None,
        "snvs": snvs if by_type else None,
        "indels": indels if by_type else None,
        "het_hom_ratio": _float(var.get("het_hom_ratio")),
        "ts_tv": _float(var.get("ts_tv")),
        "hla_genes_called": (
            sum(1 for c in hla.get("calls") or [] if isinstance(c, dict) and c.get("allele1"))
            if isinstance(hla, dict)
            else None
        ),
        "reference_sha256": ref.get("sha256") if isinstance(ref, dict) else None,
        "gems_version": (written.get("tools") or {}).get("gems"),
    }
    return {k: [v] for k, v in row.items()}


def sample_tables(ctx: SampleContext) -> dict:
    """The sample's rows for each lake table, as pyarrow Tables (cast to the schema by the writer)."""
    import pyarrow as pa

    from lake.schema import TABLES

    out = Path(ctx.out)
    written = {}
    if (out / "report.json").exists():  # generated_at and tool versions exist only in the file
        written = json.loads((out / "report.json").read_text(encoding="utf-8"))
    tables = {}
    vcf = ctx.artifacts.get(Artifact.VCF) or out / "variants.vcf.gz"
    tsv = ctx.artifacts.get(Artifact.VARIANTS_TSV) or out / "variants.tsv"
    if Path(vcf).exists():
        tables["variants"] = variant_rows(Path(vcf), Path(tsv))
    else:  # calling skipped: an empty partition still replaces rows a previous run left
        tables["variants"] = {n: [] for n in TABLES["variants"].names if n != "schema_version"}
    tables["hla"] = hla_rows(ctx.report)
    tables["qc"] = qc_row(ctx.report, written)
    result = {}
    for name, cols in tables.items():
        schema = TABLES[name].arrow_schema()
        fields = [schema.field(n) for n in cols]
        result[name] = pa.table(
            {n: pa.array(v, type=f.type) for (n, v), f in zip(cols.items(), fields, strict=True)}
        )
    return result


@dataclass(frozen=True)
class LakeTarget:
    """Where a finished sample's tables go: a store, the job they are filed under, and a Glue
    client when the partitions are to be registered for Athena."""

    store: Any  # lake.store.S3Store or LocalStore
    job: str
    where: str  # for the report: s3://bucket or a folder
    glue: Any = None

    @classmethod
    def on_s3(cls, s3, bucket: str, job: str, glue=None) -> LakeTarget:
        """The stage's lake bucket, which the stage made (a worker's role creates no bucket)."""
        from lake.store import S3Store

        return cls(S3Store(s3, bucket), job, f"s3://{bucket}", glue)

    @classmethod
    def local(cls, out: Path) -> LakeTarget:
        from lake.store import LocalStore

        root = Path(out) / "lake"
        return cls(LocalStore(root), LOCAL_JOB, str(root))


class LakeStep:
    """Finalizer after ReportStep: writes the sample's lake partitions when it COMPLETEd."""

    name = "lake"
    reads: tuple[Artifact, ...] = (Artifact.VCF, Artifact.VARIANTS_TSV)
    writes: tuple[Artifact, ...] = ()

    def __init__(self, target: LakeTarget | None = None):
        self.target = target  # None: a local lake under each sample's out folder

    def __call__(self, ctx: SampleContext) -> dict:
        from lake.writer import write_sample

        if ctx.report.get("status") != SampleStatus.COMPLETE:
            raise StepSkipped("the sample did not complete; the cohort tables take complete samples only")
        target = self.target or LakeTarget.local(ctx.out)
        tables = sample_tables(ctx)
        written = write_sample(target.store, target.job, ctx.sample, tables, glue=target.glue)
        return {
            "lake": target.where,
            "job": target.job,
            "tables": {
                t: {k: e[k] for k in ("key", "rows", "sha256", "manifest_version")}
                for t, e in written.items()
            },
        }
