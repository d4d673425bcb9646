"""The run on one page: one row per sample of a job (status, reason, read pairs, mapping rate,
mean coverage, variant counts, its share of the job's cost, each HLA gene's two alleles with
their confidence, the report link), as JSON (with the job's cost) and as TSV. `GET /job/<key>/summary.json|.tsv`, the job page and `gems results`
all show this one table.

A sample's row comes from the newest attempt that holds it (a relaunch takes over an
interrupted worker's samples) and, once it finished, from its report.json, which is final then
and so is cached.
"""

from __future__ import annotations

from typing import Any

from gems import sharding
from gems.aws import s3 as S3
from gems.safetext import for_spreadsheet
from gems.statekeys import results_prefix
from gems.states import SampleStatus

FIXED = (
    "sample", "status", "reason", "worker", "attempt", "read_pairs", "mapping_rate", "mean_coverage",
    "variants", "snvs", "indels", "cost_usd",
)  # fmt: skip
HLA_FIELDS = ("allele1", "allele2", "g_group1", "g_group2", "confidence", "flag")
_ALWAYS = ("allele1", "allele2", "confidence")
# The caller counts SNP/MNP/INDEL, the annotation step snv/mnv/insertion/deletion/complex.
_SNV, _INDEL = ("snp", "snv", "mnp", "mnv"), ("indel", "insertion", "deletion", "complex")


def latest_attempts(detail: dict) -> dict[str, tuple[dict, dict]]:
    """sample -> (worker, its sample state) from the newest attempt holding it, in plan order; a
    sharded sample's row is its lead's (gems.sharding), its shards' units are not samples."""
    out: dict[str, tuple[dict, dict]] = {}
    for w in sorted(detail["workers"], key=lambda w: w["instance_index"]):
        for sample in w.get("samples") or []:
            if sharding.is_shard(sample):
                continue
            state = (w.get("sample_status") or {}).get(sample) or {"status": SampleStatus.QUEUED.value}
            out[sample] = (w, state)
    return out


def sample_costs(detail: dict) -> dict[str, float]:
    """Each sample's share of the job's cost: every worker that held it or one of its shards (each
    attempt) split evenly over that worker's units."""
    usd = {r["instance_index"]: r["usd"] for r in (detail.get("cost") or {}).get("by_worker", [])}
    out: dict[str, float] = {}
    for w in detail["workers"]:
        share = usd.get(w["instance_index"])
        samples = w.get("samples") or []
        for unit in samples:
            if share is not None:
                sample = sharding.parse(unit).sample
                out[sample] = out.get(sample, 0.0) + share / len(samples)
    return {k: round(v, 4) for k, v in out.items()}


def _hla(report: dict) -> dict[str, dict]:
    calls = (report.get("hla") or {}).get("calls") or []
    return {c["gene"]: c for c in calls if isinstance(c, dict) and c.get("gene")}


def row(
    sample: str,
    worker: dict,
    state: dict,
    report: dict | None,
    report_url: str | None,
    cost: float | None = None,
) -> dict:
    """One sample's row (pure); figures are None until its report says them."""
    summary = (report or {}).get("summary") or {}
    counts = {str(k).lower(): v for k, v in (summary.get("variant_counts") or {}).items()}
    out: dict[str, Any] = {
        "sample": sample,
        "status": state.get("status"),
        "reason": state.get("reason") or "",
        "worker": worker["instance_index"],
        "attempt": worker.get("attempt", 1),
        "read_pairs": summary.get("read_pairs"),
        "mapping_rate": summary.get("mapping_rate"),
        "mean_coverage": summary.get("mean_coverage"),
        "variants": summary.get("variants"),
        "snvs": sum(counts.get(k, 0) for k in _SNV) if counts else None,
        "indels": sum(counts.get(k, 0) for k in _INDEL) if counts else None,
        "cost_usd": cost,
        "hla": {
            gene: {k: call.get(k) for k in HLA_FIELDS if k in call}
            for gene, call in _hla(report or {}).items()
        },
        "report_url": report_url,
    }
    return out


def table(detail: dict, rows: list[dict]) -> dict:
    genes: list[str] = []
    for r in rows:
        genes += [g for g in r["hla"] if g not in genes]
    return {
        "session_key": detail["session_key"],
        "overall_status": detail["overall_status"],
        "cost": detail.get("cost"),
        "hla_class": detail.get("hla_class"),
        "hla_genes": genes,
        "samples": rows,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return for_spreadsheet(str(value))  # a spreadsheet must not read a reason as a formula


def to_tsv(t: dict) -> str:
    """The table as TSV: the fixed columns, then <gene> allele1/allele2/confidence (and flag, when
    the typer gave one) for each HLA gene, then the report link."""
    rows = t["samples"]
    hla_cols = []
    for gene in t["hla_genes"]:
        # flags and G groups only where the typer gave them (older reports have neither)
        fields = [f for f in HLA_FIELDS if f in _ALWAYS or any(f in r["hla"].get(gene, {}) for r in rows)]
        hla_cols += [(gene, f) for f in fields]
    header = list(FIXED) + [f"{g} {f}" for g, f in hla_cols] + ["report_url"]
    lines = ["\t".join(header)]
    for r in rows:
        cells = [r[c] for c in FIXED] + [r["hla"].get(g, {}).get(f) for g, f in hla_cols] + [r["report_url"]]
        lines.append("\t".join(_cell(c) for c in cells))
    return "\n".join(lines) + "\n"


def run_table(s3, cache, detail: dict, expires: int = 3600) -> dict:
    """Read each finished sample's report.json (cached: final once the sample finished) and build
    the table; the report link is pre-signed to open report.html in a browser."""
    rows = []
    costs = sample_costs(detail)
    for sample, (worker, state) in latest_attempts(detail).items():
        report = url = None
        if SampleStatus(state.get("status", SampleStatus.QUEUED.value)).done:
            key = results_prefix(detail["prefix"], detail["session_key"], sample)
            report = cache.get(s3, detail["bucket"], key + "report.json")
            if report is not None:
                url = S3.presigned_get(
                    s3, detail["bucket"], key + "report.html", expires,
                    content_type="text/html; charset=utf-8", inline=True,
                )  # fmt: skip
        rows.append(row(sample, worker, state, report, url, costs.get(sample)))
    return table(detail, rows)
