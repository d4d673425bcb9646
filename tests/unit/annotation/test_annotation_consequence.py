"""Consequences on hand-built transcripts, checked on both strands.

The plus-strand model (1-based genomic positions):
  exon1 11-20 (5' UTR) | intron1 21-40 | exon2 41-60, CDS from 45 | intron2 61-80 | exon3 81-100, CDS to 94
CDS = ATG AAA TGG CGC TTA C|GG GAA CTG TGC TAA  ->  M K W R L R E L C *   (exon3 CDS phase 2)
The minus-strand model is the same locus reverse-complemented, so every expected name is the same.
"""

from __future__ import annotations

import pytest

from workers.genomics.consequence import Annotator, most_severe, trim_allele
from workers.genomics.genemodel import GeneModels, Transcript
from workers.genomics.protein import revcomp

CDS = "ATGAAATGGCGCTTACGGGAACTGTGCTAA"
EXON1 = "CCAGTCACCA"
INTRON1 = "GTAAGTCCTTTCTCTCTCAG"
INTRON2 = "GTGAGTCCTTTCCTCTCCAG"
UTR3 = "GTCCA"
LOCUS = "ACGTTGCAAC" + EXON1 + INTRON1 + "TCCA" + CDS[:16] + INTRON2 + CDS[16:] + "GGCCTT" + "ACGTACGTAC" * 20
assert LOCUS[44:47] == "ATG" and LOCUS[91:94] == "TAA"
L = len(LOCUS)


def _plus() -> Transcript:
    return Transcript(
        id="TXP",
        chrom="c",
        strand=1,
        gene_id="G1",
        gene_name="GENE",
        biotype="protein_coding",
        exons=[(11, 20), (41, 60), (81, 100)],
        cds=[(45, 60, 0), (81, 94, 2)],
    )


def _minus() -> Transcript:
    m = lambda p: L + 1 - p  # noqa: E731 - the mirror of a position
    return Transcript(
        id="TXM",
        chrom="c",
        strand=-1,
        gene_id="G1",
        gene_name="GENE",
        biotype="protein_coding",
        exons=[(m(e), m(s)) for s, e in [(11, 20), (41, 60), (81, 100)]],
        cds=[(m(60), m(45), 0), (m(94), m(81), 2)],
    )


def _annotator(strand: int) -> tuple[Annotator, callable]:
    genome = LOCUS if strand > 0 else revcomp(LOCUS)
    t = _plus() if strand > 0 else _minus()
    ann = Annotator(GeneModels([t]), lambda c, s, e: genome[s:e])

    def call(pos: int, ref: str, alt: str):
        """Annotate a plus-strand-described allele on either model (mirrored for minus)."""
        if strand < 0:
            pos, ref, alt = L + 1 - (pos + len(ref) - 1), revcomp(ref), revcomp(alt)
            if len(ref) != len(alt):  # keep a left anchor base, as a VCF would
                anchor = genome[pos - 2]
                pos, ref, alt = pos - 1, anchor + ref[:-1], anchor + alt[:-1]
        effects = ann.annotate("c", pos, ref, alt)
        return most_severe(effects)

    return ann, call


both = pytest.mark.parametrize("strand", [1, -1])


@both
@pytest.mark.parametrize(
    "pos,ref,alt,consequence,protein,cdna,codons",
    [
        (51, "T", "C", "missense_variant", "p.W3R", "c.7T>C", "Tgg/Cgg"),
        (52, "G", "A", "stop_gained", "p.W3*", "c.8G>A", "tGg/tAg"),
        (56, "C", "T", "synonymous_variant", "p.R4=", "c.12C>T", "cgC/cgT"),
        (59, "A", "G", "splice_region_variant&synonymous_variant", "p.L5=", "c.15A>G", "ttA/ttG"),
        (45, "A", "G", "start_lost", "p.M1?", "c.1A>G", "Atg/Gtg"),
        (92, "T", "C", "stop_lost", "p.*10Qext*?", "c.28T>C", "Taa/Caa"),
        # codon 6 spans intron2 (C|GG); its exon3 bases are also in the splice region
        (81, "G", "T", "missense_variant&splice_region_variant", "p.R6L", "c.17G>T", "cGg/cTg"),
        (94, "A", "G", "stop_retained_variant", "p.*10=", "c.30A>G", "taA/taG"),
    ],
)
def test_substitutions(strand, pos, ref, alt, consequence, protein, cdna, codons):
    _, call = _annotator(strand)
    e = call(pos, ref, alt)
    assert (e.consequence, e.protein, e.cdna, e.codons) == (consequence, protein, cdna, codons)


@both
def test_frameshift_deletion(strand):
    _, call = _annotator(strand)
    e = call(47, "GA", "G")  # deletes c.4 A: ATG AAT GGC ... ; AAA run -> HGVS shifts to c.6
    assert e.consequence == "frameshift_variant"
    assert e.protein == "p.K2fs"
    assert e.cdna == "c.6del"


@both
def test_inframe_deletion_and_insertion(strand):
    _, call = _annotator(strand)
    d = call(47, "GAAA", "G")  # removes AAA (K2)
    assert (d.consequence, d.protein, d.cdna) == ("inframe_deletion", "p.K2del", "c.4_6del")
    i = call(50, "A", "AGGC")  # GGC (G) between K2 and W3
    assert (i.consequence, i.protein, i.cdna) == ("inframe_insertion", "p.K2_W3insG", "c.6_7insGGC")
    dup = call(50, "A", "AAAA")  # a fourth AAA: a duplication of K2
    assert (dup.protein, dup.cdna) == ("p.K2dup", "c.4_6dup")


