"""What an allele does inside a transcript's sequence: HGVS c./n. name, codon change, protein change.

An allele is given in transcript space as an edit of the spliced sequence: replace mrna[ms:me]
(0-based, end exclusive; ms == me for an insertion before index ms) with `alt` (transcript strand).
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.genomics.genemodel import Transcript
from workers.genomics.protein import frameshift_change, inframe_change, substitution_change, translate


@dataclass
class CodingEffect:
    terms: list[str]
    protein: str = ""
    codons: str = ""


def position_name(t: Transcript, index: int) -> str:
    """HGVS position of an mRNA index: 123, -12 (5' UTR), *34 (3' UTR); n. numbering for non-coding."""
    if t.cds_range is None:
        return str(index + 1)
    cs, ce = t.cds_range
    if index < cs:
        return f"-{cs - index}"
    if index >= ce:
        return f"*{index - ce + 1}"
    return str(index - cs + 1)


def genomic_position_name(t: Transcript, pos: int) -> str | None:
    """HGVS position of a genomic base: exonic, or intronic as 123+5 / 124-2; None outside the transcript."""
    if pos < t.start or pos > t.end:
        return None
    m = t.mrna_index(pos)
    if m is not None:
        return position_name(t, m)
    anchor, offset = t.nearest_exon_base(pos)
    return f"{position_name(t, anchor)}{offset:+d}"


def _range(a: str, b: str) -> str:
    return a if a == b else f"{a}_{b}"


def _shift_3prime(mrna: str, ms: int, me: int, alt: str) -> tuple[int, int, str]:
    """Move a pure insertion or deletion to its 3'-most equivalent position (HGVS 3' rule)."""
    if ms == me:  # insertion
        seq = alt
        while ms < len(mrna) and mrna[ms] == seq[0]:
            seq = seq[1:] + mrna[ms]
            ms += 1
        return ms, ms, seq
    if not alt:  # deletion
        while me < len(mrna) and mrna[ms] == mrna[me]:
            ms, me = ms + 1, me + 1
    return ms, me, alt


def hgvs_exonic(t: Transcript, mrna: str | None, ms: int, me: int, ref: str, alt: str) -> str:
    """c./n. name of an edit of the spliced sequence (ref is given in case mrna is unknown)."""
    prefix = "c." if t.coding else "n."
    if mrna is not None and (ms == me or not alt):
        ms, me, alt = _shift_3prime(mrna, ms, me, alt)
    if ms == me:
        n = len(alt)
        if mrna is not None and ms >= n and mrna[ms - n : ms] == alt:
            return f"{prefix}{_range(position_name(t, ms - n), position_name(t, ms - 1))}dup"
        if ms == 0 or ms >= t.length:
            return ""
        return f"{prefix}{position_name(t, ms - 1)}_{position_name(t, ms)}ins{alt}"
    span = _range(position_name(t, ms), position_name(t, me - 1))
    if not alt:
        return f"{prefix}{span}del"
    if me - ms == 1 and len(alt) == 1:
        return f"{prefix}{span}{ref}>{alt}"
    return f"{prefix}{span}delins{alt}"


def hgvs_genomic(t: Transcript, lo: int, hi: int, ref: str, alt: str, insertion: bool) -> str:
    """c./n. name of an allele that touches an intron, from genomic positions (no 3' shifting there).

    lo..hi are the affected genomic bases (for an insertion, its two flanking bases); ref/alt on the
    transcript strand.
    """
    a, b = genomic_position_name(t, lo), genomic_position_name(t, hi)
    if a is None or b is None:
        return ""
    if t.strand < 0:
        a, b = b, a
    prefix = "c." if t.coding else "n."
    if insertion:
        return f"{prefix}{a}_{b}ins{alt}"
    span = _range(a, b)
    if not alt:
        return f"{prefix}{span}del"
    if len(ref) == 1 and len(alt) == 1:
        return f"{prefix}{span}{ref}>{alt}"
    return f"{prefix}{span}delins{alt}"


def _codons(mrna: str, frame0: int, ms: int, me: int, alt: str) -> str:
    """VEP-style codon change: affected codons, changed bases upper case ('cGt/cAt', '-/GCA')."""
    w0 = frame0 + ((ms - frame0) // 3) * 3
    if ms == me:
        w1 = w0 + 3 if (ms - frame0) % 3 else w0
    else:
        w1 = frame0 + ((me - 1 - frame0) // 3 + 1) * 3
    w1 = min(max(w1, me), len(mrna))
    ref_c = mrna[w0:ms].lower() + mrna[ms:me].upper() + mrna[me:w1].lower()
    alt_c = mrna[w0:ms].lower() + alt.upper() + mrna[me:w1].lower()
    return f"{ref_c or '-'}/{alt_c or '-'}"


def reference_protein(t: Transcript, mrna: str) -> str:
    """The annotated protein, with its stop; CDSs that end before the stop codon (GTF style) get it added."""
    (cs, ce), _ = t.coding_bounds()
    frame0 = cs + t.phase
    protein = translate(mrna[frame0:ce])
    if not protein.endswith("*") and (ce - frame0) % 3 == 0 and translate(mrna[ce : ce + 3]) == "*":
        protein += "*"
    return protein


def coding_effect(t: Transcript, mrna: str, ms: int, me: int, alt: str, ref_protein: str) -> CodingEffect:
    """Consequence of an edit that starts inside the CDS (both flanks, for an insertion).

    It may run on into the 3' UTR: the variant protein is translated until its first stop.
    """
    (cs, ce), _ = t.coding_bounds()
    frame0 = cs + t.phase
    if ms < frame0:  # in the partial first codon of a 5'-incomplete CDS: the frame is not known there
        return CodingEffect(["coding_sequence_variant"])
    codons = _codons(mrna, frame0, ms, me, alt)
    alt_mrna = mrna[:ms] + alt + mrna[me:]
    diff = len(alt) - (me - ms)
    if diff == 0:
        first, last = (ms - frame0) // 3, (me - 1 - frame0) // 3
        if last >= len(ref_protein):
            return CodingEffect(["coding_sequence_variant"], codons=codons)
        alt_protein = translate(alt_mrna[frame0:])
        change = substitution_change(ref_protein, alt_protein, first, last)
        return CodingEffect([_substitution_term(change, ref_protein[first : last + 1])], change, codons)
    alt_protein = translate(alt_mrna[frame0:], to_stop=True)
    if alt_protein == ref_protein:  # e.g. an indel inside the stop codon that rebuilds it
        n = len(ref_protein)
        term = "stop_retained_variant" if me > ce - 3 else "synonymous_variant"
        return CodingEffect([term], f"p.{ref_protein[-1]}{n}=" if term.startswith("stop") else "p.=", codons)
    if diff % 3:
        change = frameshift_change(ref_protein, alt_protein)
        terms = ["frameshift_variant"]
        if change == "p.M1?":
            terms.append("start_lost")
        elif change.startswith("p.*"):
            terms.append("stop_lost")
        return CodingEffect(terms, change, codons)
    change, kind = inframe_change(ref_protein, alt_protein, diff // 3)
    inframe = "inframe_insertion" if diff > 0 else "inframe_deletion"
    terms = {
        "deletion": ["inframe_deletion"],
        "insertion": ["inframe_insertion"],
        "delins": [inframe],
        "synonymous": ["synonymous_variant"],
    }.get(kind, [kind, inframe])
    return CodingEffect(terms, change, codons)


def _substitution_term(change: str, ref_residues: str) -> str:
    if change == "p.M1?":
        return "start_lost"
    if "ext" in change:
        return "stop_lost"
    if change.endswith("="):
        return "stop_retained_variant" if "*" in ref_residues else "synonymous_variant"
    if change.endswith("*"):
        return "stop_gained"
    return "missense_variant"
