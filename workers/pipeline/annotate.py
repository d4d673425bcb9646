"""Pipeline step "annotate": consequence of every called allele against GFF3 gene models.

Writes the effects into the VCF (INFO/CSQ, one entry per allele and transcript, VEP-like layout)
and the most severe effect per allele into `variants.tsv`. Both are written under temporary
names and renamed, so a crash never leaves a half-annotated VCF in place of the calls.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path

import pysam

from gems.errors import InputError
from gems.safetext import for_spreadsheet
from workers.genomics.consequence import SEVERITY, Annotator, Effect, most_severe
from workers.genomics.gff import read_gff3
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

CSQ_FIELDS = [
    "Allele",
    "Consequence",
    "SYMBOL",
    "Gene",
    "Feature",
    "BIOTYPE",
    "STRAND",
    "HGVSc",
    "Codons",
    "HGVSp",
    "DISTANCE",
]
TSV_COLUMNS = [
    "chrom",
    "pos",
    "ref",
    "alt",
    "type",
    "filter",
    "qual",
    "genotype",
    "GQ",
    "DP",
    "gene",
    "gene_id",
    "transcript",
    "biotype",
    "consequence",
    "protein_change",
    "cdna_change",
    "codon_change",
    "transcripts_affected",
]
_SKIP_ALLELES = {"*", ".", "<NON_REF>", "<*>"}
# INFO values may not hold these characters (VCF 4.2, section 1.6.1); VEP escapes them the same way.
# ('|' separates the fields and never occurs inside one.)
_ESCAPES = str.maketrans({"=": "%3D", ";": "%3B", ",": "%2C", " ": "%20"})


# Names from the reference and the annotation, safe for a spreadsheet; a genome's rows repeat a
# few thousand of them, so each is made safe once.
_safe = functools.lru_cache(maxsize=65536)(for_spreadsheet)


def allele_type(ref: str, alt: str) -> str:
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if alt.startswith(ref) or ref.startswith(alt):
        return "insertion" if len(alt) > len(ref) else "deletion"
    return "complex"


def _csq_entry(alt: str, e: Effect) -> str:
    t = e.transcript
    values = [
        alt,
        e.consequence,
        t.gene_name if t else "",
        t.gene_id if t else "",
        t.id if t else "",
        t.biotype if t else "",
        ("1" if t.strand > 0 else "-1") if t else "",
        e.cdna,
        e.codons,
        e.protein,
        "" if e.distance is None else str(e.distance),
    ]
    return "|".join(values).translate(_ESCAPES)


def _genotype(rec) -> tuple[str, str, str]:
    """(GT, GQ, DP) of the first sample; DP falls back to INFO/DP."""
    gt = gq = dp = ""
    if rec.samples:
        s = rec.samples[0]
        alleles = s.get("GT") or ()
        if alleles:
            sep = "|" if s.phased else "/"
            gt = sep.join("." if a is None else str(a) for a in alleles)
        if s.get("GQ") is not None:
            gq = str(s["GQ"])
        if s.get("DP") is not None:
            dp = str(s["DP"])
    if not dp and "DP" in rec.header.info and rec.info.get("DP") is not None:
        dp = str(rec.info["DP"])
    return gt, gq, dp


def _open_reference(path: Path | None):
    """A pysam.FastaFile for the codon context, indexing a FASTA that has no .fai yet."""
    if path is None:
        return None
    path = Path(path)
    if not Path(str(path) + ".fai").exists():
        from workers.genomics.reference import (
            prepare_reference,  # builds the index, or a cached copy if read-only
        )

        path = prepare_reference(path).fasta
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as exc:
        raise InputError(f"reference {path.name}: cannot open ({exc})") from None


def annotate_vcf(vcf: Path, models, fasta, tsv: Path, on_record=None) -> dict:
    """Rewrite `vcf` in place with INFO/CSQ and write `tsv`; returns the step's metrics."""
    vcf, tsv = Path(vcf), Path(tsv)
    fetch = (lambda c, s, e: fasta.fetch(c, s, e)) if fasta is not None else None
    annotator = Annotator(models, fetch)
    gz = vcf.name.endswith(".gz")
    tmp_vcf = vcf.with_name(f".{vcf.name}.annotate.tmp" + (".vcf.gz" if gz else ".vcf"))
    tmp_tsv = tsv.with_name(f".{tsv.name}.tmp")
    by_consequence: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    genes: set[str] = set()
    unannotated_contigs: set[str] = set()  # e.g. "chr1" calls against "1" gene models
    model_contigs = models.contigs
    records = alleles = 0
    try:
        with pysam.VariantFile(str(vcf)) as vin:
            header = vin.header
            if "CSQ" not in header.info:
                header.add_line(
                    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from gems '
                    f'annotate. Format: {"|".join(CSQ_FIELDS)}">'
                )
            with (
                pysam.VariantFile(str(tmp_vcf), "wz" if gz else "w", header=header) as vout,
                open(tmp_tsv, "w", encoding="utf-8") as out,
            ):
                out.write("\t".join(TSV_COLUMNS) + "\n")
                for rec in vin:
                    ref = rec.ref or ""  # pysam types it optional; a VCF record always has one
                    records += 1
                    if rec.chrom not in model_contigs:
                        unannotated_contigs.add(rec.chrom)
                    entries = []
                    gt, gq, dp = _genotype(rec)
                    for alt in rec.alts or ():
                        if alt in _SKIP_ALLELES or alt.startswith("<"):
                            continue
                        effects = annotator.annotate(rec.chrom, rec.pos, ref, alt)
                        entries += [_csq_entry(alt, e) for e in effects]
                        worst = most_severe(effects)
                        t = worst.transcript
                        kind = allele_type(ref, alt)
                        alleles += 1
                        by_type[kind] += 1
                        by_consequence[worst.consequence.split("&")[0]] += 1
                        if t is not None and worst.distance is None:
                            genes.add(t.gene_name or t.gene_id)
                        touched = sum(1 for e in effects if e.transcript is not None and e.distance is None)
                        row = [
                            _safe(rec.chrom),
                            str(rec.pos),
                            ref,
                            alt,
                            kind,
                            ";".join(map(str, rec.filter.keys())) or ".",
                            "." if rec.qual is None else f"{rec.qual:g}",
                            gt,
                            gq,
                            dp,
                            _safe(t.gene_name) if t else "",
                            _safe(t.gene_id) if t else "",
                            _safe(t.id) if t else "",
                            _safe(t.biotype) if t else "",
                            worst.consequence,
                            worst.protein,
                            worst.cdna,
                            worst.codons,
                            str(touched),
                        ]
                        out.write("\t".join(row) + "\n")
                    if entries:
                        rec.info["CSQ"] = entries
                    vout.write(rec)
                    if on_record and records % 5000 == 0:
                        on_record(records)
        if gz:
            pysam.tabix_index(str(tmp_vcf), preset="vcf", force=True)
    except (OSError, ValueError) as exc:
        _cleanup(tmp_vcf, tmp_tsv)
        raise InputError(f"cannot annotate {vcf.name}: {exc}") from None
    except BaseException:
        _cleanup(tmp_vcf, tmp_tsv)
        raise
    os.replace(tmp_tsv, tsv)
    if gz:
        os.replace(str(tmp_vcf) + ".tbi", str(vcf) + ".tbi")
    os.replace(tmp_vcf, vcf)
    order = {t: i for i, t in enumerate(SEVERITY)}
    return {
        "records": records,
        "alleles": alleles,
        "by_type": dict(sorted(by_type.items())),
        "by_consequence": dict(sorted(by_consequence.items(), key=lambda kv: order.get(kv[0], 99))),
        "genes_hit": sorted(genes),
        "transcripts_in_annotation": len(models),
        "genes_in_annotation": len(models.genes),
        "ref_mismatches": annotator.ref_mismatches,
        "contigs_without_gene_models": sorted(unannotated_contigs)[:20],
        "codons_from_reference": fasta is not None,
    }


