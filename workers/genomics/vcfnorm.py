"""Normalised variant alleles for comparison: split, left-aligned, trimmed, MNPs atomised.

Reads a VCF with pysam and yields one `VariantAllele` per ALT allele carried by the sample's genotype,
in the representation `bcftools norm -m -any -f REF` followed by `--atomize` would give, so two
VCFs that describe the same change the same way compare equal key for key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pysam

from gems.errors import InputError

SNP, INDEL = "SNP", "INDEL"


@dataclass(frozen=True)
class VariantAllele:
    chrom: str
    pos: int  # 0-based start of REF
    ref: str
    alt: str
    copies: int  # 1 = heterozygous, 2 = homozygous for this ALT
    # Which haplotypes carry it when phased ((1, 0), (0, 1), (1, 1)); None when unphased het.
    phase: tuple[int, int] | None = None

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.chrom, self.pos, self.ref, self.alt)

    @property
    def kind(self) -> str:
        return SNP if len(self.ref) == 1 and len(self.alt) == 1 else INDEL

    @property
    def end(self) -> int:
        return self.pos + len(self.ref)


def left_align(pos: int, ref: str, alt: str, fetch: Callable[[int, int], str]) -> tuple[int, str, str]:
    """vt/bcftools normalisation: right-trim, left-extend empty alleles, then left-trim."""
    while True:
        changed = False
        if ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
            changed = True
        if (not ref or not alt) and pos > 0:
            pos -= 1
            base = fetch(pos, pos + 1).upper()
            ref, alt = base + ref, base + alt
            changed = True
        if not changed:
            break
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def _atomise(pos: int, ref: str, alt: str) -> list[tuple[int, str, str]]:
    if len(ref) == len(alt) and len(ref) > 1:
        return [(pos + i, r, a) for i, (r, a) in enumerate(zip(ref, alt, strict=True)) if r != a]
    return [(pos, ref, alt)]


@contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib's header warnings (bcftools mpileup declares INFO/MQ as Integer and every
    reader of its VCFs then prints "MQ should be declared as Type=Float" to stderr)."""
    previous = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(previous)


def load_regions(bed: Path | None) -> dict[str, list[tuple[int, int]]] | None:
    if bed is None:
        return None
    regions: dict[str, list[tuple[int, int]]] = {}
    try:
        for line in Path(bed).read_text().splitlines():
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            parts = line.split("\t")
            regions.setdefault(parts[0], []).append((int(parts[1]), int(parts[2])))
    except (OSError, ValueError, IndexError) as exc:
        raise InputError(f"regions BED {bed}: cannot be read as BED ({exc})") from exc
    for iv in regions.values():
        iv.sort()
    return regions


def in_regions(regions: dict | None, chrom: str, pos: int) -> bool:
    if regions is None:
        return True
    return any(s <= pos < e for s, e in regions.get(chrom, ()))


def _genotype(rec: pysam.VariantRecord, sample: str | None) -> tuple[tuple, bool]:
    if not rec.samples:
        return (), False
    s = rec.samples[sample] if sample else rec.samples[0]
    gt = s.get("GT") or ()
    return tuple(a for a in gt if a is not None), bool(s.phased)


def read_alleles(
    vcf: Path,
    fasta: pysam.FastaFile,
    regions: dict | None = None,
    pass_only: bool = True,
    sample: str | None = None,
) -> Iterator[VariantAllele]:
    """Every ALT allele the sample carries, normalised, inside `regions` (by normalised start)."""
    try:
        with quiet_htslib():
            handle = pysam.VariantFile(str(vcf))
    except (OSError, ValueError) as exc:
        raise InputError(f"{vcf}: cannot be read as VCF ({exc})") from exc
    with handle:
        for rec in handle:
            if pass_only and rec.filter.keys() and "PASS" not in rec.filter:
                continue
            gt, phased = _genotype(rec, sample)
            if not rec.alts or not any(gt):
                continue
            chrom = rec.chrom
            if chrom not in fasta.references:
                raise InputError(f"{vcf}: contig {chrom} is not in the reference")

            def fetch(a: int, b: int, _c: str = chrom) -> str:
                return fasta.fetch(_c, a, b)

            for idx, alt in enumerate(rec.alts, start=1):
                copies = sum(1 for a in gt if a == idx)
                if copies == 0 or alt.startswith("<") or alt in ("*", "."):
                    continue
                if len(gt) == 1:
                    copies = 2  # haploid call: the whole locus carries it
                phase = None
                if phased and len(gt) == 2:
                    phase = (int(gt[0] == idx), int(gt[1] == idx))
                elif copies == 2:
                    phase = (1, 1)
                pos, ref, alt_n = left_align(rec.pos - 1, (rec.ref or "").upper(), alt.upper(), fetch)
                for p, r, a in _atomise(pos, ref, alt_n):
                    if in_regions(regions, chrom, p):
                        yield VariantAllele(chrom, p, r, a, min(copies, 2), phase)
