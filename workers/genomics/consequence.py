"""Consequence of a variant allele on each nearby transcript, in Sequence Ontology terms.

Definitions follow Ensembl VEP: splice donor/acceptor = the first/last two intron bases, splice
region = exon bases 1-3 or intron bases 3-8 from an exon boundary, upstream/downstream = within
5 kb of the transcript, severity order as in VEP's consequence table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workers.genomics.coding import coding_effect, hgvs_exonic, hgvs_genomic, reference_protein
from workers.genomics.genemodel import GeneModels, Transcript
from workers.genomics.protein import revcomp

FLANK = 5000
SEQUENCE_CACHE = 4096  # transcripts whose spliced sequence is kept (a genome has ~250,000)

# Most severe first (VEP's ranking of the terms we emit).
SEVERITY = [
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "splice_region_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "intergenic_variant",
]
_RANK = {term: i for i, term in enumerate(SEVERITY)}

Fetch = Callable[[str, int, int], str]  # (chrom, start0, end0) -> bases; may raise KeyError


@dataclass
class Effect:
    terms: list[str]
    transcript: Transcript | None = None
    cdna: str = ""
    codons: str = ""
    protein: str = ""
    distance: int | None = None

    @property
    def rank(self) -> int:
        return min(_RANK[t] for t in self.terms)

    @property
    def consequence(self) -> str:
        return "&".join(sorted(self.terms, key=_RANK.__getitem__))


def trim_allele(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop bases shared by REF and ALT -> (first affected pos, ref, alt).

    The prefix goes first, so a left-normalised indel keeps its leftmost position (the VCF anchor base
    is what is shared), as bcftools csq and VEP read it.
    """
    while ref and alt and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    return pos, ref, alt


def most_severe(effects: list[Effect]) -> Effect:
    """Worst effect; ties prefer protein-coding, then canonical/basic-tagged, then longer transcripts."""

    def key(e: Effect):
        t = e.transcript
        if t is None:
            return (e.rank, 1, 1, 0, "")
        canonical = "Ensembl_canonical" in t.tags or "basic" in t.tags
        return (e.rank, 0 if t.coding else 1, 0 if canonical else 1, -t.length, t.id)

    return min(effects, key=key)


@dataclass
class _Allele:
    lo: int  # first affected genomic base (insertion: its left flank)
    hi: int  # last affected genomic base (insertion: its right flank)
    ref: str
    alt: str
    insertion: bool = False

    def overlaps(self, a: int, b: int) -> bool:
        return self.lo <= b and self.hi >= a

    def inside(self, a: int, b: int) -> bool:
        return a <= self.lo and self.hi <= b


