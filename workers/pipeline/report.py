"""Finalizer "report": report.json (every metric) and report.html (readable summary) for a sample.

It runs after the steps whether they succeeded or not, so a failed sample still gets a report that
says which step failed and why. Both files are written under temporary names and renamed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from gems.states import SampleStatus
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext

SCHEMA = "gems.sample-report/1"
_PACKAGES = ["gems", "pysam", "mappy", "cutadapt", "dnaio", "numpy"]
MAX_TABLE_ROWS = 200  # variant rows shown in the HTML; variants.tsv has them all


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:  # the samtools/bcftools/htslib that pysam bundles (and the steps run through it)
        import pysam.version as pv

        versions["samtools"] = pv.__samtools_version__
        versions["bcftools"] = pv.__bcftools_version__
        versions["htslib"] = getattr(pv, "__htslib_version__", "") or pv.__samtools_version__
    except ImportError:
        pass
    return versions


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _references(ctx: SampleContext) -> dict[str, Any]:
    """Checksums of the inputs a result depends on; the align step's own figure is reused when present."""
    out: dict[str, Any] = {}
    ref = ctx.options.reference
    align_ref = (ctx.report.get("align") or ctx.report.get("gather") or {}).get("reference")
    if isinstance(align_ref, dict) and align_ref.get("sha256"):
        out["reference"] = align_ref
    elif ref is not None and Path(ref).is_file():
        out["reference"] = {"fasta": str(ref), "sha256": _sha256(Path(ref))}
    for key, path in (("annotation", ctx.options.annotation), ("targets", ctx.options.targets)):
        if path is not None and Path(path).is_file():
            out[key] = {"path": str(path), "sha256": _sha256(Path(path))}
    hla = ctx.report.get("hla") or {}
    if ctx.options.hla_reference is not None or hla:
        where = str(ctx.options.hla_reference) if ctx.options.hla_reference else "shipped with gems"
        out["hla_reference"] = {"path": where, "imgt_release": hla.get("imgt_release")}
    return out


def _variant_counts(ctx: SampleContext) -> dict[str, int] | None:
    """Called alleles by type: the caller's own counts (PASS calls) when it gave them, else the
    annotation step's (every allele), else counted from the VCF."""
    by_type = (ctx.report.get("variants") or {}).get("by_type")
    if isinstance(by_type, dict):
        return {k: v for k, v in by_type.items() if v}
    by_type = (ctx.report.get("annotate") or {}).get("by_type")
    if isinstance(by_type, dict):
        return by_type
    vcf = ctx.artifacts.get(Artifact.VCF)
    if vcf is None or not Path(vcf).exists():
        return None
    import pysam

    from workers.pipeline.annotate import allele_type

    counts: dict[str, int] = {}
    with pysam.VariantFile(str(vcf)) as vf:
        for rec in vf:
            ref = rec.ref or ""  # pysam types it optional; a VCF record always has one
            for alt in rec.alts or ():
                if alt == "*" or alt.startswith("<"):
                    continue
                kind = allele_type(ref, alt)
                counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def _summary(ctx: SampleContext, variant_counts: dict | None) -> dict[str, Any]:
    r = ctx.report
    qc, align, cov = r.get("qc") or {}, r.get("align") or r.get("gather") or {}, r.get("coverage") or {}
    hla = r.get("hla") or {}
    summary: dict[str, Any] = {
        "read_pairs": qc.get("pairs"),
        "mean_quality": qc.get("mean_quality"),
        "mapping_rate": align.get("mapping_rate"),
        "duplicate_rate": align.get("duplicate_rate"),
        "mean_coverage": cov.get("mean_depth"),
        "coverage_over": cov.get("over"),
        "fraction_20x": (cov.get("fraction_at_least") or {}).get("20x"),
        "variants": sum(variant_counts.values()) if variant_counts else None,
        "variants_filtered": (r.get("variants") or {}).get("filtered"),
        "variant_counts": variant_counts,
        "hla_calls": [
            {
                k: c.get(k)
                for k in ("gene", "allele1", "allele2", "g_group1", "g_group2", "confidence", "flag")
                if k in c
            }
            for c in hla.get("calls") or []
            if isinstance(c, dict)
        ]
        or None,
    }
    return {k: v for k, v in summary.items() if v is not None}


