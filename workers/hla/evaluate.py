"""2-field concordance of calls against a truth table."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from gems.errors import InputError

from . import names


@dataclass
class GeneScore:
    gene: str
    truth: tuple[str, str]
    call: tuple[str, str] | None
    matched: int  # 0, 1 or 2
    note: str = ""


def _key(allele: str):
    try:
        return names.two_field_key(allele)
    except ValueError:
        return None


def match_count(truth: tuple[str, str], call: tuple[str, str] | None) -> int:
    """Alleles of `call` matching a truth allele at 2 fields, each truth allele used once."""
    if call is None:
        return 0
    left = [_key(t) for t in truth if t]
    n = 0
    for allele in call:
        if not allele:  # a gene on one haplotype only (DRB3/4/5) has no second allele
            continue
        k = _key(allele)
        if k is not None and k in left:
            left.remove(k)
            n += 1
    return n


def _rows(path: Path) -> list[dict]:
    try:
        with Path(path).open(newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    return rows


def read_truth(path: Path, sample: str | None = None) -> dict[str, dict]:
    """gene -> {alleles, note} for one sample (the only one in the file if `sample` is None)."""
    rows = _rows(path)
    if not rows or not {"gene", "allele1", "allele2"} <= set(rows[0]):
        raise InputError(f"{path}: truth table needs gene, allele1 and allele2 columns")
    if "sample" in rows[0]:
        samples = sorted({r["sample"] for r in rows})
        if sample is None:
            if len(samples) > 1:
                raise InputError(f"{path} holds {len(samples)} samples: choose one with --sample")
            sample = samples[0]
        rows = [r for r in rows if r["sample"] == sample]
        if not rows:
            raise InputError(f"{path}: no truth rows for sample {sample!r}")
    return {r["gene"]: {"alleles": (r["allele1"], r["allele2"]), "note": r.get("note") or ""} for r in rows}


def read_calls(path: Path) -> dict[str, tuple[str, str] | None]:
    rows = _rows(path)
    if not rows or not {"gene", "allele1", "allele2"} <= set(rows[0]):
        raise InputError(f"{path}: calls table needs gene, allele1 and allele2 columns")
    out: dict[str, tuple[str, str] | None] = {}
    for r in rows:
        a, b = r["allele1"], r["allele2"]
        out[r["gene"]] = None if _key(a) is None or _key(b) is None else (a, b)
    return out


def score(truth: dict[str, dict], calls: dict[str, tuple[str, str] | None]) -> list[GeneScore]:
    order = {g: i for i, g in enumerate(names.CLASSICAL)}
    return [
        GeneScore(gene, t["alleles"], calls.get(gene), match_count(t["alleles"], calls.get(gene)), t["note"])
        for gene, t in sorted(truth.items(), key=lambda kv: order.get(kv[0], 99))
    ]


def low_confidence(s: GeneScore) -> bool:
    return "LOW CONFIDENCE" in s.note.upper()


def summary(scores: list[GeneScore]) -> dict[str, tuple[int, int]]:
    """'all' and 'confident' (truth not marked LOW CONFIDENCE): (alleles matched, alleles)."""
    conf = [s for s in scores if not low_confidence(s)]
    return {
        "all": (sum(s.matched for s in scores), 2 * len(scores)),
        "confident": (sum(s.matched for s in conf), 2 * len(conf)),
    }
