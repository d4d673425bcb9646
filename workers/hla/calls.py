"""From a gene's pair table to the reported call: 2-field collapsing, the posterior of the
called 2-field genotype, its margin over the runner-up, ambiguity, read support, the flag
(`workers.hla.flags`) and the no-call reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import flags, names
from .model import PairTable
from .scoring import MISMATCH

MIN_PAIRS = 20  # informative read pairs below which a gene is not called
MAX_ALTERNATIVES = 10
MAX_TIED = 2000  # full-resolution pairs kept for the GL String
# What a lab reports beside the 2-field names (workers.hla.groups, workers.hla.drb): G and P
# groups, 3-field names where the reads decide them, the locus's GL String, DRB3/4/5 copies.
LAB_FIELDS = (
    "g_group1",
    "g_group2",
    "p_group1",
    "p_group2",
    "three_field1",
    "three_field2",
    "gl_string",
    "copies",
)

NO_READS = "no HLA reads"
INSUFFICIENT = "insufficient coverage"


@dataclass
class GeneCall:
    gene: str
    allele1: str | None = None  # 2-field
    allele2: str | None = None
    confidence: float | None = None  # posterior probability of the called 2-field genotype
    flag: str = flags.Flag.INSUFFICIENT.value
    margin: float | None = None  # log-likelihood (nats) over the runner-up 2-field genotype
    reads1: int = 0  # read pairs explained at least as well by allele1 as by allele2
    reads2: int = 0
    pairs: int = 0  # informative read pairs (with coding-sequence evidence) for this gene
    depth: float | None = None  # median read depth over the called allele's coding bases (kept reads)
    ambiguous: list[str] = field(default_factory=list)  # other 2-field genotypes as good as the call
    note: str = ""
    full1: str | None = None  # best full-resolution allele behind each 2-field call
    full2: str | None = None
    unique1: int = 0
    unique2: int = 0
    mismatches_per_pair: float | None = None
    runner_up: str | None = None
    # the next best 2-field genotypes and how many nats less likely each is than the call
    alternatives: list[dict] = field(default_factory=list)
    # per called allele: reads it explains, how many match it exactly, and the positions of its
    # own sequence where its reads consistently disagree with it (workers.hla.support)
    support: list[dict] = field(default_factory=list)
    set_aside: int = 0  # read pairs set aside as another sequence (a paralog's)
    set_aside_as: list[dict] = field(default_factory=list)  # the alleles that had stood for them
    # G and P groups of each allele, its 3-field name where the reads decide it, and the locus's
    # whole ambiguity as a GL String at G-group level (workers.hla.groups)
    g_group1: str | None = None
    g_group2: str | None = None
    p_group1: str | None = None
    p_group2: str | None = None
    three_field1: str | None = None
    three_field2: str | None = None
    gl_string: str = ""
    copies: int | None = None  # DRB3/4/5: haplotypes carrying the gene (workers.hla.drb)
    # per called allele: the reads' consensus over the exons they cover and where they differ
    # from it (workers.hla.consensus), for the MIRING record
    consensus: list[dict] = field(default_factory=list)
    # every full-resolution pair the reads cannot tell from the call (not written out)
    tied: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @property
    def called(self) -> bool:
        return self.allele1 is not None

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("tied")
        return out


def no_call(gene: str, note: str, pairs: int = 0) -> GeneCall:
    return GeneCall(gene=gene, pairs=pairs, note=note)


def genotype_label(a: str, b: str) -> str:
    return f"{a}/{b}"


def make_call(gene: str, table: PairTable, allele_names: list[str]) -> GeneCall:
    cand = [allele_names[i] for i in table.candidates]
    c = len(cand)
    iu, ju = np.triu_indices(c)
    ll = table.ll[iu, ju]
    two = [names.two_field(n) for n in cand]
    keys = [names.order_key(n) for n in cand]
    order = sorted(
        range(len(ll)), key=lambda k: (-round(float(ll[k]), 6), *sorted((keys[iu[k]], keys[ju[k]])))
    )
    best_by_genotype: dict[tuple[str, str], float] = {}
    first_pair: dict[tuple[str, str], int] = {}
    for k in order:
        a, b = sorted((two[iu[k]], two[ju[k]]), key=names.order_key)
        if (a, b) not in best_by_genotype:
            best_by_genotype[(a, b)] = float(ll[k])
            first_pair[(a, b)] = k
    top = order[0]
    i, j = int(iu[top]), int(ju[top])
    if names.order_key(cand[j]) < names.order_key(cand[i]):
        i, j = j, i
    first, second = sorted((two[i], two[j]), key=names.order_key)
    call_gt = (first, second)
    best_ll = best_by_genotype[call_gt]
    # the other genotypes, most likely first (a stable sort: ties keep the order above)
    others = sorted(((gt, v) for gt, v in best_by_genotype.items() if gt != call_gt), key=lambda x: -x[1])
    runner = others[0] if others else None
    margin = best_ll - runner[1] if runner else float("inf")
    post = flags.posterior(best_ll, (v for _, v in others))
    ambiguous = [genotype_label(*gt) for gt, v in others if best_ll - v < flags.AMBIGUITY_MARGIN]

    tied = [(cand[iu[k]], cand[ju[k]]) for k in order[:MAX_TIED] if ll[top] - ll[k] < flags.AMBIGUITY_MARGIN]
    Li, Lj, w = table.L[:, i], table.L[:, j], table.counts
    pairs = int(w.sum())
    fit = -best_ll / max(pairs, 1) / MISMATCH
    flag = flags.decide(post, margin, fit)
    notes = []
    if ambiguous:
        notes.append(f"ambiguous: {len(ambiguous)} other genotype(s) explain the reads as well")
    elif runner is not None and (post < flags.OK_POSTERIOR or margin < flags.OK_MARGIN):
        notes.append(
            f"low confidence: posterior {post:.3f}, {margin:.1f} nats ahead of {genotype_label(*runner[0])}"
        )
    if fit > flags.POOR_FIT:
        notes.append(
            f"reads fit poorly ({fit:.1f} mismatches per pair): allele may be missing from the reference"
        )
    return GeneCall(
        gene=gene,
        allele1=two[i],
        allele2=two[j],
        confidence=round(post, 4),
        flag=flag.value,
        margin=round(min(margin, 999.0), 2),
        reads1=int(w @ (Li >= Lj)),
        reads2=int(w @ (Lj >= Li)),
        pairs=pairs,
        ambiguous=ambiguous[:MAX_ALTERNATIVES],
        note="; ".join(notes),
        full1=cand[i],
        full2=cand[j],
        unique1=int(w @ (Li > Lj + 1e-9)),
        unique2=int(w @ (Lj > Li + 1e-9)),
        mismatches_per_pair=round(fit, 3),
        runner_up=genotype_label(*runner[0]) if runner else None,
        alternatives=[
            {"genotype": genotype_label(*gt), "delta": round(best_ll - v, 2)}
            for gt, v in others[:MAX_ALTERNATIVES]
        ],
        tied=tied,
    )