@both
def test_inframe_insertion_of_a_stop(strand):
    _, call = _annotator(strand)
    e = call(50, "A", "ATAA")
    assert e.consequence == "stop_gained&inframe_insertion"
    assert e.protein == "p.W3*"


@both
@pytest.mark.parametrize(
    "pos,consequence,cdna",
    [
        (21, "splice_donor_variant", "c.-5+1"),
        (22, "splice_donor_variant", "c.-5+2"),
        (40, "splice_acceptor_variant", "c.-4-1"),
        (80, "splice_acceptor_variant", "c.17-1"),
        (61, "splice_donor_variant", "c.16+1"),
        (65, "splice_region_variant&intron_variant", "c.16+5"),
        (70, "intron_variant", "c.16+10"),
        (71, "intron_variant", "c.17-10"),
        (15, "5_prime_UTR_variant", "c.-10"),
        (97, "3_prime_UTR_variant", "c.*3"),
    ],
)
def test_locations(strand, pos, consequence, cdna):
    _, call = _annotator(strand)
    base = LOCUS[pos - 1]
    alt = "A" if base != "A" else "C"
    e = call(pos, base, alt)
    assert e.consequence == consequence
    assert e.cdna == f"{cdna}{base}>{alt}"  # transcript orientation: the same on the mirrored model


@both
def test_splice_region_exon_side_is_reported_with_the_coding_effect(strand):
    _, call = _annotator(strand)
    e = call(60, "C", "A")  # last base of exon2 (c.16): codon 6 CGG -> AGG is R->R
    assert set(e.terms) == {"splice_region_variant", "synonymous_variant"}


@both
def test_upstream_downstream_and_intergenic(strand):
    ann, call = _annotator(strand)
    up = call(5, LOCUS[4], "A" if LOCUS[4] != "A" else "C")
    assert (up.consequence, up.distance) == ("upstream_gene_variant", 6)
    down = call(105, LOCUS[104], "A" if LOCUS[104] != "A" else "C")
    assert (down.consequence, down.distance) == ("downstream_gene_variant", 5)
    far = ann.annotate("c", 6000, "A", "C")
    assert [e.consequence for e in far] == ["intergenic_variant"]
    assert ann.annotate("other_contig", 50, "A", "C")[0].consequence == "intergenic_variant"


@both
def test_indel_across_exon_intron_boundary(strand):
    _, call = _annotator(strand)
    e = call(59, "ACGT", "A")  # deletes c.16 and the GT donor of intron2
    assert "splice_donor_variant" in e.terms
    assert "coding_sequence_variant" in e.terms
    assert e.protein == ""


def test_non_coding_transcript():
    t = _plus()
    t.cds, t.biotype = [], "lncRNA"
    t.finish()
    ann = Annotator(GeneModels([t]), lambda c, s, e: LOCUS[s:e])
    e = most_severe(ann.annotate("c", 51, "T", "C"))
    assert (e.consequence, e.cdna, e.protein) == ("non_coding_transcript_exon_variant", "n.21T>C", "")


def test_five_prime_incomplete_cds_uses_phase():
    """A CDS starting mid-codon (phase 1): residues are counted from the first whole codon."""
    t = _plus()
    t.cds = [(44, 60, 1), (81, 94, 2)]  # the extra base 44 (A) belongs to an earlier, cut-off codon
    t.finish()
    ann = Annotator(GeneModels([t]), lambda c, s, e: LOCUS[s:e])
    e = most_severe(ann.annotate("c", 50, "A", "T"))  # AAA -> AAT in the second whole codon
    assert (e.consequence, e.protein) == ("missense_variant", "p.K2N")
    first = most_severe(ann.annotate("c", 44, "A", "G"))  # the partial codon: no frame there
    assert first.consequence == "coding_sequence_variant" and first.protein == ""


def test_reference_mismatch_is_counted_and_not_translated():
    ann, _ = _annotator(1)
    e = most_severe(ann.annotate("c", 51, "G", "C"))  # the reference has T here
    assert e.protein == "" and ann.ref_mismatches == 1


def test_no_reference_sequence_still_locates():
    ann = Annotator(GeneModels([_plus()]), None)
    e = most_severe(ann.annotate("c", 51, "T", "C"))
    assert e.consequence == "coding_sequence_variant" and e.cdna == "c.7T>C"


def test_trim_allele_keeps_the_leftmost_position():
    assert trim_allele(100, "A", "AT") == (101, "", "T")
    assert trim_allele(100, "AAAATAAAT", "AAAAT") == (105, "AAAT", "")
    assert trim_allele(100, "CT", "CA") == (101, "T", "A")


def test_most_severe_prefers_coding_then_longer():
    ann, _ = _annotator(1)
    t2 = _plus()
    t2.id, t2.cds = "TXNC", []
    t2.finish()
    ann = Annotator(GeneModels([t2, _plus()]), lambda c, s, e: LOCUS[s:e])
    effects = ann.annotate("c", 15, "C", "A")  # 5' UTR of TXP, exon of the non-coding TXNC
    assert most_severe(effects).transcript.id == "TXP"
