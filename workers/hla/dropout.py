"""Allele dropout: a homozygous call that may be a heterozygote whose second allele the reads
never saw.

When one allele fails to amplify (a primer site polymorphism in amplicon data), is lost in a
tumour, or is captured poorly, the reads that remain are one allele's: they fit a homozygote
perfectly, and nothing inside the locus says a second allele is missing. What does say it is
depth. Two copies of one allele give as many reads as two different alleles do, so a true
homozygote sits at the depth of the sample's other loci; a dropout sits at about half of it.

So a homozygous call (the same 2-field allele twice) of a classical gene is held against the
depth of the sample's other called classical genes (each gene's median read depth over its
coding bases, `GeneCall.depth`; the median of the others): under DROPOUT_SHARE of it, the call
is never `ok` and the note says why. DRB3/4/5
are left out on both sides: their copy number is decided and checked against DRB1 by
`workers.hla.drb`. With fewer than MIN_OTHERS other genes there is nothing to measure against.

Depth is a DNA measure: on RNA a locus expressed below the sample's others is flagged too, which
is what allele-specific loss looks like there. `benchmarks.hla_flags` measures the threshold on
true homozygotes and on dropouts made from the shared samples (docs/hla.md, "Flags").
"""

from __future__ import annotations

import statistics

from . import flags, names
from .calls import GeneCall

DROPOUT_SHARE = 0.7  # of the other genes' median depth: one copy's reads is 0.5 of it
MIN_OTHERS = 2


def homozygous(call: GeneCall) -> bool:
    """The same 2-field allele twice (DRB3/4/5 with one copy name one allele: not homozygous)."""
    if not (call.allele1 and call.allele2):
        return False
    return names.two_field(call.allele1) == names.two_field(call.allele2)


def depths(found: list[GeneCall]) -> dict[str, float]:
    """The read depth of each called classical gene other than DRB3/4/5."""
    return {
        c.gene: c.depth
        for c in found
        if c.called and c.gene not in names.DRB_PARTNERS and c.depth is not None
    }


def share_of_others(gene: str, depth: dict[str, float]) -> float | None:
    """The gene's depth as a share of the median of the others'; None without enough others."""
    others = [d for g, d in depth.items() if g != gene]
    if gene not in depth or len(others) < MIN_OTHERS:
        return None
    middle = statistics.median(others)
    return depth[gene] / middle if middle > 0 else None


def resolve(found: list[GeneCall]) -> None:
    """Flag, in place, every homozygous call whose depth says one allele may be missing."""
    depth = depths(found)
    for call in found:
        if call.gene not in depth or not homozygous(call):
            continue
        share = share_of_others(call.gene, depth)
        if share is None or share >= DROPOUT_SHARE:
            continue
        if call.flag == flags.Flag.OK.value:
            call.flag = flags.Flag.LOW_CONFIDENCE.value
        others = len(depth) - 1
        note = (
            f"homozygous at {share:.2f} of the depth of the sample's other {others} genes "
            "(one allele's reads would be 0.5): a second allele may have dropped out"
        )
        call.note = "; ".join(n for n in (call.note, note) if n)
