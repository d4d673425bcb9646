"""Summary counts of a called VCF for the report: types, zygosity, ts/tv, filtered records."""

from __future__ import annotations

from pathlib import Path

import pysam

from workers.genomics.vcfnorm import quiet_htslib

_TRANSITIONS = {("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")}


def variant_type(ref: str, alt: str) -> str:
    if len(ref) == 1 and len(alt) == 1:
        return "SNP"
    if len(ref) == len(alt):
        return "MNP"
    return "INDEL"


def vcf_metrics(vcf: Path) -> dict:
    """Counts over PASS records (one per ALT allele after splitting); LowQual ones are counted apart."""
    counts = {"SNP": 0, "INDEL": 0, "MNP": 0, "OTHER": 0}
    het = hom = filtered = ts = tv = insertions = deletions = 0
    with quiet_htslib():
        fh = pysam.VariantFile(str(vcf))
    with fh:
        for rec in fh:
            ref = rec.ref or ""
            keys = rec.filter.keys()
            if keys and "PASS" not in keys:
                filtered += 1
                continue
            for alt in rec.alts or ():
                if alt.startswith("<") or alt == "*":
                    counts["OTHER"] += 1
                    continue
                kind = variant_type(ref, alt)
                counts[kind] += 1
                if kind == "SNP":
                    if (ref.upper(), alt.upper()) in _TRANSITIONS:
                        ts += 1
                    else:
                        tv += 1
                elif kind == "INDEL":
                    if len(alt) > len(ref):
                        insertions += 1
                    else:
                        deletions += 1
            gt = rec.samples[0].get("GT") if rec.samples else None
            alleles = [a for a in (gt or ()) if a is not None]
            if alleles and any(alleles):
                if len(set(alleles)) == 1:
                    hom += 1
                else:
                    het += 1
    total = sum(counts.values())
    return {
        "total": total,
        "by_type": counts,
        "insertions": insertions,
        "deletions": deletions,
        "het": het,
        "hom_alt": hom,
        "het_hom_ratio": round(het / hom, 3) if hom else None,
        "ts_tv": round(ts / tv, 3) if tv else None,
        "filtered": filtered,
    }