def _outputs(out: Path) -> list[dict[str, Any]]:
    files = []
    for p in sorted(out.iterdir()):
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".tmp", ".part")):
            if p.name in ("report.json", "report.html"):
                continue
            files.append({"name": p.name, "bytes": p.stat().st_size})
    return files


def read_variant_rows(tsv: Path | None, limit: int = MAX_TABLE_ROWS) -> tuple[list[dict], int]:
    """The most severe annotated alleles first (then by position), at most `limit`; and the total."""
    if tsv is None or not Path(tsv).exists():
        return [], 0
    from workers.genomics.consequence import SEVERITY

    rank = {t: i for i, t in enumerate(SEVERITY)}
    with open(tsv, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    rows.sort(key=lambda r: (rank.get(r["consequence"].split("&")[0], 99), r["chrom"], int(r["pos"])))
    return rows[:limit], len(rows)


def build_report(ctx: SampleContext) -> dict[str, Any]:
    r = ctx.report
    steps = dict(r.get("steps") or {})
    warnings: list[str] = []
    try:
        counts = _variant_counts(ctx)
    except (OSError, ValueError) as exc:
        counts = None
        warnings.append(f"variant counts unavailable: {exc}")
    o = ctx.options
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "sample": ctx.sample,
        "status": r.get("status", SampleStatus.FAILED if r.get("failure") else SampleStatus.COMPLETE),
        "failure": r.get("failure"),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": {
            "r1": str(ctx.r1),
            "r2": str(ctx.r2),
            "reference": str(o.reference) if o.reference else None,
            "hla_reference": str(o.hla_reference) if o.hla_reference else None,
            "hla_class": o.hla_class,
            "targets": str(o.targets) if o.targets else None,
            "annotation": str(o.annotation) if o.annotation else None,
            "threads": o.threads,
            "trim": o.trim,
            "min_read_length": o.min_read_length,
        },
        "summary": _summary(ctx, counts),
        "steps": steps,
        "skipped": [
            {"step": k, "reason": v.get("reason", "")}
            for k, v in steps.items()
            if v.get("status") == "skipped"
        ],
        "timing": {
            "total_seconds": round(sum(v.get("seconds") or 0 for v in steps.values()), 3),
            "peak_rss_mb": max((v.get("peak_rss_mb") or 0 for v in steps.values()), default=0),
        },
        "tools": tool_versions(),
        "checksums": {},
        "outputs": [],
    }
    try:
        report["checksums"] = _references(ctx)
    except OSError as exc:
        warnings.append(f"checksums unavailable: {exc}")
    for name, metrics in r.items():
        if name not in report and name not in ("status", "failure"):
            report[name] = metrics
    report["outputs"] = _outputs(Path(ctx.out))
    if warnings:
        report["warnings"] = warnings
    return report


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class ReportStep:
    """Writes report.json and report.html into ctx.out (a Pipeline finalizer)."""

    name = "report"
    reads: tuple[Artifact, ...] = (Artifact.VCF, Artifact.VARIANTS_TSV)
    writes: tuple[Artifact, ...] = (Artifact.REPORT_JSON, Artifact.REPORT_HTML)

    def __call__(self, ctx: SampleContext) -> None:
        from workers.pipeline.report_html import render_html

        out = Path(ctx.out)
        out.mkdir(parents=True, exist_ok=True)
        try:
            report = build_report(ctx)
            rows, total = read_variant_rows(ctx.artifacts.get(Artifact.VARIANTS_TSV))
            html = render_html(report, rows, total)
        except Exception as exc:
            # Still leave the user the status, the failure and the step table, then fail loudly.
            reason = f"{type(exc).__name__}: {exc}"
            minimal = {
                "schema": SCHEMA,
                "sample": ctx.sample,
                "status": SampleStatus.FAILED,  # Pipeline fails the sample at this step
                "failure": ctx.report.get("failure") or {"step": "report", "reason": reason},
                "steps": ctx.report.get("steps"),
                "report_error": reason,
            }
            _write_atomic(out / "report.json", json.dumps(minimal, indent=1, default=str) + "\n")
            raise
        _write_atomic(out / "report.html", html)
        _write_atomic(out / "report.json", json.dumps(report, indent=1, default=str) + "\n")
        ctx.artifacts[Artifact.REPORT_JSON] = out / "report.json"
        ctx.artifacts[Artifact.REPORT_HTML] = out / "report.html"
        return None
