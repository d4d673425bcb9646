"""Do the called alleles explain their own reads? The check that keeps paralog reads from
becoming an allele.

A gene's reads are not all its own: on whole-genome and exome data, reads of paralogs and
pseudogenes (DRB2-9, DQA2, DQB2, DPB2, HLA-H/J/K/L...) pass the mapping filter, and where the
release has no sequence for the paralog (DQA2 has none in IMGT 3.32.0) nothing decoys them. The
pair model then happily explains them with whichever allele of the gene is least unlike the
paralog: a second allele with 50 reads, called `ok`, that neither peer tool sees.

What gives them away is how they disagree with that allele. Reads of an allele that is really
there match it except for scattered sequencing errors; reads of another sequence disagree with
it at the *same* columns, read after read. So for each called allele we take the reads it
explains (better than its partner does, for a heterozygote) and find the **discordant sites**:
columns covered by at least MIN_COVER of those reads where at least DISCORDANT of them carry
another base (neighbouring columns within SITE_GAP count as one site: an indel or a run of
differences). Sites its partner's reads share (a stretch where the reads differ from every
allele: an RNA isoform, a misassembled end) are not held against it.

* PARALOG_SITES or more sites: the allele's reads come from another sequence. They are set
  aside, and the gene is typed again from the rest (`workers.hla.typer`).
* fewer, but some: the allele is close, yet its reads consistently disagree with it: a possible
  novel polymorphism or an allele missing from the release. The call stands, flagged (never
  `ok`), and the sites are reported.

A heterozygote has a second test, at the columns where its two alleles differ: about half of the
reads there should carry each allele's base. An allele whose base no read carries (at most
ABSENT_SHARE of at least BALANCE_READS reads) is contradicted at that column, even when the reads
that carry the other base went to its partner (they match the partner there, so they were never
its own). That is how a wrong allele with a partner that shares the right base shows itself; the
site is reported and the call flagged, as above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mapping import GeneEvidence
from .msa import GAP, UNKNOWN, GeneMSA

MIN_COVER = 3  # reads of the allele over a column before its disagreement means anything
DISCORDANT = 0.8  # share of those reads that carry another base
SITE_GAP = 2  # discordant columns this close are one site (an indel, a run of differences)
PARALOG_SITES = 3  # sites at which an allele's reads are another sequence's
BALANCE_READS = 7  # reads over a column where the pair differs before its balance means anything
ABSENT_SHARE = 0.05  # of them carrying an allele's base, at most, for the allele to be contradicted
MAX_SITES_SHOWN = 10


@dataclass
class Support:
    """How one called allele's reads fit it."""

    allele: int  # index in the gene MSA
    reads: float  # read pairs it explains (better than its partner, for a heterozygote)
    exact: float  # ... that match it at every covered column
    sites: list[tuple[int, int]] = field(default_factory=list)  # (first, last) MSA columns

    @property
    def foreign(self) -> bool:
        return len(self.sites) >= PARALOG_SITES

    @property
    def discordant(self) -> bool:
        return bool(self.sites)


def column_weights(ev: GeneEvidence, rows: np.ndarray, w: np.ndarray, n_cols: int) -> np.ndarray:
    """(n_cols, 5): the weight of the reads (rows of `ev`, weights `w`) carrying A, C, G, T or a
    gap at each column."""
    out = np.zeros((n_cols, 5))
    for k, weight in zip(rows, w, strict=True):
        cols, codes = ev.cols[k], ev.codes[k]
        keep = codes != UNKNOWN
        out[cols[keep], codes[keep]] += weight  # a read covers each column once
    return out


def _discordant_columns(ev: GeneEvidence, rows: np.ndarray, w: np.ndarray, msa: GeneMSA, allele: int):
    """Columns where at least DISCORDANT of the reads (rows of `ev`, weights `w`) covering them,
    and at least MIN_COVER reads, differ from the allele's own (not imputed) base."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    own = msa.codes[allele]
    known = (own != UNKNOWN) & ~msa.imputed[allele]
    weights = column_weights(ev, rows, w, msa.n_cols)
    cover = np.where(known, weights.sum(axis=1), 0.0)
    agree = weights[np.arange(msa.n_cols), np.minimum(own, GAP)]
    differ = np.where(known, cover - agree, 0.0)
    return np.flatnonzero((cover >= MIN_COVER) & (differ >= DISCORDANT * np.maximum(cover, 1e-9)))


def _unbalanced_columns(
    ev: GeneEvidence, rows: np.ndarray, w: np.ndarray, msa: GeneMSA, pair
) -> list[np.ndarray]:
    """For each allele of a heterozygous pair, the columns where the two differ and (almost) no
    read carries its base though enough carry the partner's."""
    a, b = pair
    ca, cb = msa.codes[a], msa.codes[b]
    known = (ca != UNKNOWN) & (cb != UNKNOWN) & ~msa.imputed[a] & ~msa.imputed[b]
    differ = known & (ca != cb)
    if not differ.any() or len(rows) == 0:
        return [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)]
    has_a = np.zeros(msa.n_cols)
    has_b = np.zeros(msa.n_cols)
    for k, weight in zip(rows, w, strict=True):
        cols, codes = ev.cols[k], ev.codes[k]
        keep = differ[cols]
        cols, codes = cols[keep], codes[keep]
        has_a[cols[codes == ca[cols]]] += weight
        has_b[cols[codes == cb[cols]]] += weight
    total = has_a + has_b
    enough = differ & (total >= BALANCE_READS)
    return [
        np.flatnonzero(enough & (has_a <= ABSENT_SHARE * total)),
        np.flatnonzero(enough & (has_b <= ABSENT_SHARE * total)),
    ]


def group_sites(columns: np.ndarray) -> list[tuple[int, int]]:
    sites: list[tuple[int, int]] = []
    for c in columns.tolist():
        if sites and c - sites[-1][1] <= SITE_GAP:
            sites[-1] = (sites[-1][0], c)
        else:
            sites.append((c, c))
    return sites


def check_pair(
    ev: GeneEvidence, rows: np.ndarray, m: np.ndarray, w: np.ndarray, msa: GeneMSA, pair
) -> list[Support]:
    """Support of each allele of `pair` (MSA indices; a homozygote once). `rows`: the evidence
    rows the call was made from; `m`: their mismatches against the pair, shape (rows, 2); `w`:
    their weights."""
    a, b = pair
    if a == b:
        own = [np.ones(len(rows), dtype=bool)]
    else:
        own = [m[:, 0] < m[:, 1], m[:, 1] < m[:, 0]]
    sites = [
        group_sites(_discordant_columns(ev, rows[sel], w[sel], msa, x))
        for x, sel in zip(pair, own, strict=False)
    ]
    unbalanced = [group_sites(c) for c in _unbalanced_columns(ev, rows, w, msa, pair)] if a != b else [[]]
    out = []
    for k, sel in enumerate(own):
        mine = sites[k]
        if len(own) == 2:  # a stretch where the partner's reads disagree too is not this allele's
            theirs = sites[1 - k]
            mine = [s for s in mine if not any(_near(s, t) for t in theirs)]
        mine += [s for s in unbalanced[k] if not any(_near(s, t) for t in mine)]
        mine.sort()
        out.append(
            Support(
                allele=int(pair[k]),
                reads=float(w[sel].sum()),
                exact=float(w[sel & (m[:, k] == 0)].sum()),
                sites=mine,
            )
        )
    return out


def _near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] - SITE_GAP <= b[1] and b[0] - SITE_GAP <= a[1]
