"""Simulated jobs for the lake tests: real pipeline outputs (tests/data/lake) relabelled as samples."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections import defaultdict
from pathlib import Path

from workers.pipeline.framework import PipelineOptions, SampleContext

DATA = Path(__file__).resolve().parents[2] / "data" / "lake"
SOURCES = ("NA12878", "HG002")


def hla_sets() -> list[list[dict]]:
    """HLA calls per real typed sample, cut to 2 fields like the typer reports them."""
    per: dict[str, list[dict]] = defaultdict(list)
    with open(DATA / "hla_truth_slice.tsv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            two = [":".join(r[k].split(":")[:2]) for k in ("allele1", "allele2")]
            per[r["sample"]].append(
                {"gene": r["gene"], "allele1": two[0], "allele2": two[1], "confidence": 9.5}
            )
    return list(per.values())


def sample_out(tmp: Path, source: str, name: str) -> Path:
    out = tmp / name
    out.mkdir(parents=True)
    for f in (DATA / source).iterdir():
        shutil.copy(f, out / f.name)
    return out


def context(out: Path, name: str, hla_calls: list[dict] | None, extra: dict) -> SampleContext:
    report = json.loads((out / "report.json").read_text())
    report["status"] = "COMPLETE"
    if hla_calls is not None:
        report["hla"] = {"calls": hla_calls, "imgt_release": "3.55.0"}
    ctx = SampleContext(
        sample=name,
        r1=out / "r1",
        r2=out / "r2",
        out=out,
        options=PipelineOptions(extra=extra),
        report=report,
    )
    if (out / "variants.tsv").exists():
        ctx.artifacts["variants_tsv"] = out / "variants.tsv"
    ctx.artifacts["vcf"] = out / "variants.vcf.gz"
    return ctx


def vcf_genotypes(vcf: Path) -> dict[tuple, str]:
    """(chrom, pos, ref, alt) -> GT of PASS records, read as plain text (the hand count's source)."""
    calls = {}
    with gzip.open(vcf, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if f[6] != "PASS":
                continue
            keys = f[8].split(":")
            gt = dict(zip(keys, f[9].split(":"), strict=False))["GT"]
            for i, alt in enumerate(f[4].split(","), start=1):
                calls[(f[0], int(f[1]), f[3], alt)] = (gt, i)
    return calls