class Annotator:
    """Consequences of alleles against gene models, with spliced sequences cached per transcript."""

    def __init__(self, models: GeneModels, fetch: Fetch | None):
        self.models = models
        self.fetch = fetch
        self._seq: dict[str, tuple[str, str] | None] = {}
        self.ref_mismatches = 0

    def _sequences(self, t: Transcript) -> tuple[str, str] | None:
        """(spliced sequence, reference protein) of t, or None without a reference for its contig."""
        if t.id not in self._seq:
            if len(self._seq) >= SEQUENCE_CACHE:  # calls come sorted: the oldest entry is done with
                del self._seq[next(iter(self._seq))]
            try:
                mrna = t.sequence(self.fetch) if self.fetch else None
            except (KeyError, ValueError):
                mrna = None
            if mrna is None or len(mrna) != t.length:
                self._seq[t.id] = None
            else:
                self._seq[t.id] = (mrna, reference_protein(t, mrna) if t.coding else "")
        return self._seq[t.id]

    def annotate(self, chrom: str, pos: int, ref: str, alt: str) -> list[Effect]:
        """One Effect per transcript within FLANK of the allele, or a single intergenic Effect."""
        start, r, a = trim_allele(pos, ref.upper(), alt.upper())
        if r:
            allele = _Allele(start, start + len(r) - 1, r, a)
        else:
            allele = _Allele(start - 1, start, r, a, insertion=True)
        effects = [self._effect(t, allele) for t in self.models.near(chrom, allele.lo, allele.hi, FLANK)]
        return effects or [Effect(["intergenic_variant"])]

    def _effect(self, t: Transcript, v: _Allele) -> Effect:
        if v.hi < t.start or v.lo > t.end:
            gap = t.start - v.hi if v.hi < t.start else v.lo - t.end
            before = (v.hi < t.start) == (t.strand > 0)
            return Effect(["upstream_gene_variant" if before else "downstream_gene_variant"], t, distance=gap)
        terms = self._splice_terms(t, v)
        ref_tx = v.ref if t.strand > 0 else revcomp(v.ref)
        alt_tx = v.alt if t.strand > 0 else revcomp(v.alt)
        edit = self._mrna_edit(t, v)
        if edit is None:  # touches an intron
            if self._in_intron(t, v):
                terms.add("intron_variant")
            terms |= self._exonic_region_terms(t, range(v.lo, v.hi + 1), partial=True)
            cdna = hgvs_genomic(t, v.lo, v.hi, ref_tx, alt_tx, v.insertion)
            return Effect(sorted(terms) or ["intron_variant"], t, cdna=cdna)
        ms, me = edit
        seqs = self._sequences(t)
        mrna, ref_protein = seqs if seqs else (None, "")
        if mrna is not None and mrna[ms:me] != ref_tx:
            self.ref_mismatches += 1
            mrna = None
        effect = Effect([], t, cdna=hgvs_exonic(t, mrna, ms, me, ref_tx, alt_tx))
        if not t.coding:
            terms.add("non_coding_transcript_exon_variant")
        else:
            (cs, ce), (lo_cds, hi_cds) = t.coding_bounds()
            inside_cds = cs <= ms and me <= ce and (v.insertion is False or cs < ms < ce)
            if cs <= ms < ce and (inside_cds or not v.insertion) and mrna is not None:
                coding = coding_effect(t, mrna, ms, me, alt_tx, ref_protein)
                terms.update(coding.terms)
                if me > ce:
                    terms.add("3_prime_UTR_variant")
                effect.protein, effect.codons = coding.protein, coding.codons
            else:
                positions = list(range(v.lo, v.hi + 1))
                if v.insertion and not inside_cds:  # at a CDS edge: it adds to the UTR, the codons stay
                    positions = [p for p in positions if not lo_cds <= p <= hi_cds] or positions
                terms |= self._exonic_region_terms(t, positions, partial=not inside_cds)
                if inside_cds:
                    terms.add("coding_sequence_variant")
        effect.terms = sorted(terms)
        return effect

    @staticmethod
    def _mrna_edit(t: Transcript, v: _Allele) -> tuple[int, int] | None:
        """[ms, me) of the allele in the spliced sequence, or None when it is not wholly exonic."""
        a, b = t.mrna_index(v.lo), t.mrna_index(v.hi)
        if a is None or b is None or abs(b - a) != v.hi - v.lo:
            return None
        lo, hi = min(a, b), max(a, b)
        return (hi, hi) if v.insertion else (lo, hi + 1)

    @staticmethod
    def _in_intron(t: Transcript, v: _Allele) -> bool:
        """Any affected base in an intron outside its two-base splice sites (for an insertion: it sits in
        an intron but not within a splice site, or between an exon and an intron)."""
        for s, e in t.introns():
            if not v.insertion:
                if s + 2 <= e - 2 and v.overlaps(s + 2, e - 2):
                    return True
                continue
            flanks_in = (s <= v.lo <= e) + (s <= v.hi <= e)
            if flanks_in == 1 or (flanks_in == 2 and not (v.inside(s, s + 1) or v.inside(e - 1, e))):
                return True
        return False

    @staticmethod
    def _splice_terms(t: Transcript, v: _Allele) -> set[str]:
        terms: set[str] = set()
        for s, e in t.introns():
            # first/last two intron bases, genomic order; an insertion hits a site when it lands inside
            # it or between it and its exon (the intron then no longer starts/ends with the site).
            if v.insertion:
                five, three = v.inside(s - 1, s + 1), v.inside(e - 1, e + 1)
            else:
                five, three = v.overlaps(s, s + 1), v.overlaps(e - 1, e)
            donor, acceptor = (five, three) if t.strand > 0 else (three, five)
            if donor:
                terms.add("splice_donor_variant")
            if acceptor:
                terms.add("splice_acceptor_variant")
            region = [(s - 3, s - 1), (e + 1, e + 3), (s + 2, min(s + 7, e)), (max(e - 7, s), e - 2)]
            if any(v.overlaps(a, b) for a, b in region):
                terms.add("splice_region_variant")
        if terms & {"splice_donor_variant", "splice_acceptor_variant"}:
            terms.discard("splice_region_variant")
        return terms

    @staticmethod
    def _exonic_region_terms(t: Transcript, positions, partial: bool) -> set[str]:
        """UTR/CDS terms for exonic bases; a CDS touched only partly can still lose its start or stop."""
        exonic = [p for p in positions if t.exon_at(p) is not None]
        if not t.coding:
            return {"non_coding_transcript_exon_variant"} if exonic else set()
        _, (lo, hi) = t.coding_bounds()
        terms: set[str] = set()
        for p in exonic:
            if p < lo:
                terms.add("5_prime_UTR_variant" if t.strand > 0 else "3_prime_UTR_variant")
            elif p > hi:
                terms.add("3_prime_UTR_variant" if t.strand > 0 else "5_prime_UTR_variant")
            else:
                terms.add("coding_sequence_variant")
        if partial and "coding_sequence_variant" in terms:
            start_codon = (lo, lo + 2) if t.strand > 0 else (hi - 2, hi)
            stop_codon = (hi - 2, hi) if t.strand > 0 else (lo, lo + 2)
            if t.phase == 0 and any(start_codon[0] <= p <= start_codon[1] for p in exonic):
                terms.add("start_lost")
            if any(stop_codon[0] <= p <= stop_codon[1] for p in exonic):
                terms.add("stop_lost")
        return terms