def _cleanup(*paths: Path) -> None:
    for p in paths:
        for q in (Path(p), Path(str(p) + ".tbi")):
            q.unlink(missing_ok=True)


class AnnotateStep:
    """Consequences of the called variants against ctx.options.annotation (GFF3)."""

    name = "annotate"
    reads: tuple[Artifact, ...] = (Artifact.VCF,)
    writes: tuple[Artifact, ...] = (Artifact.VARIANTS_TSV,)

    def __call__(self, ctx: SampleContext) -> dict:
        gff = ctx.options.annotation
        if gff is None:
            raise StepSkipped("no gene annotation (GFF3) given")
        vcf = ctx.artifacts.get(Artifact.VCF)
        if vcf is None or not Path(vcf).exists():
            raise StepSkipped("no variant calls to annotate")
        models = read_gff3(Path(gff))
        fasta = _open_reference(ctx.options.reference)
        tsv = Path(ctx.out) / "variants.tsv"
        try:
            metrics = annotate_vcf(Path(vcf), models, fasta, tsv, on_record=lambda n: ctx.progress(None))
        finally:
            if fasta is not None:
                fasta.close()
        ctx.artifacts[Artifact.VARIANTS_TSV] = tsv
        metrics["annotation"] = str(gff)
        ctx.progress(1.0)
        return metrics
