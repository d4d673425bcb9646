"""Truth-versus-calls matching of normalised alleles, genotype-aware and haplotype-aware.

1. Alleles with the same normalised key and the same copy number (het/hom) match.
   Same key, different copy number is a genotype error: one FP and one FN, as hap.py counts it.
2. What is left is grouped into clusters of overlapping alleles, then (for what still does not
   match) of alleles within CLUSTER_PAD bases of each other, truth and calls together. A cluster
   matches when some phasing of its truth alleles and some phasing of its call alleles spell the
   same pair of haplotype sequences over the cluster's reference window; when the whole cluster
   does not, the largest subsets that do are kept (setting aside up to three alleles), the rest are
   FP/FN. This is what lets an indel written two ways (or as an indel plus a SNP) match, as
   vcfeval does with its haplotype replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations, product

from workers.genomics.vcfnorm import INDEL, SNP, VariantAllele

OVERLAP_PAD = 1  # first pass: alleles that overlap or touch
CLUSTER_PAD = 20  # second pass: bases between alleles that still puts them in one cluster
MAX_ENUMERATE = 10  # unphased hets per side beyond which no phasing is tried
# Subset search: up to 3 alleles may be set aside in clusters of at most 8, 2 in clusters of
# at most 12; bigger clusters match whole or not at all (keeps the search small).
MAX_DROP = ((8, 3), (12, 2))


@dataclass
class Counts:
    tp_truth: int = 0
    tp_call: int = 0
    fp: int = 0
    fn: int = 0
    gt_mismatch: int = 0

    def as_dict(self) -> dict:
        precision = self.tp_call / (self.tp_call + self.fp) if self.tp_call + self.fp else 0.0
        recall = self.tp_truth / (self.tp_truth + self.fn) if self.tp_truth + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "truth_total": self.tp_truth + self.fn,
            "calls_total": self.tp_call + self.fp,
            "tp": self.tp_truth,
            "tp_calls": self.tp_call,
            "fp": self.fp,
            "fn": self.fn,
            "genotype_mismatch": self.gt_mismatch,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        }


@dataclass
class Comparison:
    by_kind: dict[str, Counts] = field(default_factory=lambda: {SNP: Counts(), INDEL: Counts()})
    fp_alleles: list[VariantAllele] = field(default_factory=list)
    fn_alleles: list[VariantAllele] = field(default_factory=list)

    def tp(self, a: VariantAllele, truth: bool) -> None:
        c = self.by_kind[a.kind]
        if truth:
            c.tp_truth += 1
        else:
            c.tp_call += 1

    def fp(self, a: VariantAllele) -> None:
        self.by_kind[a.kind].fp += 1
        self.fp_alleles.append(a)

    def fn(self, a: VariantAllele) -> None:
        self.by_kind[a.kind].fn += 1
        self.fn_alleles.append(a)


def _haplotype_pairs(alleles: list[VariantAllele], start: int, window: str) -> set[tuple[str, str]]:
    """Every unordered pair of haplotype sequences these alleles can form (all phasings)."""
    fixed = [a for a in alleles if a.copies == 2]
    hets = [a for a in alleles if a.copies != 2]
    if len(hets) > MAX_ENUMERATE:
        return set()
    pairs = set()
    # The first het goes on haplotype 0: the pair is unordered, so its mirror adds nothing.
    for choice in product((0, 1), repeat=max(len(hets) - 1, 0)):
        sides = (0, *choice) if hets else ()
        haps = []
        for h in (0, 1):
            carried = sorted(
                fixed + [a for a, s in zip(hets, sides, strict=True) if s == h], key=lambda a: a.pos
            )
            seq = _apply(carried, start, window)
            if seq is None:
                break
            haps.append(seq)
        if len(haps) == 2:
            first, second = sorted(haps)
            pairs.add((first, second))
    return pairs


def _apply(alleles: list[VariantAllele], start: int, window: str) -> str | None:
    out, cursor = [], start
    for a in alleles:
        if a.pos < cursor:
            return None  # two alleles overlap on one haplotype: not a possible phasing
        out.append(window[cursor - start : a.pos - start])
        out.append(a.alt)
        cursor = a.end
    out.append(window[cursor - start :])
    return "".join(out)


def _matches(
    truth: list[VariantAllele], calls: list[VariantAllele], fetch: Callable[[str, int, int], str]
) -> bool:
    if not truth or not calls:
        return False
    chrom = truth[0].chrom
    start = max(min(a.pos for a in truth + calls) - 1, 0)
    end = max(a.end for a in truth + calls) + 1
    window = fetch(chrom, start, end).upper()
    t = _haplotype_pairs(truth, start, window)
    return bool(t) and not t.isdisjoint(_haplotype_pairs(calls, start, window))


def _clusters(
    truth: list[VariantAllele], calls: list[VariantAllele], pad: int
) -> list[tuple[list[VariantAllele], list[VariantAllele]]]:
    items = sorted(
        [(a, True) for a in truth] + [(a, False) for a in calls], key=lambda x: (x[0].chrom, x[0].pos)
    )
    out: list[tuple[list[VariantAllele], list[VariantAllele]]] = []
    chrom, reach = None, -1
    for a, is_truth in items:
        if a.chrom != chrom or a.pos > reach + pad:
            out.append(([], []))
            chrom, reach = a.chrom, a.end
        reach = max(reach, a.end)
        out[-1][0 if is_truth else 1].append(a)
    return out


def _resolve(
    truth: list[VariantAllele], calls: list[VariantAllele], fetch
) -> list[tuple[VariantAllele, bool]]:
    """The largest part of a cluster whose truth and call alleles spell the same haplotypes."""
    both = [(a, True) for a in truth] + [(a, False) for a in calls]
    max_drop = next((d for size, d in MAX_DROP if len(both) <= size), 0)
    max_drop = min(max_drop, len(both) - 2)
    for drop in range(max_drop + 1):
        for dropped in combinations(range(len(both)), drop):
            kept = [x for i, x in enumerate(both) if i not in dropped]
            t = [a for a, is_t in kept if is_t]
            c = [a for a, is_t in kept if not is_t]
            if _matches(t, c, fetch):
                return kept
    return []


def compare(
    truth: list[VariantAllele], calls: list[VariantAllele], fetch: Callable[[str, int, int], str]
) -> Comparison:
    result = Comparison()
    left_truth = {a.key: a for a in truth}
    left_calls: list[VariantAllele] = []
    for c in calls:
        t = left_truth.get(c.key)
        if t is None:
            left_calls.append(c)
        elif t.copies == c.copies:
            del left_truth[c.key]
            result.tp(t, True)
            result.tp(c, False)
        else:
            del left_truth[c.key]
            result.by_kind[c.kind].gt_mismatch += 1
            result.fp(c)
            result.fn(t)
    t_left, c_left = list(left_truth.values()), left_calls
    # Overlapping alleles first (a record written two ways overlaps itself), then neighbours.
    for pad in OVERLAP_PAD, CLUSTER_PAD:
        next_t, next_c = [], []
        for t_cl, c_cl in _clusters(t_left, c_left, pad):
            kept = _resolve(t_cl, c_cl, fetch) if t_cl and c_cl else []
            matched = {id(a) for a, _ in kept}
            for a, is_t in kept:
                result.tp(a, is_t)
            next_t += [a for a in t_cl if id(a) not in matched]
            next_c += [a for a in c_cl if id(a) not in matched]
        t_left, c_left = next_t, next_c
    for a in t_left:
        result.fn(a)
    for a in c_left:
        result.fp(a)
    return result
