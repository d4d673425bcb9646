"""DR haplotypes: whether DRB3, DRB4 and DRB5 are there, in how many copies, and whether that
agrees with the DRB1 call.

Each DR haplotype carries DRB1 and at most one of its partners: the DR52 group (DRB1*03, *11,
*12, *13, *14) DRB3, DR53 (*04, *07, *09) DRB4, DR51 (*15, *16) DRB5, and DR1 and DR8 (*01,
*10, *08) none. So a partner gene is on 0, 1 or 2 haplotypes, and absence is an answer, not a
failed call. What the reads say:

* a partner is **present** when it is called from its own reads (at least MIN_PAIRS informative
  pairs, and its alleles explain them: no allele whose reads are another sequence's) and its
  reads are at least PRESENT_SHARE of one copy's worth, one copy being half of DRB1's reads;
* its **copies** are 2 when two different alleles are called, else 1 or 2 by depth (two copies
  at TWO_COPIES of one copy's worth or more); with one copy only allele1 is reported;
* it is **absent** (`absent`, copies 0) when its reads are too few or are another sequence's,
  with the evidence in the note.

Then the reads' answer is held against what DRB1 implies; a disagreement flags the partner
(never `ok`) and says both. Depth is a DNA measure: on RNA a partner is expressed below DRB1,
so one that DRB1 implies but whose reads look thin is kept, flagged, rather than called absent.
"""

from __future__ import annotations

from . import flags, names
from .calls import GeneCall

PARTNER = {
    "03": "DRB3", "11": "DRB3", "12": "DRB3", "13": "DRB3", "14": "DRB3",
    "04": "DRB4", "07": "DRB4", "09": "DRB4",
    "15": "DRB5", "16": "DRB5",
}  # fmt: skip
PRESENT_SHARE = 0.35  # of one copy's reads
TWO_COPIES = 1.5  # one copy's reads, times


def implied(drb1: GeneCall) -> dict[str, int] | None:
    """Copies of each partner the DRB1 call implies; None without a DRB1 call."""
    if not drb1.called:
        return None
    out = dict.fromkeys(names.DRB_PARTNERS, 0)
    for allele in (drb1.allele1, drb1.allele2):
        first = names.two_field(allele or "").split("*")[1].split(":")[0]
        if first in PARTNER:
            out[PARTNER[first]] += 1
    return out


def _own_reads(call: GeneCall) -> bool:
    return call.called and not any(s.get("foreign") for s in call.support)


def _absent(call: GeneCall, why: str) -> None:
    call.allele1 = call.allele2 = None
    call.confidence = None
    call.g_group1 = call.g_group2 = call.p_group1 = call.p_group2 = None
    call.three_field1 = call.three_field2 = None
    call.gl_string = ""
    call.flag = flags.Flag.ABSENT.value
    call.copies = 0
    call.consensus = []  # the reads are another gene's: no allele of this one to describe
    call.note = why


def resolve(found: list[GeneCall]) -> None:
    """Decide presence and copies of DRB3/4/5 in place and check them against DRB1."""
    by_gene = {c.gene: c for c in found}
    drb1 = by_gene.get("DRB1")
    if drb1 is None or not drb1.called:
        drb1 = None  # neither an expectation nor a depth to measure against
    expect = implied(drb1) if drb1 is not None else None
    said = f"DRB1 {drb1.allele1}/{drb1.allele2}" if drb1 is not None else ""
    one_copy = drb1.pairs / 2 if drb1 is not None and drb1.pairs else None
    for gene in names.DRB_PARTNERS:
        call = by_gene.get(gene)
        if call is None:
            continue
        share = call.pairs / one_copy if one_copy else None
        wanted = expect.get(gene) if expect is not None else None
        evidence = f"{call.pairs} informative read pairs"
        if share is not None and drb1 is not None:
            evidence += f", {share:.2f} of one copy's worth (half of DRB1's {drb1.pairs})"
        if _own_reads(call) and (share is None or share >= PRESENT_SHARE):
            het = names.two_field(call.allele1 or "") != names.two_field(call.allele2 or "")
            call.copies = 2 if het or (share is not None and share >= TWO_COPIES) else 1
            if call.copies == 1:
                call.allele2 = call.g_group2 = call.p_group2 = call.three_field2 = None
                call.gl_string = call.gl_string.split("+")[0] if call.gl_string else ""
            if wanted is not None and wanted != call.copies:
                copies = "copy" if wanted == 1 else "copies"
                _disagree(
                    call,
                    f"{said} implies {wanted} {copies} of {gene}; the reads show {call.copies} ({evidence})",
                )
        elif wanted:  # DRB1 says it is there: thin or foreign reads are no proof of absence
            kind = "thin or another sequence's" if call.called else "too few"
            note = f"{said} implies {gene} on {wanted} haplotype(s), but its reads are {kind}: {evidence}"
            if call.called:
                _disagree(call, note)
            else:
                call.note = note
        elif drb1 is not None:
            why = (
                "its reads are another sequence's"
                if call.called and not _own_reads(call)
                else "too few reads of its own"
            )
            _absent(call, f"absent, as {said} implies: {why}: {evidence}")


def _disagree(call: GeneCall, note: str) -> None:
    if call.flag == flags.Flag.OK.value:
        call.flag = flags.Flag.LOW_CONFIDENCE.value
    call.note = "; ".join(n for n in (call.note, note) if n)
