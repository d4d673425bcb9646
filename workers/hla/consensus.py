"""What the reads say each called allele is: its consensus sequence over the exons they cover,
and where they consistently disagree with it (MIRING's consensus sequence and novel
polymorphisms; `workers.hla.miring` writes the record).

An allele's reads are those that fit it at least as well as its partner (a homozygote: all the
gene's reads kept for the call). A column is reported when at least support.MIN_COVER of them
cover it; its base is theirs when at least support.DISCORDANT of them agree, else N. Covered
columns run in blocks cut at exon boundaries, which come from the gene's genomic representative
(its CDS placed in the genomic sequence, `workers.hla.exons`). Coordinates are 0-based and
half-open in the allele's own coding sequence, as HML counts them.

A variant is a site (support.SITE_GAP joins neighbouring columns) where the reads' consensus
differs from the allele. It is `novel` when, at some column of the site, no allele of the
release carries the reads' base: a possible new polymorphism. Otherwise another allele carries
it and the difference says the call, or the release, is not the whole story.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import support
from .mapping import GeneEvidence
from .msa import GAP, UNKNOWN, GeneMSA

BASES = "ACGT-"
INTRON_MIN = 20  # genomic positions further apart than this lie in different exons


@dataclass
class Block:
    exon: int | None  # None: the reference has no genomic sequence to place exons
    start: int  # 0-based, in the allele's coding sequence
    end: int  # exclusive
    sequence: str
    min_depth: int
    mean_depth: float


@dataclass
class Variant:
    start: int  # 0-based in the allele's coding sequence
    end: int
    allele_bases: str  # the allele's bases over the site (an indel: with the base before it)
    read_bases: str  # the reads' consensus over it
    reads: int  # reads covering the site
    share: float  # of them carrying the reads' consensus
    novel: bool  # no allele of the release carries the reads' base at some column of the site


@dataclass
class AlleleConsensus:
    allele: str
    reads: int
    blocks: list[Block] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(b.end - b.start for b in self.blocks)

    def to_dict(self) -> dict:
        return asdict(self) | {"covered": self.covered}


def exon_starts(msa: GeneMSA) -> np.ndarray:
    """First MSA column of each exon, from the genomic representative that places the most."""
    best = np.zeros(0, dtype=np.int64)
    for name, cols in msa.pos2col.items():
        if not name.endswith("|gen"):
            continue
        placed = np.flatnonzero(cols >= 0)
        if len(placed) == 0:
            continue
        breaks = np.flatnonzero(np.diff(placed) > INTRON_MIN)
        starts = cols[np.concatenate([[placed[0]], placed[breaks + 1]])].astype(np.int64)
        if len(starts) > len(best):
            best = starts
    if len(best):
        best[0] = 0  # columns before the first placed base belong to the first exon
    return best


def allele_consensus(
    ev: GeneEvidence, rows: np.ndarray, w: np.ndarray, msa: GeneMSA, allele: int, starts: np.ndarray
) -> AlleleConsensus:
    own = msa.codes[allele]
    weights = support.column_weights(ev, rows, w, msa.n_cols)
    depth = weights.sum(axis=1)
    top = weights.argmax(axis=1)
    agreed = weights.max(axis=1) >= support.DISCORDANT * np.maximum(depth, 1e-9)
    covered = depth >= support.MIN_COVER
    has_base = (own != GAP) & (own != UNKNOWN)
    # position[c]: bases of the allele before column c
    position = np.concatenate([[0], np.cumsum(has_base)])
    exon = np.searchsorted(starts, np.arange(msa.n_cols), side="right") if len(starts) else None
    out = AlleleConsensus(msa.names[allele], int(round(float(w.sum()))))
    run: list[int] = []

    def close() -> None:
        if not run:
            return
        seq = "".join(BASES[top[c]] if agreed[c] else "N" for c in run if not (agreed[c] and top[c] == GAP))
        d = depth[run]
        out.blocks.append(
            Block(
                exon=None if exon is None else int(exon[run[0]]),
                start=int(position[run[0]]),
                end=int(position[run[-1] + 1]),
                sequence=seq,
                min_depth=int(d.min()),
                mean_depth=round(float(d.mean()), 1),
            )
        )
        run.clear()

    for c in range(msa.n_cols):
        if not covered[c] or own[c] == UNKNOWN or (run and exon is not None and exon[c] != exon[run[-1]]):
            close()
        if covered[c] and own[c] != UNKNOWN:
            run.append(c)
    close()
    differ = covered & agreed & (own != UNKNOWN) & (top != own) & ~msa.imputed[allele]
    for first, last in support.group_sites(np.flatnonzero(differ)):
        cols = [c for c in range(first, last + 1) if covered[c] and agreed[c]]
        carried = [bool((msa.codes[:, c] == top[c]).any()) for c in cols if top[c] != own[c]]
        start, end = int(position[first]), int(position[last + 1])
        ref = "".join(BASES[own[c]] for c in cols if own[c] != GAP)
        alt = "".join(BASES[top[c]] for c in cols if top[c] != GAP)
        if not ref or not alt:  # an indel is written with the allele's base before it (VCF, HML)
            before = np.flatnonzero(has_base[:first])
            after = np.flatnonzero(has_base[last + 1 :])
            if len(before):
                base = BASES[own[before[-1]]]
                ref, alt, start = base + ref, base + alt, start - 1
            elif len(after):
                base = BASES[own[last + 1 + after[0]]]
                ref, alt, end = ref + base, alt + base, end + 1
        out.variants.append(
            Variant(
                start=start,
                end=end,
                allele_bases=ref,
                read_bases=alt,
                reads=int(round(float(depth[cols].min()))),
                share=round(float(min(weights[c, top[c]] / depth[c] for c in cols)), 3),
                novel=not all(carried),
            )
        )
    return out


def median_depth(ev: GeneEvidence, rows: np.ndarray, w: np.ndarray, msa: GeneMSA, allele: int) -> float:
    """Read depth of the gene: the median, over the allele's coding bases, of the reads (rows,
    weights `w`) covering each. Read depth where it is measured, unlike pairs per coding base,
    which depends on how a gene's exons and introns fall under the reads."""
    own = msa.codes[allele]
    coding = (own != GAP) & (own != UNKNOWN)
    if len(rows) == 0 or not coding.any():
        return 0.0
    depth = support.column_weights(ev, rows, w, msa.n_cols).sum(axis=1)
    return round(float(np.median(depth[coding])), 1)


def consensus(
    ev: GeneEvidence, rows: np.ndarray, m: np.ndarray, w: np.ndarray, msa: GeneMSA, pair
) -> list[AlleleConsensus]:
    """Each called allele's consensus (a homozygote once), from the rows the call was made from;
    `m`: their mismatches against the pair, shape (rows, 2)."""
    starts = exon_starts(msa)
    a, b = pair
    if a == b:
        return [allele_consensus(ev, rows, w, msa, a, starts)]
    mine = [m[:, 0] <= m[:, 1], m[:, 1] <= m[:, 0]]
    return [
        allele_consensus(ev, rows[sel], w[sel], msa, x, starts) for x, sel in zip(pair, mine, strict=True)
    ]
